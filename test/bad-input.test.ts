/**
 * Refusals: each bad input gives exactly one line on stderr ("mtlsctl: [<file>: ]<what>"), the
 * contract's exit code (3 for input/state, 2 for usage), and leaves the store (and the directory
 * around it) byte-for-byte as it was: no new files, no lock, no temporary files.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { hashTree, mtls, mtlsOk, openssl, RunResult, tmpDir } from "./helpers/cli";
import { derToPem, pemToDer, tlvAt, tlvChildren } from "./helpers/x509";

const PASS = "test-pass";

let cwd: string; // holds the store (pki/) and every input file
let dir: string;
let env: Record<string, string | undefined>;
let caKeyFile: string;

beforeAll(() => {
  cwd = tmpDir("mtlsctl-bad-");
  dir = path.join(cwd, "pki");
  caKeyFile = path.join(dir, "private", "ca.key");
  env = { MTLSCTL_PASSPHRASE: PASS, MTLSCTL_DIR: dir };
  mtlsOk(["ca", "init", "--name", "Test CA"], { cwd, env });
  mtlsOk(["client", "issue", "alice", "--email", "alice@example.com"], { cwd, env });
  mtlsOk(["client", "csr", "good", "--email", "good@example.com"], { cwd, env });
  const csrPem = fs.readFileSync(path.join(cwd, "good.csr"), "utf8");
  const csrDer = pemToDer(csrPem, "CERTIFICATE REQUEST");
  const w = (name: string, data: string | Buffer) => fs.writeFileSync(path.join(cwd, name), data, { mode: 0o600 }); // 0600: a secret file others can read draws a warning

  w("garbage.csr", "this is not a certificate request\n");
  w("garbage.der", Buffer.from("3082ffff0102030405", "hex"));
  // a valid CSR with one byte of its signature flipped
  const badSig = Buffer.from(csrDer);
  const [, , sig] = tlvChildren(tlvAt(badSig));
  expect(sig.tag).toBe(0x03);
  badSig[badSig.length - 4] ^= 0x01;
  w("badsig.csr", derToPem(badSig, "CERTIFICATE REQUEST"));
  // a valid CSR whose subject was edited after signing (CN=good -> CN=gooe)
  const edited = Buffer.from(csrDer);
  const at = edited.indexOf(Buffer.from("good"));
  expect(at).toBeGreaterThan(0);
  edited[at + 3] = "e".charCodeAt(0);
  w("edited.csr", derToPem(edited, "CERTIFICATE REQUEST"));
  // truncated: no END line; and: lines cut from the middle (END present, DER short)
  const lines = csrPem.trimEnd().split("\n");
  w("truncated.csr", lines.slice(0, 3).join("\n") + "\n");
  w("short.csr", [lines[0], lines[1], lines[lines.length - 1]].join("\n") + "\n");
  w("cert.csr", fs.readFileSync(path.join(dir, "issued", "alice.crt")));
  w("key.csr", fs.readFileSync(path.join(dir, "private", "alice.key")));
  w("two.csr", csrPem + csrPem);
  w("empty.csr", "");
  fs.mkdirSync(path.join(cwd, "dir.csr"));
  w("wrong-pass.txt", "not-the-passphrase\n");
  // a CSR for a curve Go (nats-server) cannot use
  const k1 = openssl(["req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:secp256k1", "-nodes", "-keyout", "k1.key", "-out", "k1.csr", "-subj", "/CN=k1"], { cwd });
  expect(k1.code).toBe(0);
  // a CSR asking for a SAN mtlsctl refuses (email without @), and one with no subject and no SAN
  const sanBad = openssl(["req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "sanbad.key", "-out", "sanbad.csr", "-subj", "/CN=sanbad", "-addext", "subjectAltName=email:dave"], { cwd });
  expect(sanBad.code).toBe(0);
  const empty = openssl(["req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "nosubject.key", "-out", "nosubject.csr", "-subj", "/"], { cwd });
  expect(empty.code).toBe(0);
});

let n = 0;
/** A name not used before in this file. */
const fresh = () => `zed${++n}`;

