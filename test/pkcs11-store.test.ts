/**
 * A store whose CA key lives in a real SoftHSM2 token (issue 19): `ca init --pkcs11` generates it there,
 * `ca import --pkcs11` adopts it, and every CA signature the CLI and `serve` make — client issue, server
 * issue, client sign, crl, revoke, an OCSP response — is made by the token and verified by openssl
 * against the CA certificate; no CA key file is ever written. Bad input (wrong PIN, missing module, a URI
 * naming no object, the token deleted between two commands): one line, exit 3, the store byte-identical.
 * The tokens live in a temporary SOFTHSM2_CONF given to every child process (softhsm2-util, mtlsctl).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { execFileSync } from "node:child_process";
import { hashTree, mtls, mtlsOk, openssl, tmpDir, tool } from "./helpers/cli";
import { freePort } from "./helpers/nats";
import { startServe, Served } from "./helpers/serve";
import { dropAll, freshDbUrl } from "./helpers/pg";

const MODULE = ["/usr/lib/softhsm/libsofthsm2.so", "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so", "/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so"].find((m) => fs.existsSync(m))!;
const cwd = tmpDir("mtlsctl-p11store-");
const conf = path.join(cwd, "softhsm2.conf");
const pinFile = path.join(cwd, "pin");
const env = { SOFTHSM2_CONF: conf, MTLSCTL_PASSPHRASE: undefined };
const softhsm = (args: string[]) => execFileSync(tool("softhsm2-util"), args, { env: { ...process.env, SOFTHSM2_CONF: conf }, stdio: "pipe", encoding: "utf8" });
const newToken = (label: string) => softhsm(["--init-token", "--free", "--label", label, "--pin", "1234", "--so-pin", "5678"]);
const uri = (token: string, object: string, o: { module?: string; pin?: string } = {}) =>
  `pkcs11:token=${token};object=${object}?module-path=${o.module ?? MODULE}&pin-source=file:${o.pin ?? pinFile}`;
const cli = (dir: string, args: string[]) => mtlsOk(["--dir", dir, ...args], { cwd, env });
const fails = (dir: string, args: string[]) => mtls(["--dir", dir, ...args], { cwd, env });
const verifyLeaf = (dir: string, name: string) => expect(openssl(["verify", "-CAfile", path.join(dir, "ca.crt"), path.join(dir, "issued", `${name}.crt`)]).stdout).toContain(": OK");
/** One line on stderr, exit 3. */
const refused = (r: { code: number; stderr: string }, msg: RegExp) => {
  expect(r.code).toBe(3);
  expect(r.stderr.trim().split("\n")).toHaveLength(1);
  expect(r.stderr).toMatch(msg);
};
/** No CA key file anywhere in the store: private/ holds ca.pkcs11 (a URI, no PIN) and leaf keys only. */
const noCaKeyFile = (dir: string) => {
  expect(fs.existsSync(path.join(dir, "private", "ca.key"))).toBe(false);
  const stored = fs.readFileSync(path.join(dir, "private", "ca.pkcs11"), "utf8");
  expect(stored).toMatch(/^pkcs11:token=/);
  expect(stored).not.toMatch(/pin-value|1234/);
  expect(fs.statSync(path.join(dir, "private", "ca.pkcs11")).mode & 0o777).toBe(0o600);
  const caSpki = openssl(["x509", "-in", path.join(dir, "ca.crt"), "-noout", "-pubkey"]).stdout;
  for (const f of fs.readdirSync(path.join(dir, "private")).filter((n) => n.endsWith(".key")))
    expect(openssl(["pkey", "-in", path.join(dir, "private", f), "-pubout"]).stdout).not.toBe(caSpki);
};

beforeAll(() => {
  expect(MODULE).toBeDefined(); // a missing SoftHSM2 fails (scripts/softhsm.sh installs it), never skips
  fs.mkdirSync(path.join(cwd, "tokens"));
  fs.writeFileSync(conf, `directories.tokendir = ${path.join(cwd, "tokens")}\nobjectstore.backend = file\n`);
  fs.writeFileSync(pinFile, "1234\n", { mode: 0o600 });
  newToken("ca");
});
afterAll(() => fs.rmSync(cwd, { recursive: true, force: true }));

