/**
 * A second real NATS client (issues 20 §1, 21 §3): nats.go (test/go/natsclient, pinned by its go.mod,
 * built by scripts/natsgo.sh) connecting with certificates that mtlsctl issued to a real nats-server
 * 2.9.10 (Debian's, on PATH) configured by `mtlsctl config nats` (verify_and_map). The server's
 * /connz?auth=true is the answer. Also the TLS probe (test/helpers/nats-tls-probe.ts) that the rotation
 * test uses: it reads the plaintext INFO line, upgrades to TLS and reports the server's certificate.
 */
import { spawn, ChildProcess, execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import * as readline from "node:readline";
import { makeStore, mtlsOk, run, tool } from "./helpers/cli";
import { startNatsServer, stopAllNatsServers, NatsServer } from "./helpers/nats";
import { certFingerprint, certSerial, probeNats } from "./helpers/nats-tls-probe";

jest.setTimeout(90_000);

const store = makeStore({ name: "natsgo CA" });
const foreign = makeStore({ name: "Foreign CA" });
const caFile = path.join(store.dir, "ca.crt");
const cli = (args: string[]) => mtlsOk(args, { cwd: store.cwd, env: store.env });
const crt = (n: string, s = store) => path.join(s.dir, "issued", `${n}.crt`);
const key = (n: string, s = store) => path.join(s.dir, "private", `${n}.key`);
const work = path.join(store.cwd, "work");
fs.mkdirSync(work);
let nats: NatsServer;
let natsclient: string;
const url = () => `tls://127.0.0.1:${nats.port}`;

async function connz(): Promise<any[]> {
  const res = await fetch(`http://127.0.0.1:${nats.monitorPort}/connz?auth=true&limit=10000`, { signal: AbortSignal.timeout(5000) });
  return ((await res.json()) as { connections?: any[] }).connections ?? [];
}
async function connByName(name: string): Promise<any> {
  const c = (await connz()).find((x) => x.name === name);
  if (!c) throw new Error(`no connection named ${name} in /connz`);
  return c;
}

/** natsclient -hold as a child: its JSON events in order, a way to send commands and to wait for one. */
function holdClient(args: string[]) {
  const child: ChildProcess = spawn(natsclient, ["-hold", ...args], { stdio: ["pipe", "pipe", "pipe"] });
  const events: any[] = [];
  let stderr = "";
  child.stderr!.on("data", (d) => (stderr += d));
  const waiters: { pred: (e: any) => boolean; resolve: (e: any) => void }[] = [];
  readline.createInterface({ input: child.stdout! }).on("line", (l) => {
    const e = JSON.parse(l);
    events.push(e);
    for (const w of [...waiters]) if (w.pred(e)) (waiters.splice(waiters.indexOf(w), 1), w.resolve(e));
  });
  const exited = new Promise<number | null>((r) => child.on("close", (c) => r(c))); // after its output is read
  return {
    events,
    send: (cmd: string) => child.stdin!.write(cmd + "\n"),
    next(pred: (e: any) => boolean, ms = 10_000): Promise<any> {
      const seen = events.find(pred);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`natsclient: no matching event within ${ms} ms; events: ${JSON.stringify(events)} stderr: ${stderr}`)), ms);
        waiters.push({ pred, resolve: (e) => (clearTimeout(t), resolve(e)) });
      });
    },
    async quit() {
      if (child.exitCode === null) child.stdin!.write("quit\n");
      const t = setTimeout(() => child.kill("SIGKILL"), 5000);
      const c = await exited;
      clearTimeout(t);
      return c;
    },
  };
}

beforeAll(async () => {
  tool("nats-server");
  natsclient = execFileSync("bash", [path.join(__dirname, "..", "scripts", "natsgo.sh")], { encoding: "utf8" }).trim();
  cli(["server", "issue", "nats1", "--dns", "localhost", "--ip", "127.0.0.1"]);
  cli(["client", "issue", "alice", "--email", "alice@example.com"]);
  cli(["client", "issue", "bob", "--subject", "CN=bob,OU=ops,O=Acme"]);
  mtlsOk(["client", "issue", "eve", "--email", "alice@example.com"], { cwd: foreign.cwd, env: foreign.env }); // another CA, alice's email
  cli(["config", "nats", "--out", path.join(work, "mtls.conf")]);
  cli(["client", "issue", "carol", "--email", "carol@example.com"]); // our CA, but not in the users list
  nats = await startNatsServer(path.join(work, "mtls.conf"));
});

afterAll(async () => {
  await stopAllNatsServers();
});

