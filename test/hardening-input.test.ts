/**
 * Issue 8, item 1: the catalogue of bad input. test/bad-input.test.ts covers the kinds listed in
 * COVERED_ELSEWHERE; this file adds the missing kinds, one `kind(...)` each. Every refusal must be:
 * exit 3, nothing on stdout, exactly one line on stderr `mtlsctl: <file>: <problem>` (naming the
 * file whenever a file is at fault), and the working directory — the store and every other store,
 * input file and directory under it — byte-for-byte unchanged (hashTree before and after: content
 * and mode of every file, every directory; no lock, temporary or staging file left).
 * The last test prints the count: distinct kinds here + there, at least 40.
 */
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { spawnSync } from "node:child_process";
import { hashTree, mtls, mtlsOk, openssl, RunResult, tmpDir } from "./helpers/cli";
import { derToPem, pemToDer } from "./helpers/x509";
import { dn, issue as makeCert, makeCa } from "./helpers/certs";
import * as der from "../src/asn1/der";
import { OID } from "../src/asn1/oids";
import { buildCsr } from "../src/pki/csr";
import { generateKey } from "../src/pki/keys";
import { emptySans, Sans } from "../src/pki/san";
import { toPem } from "../src/pki/pem";

const PASS = "test-pass";

/** The exit-3 kinds test/bad-input.test.ts already has (one entry per kind, not per case). */
const COVERED_ELSEWHERE = [
  "garbled PEM (text that is no PEM at all)",
  "garbled DER (binary that is no ASN.1 certificate request)",
  "a CSR whose signature fails (flipped signature byte; subject edited after signing)",
  "truncated PEM (no END line)",
  "PEM whose DER body was cut (lines removed)",
  "wrong PEM label (a CERTIFICATE or PRIVATE KEY where a CERTIFICATE REQUEST is expected)",
  "several blocks where one is expected (two CSRs in one file)",
  "an empty file",
  "a directory given as a file",
  "a file that does not exist",
  "a CSR with a key nats-server cannot use (secp256k1)",
  "a CSR with a malformed SAN (email without @ inside the request)",
  "a CSR with an empty subject and no SAN",
  "a wrong passphrase (environment and --passphrase-file)",
  "a --passphrase-file that does not exist",
  "a missing store (--dir / MTLSCTL_DIR pointing nowhere)",
  "ca init over an existing CA without --force",
  "an existing name without --force (client issue, client sign)",
  "names with /, .., a leading dot, a space, or empty",
  "an email without @ (or without a domain)",
  "a DNS name with spaces or a bad label",
  "a bad IP address (300.1.2.3, 1.2.3, an IPv6 zone)",
  "a relative URI",
  "a DN with an unknown attribute type",
  "a DN with ';' as separator",
  "a DN with a bad country code",
  "--days out of range",
  "an unknown key type",
];

const NEW_KINDS: string[] = [];
/** One kind of bad input: a test, counted in the catalogue. */
function kind(name: string, fn: () => void): void {
  NEW_KINDS.push(name);
  test(name, fn);
}

let cwd: string; // holds every store and input file: hashed before and after each refusal
let dir: string; // the main store
let env: Record<string, string | undefined>;
let caKeyFile: string;
const stores: Record<string, string> = {};
const p = (...parts: string[]) => path.join(cwd, ...parts);
const w = (name: string, data: string | Buffer) => fs.writeFileSync(p(name), data, { mode: 0o600 }); // 0600: a secret file others can read draws a warning

const NO_SANS = (): Sans => emptySans();
function cnName(value: string | Buffer, tag: number = der.Tag.UTF8String): Buffer {
  return der.seq(der.setOf(der.seq(der.oid(OID.CN), der.tlv(tag, Buffer.isBuffer(value) ? value : Buffer.from(value, "utf8")))));
}
/** A CSR (properly self-signed) with any subject bytes and any SANs, unchecked. */
function csrFile(name: string, subject: Buffer, sans: Partial<Sans> = {}): void {
  const key = generateKey("ec-p256");
  w(name, toPem("CERTIFICATE REQUEST", buildCsr(key, subject, { ...NO_SANS(), ...sans })));
}

/** A copy of the main store, to be damaged in one way. */
function storeCopy(name: string): string {
  const d = p("stores", name);
  fs.cpSync(dir, d, { recursive: true });
  fs.chmodSync(path.join(d, "private"), 0o700);
  for (const f of fs.readdirSync(path.join(d, "private"))) fs.chmodSync(path.join(d, "private", f), 0o600);
  stores[name] = d;
  return d;
}

