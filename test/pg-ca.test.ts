/**
 * Issue 19: the CA's own commands on a PostgreSQL store — ca passphrase (the ca row's key, and the
 * previous CAs' rows, re-encrypted with the store's KDF; a wrong old passphrase changes nothing), ca
 * retire (after a rollover made on a file store and copied) and ca sign (a sub-CA recorded in the
 * database) — against the file store's results for the same inputs; and the commands that stay
 * refused on a database: one line naming the command, exit 2, nothing written.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { execFileSync } from "node:child_process";
import { makeStore, mtls, mtlsOk, openssl, tmpDir } from "./helpers/cli";
import { dropAll, freshDbUrl, pgBase } from "./helpers/pg";
import { startNatsServer, stopAllNatsServers } from "./helpers/nats";

jest.setTimeout(120_000);

beforeAll(() => pgBase());
afterAll(() => {
  stopAllNatsServers();
  dropAll();
});

const psql = (url: string, sql: string): string => execFileSync("psql", [url, "-qAtc", sql], { encoding: "utf8", env: process.env }).trim();

function pair(o: { rollover?: boolean } = {}) {
  const s = makeStore({ name: "CA Care" });
  mtlsOk(["client", "issue", "alice", "--email", "alice@example.com"], s);
  if (o.rollover) {
    mtlsOk(["ca", "rollover"], s);
    mtlsOk(["client", "issue", "bob", "--email", "bob@example.com"], s);
  }
  const url = freshDbUrl();
  mtlsOk(["store", "copy", "--from", s.dir, "--to", url], s);
  const cwd = tmpDir();
  const dbEnv = { MTLSCTL_PASSPHRASE: "test-pass", MTLSCTL_DB: url, MTLSCTL_DIR: "" };
  return {
    s,
    url,
    cwd,
    file: (args: string[], env: Record<string, string> = {}) => mtls(args, { ...s, env: { ...s.env, ...env } }),
    db: (args: string[], env: Record<string, string> = {}) => mtls(args, { cwd, env: { ...dbEnv, ...env } }),
  };
}

const secret = (dir: string, name: string, value: string) => {
  const f = path.join(dir, name);
  fs.writeFileSync(f, value + "\n", { mode: 0o600 });
  return f;
};
/** The PBKDF2 iteration count of an encrypted PKCS#8 PEM (openssl asn1parse). */
const iterations = (pem: string): number => {
  const dir = tmpDir();
  fs.writeFileSync(path.join(dir, "k.pem"), pem);
  const out = openssl(["asn1parse", "-in", path.join(dir, "k.pem")]).stdout;
  return parseInt(/OCTET STRING\s+\[HEX DUMP\]:[0-9A-F]+\n.*INTEGER\s+:([0-9A-F]+)/.exec(out)![1], 16);
};

