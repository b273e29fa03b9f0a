/**
 * Issue 19: the commands beyond list/status/revoke/client issue on a PostgreSQL store. Each test runs
 * the same command on a file store and on a real PostgreSQL holding a copy of it (store copy: the same
 * CA), and compares the JSON results with serials, fingerprints, pins and times aside and file paths
 * reduced to their base names (the file store keeps a leaf's files in its directory, a database store
 * writes them to --out-dir). Where the two differ by design the test says so.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { execFileSync } from "node:child_process";
import { makeStore, mtls, mtlsOk, openssl, tmpDir } from "./helpers/cli";
import { dropAll, freshDbUrl, pgBase } from "./helpers/pg";
import { startNatsServer, stopAllNatsServers } from "./helpers/nats";

jest.setTimeout(180_000);

beforeAll(() => pgBase());
afterAll(() => dropAll());

const psql = (url: string, sql: string): string => execFileSync("psql", [url, "-qAtc", sql], { encoding: "utf8", env: process.env }).trim();

interface Side {
  /** Runs mtlsctl on this side's store, in its own working directory. */
  run(args: string[], input?: string): ReturnType<typeof mtls>;
  ok(args: string[], input?: string): ReturnType<typeof mtls>;
  json(args: string[]): any;
  cwd: string;
  /** The database's URL (the database side), else "". */
  url(): string;
}

/** A file store and a database holding a copy of it (the same CA), each with its own working directory. */
function pair(): { file: Side; db: Side; url: string; dir: string } {
  const s = makeStore({ name: "Pair CA" });
  const url = freshDbUrl();
  mtlsOk(["store", "copy", "--from", s.dir, "--to", url], s);
  const dbCwd = tmpDir();
  const side = (cwd: string, env: Record<string, string>): Side => {
    const run = (args: string[], input?: string) => mtls(args, { cwd, env, input });
    const ok = (args: string[], input?: string) => mtlsOk(args, { cwd, env, input });
    return { run, ok, json: (args) => JSON.parse(ok([...args, "--json"]).stdout), cwd, url: () => env.MTLSCTL_DB ?? "" };
  };
  return {
    file: side(s.cwd, s.env),
    db: side(dbCwd, { MTLSCTL_PASSPHRASE: "test-pass", MTLSCTL_DB: url, MTLSCTL_DIR: "" }),
    url,
    dir: s.dir,
  };
}

/** Serials, fingerprints/pins, NKey public keys and times replaced by placeholders; absolute paths by their base names. */
function norm(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(norm);
  if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, norm(x)]));
  if (typeof v !== "string") return v;
  let s = v;
  if (/^\/\S+$/.test(s) || /^(issued|renewed|reqs|private)\//.test(s)) s = path.basename(s);
  return s
    .replace(/(?:[\w.-]*\/)+([\w.-]+\.(?:crt|key|csr))\b/g, "$1") // a path in a sentence: its base name
    .replace(/\bU[A-Z2-7]{55}\b/g, "<nkey>")
    .replace(/\b[0-9a-f]{64}\b/g, "<sha256>")
    .replace(/\b[0-9a-f]{16,40}\b/g, "<serial>")
    .replace(/\b\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z\b/g, "<time>");
}