function decryptedCaKey(store: string): crypto.KeyObject {
  return crypto.createPrivateKey({ key: fs.readFileSync(path.join(store, "private", "ca.key"), "utf8"), format: "pem", passphrase: PASS });
}

beforeAll(() => {
  cwd = tmpDir("mtlsctl-hardening-");
  fs.chmodSync(cwd, 0o755); // the read-only case runs as another user when the tests run as root
  dir = p("pki");
  caKeyFile = path.join(dir, "private", "ca.key");
  env = { MTLSCTL_PASSPHRASE: PASS, MTLSCTL_DIR: dir };
  mtlsOk(["ca", "init", "--name", "Test CA"], { cwd, env });
  mtlsOk(["client", "issue", "alice", "--email", "alice@example.com"], { cwd, env });
  const aliceCrt = fs.readFileSync(path.join(dir, "issued", "alice.crt"), "utf8");
  const aliceDer = pemToDer(aliceCrt, "CERTIFICATE");
  const caCrt = fs.readFileSync(path.join(dir, "ca.crt"), "utf8");
  fs.mkdirSync(p("stores"));

  // ---- files and encodings
  w("ca-key.der", decryptedCaKey(dir).export({ type: "pkcs8", format: "der" }) as Buffer);
  fs.chmodSync(p("ca-key.der"), 0o600);
  fs.writeFileSync(p("ca-key.pem"), decryptedCaKey(dir).export({ type: "pkcs8", format: "pem" }) as string, { mode: 0o600 });
  mtlsOk(["client", "csr", "good", "--email", "good@example.com"], { cwd, env });
  const goodCsrDer = pemToDer(fs.readFileSync(p("good.csr"), "utf8"), "CERTIFICATE REQUEST");
  w("csr-as-cert.der", goodCsrDer); // DER of the wrong kind: a request where a certificate is expected
  w("csr-in-cert-label.pem", derToPem(goodCsrDer, "CERTIFICATE")); // PEM label and body disagree
  w("trailing.der", Buffer.concat([aliceDer, Buffer.from("garbage")]));
  const lines = aliceCrt.trimEnd().split("\n");
  w("mismatched-end.pem", [...lines.slice(0, -1), "-----END CERTIFICATE REQUEST-----", ""].join("\n"));
  w("bad-base64.pem", [lines[0], "!" + lines[1].slice(1), ...lines.slice(2), ""].join("\n"));
  w("unarmoured.b64", aliceDer.toString("base64") + "\n"); // base64 without the PEM lines
  w("two-ca.crt", caCrt + caCrt);
  w("big.csr", "-----BEGIN CERTIFICATE REQUEST-----\n" + "A".repeat(1024 * 1024) + "\n-----END CERTIFICATE REQUEST-----\n");
  w("big.crt", Buffer.concat([Buffer.from(aliceCrt), Buffer.alloc(1024 * 1024 + 1, 0x0a)]));
  w("empty.crt", "");
  w("empty-pass.txt", "\n");
  fs.mkdirSync(p("pass-dir"));

  // ---- CSRs with hostile subjects and SANs (properly signed: only their contents are wrong)
  csrFile("subject-nul.csr", cnName("a\u0000b"));
  csrFile("subject-no-value.csr", der.seq(der.setOf(der.seq(der.oid(OID.CN))))); // found by scripts/fuzz.js
  w("empty-sequence.der", Buffer.from([0x30, 0x00])); // found by scripts/fuzz.js (was an internal error)
  csrFile("subject-newline.csr", cnName("alice\nCN=admin"));
  csrFile("subject-esc.csr", cnName("a\u001b[31mred"));
  csrFile("subject-bad-utf8.csr", cnName(Buffer.from([0x61, 0xff, 0xfe, 0x62])));
  csrFile("subject-long.csr", cnName("x".repeat(65)));
  csrFile("subject-long-other.csr", der.seq(der.setOf(der.seq(der.oid("2.5.4.12"), der.tlv(der.Tag.UTF8String, Buffer.from("t".repeat(257)))))));
  csrFile("san-nul.csr", cnName("ok"), { email: ["a\u0000b@example.com"] });
  csrFile("san-newline.csr", cnName("ok"), { dns: ["a.example.com\nb.example.com"] });
  csrFile("san-relative-uri.csr", cnName("ok"), { uri: ["alice/profile"] });
  csrFile("san-long-dns.csr", cnName("ok"), { dns: [("a".repeat(60) + ".").repeat(5) + "com"] });

  // ---- ca import inputs
  const leaf = makeCert({ subject: dn(["CN", "leaf"]) });
  w("leaf.crt", leaf.pem);
  fs.writeFileSync(p("leaf.key"), leaf.key.export({ type: "pkcs8", format: "pem" }) as string, { mode: 0o600 });
  const other = makeCa("Other CA");
  w("other-ca.crt", other.pem);
  fs.writeFileSync(p("other-ca.key"), other.key.export({ type: "pkcs8", format: "pem" }) as string, { mode: 0o600 });

  // ---- damaged stores (copies of the main one)
  fs.writeFileSync(path.join(storeCopy("no-inventory"), "inventory.json"), "");
  fs.rmSync(path.join(stores["no-inventory"], "inventory.json"));
  fs.writeFileSync(path.join(storeCopy("inventory-not-json"), "inventory.json"), '{"version": 1, "ca": {');
  fs.writeFileSync(path.join(storeCopy("inventory-structure"), "inventory.json"), '{"version": 1, "ca": null, "certificates": {}}\n');
  fs.writeFileSync(path.join(storeCopy("inventory-binary"), "inventory.json"), crypto.randomBytes(64));
  fs.writeFileSync(path.join(storeCopy("ca-garbled"), "ca.crt"), "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n");
  fs.writeFileSync(path.join(storeCopy("ca-two"), "ca.crt"), caCrt + caCrt);
  fs.rmSync(path.join(storeCopy("ca-missing"), "ca.crt"));
  fs.rmSync(path.join(storeCopy("key-missing"), "private", "ca.key"));
  {
    // a corrupted encrypted key: one byte of the ciphertext changed (still valid PEM and base64)
    const d = storeCopy("key-corrupt");
    const keyFile = path.join(d, "private", "ca.key");
    const keyDer = pemToDer(fs.readFileSync(keyFile, "utf8"), "ENCRYPTED PRIVATE KEY");
    keyDer[keyDer.length - 20] ^= 0x55;
    fs.writeFileSync(keyFile, derToPem(keyDer, "ENCRYPTED PRIVATE KEY"));
    // and one whose ASN.1 structure is cut short (the PEM armour is intact)
    const d2 = storeCopy("key-truncated");
    fs.writeFileSync(path.join(d2, "private", "ca.key"), derToPem(keyDer.subarray(0, keyDer.length - 40), "ENCRYPTED PRIVATE KEY"));
  }
  {
    // the CA key of another CA (same passphrase): it does not match ca.crt
    const d = storeCopy("key-mismatch");
    const otherStore = p("other-store");
    mtlsOk(["ca", "init", "--name", "Other"], { cwd, env: { ...env, MTLSCTL_DIR: otherStore } });
    fs.copyFileSync(path.join(otherStore, "private", "ca.key"), path.join(d, "private", "ca.key"));
  }
  {
    // the CA key in DER where PEM is required
    const d = storeCopy("key-der");
    fs.writeFileSync(path.join(d, "private", "ca.key"), decryptedCaKey(dir).export({ type: "pkcs8", format: "der" }) as Buffer);
  }
  {
    // the CA key readable by everyone
    const d = storeCopy("key-open");
    fs.chmodSync(path.join(d, "private", "ca.key"), 0o644);
    const d2 = storeCopy("key-group");
    fs.chmodSync(path.join(d2, "private", "ca.key"), 0o640);
  }
  {
    // an expired CA: the same key, a certificate that ended yesterday
    const d = storeCopy("expired");
    const key = decryptedCaKey(d);
    const DAY = 86_400_000;
    const expired = makeCert({ subject: dn(["CN", "Test CA"]), key, basic: { ca: true }, notBefore: new Date(Date.now() - 30 * DAY), notAfter: new Date(Date.now() - DAY) });
    fs.writeFileSync(path.join(d, "ca.crt"), expired.pem);
  }
  {
    // a read-only store: as root, the store belongs to "nobody", who runs mtlsctl; else chmod a-w
    const d = storeCopy("read-only");
    const dirs = [d, ...["issued", "reqs", "private", "renewed", "nkeys"].map((s) => path.join(d, s))];
    if (process.getuid?.() === 0) {
      const chown = (f: string) => fs.chownSync(f, 65534, 65534);
      const walk = (x: string) => {
        chown(x);
        if (fs.statSync(x).isDirectory()) for (const e of fs.readdirSync(x)) walk(path.join(x, e));
      };
      walk(d);
    }
    for (const x of dirs) fs.chmodSync(x, fs.statSync(x).mode & 0o555);
  }
  fs.writeFileSync(p("stores", "a-file"), "not a directory\n");

  // ---- configurations the server would not load
  w("unterminated.conf", 'authorization {\n  users = [ { user: "alice@example.com" }\n');
  w("bad-token.conf", "port: 4222\nauthorization { users = [ { user: alice@example.com, password: } ] }\n");
  w("refused.conf", "tls { cert_file: 1 }\n");
  w("include-missing.conf", 'include "nowhere.conf"\n');
});