describe("ca passphrase --db", () => {
  test("a wrong old passphrase changes no row; the right one re-encrypts the CA key (and the previous CA's) with the store's KDF: the old passphrase is then refused, the new one signs", () => {
    const { s, url, cwd, file, db } = pair({ rollover: true });
    // a key as an older tool wrote it (2,048 PBKDF2 iterations), put into the row: passphrase re-wraps it with the store's KDF
    const plain = openssl(["pkey", "-in", path.join(s.dir, "private", "ca.key"), "-passin", "pass:test-pass"]).stdout;
    fs.writeFileSync(path.join(cwd, "plain.pem"), plain, { mode: 0o600 });
    const weak = openssl(["pkcs8", "-topk8", "-in", path.join(cwd, "plain.pem"), "-v2", "aes-256-cbc", "-iter", "2048", "-passout", "pass:test-pass"]).stdout;
    fs.rmSync(path.join(cwd, "plain.pem"));
    psql(url, `UPDATE ca SET key_pem = '${weak}' WHERE id = 1`);
    expect(iterations(psql(url, "SELECT key_pem FROM ca"))).toBe(2048);
    const rows = () => psql(url, "SELECT key_pem FROM ca UNION ALL SELECT key_pem FROM previous_cas");
    const before = rows();
    const auditBefore = psql(url, "SELECT count(*) FROM audit_events");
    const wrong = db(["ca", "passphrase", "--passphrase-file", secret(cwd, "bad.txt", "nope"), "--new-passphrase-file", secret(cwd, "new.txt", "new-pass")]);
    expect([wrong.code, wrong.stderr]).toEqual([3, expect.stringMatching(/^mtlsctl: postgres:\/\/\S+ \(CA key\): wrong passphrase.*\n$/)]);
    expect(rows()).toBe(before);
    expect(psql(url, "SELECT count(*) FROM audit_events")).toBe(auditBefore);

    // the right one: the same JSON as the file store's (locations aside), two rows re-encrypted
    const newFile = secret(cwd, "new.txt", "new-pass");
    const d = JSON.parse(db(["ca", "passphrase", "--new-passphrase-file", newFile, "--json"]).stdout);
    const f = JSON.parse(file(["ca", "passphrase", "--new-passphrase-file", newFile, "--json"]).stdout);
    const shape = (j: any) => ({ ...j, dir: null, keyFile: null, files: j.files.length });
    expect(shape(d)).toEqual(shape(f));
    expect(d.files).toEqual([`${url} (ca)`, expect.stringMatching(new RegExp(`^${url.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")} \\(previous CA [0-9a-f]+\\)$`))]);
    for (const pem of psql(url, "SELECT key_pem FROM ca UNION ALL SELECT key_pem FROM previous_cas").split(/\n(?=-----BEGIN)/)) {
      expect(pem).toMatch(/^-----BEGIN ENCRYPTED PRIVATE KEY-----/);
      expect(iterations(pem)).toBe(600_000); // the store's KDF (src/pki/keys.ts KEY_KDF), as the file store's own key
    }
    expect(iterations(fs.readFileSync(path.join(s.dir, "private", "ca.key"), "utf8"))).toBe(600_000);
    expect(psql(url, "SELECT action FROM audit_events ORDER BY id DESC LIMIT 1")).toBe("ca-passphrase");
    // the old passphrase no longer signs; the new one does
    const old = db(["client", "issue", "carol", "--out-dir", cwd]);
    expect(old.code).toBe(3);
    expect(fs.existsSync(path.join(cwd, "carol.crt"))).toBe(false);
    db(["client", "issue", "carol", "--out-dir", cwd], { MTLSCTL_PASSPHRASE: "new-pass" });
    expect(fs.existsSync(path.join(cwd, "carol.crt"))).toBe(true);
    // --no-encrypt: a plain PKCS#8 row, with a warning
    const plainRun = db(["ca", "passphrase", "--no-encrypt", "--json"], { MTLSCTL_PASSPHRASE: "new-pass" });
    expect(plainRun.code).toBe(0);
    expect(JSON.parse(plainRun.stdout).encrypted).toBe(false);
    expect(psql(url, "SELECT key_pem FROM ca")).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    expect(plainRun.stderr).toMatch(/the CA key is NOT encrypted/);
  });
});

