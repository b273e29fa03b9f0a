/**
 * Issue 8, item 6: secrets.
 *  - no option takes a passphrase or password as its value (only *-file options; values come from
 *    files, the environment or a masked prompt): `--passphrase x` is an unknown option, exit 2;
 *  - a known passphrase (and PKCS#12 password), given through the environment, a file or stdin,
 *    appears in no output and in no file of the store (inventory.json and the encrypted key too);
 *  - key files are 0600 (private/ 0700), and a CA key that group or others can read is refused with
 *    the chmod that fixes it;
 *  - the CA key is never written decrypted: every write a command makes (a --require hook records
 *    the data of every fs write call) is searched for the CA's unencrypted key.
 */
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { Command } from "commander";
import { hashTree, mtls, mtlsOk, RunResult, tmpDir } from "./helpers/cli";
import { buildProgram } from "../src/cli/main";

jest.setTimeout(300_000);

const PASS = "Pf7-unique-CA-passphrase-Qx9z";
const P12 = "Kw3-unique-p12-password-Jm5v";
const CONNECT = "Ls8-unique-connect-password-Rt2";

let cwd: string;
let dir: string;
let env: Record<string, string | undefined>;
const outputs: { args: string[]; r: RunResult }[] = [];

/** Runs mtlsctl, keeping its output for the "never echoed" check. */
function run(args: string[], o: { env?: Record<string, string | undefined>; input?: string; ok?: boolean } = {}): RunResult {
  const r = mtls(args, { cwd, env: { ...env, ...o.env }, input: o.input });
  outputs.push({ args, r });
  if (o.ok !== false && r.code !== 0) throw new Error(`mtlsctl ${args.join(" ")} exited ${r.code}: ${r.stderr}`);
  return r;
}

beforeAll(() => {
  cwd = tmpDir("mtlsctl-secrets-");
  dir = path.join(cwd, "pki");
  env = { MTLSCTL_DIR: dir, MTLSCTL_PASSPHRASE: undefined, MTLSCTL_P12_PASSWORD: undefined };
  fs.writeFileSync(path.join(cwd, "pass.txt"), PASS + "\n", { mode: 0o600 });
  fs.writeFileSync(path.join(cwd, "wrong.txt"), PASS + "-wrong\n", { mode: 0o600 });
  fs.writeFileSync(path.join(cwd, "connect.txt"), CONNECT + "\n", { mode: 0o600 });
});

describe("no option takes a secret as its value", () => {
  test("every option whose name mentions a pass(phrase|word) and takes a value is a *-file option", () => {
    const found: string[] = [];
    const walk = (c: Command, prefix: string) => {
      for (const o of c.options) {
        if (!/pass/i.test(o.long ?? "") || !(o.required || o.optional)) continue;
        found.push(`${prefix} ${o.long}`);
        expect({ command: prefix, option: o.long }).toEqual({ command: prefix, option: expect.stringMatching(/-file$/) });
      }
      for (const sub of c.commands) walk(sub, `${prefix} ${sub.name()}`.trim());
    };
    walk(buildProgram(), "");
    expect(found.length).toBeGreaterThanOrEqual(10);
    // so no --insecure-passphrase-arg either: there is no --passphrase VALUE to guard
    expect(JSON.stringify(found)).not.toMatch(/insecure/);
  });

  test.each([
    [["ca", "init", "--passphrase", PASS]],
    [["ca", "import", "a.crt", "a.key", "--passphrase", PASS]],
    [["client", "issue", "x", "--passphrase", PASS]],
    [["client", "sign", "x.csr", "--passphrase", PASS]],
    [["client", "csr", "x", "--encrypt-key", "--passphrase", PASS]],
    [["server", "issue", "x", "--dns", "x.example.com", "--passphrase", PASS]],
    [["revoke", "x", "--passphrase", PASS]],
    [["crl", "--passphrase", PASS]],
    [["renew", "x", "--passphrase", PASS]],
    [["export", "x", "--format", "p12", "--password", P12]],
    [["verify", "x.crt", "--config", "n.conf", "--connect-password", CONNECT]],
    [["explain", "x.p12", "--p12-password", P12]],
  ])("%j is an unknown option (exit 2), and the value is not echoed", (args) => {
    const before = hashTree(cwd);
    const r = mtls(args, { cwd, env });
    expect(hashTree(cwd)).toEqual(before);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^mtlsctl: unknown option '--(passphrase|password|connect-password|p12-password)'/);
    expect(r.stdout + r.stderr).not.toMatch(new RegExp(`${PASS}|${P12}|${CONNECT}`));
  });
});

