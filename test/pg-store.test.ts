/**
 * The PostgreSQL store from the CLI (issue 19): --db / MTLSCTL_DB resolution, `store migrate`,
 * `store copy` both ways (counts, SHA-256 fingerprints, a failed copy leaves the target empty), the
 * refusals (a newer schema, an unreachable database), on a real PostgreSQL (scripts/postgres.sh).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { execFileSync } from "node:child_process";
import { spawnSync } from "node:child_process";
import { BIN, hashTree, makeStore, mtls, mtlsOk, tmpDir } from "./helpers/cli";
import { dropAll, freshDbUrl, pgBase } from "./helpers/pg";

jest.setTimeout(120_000);

beforeAll(() => pgBase());
afterAll(() => dropAll());

const psql = (url: string, sql: string): string => execFileSync("psql", [url, "-qAtc", sql], { encoding: "utf8", env: process.env }).trim();

/** A file store with a few certificates: issued, revoked (with a CRL), renewed, a server, an NKey. */
function populated() {
  const s = makeStore({ name: "Copy CA" });
  mtlsOk(["client", "issue", "alice", "--email", "alice@example.com"], s);
  mtlsOk(["client", "issue", "bob", "--email", "bob@example.com", "--account", "APP"], s);
  mtlsOk(["server", "issue", "nats1", "--dns", "nats1.example.com"], s);
  mtlsOk(["revoke", "bob", "--reason", "keyCompromise"], s);
  mtlsOk(["renew", "alice"], s);
  mtlsOk(["nkey", "create", "svc"], s);
  return s;
}

describe("--db and --dir: one store", () => {
  test("--db with --dir, or MTLSCTL_DB with MTLSCTL_DIR, is a usage error (exit 2); a flag beats the environment", () => {
    const s = makeStore();
    const url = "postgres://nobody@127.0.0.1:1/none";
    const both = mtls(["--db", url, "--dir", s.dir, "list"], s);
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/^mtlsctl: --db and --dir name two stores: give one\n$/);
    const envBoth = mtls(["list"], { ...s, env: { ...s.env, MTLSCTL_DB: url } });
    expect(envBoth.code).toBe(2);
    expect(envBoth.stderr).toMatch(/MTLSCTL_DB and MTLSCTL_DIR are both set/);
    // --dir beats MTLSCTL_DB: the file store answers
    expect(mtls(["--dir", s.dir, "list", "--json"], { ...s, env: { ...s.env, MTLSCTL_DB: url } }).code).toBe(0);
    // not a URL
    const bad = mtls(["--db", "mysql://x/y", "store", "migrate"], s);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--db takes a PostgreSQL URL/);
  });
});

describe("store migrate", () => {
  test("creates the schema on an empty database, then is up to date; a newer schema is refused by every command", () => {
    const url = freshDbUrl();
    const a = JSON.parse(mtlsOk(["--db", url, "store", "migrate", "--json"]).stdout);
    expect(a).toEqual({ database: url, from: 0, to: 3 });
    expect(mtlsOk(["--db", url, "store", "migrate"]).stdout).toMatch(/schema version 3, up to date/);
    expect(psql(url, "SELECT string_agg(tablename, ',' ORDER BY tablename) FROM pg_tables WHERE schemaname = 'public'")).toBe(
      "audit_events,ca,certificates,crl_state,nkeys,pending_ca,previous_cas,schema_version,tokens",
    );
    psql(url, "UPDATE schema_version SET version = 99");
    for (const args of [["store", "migrate"], ["list"]]) {
      const r = mtls(["--db", url, ...args]);
      expect(r.code).toBe(3);
      expect(r.stderr).toMatch(/schema is version 99, newer than this mtlsctl knows \(3\): upgrade mtlsctl\n$/);
      expect(r.stderr.split("\n")).toHaveLength(2);
    }
  });

  test("an unreachable database: one line, exit 3; a wrong password is never printed", () => {
    const r = mtls(["--db", "postgres://mtlsctl@127.0.0.1:1/nothing", "store", "migrate"]);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/^mtlsctl: postgres:\/\/mtlsctl@127\.0\.0\.1:1\/nothing: cannot use the database: .*ECONNREFUSED.*\n$/);
    const dir = tmpDir();
    const pw = path.join(dir, "pw");
    fs.writeFileSync(pw, "S3cret-never-shown\n", { mode: 0o600 });
    const w = mtls(["--db", pgBase(), "--db-password-file", pw, "store", "migrate", "--json"], { env: { PGPASSFILE: "/nonexistent" } });
    expect(w.code).toBe(3);
    expect(w.stderr).toMatch(/password authentication failed/);
    expect(w.stderr + w.stdout).not.toMatch(/S3cret/);
    // in the URL too: the message shows the URL without it
    const u = new URL(pgBase());
    u.password = "S3cret-in-url";
    u.port = "1";
    const x = mtls(["--db", u.toString(), "store", "migrate"]);
    expect(x.code).toBe(3);
    expect(x.stderr).not.toMatch(/S3cret/);
  });
});