afterAll(() => {
  // let the temporary directory be removed (the read-only store has no write bits)
  const d = stores["read-only"];
  if (d) for (const x of [d, ...["issued", "reqs", "private", "renewed", "nkeys"].map((s) => path.join(d, s))]) fs.chmodSync(x, 0o755);
});

/** Runs mtlsctl (as "nobody" when asked and running as root) with the shared cwd. */
function run(args: string[], o: { env?: Record<string, string | undefined>; asNobody?: boolean } = {}): RunResult {
  if (o.asNobody && process.getuid?.() === 0) {
    const e: Record<string, string | undefined> = { ...process.env, NO_COLOR: "1", ...env, ...o.env };
    for (const k of Object.keys(e)) if (e[k] === undefined) delete e[k];
    const r = spawnSync("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", process.execPath, path.resolve(__dirname, "..", "bin", "mtlsctl"), ...args], {
      cwd,
      env: e as NodeJS.ProcessEnv,
      encoding: "utf8",
      timeout: 60_000,
    });
    if (r.error) throw r.error;
    return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
  }
  return mtls(args, { cwd, env: { ...env, ...o.env } });
}

/**
 * The contract for a refusal: exit 3 (unless `code`), nothing on stdout, one line on stderr that
 * starts "mtlsctl: <file>: " when `file` is given and matches `message`, and nothing changed.
 */
