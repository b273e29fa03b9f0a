/**
 * The Foundation's certificate claims, checked with the real OpenSSL against what the CLI issues:
 * profiles (CA, client, server), SANs, serials, validity, keys at rest, CSRs both ways.
 * Every key type is used once as the CA's key and once as a client's key.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as crypto from "node:crypto";
import { mtls, mtlsOk, openssl, tmpDir, RunResult } from "./helpers/cli";
import { csrSubjectRaw, pemToDer, tbsFields, tlvAt, tlvChildren } from "./helpers/x509";

const DAY = 86_400_000;
const PASS = "test-pass";

// ---------------------------------------------------------------- helpers

function ok(args: string[], o: { cwd?: string } = {}): string {
  const r = openssl(args, o);
  if (r.code !== 0) throw new Error(`openssl ${args.join(" ")} exited ${r.code}\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/** `openssl verify -CAfile ca -purpose P cert` (optionally -x509_strict). */
function verify(ca: string, cert: string, purpose: "sslclient" | "sslserver", strict = false): RunResult {
  return openssl(["verify", ...(strict ? ["-x509_strict"] : []), "-CAfile", ca, "-purpose", purpose, cert]);
}

function expectVerifyOk(ca: string, cert: string, purpose: "sslclient" | "sslserver"): void {
  for (const strict of [false, true]) {
    const r = verify(ca, cert, purpose, strict);
    expect({ code: r.code, out: r.stdout.trim(), err: r.stderr }).toEqual({ code: 0, out: `${cert}: OK`, err: "" });
  }
}

function expectVerifyPurposeFails(ca: string, cert: string, purpose: "sslclient" | "sslserver"): void {
  const r = verify(ca, cert, purpose);
  expect(r.code).not.toBe(0);
  expect(r.stdout + r.stderr).toMatch(/unsuitable certificate purpose/);
  expect(r.stdout).not.toMatch(/: OK\s*$/);
}

interface Ext {
  critical: boolean;
  value: string;
}

/**
 * The extensions section of `openssl x509|req -text` output, keyed by openssl's display name
 * ("X509v3 Basic Constraints"), with the critical flag and the value lines joined by "\n".
 */
function extensionsOf(text: string, section = "X509v3 extensions:"): Record<string, Ext> {
  const lines = text.split("\n");
  const start = lines.findIndex((l) => l.trim() === section);
  if (start < 0) throw new Error(`no "${section}" in:\n${text}`);
  const indent = (l: string) => l.length - l.trimStart().length;
  const secIndent = indent(lines[start]);
  const out: Record<string, Ext> = {};
  let hdrIndent = -1;
  let cur: Ext | undefined;
  for (const l of lines.slice(start + 1)) {
    if (!l.trim()) continue;
    const ind = indent(l);
    if (ind <= secIndent) break;
    if (hdrIndent < 0) hdrIndent = ind;
    if (ind === hdrIndent) {
      const m = l.trim().match(/^(.*?):( critical)?$/);
      if (!m) throw new Error(`unexpected extension header "${l}"`);
      cur = { critical: !!m[2], value: "" };
      out[m[1]] = cur;
    } else if (cur) cur.value += (cur.value ? "\n" : "") + l.trim();
  }
  return out;
}

const certText = (file: string) => ok(["x509", "-in", file, "-noout", "-text"]);
const csrText = (file: string) => ok(["req", "-in", file, "-noout", "-text"]);

function dates(file: string): { notBefore: Date; notAfter: Date } {
  const out = ok(["x509", "-in", file, "-noout", "-dates", "-dateopt", "iso_8601"]);
  const get = (k: string) => {
    const m = out.match(new RegExp(`^${k}=(\\d{4})-(\\d\\d)-(\\d\\d) (\\d\\d):(\\d\\d):(\\d\\d)Z$`, "m"));
    if (!m) throw new Error(`no ${k} in ${out}`);
    return new Date(Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]));
  };
  return { notBefore: get("notBefore"), notAfter: get("notAfter") };
}