describe("the database password, each of libpq's ways (the role has a scram-sha-256 password)", () => {
  test("--db-password-file, PGPASSWORD and PGPASSFILE each log in; without any the login is refused", () => {
    const url = freshDbUrl();
    const passfile = process.env.PGPASSFILE!;
    const password = fs.readFileSync(passfile, "utf8").trim().split("\n")[0].split(":").slice(4).join(":");
    expect(password.length).toBeGreaterThan(8);
    const dir = tmpDir();
    const pw = path.join(dir, "pw");
    fs.writeFileSync(pw, password + "\n", { mode: 0o600 });
    const none = { PGPASSFILE: "/nonexistent", PGPASSWORD: undefined };
    const refused = mtls(["--db", url, "store", "migrate", "--json"], { env: none });
    expect(refused.code).toBe(3);
    // one line naming the ways to give it (not pg's "SASL: ... must be a non-empty string")
    expect(refused.stderr).toMatch(/^mtlsctl: postgres:\/\/\S+: the database asks for a password and none was given \(--db-password-file, PGPASSWORD, or a PGPASSFILE/);
    expect(refused.stderr.trim().split("\n")).toHaveLength(1);
    const byFile = mtls(["--db", url, "--db-password-file", pw, "store", "migrate", "--json"], { env: none });
    expect([byFile.code, byFile.stderr]).toEqual([0, ""]);
    expect(JSON.parse(byFile.stdout)).toEqual({ database: url, from: 0, to: 3 });
    const byEnv = mtls(["--db", url, "store", "migrate", "--json"], { env: { PGPASSFILE: "/nonexistent", PGPASSWORD: password } });
    expect([byEnv.code, byEnv.stderr]).toEqual([0, ""]);
    expect(JSON.parse(byEnv.stdout)).toEqual({ database: url, from: 3, to: 3 });
    const byPassfile = mtls(["--db", url, "store", "migrate", "--json"], { env: { PGPASSFILE: passfile, PGPASSWORD: undefined } });
    expect([byPassfile.code, byPassfile.stderr]).toEqual([0, ""]);
    // the flag beats the environment: a wrong PGPASSWORD does not matter when the file is right
    // (store migrate: the database holds a schema but no CA yet, which list would refuse, exit 3)
    const flagWins = mtls(["--db", url, "--db-password-file", pw, "store", "migrate", "--json"], { env: { PGPASSFILE: "/nonexistent", PGPASSWORD: "wrong-one" } });
    expect([flagWins.code, flagWins.stderr]).toEqual([0, ""]);
    // and the wrong PGPASSWORD alone is refused (so the flag is what logged in above)
    const wrong = mtls(["--db", url, "store", "migrate", "--json"], { env: { PGPASSFILE: "/nonexistent", PGPASSWORD: "wrong-one" } });
    expect(wrong.code).toBe(3);
    expect(wrong.stderr).toMatch(/password/);
  });
});

describe("store copy", () => {
  test("directory -> database -> directory: the same records (list --json), counts and SHA-256; leaf keys stay in the source", () => {
    const s = populated();
    const url = freshDbUrl();
    const to = JSON.parse(mtlsOk(["store", "copy", "--from", s.dir, "--to", url, "--json"], s).stdout);
    const inv = JSON.parse(mtlsOk(["list", "--json"], s).stdout) as { name: string; kind: string }[];
    const certs = inv.filter((r) => r.kind !== "ca" && r.kind !== "nkey");
    expect(to).toMatchObject({ from: s.dir, to: url, certificates: certs.length, withPem: certs.length, nkeys: 1, auditEvents: expect.any(Number) });
    expect(to.keysLeft.sort()).toEqual(
      [...fs.readdirSync(path.join(s.dir, "private")).filter((f) => f !== "ca.key").map((f) => path.join(s.dir, "private", f)), path.join(s.dir, "nkeys", "svc.nk")].sort(),
    );
    // no private key in any row
    expect(psql(url, "SELECT count(*) FROM certificates WHERE cert_pem LIKE '%PRIVATE KEY%' OR csr_pem LIKE '%PRIVATE KEY%'")).toBe("0");
    expect(psql(url, "SELECT count(*) FROM certificates")).toBe(String(certs.length));
    expect(psql(url, "SELECT key_pem LIKE '-----BEGIN ENCRYPTED PRIVATE KEY-----%' FROM ca")).toBe("t");
    // and back
    const back = path.join(tmpDir(), "pki-back");
    const from = JSON.parse(mtlsOk(["store", "copy", "--from", url, "--to", back, "--json"], s).stdout);
    expect(from).toMatchObject({ certificates: to.certificates, digest: to.digest, nkeys: 1, auditEvents: to.auditEvents });
    // list and status: the same JSON from the directory, the database and the copy back (but where a
    // seed file is: absolute in a directory, as recorded in a database; and status's own time)
    const list = (args: string[]) => JSON.parse(mtlsOk([...args, "list", "--json"], s).stdout).map((r: { seedFile?: string }) => (r.seedFile ? { ...r, seedFile: path.basename(r.seedFile) } : r));
    const status = (args: string[]) => ({ ...JSON.parse(mtlsOk([...args, "status", "--json"], s).stdout), now: null });
    const want = list([]);
    expect(want.map((r: { name: string }) => r.name).sort()).toEqual(["alice", "alice", "bob", "ca", "nats1", "svc"]);
    expect(list(["--db", url])).toEqual(want);
    expect(list(["--dir", back])).toEqual(want);
    expect(status(["--db", url])).toEqual(status([]));
    expect(status(["--dir", back])).toEqual(status([]));
    for (const d of ["1", "400"]) expect(JSON.parse(mtlsOk(["--db", url, "list", "--json", "--expiring", d], s).stdout)).toEqual(JSON.parse(mtlsOk(["list", "--json", "--expiring", d], s).stdout));
    expect(mtlsOk(["--db", url, "list"], s).stdout).toBe(mtlsOk(["list"], s).stdout);
    // ca show: the same facts (its file names are the database's location there)
    const show = (args: string[]) => {
      const j = JSON.parse(mtlsOk([...args, "ca", "show", "--json"], s).stdout);
      expect(typeof j.certFile).toBe("string");
      return { ...j, certFile: null, chainFile: null, trustFile: null, previous: j.previous.map((p: object) => ({ ...p, certFile: null })) };
    };
    expect(show(["--db", url])).toEqual(show([]));
    expect(show(["--db", url])).toMatchObject({ subject: "CN=Copy CA", keyEncrypted: true, issued: 2 });
    // the certificates' bytes, the CA, the CRL and the audit log came back as they were
    const a = hashTree(s.dir);
    const b = hashTree(back);
    for (const f of Object.keys(a).filter((f) => /^(ca\.crt|crl\.pem|audit\.log|private\/ca\.key|issued\/.*|reqs\/.*|renewed\/.*\.crt)$/.test(f))) expect([f, b[f]]).toEqual([f, a[f]]);
    for (const f of Object.keys(b)) expect(f).not.toMatch(/^private\/(?!ca\.key$).|^nkeys\/./);
  });

  test("into a store that is not empty: refused, exit 3, nothing changed", () => {
    const s = populated();
    const url = freshDbUrl();
    mtlsOk(["store", "copy", "--from", s.dir, "--to", url], s);
    const before = psql(url, "SELECT count(*) FROM certificates") + psql(url, "SELECT count(*) FROM audit_events");
    const r = mtls(["store", "copy", "--from", s.dir, "--to", url], s);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/already holds a store/);
    expect(psql(url, "SELECT count(*) FROM certificates") + psql(url, "SELECT count(*) FROM audit_events")).toBe(before);
    const full = tmpDir();
    fs.writeFileSync(path.join(full, "x"), "");
    const d = mtls(["store", "copy", "--from", url, "--to", full], s);
    expect(d.code).toBe(3);
    expect(d.stderr).toMatch(/not empty/);
    expect(fs.readdirSync(full)).toEqual(["x"]);
  });

  test("a certificate whose bytes do not match its fingerprint: the copy fails and leaves the target empty, both ways", () => {
    const s = populated();
    const url = freshDbUrl();
    // bob's certificate file replaced by nats1's: a record whose bytes are not its own
    fs.copyFileSync(path.join(s.dir, "issued", "nats1.crt"), path.join(s.dir, "issued", "bob.crt"));
    const r = mtls(["store", "copy", "--from", s.dir, "--to", url], s);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/does not match its record's SHA-256 fingerprint: nothing was copied\n$/);
    for (const t of ["ca", "certificates", "audit_events", "nkeys", "tokens", "crl_state"]) expect([t, psql(url, `SELECT count(*) FROM ${t}`)]).toEqual([t, "0"]);
    // the other way: a row altered in the database
    const s2 = populated();
    const url2 = freshDbUrl();
    mtlsOk(["store", "copy", "--from", s2.dir, "--to", url2], s2);
    psql(url2, "UPDATE certificates SET cert_pem = (SELECT cert_pem FROM certificates WHERE name = 'nats1') WHERE name = 'bob'");
    const parent = tmpDir();
    const d = mtls(["store", "copy", "--from", url2, "--to", path.join(parent, "out")], s2);
    expect(d.code).toBe(3);
    expect(d.stderr).toMatch(/fingerprint/);
    expect(fs.readdirSync(parent)).toEqual([]);
  });

  test("both sides directories, or both databases: a usage error", () => {
    const s = makeStore();
    expect(mtls(["store", "copy", "--from", s.dir, "--to", path.join(tmpDir(), "x")], s).code).toBe(2);
  });
});

