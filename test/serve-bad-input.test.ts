/**
 * Bad input to `mtlsctl serve` (issue 17), each with the right status, nothing written to the store
 * (every file's hash and mode the same before and after) and the service still serving; a CLI revoke
 * beside the running service is seen by the next re-enrolment; SIGTERM lets an in-flight request finish.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as tls from "node:tls";
import { execFileSync } from "node:child_process";
import { hashTree, makeStore, mtls, mtlsOk, openssl } from "./helpers/cli";
import { basic, request, Reply, startServe, Served } from "./helpers/serve";

jest.setTimeout(90_000);

const store = makeStore({ name: "Bad Input CA" });
const other = makeStore({ name: "Other CA" });
const work = path.join(store.cwd, "work");
fs.mkdirSync(work);
const caFile = path.join(work, "ca.crt"); // a copy: the store moves away in one test
fs.copyFileSync(path.join(store.dir, "ca.crt"), caFile);
const w = (f: string) => path.join(work, f);
const cli = (args: string[], s = store) => mtlsOk(args, { cwd: s.cwd, env: s.env });
let svc: Served;

function key(name: string): string {
  const f = w(`${name}.key`);
  if (!fs.existsSync(f)) openssl(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", f]);
  return f;
}
/** The base64 of a DER CSR made by openssl. */
function csr(keyName: string, subj: string, san?: string): string {
  const args = ["req", "-new", "-key", key(keyName), "-subj", subj || "/", "-outform", "DER", ...(san ? ["-addext", `subjectAltName=${san}`] : [])];
  return execFileSync("openssl", args).toString("base64");
}
const token = (name: string, ...args: string[]) => cli(["token", "create", name, ...args]).stdout.trim();
const PKCS10 = { "Content-Type": "application/pkcs10" };
const enroll = (user: string, pass: string, body: string | Buffer, headers: Record<string, string> = PKCS10) =>
  request(svc.port, { path: "/.well-known/est/simpleenroll", caFile, body, headers: { ...headers, Authorization: basic(user, pass) } });
const reenroll = (cert: string, keyFile: string, body: string) => request(svc.port, { path: "/.well-known/est/simplereenroll", caFile, body, headers: PKCS10, cert, key: keyFile });
const certOf = (r: Reply, file: string): string => {
  expect(r.status).toBe(200);
  const pem = execFileSync("openssl", ["pkcs7", "-inform", "DER", "-print_certs"], { input: Buffer.from(r.body, "base64") }).toString();
  fs.writeFileSync(file, pem);
  return file;
};

/** Runs `fn` and checks: the status, the reason, nothing written, the service still serving. */
async function refused(fn: () => Promise<Reply>, status: number, reason: RegExp): Promise<Reply> {
  const before = hashTree(store.dir);
  const r = await fn();
  expect({ status: r.status, body: r.body }).toEqual({ status, body: expect.stringMatching(reason) });
  expect(hashTree(store.dir)).toEqual(before);
  const h = await request(svc.port, { path: "/health", caFile });
  expect([h.status, h.body.trim()]).toEqual([200, '{"status":"ok"}']);
  return r;
}

beforeAll(async () => {
  cli(["server", "issue", "srv", "--dns", "localhost", "--ip", "127.0.0.1"]);
  cli(["client", "issue", "mallory", "--email", "mallory@example.com"], other);
  svc = await startServe(store.env, ["--headers-timeout", "1s", "--rate-limit", "0"]);
});
afterAll(async () => {
  await svc?.stop();
});

test("a garbage body, a wrong Content-Type, a CSR whose signature fails, no credentials", async () => {
  const t = token("dev1", "--email", "dev1@example.com");
  await refused(() => enroll("dev1", t, "this is not base64 !!"), 400, /not base64/);
  await refused(() => enroll("dev1", t, Buffer.from("hello world, a body that is no request").toString("base64")), 400, /DER certificate request/);
  await refused(() => enroll("dev1", t, csr("dev1", "/CN=dev1"), { "Content-Type": "text/plain" }), 415, /application\/pkcs10/);
  await refused(() => enroll("dev1", t, csr("dev1", "/CN=dev1"), {}), 415, /application\/pkcs10/);
  const der = Buffer.from(csr("dev1", "/CN=dev1"), "base64");
  der[der.length - 3] ^= 0x55; // inside the signature
  await refused(() => enroll("dev1", t, der.toString("base64")), 400, /malformed certificate request: .*signature/i);
  const r = await refused(() => request(svc.port, { path: "/.well-known/est/simpleenroll", caFile, body: csr("dev1", "/CN=dev1"), headers: PKCS10 }), 401, /HTTP Basic/);
  expect(r.headers["www-authenticate"]).toBe('Basic realm="mtlsctl"');
  // none of it spent the token: the good request now succeeds, in base64 with line breaks (RFC 8951)
  const lines = csr("dev1", "/CN=dev1").replace(/(.{64})/g, "$1\r\n");
  certOf(await enroll("dev1", t, lines, { ...PKCS10, "Content-Transfer-Encoding": "8bit" }), w("dev1.crt"));
});