function refused(args: string[], o: { env?: Record<string, string | undefined>; file?: string; message: RegExp; code?: number; asNobody?: boolean }): RunResult {
  const before = hashTree(cwd);
  const r = run(args, o);
  expect(hashTree(cwd)).toEqual(before);
  expect({ code: r.code, stdout: r.stdout }).toEqual({ code: o.code ?? 3, stdout: "" });
  const lines = r.stderr.split("\n");
  expect({ lines: lines.length, last: lines[1] }).toEqual({ lines: 2, last: "" }); // exactly one line
  expect(lines[0]).toMatch(/^mtlsctl: \S/);
  expect(lines[0]).not.toMatch(/internal error|at .*\.js:\d+|TypeError|RangeError/);
  // eslint-disable-next-line no-control-regex
  expect(lines[0]).not.toMatch(/[\u0000-\u001f\u007f]/);
  if (o.file !== undefined) expect(lines[0].startsWith(`mtlsctl: ${o.file}: `) ? "names the file" : lines[0]).toBe("names the file");
  expect(lines[0]).toMatch(o.message);
  return r;
}

let n = 0;
const fresh = () => `h${++n}`;
const storeEnv = (name: string) => ({ MTLSCTL_DIR: stores[name] });

describe("files and encodings", () => {
  kind("DER where PEM is required (a DER CA key given to ca import)", () => {
    refused(["--dir", p("new-store"), "ca", "import", "pki/ca.crt", "ca-key.der", "--no-encrypt"], { file: "ca-key.der", message: /not a PEM private key/ });
  });
  kind("DER of the wrong kind (a DER certificate request where a certificate is expected)", () => {
    refused(["explain", "csr-as-cert.der"], { file: "csr-as-cert.der", message: /not a valid X\.509 certificate/ });
  });
  kind("PEM whose body is not what its label says (a request inside CERTIFICATE lines)", () => {
    refused(["explain", "csr-in-cert-label.pem"], { file: "csr-in-cert-label.pem", message: /not a valid X\.509 certificate/ });
  });
  kind("DER with trailing bytes", () => {
    refused(["explain", "trailing.der"], { file: "trailing.der", message: /trailing bytes/ });
  });
  kind("DER that ends too early (an empty SEQUENCE, 30 00)", () => {
    refused(["explain", "empty-sequence.der"], { file: "empty-sequence.der", message: /not a valid X\.509 certificate \(TBSCertificate: missing/ });
    refused(["client", "sign", "empty-sequence.der", "--name", fresh()], { file: "empty-sequence.der", message: /not a valid certificate request \(CertificationRequestInfo: missing/ });
  });
  kind("a CSR whose subject has an attribute without a value", () => {
    refused(["client", "sign", "subject-no-value.csr", "--name", fresh()], { file: "subject-no-value.csr", message: /not a valid certificate request \(AttributeTypeAndValue: the value is missing\)/ });
  });
  kind("PEM whose END label differs from its BEGIN label", () => {
    refused(["explain", "mismatched-end.pem"], { file: "mismatched-end.pem", message: /PEM block "CERTIFICATE" ends with "CERTIFICATE REQUEST"/ });
  });
  kind("PEM with damaged base64", () => {
    refused(["explain", "bad-base64.pem"], { file: "bad-base64.pem", message: /damaged base64/ });
  });
  kind("base64 without the PEM lines", () => {
    refused(["explain", "unarmoured.b64"], { file: "unarmoured.b64", message: /not a PEM certificate/ });
  });
  kind("several certificates where one is expected (ca import of a bundle)", () => {
    refused(["--dir", p("new-store"), "ca", "import", "two-ca.crt", "ca-key.pem", "--no-encrypt"], { file: "two-ca.crt", message: /expected one certificate \(the CA\), found 2/ });
  });
  kind("a file over 1 MB (certificate request, certificate, CA certificate)", () => {
    refused(["client", "sign", "big.csr", "--name", fresh()], { file: "big.csr", message: /larger than 1 MB/ });
    refused(["explain", "big.crt"], { file: "big.crt", message: /larger than 1 MB/ });
    refused(["--dir", p("new-store"), "ca", "import", "big.crt", "ca-key.pem"], { file: "big.crt", message: /larger than 1 MB/ });
  });
  kind("an empty certificate file (explain)", () => {
    refused(["explain", "empty.crt"], { file: "empty.crt", message: /empty/ });
  });
  kind("an empty passphrase file", () => {
    refused(["client", "issue", fresh(), "--passphrase-file", "empty-pass.txt"], { env: { MTLSCTL_PASSPHRASE: undefined }, file: "empty-pass.txt", message: /the CA passphrase is empty/ });
  });
  kind("a directory given as the passphrase file", () => {
    refused(["client", "issue", fresh(), "--passphrase-file", "pass-dir"], { env: { MTLSCTL_PASSPHRASE: undefined }, file: "pass-dir", message: /directory/ });
  });
  kind("a file name with a newline (the error stays one line)", () => {
    refused(["client", "sign", "no\nsuch.csr", "--name", fresh()], { message: /^mtlsctl: no\?such\.csr: cannot read the certificate request/ });
  });
});

describe("subjects and SANs: control bytes, invalid UTF-8, over-long values", () => {
  kind("a NUL in a subject (--subject CN=a\\00b)", () => {
    refused(["client", "issue", fresh(), "--subject", "CN=a\\00b"], { message: /CN contains a control character/ });
  });
  kind("raw control bytes in a subject (newline, ESC, DEL)", () => {
    for (const v of ["CN=alice\nCN=admin", "CN=a\u001b[31mred", "CN=a\u007f", "CN=a\tb"]) refused(["client", "issue", fresh(), "--subject", v], { message: /control character/ });
  });
  kind("control bytes in SANs (--email, --dns, --uri)", () => {
    // (a NUL cannot be passed in an argument at all: the operating system cuts C strings there)
    refused(["client", "issue", fresh(), "--email", "a\u0001b@example.com"], { message: /email "a\?b@example\.com": only printable ASCII/ });
    refused(["client", "issue", fresh(), "--email", "a@example.com\nb@example.com"], { message: /only printable ASCII/ });
    refused(["client", "issue", fresh(), "--dns", "a.example.com\r"], { message: /DNS name/ });
    refused(["client", "issue", fresh(), "--uri", "spiffe://example.org/\u0007"], { message: /URI/ });
  });
  kind("a NUL in a CSR's subject", () => {
    refused(["client", "sign", "subject-nul.csr", "--name", fresh()], { file: "subject-nul.csr", message: /the request's subject: CN contains a control character/ });
  });
  kind("a newline or escape sequence in a CSR's subject", () => {
    refused(["client", "sign", "subject-newline.csr", "--name", fresh()], { file: "subject-newline.csr", message: /control character/ });
    refused(["client", "sign", "subject-esc.csr", "--name", fresh()], { file: "subject-esc.csr", message: /control character/ });
  });
  kind("control bytes in a CSR's SANs", () => {
    refused(["client", "sign", "san-nul.csr", "--name", fresh()], { file: "san-nul.csr", message: /subject alternative names: email "a\?b@example\.com"/ });
    refused(["client", "sign", "san-newline.csr", "--name", fresh()], { file: "san-newline.csr", message: /DNS name "a\.example\.com\?b\.example\.com"/ });
  });
  kind("invalid UTF-8 in a subject (--subject with an escaped 0xFF byte)", () => {
    refused(["client", "issue", fresh(), "--subject", "CN=a\\FF\\FEb"], { message: /not valid UTF-8/ });
  });
  kind("invalid UTF-8 in a CSR's UTF8String subject", () => {
    refused(["client", "sign", "subject-bad-utf8.csr", "--name", fresh()], { file: "subject-bad-utf8.csr", message: /CN is not valid UTF-8/ });
  });
  kind("non-ASCII where only ASCII can go (unencoded IDN DNS name, email, URI)", () => {
    refused(["client", "issue", fresh(), "--dns", "bü cher.example"], { message: /DNS name "bü cher\.example": not a valid internationalised domain name/ }); // bücher.example is issued as its A-label (review-defects)
    refused(["client", "issue", fresh(), "--email", "josé@example.com"], { message: /a non-ASCII local part needs an SmtpUTF8Mailbox SAN/ });
    refused(["client", "issue", fresh(), "--uri", "spiffe://example.org/é"], { message: /percent-encode/ });
  });
  kind("an over-long subject value (CN of 65 characters)", () => {
    refused(["client", "issue", fresh(), "--subject", `CN=${"x".repeat(65)}`], { message: /CN is longer than 64 characters/ });
  });
  kind("an over-long value in a CSR's subject (CN of 65, title of 257 characters)", () => {
    refused(["client", "sign", "subject-long.csr", "--name", fresh()], { file: "subject-long.csr", message: /CN is longer than 64 characters/ });
    refused(["client", "sign", "subject-long-other.csr", "--name", fresh()], { file: "subject-long-other.csr", message: /longer than 256 characters/ });
  });
  kind("an over-long DNS name (> 253) or label (> 63)", () => {
    refused(["client", "issue", fresh(), "--dns", ("a".repeat(60) + ".").repeat(5) + "com"], { message: /longer than 253/ });
    refused(["client", "issue", fresh(), "--dns", "a".repeat(64) + ".example.com"], { message: /bad label/ });
    refused(["client", "sign", "san-long-dns.csr", "--name", fresh()], { file: "san-long-dns.csr", message: /longer than 253/ });
  });
  kind("an over-long email (local part > 64, or > 254 in all)", () => {
    refused(["client", "issue", fresh(), "--email", `${"x".repeat(65)}@example.com`], { message: /too long/ });
    refused(["client", "issue", fresh(), "--email", `${"x".repeat(60)}@${("a".repeat(63) + ".").repeat(3)}example.com`], { message: /too long/ });
  });
  kind("an over-long name (more than 128 characters)", () => {
    refused(["client", "issue", "n".repeat(129)], { message: /name "n+" is not allowed/ });
  });
  kind("names with characters outside [A-Za-z0-9._@-] (:, *, \\, %, non-ASCII, tab, NUL-like)", () => {
    for (const name of ["a:b", "a*b", "a\\b", "a%2fb", "é", "a\tb", "a\u0001b", "a$b", "a'b"]) refused(["client", "issue", name], { message: /name .* is not allowed/ });
    refused(["client", "sign", "good.csr", "--name", "x/y"], { message: /name "x\/y" is not allowed/ });
  });
  kind("a relative URI inside a CSR", () => {
    refused(["client", "sign", "san-relative-uri.csr", "--name", fresh()], { file: "san-relative-uri.csr", message: /URI "alice\/profile": not absolute/ });
  });
  kind("a DN with a bad escape or a trailing separator", () => {
    refused(["client", "issue", fresh(), "--subject", "CN=a\\q"], { message: /bad escape/ });
    refused(["client", "issue", fresh(), "--subject", "CN=a,"], { message: /ends with a separator/ });
    refused(["client", "issue", fresh(), "--subject", "CN"], { message: /has no "=value"/ });
  });
  kind("a revocation with a serial that is not hexadecimal, or an unknown reason", () => {
    refused(["revoke", "--serial", "xyz"], { message: /not a hexadecimal serial/ });
    refused(["revoke", "alice", "--reason", "because"], { message: /unknown revocation reason "because"/ });
  });
  kind("revoking a name or serial that is not in the store", () => {
    refused(["revoke", "nobody-here"], { file: path.join(dir, "inventory.json"), message: /no certificate named "nobody-here"/ });
    refused(["revoke", "--serial", "0123456789abcdef"], { file: path.join(dir, "inventory.json"), message: /no certificate with serial/ });
  });
});

describe("keys and passphrases", () => {
  kind("a corrupted encrypted CA key (one ciphertext byte changed)", () => {
    const d = stores["key-corrupt"];
    refused(["client", "issue", fresh()], { env: storeEnv("key-corrupt"), file: path.join(d, "private", "ca.key"), message: /wrong passphrase, or the encrypted key is corrupted/ });
  });
  kind("an encrypted CA key whose ASN.1 was cut short", () => {
    const d = stores["key-truncated"];
    refused(["client", "issue", fresh()], { env: storeEnv("key-truncated"), file: path.join(d, "private", "ca.key"), message: /corrupted|cannot be read/ });
  });
  kind("a CA key that does not match the CA certificate", () => {
    const d = stores["key-mismatch"];
    refused(["client", "issue", fresh()], { env: storeEnv("key-mismatch"), file: path.join(d, "private", "ca.key"), message: /the CA key does not match the CA certificate/ });
    refused(["revoke", "alice"], { env: storeEnv("key-mismatch"), file: path.join(d, "private", "ca.key"), message: /does not match/ });
  });
  kind("a CA key in DER in the store (PEM required)", () => {
    const d = stores["key-der"];
    refused(["client", "issue", fresh()], { env: storeEnv("key-der"), file: path.join(d, "private", "ca.key"), message: /not a PEM private key/ });
  });
  kind("a missing CA key", () => {
    const d = stores["key-missing"];
    refused(["client", "issue", fresh()], { env: storeEnv("key-missing"), file: path.join(d, "private", "ca.key"), message: /cannot read the CA key/ });
  });
  kind("a CA key readable by group or others (with the chmod that fixes it)", () => {
    for (const [s, mode] of [
      ["key-open", "0644"],
      ["key-group", "0640"],
    ]) {
      const keyFile = path.join(stores[s], "private", "ca.key");
      const r = refused(["client", "issue", fresh()], { env: storeEnv(s), file: keyFile, message: new RegExp(`permissions ${mode} are too open \\(chmod 600 ${keyFile.replace(/[.]/g, "\\.")}\\)$`) });
      expect(r.stderr).not.toContain(PASS);
    }
    // refused before the passphrase is asked for: no passphrase at all gives the same answer
    refused(["revoke", "alice"], { env: { ...storeEnv("key-open"), MTLSCTL_PASSPHRASE: undefined }, file: path.join(stores["key-open"], "private", "ca.key"), message: /too open/ });
  });
  kind("ca import: a key that does not belong to the certificate", () => {
    refused(["--dir", p("new-store"), "ca", "import", "pki/ca.crt", "other-ca.key", "--no-encrypt"], { file: "other-ca.key", message: /the key does not match the certificate/ });
  });
  kind("ca import: a certificate that is not a CA", () => {
    refused(["--dir", p("new-store"), "ca", "import", "leaf.crt", "leaf.key", "--no-encrypt"], { file: "leaf.crt", message: /not a CA certificate/ });
  });
  kind("ca import: a certificate given as the key", () => {
    refused(["--dir", p("new-store"), "ca", "import", "other-ca.crt", "other-ca.crt", "--no-encrypt"], { file: "other-ca.crt", message: /not a PEM private key/ });
  });
});

describe("store state", () => {
  kind("an expired CA", () => {
    const d = stores["expired"];
    refused(["client", "issue", fresh()], { env: storeEnv("expired"), file: path.join(d, "ca.crt"), message: /the CA certificate expired on \d{4}-/ });
    refused(["client", "sign", "good.csr", "--name", fresh()], { env: storeEnv("expired"), file: path.join(d, "ca.crt"), message: /expired/ });
  });
  kind("a store with its inventory missing", () => {
    const d = stores["no-inventory"];
    for (const args of [["client", "issue", fresh()], ["list"], ["revoke", "alice"], ["config", "nats"]]) refused(args, { env: storeEnv("no-inventory"), file: path.join(d, "inventory.json"), message: /the inventory is missing/ });
  });
  kind("a store with a corrupted inventory (cut JSON, binary)", () => {
    for (const s of ["inventory-not-json", "inventory-binary"])
      for (const args of [["client", "issue", fresh()], ["list"], ["revoke", "alice"]]) refused(args, { env: storeEnv(s), file: path.join(stores[s], "inventory.json"), message: /the inventory is corrupted \(not valid JSON\)/ });
  });
  kind("a store whose inventory has the wrong structure", () => {
    const s = "inventory-structure";
    for (const args of [["client", "issue", fresh()], ["list"], ["status"]]) refused(args, { env: storeEnv(s), file: path.join(stores[s], "inventory.json"), message: /unexpected structure/ });
  });
  kind("a store whose CA certificate is garbled", () => {
    const s = "ca-garbled";
    refused(["client", "issue", fresh()], { env: storeEnv(s), file: path.join(stores[s], "ca.crt"), message: /ca\.crt: (not a valid|PEM block)/ });
  });
  kind("a store whose ca.crt holds two certificates", () => {
    const s = "ca-two";
    refused(["client", "issue", fresh()], { env: storeEnv(s), file: path.join(stores[s], "ca.crt"), message: /expected one certificate, found 2/ });
  });
  kind("a store without its CA certificate", () => {
    const s = "ca-missing";
    refused(["list"], { env: storeEnv(s), file: path.join(stores[s], "ca.crt"), message: /no CA certificate/ });
  });
  kind("a store path that is a file", () => {
    refused(["list"], { env: { MTLSCTL_DIR: p("stores", "a-file") }, file: p("stores", "a-file"), message: /not a directory/ });
    refused(["ca", "init"], { env: { MTLSCTL_DIR: p("stores", "a-file") }, file: p("stores", "a-file"), message: /not a directory/ });
  });
  kind("a read-only store", () => {
    const s = "read-only";
    const lock = path.join(stores[s], ".lock");
    refused(["client", "issue", fresh()], { env: storeEnv(s), asNobody: true, file: lock, message: /cannot lock the store \(permission denied or read-only\)/ });
    refused(["revoke", "alice"], { env: storeEnv(s), asNobody: true, file: lock, message: /read-only/ });
    refused(["client", "sign", "good.csr", "--name", fresh()], { env: storeEnv(s), asNobody: true, file: lock, message: /read-only/ });
  });
});

describe("configurations that do not parse (verify, explain --config, lint)", () => {
  kind("a config that does not parse (unterminated block)", () => {
    const conf = p("unterminated.conf");
    // nats-server prints a NUL byte in this message ("but got '\0' instead"): shown as "?"
    const message = /line 3, column 1: Expected an array value terminator "," or an array terminator "\]", but got '\?' instead/;
    refused(["verify", "pki/issued/alice.crt", "--config", "unterminated.conf"], { file: conf, message });
    refused(["explain", "pki/issued/alice.crt", "--config", "unterminated.conf"], { file: conf, message });
    refused(["lint", "unterminated.conf"], { file: conf, message });
  });
  kind("a config with a missing value", () => {
    refused(["verify", "pki/issued/alice.crt", "--config", "bad-token.conf"], { file: p("bad-token.conf"), message: /line 2/ });
  });
  kind("a config the server refuses to load (wrong value type)", () => {
    refused(["verify", "pki/issued/alice.crt", "--config", "refused.conf"], { file: p("refused.conf"), message: /expected 'cert_file' to be filename/ });
  });
  kind("a config that includes a missing file", () => {
    refused(["verify", "pki/issued/alice.crt", "--config", "include-missing.conf"], { message: /nowhere\.conf/ });
  });
});

describe("not an error", () => {
  test("a CSR asking for CA:TRUE and serverAuth is signed without them, with a warning", () => {
    const work = tmpDir("mtlsctl-hardening-ca-true-");
    const wenv = { MTLSCTL_PASSPHRASE: PASS, MTLSCTL_DIR: path.join(work, "pki") };
    mtlsOk(["ca", "init", "--name", "CA"], { cwd: work, env: wenv });
    const r0 = openssl(
      ["req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "evil.key", "-out", "evil.csr", "-subj", "/CN=evil", "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "extendedKeyUsage=serverAuth,clientAuth"],
      { cwd: work },
    );
    expect(r0.code).toBe(0);
    const r = mtlsOk(["client", "sign", "evil.csr"], { cwd: work, env: wenv });
    expect(r.stderr).toMatch(/warning: .*CA:TRUE.*ignored/);
    expect(r.stderr).toMatch(/warning: .*serverAuth.*ignored/);
    const text = openssl(["x509", "-in", path.join(work, "pki", "issued", "evil.crt"), "-noout", "-text"]).stdout;
    expect(text).toMatch(/CA:FALSE/);
    expect(text).not.toMatch(/CA:TRUE/);
    expect(text).toMatch(/TLS Web Client Authentication/);
    expect(text).not.toMatch(/TLS Web Server Authentication/);
  });
});

test("the catalogue: at least 40 distinct kinds of bad input", () => {
  const all = [...COVERED_ELSEWHERE, ...NEW_KINDS];
  expect(new Set(all).size).toBe(all.length);
  // printed for the issue report
  console.log(`bad-input catalogue: ${COVERED_ELSEWHERE.length} kinds in test/bad-input.test.ts + ${NEW_KINDS.length} in test/hardening-input.test.ts = ${all.length} distinct kinds`);
  expect(all.length).toBeGreaterThanOrEqual(40);
});
