/**
 * `ca import <ca.crt> <ca.key>`: an existing CA becomes a store exactly like `ca init` makes one
 * (same layout, modes, inventory), with the key re-encrypted (PBES2, AES-256) under the mtlsctl
 * passphrase; certificates issued from it verify with openssl against the original CA file.
 * CAs are made with openssl: unencrypted PKCS#8 (EC, Ed25519), encrypted PKCS#8 (RSA), a traditional
 * encrypted PEM, and one with mkcert's root profile (mkcert itself is not packaged here: RSA-3072,
 * O=mkcert development CA, CA:TRUE pathlen 0, keyUsage certSign, a PKCS#8 key). Every refusal exits 3
 * (2 for a missing passphrase without a terminal) with one line and leaves nothing behind.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { hashTree, makeStore, mtls, mtlsOk, openssl, tmpDir } from "./helpers/cli";
import { readInventory } from "./helpers/inventory";

function ok(r: { code: number; stdout: string; stderr: string }, what: string) {
  if (r.code !== 0) throw new Error(`${what} exited ${r.code}: ${r.stdout}${r.stderr}`);
  return r;
}

interface MadeCa {
  dir: string;
  crt: string;
  key: string;
}

/** A CA made by openssl in a fresh directory. */
function opensslCa(o: { newkey: string[]; subj: string; ext?: string[]; keyPass?: string; traditional?: boolean }): MadeCa {
  const dir = tmpDir("mtlsctl-extca-");
  const key = path.join(dir, "ca.key");
  const crt = path.join(dir, "ca.crt");
  ok(openssl(["genpkey", ...o.newkey, "-out", key, ...(o.keyPass ? ["-aes256", "-pass", `pass:${o.keyPass}`] : [])]), "genpkey");
  if (o.traditional) {
    // the old "Proc-Type: 4,ENCRYPTED" form that `openssl genrsa -aes128 -traditional` writes
    ok(openssl(["rsa", "-in", key, "-passin", `pass:${o.keyPass}`, "-aes128", "-passout", `pass:${o.keyPass}`, "-traditional", "-out", key]), "rsa -traditional");
  }
  const ext = o.ext ?? ["-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"];
  ok(openssl(["req", "-x509", "-key", key, ...(o.keyPass ? ["-passin", `pass:${o.keyPass}`] : []), "-subj", o.subj, "-days", "3650", ...ext, "-out", crt]), "req -x509");
  return { dir, crt, key };
}