const subjectRfc2253 = (file: string, kind: "x509" | "req" = "x509") =>
  ok([kind, "-in", file, "-noout", "-subject", "-nameopt", "RFC2253"]).trim().replace(/^subject=/, "");

/** The public key (SPKI PEM) of a certificate, a CSR or a private key, as openssl prints it. */
function pubkeyOf(file: string, kind: "x509" | "req" | "pkey", passin?: string): string {
  if (kind === "x509") return ok(["x509", "-in", file, "-noout", "-pubkey"]);
  if (kind === "req") return ok(["req", "-in", file, "-noout", "-pubkey"]);
  return ok(["pkey", "-in", file, "-pubout", ...(passin ? ["-passin", passin] : [])]);
}

/** RFC 5280 method 1 key identifier (SHA-1 of the subjectPublicKey bits), as openssl prints it. */
function keyIdOf(spkiPem: string): string {
  const spki = tlvAt(pemToDer(spkiPem, "PUBLIC KEY"));
  const bits = tlvChildren(spki)[1].content.subarray(1);
  return crypto.createHash("sha1").update(bits).digest("hex").toUpperCase().match(/../g)!.join(":");
}

const stripKeyid = (v: string) => v.replace(/^keyid:/, "").trim();

function mode(file: string): number {
  return fs.statSync(file).mode & 0o777;
}

/** What `openssl x509 -text` shows for the public key of each key type. */
const PUBKEY_TEXT: Record<string, RegExp> = {
  "ec-p256": /Public Key Algorithm: id-ecPublicKey[\s\S]*?NIST CURVE: P-256/,
  "ec-p384": /Public Key Algorithm: id-ecPublicKey[\s\S]*?NIST CURVE: P-384/,
  "rsa-2048": /Public Key Algorithm: rsaEncryption\s+Public-Key: \(2048 bit\)/,
  "rsa-3072": /Public Key Algorithm: rsaEncryption\s+Public-Key: \(3072 bit\)/,
  "rsa-4096": /Public Key Algorithm: rsaEncryption\s+Public-Key: \(4096 bit\)/,
  ed25519: /Public Key Algorithm: ED25519/,
};

/** The signature algorithm a CA of each key type signs with. */
const SIGALG: Record<string, string> = {
  "ec-p256": "ecdsa-with-SHA256",
  "ec-p384": "ecdsa-with-SHA384",
  "rsa-2048": "sha256WithRSAEncryption",
  "rsa-3072": "sha256WithRSAEncryption",
  "rsa-4096": "sha256WithRSAEncryption",
  ed25519: "ED25519",
};

function newStore(o: { key?: string; days?: number; pathLen?: number; noEncrypt?: boolean; name?: string } = {}) {
  const cwd = tmpDir("mtlsctl-ossl-");
  const dir = path.join(cwd, "pki");
  const env: Record<string, string | undefined> = { MTLSCTL_PASSPHRASE: PASS, MTLSCTL_DIR: dir };
  const r = mtlsOk(
    [
      "ca",
      "init",
      "--name",
      o.name ?? "Test CA",
      "--key",
      o.key ?? "ec-p256",
      ...(o.days !== undefined ? ["--days", String(o.days)] : []),
      ...(o.pathLen !== undefined ? ["--path-len", String(o.pathLen)] : []),
      ...(o.noEncrypt ? ["--no-encrypt"] : []),
    ],
    { cwd, env },
  );
  return { cwd, dir, env, init: r, caCrt: path.join(dir, "ca.crt"), caKey: path.join(dir, "private", "ca.key") };
}

const ALICE_SANS = ["--email", "alice@example.com", "--dns", "alice.example.com", "--uri", "spiffe://example.com/user/alice", "--ip", "192.0.2.10", "--ip", "2001:db8::10"];
const ALICE_SAN_TEXT = "email:alice@example.com, DNS:alice.example.com, URI:spiffe://example.com/user/alice, IP Address:192.0.2.10, IP Address:2001:DB8:0:0:0:0:0:10";