describe("ca init --pkcs11: every CA signature made by the token", () => {
  const dir = path.join(cwd, "pki");
  let svc: Served | undefined;
  afterAll(async () => {
    await svc?.stop();
  });

  test("the key is generated in the token (sensitive, never extractable, labelled, with an id); the store keeps only the URI", () => {
    const j = JSON.parse(cli(dir, ["ca", "init", "--name", "HSM CA", "--pkcs11", uri("ca", "root"), "--json"]).stdout);
    expect(j).toMatchObject({ keyType: "ec-p256", keyFile: null, encrypted: false, pkcs11File: path.join(dir, "private", "ca.pkcs11") });
    noCaKeyFile(dir);
    const objs = execFileSync(tool("pkcs11-tool"), ["--module", MODULE, "--token-label", "ca", "--login", "--pin", "1234", "--list-objects", "--type", "privkey"], { env: { ...process.env, SOFTHSM2_CONF: conf }, encoding: "utf8" });
    expect(objs).toMatch(/label:\s+root/);
    expect(objs).toMatch(/ID:\s+[0-9a-f]{32}/);
    expect(objs).toMatch(/Access:.*\bsensitive\b.*never extractable/);
    expect(objs).not.toMatch(/\bextractable\b(?<!never extractable)/);
    const show = JSON.parse(cli(dir, ["ca", "show", "--json"]).stdout);
    expect(show.pkcs11).toBe(uri("ca", "root"));
    expect(openssl(["verify", "-CAfile", path.join(dir, "ca.crt"), path.join(dir, "ca.crt")]).stdout).toContain(": OK");
  });

  test("client issue, server issue, client sign, crl, revoke: openssl verifies each against the CA certificate", () => {
    cli(dir, ["client", "issue", "alice", "--email", "alice@example.com"]);
    verifyLeaf(dir, "alice");
    cli(dir, ["server", "issue", "srv", "--dns", "localhost", "--ip", "127.0.0.1"]);
    verifyLeaf(dir, "srv");
    mtlsOk(["client", "csr", "bob", "--email", "bob@example.com", "--out-dir", cwd], { cwd, env });
    cli(dir, ["client", "sign", path.join(cwd, "bob.csr")]);
    verifyLeaf(dir, "bob");
    cli(dir, ["crl"]);
    expect(openssl(["crl", "-in", path.join(dir, "crl.pem"), "-CAfile", path.join(dir, "ca.crt"), "-noout"]).stderr).toContain("verify OK");
    cli(dir, ["revoke", "bob", "--reason", "keyCompromise"]);
    const crl = openssl(["crl", "-in", path.join(dir, "crl.pem"), "-CAfile", path.join(dir, "ca.crt"), "-noout", "-text"]);
    expect(crl.stderr).toContain("verify OK");
    expect(crl.stdout).toContain("Key Compromise");
    // openssl's own chain check with the CRL: bob refused, alice fine
    expect(openssl(["verify", "-crl_check", "-CAfile", path.join(dir, "ca.crt"), "-CRLfile", path.join(dir, "crl.pem"), path.join(dir, "issued", "bob.crt")]).stdout + "").not.toContain(": OK");
    expect(openssl(["verify", "-crl_check", "-CAfile", path.join(dir, "ca.crt"), "-CRLfile", path.join(dir, "crl.pem"), path.join(dir, "issued", "alice.crt")]).stdout).toContain(": OK");
    noCaKeyFile(dir);
  });

  test("renew, ca sign and an intermediate made with --root-dir: signed by the token-held root, openssl verifies", () => {
    cli(dir, ["renew", "alice"]);
    verifyLeaf(dir, "alice");
    const inter = path.join(cwd, "pki-inter");
    mtlsOk(["ca", "init", "--intermediate", "--root-dir", dir, "--dir", inter, "--name", "Issuing CA", "--passphrase-file", pinFile], { cwd, env });
    expect(openssl(["verify", "-CAfile", path.join(dir, "ca.crt"), path.join(inter, "ca.crt")]).stdout).toContain(": OK");
    const pending = path.join(cwd, "pki-pending");
    mtlsOk(["ca", "init", "--intermediate", "--csr-out", path.join(cwd, "inter.csr"), "--dir", pending, "--name", "Offline Issuing CA", "--no-encrypt"], { cwd, env });
    cli(dir, ["ca", "sign", path.join(cwd, "inter.csr"), "--out", path.join(cwd, "inter.crt")]);
    expect(openssl(["verify", "-CAfile", path.join(dir, "ca.crt"), path.join(cwd, "inter.crt")]).stdout).toContain(": OK");
    noCaKeyFile(dir);
  });

  test("serve signs OCSP responses with the token: good for alice, revoked for bob, both verified", async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}/ocsp`;
    svc = await startServe({ SOFTHSM2_CONF: conf, MTLSCTL_DIR: dir }, ["--http-listen", `127.0.0.1:${port}`]);
    const ask = (name: string) => {
      const r = openssl(["ocsp", "-issuer", path.join(dir, "ca.crt"), "-cert", path.join(dir, "issued", `${name}.crt`), "-url", url, "-CAfile", path.join(dir, "ca.crt"), "-nonce"]);
      return r.stdout + r.stderr;
    };
    const a = ask("alice");
    expect(a).toContain("Response verify OK");
    expect(a).toMatch(/alice\.crt: good/);
    const b = ask("bob");
    expect(b).toContain("Response verify OK");
    expect(b).toMatch(/bob\.crt: revoked/);
    noCaKeyFile(dir);
  });

  test("ca rollover and ca passphrase refuse a token-held key clearly, writing nothing", () => {
    const before = hashTree(dir);
    refused(fails(dir, ["ca", "passphrase", "--new-passphrase-file", pinFile]), /PKCS#11 token/);
    refused(fails(dir, ["ca", "rollover"]), /PKCS#11 token/);
    expect(hashTree(dir)).toEqual(before);
  });
});

describe("key types in the token", () => {
  test.each(["ec-p384", "rsa-2048", "ed25519"])("%s: ca init --pkcs11, then a client certificate openssl verifies", (key) => {
    const dir = path.join(cwd, `pki-${key}`);
    const j = JSON.parse(cli(dir, ["ca", "init", "--name", `HSM ${key}`, "--key", key, "--pkcs11", uri("ca", `k-${key}`), "--json"]).stdout);
    expect(j.keyType).toBe(key);
    cli(dir, ["client", "issue", "carol", "--email", "carol@example.com"]);
    verifyLeaf(dir, "carol");
    expect(openssl(["x509", "-in", path.join(dir, "ca.crt"), "-noout", "-text"]).stdout).toContain(key === "ed25519" ? "ED25519" : key === "ec-p384" ? "ecdsa-with-SHA384" : "sha256WithRSAEncryption");
    noCaKeyFile(dir);
  });
});

describe("ca import --pkcs11", () => {
  test("adopts the token's key for its certificate; refuses another CA's certificate and a URI naming no object", () => {
    const dir = path.join(cwd, "pki-imported");
    const j = JSON.parse(cli(dir, ["ca", "import", path.join(cwd, "pki", "ca.crt"), "--pkcs11", uri("ca", "root"), "--json"]).stdout);
    expect(j).toMatchObject({ keyType: "ec-p256", keyFile: null });
    cli(dir, ["client", "issue", "dave", "--email", "dave@example.com"]);
    verifyLeaf(dir, "dave");
    noCaKeyFile(dir);

    const other = path.join(cwd, "pki-other");
    refused(fails(other, ["ca", "import", path.join(cwd, "pki-ec-p384", "ca.crt"), "--pkcs11", uri("ca", "root")]), /does not match the CA certificate/);
    expect(fs.existsSync(other)).toBe(false);
    refused(fails(other, ["ca", "import", path.join(cwd, "pki", "ca.crt"), "--pkcs11", uri("ca", "nothing-here")]), /no private key labelled "nothing-here"/);
    expect(fs.existsSync(other)).toBe(false);
  });
});

describe("bad input: one line, exit 3, nothing written", () => {
  const dir = path.join(cwd, "pki-bad");
  beforeAll(() => {
    newToken("bad");
    cli(dir, ["ca", "init", "--name", "Bad CA", "--pkcs11", uri("bad", "root")]);
    cli(dir, ["client", "issue", "erin", "--email", "erin@example.com"]);
  });

  test("ca init --pkcs11 with a missing module, a wrong PIN, a token that does not exist", () => {
    const d = path.join(cwd, "pki-never");
    refused(fails(d, ["ca", "init", "--pkcs11", uri("ca", "x", { module: "/nonexistent/libnone.so" })]), /module does not exist/);
    const bad = path.join(cwd, "badpin");
    fs.writeFileSync(bad, "9999\n", { mode: 0o600 });
    refused(fails(d, ["ca", "init", "--pkcs11", uri("ca", "x", { pin: bad })]), /PIN is wrong/);
    refused(fails(d, ["ca", "init", "--pkcs11", uri("no-such-token", "x")]), /no PKCS#11 token labelled "no-such-token"/);
    refused(fails(d, ["ca", "init", "--pkcs11", "pkcs11:token=ca?module-path=" + MODULE]), /names no object/);
    expect(fs.existsSync(d)).toBe(false);
  });

  test("ca init --pkcs11 that fails after making the key removes that key from the token", () => {
    const file = path.join(cwd, "a-file");
    fs.writeFileSync(file, "not a directory\n");
    const r = fails(path.join(file, "pki"), ["ca", "init", "--pkcs11", uri("ca", "orphan")]);
    expect(r.code).not.toBe(0);
    const objs = execFileSync(tool("pkcs11-tool"), ["--module", MODULE, "--token-label", "ca", "--login", "--pin", "1234", "--list-objects"], { env: { ...process.env, SOFTHSM2_CONF: conf }, encoding: "utf8" });
    expect(objs).toMatch(/label:\s+root/);
    expect(objs).not.toMatch(/orphan/);
  });

  test("a wrong PIN at issue time: the store is byte-identical", () => {
    const before = hashTree(dir);
    fs.writeFileSync(pinFile, "9999\n");
    try {
      refused(fails(dir, ["client", "issue", "frank", "--email", "frank@example.com"]), /PIN is wrong/);
      refused(fails(dir, ["crl"]), /PIN is wrong/);
    } finally {
      fs.writeFileSync(pinFile, "1234\n");
    }
    expect(hashTree(dir)).toEqual(before);
  });

  test("the token deleted between two commands: the next one is refused and writes nothing", () => {
    cli(dir, ["client", "issue", "grace", "--email", "grace@example.com"]);
    verifyLeaf(dir, "grace");
    softhsm(["--delete-token", "--token", "bad"]);
    const before = hashTree(dir);
    refused(fails(dir, ["client", "issue", "heidi", "--email", "heidi@example.com"]), /no PKCS#11 token labelled "bad"/);
    refused(fails(dir, ["revoke", "grace"]), /no PKCS#11 token labelled "bad"/);
    refused(fails(dir, ["server", "issue", "srv2", "--dns", "example.com"]), /no PKCS#11 token labelled "bad"/);
    expect(hashTree(dir)).toEqual(before);
  });
});

describe("ca init --db --pkcs11: the key in the token, the database holding only its URI", () => {
  afterAll(() => dropAll());
  test("the database's CA row has no key, client issue --db is signed by the token, a wrong PIN is one line", () => {
    newToken("dbca");
    const url = freshDbUrl();
    const db = (args: string[]) => mtlsOk(["--db", url, ...args], { cwd, env });
    const out = JSON.parse(db(["ca", "init", "--name", "DB Token CA", "--pkcs11", uri("dbca", "ca-key"), "--json"]).stdout);
    expect(out).toMatchObject({ subject: "CN=DB Token CA", pkcs11: expect.stringMatching(/^pkcs11:token=dbca;object=ca-key/), dir: url, pkcs11File: url });
    expect(out.pkcs11).not.toMatch(/pin-value|1234/);
    // the row: a URI, no key material
    const row = execFileSync("psql", [url, "-qAtc", "SELECT key_pem IS NULL, key_uri FROM ca"], { encoding: "utf8", env: process.env }).trim();
    expect(row).toMatch(/^t\|pkcs11:token=dbca;object=ca-key/);
    expect(row).not.toMatch(/PRIVATE KEY|pin-value|1234/);
    expect(JSON.parse(db(["ca", "show", "--json"]).stdout)).toMatchObject({ pkcs11: out.pkcs11 });
    // an issuance on the database: the token signs (openssl verifies against the CA certificate)
    const outDir = path.join(cwd, "dbleaf");
    fs.mkdirSync(outDir);
    db(["client", "issue", "dora", "--email", "dora@example.com", "--out-dir", outDir]);
    const caFile = path.join(outDir, "ca.crt");
    db(["export", "ca", "--out", caFile]);
    expect(openssl(["verify", "-CAfile", caFile, path.join(outDir, "dora.crt")]).stdout).toContain(": OK");
    // a wrong PIN (the URI's pin-source file): one line, exit 3, no row added
    const count = () => execFileSync("psql", [url, "-qAtc", "SELECT count(*) FROM certificates"], { encoding: "utf8", env: process.env }).trim();
    const before = count();
    fs.writeFileSync(pinFile, "0000\n", { mode: 0o600 });
    try {
      refused(mtls(["--db", url, "client", "issue", "eve", "--email", "eve@example.com", "--out-dir", outDir], { cwd, env }), /PIN/);
    } finally {
      fs.writeFileSync(pinFile, "1234\n", { mode: 0o600 });
    }
    expect(fs.existsSync(path.join(outDir, "eve.key"))).toBe(false);
    expect(count()).toBe(before);
  });
});