/** Runs mtlsctl in the shared directory and checks that nothing under it changed. */
function refused(args: string[], o: { env?: Record<string, string | undefined>; code?: number; file?: string; message?: RegExp } = {}): RunResult {
  const before = hashTree(cwd);
  const r = mtls(args, { cwd, env: { ...env, ...o.env } });
  const after = hashTree(cwd);
  expect(after).toEqual(before);
  const code = o.code ?? 3;
  expect({ code: r.code, stdout: r.stdout }).toEqual({ code, stdout: "" });
  const lines = r.stderr.split("\n");
  expect({ lines: lines.length, last: lines[lines.length - 1] }).toEqual({ lines: 2, last: "" }); // exactly one line
  expect(lines[0]).toMatch(/^mtlsctl: \S/);
  expect(lines[0]).not.toMatch(/internal error|at .*\.js:\d+|Error:/);
  if (o.file !== undefined) expect(lines[0].startsWith(`mtlsctl: ${o.file}: `)).toBe(true);
  if (o.message) expect(lines[0]).toMatch(o.message);
  return r;
}

describe("bad certificate requests (client sign): exit 3, one line naming the file", () => {
  test.each([
    ["garbage.csr", /not a PEM certificate request/],
    ["garbage.der", /not a valid certificate request/],
    ["badsig.csr", /signature does not verify/],
    ["edited.csr", /signature does not verify/],
    ["truncated.csr", /truncated PEM/],
    ["short.csr", /not a valid certificate request/],
    ["cert.csr", /expected a PEM certificate request, found "CERTIFICATE"/],
    ["key.csr", /expected a PEM certificate request, found "PRIVATE KEY"/],
    ["two.csr", /expected one certificate request, found 2/],
    ["empty.csr", /empty/],
    ["dir.csr", /directory/],
    ["missing.csr", /no such file/],
    ["k1.csr", /cannot be used with nats-server/],
    ["sanbad.csr", /email "dave"/],
    ["nosubject.csr", /empty subject and no SAN/],
  ])("%s", (file, message) => {
    const r = refused(["client", "sign", file, "--name", fresh()], { file, message });
    if (file === "key.csr") expect(r.stderr).not.toMatch(/MII|BEGIN/); // no key material echoed
  });

  test("the same with --json also prints { error, file } on stdout", () => {
    const before = hashTree(cwd);
    const r = mtls(["--json", "client", "sign", "garbage.csr"], { cwd, env });
    expect(hashTree(cwd)).toEqual(before);
    expect(r.code).toBe(3);
    expect(r.stderr.split("\n")).toEqual([expect.stringMatching(/^mtlsctl: garbage\.csr: /), ""]);
    expect(JSON.parse(r.stdout)).toEqual({ error: expect.stringMatching(/not a PEM certificate request/), file: "garbage.csr" });
  });
});

describe("CA passphrase and store state: exit 3", () => {
  test("wrong passphrase on client issue names the CA key", () => {
    refused(["client", "issue", fresh()], { env: { MTLSCTL_PASSPHRASE: "wrong" }, file: caKeyFile, message: /wrong passphrase/ });
  });
  test("wrong passphrase on client sign names the CA key", () => {
    refused(["client", "sign", "good.csr"], { env: { MTLSCTL_PASSPHRASE: "wrong" }, file: caKeyFile, message: /wrong passphrase/ });
  });
  test("wrong passphrase from --passphrase-file", () => {
    refused(["client", "issue", fresh(), "--passphrase-file", "wrong-pass.txt"], { env: { MTLSCTL_PASSPHRASE: undefined }, file: caKeyFile, message: /wrong passphrase/ });
  });
  test("a --passphrase-file that does not exist is named", () => {
    refused(["client", "issue", fresh(), "--passphrase-file", "no-such-pass.txt"], { env: { MTLSCTL_PASSPHRASE: undefined }, file: "no-such-pass.txt" });
  });
  test("a missing store (--dir pointing nowhere) is named, and not created", () => {
    const nowhere = path.join(cwd, "nowhere");
    refused(["--dir", nowhere, "client", "issue", fresh()], { file: nowhere, message: /no store/ });
    refused(["--dir", nowhere, "client", "sign", "good.csr"], { file: nowhere, message: /no store/ });
    refused(["client", "issue", fresh()], { env: { MTLSCTL_DIR: nowhere }, file: nowhere, message: /no store/ });
    expect(fs.existsSync(nowhere)).toBe(false);
  });
  test("ca init on an existing CA without --force names ca.crt", () => {
    refused(["ca", "init", "--name", "Other CA"], { file: path.join(dir, "ca.crt"), message: /already exists.*--force/ });
    refused(["ca", "init", "--no-encrypt"], { file: path.join(dir, "ca.crt"), message: /already exists/ });
  });
  test("ca init --force with a bad subject leaves the old store alone", () => {
    refused(["ca", "init", "--force", "--subject", "CN=x,FOO=y"], { message: /unknown attribute type "FOO"/ });
  });
  test("client issue of an existing name without --force names its certificate", () => {
    refused(["client", "issue", "alice"], { file: path.join(dir, "issued", "alice.crt"), message: /already exists.*--force/ });
    refused(["client", "sign", "good.csr", "--name", "alice"], { file: path.join(dir, "issued", "alice.crt"), message: /already exists/ });
  });
});