describe("ca rollover --db", () => {
  test("the file store's result: a new CA row, the old one in previous_cas (overlap), both trusted, the old CA's records stamped; a wrong passphrase changes nothing; a copy back to a directory is the file store's layout", () => {
    const { s, url, cwd, file, db } = pair();
    const snapshot = () => psql(url, "SELECT md5(string_agg(x, '|')) FROM (SELECT record::text || cert_pem || key_pem AS x FROM ca UNION ALL SELECT record::text FROM certificates UNION ALL SELECT serial FROM previous_cas) t");
    const before = snapshot();
    const bad = db(["ca", "rollover"], { MTLSCTL_PASSPHRASE: "nope" });
    expect([bad.code, bad.stderr]).toEqual([3, expect.stringMatching(/\(CA key\): wrong passphrase/)]);
    expect(snapshot()).toBe(before);
    const d = db(["ca", "rollover", "--json"]);
    const f = file(["ca", "rollover", "--json"]);
    expect([d.code, f.code]).toEqual([0, 0]);
    const dj = JSON.parse(d.stdout);
    const fj = JSON.parse(f.stdout);
    const norm = (j: any) => ({
      ...j,
      dir: null,
      rootsFile: null,
      roots: j.roots.length,
      ca: { ...j.ca, serial: null, notBefore: null, notAfter: null, fingerprint: null, certFile: null, keyFile: null },
      previous: { ...j.previous, serial: null, certFile: null, keyFile: null },
      warnings: j.warnings.map((w: string) => w.replace(/[0-9a-f]{32}/g, "<serial>")),
    });
    expect(norm(dj)).toEqual(norm(fj));
    expect(dj.roots).toEqual([dj.ca.serial, dj.previous.serial]);
    expect(psql(url, "SELECT roots_pem FROM ca").match(/BEGIN CERTIFICATE/g)).toHaveLength(2);
    expect(psql(url, "SELECT record->>'caStatus' FROM previous_cas")).toBe("overlap");
    // export ca --format roots: the trust anchors as PEM (a server's ca_file): both CAs, the new one first; the file store's is its roots.pem
    const roots = db(["export", "ca", "--format", "roots"]).stdout;
    expect(roots).toBe(psql(url, "SELECT roots_pem FROM ca") + "\n");
    expect(roots.startsWith(psql(url, "SELECT cert_pem FROM ca"))).toBe(true);
    expect(file(["export", "ca", "--format", "roots"]).stdout).toBe(fs.readFileSync(path.join(s.dir, "roots.pem"), "utf8"));
    expect(db(["export", "alice", "--format", "roots"]).code).toBe(2);
    // what the old CA signed is stamped, as in the file store (the same list rows: "valid (overlap CA)")
    expect(psql(url, "SELECT string_agg(name || '=' || (record->>'caSerial'), ',') FROM certificates")).toBe(`alice=${dj.previous.serial}`);
    const rows = (j: any[]) => j.map((r) => ({ name: r.name, kind: r.kind, status: r.status, caStatus: r.caStatus }));
    expect(rows(JSON.parse(db(["list", "--json"]).stdout))).toEqual(rows(JSON.parse(file(["list", "--json"]).stdout)));
    // the new CA signs with the same passphrase; its leaf verifies against the new CA only
    db(["client", "issue", "zed", "--email", "zed@example.com", "--out-dir", cwd]);
    fs.writeFileSync(path.join(cwd, "new-ca.pem"), psql(url, "SELECT cert_pem FROM ca") + "\n");
    expect(openssl(["verify", "-CAfile", path.join(cwd, "new-ca.pem"), path.join(cwd, "zed.crt")]).stdout).toMatch(/: OK\n$/);
    // a copy back to a directory: the file store's rollover layout, retire works there
    const back = path.join(tmpDir(), "pki");
    mtlsOk(["store", "copy", "--from", url, "--to", back]);
    expect(fs.existsSync(path.join(back, "previous", `${dj.previous.serial}.crt`))).toBe(true);
    expect(fs.readFileSync(path.join(back, "roots.pem"), "utf8").match(/BEGIN CERTIFICATE/g)).toHaveLength(2);
    expect(mtls(["--dir", back, "ca", "retire", "--all-previous", "--json"], { env: { MTLSCTL_PASSPHRASE: "test-pass" } }).code).toBe(0);
  });
});

describe("a rollover on a database store in a real nats-server", () => {
  test("during the overlap the old CA's client and the new CA's are both let in; after ca retire --db the old one is refused, the new one still let in", async () => {
    const { s, cwd, db } = pair();
    const env = (args: string[]) => {
      const r = db(args);
      if (r.code !== 0) throw new Error(`mtlsctl ${args.join(" ")} exited ${r.code}: ${r.stderr}`);
      return r;
    };
    env(["ca", "rollover"]);
    env(["client", "issue", "zed", "--email", "zed@example.com", "--out-dir", cwd]);
    env(["server", "issue", "nats1", "--dns", "localhost", "--ip", "127.0.0.1", "--out-dir", cwd]);
    const roots = path.join(cwd, "roots.pem");
    const conf = path.join(cwd, "mtls.conf");
    const serve = async () => {
      env(["export", "ca", "--format", "roots", "--out", roots, "--force"]);
      env(["config", "nats", "--ca-file", roots, "--cert-file", path.join(cwd, "nats1.crt"), "--key-file", path.join(cwd, "nats1.key"), "--out", conf, "--force"]);
      return startNatsServer(conf);
    };
    // alice: issued by the old CA before the copy (her pair is in the source directory)
    const alice = [path.join(s.dir, "issued", "alice.crt"), path.join(s.dir, "private", "alice.key")] as const;
    const zed = [path.join(cwd, "zed.crt"), path.join(cwd, "zed.key")] as const;
    let server = await serve();
    expect(await server.connectAs(alice[0], alice[1], roots)).toMatchObject({ ok: true, user: "alice@example.com" });
    expect(await server.connectAs(zed[0], zed[1], roots)).toMatchObject({ ok: true, user: "zed@example.com" });
    await server.stop();
    env(["ca", "retire", "--all-previous"]);
    server = await serve();
    expect(await server.connectAs(alice[0], alice[1], roots)).toMatchObject({ ok: false });
    expect(await server.connectAs(zed[0], zed[1], roots)).toMatchObject({ ok: true, user: "zed@example.com" });
    await server.stop();
  });
});