const ec = () => opensslCa({ newkey: ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"], subj: "/O=Acme/CN=Acme EC Root" });

function importInto(ca: MadeCa, extra: string[] = [], env: Record<string, string | undefined> = {}) {
  const cwd = tmpDir();
  const dir = path.join(cwd, "pki");
  const r = mtls(["ca", "import", ca.crt, ca.key, ...extra], { cwd, env: { MTLSCTL_DIR: dir, MTLSCTL_PASSPHRASE: "store-pass", ...env } });
  return { r, cwd, dir, env: { MTLSCTL_DIR: dir, MTLSCTL_PASSPHRASE: "store-pass" } };
}

const derOf = (pemFile: string) => openssl(["x509", "-in", pemFile, "-outform", "DER"]).stdout;

/** Issues clients from the imported store and checks them with openssl against the ORIGINAL CA file. */
function issueAndVerify(ca: MadeCa, store: { cwd: string; dir: string; env: Record<string, string> }) {
  mtlsOk(["client", "issue", "alice", "--email", "alice@example.com"], { cwd: store.cwd, env: store.env });
  mtlsOk(["server", "issue", "web", "--dns", "localhost"], { cwd: store.cwd, env: store.env });
  for (const f of ["alice", "web"]) {
    const v = openssl(["verify", "-x509_strict", "-CAfile", ca.crt, path.join(store.dir, "issued", `${f}.crt`)]);
    expect(v.stdout.trim()).toBe(`${path.join(store.dir, "issued", `${f}.crt`)}: OK`);
  }
  // the issuer is the imported CA's subject, and AKI points at its key
  const issuer = openssl(["x509", "-in", path.join(store.dir, "issued", "alice.crt"), "-noout", "-issuer"]).stdout;
  expect(issuer).toBe(openssl(["x509", "-in", ca.crt, "-noout", "-subject"]).stdout.replace(/^subject/, "issuer"));
}

test("an openssl EC CA: same store as ca init, key re-encrypted with the mtlsctl passphrase, issuance verifies", () => {
  const ca = ec();
  const s = importInto(ca);
  ok(s.r, "ca import");
  expect(s.r.stdout).toMatch(/Imported CA O=Acme,CN=Acme EC Root|Imported CA CN=Acme EC Root,O=Acme/);

  // the certificate is the one imported, byte for byte
  expect(derOf(path.join(s.dir, "ca.crt"))).toBe(derOf(ca.crt));
  // the key: PKCS#8, encrypted (PBES2 AES-256-CBC), mode 0600, opens with the store passphrase only
  const keyFile = path.join(s.dir, "private", "ca.key");
  const keyPem = fs.readFileSync(keyFile, "utf8");
  expect(keyPem).toMatch(/^-----BEGIN ENCRYPTED PRIVATE KEY-----/);
  expect(fs.statSync(keyFile).mode & 0o777).toBe(0o600);
  const asn1 = openssl(["asn1parse", "-in", keyFile]).stdout;
  expect(asn1).toMatch(/PBES2/);
  expect(asn1).toMatch(/aes-256-cbc/);
  expect(openssl(["pkey", "-in", keyFile, "-passin", "pass:store-pass", "-pubout"]).stdout).toBe(openssl(["pkey", "-in", ca.key, "-pubout"]).stdout);
  expect(openssl(["pkey", "-in", keyFile, "-passin", "pass:wrong", "-noout"]).code).not.toBe(0);

  // the same layout and modes as a store made by ca init (file contents differ, names and modes do not)
  const init = makeStore();
  const shape = (dir: string) =>
    Object.entries(hashTree(dir))
      .map(([p, v]) => `${p} ${v === "dir" ? "dir" : v.split(" ")[1]}`)
      .sort();
  expect(shape(s.dir)).toEqual(shape(init.dir));
  const inv = readInventory(s.dir);
  const invInit = readInventory(init.dir);
  expect(Object.keys(inv).sort()).toEqual(Object.keys(invInit).sort());
  expect(Object.keys(inv.ca).sort()).toEqual(Object.keys(invInit.ca).sort());
  expect(inv.ca.keyType).toBe("ec-p256");
  expect(inv.ca.fingerprint).toBe(openssl(["x509", "-in", ca.crt, "-noout", "-fingerprint", "-sha256"]).stdout.split("=")[1].trim().replace(/:/g, "").toLowerCase());
  expect(inv.certificates).toEqual([]);

  issueAndVerify(ca, s);
  // ca show works on it
  expect(mtlsOk(["ca", "show"], { cwd: s.cwd, env: s.env }).stdout).toMatch(/Acme EC Root/);
});

test("mkcert's root profile (RSA-3072, pathlen 0, keyUsage certSign only, PKCS#8 key)", () => {
  const ca = opensslCa({
    newkey: ["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:3072"],
    subj: "/O=mkcert development CA/OU=dev@laptop/CN=mkcert dev@laptop",
    ext: ["-addext", "basicConstraints=critical,CA:TRUE,pathlen:0", "-addext", "keyUsage=critical,keyCertSign"],
  });
  expect(fs.readFileSync(ca.key, "utf8")).toMatch(/^-----BEGIN PRIVATE KEY-----/);
  const s = importInto(ca, [], { MTLSCTL_PASSPHRASE: undefined });
  // no passphrase and no terminal: a usage error, nothing created
  expect(s.r.code).toBe(2);
  expect(s.r.stderr.trim().split("\n")).toHaveLength(1);
  expect(s.r.stderr).toMatch(/--passphrase-file/);
  expect(fs.existsSync(s.dir)).toBe(false);
  expect(fs.readdirSync(s.cwd)).toEqual([]);
  const pw = path.join(ca.dir, "new-pass.txt");
  fs.writeFileSync(pw, "store-pass\n");
  const s2 = importInto(ca, ["--passphrase-file", pw, "--json"], { MTLSCTL_PASSPHRASE: undefined });
  ok(s2.r, "ca import");
  const j = JSON.parse(s2.r.stdout);
  expect(j.keyType).toBe("rsa-3072");
  expect(j.encrypted).toBe(true);
  issueAndVerify(ca, s2);
});

test("an encrypted PKCS#8 RSA key: its passphrase from --key-passphrase-file; a wrong one is refused", () => {
  const ca = opensslCa({ newkey: ["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"], subj: "/CN=Encrypted Root", keyPass: "old-pass" });
  expect(fs.readFileSync(ca.key, "utf8")).toMatch(/ENCRYPTED PRIVATE KEY/);
  const wrong = path.join(ca.dir, "wrong.txt");
  fs.writeFileSync(wrong, "nope\n", { mode: 0o600 });
  const bad = importInto(ca, ["--key-passphrase-file", wrong]);
  expect(bad.r.code).toBe(3);
  expect(bad.r.stderr.trim().split("\n")).toHaveLength(1);
  expect(bad.r.stderr).toContain(`${ca.key}: wrong passphrase`);
  expect(fs.readdirSync(bad.cwd)).toEqual([]);
  const none = importInto(ca); // no --key-passphrase-file and no terminal
  expect(none.r.code).toBe(2);
  expect(none.r.stderr).toMatch(/--key-passphrase-file/);
  expect(fs.readdirSync(none.cwd)).toEqual([]);
  const right = path.join(ca.dir, "old.txt");
  fs.writeFileSync(right, "old-pass\n");
  const s = importInto(ca, ["--key-passphrase-file", right]);
  ok(s.r, "ca import");
  // re-encrypted under the store passphrase, not the old one
  const keyFile = path.join(s.dir, "private", "ca.key");
  expect(openssl(["pkey", "-in", keyFile, "-passin", "pass:old-pass", "-noout"]).code).not.toBe(0);
  expect(openssl(["pkey", "-in", keyFile, "-passin", "pass:store-pass", "-noout"]).code).toBe(0);
  issueAndVerify(ca, s);
});

test("a traditional encrypted PEM key (Proc-Type: 4,ENCRYPTED)", () => {
  const ca = opensslCa({ newkey: ["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"], subj: "/CN=Traditional Root", keyPass: "trad-pass", traditional: true });
  expect(fs.readFileSync(ca.key, "utf8")).toMatch(/Proc-Type: 4,ENCRYPTED/);
  const pw = path.join(ca.dir, "old.txt");
  fs.writeFileSync(pw, "trad-pass\n");
  const s = importInto(ca, ["--key-passphrase-file", pw]);
  ok(s.r, "ca import");
  issueAndVerify(ca, s);
});

test("an Ed25519 CA with --no-encrypt: the key stays unencrypted, with a warning", () => {
  const ca = opensslCa({ newkey: ["-algorithm", "ED25519"], subj: "/CN=Ed Root" });
  const s = importInto(ca, ["--no-encrypt"]);
  ok(s.r, "ca import");
  expect(s.r.stderr).toMatch(/NOT encrypted/);
  expect(fs.readFileSync(path.join(s.dir, "private", "ca.key"), "utf8")).toMatch(/^-----BEGIN PRIVATE KEY-----/);
  issueAndVerify(ca, s);
});

describe("refusals: exit 3, one line naming the file, nothing left behind", () => {
  const refused = (crt: string, key: string, match: RegExp, extra: string[] = [], existing?: string) => {
    const cwd = tmpDir();
    const dir = existing ?? path.join(cwd, "pki");
    const before = hashTree(existing ? path.dirname(existing) : cwd);
    const r = mtls(["ca", "import", crt, key, ...extra], { cwd, env: { MTLSCTL_DIR: dir, MTLSCTL_PASSPHRASE: "store-pass" } });
    expect(r.code).toBe(3);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(match);
    expect(hashTree(existing ? path.dirname(existing) : cwd)).toEqual(before);
    if (!existing) expect(fs.readdirSync(cwd)).toEqual([]);
  };

  test("a leaf certificate (CA:FALSE) or one without basicConstraints", () => {
    const leaf = opensslCa({ newkey: ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"], subj: "/CN=not a ca", ext: ["-addext", "basicConstraints=critical,CA:FALSE"] });
    refused(leaf.crt, leaf.key, new RegExp(`${leaf.crt}: not a CA certificate`));
    // `openssl x509 -req` self-signs a request without adding any extension
    const plain = path.join(leaf.dir, "plain.crt");
    ok(openssl(["req", "-new", "-key", leaf.key, "-subj", "/CN=no bc", "-out", path.join(leaf.dir, "r.csr")]), "req");
    ok(openssl(["x509", "-req", "-in", path.join(leaf.dir, "r.csr"), "-key", leaf.key, "-days", "30", "-out", plain]), "x509 -req");
    expect(openssl(["x509", "-in", plain, "-noout", "-text"]).stdout).not.toMatch(/Basic Constraints/);
    refused(plain, leaf.key, /not a CA certificate/);
  });

  test("a key that is not the certificate's", () => {
    const a = ec();
    const b = ec();
    refused(a.crt, b.key, new RegExp(`${b.key}: the key does not match the certificate`));
  });

  test("keyUsage without keyCertSign", () => {
    const ca = opensslCa({ newkey: ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"], subj: "/CN=no certsign", ext: ["-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,digitalSignature"] });
    refused(ca.crt, ca.key, /keyCertSign/);
  });

  test("a file with two certificates, a key given as the certificate, a missing file", () => {
    const a = ec();
    const b = ec();
    const two = path.join(a.dir, "two.crt");
    fs.writeFileSync(two, fs.readFileSync(a.crt, "utf8") + fs.readFileSync(b.crt, "utf8"));
    refused(two, a.key, /expected one certificate \(the CA\), found 2/);
    refused(a.key, a.key, new RegExp(`${a.key}: expected a PEM certificate`));
    refused(path.join(a.dir, "missing.crt"), a.key, /no such file/);
  });

  test("an existing store without --force; with --force it is replaced", () => {
    const s = makeStore({ name: "Old CA" });
    mtlsOk(["client", "issue", "old-client"], { cwd: s.cwd, env: s.env });
    const ca = ec();
    refused(ca.crt, ca.key, /a CA already exists here \(use --force/, [], s.dir);
    const r = mtls(["ca", "import", ca.crt, ca.key, "--force"], { cwd: s.cwd, env: s.env });
    ok(r, "ca import --force");
    expect(derOf(path.join(s.dir, "ca.crt"))).toBe(derOf(ca.crt));
    expect(fs.existsSync(path.join(s.dir, "issued", "old-client.crt"))).toBe(false);
    expect(fs.readdirSync(path.dirname(s.dir)).filter((f) => f.startsWith("."))).toEqual([]); // no staging left
  });

  test("--no-encrypt with --passphrase-file", () => {
    const ca = ec();
    const pw = path.join(ca.dir, "p.txt");
    fs.writeFileSync(pw, "x\n");
    refused(ca.crt, ca.key, /contradict/, ["--no-encrypt", "--passphrase-file", pw]);
  });
});