// ---------------------------------------------------------------- every key type, as CA and as client

const MATRIX: { ca: string; client: string; pathLen?: number }[] = [
  { ca: "ec-p256", client: "rsa-3072", pathLen: 0 },
  { ca: "ec-p384", client: "rsa-2048" },
  { ca: "rsa-2048", client: "ed25519", pathLen: 2 },
  { ca: "rsa-3072", client: "ec-p384" },
  { ca: "rsa-4096", client: "ec-p256" },
  { ca: "ed25519", client: "rsa-4096", pathLen: 1 },
];

describe.each(MATRIX)("CA $ca, client $client", ({ ca, client, pathLen }) => {
  let s: ReturnType<typeof newStore>;
  let alice: string, nats1: string, t0: number, t1: number;

  beforeAll(() => {
    s = newStore({ key: ca, pathLen, name: `Test CA ${ca}` });
    t0 = Date.now();
    mtlsOk(["client", "issue", "alice", "--key", client, ...ALICE_SANS], { cwd: s.cwd, env: s.env });
    t1 = Date.now();
    mtlsOk(["server", "issue", "nats1", "--key", client, "--dns", "nats1.example.com", "--ip", "127.0.0.1"], { cwd: s.cwd, env: s.env });
    alice = path.join(s.dir, "issued", "alice.crt");
    nats1 = path.join(s.dir, "issued", "nats1.crt");
  }, 120_000);

  test("openssl verify: the client certificate passes -purpose sslclient and fails sslserver", () => {
    expectVerifyOk(s.caCrt, alice, "sslclient");
    expectVerifyPurposeFails(s.caCrt, alice, "sslserver");
  });

  test("openssl verify: the server certificate passes -purpose sslserver and fails sslclient", () => {
    expectVerifyOk(s.caCrt, nats1, "sslserver");
    expectVerifyPurposeFails(s.caCrt, nats1, "sslclient");
  });

  test("the CA certificate: CA:TRUE critical (pathlen as given), keyUsage critical keyCertSign+cRLSign, SKI", () => {
    const text = certText(s.caCrt);
    expect(text).toMatch(PUBKEY_TEXT[ca]);
    expect(text).toContain(`Signature Algorithm: ${SIGALG[ca]}`);
    expect(subjectRfc2253(s.caCrt)).toBe(`CN=Test CA ${ca}`);
    const e = extensionsOf(text);
    expect(e["X509v3 Basic Constraints"]).toEqual({ critical: true, value: pathLen === undefined ? "CA:TRUE" : `CA:TRUE, pathlen:${pathLen}` });
    expect(e["X509v3 Key Usage"]).toEqual({ critical: true, value: "Certificate Sign, CRL Sign" });
    const ski = e["X509v3 Subject Key Identifier"];
    expect(ski.critical).toBe(false);
    expect(ski.value).toBe(keyIdOf(pubkeyOf(s.caCrt, "x509")));
    expect(e["X509v3 Extended Key Usage"]).toBeUndefined();
    // self-signed: issuer and subject are the same bytes
    const f = tbsFields(pemToDer(fs.readFileSync(s.caCrt, "utf8"), "CERTIFICATE"));
    expect(f.issuer.raw.equals(f.subject.raw)).toBe(true);
  });

  test("the client certificate: profile, SANs, AKI = CA's SKI, 16-byte positive serial, 365 days", () => {
    const text = certText(alice);
    expect(text).toMatch(PUBKEY_TEXT[client]);
    expect(text).toContain(`Signature Algorithm: ${SIGALG[ca]}`);
    expect(text).toContain("Version: 3 (0x2)");
    expect(subjectRfc2253(alice)).toBe("CN=alice");
    const e = extensionsOf(text);
    expect(Object.keys(e).sort()).toEqual(
      [
        "X509v3 Authority Key Identifier",
        "X509v3 Basic Constraints",
        "X509v3 Extended Key Usage",
        "X509v3 Key Usage",
        "X509v3 Subject Alternative Name",
        "X509v3 Subject Key Identifier",
      ].sort(),
    );
    expect(e["X509v3 Basic Constraints"]).toEqual({ critical: true, value: "CA:FALSE" });
    // never keyEncipherment with clientAuth alone, RSA too (RFC 5280 4.2.1.12; zlint e_key_usage_and_extended_key_usage_inconsistent)
    expect(e["X509v3 Key Usage"]).toEqual({ critical: true, value: "Digital Signature" });
    expect(e["X509v3 Extended Key Usage"]).toEqual({ critical: false, value: "TLS Web Client Authentication" });
    expect(e["X509v3 Subject Alternative Name"]).toEqual({ critical: false, value: ALICE_SAN_TEXT });
    expect(e["X509v3 Subject Key Identifier"].value).toBe(keyIdOf(pubkeyOf(alice, "x509")));
    const caSki = extensionsOf(certText(s.caCrt))["X509v3 Subject Key Identifier"].value;
    expect(stripKeyid(e["X509v3 Authority Key Identifier"].value)).toBe(caSki);

    // serial: 16 bytes, positive (openssl prints a "-" for negative serials)
    const serial = ok(["x509", "-in", alice, "-noout", "-serial"]).trim();
    expect(serial).toMatch(/^serial=[0-7][0-9A-F]{31}$/);
    const f = tbsFields(pemToDer(fs.readFileSync(alice, "utf8"), "CERTIFICATE"));
    expect(f.serial.content.length).toBe(16);
    expect(f.serial.content[0] & 0x80).toBe(0);
    expect(serial).not.toBe(ok(["x509", "-in", nats1, "-noout", "-serial"]).trim());

    // validity: the default is 365 days from issuance
    const d = dates(alice);
    expect(d.notAfter.getTime()).toBeGreaterThanOrEqual(t0 - 1000 + 365 * DAY);
    expect(d.notAfter.getTime()).toBeLessThanOrEqual(t1 + 365 * DAY);
    expect(d.notBefore.getTime()).toBeLessThanOrEqual(t0);
    // and the issuer is the CA's subject, byte for byte
    const caF = tbsFields(pemToDer(fs.readFileSync(s.caCrt, "utf8"), "CERTIFICATE"));
    expect(f.issuer.raw.equals(caF.subject.raw)).toBe(true);
  });

  test("the server certificate: serverAuth only, its DNS and IP SANs", () => {
    const e = extensionsOf(certText(nats1));
    expect(e["X509v3 Basic Constraints"]).toEqual({ critical: true, value: "CA:FALSE" });
    expect(e["X509v3 Extended Key Usage"]).toEqual({ critical: false, value: "TLS Web Server Authentication" });
    expect(e["X509v3 Subject Alternative Name"].value).toBe("DNS:nats1.example.com, IP Address:127.0.0.1");
  });

  test("the CA key: encrypted PKCS#8 (PBES2, AES-256-CBC), mode 0600, readable only with the passphrase", () => {
    const pem = fs.readFileSync(s.caKey, "utf8");
    expect(pem.startsWith("-----BEGIN ENCRYPTED PRIVATE KEY-----\n")).toBe(true);
    expect(pem).not.toMatch(/BEGIN (RSA |EC )?PRIVATE KEY/);
    expect(mode(s.caKey)).toBe(0o600);
    expect(mode(path.join(s.dir, "private"))).toBe(0o700);
    const asn1 = ok(["asn1parse", "-in", s.caKey]);
    expect(asn1).toMatch(/OBJECT\s+:PBES2/);
    expect(asn1).toMatch(/OBJECT\s+:PBKDF2/);
    expect(asn1).toMatch(/OBJECT\s+:aes-256-cbc/);
    expect(openssl(["pkey", "-in", s.caKey, "-passin", `pass:${PASS}`, "-noout"]).code).toBe(0);
    const wrong = openssl(["pkey", "-in", s.caKey, "-passin", "pass:wrong-pass", "-noout"]);
    expect(wrong.code).not.toBe(0);
    // the key is the CA certificate's key
    expect(pubkeyOf(s.caKey, "pkey", `pass:${PASS}`)).toBe(pubkeyOf(s.caCrt, "x509"));
  });

  test("leaf keys: unencrypted PKCS#8 PEM, mode 0600, matching their certificates", () => {
    for (const name of ["alice", "nats1"]) {
      const keyFile = path.join(s.dir, "private", `${name}.key`);
      const pem = fs.readFileSync(keyFile, "utf8");
      expect(pem).toMatch(/^-----BEGIN PRIVATE KEY-----\n[\s\S]+\n-----END PRIVATE KEY-----\n$/);
      expect(mode(keyFile)).toBe(0o600);
      // PKCS#8: PrivateKeyInfo ::= SEQUENCE { version 0, AlgorithmIdentifier, OCTET STRING }
      const asn1 = ok(["asn1parse", "-in", keyFile]);
      expect(asn1).toMatch(/^\s*0:d=0.*SEQUENCE\s*\n\s*\d+:d=1.*INTEGER\s+:00\s*\n\s*\d+:d=1.*SEQUENCE/);
      expect(pubkeyOf(keyFile, "pkey")).toBe(pubkeyOf(path.join(s.dir, "issued", `${name}.crt`), "x509"));
    }
  });
});

