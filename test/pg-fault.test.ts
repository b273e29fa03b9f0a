/**
 * Issue 19's database fault, on a PostgreSQL cluster of this test's own (helpers/pg.ts
 * throwawayCluster): the server stopped while `serve --db` runs. Requests in the outage get 503 and the
 * CLI a clear one-line error (exit 3); once the server is back, the service answers again without a
 * restart, and every certificate answered with 200 has its row. Then the same under a load of 1,000
 * re-enrolments from 8 concurrent clients, the server stopped a third of the way in: each request gets
 * 200 or 503, nothing else; the service answers again without a restart; the rows the load made are
 * exactly the certificates answered with 200 (sign, commit, respond: no 200 without its row, no row
 * without its 200 — a commit cut by the outage is rolled back and answered 503).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { execFileSync } from "node:child_process";
import { makeStore, mtls, mtlsOk, tmpDir } from "./helpers/cli";
import { basic, request, startServe, type Served } from "./helpers/serve";
import { throwawayCluster } from "./helpers/pg";
import { freePort } from "./helpers/nats";
import { EstHttpError, simpleenroll, simplereenroll } from "../src/est/client";
import { readCertificates } from "../src/pki/cert";

jest.setTimeout(180_000);

let cluster: ReturnType<typeof throwawayCluster>;
let svc: Served | null = null;
let caPath = ""; // the CA certificate of the store the first test copies into the database
afterAll(async () => {
  await svc?.stop();
  cluster?.destroy();
});

test("PostgreSQL stopped and restarted under serve --db: 503 in the outage, recovery without a restart, every 200 has its row", async () => {
  cluster = throwawayCluster(await freePort());
  const url = cluster.url;
  const s = makeStore({ name: "Fault CA" });
  mtlsOk(["server", "issue", "srv", "--dns", "localhost", "--ip", "127.0.0.1"], s);
  mtlsOk(["store", "copy", "--from", s.dir, "--to", url], s);
  const work = tmpDir();
  const env = { MTLSCTL_PASSPHRASE: "test-pass", MTLSCTL_DB: url, MTLSCTL_DIR: "" };
  const caFile = path.join(s.dir, "ca.crt");
  caPath = caFile;
  svc = await startServe(env, ["--tls-cert", path.join(s.dir, "issued", "srv.crt"), "--tls-key", path.join(s.dir, "private", "srv.key"), "--rate-limit", "0"]);
  const port = svc.port;
  const tokens = Array.from({ length: 6 }, (_, i) => mtlsOk(["token", "create", `f${i}`], { cwd: work, env }).stdout.trim());
  const key = path.join(work, "k.key");
  execFileSync("openssl", ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", key]);
  const body = execFileSync("openssl", ["req", "-new", "-key", key, "-subj", "/", "-outform", "DER"]).toString("base64");
  const enroll = (i: number) => request(port, { path: "/.well-known/est/simpleenroll", caFile, body, headers: { "Content-Type": "application/pkcs10", Authorization: basic(`f${i}`, tokens[i]) } });
  const ok: string[] = [];
  for (const i of [0, 1]) {
    const r = await enroll(i);
    expect(r.status).toBe(200);
    ok.push(`f${i}`);
  }
  cluster.stop();
  try {
    for (const i of [2, 3]) {
      const r = await enroll(i);
      expect([r.status, r.body]).toEqual([503, expect.stringMatching(/unavailable|cannot use the database/)]);
    }
    const h = await request(port, { path: "/health", caFile });
    expect(h.status).toBe(503);
    expect((await request(port, { path: "/crl", caFile })).status).toBe(503);
    const cli = mtls(["list"], { cwd: work, env });
    expect(cli.code).toBe(3);
    expect(cli.stderr).toMatch(/^mtlsctl: postgres:\/\/mtlsctl@127\.0\.0\.1:\d+\/pki: cannot use the database: .*\n$/);
  } finally {
    cluster.start();
  }
  // back: the same process answers again; the tokens refused in the outage were not spent
  for (const i of [2, 3, 4]) {
    const r = await enroll(i);
    expect(r.status).toBe(200);
    ok.push(`f${i}`);
  }
  expect((await request(port, { path: "/health", caFile })).status).toBe(200);
  const names = JSON.parse(mtlsOk(["list", "--json"], { cwd: work, env }).stdout).map((r: { name: string }) => r.name);
  expect(names.filter((n: string) => /^f\d$/.test(n)).sort()).toEqual(ok.sort());
  expect(svc.proc.exitCode).toBeNull();
});

test("a load of 1,000 re-enrolments with PostgreSQL stopped and restarted a third of the way in: 200 or 503 only, recovery, rows = the 200s", async () => {
  expect(svc && svc.proc.exitCode === null).toBe(true); // the service of the test above, its database back up
  const url = cluster.url;
  const work = tmpDir();
  const env = { MTLSCTL_PASSPHRASE: "test-pass", MTLSCTL_DB: url, MTLSCTL_DIR: "" };
  const caFile = caPath;
  const ep = { url: `https://127.0.0.1:${svc!.port}`, ca: fs.readFileSync(caFile), timeoutMs: 20_000 };
  const pem = (der: Buffer) => `-----BEGIN CERTIFICATE-----\n${der.toString("base64").replace(/.{64}/g, "$&\n").replace(/\n?$/, "\n")}-----END CERTIFICATE-----\n`;
  // 8 clients, each enrolled with a token; each then re-enrols with the certificate its last 200 gave it
  const clients: { name: string; key: string; csr: Buffer; cert: string }[] = [];
  for (let i = 0; i < 8; i++) {
    const token = mtlsOk(["token", "create", `load${i}`], { cwd: work, env }).stdout.trim();
    const key = path.join(work, `load${i}.key`);
    execFileSync("openssl", ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", key]);
    const csr = execFileSync("openssl", ["req", "-new", "-key", key, "-subj", "/", "-outform", "DER"]);
    const [leaf] = await simpleenroll(ep, csr, { user: `load${i}`, password: token });
    clients.push({ name: `load${i}`, key: fs.readFileSync(key, "utf8"), csr, cert: pem(leaf) });
  }
  const TOTAL = 1000;
  const answered: string[] = []; // serials of the 200s
  const statuses: Record<string, number> = {};
  let next = 0;
  let outage = "before" as "before" | "down" | "after";
  let downAnswered = 0;
  const one = async (c: (typeof clients)[number]) => {
    try {
      const [leaf] = await simplereenroll(ep, c.csr, { cert: c.cert, key: c.key });
      c.cert = pem(leaf);
      answered.push(readCertificates(leaf, "reply")[0].serialHex.toLowerCase());
      statuses["200"] = (statuses["200"] ?? 0) + 1;
    } catch (e) {
      const k = e instanceof EstHttpError ? String(e.status) : `error: ${(e as Error).message}`;
      statuses[k] = (statuses[k] ?? 0) + 1;
    }
    if (outage === "down") downAnswered++;
  };
  const worker = async (c: (typeof clients)[number]) => {
    while (next < TOTAL) {
      const n = next++;
      if (n === Math.floor(TOTAL / 3) && outage === "before") {
        cluster.stop(); // blocks this process only; serve keeps answering, without its database
        outage = "down";
      }
      if (outage === "down" && downAnswered >= 100) {
        cluster.start();
        outage = "after";
      }
      await one(c);
    }
  };
  await Promise.all(clients.map(worker));
  if (outage === "down") cluster.start();
  expect(outage).toBe("after");
  if (Object.keys(statuses).sort().join() !== "200,503") throw new Error(`answers ${JSON.stringify(statuses)} (only 200 and 503 expected); serve exit ${svc!.proc.exitCode}:\n${svc!.log().slice(-3000)}`);
  expect(statuses["503"]).toBeGreaterThanOrEqual(90);
  expect(statuses["200"] + statuses["503"]).toBe(TOTAL);
  expect(svc!.proc.exitCode).toBeNull(); // recovered without a restart
  expect((await request(svc!.port, { path: "/health", caFile })).status).toBe(200);
  // the rows the load made (names load0..7, beyond each first enrolment) are exactly the 200s
  const rows = JSON.parse(mtlsOk(["list", "--json"], { cwd: work, env }).stdout) as { name: string; serial: string }[];
  const fromLoad = rows.filter((r) => /^load\d$/.test(r.name)).map((r) => r.serial.toLowerCase().replace(/:/g, ""));
  const norm = (s: string) => s.replace(/^(00)+(?=.)/, "");
  // as many rows as 200s plus the first enrolments, and each 200 among them: no row without its 200
  expect(fromLoad.length).toBe(answered.length + clients.length);
  expect(new Set(answered.map(norm)).size).toBe(answered.length);
  for (const s of answered) expect(fromLoad.map(norm)).toContain(norm(s));
});
