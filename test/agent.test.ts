/**
 * `mtlsctl agent` (issue 18) against a real `mtlsctl serve`: enrolment with a one-time token,
 * nothing due, renewal (a new key; the subject and SAN bytes of the certificate it renews), the
 * hooks after a complete swap (--exec sees the new files; --signal reaches a real process), a revoked
 * certificate refused (exit 1, a new token needed, then enrolment anew), an unreachable CA (exit 3
 * within --retry-for), Retry-After honoured (a real HTTPS server answering 503), and kill -9 at every
 * crash point of a renewal: after each kill the files are a matching pair, and the next run finishes
 * the renewal (the CA hands the same new key its certificate again).
 */
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as https from "node:https";
import * as path from "node:path";
import { spawn } from "node:child_process";
import { BIN, makeStore, mtls, mtlsOk, openssl, tmpDir } from "./helpers/cli";
import { startServe, Served } from "./helpers/serve";
import { readCertificates } from "../src/pki/cert";

jest.setTimeout(180_000);

const store = makeStore({ name: "Agent CA" });
const cli = (args: string[]) => mtlsOk(args, { cwd: store.cwd, env: store.env });
cli(["server", "issue", "srv", "--dns", "localhost", "--ip", "127.0.0.1"]);
const anchor = path.join(store.dir, "ca.crt");
let svc: Served;
beforeAll(async () => {
  svc = await startServe(store.env, ["--max-lifetime", "1h"]);
});
afterAll(async () => {
  await svc.stop();
});

/** The agent's environment: no store, no passphrase (it runs on another machine). */
const agentEnv = { MTLSCTL_DIR: "/nonexistent", MTLSCTL_PASSPHRASE: undefined };

function agent(dir: string, args: string[], env: Record<string, string | undefined> = {}) {
  return mtls(["agent", "--ca-url", `https://127.0.0.1:${svc.port}`, "--ca-file", anchor, "--cert", path.join(dir, "app.crt"), "--key", path.join(dir, "app.key"), ...args], { cwd: dir, env: { ...agentEnv, ...env } });
}

/** The same, asynchronously (when this process must answer the agent meanwhile). */
function agentAsync(url: string, dir: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string; ms: number }> {
  const t0 = Date.now();
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [BIN, "agent", "--ca-url", url, "--ca-file", anchor, "--cert", path.join(dir, "app.crt"), "--key", path.join(dir, "app.key"), ...args], { cwd: dir, env: { ...process.env, MTLSCTL_DIR: "/nonexistent", NO_COLOR: "1" } });
    let stdout = "";
    let stderr = "";
    p.stdout.on("data", (d) => (stdout += d));
    p.stderr.on("data", (d) => (stderr += d));
    p.on("close", (code) => resolve({ code, stdout, stderr, ms: Date.now() - t0 })); // after the pipes are read
  });
}

const events = (stdout: string) => stdout.trim().split("\n").filter(Boolean).map((l) => JSON.parse(l) as Record<string, any>);
const leaf = (dir: string) => readCertificates(fs.readFileSync(path.join(dir, "app.crt")), "app.crt")[0];
const keySpki = (dir: string) => crypto.createPublicKey(fs.readFileSync(path.join(dir, "app.key"))).export({ type: "spki", format: "der" });
const pairMatches = (dir: string) => leaf(dir).spki.equals(keySpki(dir));
const sanExt = (dir: string) => leaf(dir).extensions.find((e) => e.oid === "2.5.29.17")!.value;

function enrolled(name: string, sans: string[] = ["--email", `${name}@example.com`]): string {
  const dir = tmpDir("mtlsctl-agent-");
  fs.writeFileSync(path.join(dir, "token"), cli(["token", "create", name, ...sans]).stdout, { mode: 0o600 });
  const r = agent(dir, ["--name", name, "--token-file", path.join(dir, "token"), "--once", "--json"]);
  expect(r.code).toBe(0);
  expect(events(r.stdout).map((e) => e.event)).toEqual(["enrolled"]);
  return dir;
}