// ---------------------------------------------------------------- validity clamping

describe("--days past the CA's notAfter", () => {
  let s: ReturnType<typeof newStore>;
  beforeAll(() => {
    s = newStore({ days: 30 });
  });

  test("client issue clamps to the CA's notAfter, with a warning on stderr", () => {
    const r = mtlsOk(["client", "issue", "bob", "--days", "365", "--email", "bob@example.com"], { cwd: s.cwd, env: s.env });
    const crt = path.join(s.dir, "issued", "bob.crt");
    expect(dates(crt).notAfter.getTime()).toBe(dates(s.caCrt).notAfter.getTime());
    expect(r.stderr).toMatch(/^mtlsctl: warning: .*outlive the CA/m);
    expectVerifyOk(s.caCrt, crt, "sslclient");
  });

  test("client sign clamps too", () => {
    mtlsOk(["client", "csr", "carol", "--email", "carol@example.com"], { cwd: s.cwd, env: s.env });
    const r = mtlsOk(["client", "sign", "carol.csr", "--days", "1000"], { cwd: s.cwd, env: s.env });
    expect(dates(path.join(s.dir, "issued", "carol.crt")).notAfter.getTime()).toBe(dates(s.caCrt).notAfter.getTime());
    expect(r.stderr).toMatch(/^mtlsctl: warning: .*outlive the CA/m);
  });

  test("--days within the CA's life is kept, without a warning", () => {
    const t0 = Date.now();
    const r = mtlsOk(["client", "issue", "dan", "--days", "10"], { cwd: s.cwd, env: s.env });
    const t1 = Date.now();
    const na = dates(path.join(s.dir, "issued", "dan.crt")).notAfter.getTime();
    expect(na).toBeGreaterThanOrEqual(t0 - 1000 + 10 * DAY);
    expect(na).toBeLessThanOrEqual(t1 + 10 * DAY);
    expect(r.stderr).not.toMatch(/outlive/);
  });
});

