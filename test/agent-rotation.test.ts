/**
 * Zero-downtime rotation, end to end (issue 18): `mtlsctl serve` with short lifetimes, a real
 * nats-server 2.9.10 whose own certificate is kept by one `mtlsctl agent` (--signal HUP --pid-file),
 * and two clients (alice by email, bob by subject DN) whose certificates are kept by their agents.
 *
 *  - a long-lived nats.js connection (@nats-io/transport-node 3.x) per client stays up across every rotation;
 *  - every ~2 s a fresh connection per client with the pair then on disk never fails, and maps to the
 *    intended user (/connz?auth=true); it reads the agent's --bundle (one file, one open): two files
 *    read one after the other can straddle a swap, whatever the layout;
 *  - nats-server takes that bundle as cert_file and key_file;
 *  - after each rotation of the server certificate the TLS probe (INFO, then TLS) sees the new serial;
 *  - a nats.go client (test/go/natsclient) of alice reconnects after each of her rotations and the
 *    server sees her new certificate (nats.go re-reads the files on every connect);
 *  - at least three rotations of every certificate;
 *  - then bob is revoked (`mtlsctl revoke bob`): his agent's next renewal is refused (403), it exits 1
 *    and says a new token is needed; his last certificate still logs in until it expires (nats-server
 *    reads no CRL), then the server refuses it — while alice carries on.
 *
 * Lifetimes: serve --max-lifetime 60s (the service backdates notBefore by 60 s, so a certificate spans
 * about 120 s), agents --renew-before 33%: a rotation every 20-40 s. Bounded: under 6 minutes.
 */
import { spawn, ChildProcess, execFileSync } from "node:child_process";
import * as readline from "node:readline";
import * as fs from "node:fs";
import * as path from "node:path";
import * as crypto from "node:crypto";
import { connect, NatsConnection } from "@nats-io/transport-node";
import { BIN, makeStore, mtlsOk, tool } from "./helpers/cli";
import { connectAs, freePort, launchNatsServer, Launched, NatsServer } from "./helpers/nats";
import { certFingerprint, certSerial, probeNats } from "./helpers/nats-tls-probe";
import { startServe, Served } from "./helpers/serve";

jest.setTimeout(6 * 60_000);

const LIFETIME = "60s";
const TICK_MS = 2000;
const ROTATIONS = 3;

const store = makeStore({ name: "Rotation CA" });
const caFile = path.join(store.dir, "ca.crt");
const work = path.join(store.cwd, "work");
fs.mkdirSync(work);
const w = (f: string) => path.join(work, f);
const cli = (args: string[]) => mtlsOk(args, { cwd: store.cwd, env: store.env });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Agent {
  name: string;
  proc: ChildProcess;
  out(): string;
  err(): string;
  exited: Promise<number | null>;
}
const agents: Agent[] = [];
let svc: Served | undefined;
let nats: Launched | undefined;
const live: NatsConnection[] = [];

function agentArgs(name: string, extra: string[]): string[] {
  return ["agent", "--ca-url", `https://127.0.0.1:${svc!.port}`, "--ca-file", caFile, "--cert", w(`${name}.crt`), "--key", w(`${name}.key`), "--bundle", w(`${name}.pem`), "--renew-before", "33%", "--jitter", "5%", "--json", ...extra];
}