test("a reused, expired or revoked token; a token for another name; a CSR asking for more names", async () => {
  const t = token("dev2", "--email", "dev2@example.com");
  // a token for another name: dev2's token with the name dev3
  await refused(() => enroll("dev3", t, csr("dev2", "/CN=dev2")), 401, /unknown name or token/);
  await refused(() => enroll("dev2", "not-the-token", csr("dev2", "/CN=dev2")), 401, /unknown name or token/);
  // more names than the token gives; another subject
  await refused(() => enroll("dev2", t, csr("dev2", "/CN=dev2", "email:dev2@example.com,DNS:evil.example.com")), 403, /DNS:evil.example.com|dns:evil.example.com/);
  await refused(() => enroll("dev2", t, csr("dev2", "/CN=admin")), 403, /subject "CN=admin"/);
  // the good one, then the same token and key again: the same certificate (a lost response must not burn the token)
  const first = certOf(await enroll("dev2", t, csr("dev2", "/CN=dev2", "email:dev2@example.com")), w("dev2.crt"));
  const before = hashTree(store.dir);
  const again = certOf(await enroll("dev2", t, csr("dev2", "")), w("dev2-again.crt"));
  expect(fs.readFileSync(again, "utf8")).toBe(fs.readFileSync(first, "utf8"));
  expect(hashTree(store.dir)).toEqual(before);
  // reused with another key
  await refused(() => enroll("dev2", t, csr("dev2-other", "/CN=dev2")), 403, /already used/);
  // expired
  const short = token("dev4", "--ttl", "1s");
  await new Promise((r) => setTimeout(r, 1500));
  await refused(() => enroll("dev4", short, csr("dev4", "/CN=dev4")), 403, /expired/);
  // revoked
  const gone = token("dev5");
  cli(["token", "revoke", "dev5"]);
  await refused(() => enroll("dev5", gone, csr("dev5", "/CN=dev5")), 403, /revoked/);
  // a token that pins a NATS user, on a service without --nats-config
  const pinned = token("dev6", "--expect-user", "dev6");
  await refused(() => enroll("dev6", pinned, csr("dev6", "/CN=dev6")), 403, /without --nats-config/);
  const states = Object.fromEntries((JSON.parse(cli(["token", "list", "--json"]).stdout) as { name: string; state: string }[]).map((x) => [x.name, x.state]));
  expect(states).toMatchObject({ dev2: "claimed", dev4: "expired", dev5: "revoked", dev6: "active" });
});

test("re-enrolment: a certificate from another CA, another identity, a CLI revoke seen by the next request", async () => {
  const t = token("dev7", "--email", "dev7@example.com");
  const crt = certOf(await enroll("dev7", t, csr("dev7", "/CN=dev7")), w("dev7.crt"));
  await refused(() => reenroll(path.join(other.dir, "issued", "mallory.crt"), path.join(other.dir, "private", "mallory.key"), csr("dev7", "/CN=dev7")), 403, /not issued by this CA/);
  await refused(() => request(svc.port, { path: "/.well-known/est/simplereenroll", caFile, body: csr("dev7", "/CN=dev7"), headers: PKCS10 }), 401, /client certificate/);
  await refused(() => reenroll(crt, key("dev7"), csr("dev7", "/CN=dev7", "email:dev7@example.com,email:root@example.com")), 403, /root@example.com/);
  await refused(() => reenroll(crt, key("dev7"), csr("dev7", "/CN=someone-else")), 403, /differs/);
  const renewed = certOf(await reenroll(crt, key("dev7"), csr("dev7", "")), w("dev7-2.crt"));
  // the superseded one cannot renew again with another key; with the key of its renewal (a lost answer
  // retried) it gets that same certificate back, and nothing is written
  await refused(() => reenroll(crt, key("dev7"), csr("dev7-other", "")), 403, /replaced by serial/);
  const before = hashTree(store.dir);
  const again = await reenroll(crt, key("dev7"), csr("dev7", ""));
  expect(again.status).toBe(200);
  expect(fs.readFileSync(certOf(again, w("dev7-again.crt")), "utf8")).toBe(fs.readFileSync(renewed, "utf8"));
  expect(hashTree(store.dir)).toEqual(before);
  // the current one is revoked on the CLI beside the service
  const r = mtls(["revoke", "dev7"], { cwd: store.cwd, env: store.env });
  expect(r.code).toBe(0);
  await refused(() => reenroll(renewed, key("dev7"), csr("dev7", "")), 403, /revoked/);
});