// ---------------------------------------------------------------- --no-encrypt

describe("ca init --no-encrypt", () => {
  test("writes an unencrypted PKCS#8 key (mode 0600) and warns", () => {
    const s = newStore({ noEncrypt: true });
    expect(s.init.stderr).toMatch(/^mtlsctl: warning: .*NOT encrypted/m);
    const pem = fs.readFileSync(s.caKey, "utf8");
    expect(pem.startsWith("-----BEGIN PRIVATE KEY-----\n")).toBe(true);
    expect(mode(s.caKey)).toBe(0o600);
    expect(openssl(["pkey", "-in", s.caKey, "-noout", "-passin", "pass:"]).code).toBe(0);
    expect(ok(["asn1parse", "-in", s.caKey])).not.toMatch(/PBES2/);
    expect(pubkeyOf(s.caKey, "pkey")).toBe(pubkeyOf(s.caCrt, "x509"));
    // usable with no passphrase at all
    mtlsOk(["client", "issue", "erin"], { cwd: s.cwd, env: { ...s.env, MTLSCTL_PASSPHRASE: undefined } });
    expectVerifyOk(s.caCrt, path.join(s.dir, "issued", "erin.crt"), "sslclient");
  });

  test("an encrypted CA prints no such warning", () => {
    const s = newStore();
    expect(s.init.stderr).not.toMatch(/NOT encrypted/);
  });
});