function startAgent(name: string, extra: string[]): Agent {
  const proc = spawn(process.execPath, [BIN, ...agentArgs(name, extra)], { cwd: work, env: { ...process.env, NO_COLOR: "1" }, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  proc.stdout!.on("data", (d) => (out += d));
  proc.stderr!.on("data", (d) => (err += d));
  const exited = new Promise<number | null>((r) => proc.on("close", (c) => r(c))); // after its output is read (out()/err() are checked then)
  const a = { name, proc, out: () => out, err: () => err, exited };
  agents.push(a);
  return a;
}

/** `agent --once` with a token: the first enrolment (the key made here, never sent). */
async function enrol(name: string, token: string): Promise<void> {
  fs.writeFileSync(w(`${name}.token`), token + "\n", { mode: 0o600 });
  const a = startAgent(name, ["--name", name, "--token-file", w(`${name}.token`), "--once"]);
  const t = setTimeout(() => a.proc.kill("SIGKILL"), 60_000);
  const code = await a.exited;
  clearTimeout(t);
  agents.splice(agents.indexOf(a), 1);
  if (code !== 0 || !fs.existsSync(w(`${name}.crt`))) throw new Error(`agent --once for ${name} exited ${code}\nstdout: ${a.out()}\nstderr: ${a.err()}\n--- serve\n${svc!.log()}`);
}

const diag = () =>
  agents.map((a) => `--- agent ${a.name} (exit ${a.proc.exitCode})\nstdout: ${a.out()}\nstderr: ${a.err()}`).join("\n") + `\n--- serve\n${svc?.log() ?? ""}\n--- nats-server\n${nats?.log() ?? ""}`;

afterAll(async () => {
  for (const c of live) await c.close().catch(() => undefined);
  for (const a of agents) if (a.proc.exitCode === null) a.proc.kill("SIGKILL");
  await nats?.stop();
  await svc?.stop();
});

test("a live nats-server and two clients rotate every certificate ≥3 times with no refused connection; a revoked client stops renewing and is refused once its certificate expires", async () => {
  tool("nats-server");
  const t0 = Date.now();
  // the service's own certificate, then serve with short lifetimes
  cli(["server", "issue", "ca-svc", "--dns", "localhost", "--ip", "127.0.0.1"]);
  svc = await startServe(store.env, ["--server", "ca-svc", "--max-lifetime", LIFETIME]);

  // one-time tokens fix each identity; each agent enrols once (--once), then keeps its files (daemon)
  const token = (args: string[]) => cli(["token", "create", ...args, "--lifetime", LIFETIME]).stdout.trim();
  await enrol("nats1", token(["nats1", "--kind", "server", "--dns", "localhost", "--ip", "127.0.0.1"]));
  await enrol("alice", token(["alice", "--email", "alice@example.com"]));
  await enrol("bob", token(["bob", "--subject", "CN=bob,OU=ops,O=Acme"]));
  for (const n of ["nats1", "alice", "bob"]) expect({ n, mode: fs.statSync(w(`${n}.key`)).mode & 0o777 }).toEqual({ n, mode: 0o600 });

  // nats-server: its tls block names the agent's files; the users come from `mtlsctl config nats`
  // --server: the newest server certificate (nats1) has its key on the server machine only, which config nats refuses
  const snippet = cli(["config", "nats", "--server", "ca-svc", "--include", "alice", "--include", "bob"]).stdout;
  const authz = snippet.slice(snippet.indexOf("authorization {"));
  expect(authz).toContain(`"alice@example.com"`);
  expect(authz).toContain(`"CN=bob,OU=ops,O=Acme"`);
  const port = await freePort();
  const monitorPort = await freePort();
  const q = JSON.stringify;
  const configFile = w("nats.conf");
  fs.writeFileSync(
    configFile,
    [
      `listen: 127.0.0.1:${port}`,
      `http: 127.0.0.1:${monitorPort}`,
      `pid_file: ${q(w("nats.pid"))}`,
      `tls {`,
      // the agent's bundle as both: nats-server takes the chain and the key from one file
      `  cert_file: ${q(w("nats1.pem"))}`,
      `  key_file: ${q(w("nats1.pem"))}`,
      `  ca_file: ${q(caFile)}`,
      `  verify_and_map: true`,
      `  timeout: 2`,
      `}`,
      authz,
      "",
    ].join("\n"),
  );
  nats = await launchNatsServer({ configFile, dir: work, port, monitorPort, debug: false, startTimeoutMs: 10_000, pollMs: 50 });
  const server = { port, monitorPort, log: nats.log, debug: false } as unknown as NatsServer;
  for (let i = 0; !fs.existsSync(w("nats.pid")) && i < 100; i++) await sleep(50);

  // the daemons
  startAgent("nats1", ["--signal", "HUP", "--pid-file", w("nats.pid")]);
  const aliceAgent = startAgent("alice", []);
  const bobAgent = startAgent("bob", []);

  // the long-lived connections: no reconnect, so any drop is seen
  const closed: Record<string, string | null> = {};
  for (const n of ["alice", "bob"]) {
    const nc = await connect({ servers: `127.0.0.1:${port}`, tls: { certFile: w(`${n}.crt`), keyFile: w(`${n}.key`), caFile }, name: `live-${n}`, reconnect: false, maxReconnectAttempts: 0, timeout: 5000 });
    live.push(nc);
    closed[n] = null;
    nc.closed().then((e) => (closed[n] = `closed: ${e ? String(e) : "no error"}`));
  }
  const liveSub = live[0].subscribe("rotation.echo");
  (async () => {
    for await (const m of liveSub) m.respond(m.data);
  })();

  // nats.go too (test/go/natsclient -hold): alice's second client, reconnected after each of her rotations
  const natsclient = execFileSync("bash", [path.join(__dirname, "..", "scripts", "natsgo.sh")], { encoding: "utf8" }).trim();
  const goc = spawn(natsclient, ["-hold", "-url", `tls://127.0.0.1:${port}`, "-cert", w("alice.crt"), "-key", w("alice.key"), "-ca", caFile, "-name", "go-alice"], { stdio: ["pipe", "pipe", "inherit"] });
  const goEvents: any[] = [];
  readline.createInterface({ input: goc.stdout! }).on("line", (l) => goEvents.push(JSON.parse(l)));
  const goEvent = async (from: number, kinds: string[]) => {
    for (let i = 0; i < 100; i++) {
      const e = goEvents.slice(from).find((x) => kinds.includes(x.event));
      if (e) return e;
      await sleep(100);
    }
    throw new Error(`nats.go: no ${kinds.join("/")} event; events: ${JSON.stringify(goEvents)}`);
  };
  expect(await goEvent(0, ["connected", "error"])).toMatchObject({ event: "connected", ok: true });
  let goReconnects = 0;
  const connzOf = async (name: string) => ((await (await fetch(`http://127.0.0.1:${monitorPort}/connz?auth=true&limit=10000`)).json()) as { connections: any[] }).connections.find((c) => c.name === name);

  const users: Record<string, string> = { alice: "alice@example.com", bob: "CN=bob,OU=ops,O=Acme" };
  const serials: Record<string, string[]> = { nats1: [certSerial(w("nats1.crt"))], alice: [certSerial(w("alice.crt"))], bob: [certSerial(w("bob.crt"))] };
  const probed: string[] = [];
  let fresh = 0;

  /** One tick: note rotations on disk, fresh connections for `who`, the probe, the live connections. */
  async function tick(who: string[]): Promise<void> {
    for (const n of Object.keys(serials)) {
      const s = certSerial(w(`${n}.crt`));
      if (s !== serials[n][serials[n].length - 1]) {
        serials[n].push(s);
        if (n === "alice") {
          // nats.go re-reads the files on reconnect: the server then sees alice's new certificate
          const from = goEvents.length;
          goc.stdin!.write("reconnect\n");
          expect(await goEvent(from, ["reconnected", "error"])).toMatchObject({ event: "reconnected", ok: true });
          const c = await connzOf("go-alice");
          expect({ user: c?.authorized_user, cert: c?.tls_peer_certs?.[0]?.cert_sha256 }).toEqual({ user: users.alice, cert: certFingerprint(w("alice.crt")) });
          goReconnects++;
        }
      }
    }
    for (const n of who) {
      // the bundle, read once: nats.js reads certFile then keyFile, and a swap between the two reads
      // gives a certificate and a key of two generations ("key values mismatch", CI saw it once in 80)
      const r = await connectAs(server, w(`${n}.pem`), w(`${n}.pem`), caFile);
      fresh++;
      if (!r.ok) throw new Error(`fresh connection ${fresh} as ${n} (serial ${certSerial(w(`${n}.crt`))}) refused at +${Date.now() - t0} ms: ${r.error}\n${diag()}`);
      expect({ n, user: r.user }).toEqual({ n, user: users[n] });
    }
    const p = await probeNats({ port, caFile, certFile: w("alice.pem"), keyFile: w("alice.pem") });
    if (p.handshakeError) throw new Error(`probe handshake failed: ${p.handshakeError}\n${diag()}`);
    if (probed[probed.length - 1] !== p.serverSerial) probed.push(p.serverSerial!);
    for (const n of ["alice", "bob"]) if (closed[n]) throw new Error(`the long-lived connection of ${n} was ${closed[n]} at +${Date.now() - t0} ms\n${diag()}`);
    const echo = await live[1].request("rotation.echo", new TextEncoder().encode(String(fresh)), { timeout: 3000 });
    expect(new TextDecoder().decode(echo.data)).toBe(String(fresh));
    for (const a of agents) if (a.proc.exitCode !== null && a !== bobAgent) throw new Error(`agent ${a.name} exited ${a.proc.exitCode}\n${diag()}`);
  }

  // phase 1: every certificate rotates ROTATIONS times; after each server rotation the probe sees the new serial
  const phase1Deadline = Date.now() + 200_000;
  while (Object.values(serials).some((s) => s.length < ROTATIONS + 1)) {
    if (Date.now() > phase1Deadline) throw new Error(`rotations after 200 s: ${JSON.stringify(serials)}\n${diag()}`);
    if (bobAgent.proc.exitCode !== null) throw new Error(`bob's agent exited ${bobAgent.proc.exitCode}\n${diag()}`);
    await tick(["alice", "bob"]);
    await sleep(TICK_MS);
  }
  await sleep(TICK_MS);
  await tick(["alice", "bob"]);
  // the server presented each certificate its agent wrote, in order (the probe runs every tick, a rotation every ≥20 s)
  expect(probed).toEqual(serials.nats1.slice(0, probed.length));
  expect(probed.length).toBeGreaterThanOrEqual(ROTATIONS + 1);
  // the store: every rotation superseded the previous certificate
  const list = JSON.parse(cli(["list", "--json"]).stdout) as { name: string; serial: string; status: string }[];
  for (const n of Object.keys(serials)) for (const s of serials[n].slice(0, -1)) expect({ n, s, status: list.find((r) => r.serial === s)?.status }).toEqual({ n, s, status: "superseded" });

  // phase 2: revoke bob; his agent's next renewal is refused and it exits 1, saying a new token is needed
  cli(["revoke", "bob"]);
  const bobLast = certSerial(w("bob.crt"));
  const bobNotAfter = new crypto.X509Certificate(fs.readFileSync(w("bob.crt"))).validTo;
  const bobExpiry = Date.parse(bobNotAfter);
  let bobAcceptedAfterRevoke = 0;
  let bobRefused: string | null = null;
  const phase2Deadline = Date.now() + 150_000;
  while (bobAgent.proc.exitCode === null || Date.now() < bobExpiry + 1500) {
    if (Date.now() > phase2Deadline) throw new Error(`phase 2 did not end (bob's agent exit ${bobAgent.proc.exitCode}, bob's notAfter ${bobNotAfter})\n${diag()}`);
    await tick(["alice"]);
    const r = await connectAs(server, w("bob.crt"), w("bob.key"), caFile);
    if (Date.now() < bobExpiry - 1000) {
      // nats-server reads no CRL: the revoked certificate logs in until it expires
      if (!r.ok) throw new Error(`bob refused before his certificate expired (${bobNotAfter}): ${r.error}`);
      bobAcceptedAfterRevoke++;
    } else if (Date.now() > bobExpiry + 1000 && !r.ok) bobRefused = r.error;
    await sleep(TICK_MS);
  }
  expect(await bobAgent.exited).toBe(1);
  expect(certSerial(w("bob.crt"))).toBe(bobLast); // nothing replaced after the refusal
  expect(bobAgent.err()).toMatch(/403|revoked|refused/i);
  expect(bobAgent.err()).toMatch(/token/i);
  const eventsOf = (a: Agent) => a.out().trim().split("\n").filter(Boolean).map((l) => JSON.parse(l) as { event: string; status?: number; serial?: string; previous?: string });
  const bobEvents = eventsOf(bobAgent);
  expect(bobEvents.filter((e) => e.event === "refused")).toEqual([expect.objectContaining({ event: "refused", status: 403 })]);
  // nothing after the refusal but the CLI's closing error line (design.md: with --json, { "error" } on stdout)
  const afterRefusal = bobEvents.slice(bobEvents.findIndex((e) => e.event === "refused") + 1);
  expect(afterRefusal.every((e) => e.event === undefined && "error" in e)).toBe(true);
  // each renewed event names the serial that then appeared on disk, chained to the one before
  for (const a of [aliceAgent, bobAgent]) {
    const renewed = eventsOf(a).filter((e) => e.event === "renewed");
    const onDisk = certSerial(w(`${a.name}.crt`)); // read after the events: a renewal since the last tick is on disk by now
    const announced = renewed.map((e) => e.serial!.toLowerCase().replace(/^(00)+(?=.)/, ""));
    // the rotations the ticks saw, then at most one that came after the last tick (CI saw alice renew in that gap)
    const seen = serials[a.name].slice(1);
    const expected = announced.length > seen.length ? [...seen, onDisk] : seen.slice(0, announced.length);
    expect({ agent: a.name, serials: announced }).toEqual({ agent: a.name, serials: expected });
    for (let i = 1; i < renewed.length; i++) expect(renewed[i].previous).toBe(renewed[i - 1].serial);
  }
  expect(bobAcceptedAfterRevoke).toBeGreaterThan(0);
  // after expiry: the server refuses bob's certificate at the handshake; alice carries on
  const after = await connectAs(server, w("bob.crt"), w("bob.key"), caFile);
  expect(after.ok).toBe(false);
  expect(bobRefused ?? (after as { error: string }).error).toMatch(/certificate|expired|alert|closed|timeout|TLS|ECONNRESET/i);
  // nats.js sees the connection reset; the server says why: Go's verifier refused the expired certificate
  expect(nats.log()).toMatch(/TLS handshake error: .*certificate has expired/);
  await tick(["alice"]);
  // live connections are never re-checked: both are still up, alice's agent still renewing
  expect(closed).toEqual({ alice: null, bob: null });
  expect(aliceAgent.proc.exitCode).toBeNull();

  goc.stdin!.write("quit\n");
  expect(goReconnects).toBeGreaterThanOrEqual(ROTATIONS);
  // every disconnect of the nats.go client was one we forced, and each came back (no reconnect-error)
  expect({ disconnects: goEvents.filter((e) => e.event === "disconnected").length, failed: goEvents.filter((e) => e.event === "reconnect-error" || e.ok === false) }).toEqual({ disconnects: goReconnects, failed: [] });
  // the daemons stop cleanly on SIGTERM
  for (const a of agents) {
    if (a.proc.exitCode !== null) continue;
    a.proc.kill("SIGTERM");
    expect({ agent: a.name, code: await a.exited }).toEqual({ agent: a.name, code: 0 });
  }
  // figures for the report
  console.log(`rotation e2e: ${fresh} fresh connections, none refused; nats.go reconnects ${goReconnects}; rotations ${JSON.stringify(Object.fromEntries(Object.entries(serials).map(([k, v]) => [k, v.length - 1])))}; bob accepted ${bobAcceptedAfterRevoke}x after revoke; ${Math.round((Date.now() - t0) / 1000)} s`);
});
