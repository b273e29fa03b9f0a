/**
 * `serve --db` (issue 19): two `serve` processes on one PostgreSQL database. Enrolments sent to both
 * at once never repeat a serial and never lose a row; one token sent to both at once is spent once;
 * a refused request consumes nothing; a certificate enrolled on one instance re-enrols on the other.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { execFileSync } from "node:child_process";
import { makeStore, mtls, mtlsOk, tmpDir } from "./helpers/cli";
import { basic, request, startServe, type Served } from "./helpers/serve";
import { dropAll, freshDbUrl, pgBase } from "./helpers/pg";

jest.setTimeout(180_000);

const psql = (url: string, sql: string): string => execFileSync("psql", [url, "-qAtc", sql], { encoding: "utf8", env: process.env }).trim();

let url: string;
let env: Record<string, string>;
let caFile: string;
let work: string;
const served: Served[] = [];

beforeAll(async () => {
  pgBase();
  const s = makeStore({ name: "Shared Serve CA" });
  mtlsOk(["server", "issue", "srv", "--dns", "localhost", "--ip", "127.0.0.1"], s);
  url = freshDbUrl();
  mtlsOk(["store", "copy", "--from", s.dir, "--to", url], s);
  caFile = path.join(s.dir, "ca.crt");
  work = tmpDir();
  // the instances and the CLI name the database only; the TLS identity is the file store's srv
  env = { MTLSCTL_PASSPHRASE: "test-pass", MTLSCTL_DB: url, MTLSCTL_DIR: "" };
  const tls = ["--tls-cert", path.join(s.dir, "issued", "srv.crt"), "--tls-key", path.join(s.dir, "private", "srv.key"), "--rate-limit", "0"];
  served.push(await startServe(env, tls), await startServe(env, tls));
});

afterAll(async () => {
  for (const s of served) await s.stop();
  dropAll();
});

const cli = (args: string[]) => mtlsOk(args, { cwd: work, env });
const token = (name: string, extra: string[] = []) => cli(["token", "create", name, ...extra]).stdout.trim();
let keyN = 0;
/** A new EC key and the base64 of a CSR for it (subject and SANs empty: the token gives them). */
function csr(): { key: string; body: string } {
  const key = path.join(work, `k${++keyN}.key`);
  execFileSync("openssl", ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", key]);
  return { key, body: execFileSync("openssl", ["req", "-new", "-key", key, "-subj", "/", "-outform", "DER"]).toString("base64") };
}
const enroll = (i: number, name: string, t: string, body: string) =>
  request(served[i].port, { path: "/.well-known/est/simpleenroll", caFile, body, headers: { "Content-Type": "application/pkcs10", Authorization: basic(name, t) } });

test("both instances are up on the database: /health, /crl (signed by the CA) and cacerts", async () => {
  for (const s of served) {
    expect(s.log()).toContain(`store ${url}`);
    const h = await request(s.port, { path: "/health", caFile });
    expect([h.status, JSON.parse(h.body)]).toEqual([200, { status: "ok" }]);
    expect((await request(s.port, { path: "/.well-known/est/cacerts", caFile })).status).toBe(200);
  }
  const crl = await request(served[0].port, { path: "/crl", caFile });
  expect(crl.status).toBe(200);
  expect(Number(psql(url, "SELECT number FROM crl_state"))).toBeGreaterThanOrEqual(1);
});

test("16 enrolments sent to two instances at once: all answered 200, 16 rows, 16 distinct serials, every token claimed once", async () => {
  const jobs = Array.from({ length: 16 }, (_, k) => ({ name: `m${k}`, t: token(`m${k}`, ["--email", `m${k}@example.com`]), ...csr() }));
  const replies = await Promise.all(jobs.map((j, k) => enroll(k % 2, j.name, j.t, j.body)));
  for (const r of replies) expect([r.status, r.body.slice(0, 80)]).toEqual([200, expect.any(String)]);
  expect(psql(url, "SELECT count(*), count(DISTINCT serial) FROM certificates WHERE name LIKE 'm%'")).toBe("16|16");
  expect(psql(url, "SELECT count(*) FROM tokens WHERE name LIKE 'm%' AND claimed_serial IN (SELECT serial FROM certificates)")).toBe("16");
  // both instances did some
  for (const s of served) expect(s.log()).toMatch(/issued m\d+ serial/);
  const list = JSON.parse(cli(["list", "--json"]).stdout).filter((r: { name: string }) => /^m\d+$/.test(r.name));
  expect(list.map((r: { natsUser: string }) => r.natsUser).sort()).toEqual(jobs.map((j) => `${j.name}@example.com`).sort());
});

test("one token sent to both instances at once with two keys: spent once (one 200, one 403), one row", async () => {
  for (let round = 0; round < 4; round++) {
    const name = `race${round}`;
    const t = token(name);
    const [a, b] = [csr(), csr()];
    const replies = await Promise.all([enroll(0, name, t, a.body), enroll(1, name, t, b.body)]);
    expect(replies.map((r) => r.status).sort()).toEqual([200, 403]);
    expect(replies.find((r) => r.status === 403)!.body).toMatch(/already used/);
    expect(psql(url, `SELECT count(*) FROM certificates WHERE name = '${name}'`)).toBe("1");
  }
});

test("a refused request consumes nothing; the same key again gets the same certificate (a lost response)", async () => {
  const t = token("rita", ["--email", "rita@example.com"]);
  const wrong = csr();
  const bad = execFileSync("openssl", ["req", "-new", "-key", wrong.key, "-subj", "/", "-addext", "subjectAltName=email:mallory@example.com", "-outform", "DER"]).toString("base64");
  const r1 = await enroll(0, "rita", t, bad);
  expect(r1.status).toBe(403);
  expect(psql(url, "SELECT count(*) FROM certificates WHERE name = 'rita'")).toBe("0");
  expect(psql(url, "SELECT claimed_serial IS NULL FROM tokens WHERE name = 'rita'")).toBe("t");
  const good = csr();
  const r2 = await enroll(1, "rita", t, good.body);
  expect(r2.status).toBe(200);
  const r3 = await enroll(0, "rita", t, good.body);
  expect([r3.status, r3.body]).toEqual([200, r2.body]);
  expect(psql(url, "SELECT count(*) FROM certificates WHERE name = 'rita'")).toBe("1");
  // token list --db agrees
  const tl = JSON.parse(cli(["token", "list", "--json"]).stdout).find((x: { name: string }) => x.name === "rita");
  expect(tl.state).toBe("claimed");
});

test("enrolled on one instance, re-enrolled on the other (TLS client certificate): the old one superseded", async () => {
  const t = token("vera", ["--email", "vera@example.com"]);
  const k = csr();
  const r = await enroll(0, "vera", t, k.body);
  expect(r.status).toBe(200);
  const p7 = path.join(work, "vera.p7");
  fs.writeFileSync(p7, `-----BEGIN PKCS7-----\n${r.body.trim()}\n-----END PKCS7-----\n`);
  const certFile = path.join(work, "vera.crt");
  fs.writeFileSync(certFile, execFileSync("openssl", ["pkcs7", "-in", p7, "-print_certs"]));
  const re = await request(served[1].port, { path: "/.well-known/est/simplereenroll", caFile, body: k.body, cert: certFile, key: k.key, headers: { "Content-Type": "application/pkcs10" } });
  expect([re.status, re.body.slice(0, 200)]).toEqual([200, expect.any(String)]);
  const rows = JSON.parse(cli(["list", "--json"]).stdout).filter((x: { name: string }) => x.name === "vera");
  expect(rows.map((x: { status: string }) => x.status)).toEqual(["superseded", "valid"]);
  expect(rows[0].renewedBy).toBe(rows[1].serial);
});

test("serve --db without --tls-cert/--tls-key: a usage error before the passphrase", () => {
  const r = mtls(["serve", "--listen", "127.0.0.1:0"], { cwd: work, env: { MTLSCTL_DB: url } });
  expect(r.code).toBe(2);
  expect(r.stderr).toMatch(/serve --db needs --tls-cert FILE and --tls-key FILE/);
});

test("kill -9 of a serve mid-load: no 200 without its row, no row without its token's claim; the clients' retries with the same token and key get their certificate", async () => {
  const jobs = Array.from({ length: 24 }, (_, k) => ({ name: `k9-${k}`, t: token(`k9-${k}`), ...csr() }));
  const victim = served[0];
  const replies = jobs.map((j) => enroll(0, j.name, j.t, j.body).then((r) => r, () => null));
  // kill it once a few answers are out
  await Promise.race([Promise.all(replies.slice(0, 4)), new Promise((r) => setTimeout(r, 5000))]);
  victim.proc.kill("SIGKILL");
  await victim.exited;
  const got = await Promise.all(replies);
  const rows = new Map(psql(url, "SELECT name || ' ' || serial FROM certificates WHERE name LIKE 'k9-%'").split("\n").filter(Boolean).map((l) => l.split(" ") as [string, string]));
  const claims = new Map(psql(url, "SELECT name || ' ' || claimed_serial FROM tokens WHERE name LIKE 'k9-%' AND claimed_serial IS NOT NULL").split("\n").filter(Boolean).map((l) => l.split(" ") as [string, string]));
  // every row has its claim and every claim its row (one transaction)
  expect([...claims.entries()].sort()).toEqual([...rows.entries()].sort());
  got.forEach((r, k) => {
    if (r && r.status === 200) expect(rows.has(jobs[k].name)).toBe(true);
  });
  expect(got.filter((r) => r && r.status === 200).length).toBeGreaterThan(0);
  // the retries, on the surviving instance: the same certificate for a committed row, a new one otherwise
  for (const [k, j] of jobs.entries()) {
    if (got[k]?.status === 200) continue;
    const r = await enroll(1, j.name, j.t, j.body);
    expect([j.name, r.status]).toEqual([j.name, 200]);
  }
  expect(psql(url, "SELECT count(*), count(DISTINCT serial) FROM certificates WHERE name LIKE 'k9-%'")).toBe("24|24");
  served.splice(0, 1);
});
