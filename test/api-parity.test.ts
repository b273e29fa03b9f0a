/**
 * The library's answers are the CLI's `--json` answers: the same inputs through `require("mtlsctl")`
 * (dist/index.js) and through `mtlsctl ... --json` give equal objects: on a file store (--dir), and on a
 * database store (openStore("postgres://…") and --db, on a real PostgreSQL: test/helpers/pg.ts).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { execFileSync } from "node:child_process";
import { mtls, mtlsOk, openssl, ROOT, tmpDir } from "./helpers/cli";
import { dropAll, freshDbUrl, pgBase } from "./helpers/pg";
import type { DbCaStore, DbStoreOptions, PostgresUrl } from "../src/index";

// the built library, as a package user loads it
// eslint-disable-next-line @typescript-eslint/no-require-imports
const api = require(path.join(ROOT, "dist", "index.js")) as typeof import("../src/index");

const PASS = "parity-passphrase";
let dir: string;
let store: string;
let conf: string;
const env = () => ({ MTLSCTL_DIR: store, MTLSCTL_PASSPHRASE: PASS });
/** `mtlsctl ARGS --json`'s object; exit 0, or 1 (a negative answer: refused, or a finding). */
const cli = (args: string[]) => {
  const r = mtls([...args, "--json"], { env: env() });
  if (r.code > 1) throw new Error(`mtlsctl ${args.join(" ")} exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout);
};

/** What differs between two issuances of the same identity: serial, key, times, paths. */
const VARYING = ["serial", "fingerprint", "notBefore", "notAfter", "certFile", "keyFile", "csrFile", "name"];
const stable = (o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).filter(([k]) => !VARYING.includes(k)));

beforeAll(() => {
  dir = tmpDir("mtlsctl-parity-");
  store = path.join(dir, "pki");
  mtlsOk(["ca", "init", "--name", "Parity CA"], { env: env() });
  mtlsOk(["server", "issue", "nats1", "--dns", "localhost", "--ip", "127.0.0.1"], { env: env() });
  mtlsOk(["client", "issue", "alice", "--email", "alice@example.com"], { env: env() });
  mtlsOk(["client", "issue", "bob", "--subject", "CN=bob,OU=ops,O=Acme", "--allow-pub", "orders.>"], { env: env() });
  mtlsOk(["client", "issue", "twin", "--subject", "CN=bob,OU=ops,O=Acme", "--force"], { env: env() });
  conf = path.join(dir, "mtls.conf");
  mtlsOk(["config", "nats", "--out", conf], { env: env() });
});

test("verify: one object per certificate, equal to verify --json (accepted, refused, ambiguous, access questions)", () => {
  const certs = ["alice", "bob", "twin", "nats1"].map((n) => path.join(store, "issued", `${n}.crt`));
  const lines = mtls(["verify", ...certs, "--config", conf, "--server-version", "2.9.10", "--publish", "orders.new", "--json"], { env: env() }).stdout.trim().split("\n").map((l) => JSON.parse(l));
  expect(lines).toHaveLength(4);
  for (const [i, c] of certs.entries()) expect(api.verify({ config: conf, certificate: c, serverVersion: "2.9.10", publish: ["orders.new"] })).toEqual(lines[i]);
  expect(lines.map((l) => l.accepted)).toEqual([true, true, true, false]);
  // the config given as text, the certificate as bytes: the same verdict but for the `file` label
  const asText = api.verify({ config: fs.readFileSync(conf, "utf8"), certificate: fs.readFileSync(certs[0]), serverVersion: "2.9.10", publish: ["orders.new"] });
  expect({ ...asText, file: lines[0].file }).toEqual(lines[0]);
  expect(asText.file).toBe("<certificate>");
});

test("verify: a connect user and password, and a config the server refuses (code config, file and line)", () => {
  const pw = path.join(dir, "pw");
  fs.writeFileSync(pw, "secret\n", { mode: 0o600 });
  const cert = path.join(store, "issued", "alice.crt");
  const out = cli(["verify", cert, "--config", conf, "--server-version", "2.9.10", "--connect-user", "someone", "--connect-password-file", pw]);
  expect(api.verify({ config: conf, certificate: cert, serverVersion: "2.9.10", connectUser: "someone", connectPassword: "secret" })).toEqual(out);
  const bad = path.join(dir, "bad.conf");
  fs.writeFileSync(bad, "tls {\n  verify_and_map: 12\n}\n");
  const r = mtls(["verify", cert, "--config", bad, "--json"], { env: env() });
  expect(r.code).toBe(3);
  let err: unknown;
  try {
    api.verify({ config: bad, certificate: cert });
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(api.MtlsctlError);
  expect(err).toBeInstanceOf(api.ConfigError);
  expect((err as InstanceType<typeof api.ConfigError>).code).toBe("config");
  expect((err as InstanceType<typeof api.ConfigError>).file).toBe(bad);
  expect((err as InstanceType<typeof api.ConfigError>).line).toBe(2);
  expect(r.stderr).toContain((err as Error).message);
});

test("explain: equal to explain --json, with and without a config", () => {
  const cert = path.join(store, "issued", "bob.crt");
  expect(api.explain(cert, { dir: store, serverVersion: "2.9.10" })).toEqual(cli(["explain", cert, "--server-version", "2.9.10"]));
  expect(api.explain(cert, { dir: store, config: conf, serverVersion: "2.11.15", subscribe: ["orders.x"] })).toEqual(cli(["explain", cert, "--config", conf, "--server-version", "2.11.15", "--subscribe", "orders.x"]));
});

test("lint: equal to lint --json, alone and with the store's certificates", () => {
  expect(api.lint(conf, { serverVersion: "2.9.10" })).toEqual(cli(["lint", conf, "--server-version", "2.9.10"]));
  const withStore = api.lint(conf, { serverVersion: "2.9.10", store });
  expect(withStore).toEqual(cli(["lint", conf, "--store", "--server-version", "2.9.10"]));
  expect(withStore.certificates).toBe(3); // the client certificates
});

test("list and config nats: equal to list --json and the config nats text", async () => {
  const s = api.openStore(store);
  expect(JSON.parse(JSON.stringify(await s.list()))).toEqual(cli(["list"]));
  expect(await s.list({ expiringDays: 400 })).toHaveLength(4); // the CA (ten years) is not expiring
  // equal but for the time in the header line
  const header = /^# Generated by mtlsctl \S+ on \S+/;
  expect((await s.natsConfig()).replace(header, "")).toBe(mtlsOk(["config", "nats"], { env: env() }).stdout.replace(header, ""));
});

test("issueClient, issueServer, signCsr, revoke and crl: the commands' --json objects", async () => {
  const other = api.openStore(path.join(dir, "api-store"));
  const init = await other.initCa({ name: "Parity CA", passphrase: PASS });
  const cliInit = JSON.parse(mtlsOk(["ca", "init", "--name", "Parity CA", "--dir", path.join(dir, "cli-store"), "--json"], { env: { MTLSCTL_PASSPHRASE: PASS } }).stdout);
  expect(Object.keys(init)).toEqual(Object.keys(cliInit));
  expect({ ...init, dir: 0, serial: 0, fingerprint: 0, notBefore: 0, notAfter: 0, certFile: 0, keyFile: 0 }).toEqual({ ...cliInit, dir: 0, serial: 0, fingerprint: 0, notBefore: 0, notAfter: 0, certFile: 0, keyFile: 0 });

  const viaApi = await other.issueClient("carol", { uri: ["spiffe://example.org/carol"], account: "ORDERS", passphrase: () => PASS });
  const viaCli = cli(["client", "issue", "carol", "--uri", "spiffe://example.org/carol", "--account", "ORDERS"]);
  expect(Object.keys(viaApi)).toEqual(Object.keys(viaCli));
  expect(stable(viaApi as unknown as Record<string, unknown>)).toEqual(stable(viaCli));
  expect(viaApi.natsUser).toBe("spiffe://example.org/carol");

  const srv = await other.issueServer("n2", { dns: ["localhost"], peer: true, passphrase: PASS });
  const srvCli = cli(["server", "issue", "n2", "--dns", "localhost", "--peer"]);
  expect(stable(srv as unknown as Record<string, unknown>)).toEqual(stable(srvCli));

  const csrDir = tmpDir();
  mtlsOk(["client", "csr", "dave", "--email", "dave@example.com", "--out-dir", csrDir]);
  const csr = path.join(csrDir, "dave.csr");
  const signed = await other.signCsr(fs.readFileSync(csr, "utf8"), { name: "dave", passphrase: PASS });
  const signedCli = cli(["client", "sign", csr]);
  expect(stable(signed as unknown as Record<string, unknown>)).toEqual(stable(signedCli));

  const rev = await other.revoke("carol", { reason: "keyCompromise", passphrase: PASS });
  const revCli = cli(["revoke", "carol", "--reason", "keyCompromise"]);
  expect(Object.keys(rev)).toEqual(Object.keys(revCli));
  expect(rev.revoked.map((r) => [r.kind, r.reason])).toEqual(revCli.revoked.map((r: { kind: string; reason: string }) => [r.kind, r.reason]));
  const crl = await other.crl({ passphrase: PASS });
  const crlCli = cli(["crl"]);
  expect(Object.keys(crl)).toEqual(Object.keys(crlCli));
  expect(crl.revoked).toHaveLength(1);
  expect(crl.crl).toMatch(/^-----BEGIN X509 CRL-----/);
});

test("errors carry a stable code and the file: exists, passphrase, no-store, usage, unsupported", async () => {
  const s = api.openStore(store);
  const codeOf = async (p: Promise<unknown>) => p.then(() => "resolved", (e) => (e instanceof api.MtlsctlError ? `${e.code}:${e.exitCode}` : `other:${e}`));
  expect(await codeOf(s.issueClient("alice", { passphrase: PASS }))).toBe("exists:3");
  expect(await codeOf(s.issueClient("erin", { passphrase: "wrong" }))).toBe("passphrase:3");
  expect(await codeOf(s.issueClient("erin", {}))).toBe("passphrase:3");
  expect(await codeOf(api.openStore(path.join(dir, "none")).list())).toBe("no-store:3");
  expect(await codeOf(s.issueServer("srv2", { passphrase: PASS }))).toBe("usage:2");
  expect(await codeOf(Promise.resolve().then(() => api.openStore("mysql://db/x")))).toBe("unsupported:3"); // postgres:// is a database store (below)
  expect(await codeOf(s.issueClient("bad/name", { passphrase: PASS }))).toBe("input:3");
  // a refused request wrote nothing
  expect(fs.existsSync(path.join(store, "issued", "erin.crt"))).toBe(false);
});

describe("a database store: openStore(\"postgres://…\") answers as the --db commands print with --json", () => {
  let dbApi: PostgresUrl;
  let dbCli: PostgresUrl;
  let outApi: string;
  let outCli: string;
  let viaApi: DbCaStore;
  const opened: { close(): Promise<void> }[] = [];
  const open = (url: PostgresUrl, o: DbStoreOptions = {}): DbCaStore => {
    const s = api.openStore(url, o);
    opened.push(s);
    return s;
  };
  /** `mtlsctl --db URL ARGS --json` in `cwd` (its --out-dir default): the object it prints; exit 0. */
  const cliDb = (url: string, args: string[], cwd = outCli) => {
    const r = mtls(["--db", url, ...args, "--json"], { cwd, env: { MTLSCTL_PASSPHRASE: PASS, MTLSCTL_DIR: undefined, MTLSCTL_DB: undefined } });
    if (r.code !== 0) throw new Error(`mtlsctl --db ${args.join(" ")} exited ${r.code}: ${r.stderr}`);
    return JSON.parse(r.stdout);
  };
  /** Both sides, with what differs between two issuances (serials, keys, times, the files' and databases' names) masked. */
  const masked = (o: unknown, db: string, out: string): unknown =>
    JSON.parse(
      JSON.stringify(o, (k, v) => (["serial", "fingerprint", "notBefore", "notAfter", "revokedAt", "thisUpdate", "nextUpdate", "crl", "daysLeft", "caSerial", "renewedBy", "renews"].includes(k) && typeof v === "string" ? `<${k}>` : v))
        .split(db)
        .join("<db>")
        .split(out)
        .join("<out>"),
    );
  const psql = (url: string, sql: string) => execFileSync("psql", [url, "-qAtc", sql], { encoding: "utf8", env: process.env }).trim();

  beforeAll(() => {
    pgBase();
    dbApi = freshDbUrl() as PostgresUrl;
    dbCli = freshDbUrl() as PostgresUrl;
    outApi = tmpDir("mtlsctl-parity-dbapi-");
    outCli = tmpDir("mtlsctl-parity-dbcli-");
    viaApi = open(dbApi, { outDir: outApi });
  });
  afterAll(async () => {
    for (const s of opened) await s.close();
    dropAll();
  });

  test("initCa: equal to ca init --db --json (the location for the files; the key in the database, encrypted)", async () => {
    let asked = 0;
    const init = await viaApi.initCa({ name: "Parity CA", passphrase: () => (asked++, PASS) });
    const initCli = cliDb(dbCli, ["ca", "init", "--name", "Parity CA"]);
    expect(asked).toBe(1);
    expect(Object.keys(init)).toEqual(Object.keys(initCli));
    expect(masked(init, dbApi, outApi)).toEqual(masked(initCli, dbCli, outCli));
    expect(init).toMatchObject({ dir: dbApi, certFile: dbApi, keyFile: dbApi, encrypted: true, subject: "CN=Parity CA" });
    expect(psql(dbApi, "SELECT count(*) FROM ca")).toBe("1");
    // an existing store is refused (code exists), as the CLI refuses it (exit 3)
    const again = await viaApi.initCa({ name: "Parity CA", passphrase: PASS }).then(() => null, (e) => e);
    expect(again).toBeInstanceOf(api.MtlsctlError);
    expect([again.code, again.exitCode, again.file]).toEqual(["exists", 3, dbApi]);
    const r = mtls(["--db", dbApi, "ca", "init", "--json"], { env: { MTLSCTL_PASSPHRASE: PASS, MTLSCTL_DIR: undefined } });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(again.message);
  });

  test("issueClient, issueServer, signCsr: the --db commands' objects; keys to outDir (0600), never into the database", async () => {
    const carol = await viaApi.issueClient("carol", { uri: ["spiffe://example.org/carol"], account: "ORDERS", passphrase: () => PASS });
    const carolCli = cliDb(dbCli, ["client", "issue", "carol", "--uri", "spiffe://example.org/carol", "--account", "ORDERS"]);
    expect(Object.keys(carol)).toEqual(Object.keys(carolCli));
    expect(masked(carol, dbApi, outApi)).toEqual(masked(carolCli, dbCli, outCli));
    expect(carol).toMatchObject({ certFile: path.join(outApi, "carol.crt"), keyFile: path.join(outApi, "carol.key"), csrFile: null, natsUser: "spiffe://example.org/carol", account: "ORDERS" });
    expect(fs.statSync(carol.keyFile!).mode & 0o777).toBe(0o600);

    const srv = await viaApi.issueServer("n2", { dns: ["localhost"], ip: ["127.0.0.1"], passphrase: PASS });
    const srvCli = cliDb(dbCli, ["server", "issue", "n2", "--dns", "localhost", "--ip", "127.0.0.1"]);
    expect(masked(srv, dbApi, outApi)).toEqual(masked(srvCli, dbCli, outCli));
    expect(srv.keyFile).toBe(path.join(outApi, "n2.key"));

    const peer = await viaApi.issueServer("r1", { dns: ["r1.example.com"], peer: true, passphrase: PASS, outDir: path.join(outApi, "peers") });
    const peerCli = cliDb(dbCli, ["server", "issue", "r1", "--dns", "r1.example.com", "--peer", "--out-dir", path.join(outCli, "peers")]);
    expect(masked(peer, dbApi, outApi)).toEqual(masked(peerCli, dbCli, outCli));
    expect(peer.certFile).toBe(path.join(outApi, "peers", "r1.crt"));

    const csrDir = tmpDir();
    mtlsOk(["client", "csr", "dave", "--email", "dave@example.com", "--out-dir", csrDir]);
    const csr = path.join(csrDir, "dave.csr");
    const signed = await viaApi.signCsr(fs.readFileSync(csr), { name: "dave", passphrase: PASS, file: csr });
    const signedCli = cliDb(dbCli, ["client", "sign", csr]);
    expect(masked(signed, dbApi, outApi)).toEqual(masked(signedCli, dbCli, outCli));
    expect(signed).toMatchObject({ certFile: path.join(outApi, "dave.crt"), keyFile: null, natsUser: "dave@example.com" });

    // what the database holds: certificates and requests, never a private key
    for (const db of [dbApi, dbCli]) {
      expect(psql(db, "SELECT count(*) FROM certificates")).toBe("4");
      expect(psql(db, "SELECT count(*) FROM certificates WHERE cert_pem LIKE '%PRIVATE KEY%' OR coalesce(csr_pem, '') LIKE '%PRIVATE KEY%' OR record::text LIKE '%PRIVATE KEY%'")).toBe("0");
    }
    expect(fs.readdirSync(outApi).sort()).toEqual(["carol.crt", "carol.key", "dave.crt", "n2.crt", "n2.key", "peers"]);
  });

  test("list: equal to list --db --json on the same database, both ways round", async () => {
    for (const db of [dbApi, dbCli]) expect(JSON.parse(JSON.stringify(await open(db).list()))).toEqual(cliDb(db, ["list"]));
    expect(JSON.parse(JSON.stringify(await viaApi.list({ expiringDays: 400 })))).toEqual(cliDb(dbApi, ["list", "--expiring", "400"]));
    expect((await viaApi.list({ expiringDays: 400 })).map((r) => r.name)).toEqual(["carol", "n2", "r1", "dave"]);
    expect(masked(await viaApi.list(), dbApi, outApi)).toEqual(masked(cliDb(dbCli, ["list"]), dbCli, outCli));
  });

  test("natsConfig: the text of config nats --db --ca-file on the same database; natsConfigDetailed its --json parts", async () => {
    const caFile = path.join(outApi, "ca.pem");
    mtlsOk(["--db", dbApi, "export", "ca", "--out", caFile]);
    const opts = { caFile, server: "n2", certFile: path.join(outApi, "n2.crt"), keyFile: path.join(outApi, "n2.key") };
    const args = ["config", "nats", "--ca-file", caFile, "--server", "n2", "--cert-file", opts.certFile, "--key-file", opts.keyFile];
    const header = /^# Generated by mtlsctl \S+ on \S+/;
    const text = await viaApi.natsConfig(opts);
    expect(text.replace(header, "")).toBe(mtlsOk(["--db", dbApi, ...args]).stdout.replace(header, ""));
    expect(text).toContain(`ca_file: ${JSON.stringify(caFile)}`);
    const detailed = await viaApi.natsConfigDetailed(opts);
    const json = cliDb(dbApi, args);
    expect(JSON.parse(JSON.stringify({ users: detailed.users, accounts: detailed.accounts, pins: detailed.pins, notes: detailed.notes, warnings: detailed.warnings }))).toEqual({
      users: json.users,
      accounts: json.accounts,
      pins: json.pins,
      notes: json.notes,
      warnings: json.warnings,
    });
    // without the CA's file: the CLI's usage error (code usage, exit 2)
    const e = await viaApi.natsConfig({}).then(() => null, (x) => x);
    expect([e?.code, e?.exitCode]).toEqual(["usage", 2]);
    expect(mtls(["--db", dbApi, "config", "nats"]).stderr).toContain(e.message);
  });

  test("revoke and crl: the --db commands' objects; crl's PEM is the CRL the CLI prints as text", async () => {
    const rev = await viaApi.revoke("carol", { reason: "keyCompromise", passphrase: PASS });
    const revCli = cliDb(dbCli, ["revoke", "carol", "--reason", "keyCompromise"]);
    expect(Object.keys(rev)).toEqual(Object.keys(revCli));
    expect(masked(rev, dbApi, outApi)).toEqual(masked(revCli, dbCli, outCli));
    expect(rev.crl).toMatchObject({ file: dbApi, number: 1, revoked: 1 });
    const dave = (await viaApi.list()).find((r) => r.name === "dave")!;
    // a serial, given as a string
    const bySerial = await viaApi.revoke(dave.serial!, { passphrase: PASS });
    expect(bySerial.revoked.map((r) => r.name)).toEqual(["dave"]);

    const crl = await viaApi.crl({ passphrase: () => PASS });
    const crlCli = cliDb(dbCli, ["crl"]);
    expect(Object.keys(crl)).toEqual(Object.keys(crlCli));
    expect(crl).toMatchObject({ number: 3, file: dbApi, out: null, format: "pem" });
    expect(crl.revoked.map((r) => r.reason).sort()).toEqual(["keyCompromise", "unspecified"]);
    // the CLI's text on the same database is the next CRL, of the same revocations
    const pem = mtlsOk(["--db", dbApi, "crl"], { env: { MTLSCTL_PASSPHRASE: PASS } }).stdout;
    const parse = (p: string) => {
      const f = path.join(tmpDir(), "c.pem");
      fs.writeFileSync(f, p);
      const t = openssl(["crl", "-in", f, "-noout", "-text"]);
      expect(t.code).toBe(0);
      return { number: /X509v3 CRL Number:\s*\n\s*(\d+)/.exec(t.stdout)?.[1], serials: [...t.stdout.matchAll(/Serial Number: ([0-9A-F]+)/g)].map((m) => m[1].toLowerCase()).sort() };
    };
    const mine = parse(crl.crl);
    expect(mine).toEqual({ number: "3", serials: crl.revoked.map((r) => r.serial).sort() });
    expect(parse(pem)).toEqual({ ...mine, number: "4" });
    const der = await viaApi.crl({ format: "der", passphrase: PASS });
    expect(der).toMatchObject({ number: 5, format: "der" });
    expect(Buffer.from(der.crl, "base64")[0]).toBe(0x30);
  });

  test("errors: the codes the CLI exits 3 (or 2) with, and the same messages; a refused issuance writes no file", async () => {
    const codeOf = (p: Promise<unknown>) => p.then(() => "resolved", (e) => (e instanceof api.MtlsctlError ? `${e.code}:${e.exitCode}` : `other:${e}`));
    const down = "postgres://nobody@127.0.0.1:1/none" as const;
    const gone = open(down);
    const err = await gone.list().then(() => null, (e) => e);
    expect([err.code, err.exitCode, err.file]).toEqual(["unavailable", 3, down]);
    const r = mtls(["--db", down, "list", "--json"]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(err.message);
    expect(JSON.parse(r.stdout)).toMatchObject({ error: err.message });

    // an empty database: no store
    const empty = freshDbUrl() as PostgresUrl;
    expect(await codeOf(open(empty).list())).toBe("no-store:3");
    expect(mtls(["--db", empty, "list"]).code).toBe(3);
    expect([await open(empty).exists(), await viaApi.exists()]).toEqual([false, true]);
    // a refusal that needs no secret comes before the passphrase is asked for
    let asked = 0;
    expect(await codeOf(viaApi.issueClient("n2", { passphrase: () => (asked++, PASS) }))).toBe("exists:3");
    expect(await codeOf(viaApi.revoke("nobody", { passphrase: () => (asked++, PASS) }))).toBe("input:3");
    expect(asked).toBe(0);

    expect(await codeOf(viaApi.issueClient("n2", { passphrase: PASS }))).toBe("exists:3");
    expect(await codeOf(viaApi.issueClient("erin", { passphrase: "wrong" }))).toBe("passphrase:3");
    expect(await codeOf(viaApi.issueClient("erin", {}))).toBe("passphrase:3");
    expect(await codeOf(viaApi.issueServer("srv2", { passphrase: PASS }))).toBe("usage:2");
    expect(await codeOf(viaApi.issueClient("bad/name", { passphrase: PASS }))).toBe("input:3");
    expect(await codeOf(viaApi.issueClient("erin", { keyOut: "x.key", passphrase: PASS } as never))).toBe("usage:2");
    // what the CLI says for the same wrong passphrase
    const wrong = await viaApi.issueClient("erin", { passphrase: "wrong" }).then(() => null, (e) => e);
    const rc = mtls(["--db", dbApi, "client", "issue", "erin"], { cwd: outCli, env: { MTLSCTL_PASSPHRASE: "wrong" } });
    expect(rc.code).toBe(3);
    expect(rc.stderr).toContain(wrong.message);
    expect(fs.existsSync(path.join(outApi, "erin.key")) || fs.existsSync(path.join(outApi, "erin.crt"))).toBe(false);
    expect(fs.existsSync(path.join(outCli, "erin.key"))).toBe(false);
  });

  test("the database password: dbPassword, else PGPASSWORD, else PGPASSFILE (libpq's order); a wrong one is code unavailable", async () => {
    const pw = fs.readFileSync(process.env.PGPASSFILE!, "utf8").split("\n")[0].split(":").pop()!;
    // dbPassword beats the PGPASSFILE this process has
    const wrong = await open(dbApi, { dbPassword: "not-the-password" }).list().then(() => null, (e) => e);
    expect([wrong?.code, wrong?.exitCode]).toEqual(["unavailable", 3]);
    expect(wrong.message).toMatch(/password authentication failed/);
    expect(wrong.message).not.toContain("not-the-password");
    expect((await open(dbApi, { dbPassword: pw }).list()).length).toBeGreaterThan(0);
    // in a process of its own: PGPASSWORD (with no PGPASSFILE), and PGPASSWORD before PGPASSFILE
    // (no password at all is left out: node-postgres then keeps the socket until the server's
    // authentication_timeout, 60 s, before the process can exit; the CLI does the same)
    const script = `require(${JSON.stringify(path.join(ROOT, "dist", "index.js"))}).openStore(process.argv[1]).list().then((r) => console.log("rows " + r.length), (e) => console.log(e.code));`;
    const child = (env: Record<string, string | undefined>) => {
      const e: NodeJS.ProcessEnv = { ...process.env, PGPASSFILE: path.join(tmpDir(), "none"), ...env };
      for (const k of Object.keys(e)) if (e[k] === undefined) delete e[k];
      return execFileSync(process.execPath, ["-e", script, dbApi], { encoding: "utf8", env: e }).trim();
    };
    expect(child({ PGPASSWORD: pw })).toMatch(/^rows \d+$/);
    expect(child({ PGPASSWORD: "not-the-password", PGPASSFILE: process.env.PGPASSFILE })).toBe("unavailable");
    expect(child({ PGPASSWORD: undefined, PGPASSFILE: process.env.PGPASSFILE })).toMatch(/^rows \d+$/);
  });

  test("node-postgres is loaded only for a database: require(\"mtlsctl\") and the file store never load it", () => {
    const script = `
      const api = require(${JSON.stringify(path.join(ROOT, "dist", "index.js"))});
      const pgLoaded = () => Object.keys(require.cache).some((k) => /[\\\\/]node_modules[\\\\/]pg[\\\\/]/.test(k));
      (async () => {
        const out = [pgLoaded()];
        const s = api.openStore(process.argv[1]);
        await s.initCa({ name: "Lazy CA", passphrase: null });
        await s.issueClient("zed", { email: ["zed@example.com"] });
        await s.list();
        out.push(pgLoaded());
        const d = api.openStore(process.argv[2]);
        out.push(pgLoaded()); // opened, not yet used: node-postgres is loaded on the first query
        out.push((await d.list()).length > 0, pgLoaded());
        await d.close();
        console.log(JSON.stringify(out));
      })().catch((e) => { console.error(e); process.exit(1); });`;
    const r = execFileSync(process.execPath, ["-e", script, path.join(tmpDir(), "pki"), dbApi], { encoding: "utf8", env: process.env });
    expect(JSON.parse(r)).toEqual([false, false, false, true, true]);
  });
});