test("a 1 MiB body: 413 from Content-Length, before reading it; a streamed body over 64 KiB: 413", async () => {
  const t = token("dev8");
  const before = hashTree(store.dir);
  // only the headers are sent: the answer comes without the body
  const head = await rawExchange(
    `POST /.well-known/est/simpleenroll HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/pkcs10\r\nAuthorization: ${basic("dev8", t)}\r\nContent-Length: ${1024 * 1024}\r\n\r\n`,
    [],
  );
  expect(head).toMatch(/^HTTP\/1\.1 413 /);
  const chunk = "QUFB".repeat(4096); // 16 KiB of base64, five times, chunked: no Content-Length
  const streamed = await rawExchange(`POST /.well-known/est/simpleenroll HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/pkcs10\r\nAuthorization: ${basic("dev8", t)}\r\nTransfer-Encoding: chunked\r\n\r\n`, [
    ...Array.from({ length: 5 }, () => `${chunk.length.toString(16)}\r\n${chunk}\r\n`),
    "0\r\n\r\n",
  ]);
  expect(streamed).toMatch(/^HTTP\/1\.1 413 /);
  expect(hashTree(store.dir)).toEqual(before);
  expect((await request(svc.port, { path: "/health", caFile })).status).toBe(200);
});

test("a slow client: dropped after the headers timeout, the service still serving", async () => {
  const t0 = Date.now();
  const out = await rawExchange("POST /.well-known/est/simpleenroll HTTP/1.1\r\nHost: loc", [], 10_000);
  const waited = Date.now() - t0;
  expect(out === "" || /^HTTP\/1\.1 408 /.test(out)).toBe(true);
  expect(waited).toBeGreaterThanOrEqual(900);
  expect(waited).toBeLessThan(8_000);
  expect((await request(svc.port, { path: "/health", caFile })).status).toBe(200);
});

test("429 over the per-client rate; 503 and /health 503 while the store is unavailable", async () => {
  const limited = await startServe(store.env, ["--rate-limit", "2"]);
  try {
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await request(limited.port, { path: "/.well-known/est/simpleenroll", caFile, body: "x", headers: PKCS10 })).status);
    expect(statuses.slice(0, 2)).toEqual([401, 401]);
    expect(statuses).toContain(429);
  } finally {
    await limited.stop();
  }
  const t = token("dev9");
  const away = store.dir + ".away";
  fs.renameSync(store.dir, away);
  try {
    const h = await request(svc.port, { path: "/health", caFile });
    expect(h.status).toBe(503);
    expect(JSON.parse(h.body).status).toBe("unavailable");
    const r = await enroll("dev9", t, csr("dev9", "/CN=dev9"));
    expect(r.status).toBe(503);
  } finally {
    fs.renameSync(away, store.dir);
  }
  expect((await request(svc.port, { path: "/health", caFile })).status).toBe(200);
  certOf(await enroll("dev9", t, csr("dev9", "/CN=dev9")), w("dev9.crt")); // the token was not spent
});

test("SIGTERM mid-request: the request finishes (200, recorded), then the service exits 0", async () => {
  const own = await startServe(store.env);
  const t = token("dev10");
  const body = csr("dev10", "/CN=dev10");
  const sock = tls.connect({ host: "127.0.0.1", port: own.port, ca: fs.readFileSync(caFile), servername: "localhost" });
  await new Promise<void>((r) => sock.once("secureConnect", () => r()));
  let got = "";
  sock.on("data", (d) => (got += d));
  const closed = new Promise<void>((r) => sock.on("close", () => r()));
  sock.write(`POST /.well-known/est/simpleenroll HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/pkcs10\r\nAuthorization: ${basic("dev10", t)}\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, 40)}`);
  await new Promise((r) => setTimeout(r, 300));
  own.proc.kill("SIGTERM");
  await new Promise((r) => setTimeout(r, 300));
  expect(own.proc.exitCode).toBeNull(); // still finishing
  sock.write(body.slice(40));
  await closed;
  expect(got).toMatch(/^HTTP\/1\.1 200 /);
  expect(await own.exited).toBe(0);
  const tokens = JSON.parse(cli(["token", "list", "--json"]).stdout) as { name: string; state: string; serial: string | null }[];
  const serial = tokens.find((x) => x.name === "dev10")!.serial;
  expect(serial).toMatch(/^[0-9a-f]+$/);
  const list = JSON.parse(cli(["list", "--json"]).stdout) as { name: string; serial: string }[];
  expect(list.find((x) => x.name === "dev10")?.serial).toBe(serial);
});

/** Writes the head, then each part; returns everything the server sent until it closed (or `ms` passed). */
function rawExchange(head: string, parts: string[], ms = 10_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = tls.connect({ host: "127.0.0.1", port: svc.port, ca: fs.readFileSync(caFile), servername: "localhost" }, () => {
      sock.write(head);
      for (const p of parts) if (!sock.destroyed) sock.write(p);
    });
    let got = "";
    const timer = setTimeout(() => (sock.destroy(), resolve(got)), ms);
    sock.on("data", (d) => (got += d));
    sock.on("error", (e: NodeJS.ErrnoException) => (e.code === "ECONNRESET" || e.code === "EPIPE" ? undefined : reject(e)));
    sock.on("close", () => (clearTimeout(timer), resolve(got)));
  });
}