describe("ca retire --db", () => {
  test("after a rollover (copied from a directory): the file store's result; the roots row keeps only the current CA; the same refusals", () => {
    const { url, file, db } = pair({ rollover: true });
    const prev = psql(url, "SELECT serial FROM previous_cas");
    const norm = (j: any) => ({ ...j, dir: null, rootsFile: null, retired: j.retired.map((r: any) => ({ ...r, retiredAt: null })), warnings: j.warnings.map((w: string) => w.replace(/roots\.pem|their CA file/, "<ca file>")) });
    // refusals first: the same exit codes, nothing changed
    for (const args of [["ca", "retire"], ["ca", "retire", "abcdef"], ["ca", "retire", psql(url, "SELECT record->>'serial' FROM ca")], ["ca", "retire", prev, "--all-previous"]]) {
      const f = file(args);
      const d = db(args);
      expect([args.join(" "), d.code, d.stderr.replace(/^mtlsctl: postgres:\/\/\S+: /, "mtlsctl: ")]).toEqual([args.join(" "), f.code, f.stderr.replace(/^mtlsctl: \S+: /, "mtlsctl: ")]);
      expect(d.code).toBe(3);
    }
    expect(psql(url, "SELECT record->>'caStatus' FROM previous_cas")).toBe("overlap");
    expect(psql(url, "SELECT roots_pem FROM ca").match(/BEGIN CERTIFICATE/g)).toHaveLength(2);
    const d = JSON.parse(db(["ca", "retire", prev, "--json"]).stdout);
    const f = JSON.parse(file(["ca", "retire", prev, "--json"]).stdout);
    expect(norm(d)).toEqual(norm(f));
    expect(d.stranded.map((c: any) => c.name)).toEqual(["alice"]);
    expect(psql(url, "SELECT record->>'caStatus' FROM previous_cas")).toBe("retired");
    expect(psql(url, "SELECT roots_pem FROM ca")).toBe(psql(url, "SELECT cert_pem FROM ca"));
    expect(db(["export", "ca", "--format", "roots"]).stdout.match(/BEGIN CERTIFICATE/g)).toHaveLength(1);
    // the trust anchors the database now gives (export ca --format truststore reads them): the current CA alone
    expect(JSON.parse(db(["ca", "show", "--json"]).stdout).previous?.[0]?.caStatus ?? "retired").toBe("retired");
    const again = db(["ca", "retire", "--all-previous"]);
    expect([again.code, again.stderr]).toEqual([3, expect.stringMatching(/no previous CA is in overlap: nothing to retire\n$/)]);
  });
});