test("enrol with a token, then nothing due, then a renewal with a new key and the same subject and SAN bytes", () => {
  const dir = enrolled("app1");
  // the files: links into the current generation; the key 0600; the certificate chains to the CA
  expect(fs.lstatSync(path.join(dir, "app.crt")).isSymbolicLink()).toBe(true);
  expect(fs.statSync(path.join(dir, "app.key")).mode & 0o777).toBe(0o600);
  expect(openssl(["verify", "-CAfile", anchor, "-purpose", "sslclient", path.join(dir, "app.crt")]).stdout).toContain("OK");
  expect(pairMatches(dir)).toBe(true);
  const first = leaf(dir);
  expect(first.sans.email).toEqual(["app1@example.com"]);

  const notDue = agent(dir, ["--once", "--json"]);
  expect(notDue.code).toBe(0);
  const [nd] = events(notDue.stdout);
  expect(nd).toMatchObject({ event: "not-due", serial: first.serialHex });
  expect(new Date(nd.renewAt).getTime()).toBeLessThan(first.notAfter.getTime());

  const r = agent(dir, ["--once", "--json", "--renew-before", "99%"]);
  expect(r.code).toBe(0);
  const [ev] = events(r.stdout);
  expect(ev).toMatchObject({ event: "renewed", previous: first.serialHex });
  const second = leaf(dir);
  expect(second.serialHex).toBe(ev.serial);
  expect(second.serialHex).not.toBe(first.serialHex);
  expect(second.subjectRaw).toEqual(first.subjectRaw);
  expect(sanExt(dir)).toEqual(first.extensions.find((e) => e.oid === "2.5.29.17")!.value);
  expect(second.spki.equals(first.spki)).toBe(false); // a new key
  expect(pairMatches(dir)).toBe(true);
  const list = JSON.parse(cli(["list", "--json"]).stdout) as { serial: string; status: string }[];
  expect(list.find((c) => c.serial === first.serialHex)?.status).toBe("superseded");
  expect(list.find((c) => c.serial === second.serialHex)?.status).toBe("valid");
});