describe("a known passphrase is never printed nor stored", () => {
  const hookDir = () => path.join(cwd, "..", path.basename(cwd) + "-hook");
  const writesLog = () => path.join(hookDir(), "writes.jsonl");

  beforeAll(() => {
    // A --require hook: every fs write call of the mtlsctl process, with its data, into writes.jsonl
    fs.mkdirSync(hookDir(), { recursive: true });
    fs.writeFileSync(
      path.join(hookDir(), "record-writes.js"),
      `"use strict";
const fs = require("node:fs");
const log = ${JSON.stringify(writesLog())};
const orig = { openSync: fs.openSync, writeSync: fs.writeSync, writeFileSync: fs.writeFileSync, appendFileSync: fs.appendFileSync, write: fs.write, writeFile: fs.writeFile, copyFileSync: fs.copyFileSync, closeSync: fs.closeSync };
const fds = new Map();
function record(file, data, enc) {
  if (file === log) return;
  let buf;
  if (Buffer.isBuffer(data)) buf = data;
  else if (ArrayBuffer.isView(data)) buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  else buf = Buffer.from(String(data), typeof enc === "string" ? enc : "utf8");
  orig.appendFileSync(log, JSON.stringify({ file: String(file), data: buf.toString("base64") }) + "\\n");
}
fs.openSync = function (p, ...rest) { const fd = orig.openSync.call(fs, p, ...rest); fds.set(fd, String(p)); return fd; };
fs.closeSync = function (fd) { fds.delete(fd); return orig.closeSync.call(fs, fd); };
fs.writeSync = function (fd, data, ...rest) { if (fd !== 1 && fd !== 2) record(fds.get(fd) ?? "fd:" + fd, data, rest[1]); return orig.writeSync.call(fs, fd, data, ...rest); };
fs.write = function (fd, data, ...rest) { record(fds.get(fd) ?? "fd:" + fd, data); return orig.write.call(fs, fd, data, ...rest); };
fs.writeFileSync = function (p, data, o) { record(typeof p === "number" ? fds.get(p) ?? "fd:" + p : p, data, typeof o === "string" ? o : o && o.encoding); return orig.writeFileSync.call(fs, p, data, o); };
fs.appendFileSync = function (p, data, o) { record(p, data); return orig.appendFileSync.call(fs, p, data, o); };
fs.writeFile = function (p, data, ...rest) { record(p, data); return orig.writeFile.call(fs, p, data, ...rest); };
fs.copyFileSync = function (src, dst, ...rest) { record(dst, orig.readFileSync ? fs.readFileSync(src) : ""); return orig.copyFileSync.call(fs, src, dst, ...rest); };
const pw = fs.promises.writeFile;
fs.promises.writeFile = function (p, data, ...rest) { record(p, data); return pw.call(fs.promises, p, data, ...rest); };
`,
    );
    env = { ...env, NODE_OPTIONS: `--require ${path.join(hookDir(), "record-writes.js")}` };

    // the whole life of a store, with the passphrase from a file, the environment and stdin
    run(["ca", "init", "--name", "Secret CA", "--passphrase-file", "pass.txt"]);
    run(["client", "issue", "alice", "--email", "alice@example.com"], { env: { MTLSCTL_PASSPHRASE: PASS } });
    run(["client", "issue", "bob", "--subject", "CN=bob,O=Acme", "--passphrase-file", "-"], { input: PASS + "\n" });
    run(["server", "issue", "nats1", "--dns", "localhost", "--ip", "127.0.0.1", "--passphrase-file", "pass.txt"]);
    run(["client", "csr", "carol", "--email", "carol@example.com", "--encrypt-key", "--passphrase-file", "pass.txt"]);
    run(["client", "sign", "carol.csr", "--json"], { env: { MTLSCTL_PASSPHRASE: PASS } });
    run(["renew", "alice", "--rekey", "--passphrase-file", "pass.txt"]);
    run(["revoke", "bob", "--reason", "keyCompromise", "--json"], { env: { MTLSCTL_PASSPHRASE: PASS } });
    run(["crl", "--passphrase-file", "pass.txt"]);
    run(["crl", "--der", "--out", "crl.der", "--passphrase-file", "pass.txt"]);
    run(["export", "alice", "--format", "p12", "--out", "alice.p12"], { env: { MTLSCTL_P12_PASSWORD: P12 } });
    run(["export", "ca", "--format", "truststore", "--out", "trust.p12"], { env: { MTLSCTL_P12_PASSWORD: P12 } });
    run(["explain", "alice.p12", "--json"], { env: { MTLSCTL_P12_PASSWORD: P12 } });
    run(["nkey", "create", "svc-nk"]);
    run(["config", "nats", "--out", "nats.conf"]);
    run(["verify", "pki/issued/alice.crt", "--config", "nats.conf", "--connect-password-file", "connect.txt", "--json"], { ok: false });
    run(["list", "--json"]);
    run(["status", "--json"], { ok: false });
    run(["ca", "show", "--json"]);
    // refusals: a wrong passphrase is not echoed either (neither the right one nor the wrong one)
    expect(run(["client", "issue", "dave", "--passphrase-file", "wrong.txt"], { ok: false }).code).toBe(3);
    expect(run(["client", "issue", "dave"], { env: { MTLSCTL_PASSPHRASE: PASS + "-wrong" }, ok: false }).code).toBe(3);
    expect(run(["--json", "revoke", "alice"], { env: { MTLSCTL_PASSPHRASE: "x" + PASS }, ok: false }).code).toBe(3);
    expect(run(["ca", "init", "--force", "--name", "X", "--passphrase-file", "pass.txt", "--no-encrypt"], { ok: false }).code).toBe(3);
  });

  test("in no stdout or stderr", () => {
    expect(outputs.length).toBeGreaterThan(15);
    for (const { args, r } of outputs) {
      const text = r.stdout + r.stderr;
      for (const secret of [PASS, P12, CONNECT, "-wrong"]) expect({ args, leaked: text.includes(secret) }).toEqual({ args, leaked: false });
    }
  });

  test("in no file of the store, nor any file a command wrote (inventory.json, the encrypted keys included)", () => {
    const files: string[] = [];
    const walk = (d: string) => {
      for (const e of fs.readdirSync(d, { withFileTypes: true })) {
        const p = path.join(d, e.name);
        if (e.isDirectory()) walk(p);
        else files.push(p);
      }
    };
    walk(dir);
    expect(files).toContain(path.join(dir, "inventory.json"));
    expect(files).toContain(path.join(dir, "private", "ca.key"));
    for (const f of [...files, ...["crl.der", "alice.p12", "trust.p12", "nats.conf", "carol.key", "carol.csr"].map((x) => path.join(cwd, x))]) {
      const data = fs.readFileSync(f);
      for (const secret of [PASS, P12, CONNECT])
        for (const enc of ["utf8", "utf16le"] as const) expect({ f, enc, leaked: data.includes(Buffer.from(secret, enc)) }).toEqual({ f, enc, leaked: false });
    }
    // and in no write at all (temporary files included)
    const writes = fs.readFileSync(writesLog(), "utf8").trim().split("\n").map((l) => JSON.parse(l) as { file: string; data: string });
    expect(writes.length).toBeGreaterThan(30);
    for (const w of writes) {
      const data = Buffer.from(w.data, "base64");
      for (const secret of [PASS, P12, CONNECT]) expect({ file: w.file, leaked: data.includes(Buffer.from(secret)) }).toEqual({ file: w.file, leaked: false });
    }
  });

  test("the CA key is never written decrypted (every write of every command checked)", () => {
    const caKey = crypto.createPrivateKey({ key: fs.readFileSync(path.join(dir, "private", "ca.key"), "utf8"), format: "pem", passphrase: PASS });
    const caSpki = crypto.createPublicKey(caKey).export({ type: "spki", format: "der" });
    const pkcs8 = caKey.export({ type: "pkcs8", format: "der" });
    const sec1 = caKey.export({ type: "sec1", format: "der" });
    const d = Buffer.from(caKey.export({ format: "jwk" }).d as string, "base64url"); // the private scalar
    const pemBody = (caKey.export({ type: "pkcs8", format: "pem" }) as string).split("\n").slice(1, -2).join("");
    const writes = fs.readFileSync(writesLog(), "utf8").trim().split("\n").map((l) => JSON.parse(l) as { file: string; data: string });
    let keyWrites = 0;
    for (const w of writes) {
      const data = Buffer.from(w.data, "base64");
      const text = data.toString("latin1");
      const bad = [pkcs8, sec1, d].some((x) => data.includes(x)) || text.replace(/\s+/g, "").includes(pemBody.slice(48, 96)) /* past the header every P-256 key shares */;
      expect({ file: w.file, unencryptedCaKey: bad }).toEqual({ file: w.file, unencryptedCaKey: false });
      // any unencrypted PEM key written is not the CA's
      for (const m of text.matchAll(/-----BEGIN ((?:RSA |EC )?PRIVATE KEY)-----[\s\S]*?-----END \1-----/g)) {
        keyWrites++;
        const spki = crypto.createPublicKey(crypto.createPrivateKey(m[0])).export({ type: "spki", format: "der" });
        expect({ file: w.file, isCaKey: spki.equals(caSpki) }).toEqual({ file: w.file, isCaKey: false });
      }
      if (w.file.endsWith(path.join("private", "ca.key")) || /\.ca\.key\.tmp-/.test(w.file)) expect(text).toMatch(/^-----BEGIN ENCRYPTED PRIVATE KEY-----/);
    }
    expect(keyWrites).toBeGreaterThan(0); // the leaf keys (unencrypted by design) were seen
    expect(writes.some((w) => /ca\.key/.test(w.file))).toBe(true); // and the CA key's own write
  });
});