describe("issuance on a database store: the file store's results", () => {
  test("server issue (and --peer): key and certificate to --out-dir; the same JSON and list rows; nothing written on a refusal", () => {
    const { file, db, url } = pair();
    for (const args of [
      ["server", "issue", "nats1", "--dns", "nats1.example.com", "--ip", "127.0.0.1"],
      ["server", "issue", "node1", "--peer", "--dns", "node1.example.com", "--key", "ec-p384", "--days", "90"],
    ]) {
      const f = file.json(args);
      const d = db.json(args);
      expect(norm(d)).toEqual(norm(f));
      // the database store's key and certificate are in its working directory (the key 0600), never in a row
      expect(d.certFile).toBe(path.join(db.cwd, `${d.name}.crt`));
      expect(d.keyFile).toBe(path.join(db.cwd, `${d.name}.key`));
      expect(fs.statSync(d.keyFile).mode & 0o777).toBe(0o600);
      const mod = (f: string) => openssl(["pkey", "-in", f, "-pubout"]).stdout;
      expect(openssl(["x509", "-in", d.certFile, "-noout", "-pubkey"]).stdout).toBe(mod(d.keyFile));
      expect(psql(url, `SELECT cert_pem FROM certificates WHERE serial = '${d.serial}'`) + "\n").toBe(fs.readFileSync(d.certFile, "utf8"));
    }
    expect(psql(url, "SELECT count(*) FROM certificates WHERE cert_pem LIKE '%PRIVATE KEY%' OR csr_pem LIKE '%PRIVATE KEY%'")).toBe("0");
    // the peer certificate has both purposes, as the file store's
    expect(openssl(["x509", "-in", path.join(db.cwd, "node1.crt"), "-noout", "-ext", "extendedKeyUsage"]).stdout).toMatch(/TLS Web Server Authentication, TLS Web Client Authentication/);
    expect(norm(db.json(["list"]))).toEqual(norm(file.json(["list"])));

    // refusals: the same exit code on both, nothing written on the database side
    const before = psql(url, "SELECT count(*) FROM certificates");
    const listing = fs.readdirSync(db.cwd).sort();
    for (const args of [
      ["server", "issue", "nats1", "--dns", "nats1.example.com"], // exists
      ["server", "issue", "x1"], // no --dns/--ip (no terminal)
      ["server", "issue", "x2", "--dns", "bad_name!"],
      ["server", "issue", "x3", "--dns", "x3.example.com", "--key", "dsa"],
    ]) {
      const f = file.run(args);
      const d = db.run(args);
      expect([args.join(" "), d.code]).toEqual([args.join(" "), f.code]);
      expect(d.code).toBeGreaterThan(1);
      expect(d.stderr.trim().split("\n")).toHaveLength(1);
    }
    expect(psql(url, "SELECT count(*) FROM certificates")).toBe(before);
    expect(fs.readdirSync(db.cwd).sort()).toEqual(listing);
    // --force replaces it; an existing key file in --out-dir is refused without it
    fs.rmSync(path.join(db.cwd, "nats1.crt"));
    const kept = db.run(["server", "issue", "nats1", "--dns", "nats1.example.com"]);
    expect(kept.code).toBe(3);
    const forced = db.json(["server", "issue", "nats1", "--dns", "nats1.example.com", "--force"]);
    expect(norm(forced)).toEqual(norm(file.json(["server", "issue", "nats1", "--dns", "nats1.example.com", "--force"])));
    expect(norm(db.json(["list"]))).toEqual(norm(file.json(["list"])));
    // a file store refuses --out-dir (its key goes to private/)
    expect(file.run(["server", "issue", "y", "--dns", "y.example.com", "--out-dir", "o"]).code).toBe(2);
  });

  test("client sign: a request made elsewhere; the certificate to --out-dir, the request in the row", () => {
    const { file, db, url } = pair();
    const reqDir = tmpDir();
    mtlsOk(["client", "csr", "carol", "--email", "carol@example.com", "--out-dir", reqDir]);
    mtlsOk(["client", "csr", "dave", "--uri", "spiffe://acme/dave", "--key", "ed25519", "--out-dir", reqDir]);
    const csr = (n: string) => path.join(reqDir, `${n}.csr`);
    for (const args of [
      ["client", "sign", csr("carol"), "--account", "APP", "--allow-pub", "orders.>"],
      ["client", "sign", csr("dave"), "--name", "dave2", "--days", "30"],
    ]) {
      const f = file.json(args);
      const d = db.json(args);
      // by design: the file store names its copy of the request (reqs/NAME.csr), a database keeps it in the row
      expect(f.csrFile).toMatch(/reqs\/\w+\.csr$/);
      expect(d.csrFile).toBeNull();
      expect(norm({ ...d, csrFile: null })).toEqual(norm({ ...f, csrFile: null }));
      expect(d.certFile).toBe(path.join(db.cwd, `${d.name}.crt`));
      expect(d.keyFile).toBeNull();
      expect(psql(url, `SELECT csr_pem FROM certificates WHERE serial = '${d.serial}'`) + "\n").toBe(fs.readFileSync(args[2], "utf8"));
    }
    // the key stays where it was made: the certificate names it
    expect(openssl(["x509", "-in", path.join(db.cwd, "carol.crt"), "-noout", "-pubkey"]).stdout).toBe(openssl(["pkey", "-in", path.join(reqDir, "carol.key"), "-pubout"]).stdout);
    expect(norm(db.json(["list"]))).toEqual(norm(file.json(["list"])));
    // refusals: exists, a tampered request, an underivable name
    fs.writeFileSync(path.join(reqDir, "bad.csr"), fs.readFileSync(csr("carol"), "utf8").replace(/(\n[A-Za-z0-9+/]{10})[A-Za-z]/, (m, a) => a + (m.endsWith("A") ? "B" : "A")));
    fs.copyFileSync(csr("carol"), path.join(reqDir, "no name!.csr"));
    for (const args of [["client", "sign", csr("carol")], ["client", "sign", path.join(reqDir, "bad.csr")], ["client", "sign", path.join(reqDir, "no name!.csr")]]) {
      const f = file.run(args);
      const d = db.run(args);
      expect([path.basename(args[2]), d.code]).toEqual([path.basename(args[2]), f.code]);
      expect(d.code).toBeGreaterThan(1);
    }
    expect(fs.readdirSync(db.cwd).sort()).toEqual(["carol.crt", "dave2.crt"]);
  });

  test("renew (same key, --rekey, a server): the same JSON; the old certificate superseded and its bytes kept", () => {
    const { file, db, url } = pair();
    // alice's key is with her on both stores (--no-keep-key on the file store); bob's is in the file store's private/
    for (const s of [file, db]) {
      s.ok(["client", "issue", "alice", "--email", "alice@example.com", ...(s === db ? [] : ["--no-keep-key"])]);
      s.ok(["client", "issue", "bob", "--email", "bob@example.com"]);
      s.ok(["server", "issue", "nats1", "--dns", "nats1.example.com"]);
    }
    const pubOf = (f: string) => openssl(["x509", "-in", f, "-noout", "-pubkey"]).stdout;
    const aliceKeyBefore = fs.readFileSync(path.join(db.cwd, "alice.key"), "utf8");
    const alicePubBefore = pubOf(path.join(db.cwd, "alice.crt"));
    const same = { f: file.json(["renew", "alice"]), d: db.json(["renew", "alice"]) };
    expect(norm(same.d)).toEqual(norm(same.f));
    expect(same.d).toMatchObject({ rekeyed: false, keyChanged: false, keyFile: null, oldStatus: "superseded", certFile: path.join(db.cwd, "alice.crt") });
    expect(pubOf(path.join(db.cwd, "alice.crt"))).toBe(alicePubBefore);
    expect(same.d.pin).toBe(execFileSync("sh", ["-c", `openssl x509 -in '${path.join(db.cwd, "alice.crt")}' -noout -pubkey | openssl pkey -pubin -outform DER | sha256sum`], { encoding: "utf8" }).split(" ")[0]);
    // the old certificate is superseded, linked, and its bytes are still in its row
    expect(psql(url, `SELECT status || ' ' || renewed_by FROM certificates WHERE serial = '${same.d.renews}'`)).toBe(`superseded ${same.d.serial}`);
    expect(psql(url, `SELECT count(*) FROM certificates WHERE serial = '${same.d.renews}' AND cert_pem LIKE '-----BEGIN CERTIFICATE-----%'`)).toBe("1");

    // --rekey: an existing key in --out-dir is not replaced without --force (it may be the client's own)
    const refused = db.run(["renew", "alice", "--rekey"]);
    expect(refused.code).toBe(3);
    expect(refused.stderr).toMatch(/alice\.key: already exists \(use --force to replace it\)\n$/);
    expect(fs.readFileSync(path.join(db.cwd, "alice.key"), "utf8")).toBe(aliceKeyBefore);
    // (the file store refuses alice's --rekey: her key is not in it; bob's is)
    expect(file.run(["renew", "alice", "--rekey"]).code).toBe(3);
    const bobKeyBefore = fs.readFileSync(path.join(db.cwd, "bob.key"), "utf8");
    const rk = { f: file.json(["renew", "bob", "--rekey"]), d: db.json(["renew", "bob", "--rekey", "--force"]) };
    expect(norm(rk.d)).toEqual(norm(rk.f));
    expect(rk.d).toMatchObject({ rekeyed: true, keyChanged: true, keyFile: path.join(db.cwd, "bob.key") });
    expect(openssl(["pkey", "-in", rk.d.keyFile, "-pubout"]).stdout).toBe(pubOf(rk.d.certFile));
    expect(fs.readFileSync(rk.d.keyFile, "utf8")).not.toBe(bobKeyBefore);

    const srv = { f: file.json(["renew", "nats1", "--days", "30"]), d: db.json(["renew", "nats1", "--days", "30", "--out-dir", "srv"]) };
    expect(srv.d.certFile).toBe(path.join(db.cwd, "srv", "nats1.crt"));
    // by design: the file store's server key stays in private/ (renew names it), a database's is with the server
    expect([path.relative(path.dirname(srv.f.certFile), srv.f.keyFile), srv.d.keyFile]).toEqual(["../private/nats1.key", null]);
    expect(norm({ ...srv.d, keyFile: null })).toEqual(norm({ ...srv.f, keyFile: null }));
    expect(norm(db.json(["list"]))).toEqual(norm(file.json(["list"])));

    // refusals: unknown, revoked, the CA; the same exit code
    for (const s of [file, db]) s.ok(["revoke", "nats1"]);
    for (const args of [["renew", "nobody"], ["renew", "nats1"], ["renew", "ca"]]) {
      const f = file.run(args);
      const d = db.run(args);
      const msg = (e: string) => norm(e.replace(/^mtlsctl: (postgres:\/\/\S+?|\/\S+?): /, ""));
      expect([args.join(" "), d.code, msg(d.stderr)]).toEqual([args.join(" "), f.code, msg(f.stderr)]);
    }
    // a file store refuses the database's options
    expect(file.run(["renew", "alice", "--out-dir", "x"]).code).toBe(2);
  });
});