test("`pg` is loaded only when a database is named: file-store commands start as before", () => {
  const s = makeStore();
  const probe = path.join(tmpDir(), "probe.js");
  fs.writeFileSync(probe, `process.on("exit", () => require("fs").writeSync(2, "PG=" + Object.keys(require.cache).some((k) => /[\\/]node_modules[\\/]pg[\\/]/.test(k)) + "\\n"));`);
  const run = (args: string[], env: Record<string, string> = s.env) => spawnSync(process.execPath, ["-r", probe, BIN, ...args], { cwd: s.cwd, env: { ...process.env, ...env }, encoding: "utf8" });
  for (const args of [["list"], ["status"], ["client", "issue", "gus"], ["--help"]]) {
    const r = run(args);
    expect([args.join(" "), r.status, r.stderr.match(/PG=\w+/)?.[0]]).toEqual([args.join(" "), 0, "PG=false"]);
  }
  const url = freshDbUrl();
  mtlsOk(["store", "copy", "--from", s.dir, "--to", url], s);
  const r = run(["list"], { MTLSCTL_DB: url, MTLSCTL_DIR: "" });
  expect([r.status, r.stderr.match(/PG=\w+/)?.[0]]).toEqual([0, "PG=true"]);
});

test("ca init --db: a new CA on an empty database (schema made); refused on a database that holds one; nothing left on disk", () => {
  const url = freshDbUrl();
  const cwd = tmpDir();
  const env = { MTLSCTL_PASSPHRASE: "init-pass", MTLSCTL_DB: url };
  const j = JSON.parse(mtlsOk(["ca", "init", "--name", "Db CA", "--json"], { cwd, env }).stdout);
  expect(j).toMatchObject({ subject: "CN=Db CA", encrypted: true, certFile: url });
  expect(fs.readdirSync(cwd)).toEqual([]);
  const list = JSON.parse(mtlsOk(["list", "--json"], { cwd, env }).stdout);
  expect(list.map((r: { name: string; fingerprint: string }) => [r.name, r.fingerprint])).toEqual([["ca", j.fingerprint]]);
  const again = mtls(["ca", "init", "--name", "Other"], { cwd, env });
  expect([again.code, again.stderr]).toEqual([3, expect.stringMatching(/already holds a store/)]);
  expect(mtls(["ca", "init", "--name", "X", "--force"], { cwd, env }).code).toBe(2);
  mtlsOk(["client", "issue", "kai", "--out-dir", cwd], { cwd, env });
  expect(fs.readdirSync(cwd).sort()).toEqual(["kai.crt", "kai.key"]);
});