// ---------------------------------------------------------------- CSRs made by openssl req

describe.each([
  { kind: "rsa", newkey: ["-newkey", "rsa:2048"], ku: "Digital Signature" /* never keyEncipherment with clientAuth alone (RFC 5280 4.2.1.12) */ },
  { kind: "ec", newkey: ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"], ku: "Digital Signature" },
  { kind: "ed25519", newkey: ["-newkey", "ed25519"], ku: "Digital Signature" },
])("client sign of an openssl req CSR ($kind)", ({ newkey, ku }) => {
  let s: ReturnType<typeof newStore>;
  const req = (name: string, subj: string, sans = `email:${name}@example.com,DNS:${name}.example.com`) => {
    ok(
      [
        "req",
        "-new",
        ...newkey,
        "-nodes",
        "-keyout",
        `${name}.key`,
        "-out",
        `${name}.csr`,
        "-subj",
        subj,
        "-addext",
        `subjectAltName=${sans}`,
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "extendedKeyUsage=serverAuth",
      ],
      { cwd: s.cwd },
    );
    // the request really asks for CA:TRUE and serverAuth
    const e = extensionsOf(csrText(path.join(s.cwd, `${name}.csr`)), "Requested Extensions:");
    expect(e["X509v3 Basic Constraints"]).toEqual({ critical: true, value: "CA:TRUE" });
    expect(e["X509v3 Extended Key Usage"].value).toBe("TLS Web Server Authentication");
    return path.join(s.cwd, `${name}.csr`);
  };

  beforeAll(() => {
    s = newStore();
  });

  test("keeps the subject bytes and SANs, drops CA:TRUE and serverAuth with warnings", () => {
    const csr = req("dave", "/O=Acme/CN=dave");
    const r = mtls(["client", "sign", "dave.csr"], { cwd: s.cwd, env: s.env });
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/^mtlsctl: warning: .*basicConstraints \(CA:TRUE\).*ignored/m);
    expect(r.stderr).toMatch(/^mtlsctl: warning: .*extKeyUsage \(serverAuth\).*ignored/m);
    const crt = path.join(s.dir, "issued", "dave.crt");
    const certDer = pemToDer(fs.readFileSync(crt, "utf8"), "CERTIFICATE");
    const csrDer = pemToDer(fs.readFileSync(csr, "utf8"), "CERTIFICATE REQUEST");
    expect(tbsFields(certDer).subject.raw.toString("hex")).toBe(csrSubjectRaw(csrDer).toString("hex"));
    expect(subjectRfc2253(crt)).toBe("CN=dave,O=Acme");
    const e = extensionsOf(certText(crt));
    expect(Object.keys(e).sort()).toEqual(
      [
        "X509v3 Authority Key Identifier",
        "X509v3 Basic Constraints",
        "X509v3 Extended Key Usage",
        "X509v3 Key Usage",
        "X509v3 Subject Alternative Name",
        "X509v3 Subject Key Identifier",
      ].sort(),
    );
    expect(e["X509v3 Basic Constraints"]).toEqual({ critical: true, value: "CA:FALSE" });
    expect(e["X509v3 Extended Key Usage"]).toEqual({ critical: false, value: "TLS Web Client Authentication" });
    expect(e["X509v3 Key Usage"]).toEqual({ critical: true, value: ku });
    expect(e["X509v3 Subject Alternative Name"].value).toBe("email:dave@example.com, DNS:dave.example.com");
    expect(pubkeyOf(crt, "x509")).toBe(pubkeyOf(csr, "req"));
    expectVerifyOk(s.caCrt, crt, "sslclient");
    expectVerifyPurposeFails(s.caCrt, crt, "sslserver");
    // the CSR is kept in the store as it was
    expect(pemToDer(fs.readFileSync(path.join(s.dir, "reqs", "dave.csr"), "utf8"), "CERTIFICATE REQUEST").equals(csrDer)).toBe(true);
  });

  test("SAN flags on sign replace the CSR's SANs", () => {
    req("eve", "/O=Acme/CN=eve");
    mtlsOk(["client", "sign", "eve.csr", "--email", "eve@corp.example", "--uri", "spiffe://corp.example/eve"], { cwd: s.cwd, env: s.env });
    const crt = path.join(s.dir, "issued", "eve.crt");
    expect(extensionsOf(certText(crt))["X509v3 Subject Alternative Name"].value).toBe("email:eve@corp.example, URI:spiffe://corp.example/eve");
    expect(subjectRfc2253(crt)).toBe("CN=eve,O=Acme");
  });

  test("--subject replaces the CSR's subject (canonical order) and keeps its SANs; --name names it", () => {
    req("frank", "/CN=frank/O=Evil");
    mtlsOk(["client", "sign", "frank.csr", "--name", "frank2", "--subject", "CN=frank2,OU=eng,O=Acme,C=US"], { cwd: s.cwd, env: s.env });
    const crt = path.join(s.dir, "issued", "frank2.crt");
    expect(fs.existsSync(path.join(s.dir, "issued", "frank.crt"))).toBe(false);
    expect(subjectRfc2253(crt)).toBe("CN=frank2,OU=eng,O=Acme,C=US");
    expect(ok(["x509", "-in", crt, "-noout", "-subject", "-nameopt", "oneline"]).trim()).toBe("subject=C = US, O = Acme, OU = eng, CN = frank2");
    expect(extensionsOf(certText(crt))["X509v3 Subject Alternative Name"].value).toBe("email:frank@example.com, DNS:frank.example.com");
  });

  test("a subject in non-canonical order is kept byte for byte, with a warning", () => {
    const csr = req("gina", "/CN=gina/O=Acme");
    const r = mtlsOk(["client", "sign", "gina.csr"], { cwd: s.cwd, env: s.env });
    const crt = path.join(s.dir, "issued", "gina.crt");
    const csrDer = pemToDer(fs.readFileSync(csr, "utf8"), "CERTIFICATE REQUEST");
    expect(tbsFields(pemToDer(fs.readFileSync(crt, "utf8"), "CERTIFICATE")).subject.raw.equals(csrSubjectRaw(csrDer))).toBe(true);
    expect(subjectRfc2253(crt)).toBe("O=Acme,CN=gina");
    expect(r.stderr).toMatch(/^mtlsctl: warning: the request's subject .*--subject/m);
  });
});

// ---------------------------------------------------------------- CSRs made by mtlsctl client csr

describe.each(["ec-p256", "ec-p384", "rsa-2048", "ed25519"])("client csr --key %s", (key) => {
  test("openssl req -verify accepts it; subject CN=alice; the requested SANs; key mode 0600", () => {
    const cwd = tmpDir("mtlsctl-csr-");
    const r = mtlsOk(["client", "csr", "alice", "--key", key, ...ALICE_SANS], { cwd, env: { MTLSCTL_DIR: path.join(cwd, "nowhere") } });
    expect(r.stderr).toBe("");
    expect(fs.existsSync(path.join(cwd, "nowhere"))).toBe(false); // no store needed, none made
    const csr = path.join(cwd, "alice.csr");
    const keyFile = path.join(cwd, "alice.key");
    const v = openssl(["req", "-verify", "-noout", "-in", csr]);
    expect(v.code).toBe(0);
    expect(v.stdout + v.stderr).toMatch(/verify OK/);
    expect(subjectRfc2253(csr, "req")).toBe("CN=alice");
    const text = csrText(csr);
    expect(text).toMatch(PUBKEY_TEXT[key]);
    const e = extensionsOf(text, "Requested Extensions:");
    expect(e["X509v3 Subject Alternative Name"]).toEqual({ critical: false, value: ALICE_SAN_TEXT });
    expect(mode(keyFile)).toBe(0o600);
    expect(fs.readFileSync(keyFile, "utf8")).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    expect(pubkeyOf(keyFile, "pkey")).toBe(pubkeyOf(csr, "req"));
  });
});

test("client csr --out-dir, then client sign on the CA: the whole round trip verifies", () => {
  const s = newStore({ key: "ec-p384" });
  const out = tmpDir("mtlsctl-csr-out-");
  mtlsOk(["client", "csr", "hank", "--key", "ed25519", "--email", "hank@example.com", "--out-dir", out], { cwd: s.cwd });
  const csr = path.join(out, "hank.csr");
  expect(openssl(["req", "-verify", "-noout", "-in", csr]).code).toBe(0);
  const r = mtlsOk(["client", "sign", csr], { cwd: s.cwd, env: s.env });
  expect(r.stderr).toBe("");
  const crt = path.join(s.dir, "issued", "hank.crt");
  expectVerifyOk(s.caCrt, crt, "sslclient");
  expect(pubkeyOf(crt, "x509")).toBe(pubkeyOf(path.join(out, "hank.key"), "pkey"));
  expect(extensionsOf(certText(crt))["X509v3 Subject Alternative Name"].value).toBe("email:hank@example.com");
  expect(fs.existsSync(path.join(s.dir, "private", "hank.key"))).toBe(false); // the key never came to the CA
});

test("IPv6 SANs, including IPv4-mapped and compressed forms, are encoded as RFC 4291 bytes", () => {
  const s = newStore();
  mtlsOk(["client", "issue", "ivy", "--ip", "::1", "--ip", "fe80::1:2", "--ip", "2001:DB8:0:0:1::1", "--ip", "::192.0.2.1"], { cwd: s.cwd, env: s.env });
  const crt = path.join(s.dir, "issued", "ivy.crt");
  expect(extensionsOf(certText(crt))["X509v3 Subject Alternative Name"].value).toBe(
    "IP Address:0:0:0:0:0:0:0:1, IP Address:FE80:0:0:0:0:0:1:2, IP Address:2001:DB8:0:0:1:0:0:1, IP Address:0:0:0:0:0:0:C000:201",
  );
  // an IPv4-mapped address is refused (Go and OpenSSL read it differently): test/review-defects.test.ts
});

test("a CSR with a refused SAN or an empty subject is signed once the flags supply them", () => {
  const s = newStore();
  const req = (name: string, extra: string[]) =>
    ok(["req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", `${name}.key`, "-out", `${name}.csr`, ...extra], { cwd: s.cwd });
  req("sanbad", ["-subj", "/CN=sanbad", "-addext", "subjectAltName=email:dave"]);
  req("nosubject", ["-subj", "/"]);
  expect(mtls(["client", "sign", "sanbad.csr"], { cwd: s.cwd, env: s.env }).code).toBe(3);
  mtlsOk(["client", "sign", "sanbad.csr", "--email", "dave@example.com"], { cwd: s.cwd, env: s.env });
  expect(extensionsOf(certText(path.join(s.dir, "issued", "sanbad.crt")))["X509v3 Subject Alternative Name"].value).toBe("email:dave@example.com");
  mtlsOk(["client", "sign", "nosubject.csr", "--subject", "CN=nosubject,O=Acme"], { cwd: s.cwd, env: s.env });
  const crt = path.join(s.dir, "issued", "nosubject.crt");
  expect(subjectRfc2253(crt)).toBe("CN=nosubject,O=Acme");
  expectVerifyOk(s.caCrt, crt, "sslclient");
});