describe("ca sign --db", () => {
  test("a sub-CA's request signed by the database's CA: the file store's JSON; recorded in the rows (list); the certificate chains to the CA", () => {
    const { s, url, cwd, file, db } = pair();
    const sub = tmpDir();
    mtlsOk(["--dir", path.join(sub, "pki"), "ca", "init", "--intermediate", "--name", "Team CA", "--csr-out", path.join(sub, "team.csr")], { cwd: sub, env: { MTLSCTL_PASSPHRASE: "sub-pass" } });
    const csr = path.join(sub, "team.csr");
    const norm = (j: any) => ({ ...j, serial: null, notBefore: null, notAfter: null, fingerprint: null, out: path.basename(j.out), certFile: path.basename(String(j.certFile).replace(/\)$/, "")), rootFile: null, chainFile: null });
    const d = JSON.parse(db(["ca", "sign", csr, "--path-len", "0", "--out", path.join(cwd, "team.crt"), "--json"]).stdout);
    const f = JSON.parse(file(["ca", "sign", csr, "--path-len", "0", "--out", path.join(s.cwd, "team.crt"), "--json"]).stdout);
    expect(norm(d)).toEqual(norm(f));
    expect(d.pathLen).toBe(0);
    expect(openssl(["verify", "-CAfile", path.join(s.dir, "ca.crt"), path.join(cwd, "team.crt")]).stdout).toMatch(/: OK\n$/);
    // recorded: list shows it as the file store's does (kind ca, profile sub-ca)
    const row = (rows: any[]) => rows.filter((r) => r.name === d.name).map((r) => ({ ...r, serial: null, notBefore: null, notAfter: null, fingerprint: null, daysLeft: null }));
    expect(row(JSON.parse(db(["list", "--json"]).stdout))).toEqual(row(JSON.parse(file(["list", "--json"]).stdout)));
    expect(psql(url, `SELECT kind || ' ' || profile FROM certificates WHERE name = '${d.name}'`)).toBe("ca sub-ca");
    // again: exists (refused before the passphrase: none is given), nothing written
    const again = db(["ca", "sign", csr, "--out", path.join(cwd, "again.crt")], { MTLSCTL_PASSPHRASE: "" });
    expect([again.code, again.stderr]).toEqual([3, expect.stringMatching(/already exists \(serial [0-9a-f]+; use --force to replace it\)\n$/)]);
    expect(fs.existsSync(path.join(cwd, "again.crt"))).toBe(false);
  });
});

describe("ca init --intermediate --root-dir --db", () => {
  test("the root's directory signs now, the sub-CA is the database's CA: its leaves chain to the root; the root records it as a file-store intermediate is recorded", () => {
    const root = makeStore({ name: "Root CA" });
    const url = freshDbUrl();
    const cwd = tmpDir();
    const env = { MTLSCTL_PASSPHRASE: "sub-pass", MTLSCTL_ROOT_PASSPHRASE: "test-pass", MTLSCTL_DB: url, MTLSCTL_DIR: "" };
    const j = JSON.parse(mtlsOk(["ca", "init", "--intermediate", "--root-dir", root.dir, "--name", "Team CA", "--json"], { cwd, env }).stdout);
    expect(j).toMatchObject({ intermediate: true, issuer: "CN=Root CA", recordedAs: "Team-CA", dir: url, chainFile: `${url} (ca chain)`, rootsFile: `${url} (ca roots)` });
    // the same JSON fields as a file-store intermediate made the same way
    const other = tmpDir();
    const f = JSON.parse(mtlsOk(["--dir", path.join(other, "pki"), "ca", "init", "--intermediate", "--root-dir", root.dir, "--name", "Team CA 2", "--json"], { cwd: other, env: { MTLSCTL_PASSPHRASE: "sub-pass", MTLSCTL_ROOT_PASSPHRASE: "test-pass" } }).stdout);
    expect(Object.keys(j).sort()).toEqual(Object.keys(f).sort());
    // the root's inventory records the sub-CA (kind ca)
    expect(JSON.parse(mtlsOk(["list", "--json"], root).stdout).filter((r: any) => r.name === "Team-CA").map((r: any) => r.kind)).toEqual(["ca"]);
    // a leaf issued by the database chains to the root through the sub-CA
    mtlsOk(["client", "issue", "zed", "--email", "zed@example.com", "--out-dir", cwd], { cwd, env });
    fs.writeFileSync(path.join(cwd, "sub.pem"), mtlsOk(["export", "ca"], { cwd, env }).stdout);
    expect(openssl(["verify", "-CAfile", path.join(root.dir, "ca.crt"), "-untrusted", path.join(cwd, "sub.pem"), path.join(cwd, "zed.crt")]).stdout).toMatch(/: OK\n$/);
    // a wrong root passphrase: nothing in the database, nothing recorded by the root
    const url2 = freshDbUrl();
    const bad = mtls(["ca", "init", "--intermediate", "--root-dir", root.dir, "--name", "Team CA 3"], { cwd, env: { ...env, MTLSCTL_DB: url2, MTLSCTL_ROOT_PASSPHRASE: "nope" } });
    expect(bad.code).toBe(3);
    expect(psql(url2, "SELECT to_regclass('ca') IS NULL")).toBe("t");
    expect(JSON.parse(mtlsOk(["list", "--json"], root).stdout).some((r: any) => /^Team-CA-3/.test(r.name))).toBe(false);
  });
});