test("--bundle: one file with the chain and the key (0600), swapped with the pair; added later, made from the current pair; a foreign file there is refused", () => {
  const dir = enrolled("bundle1");
  const bundle = path.join(dir, "app.pem");
  const first = leaf(dir);
  // a plain file of someone's at the path: refused, left as it was, nothing renewed
  fs.writeFileSync(bundle, "not ours\n");
  const refused = agent(dir, ["--once", "--bundle", bundle, "--renew-before", "99%"]);
  expect(refused.code).toBe(3);
  expect(refused.stderr).toMatch(/--bundle: .*app\.pem exists and is not the agent's link/);
  expect(fs.readFileSync(bundle, "utf8")).toBe("not ours\n");
  expect(leaf(dir).serialHex).toBe(first.serialHex);
  fs.rmSync(bundle);

  // added after the first enrolment: made from the current generation's pair, no renewal needed
  const notDue = agent(dir, ["--once", "--json", "--bundle", bundle]);
  expect(notDue.code).toBe(0);
  expect(events(notDue.stdout)[0]).toMatchObject({ event: "not-due", serial: first.serialHex });
  const check = (serialHex: string) => {
    expect(fs.lstatSync(bundle).isSymbolicLink()).toBe(true);
    expect(fs.statSync(bundle).mode & 0o777).toBe(0o600);
    const text = fs.readFileSync(bundle, "utf8");
    const blocks = text.match(/-----BEGIN ([A-Z ]+)-----[\s\S]+?-----END \1-----\n/g)!;
    expect(blocks.map((b) => /BEGIN ([A-Z ]+)-----/.exec(b)![1])).toEqual(["CERTIFICATE", "PRIVATE KEY"]); // the chain, then the key
    const certs = readCertificates(Buffer.from(blocks.slice(0, -1).join("")), "app.pem");
    expect(certs[0].serialHex).toBe(serialHex);
    const key = crypto.createPrivateKey(text); // the key block, found after the certificates
    expect(certs[0].spki.equals(crypto.createPublicKey(key).export({ type: "spki", format: "der" }))).toBe(true);
    // openssl reads both from the one file
    expect(openssl(["x509", "-in", bundle, "-noout", "-serial"]).stdout.toLowerCase()).toContain(serialHex.replace(/^(00)+(?=.)/, "").toLowerCase());
    expect(openssl(["pkey", "-in", bundle, "-noout"]).code).toBe(0);
  };
  check(first.serialHex);

  // a renewal swaps the bundle with the pair
  const r = agent(dir, ["--once", "--json", "--bundle", bundle, "--renew-before", "99%"]);
  expect(r.code).toBe(0);
  const [ev] = events(r.stdout);
  expect(ev).toMatchObject({ event: "renewed", previous: first.serialHex, files: { bundle } });
  expect(leaf(dir).serialHex).toBe(ev.serial);
  check(ev.serial);
  expect(pairMatches(dir)).toBe(true);
  // the same file twice is a usage error
  expect(agent(dir, ["--once", "--bundle", path.join(dir, "app.crt")]).code).toBe(2);
});

test("--exec: the hook is found by PATH and runs with the agent's environment minus the secret variables", () => {
  const dir = enrolled("app-env");
  // `env` by PATH lookup (the user's command, as a shell would find it); its stdout goes to the agent's stderr
  const secrets = { MTLSCTL_PASSPHRASE: "leak-1", MTLSCTL_ROOT_PASSPHRASE: "leak-2", MTLSCTL_NEW_PASSPHRASE: "leak-3", MTLSCTL_KEY_PASSPHRASE: "leak-4", MTLSCTL_P12_PASSWORD: "leak-5", MTLSCTL_BACKUP_PASSWORD: "leak-6", PGPASSWORD: "leak-7" };
  const r = agent(dir, ["--once", "--renew-before", "99%", "--json", "--exec", "env"], { ...secrets, J21_HOOK_MARK: "kept" });
  expect(r.code).toBe(0);
  expect(events(r.stdout).map((e) => e.event)).toEqual(["renewed", "hook"]);
  const vars = r.stderr.split("\n").filter((l) => /^[A-Za-z_][A-Za-z0-9_]*=/.test(l)).map((l) => l.split("=")[0]);
  expect(vars).toEqual(expect.arrayContaining(["PATH", "J21_HOOK_MARK"]));
  expect(vars.filter((v) => v in secrets)).toEqual([]);
  expect(r.stderr).not.toMatch(/leak-\d/);
});

test("--exec runs after the swap and sees the new files; --signal reaches the process in --pid-file", async () => {
  const dir = enrolled("app2");
  const seen = path.join(dir, "seen");
  const r = agent(dir, ["--once", "--renew-before", "99%", "--json", "--exec", `sh -c 'openssl x509 -in "${path.join(dir, "app.crt")}" -noout -serial > "${seen}"'`]);
  expect(r.code).toBe(0);
  const evs = events(r.stdout);
  expect(evs.map((e) => e.event)).toEqual(["renewed", "hook"]);
  expect(evs[1]).toMatchObject({ hook: "exec", ok: true, exitCode: 0 });
  expect(fs.readFileSync(seen, "utf8").trim().toLowerCase()).toBe(`serial=${leaf(dir).serialHex}`);

  // a real process that records the signal it gets
  const got = path.join(dir, "got-hup");
  const child = spawn(process.execPath, ["-e", `process.on("SIGHUP", () => { require("fs").writeFileSync(${JSON.stringify(got)}, "HUP"); process.exit(0); }); setInterval(() => {}, 1000);`]);
  await new Promise((r2) => setTimeout(r2, 300));
  fs.writeFileSync(path.join(dir, "pid"), `${child.pid}\n`);
  const exited = new Promise((r2) => child.on("exit", r2));
  const s = agent(dir, ["--once", "--renew-before", "99%", "--json", "--signal", "HUP", "--pid-file", path.join(dir, "pid")]);
  expect(s.code).toBe(0);
  expect(events(s.stdout)[1]).toMatchObject({ event: "hook", hook: "signal", ok: true });
  await exited;
  expect(fs.readFileSync(got, "utf8")).toBe("HUP");
});

test("revoked: the renewal is refused (exit 1, a new token is needed); without a token it says so again; a new token enrols anew", () => {
  const dir = enrolled("app3");
  const before = leaf(dir);
  cli(["revoke", "app3"]);
  const r = agent(dir, ["--once", "--renew-before", "99%", "--json"]);
  expect(r.code).toBe(1);
  expect(events(r.stdout)[0]).toMatchObject({ event: "refused", status: 403 });
  expect(r.stderr).toMatch(/revoked.*a new token is needed/s);
  expect(leaf(dir).serialHex).toBe(before.serialHex); // the files kept
  const again = agent(dir, ["--once"]);
  expect(again.code).toBe(1);
  expect(again.stderr).toMatch(/refused renewal before.*a new token is needed/s);
  fs.writeFileSync(path.join(dir, "token"), cli(["token", "create", "app3", "--email", "app3@example.com"]).stdout);
  const fresh = agent(dir, ["--name", "app3", "--token-file", path.join(dir, "token"), "--once", "--json"]);
  expect(fresh.code).toBe(0);
  expect(events(fresh.stdout)[0].event).toBe("enrolled");
  expect(leaf(dir).serialHex).not.toBe(before.serialHex);
  expect(pairMatches(dir)).toBe(true);
});

test("bad input: usage errors exit 2, a missing anchor or an enrolment without a token exit 3; nothing written", () => {
  const dir = tmpDir("mtlsctl-agent-bad-");
  const cases: [string[], number, RegExp][] = [
    [["--once", "--exec", "true", "--signal", "HUP", "--pid-file", "p"], 2, /not both/],
    [["--once", "--signal", "HUP"], 2, /go together/],
    [["--once", "--name", "x"], 2, /go together/],
    [["--once", "--signal", "NOPE", "--pid-file", "p"], 2, /not a signal/],
    [["--once", "--renew-before", "150%"], 3, /percentage/],
    [["--once", "--retry-for", "soon"], 3, /not a duration/],
    [["--once"], 3, /enrol first with --name NAME --token-file FILE/],
  ];
  for (const [args, code, msg] of cases) {
    const r = agent(dir, args);
    expect([args, r.code]).toEqual([args, code]);
    expect(r.stderr).toMatch(msg);
  }
  const noAnchor = mtls(["agent", "--ca-url", `https://127.0.0.1:${svc.port}`, "--ca-file", path.join(dir, "nope.crt"), "--cert", path.join(dir, "a.crt"), "--key", path.join(dir, "a.key"), "--once"], { cwd: dir, env: agentEnv });
  expect(noAnchor.code).toBe(3);
  expect(noAnchor.stderr).toMatch(/--ca-file: cannot read it/);
  expect(fs.readdirSync(dir)).toEqual([]);
});

test("the CA unreachable: --once retries with backoff and exits 3 within --retry-for, the files kept", async () => {
  const dir = enrolled("app4");
  const serial = leaf(dir).serialHex;
  const r = await agentAsync("https://127.0.0.1:1", dir, ["--once", "--renew-before", "99%", "--retry-for", "4s", "--json"]);
  expect(r.code).toBe(3);
  expect(r.ms).toBeLessThan(15_000);
  const evs = events(r.stdout);
  expect(evs.filter((e) => e.event === "retry").length).toBeGreaterThanOrEqual(1);
  expect(r.stderr).toMatch(/unreachable/);
  expect(leaf(dir).serialHex).toBe(serial);
  expect(pairMatches(dir)).toBe(true);
});

test("503 with Retry-After: the agent waits what the server says", async () => {
  const dir = enrolled("app5");
  let hits = 0;
  const server = https.createServer({ key: fs.readFileSync(path.join(store.dir, "private", "srv.key")), cert: fs.readFileSync(path.join(store.dir, "issued", "srv.crt")) }, (req, res) => {
    hits++;
    res.writeHead(503, { "Retry-After": "2", "Content-Type": "text/plain" });
    res.end("busy\n");
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  try {
    const port = (server.address() as { port: number }).port;
    const r = await agentAsync(`https://127.0.0.1:${port}`, dir, ["--once", "--renew-before", "99%", "--retry-for", "5s", "--json"]);
    expect(r.code).toBe(3);
    const retries = events(r.stdout).filter((e) => e.event === "retry");
    expect(retries.length).toBeGreaterThanOrEqual(1);
    for (const e of retries) expect(e.inMs).toBe(2000);
    expect(hits).toBe(retries.length + 1);
    expect(r.stderr).toMatch(/503: busy/);
  } finally {
    server.close();
  }
});

test("kill -9 at every crash point of a renewal: always a matching pair, and the next run finishes the renewal", () => {
  const dir = enrolled("app6");
  const start = leaf(dir).serialHex;
  // with --bundle: its link and file are part of every step too
  const bundle = path.join(dir, "app.pem");
  const withBundle = ["--bundle", bundle];
  const bundleMatches = () => {
    const text = fs.readFileSync(bundle, "utf8");
    const cert = new crypto.X509Certificate(text.slice(0, text.indexOf("-----BEGIN PRIVATE KEY-----")));
    return cert.serialNumber === new crypto.X509Certificate(fs.readFileSync(path.join(dir, "app.crt"))).serialNumber && cert.checkPrivateKey(crypto.createPrivateKey(text));
  };
  const trace = agent(dir, ["--once", "--renew-before", "99%", ...withBundle], { MTLSCTL_TEST_KILL_TRACE: "1", MTLSCTL_TEST_KILL_AT: "999" });
  expect(trace.code).toBe(0);
  const points = (trace.stderr.match(/test hook: crash point \d+/g) ?? []).length;
  expect(points).toBeGreaterThanOrEqual(8);
  const serials = new Set<string>([start, leaf(dir).serialHex]);
  for (let n = 1; n <= points; n++) {
    const before = leaf(dir).serialHex;
    const killed = agent(dir, ["--once", "--renew-before", "99%", ...withBundle], { MTLSCTL_TEST_KILL_AT: String(n) });
    expect([n, killed.code]).toEqual([n, -1]); // SIGKILLed at crash point n (no exit code of its own)
    expect(pairMatches(dir)).toBe(true);
    const done = agent(dir, ["--once", "--renew-before", "99%", "--json", ...withBundle]);
    expect([n, done.code, done.stderr]).toEqual([n, 0, done.stderr]);
    expect(pairMatches(dir)).toBe(true);
    expect([n, bundleMatches()]).toEqual([n, true]);
    expect(openssl(["verify", "-CAfile", anchor, path.join(dir, "app.crt")]).stdout).toContain("OK");
    expect(leaf(dir).serialHex).not.toBe(before);
    serials.add(leaf(dir).serialHex);
    // at most two generations kept, no half-written ones left
    const gens = fs.readdirSync(path.join(dir, ".app.crt.mtlsctl")).filter((g) => /^g\d+$/.test(g));
    expect(gens.length).toBeLessThanOrEqual(2);
  }
});

test("config nats for a server whose certificate the agent keeps (its key never in the store): --cert-file/--key-file name its own files", () => {
  const s = makeStore({ name: "Agent Server CA" });
  const run = (args: string[]) => mtls(args, { cwd: s.cwd, env: s.env });
  expect(run(["server", "issue", "ca-svc", "--dns", "localhost", "--ip", "127.0.0.1"]).code).toBe(0);
  const dir = tmpDir("mtlsctl-agent-srv-");
  // enrolled over EST by its agent: the store has the certificate, never the key
  const local = startServe(s.env, []);
  return local.then(async (own) => {
    try {
      fs.writeFileSync(path.join(dir, "token"), mtlsOk(["token", "create", "nats9", "--kind", "server", "--dns", "localhost"], { cwd: s.cwd, env: s.env }).stdout);
      const e = mtls(["agent", "--ca-url", `https://127.0.0.1:${own.port}`, "--ca-file", path.join(s.dir, "ca.crt"), "--cert", path.join(dir, "server.crt"), "--key", path.join(dir, "server.key"), "--name", "nats9", "--token-file", path.join(dir, "token"), "--once"], { cwd: dir, env: agentEnv });
      expect([e.code, e.stderr]).toEqual([0, e.stderr]);
    } finally {
      await own.stop();
    }
    const plain = run(["config", "nats", "--server", "nats9"]);
    expect(plain.code).toBe(3);
    expect(plain.stderr).toMatch(/no key in the store.*--cert-file F --key-file F/);
    const r = run(["config", "nats", "--server", "nats9", "--cert-file", path.join(dir, "server.crt"), "--key-file", path.join(dir, "server.key")]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`cert_file: "${path.join(dir, "server.crt")}"`);
    expect(r.stdout).toContain(`key_file: "${path.join(dir, "server.key")}"`);
    expect(run(["config", "nats", "--cert-file", path.join(dir, "server.crt")]).code).toBe(3);
  });
});