describe("the TLS probe on nats-server 2.9.10", () => {
  test("reads INFO, upgrades the socket, sees the server's certificate serial and fingerprint", async () => {
    const r = await probeNats({ port: nats.port, caFile, certFile: crt("alice"), keyFile: key("alice") });
    expect(r.info).toMatchObject({ tls_required: true, tls_verify: true, port: nats.port });
    expect(r.handshakeError).toBeNull();
    expect(r.serverSerial).toBe(certSerial(crt("nats1")));
    expect(r.serverFingerprint).toBe(certFingerprint(crt("nats1")));
    expect(r.accepted).toBeNull(); // not asked
  });

  test("with connect: alice is accepted (PONG); carol (our CA, no user) gets Authorization Violation; a foreign CA's certificate and no certificate are refused", async () => {
    const ok = await probeNats({ port: nats.port, caFile, certFile: crt("alice"), keyFile: key("alice"), connect: true });
    expect({ accepted: ok.accepted, error: ok.error }).toEqual({ accepted: true, error: null });
    const carol = await probeNats({ port: nats.port, caFile, certFile: crt("carol"), keyFile: key("carol"), connect: true });
    expect({ accepted: carol.accepted, error: carol.error, serial: carol.serverSerial }).toEqual({ accepted: false, error: "Authorization Violation", serial: certSerial(crt("nats1")) });
    for (const [what, o] of [
      ["foreign", { certFile: crt("eve", foreign), keyFile: key("eve", foreign) }],
      ["none", {}],
    ] as const) {
      const r = await probeNats({ port: nats.port, caFile, ...o, connect: true });
      // TLS 1.3: the client's handshake completes before the server checks its certificate; the alert comes next
      expect({ what, accepted: r.accepted === true }).toEqual({ what, accepted: false });
      expect({ what, why: r.handshakeError ?? r.error }).toEqual({ what, why: expect.stringMatching(/certificate|alert|closed/i) });
    }
  });
});

describe("nats.go (v1.56.0) with issued certificates", () => {
  test("alice and bob connect as their users (/connz?auth=true); the certificate nats-server saw is the issued one", async () => {
    for (const [n, user] of [
      ["alice", "alice@example.com"],
      ["bob", "CN=bob,OU=ops,O=Acme"],
    ]) {
      const c = holdClient(["-url", url(), "-cert", crt(n), "-key", key(n), "-ca", caFile, "-name", `go-${n}`]);
      try {
        const e = await c.next((x) => x.event === "connected" || x.event === "error");
        expect(e).toMatchObject({ event: "connected", ok: true, reply: "pong" });
        const conn = await connByName(`go-${n}`);
        expect({ user: conn.authorized_user, lang: conn.lang, cert: conn.tls_peer_certs?.[0]?.cert_sha256 }).toEqual({ user, lang: "go", cert: certFingerprint(crt(n)) });
      } finally {
        expect(await c.quit()).toBe(0);
      }
    }
  });

  test("refused: a foreign CA's certificate for alice's email (TLS stage), carol without a user (Authorization Violation), no certificate", () => {
    const once = (extra: string[]) => {
      const r = run(natsclient, ["-url", url(), "-ca", caFile, "-name", "go-refused", ...extra]);
      return { code: r.code, event: r.stdout ? JSON.parse(r.stdout.trim().split("\n")[0]) : null };
    };
    const eve = once(["-cert", crt("eve", foreign), "-key", key("eve", foreign)]);
    expect(eve.code).toBe(1);
    expect(eve.event).toMatchObject({ event: "error", ok: false, error: expect.stringMatching(/certificate|tls|EOF|reset/i) });
    const carol = once(["-cert", crt("carol"), "-key", key("carol")]);
    expect(carol).toEqual({ code: 1, event: { event: "error", ok: false, error: expect.stringMatching(/authorization violation/i) } });
    const none = once([]);
    expect(none.code).toBe(1);
    expect(none.event).toMatchObject({ event: "error", ok: false });
    expect(once(["-cert", crt("alice"), "-key", key("alice")])).toEqual({ code: 0, event: expect.objectContaining({ event: "connected", ok: true }) });
  });

  test("nats.go re-reads the certificate files on every reconnect: files replaced, ForceReconnect, the server sees the new certificate", async () => {
    // the client's own copies of its files, replaced by rename as an agent would
    const dir = path.join(work, "go-alice-rotating");
    fs.mkdirSync(dir);
    const cf = path.join(dir, "alice.crt");
    const kf = path.join(dir, "alice.key");
    fs.copyFileSync(crt("alice"), cf);
    fs.copyFileSync(key("alice"), kf);
    const first = certFingerprint(cf);
    const c = holdClient(["-url", url(), "-cert", cf, "-key", kf, "-ca", caFile, "-name", "go-rotating"]);
    try {
      expect(await c.next((x) => x.event === "connected" || x.event === "error")).toMatchObject({ event: "connected", ok: true });
      const before = await connByName("go-rotating");
      expect({ user: before.authorized_user, cert: before.tls_peer_certs?.[0]?.cert_sha256 }).toEqual({ user: "alice@example.com", cert: first });

      for (let round = 1; round <= 2; round++) {
        cli(["renew", "alice", "--rekey"]);
        const next = certFingerprint(crt("alice"));
        expect(next).not.toBe(certFingerprint(cf));
        for (const [from, to] of [
          [key("alice"), kf],
          [crt("alice"), cf],
        ]) {
          fs.copyFileSync(from, to + ".new");
          fs.renameSync(to + ".new", to);
        }
        // still the old certificate on the live connection: nothing reconnects by itself
        expect((await connByName("go-rotating")).tls_peer_certs?.[0]?.cert_sha256).not.toBe(next);
        const seen = c.events.length;
        c.send("reconnect");
        const e = await c.next((x) => c.events.indexOf(x) >= seen && (x.event === "reconnected" || x.event === "error"));
        expect(e).toMatchObject({ event: "reconnected", ok: true, reply: "pong" });
        const after = await connByName("go-rotating");
        expect({ round, user: after.authorized_user, cert: after.tls_peer_certs?.[0]?.cert_sha256 }).toEqual({ round, user: "alice@example.com", cert: next });
        expect(after.cid).not.toBe(before.cid);
      }
    } finally {
      expect(await c.quit()).toBe(0);
    }
  });
});