describe("ca import --db", () => {
  test("an existing CA into an empty database: the file store's JSON (locations aside), the key re-encrypted in the row; a database that holds a store is refused before any passphrase", () => {
    const src = makeStore({ name: "Imported CA" });
    const crt = path.join(src.dir, "ca.crt");
    const key = path.join(src.dir, "private", "ca.key");
    const url = freshDbUrl();
    const cwd = tmpDir();
    const env = { MTLSCTL_PASSPHRASE: "db-pass", MTLSCTL_KEY_PASSPHRASE: "test-pass", MTLSCTL_DB: url, MTLSCTL_DIR: "" };
    const d = JSON.parse(mtlsOk(["ca", "import", crt, key, "--json"], { cwd, env }).stdout);
    const f = JSON.parse(mtlsOk(["--dir", path.join(cwd, "pki"), "ca", "import", crt, key, "--json"], { cwd, env: { MTLSCTL_PASSPHRASE: "db-pass", MTLSCTL_KEY_PASSPHRASE: "test-pass" } }).stdout);
    const at = (j: any) => ({ ...j, dir: null, certFile: null, keyFile: null });
    expect(at(d)).toEqual(at(f));
    expect([d.dir, d.certFile, d.keyFile]).toEqual([url, url, url]);
    expect(psql(url, "SELECT cert_pem FROM ca")).toBe(fs.readFileSync(crt, "utf8").trim());
    // the row's key opens with the new passphrase (the database's), not the old one
    const issued = mtls(["client", "issue", "zed", "--out-dir", cwd], { cwd, env });
    expect(issued.code).toBe(0);
    expect(mtls(["client", "issue", "zed2", "--out-dir", cwd], { cwd, env: { ...env, MTLSCTL_PASSPHRASE: "test-pass" } }).code).toBe(3);
    // again: the database holds a store; no passphrase is asked for (none given), nothing changed
    const before = psql(url, "SELECT md5(key_pem) FROM ca");
    const again = mtls(["ca", "import", crt, key], { cwd, env: { MTLSCTL_DB: url, MTLSCTL_DIR: "" } });
    expect([again.code, again.stderr]).toEqual([3, `mtlsctl: ${url}: the database already holds a store: ca import --db needs an empty one\n`]);
    expect(psql(url, "SELECT md5(key_pem) FROM ca")).toBe(before);
    expect(mtls(["ca", "import", crt, key, "--force"], { cwd, env }).code).toBe(2);
    // no temporary directory left behind
    expect(fs.readdirSync(require("node:os").tmpdir()).filter((n) => n.startsWith("mtlsctl-import-"))).toEqual([]);
  });
});