describe("malformed values: exit 3, one line", () => {
  test.each(["../x", ".hidden", "a/b", "a b", ""])("name %j", (name) => {
    refused(["client", "issue", name], { message: /name .* is not allowed/ });
    refused(["client", "sign", "good.csr", "--name", name], { message: /name .* is not allowed/ });
  });

  test.each([
    ["--email", "nobody", /email "nobody"/],
    ["--email", "a@", /email/],
    ["--dns", "a b.example.com", /DNS name "a b\.example\.com"/],
    ["--dns", "-bad-.example.com", /DNS name/],
    ["--ip", "300.1.2.3", /IP address "300\.1\.2\.3"/],
    ["--ip", "1.2.3", /IP address/],
    ["--ip", "fe80::1%eth0", /IP address "fe80::1%eth0"/],
    ["--uri", "foo/bar", /URI "foo\/bar": not absolute/],
    ["--uri", "//example.com/x", /not absolute/],
    ["--subject", "CN=x,FOO=y", /unknown attribute type "FOO"/],
    ["--subject", "CN=x;O=y", /subject/],
    ["--subject", "C=USA,CN=x", /\bC\b/],
  ])("client issue %s %j", (flag, value, message) => {
    refused(["client", "issue", fresh(), flag, value], { message });
    refused(["client", "sign", "good.csr", "--name", fresh(), flag, value], { message });
  });

  test.each([
    ["--days", "0", /--days/],
    ["--days", "36501", /--days/],
    ["--key", "dsa", /unknown key type "dsa"/],
  ])("client issue %s %s", (flag, value, message) => {
    refused(["client", "issue", fresh(), flag, value], { message });
  });

  test("client csr refuses the same values and writes no file", () => {
    for (const [flag, value] of [
      ["--email", "nobody"],
      ["--dns", "a b"],
      ["--ip", "300.1.2.3"],
      ["--uri", "foo/bar"],
      ["--subject", "CN=x,FOO=y"],
    ])
      refused(["client", "csr", fresh(), flag, value]);
    refused(["client", "csr", "../x"], { message: /not allowed/ });
  });
});

describe("usage errors: exit 2", () => {
  test.each([
    [["client", "issue", fresh(), "--bogus"], /unknown option '--bogus'/],
    [["client", "issue"], /missing required argument 'name'/],
    [["client", "sign"], /missing required argument/],
    [["client", "issue", fresh(), "--days", "ten"], /--days/],
    [["client", "issue", fresh(), "--email"], /argument missing/],
  ])("%j", (args, message) => {
    refused(args as string[], { code: 2, message });
  });

  test("no passphrase and no TTY: client issue and client sign", () => {
    refused(["client", "issue", fresh()], { code: 2, env: { MTLSCTL_PASSPHRASE: undefined }, message: /MTLSCTL_PASSPHRASE.*--passphrase-file|--passphrase-file.*MTLSCTL_PASSPHRASE/ });
    refused(["client", "sign", "good.csr", "--name", fresh()], { code: 2, env: { MTLSCTL_PASSPHRASE: undefined }, message: /--passphrase-file/ });
  });

  test("no passphrase and no TTY: ca init creates nothing", () => {
    const fresh = path.join(cwd, "fresh");
    refused(["ca", "init", "--name", "X"], { code: 2, env: { MTLSCTL_PASSPHRASE: undefined, MTLSCTL_DIR: fresh }, message: /--passphrase-file/ });
    expect(fs.existsSync(fresh)).toBe(false);
  });
});