describe("key file modes", () => {
  test("every key is 0600 and private/ is 0700; nkeys too", () => {
    const tree = hashTree(dir);
    const keys = Object.entries(tree).filter(([p]) => /\.(key|nk)$/.test(p));
    expect(keys.length).toBeGreaterThanOrEqual(4);
    for (const [p, h] of keys) expect({ p, mode: h.split(" ")[1] }).toEqual({ p, mode: "600" });
    expect(fs.statSync(path.join(dir, "private")).mode & 0o777).toBe(0o700);
    expect(fs.statSync(path.join(cwd, "carol.key")).mode & 0o777).toBe(0o600);
    expect(fs.statSync(path.join(cwd, "alice.p12")).mode & 0o777).toBe(0o600);
  });

  test.each(["0644", "0640", "0604", "0660", "0606", "0610"])("a CA key with mode %s is refused before the passphrase is asked for; chmod 600 fixes it", (m) => {
    const mode = parseInt(m, 8);
    const keyFile = path.join(dir, "private", "ca.key");
    fs.chmodSync(keyFile, mode);
    try {
      for (const args of [["client", "issue", "zed"], ["revoke", "alice"], ["crl"], ["renew", "alice"], ["client", "sign", "carol.csr", "--name", "zed"]]) {
        const before = hashTree(cwd);
        const r = mtls(args, { cwd, env: { ...env, NODE_OPTIONS: undefined } }); // no passphrase at all: refused first
        expect(hashTree(cwd)).toEqual(before);
        expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 3, stderr: `mtlsctl: ${keyFile}: permissions ${m} are too open (chmod 600 ${keyFile})\n` });
      }
    } finally {
      fs.chmodSync(keyFile, 0o600);
    }
    mtlsOk(["crl"], { cwd, env: { ...env, NODE_OPTIONS: undefined, MTLSCTL_PASSPHRASE: PASS } });
  });

  test("ca show still works with an open key (it does not load the key)", () => {
    const keyFile = path.join(dir, "private", "ca.key");
    fs.chmodSync(keyFile, 0o644);
    try {
      mtlsOk(["ca", "show"], { cwd, env: { ...env, NODE_OPTIONS: undefined } });
    } finally {
      fs.chmodSync(keyFile, 0o600);
    }
  });
});