describe("a pending intermediate on a database: ca init --intermediate --csr-out --db, then ca install --db", () => {
  test("the key and request in the pending row, the request signed by the root's directory, installed as the database's CA; its leaves chain to the root; refusals change nothing", () => {
    const root = makeStore({ name: "Offline Root" });
    const url = freshDbUrl();
    const cwd = tmpDir();
    const env = { MTLSCTL_PASSPHRASE: "sub-pass", MTLSCTL_DB: url, MTLSCTL_DIR: "" };
    const csr = path.join(cwd, "team.csr");
    const j = JSON.parse(mtlsOk(["ca", "init", "--intermediate", "--csr-out", csr, "--name", "Pending Team CA", "--json"], { cwd, env }).stdout);
    expect(j).toMatchObject({ dir: url, pending: true, subject: "CN=Pending Team CA", csrFile: csr, keyFile: url, encrypted: true });
    // the same JSON fields as a pending file store
    const other = tmpDir();
    const f = JSON.parse(mtlsOk(["--dir", path.join(other, "pki"), "ca", "init", "--intermediate", "--csr-out", path.join(other, "x.csr"), "--name", "Other", "--json"], { cwd: other, env: { MTLSCTL_PASSPHRASE: "sub-pass" } }).stdout);
    expect(Object.keys(j).sort()).toEqual(Object.keys(f).sort());
    expect(psql(url, "SELECT key_pem LIKE '-----BEGIN ENCRYPTED PRIVATE KEY-----%' FROM pending_ca")).toBe("t");
    expect(psql(url, "SELECT count(*) FROM ca")).toBe("0");
    // while pending: every other command says so; a second ca init is refused
    const list = mtls(["list"], { cwd, env });
    expect([list.code, list.stderr]).toEqual([3, `mtlsctl: ${url}: the database holds no CA (run \`mtlsctl store copy --from DIR --to URL\`; a pending intermediate is completed by \`mtlsctl ca install --db\`)\n`]);
    expect(mtls(["ca", "init", "--name", "Again"], { cwd, env }).code).toBe(3);
    // the root signs on its machine
    const crt = path.join(cwd, "team.crt");
    mtlsOk(["ca", "sign", csr, "--path-len", "0", "--out", crt], root);
    const rootCrt = path.join(root.dir, "ca.crt");
    // a certificate for another key (the other pending store's request) is refused; nothing changes
    const wrong = path.join(cwd, "wrong.crt");
    mtlsOk(["ca", "sign", path.join(other, "x.csr"), "--out", wrong], root);
    const before = psql(url, "SELECT md5(key_pem || csr_pem) FROM pending_ca");
    const r = mtls(["ca", "install", wrong, "--root", rootCrt], { cwd, env });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/not for this store's key/);
    expect(psql(url, "SELECT md5(key_pem || csr_pem) FROM pending_ca")).toBe(before);
    // installed: the ca row, no pending row, the file store's JSON keys
    const inst = JSON.parse(mtlsOk(["ca", "install", crt, "--root", rootCrt, "--json"], { cwd, env }).stdout);
    expect(inst).toMatchObject({ dir: url, subject: "CN=Pending Team CA", issuer: "CN=Offline Root", root: "CN=Offline Root", pathLen: 0 });
    expect(psql(url, "SELECT (SELECT count(*) FROM ca) || ' ' || (SELECT count(*) FROM pending_ca)")).toBe("1 0");
    // (the file store installs the certificate the database refused: it is for that store's key)
    const fi = JSON.parse(mtlsOk(["--dir", path.join(other, "pki"), "ca", "install", wrong, "--root", rootCrt, "--json"], { cwd: other, env: { MTLSCTL_PASSPHRASE: "sub-pass" } }).stdout);
    expect(Object.keys(inst).sort()).toEqual(Object.keys(fi).sort());
    // a leaf issued by the database chains to the root through the installed CA (its key: the pending one)
    mtlsOk(["client", "issue", "zed", "--email", "zed@example.com", "--out-dir", cwd], { cwd, env });
    expect(openssl(["verify", "-CAfile", rootCrt, "-untrusted", crt, path.join(cwd, "zed.crt")]).stdout).toMatch(/: OK\n$/);
    // installed once: again is refused
    const again = mtls(["ca", "install", crt, "--root", rootCrt], { cwd, env });
    expect([again.code, again.stderr]).toEqual([3, `mtlsctl: ${url}: this database already has its CA certificate (nothing is pending)\n`]);
    // no temporary directory left behind
    expect(fs.readdirSync(require("node:os").tmpdir()).filter((n) => /^mtlsctl-(pending|install)-/.test(n))).toEqual([]);
  });

  test("on a database that holds a store: ca init --intermediate --csr-out is refused before any passphrase, exit 3, no request written", () => {
    const { url, cwd, db } = pair();
    const before = psql(url, "SELECT (SELECT count(*) FROM certificates) || ' ' || md5((SELECT key_pem FROM ca))");
    const r = db(["ca", "init", "--intermediate", "--csr-out", path.join(cwd, "x.csr")], { MTLSCTL_PASSPHRASE: "" });
    expect([r.code, r.stderr]).toEqual([3, `mtlsctl: ${url}: the database already holds a store: ca init --db needs an empty one\n`]);
    expect(fs.existsSync(path.join(cwd, "x.csr"))).toBe(false);
    expect(psql(url, "SELECT (SELECT count(*) FROM certificates) || ' ' || md5((SELECT key_pem FROM ca))")).toBe(before);
  });
});
