/**
 * Issue 19's concurrency on a real PostgreSQL: 8 CLI processes issuing at once against one database
 * never repeat a serial and never lose a row; CRLs signed at the same time get numbers that only grow.
 * Also `client issue --db` and `crl --db` on their own (key to --out-dir, never in the database).
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { execFileSync } from "node:child_process";
import { BIN, makeStore, mtls, mtlsOk, openssl, tmpDir } from "./helpers/cli";
import { dropAll, freshDbUrl, pgBase } from "./helpers/pg";

jest.setTimeout(180_000);

beforeAll(() => pgBase());
afterAll(() => dropAll());

const psql = (url: string, sql: string): string => execFileSync("psql", [url, "-qAtc", sql], { encoding: "utf8", env: process.env }).trim();

function mtlsAsync(args: string[], env: Record<string, string>, cwd: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const c = spawn(process.execPath, [BIN, ...args], { cwd, env: { ...process.env, NO_COLOR: "1", ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    c.stdout.on("data", (d) => (stdout += d));
    c.stderr.on("data", (d) => (stderr += d));
    c.on("close", (code) => resolve({ code, stdout, stderr })); // close, not exit: exit can come before the pipes are read (CI saw an empty stdout)
  });
}

/** A database store with a CA (made by ca init in a directory, then store copy). */
function dbStore() {
  const s = makeStore({ name: "Shared CA" });
  const url = freshDbUrl();
  mtlsOk(["store", "copy", "--from", s.dir, "--to", url], s);
  // the commands below name the database only: no MTLSCTL_DIR beside MTLSCTL_DB
  const env = { MTLSCTL_PASSPHRASE: "test-pass", MTLSCTL_DB: url };
  return { ...s, url, env: env as Record<string, string> };
}

test("client issue --db: the key goes to --out-dir (0600) with the certificate, never into the database; refusals write nothing", () => {
  const s = dbStore();
  const out = tmpDir();
  const j = JSON.parse(mtlsOk(["client", "issue", "dana", "--email", "dana@example.com", "--out-dir", out, "--json"], { cwd: s.cwd, env: s.env }).stdout);
  expect(j).toMatchObject({ name: "dana", kind: "client", natsUser: "dana@example.com", keyFile: path.join(out, "dana.key"), certFile: path.join(out, "dana.crt") });
  expect(fs.statSync(j.keyFile).mode & 0o777).toBe(0o600);
  expect(openssl(["verify", "-CAfile", path.join(s.dir, "ca.crt"), j.certFile]).code).toBe(0);
  // the certificate's key is the file's
  const pub = (f: string, args: string[]) => openssl([...args, "-in", f, "-pubkey", "-noout"]).stdout;
  expect(openssl(["pkey", "-in", j.keyFile, "-pubout"]).stdout).toBe(pub(j.certFile, ["x509"]));
  expect(psql(s.url, "SELECT count(*) FROM certificates WHERE name = 'dana'")).toBe("1");
  expect(psql(s.url, "SELECT count(*) FROM certificates WHERE coalesce(cert_pem, '') || coalesce(csr_pem, '') || coalesce(chain_pem, '') LIKE '%PRIVATE%'")).toBe("0");
  expect(psql(s.url, "SELECT cert_pem FROM certificates WHERE name = 'dana'") + "\n").toBe(fs.readFileSync(j.certFile, "utf8"));
  // again: refused (the name exists), nothing written; the key file exists: refused before the passphrase
  const again = mtls(["client", "issue", "dana", "--email", "dana@example.com", "--out-dir", tmpDir()], { cwd: s.cwd, env: s.env });
  expect(again.code).toBe(3);
  expect(again.stderr).toMatch(/"dana" already exists/);
  // no passphrase and no terminal: refused, nothing written
  const noPass = mtls(["client", "issue", "erin", "--out-dir", out], { cwd: s.cwd, env: { MTLSCTL_DB: s.url } });
  expect(noPass.code).toBe(2);
  expect(noPass.stderr).toMatch(/CA passphrase is needed/);
  expect(fs.readdirSync(out).sort()).toEqual(["dana.crt", "dana.key"]);
  // the key file exists: refused before the passphrase
  fs.writeFileSync(path.join(out, "erin.key"), "x");
  const keyThere = mtls(["client", "issue", "erin", "--out-dir", out], { cwd: s.cwd, env: { MTLSCTL_DB: s.url } });
  expect(keyThere.code).toBe(3);
  expect(keyThere.stderr).toMatch(/erin\.key: already exists/);
  expect(psql(s.url, "SELECT count(*) FROM certificates WHERE name = 'erin'")).toBe("0");
  // --force: a new certificate, the old one superseded (as on the file store)
  mtlsOk(["client", "issue", "dana", "--email", "dana@example.com", "--out-dir", out, "--force"], { cwd: s.cwd, env: s.env });
  const rows = JSON.parse(mtlsOk(["list", "--json"], { cwd: s.cwd, env: s.env }).stdout).filter((r: { name: string }) => r.name === "dana");
  expect(rows.map((r: { status: string }) => r.status)).toEqual(["superseded", "valid"]);
  expect(rows[0].renewedBy).toBe(rows[1].serial);
});