describe("reading a database store: the file store's results", () => {
  afterAll(() => stopAllNatsServers());

  test("config nats --db: the file store's snippet (the server's files and ca_file named); nats-server maps the database's clients with it", async () => {
    const { file, db, url, dir } = pair();
    for (const s of [file, db]) {
      s.ok(["client", "issue", "alice", "--email", "alice@example.com"]);
      s.ok(["client", "issue", "bob", "--email", "bob@example.com", "--account", "APP", "--allow-pub", "orders.>"]);
      s.ok(["client", "issue", "svc", "--uri", "spiffe://acme/svc"]);
      s.ok(["server", "issue", "nats1", "--dns", "localhost", "--ip", "127.0.0.1"]);
      s.ok(["renew", "svc"]);
      s.ok(["revoke", "bob", "--reason", "keyCompromise"]);
    }
    // a database keeps no file: the server's pair and the CA certificate are named (the same paths on both sides)
    const srv = { cert: path.join(db.cwd, "nats1.crt"), key: path.join(db.cwd, "nats1.key") };
    const caFile = path.join(db.cwd, "ca.pem");
    db.ok(["export", "ca", "--out", caFile]);
    expect(fs.readFileSync(caFile)).toEqual(fs.readFileSync(path.join(dir, "ca.crt")));
    const named = ["--cert-file", srv.cert, "--key-file", srv.key];
    const strip = (j: any) => ({ ...j, config: String(j.config).replace(/^# Generated by .*\n/, "").replace(dir + "/ca.crt", caFile) });
    for (const extra of [[], ["--pinned"], ["--map", "dn", "--exclude", "alice"], ["--allow-sub", "_INBOX.>", "--deny-pub", "admin.>"]]) {
      const f = file.json(["config", "nats", ...named, ...extra]);
      const d = db.json(["config", "nats", ...named, "--ca-file", caFile, ...extra]);
      expect(norm(strip(d))).toEqual(norm(strip(f)));
      expect(d.config).toMatch(new RegExp(`^# Generated by mtlsctl \\S+ on \\S+ from the store ${url.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}\n`));
    }
    // refusals: no --ca-file; no server files (the database has no key for nats1); --ca-file on a file store
    const noCa = db.run(["config", "nats", ...named]);
    expect([noCa.code, noCa.stderr]).toEqual([2, "mtlsctl: config nats --db needs --ca-file FILE: the file nats-server reads the CA certificate from (write it with `mtlsctl export ca --out FILE`)\n"]);
    const noKey = db.run(["config", "nats", "--ca-file", caFile]);
    expect(noKey.code).toBe(3);
    expect(noKey.stderr).toMatch(/server certificate "nats1" has no key in the store .*--cert-file F --key-file F/);
    expect(db.run(["config", "nats", "--ca-file", caFile, "--peer", "nats1", "--cluster-listen", "127.0.0.1:6222", ...named]).code).toBe(3);
    expect(file.run(["config", "nats", "--ca-file", caFile]).code).toBe(2);

    // the database's snippet in a real nats-server: its clients map to their users, revoked bob is refused by pinning
    const snippet = path.join(db.cwd, "mtls.conf");
    db.ok(["config", "nats", ...named, "--ca-file", caFile, "--pinned", "--out", snippet]);
    const server = await startNatsServer(snippet);
    const as = (n: string) => server.connectAs(path.join(db.cwd, `${n}.crt`), path.join(db.cwd, `${n}.key`), caFile);
    expect(await as("alice")).toMatchObject({ ok: true, user: "alice@example.com" });
    expect(await as("svc")).toMatchObject({ ok: true, user: "spiffe://acme/svc" });
    expect(await as("bob")).toMatchObject({ ok: false });
    await server.stop();
  });

  test("export --db: pem, der, chain, p12 of a key kept by the file store, truststore; a key-needing export of a database store says the key is not in it", () => {
    const { file, db } = pair();
    for (const s of [file, db]) {
      s.ok(["client", "issue", "alice", "--email", "alice@example.com"]);
      s.ok(["server", "issue", "nats1", "--dns", "nats1.example.com"]);
    }
    const p12env = { MTLSCTL_P12_PASSWORD: "p12-pass" };
    for (const args of [["ca"], ["ca", "--format", "der"], ["ca", "--format", "chain"], ["alice"], ["alice", "--format", "chain"], ["nats1", "--format", "der"]]) {
      const f = file.json(["export", ...args]);
      const d = db.json(["export", ...args]);
      // the bytes: the CA's are the same; a leaf's are its own certificate (another key and serial on each side)
      // (a leaf's size too: an ECDSA signature's DER is 70 to 72 bytes)
      if (args[0] === "ca") expect(d).toEqual(f);
      else expect(d.data).not.toBe(f.data);
      expect([args.join(" "), norm({ ...d, data: null, bytes: null })]).toEqual([args.join(" "), norm({ ...f, data: null, bytes: null })]);
    }
    const alicePem = db.json(["export", "alice"]).data;
    expect(alicePem).toBe(fs.readFileSync(path.join(db.cwd, "alice.crt"), "utf8"));
    // truststore: the same CA entry (PKCS#12 is salted: compare what openssl reads from it)
    for (const s of [file, db]) {
      const out = path.join(s.cwd, "trust.p12");
      mtlsOk(["export", "ca", "--format", "truststore", "--out", out], { cwd: s.cwd, env: { ...(s === db ? { MTLSCTL_DB: db.url(), MTLSCTL_DIR: "" } : {}), ...p12env } });
    }
    const certsOf = (f: string) => openssl(["pkcs12", "-in", f, "-nokeys", "-passin", "pass:p12-pass"]).stdout.replace(/^(subject|issuer)=.*\n/gm, "");
    expect(certsOf(path.join(db.cwd, "trust.p12"))).toBe(certsOf(path.join(file.cwd, "trust.p12")));
    // p12 of a leaf: the file store has alice's key; the database says it keeps none (exit 3, nothing written, no password asked)
    mtlsOk(["export", "alice", "--format", "p12", "--out", "a.p12"], { cwd: file.cwd, env: p12env });
    expect(openssl(["pkcs12", "-in", path.join(file.cwd, "a.p12"), "-nodes", "-passin", "pass:p12-pass"]).stdout).toMatch(/PRIVATE KEY/);
    const dp = mtls(["export", "alice", "--format", "p12", "--out", "a.p12"], { cwd: db.cwd, env: { MTLSCTL_DB: db.url(), MTLSCTL_DIR: "", ...p12env } });
    expect(dp.code).toBe(3);
    expect(dp.stderr).toMatch(/^mtlsctl: postgres:\/\/\S+: "alice" has no key in the store \(a database store never keeps a leaf key: .*--out-dir.*\)\n$/);
    expect(fs.existsSync(path.join(db.cwd, "a.p12"))).toBe(false);
    // unknown names and the CA key: the same refusals
    for (const args of [["export", "nobody"], ["export", "ca", "--format", "p12"]]) expect([args.join(" "), db.run(args).code]).toEqual([args.join(" "), file.run(args).code]);
  });
});

describe("bulk issuance on a database store", () => {
  test("client issue --from: the same rows issued, skipped and failed as on the file store; keys and certificates to --out-dir; a re-run skips them all", () => {
    const { file, db, url } = pair();
    for (const s of [file, db]) s.ok(["client", "issue", "carol", "--email", "carol@example.com"]);
    const csv = path.join(tmpDir(), "users.csv");
    fs.writeFileSync(
      csv,
      [
        "name,email,uri,key,account,days",
        "alice,alice@example.com,,,,",
        "bob,,spiffe://acme/bob,ed25519,APP,30",
        "carol,carol@example.com,,,,", // exists: skipped
        "dave,not an email,,,,", // bad SAN: failed
        "alice,alice2@example.com,,,,", // twice: failed
        "erin,erin@example.com;erin2@example.com,,rsa-2048,,",
        "",
      ].join("\n"),
    );
    const f = mtls(["client", "issue", "--from", csv, "--json", "--account", "DEF"], { cwd: file.cwd, env: { MTLSCTL_PASSPHRASE: "test-pass", MTLSCTL_DIR: path.join(file.cwd, "pki") } });
    const d = db.run(["client", "issue", "--from", csv, "--json", "--account", "DEF", "--out-dir", "keys"]);
    expect([f.code, d.code]).toEqual([3, 3]); // a failed row: exit 3 at the end, the rest issued
    expect(d.stderr).toBe(f.stderr);
    const fj = JSON.parse(f.stdout);
    const dj = JSON.parse(d.stdout);
    expect(norm({ ...dj, seconds: 0 })).toEqual(norm({ ...fj, seconds: 0 }));
    expect(dj.counts).toEqual({ issued: 3, skipped: 1, failed: 2 });
    // each issued row: its key (0600) and certificate in --out-dir, the pair matching; no key in a row
    for (const n of ["alice", "bob", "erin"]) {
      const key = path.join(db.cwd, "keys", `${n}.key`);
      expect(fs.statSync(key).mode & 0o777).toBe(0o600);
      expect(openssl(["pkey", "-in", key, "-pubout"]).stdout).toBe(openssl(["x509", "-in", path.join(db.cwd, "keys", `${n}.crt`), "-noout", "-pubkey"]).stdout);
    }
    expect(fs.readdirSync(path.join(db.cwd, "keys")).sort()).toEqual(["alice.crt", "alice.key", "bob.crt", "bob.key", "erin.crt", "erin.key"]);
    expect(psql(url, "SELECT count(*) FROM certificates WHERE cert_pem LIKE '%PRIVATE KEY%'")).toBe("0");
    expect(psql(url, "SELECT count(*) FROM audit_events WHERE action = 'bulk-issue'")).toBe("3");
    expect(norm(db.json(["list"]))).toEqual(norm(file.json(["list"])));
    // a re-run: everything that exists is skipped, nothing written
    const again = JSON.parse(db.run(["client", "issue", "--from", csv, "--json", "--out-dir", "keys"]).stdout);
    expect(again.counts).toEqual({ issued: 0, skipped: 4, failed: 2 });
    // a file store refuses --out-dir with --from (its keys go to private/)
    expect(file.run(["client", "issue", "--from", csv, "--out-dir", "x"]).code).toBe(2);
  });
});

describe("the CA's URLs on a database store (ca set; schema version 2)", () => {
  const ext = (f: string) => openssl(["x509", "-in", f, "-noout", "-ext", "authorityInfoAccess,crlDistributionPoints"]).stdout;

  test("ca set: the same JSON on both stores; later leaves carry the URLs on both; a store copy keeps them, both ways", () => {
    const { file, db, url } = pair();
    const set = ["ca", "set", "--ocsp-url", "http://ca.example.com:8080/ocsp", "--crl-url", "http://ca.example.com:8080/crl"];
    const f = file.json(set);
    const d = db.json(set);
    expect({ ...d, dir: null }).toEqual({ ...f, dir: null });
    expect(d.dir).toBe(url);
    for (const s of [file, db]) s.ok(["client", "issue", "alice", "--email", "alice@example.com"]);
    const fileCert = path.join(file.cwd, "pki", "issued", "alice.crt");
    expect(ext(fileCert)).toMatch(/OCSP - URI:http:\/\/ca\.example\.com:8080\/ocsp[\s\S]*URI:http:\/\/ca\.example\.com:8080\/crl/);
    expect(ext(path.join(db.cwd, "alice.crt"))).toBe(ext(fileCert));
    // removing one: the same on both
    const f2 = file.json(["ca", "set", "--crl-url", ""]);
    const d2 = db.json(["ca", "set", "--crl-url", ""]);
    expect({ ...d2, dir: null }).toEqual({ ...f2, dir: null });
    expect(d2).toMatchObject({ ocspUrl: "http://ca.example.com:8080/ocsp", crlUrl: null });
    for (const s of [file, db]) s.ok(["server", "issue", "nats1", "--dns", "nats1.example.com"]);
    expect(ext(path.join(db.cwd, "nats1.crt"))).toBe(ext(path.join(file.cwd, "pki", "issued", "nats1.crt")));
    expect(ext(path.join(db.cwd, "nats1.crt"))).not.toMatch(/crl/);
    // removing the last: no URL left on either (the file store's header has none)
    for (const s of [file, db]) s.ok(["ca", "set", "--ocsp-url", ""]);
    expect(JSON.parse(fs.readFileSync(path.join(file.cwd, "pki", "inventory.json"), "utf8")).urls).toBeUndefined();
    expect(psql(url, "SELECT urls IS NULL FROM ca")).toBe("t");

    // a file store's URLs survive store copy into a database and back
    const s2 = makeStore({ name: "Url CA" });
    mtlsOk(["ca", "set", "--ocsp-url", "http://o.example.com/ocsp", "--crl-url", "http://o.example.com/crl"], s2);
    const url2 = freshDbUrl();
    mtlsOk(["store", "copy", "--from", s2.dir, "--to", url2], s2);
    const out = tmpDir();
    mtlsOk(["--db", url2, "client", "issue", "bob", "--email", "bob@example.com", "--out-dir", out], { env: { MTLSCTL_PASSPHRASE: "test-pass", MTLSCTL_DIR: "" } });
    expect(ext(path.join(out, "bob.crt"))).toMatch(/OCSP - URI:http:\/\/o\.example\.com\/ocsp[\s\S]*URI:http:\/\/o\.example\.com\/crl/);
    const back = path.join(tmpDir(), "back");
    mtlsOk(["store", "copy", "--from", url2, "--to", back], s2);
    expect(JSON.parse(fs.readFileSync(path.join(back, "inventory.json"), "utf8")).urls).toEqual({ ocsp: "http://o.example.com/ocsp", crl: "http://o.example.com/crl" });
  });

  test("a database at schema version 1 is refused until `store migrate` upgrades it (1 -> 3), which keeps its rows", () => {
    const { db, url } = pair();
    db.ok(["client", "issue", "alice", "--email", "alice@example.com"]);
    const before = db.json(["list"]);
    // what version 1 was: no urls column
    psql(url, "ALTER TABLE ca DROP COLUMN urls; DROP TABLE pending_ca; UPDATE schema_version SET version = 1");
    const r = db.run(["list"]);
    expect([r.code, r.stderr]).toEqual([3, `mtlsctl: ${url}: the database's schema is version 1; this mtlsctl needs 3: run \`mtlsctl store migrate --db URL\`\n`]);
    expect(db.json(["store", "migrate"])).toEqual({ database: url, from: 1, to: 3 });
    expect(db.json(["list"])).toEqual(before);
    db.ok(["ca", "set", "--ocsp-url", "http://ca.example.com/ocsp"]);
    expect(psql(url, "SELECT urls::text FROM ca")).toBe('{"ocsp":"http://ca.example.com/ocsp"}');
  });
});

describe("explain, backup and restore named a database store", () => {
  test("explain --db checks the chain against the database's trust anchors, as explain in a store directory does", () => {
    const { file, db, url } = pair();
    for (const s of [file, db]) s.ok(["client", "issue", "alice", "--email", "alice@example.com"]);
    const other = makeStore({ name: "Other CA" });
    mtlsOk(["client", "issue", "mallory", "--email", "mallory@example.com"], other);
    const explain = (s: Side, args: string[]) => {
      const r = s.run(["explain", ...args, "--json"]);
      return { code: r.code, ...JSON.parse(r.stdout) };
    };
    for (const cert of [path.join(db.cwd, "alice.crt"), path.join(other.dir, "issued", "mallory.crt")]) {
      const f = explain(file, [cert]);
      const d = explain(db, [cert]);
      expect(f.checks.caFile).toMatch(/\/pki\/ca\.crt$/);
      expect(d.checks.caFile).toBe(`${url} (trust anchors)`);
      expect({ ...d, checks: { ...d.checks, caFile: null } }).toEqual({ ...f, checks: { ...f.checks, caFile: null } });
    }
    expect(explain(db, [path.join(db.cwd, "alice.crt")])).toMatchObject({ code: 0, checks: { ok: true } });
    expect(explain(db, [path.join(other.dir, "issued", "mallory.crt")])).toMatchObject({ code: 1, checks: { ok: false } }); // the chain fails: as in the file store
    // --ca names the roots: the database is not read
    expect(explain(db, [path.join(db.cwd, "alice.crt"), "--ca", path.join(other.dir, "ca.crt")])).toMatchObject({ code: 1, checks: { ok: false, caFile: path.join(other.dir, "ca.crt") } });
  });

  test("backup and restore --db: one line, exit 3, saying what to use; nothing written", () => {
    const { db, url } = pair();
    const b = db.run(["backup", "--out", "b.enc"]);
    expect([b.code, b.stderr]).toEqual([3, `mtlsctl: ${url}: a database store is backed up with pg_dump (pg_dump --format=custom --file F URL; pg_restore into an empty database): backup archives a store directory\n`]);
    fs.writeFileSync(path.join(db.cwd, "x.enc"), "x");
    const r = db.run(["restore", "x.enc"]);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/^mtlsctl: postgres:\/\/\S+: restore writes a store directory: .*store copy --from D --to URL.*\n$/);
    expect(fs.readdirSync(db.cwd)).toEqual(["x.enc"]);
  });
});

describe("NATS users' access and NKeys on a database store", () => {
  test("client set and nkey set: the same JSON and records on both stores", () => {
    const { file, db } = pair();
    for (const s of [file, db]) {
      s.ok(["client", "issue", "alice", "--email", "alice@example.com"]);
      s.ok(["nkey", "create", "svc"]);
    }
    for (const args of [
      ["client", "set", "alice", "--account", "ORDERS", "--allow-pub", "orders.>"],
      ["client", "set", "alice", "--no-permissions"],
      ["nkey", "set", "svc", "--account", "APP", "--deny-sub", "admin.>"],
      ["client", "set", "alice", "--no-account"],
    ])
      expect([args.join(" "), db.json(args)]).toEqual([args.join(" "), file.json(args)]);
    for (const args of [["client", "set", "svc", "--account", "X"], ["nkey", "set", "alice", "--account", "X"], ["client", "set", "alice"], ["client", "set", "nobody", "--account", "X"]]) {
      const f = file.run(args);
      const d = db.run(args);
      const msg = (e: string) => e.replace(/^mtlsctl: (postgres:\/\/\S+?|\/\S+?): /, "");
      expect([args.join(" "), d.code, msg(d.stderr)]).toEqual([args.join(" "), f.code, msg(f.stderr)]);
    }
    const rows = (s: Side) => (s.json(["list"]) as any[]).map((r) => ({ ...r, seedFile: r.seedFile ? path.basename(r.seedFile) : r.seedFile }));
    expect(norm(rows(db))).toEqual(norm(rows(file)));
  });

  test("nkey create --db: the seed to --out-dir (0600), the public key in the row; nkey list; config nats lists it; refusals", () => {
    const { file, db, url } = pair();
    const f = file.json(["nkey", "create", "svc", "--account", "APP"]);
    const d = db.json(["nkey", "create", "svc", "--account", "APP", "--out-dir", "seeds"]);
    expect(d.seedFile).toBe(path.join(db.cwd, "seeds", "svc.nk"));
    expect(fs.statSync(d.seedFile).mode & 0o777).toBe(0o600);
    const seed = fs.readFileSync(d.seedFile, "utf8");
    expect(seed).toMatch(/^SU[A-Z2-7]+\n$/);
    expect(psql(url, "SELECT count(*) FROM nkeys WHERE record::text LIKE '%SU%'")).toBe("0"); // no seed in the database
    expect(psql(url, "SELECT record->>'publicKey' FROM nkeys WHERE name = 'svc'")).toBe(d.publicKey);
    const strip = (j: any) => ({ ...j, publicKey: null, natsUser: null, createdAt: null, seedFile: path.basename(j.seedFile) });
    expect(strip(d)).toEqual(strip(f));
    const dl = db.json(["nkey", "list"]);
    expect(dl).toEqual([{ name: "svc", kind: "nkey", publicKey: d.publicKey, natsUser: d.publicKey, createdAt: d.createdAt, seedFile: d.seedFile }]);
    expect(dl.map(strip)).toEqual(file.json(["nkey", "list"]).map(strip));
    // the seed is the client's: nkeys.js signs with it as the public key says
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const nk = require("nkeys.js");
    expect(nk.fromSeed(new TextEncoder().encode(seed.trim())).getPublicKey()).toBe(d.publicKey);
    // refusals: exists (record, or the seed file), a certificate's name; --force replaces, keeping the account
    for (const s of [file, db]) s.ok(["client", "issue", "alice", "--email", "alice@example.com"]);
    for (const args of [["nkey", "create", "svc"], ["nkey", "create", "alice"]]) expect([args.join(" "), db.run([...args, "--out-dir", "seeds"]).code]).toEqual([args.join(" "), file.run(args).code]);
    fs.writeFileSync(path.join(db.cwd, "seeds", "other.nk"), "x\n");
    expect(db.run(["nkey", "create", "other", "--out-dir", "seeds"]).code).toBe(3);
    expect(psql(url, "SELECT count(*) FROM nkeys")).toBe("1");
    const again = db.json(["nkey", "create", "svc", "--force", "--out-dir", "seeds"]);
    expect(again).toMatchObject({ account: "APP" });
    expect(again.publicKey).not.toBe(d.publicKey);
    // config nats --db lists the NKey user as the file store's does
    const caFile = path.join(db.cwd, "ca.pem");
    db.ok(["export", "ca", "--out", caFile]);
    const cfg = db.json(["config", "nats", "--ca-file", caFile]);
    expect(cfg.nkeys).toEqual([expect.objectContaining({ name: "svc", publicKey: again.publicKey, account: "APP" })]);
    expect(cfg.config).toContain(`nkey: "${again.publicKey}"`);
    expect(file.run(["nkey", "create", "x", "--out-dir", "o"]).code).toBe(2);
  });
});

describe("a CA key in a PKCS#11 token (SoftHSM2), shared through a database", () => {
  test("store copy keeps only the token's URI; every signature on the database store is the token's; and back to a directory", () => {
    const MODULE = ["/usr/lib/softhsm/libsofthsm2.so", "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so", "/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so"].find((m) => fs.existsSync(m));
    expect(MODULE).toBeDefined(); // a missing SoftHSM2 fails (scripts/softhsm.sh installs it), never skips
    const cwd = tmpDir("mtlsctl-pgp11-");
    const conf = path.join(cwd, "softhsm2.conf");
    fs.mkdirSync(path.join(cwd, "tokens"));
    fs.writeFileSync(conf, `directories.tokendir = ${path.join(cwd, "tokens")}\nobjectstore.backend = file\n`);
    const pinFile = path.join(cwd, "pin");
    fs.writeFileSync(pinFile, "1234\n", { mode: 0o600 });
    execFileSync("softhsm2-util", ["--init-token", "--free", "--label", "ca", "--pin", "1234", "--so-pin", "5678"], { env: { ...process.env, SOFTHSM2_CONF: conf }, stdio: "pipe" });
    const uri = `pkcs11:token=ca;object=pgca?module-path=${MODULE}&pin-source=file:${pinFile}`;
    const env = { SOFTHSM2_CONF: conf, MTLSCTL_PASSPHRASE: undefined, MTLSCTL_DIR: undefined };
    const dir = path.join(cwd, "pki");
    mtlsOk(["--dir", dir, "ca", "init", "--name", "Token CA", "--pkcs11", uri], { cwd, env });
    const url = freshDbUrl();
    mtlsOk(["store", "copy", "--from", dir, "--to", url], { cwd, env });
    expect(psql(url, "SELECT key_pem IS NULL, key_uri FROM ca")).toBe(`t|${uri}`);
    const caCrt = path.join(cwd, "ca.crt");
    fs.copyFileSync(path.join(dir, "ca.crt"), caCrt);
    const onDb = (args: string[]) => mtlsOk(["--db", url, ...args], { cwd, env });
    onDb(["client", "issue", "alice", "--email", "alice@example.com"]);
    onDb(["server", "issue", "nats1", "--dns", "nats1.example.com"]);
    onDb(["revoke", "alice", "--reason", "keyCompromise"]);
    onDb(["crl", "--out", "crl.pem"]);
    for (const f of ["alice.crt", "nats1.crt"]) expect(openssl(["verify", "-CAfile", caCrt, path.join(cwd, f)]).stdout).toContain(": OK");
    const crlCheck = openssl(["crl", "-in", path.join(cwd, "crl.pem"), "-CAfile", caCrt, "-noout"]);
    expect(crlCheck.stdout + crlCheck.stderr).toMatch(/verify OK/);
    // a wrong PIN: one line, exit 3, nothing issued
    fs.writeFileSync(pinFile, "9999\n", { mode: 0o600 });
    const before = psql(url, "SELECT count(*) FROM certificates");
    const bad = mtls(["--db", url, "client", "issue", "bob", "--email", "bob@example.com"], { cwd, env });
    expect(bad.code).toBe(3);
    expect(bad.stderr.trim().split("\n")).toHaveLength(1);
    expect(psql(url, "SELECT count(*) FROM certificates")).toBe(before);
    expect(fs.existsSync(path.join(cwd, "bob.key"))).toBe(false);
    fs.writeFileSync(pinFile, "1234\n", { mode: 0o600 });
    // back to a directory: private/ca.pkcs11 (the URI, no PIN), no ca.key; it issues with the token
    const back = path.join(cwd, "back");
    mtlsOk(["store", "copy", "--from", url, "--to", back], { cwd, env });
    expect(fs.readFileSync(path.join(back, "private", "ca.pkcs11"), "utf8")).toBe(uri + "\n");
    expect(fs.existsSync(path.join(back, "private", "ca.key"))).toBe(false);
    mtlsOk(["--dir", back, "client", "issue", "carol", "--email", "carol@example.com"], { cwd, env });
    expect(openssl(["verify", "-CAfile", caCrt, path.join(back, "issued", "carol.crt")]).stdout).toContain(": OK");
  });
});