test("crl --db: signed by the CA, numbers grow, revoked serials listed after a store copy; status --db reads it", () => {
  const s = makeStore({ name: "Crl CA" });
  mtlsOk(["client", "issue", "fred"], s);
  mtlsOk(["revoke", "fred", "--reason", "keyCompromise"], s);
  const url = freshDbUrl();
  mtlsOk(["store", "copy", "--from", s.dir, "--to", url], s);
  const env = { MTLSCTL_PASSPHRASE: "test-pass", MTLSCTL_DB: url };
  const a = JSON.parse(mtlsOk(["crl", "--json"], { cwd: s.cwd, env }).stdout);
  const b = JSON.parse(mtlsOk(["crl", "--json"], { cwd: s.cwd, env }).stdout);
  const fileCrl = JSON.parse(fs.readFileSync(path.join(s.dir, "inventory.json"), "utf8")).crl.number;
  expect([a.number, b.number]).toEqual([fileCrl + 1, fileCrl + 2]);
  expect(b.revoked.map((r: { reason: string }) => r.reason)).toEqual(["keyCompromise"]);
  const f = path.join(tmpDir(), "crl.pem");
  fs.writeFileSync(f, b.crl);
  const v = openssl(["crl", "-in", f, "-CAfile", path.join(s.dir, "ca.crt"), "-noout", "-text"]);
  expect(v.stdout + v.stderr).toMatch(/verify OK/);
  const st = JSON.parse(mtlsOk(["status", "--json"], { cwd: s.cwd, env }).stdout);
  expect(st.crl).toMatchObject({ number: b.number, revoked: 1, overdue: false });
});

test("8 CLI processes issuing at once, and CRLs signed meanwhile: no serial repeated, no row lost, CRL numbers only grow", async () => {
  const s = dbStore();
  const PROCS = 8;
  const EACH = 3;
  const out = tmpDir();
  const worker = async (k: number) => {
    const res = [];
    for (let i = 0; i < EACH; i++) res.push(await mtlsAsync(["client", "issue", `w${k}-${i}`, "--email", `w${k}-${i}@example.com`, "--out-dir", out, "--json"], s.env, s.cwd));
    return res;
  };
  const crls = async () => {
    const nums: number[] = [];
    for (let i = 0; i < 4; i++) {
      const r = await mtlsAsync(["crl", "--json"], s.env, s.cwd);
      expect(r.stderr).toBe("");
      nums.push(JSON.parse(r.stdout).number);
    }
    return nums;
  };
  const [issued, crlA, crlB] = await Promise.all([Promise.all(Array.from({ length: PROCS }, (_, k) => worker(k))), crls(), crls()]);
  const all = issued.flat();
  for (const r of all) expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: "" });
  const serials = all.map((r) => JSON.parse(r.stdout).serial as string);
  expect(new Set(serials).size).toBe(PROCS * EACH);
  // every answered certificate has its row, with its bytes; nothing else was added
  const rows = psql(s.url, "SELECT serial || ' ' || fingerprint FROM certificates ORDER BY seq").split("\n");
  expect(rows).toHaveLength(PROCS * EACH);
  expect(rows.map((l) => l.split(" ")[0]).sort()).toEqual([...serials].sort());
  for (const r of all) {
    const j = JSON.parse(r.stdout);
    expect(rows).toContain(`${j.serial} ${j.fingerprint}`);
    expect(fs.statSync(j.keyFile).mode & 0o777).toBe(0o600);
  }
  expect(psql(s.url, "SELECT count(*) FROM audit_events WHERE action = 'issue'")).toBe(String(PROCS * EACH));
  // each process saw its CRL numbers grow; no number was given twice; the store holds the highest
  for (const n of [crlA, crlB]) expect([...n].sort((x, y) => x - y)).toEqual(n);
  expect(new Set([...crlA, ...crlB]).size).toBe(8);
  expect(Number(psql(s.url, "SELECT number FROM crl_state"))).toBe(Math.max(...crlA, ...crlB));
  // and the file store's list of the same database agrees after a copy back
  const back = path.join(tmpDir(), "pki");
  mtlsOk(["store", "copy", "--from", s.url, "--to", back], { cwd: s.cwd });
  expect(JSON.parse(mtlsOk(["--dir", back, "list", "--json"], { cwd: s.cwd }).stdout)).toEqual(JSON.parse(mtlsOk(["list", "--json"], { cwd: s.cwd, env: s.env }).stdout));
});

test("revoke --db: by name (with the superseded one) and by --serial; the CRL it signs lists them; refusals change nothing", () => {
  const s = dbStore();
  const out = tmpDir();
  const run = (args: string[]) => mtlsOk([...args, "--json"], { cwd: s.cwd, env: s.env });
  run(["client", "issue", "hank", "--out-dir", out]);
  run(["client", "issue", "hank", "--out-dir", out, "--force"]);
  const ivy = JSON.parse(run(["client", "issue", "ivy", "--out-dir", out]).stdout);
  const missing = mtls(["revoke", "nobody"], { cwd: s.cwd, env: { MTLSCTL_DB: s.url } });
  expect([missing.code, missing.stderr]).toEqual([3, expect.stringMatching(/no certificate named "nobody"/)]); // before the passphrase
  const r = JSON.parse(run(["revoke", "hank", "--reason", "keyCompromise"]).stdout);
  expect(r.revoked.map((x: { name: string }) => x.name)).toEqual(["hank", "hank"]);
  const r2 = JSON.parse(run(["revoke", "--serial", ivy.serial]).stdout);
  expect(r2.crl.number).toBe(r.crl.number + 1);
  expect(r2.crl.revoked).toBe(3);
  const again = mtls(["revoke", "--serial", ivy.serial], { cwd: s.cwd, env: s.env });
  expect([again.code, again.stderr]).toEqual([3, expect.stringMatching(/already revoked/)]);
  const st = JSON.parse(mtlsOk(["status", "--json"], { cwd: s.cwd, env: s.env }).stdout);
  expect(st.counts).toEqual({ valid: 0, revoked: 3, superseded: 0 });
  expect(st.crl).toMatchObject({ number: r2.crl.number, revoked: 3 });
});
