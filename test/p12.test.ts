/**
 * PKCS#12 export and reading, judged by the tools that import such files:
 *  - every p12 mtlsctl writes (RSA, EC, Ed25519 keys; default and --legacy) is read by
 *    `openssl pkcs12` (OpenSSL 3, without -legacy), `keytool -list -storetype PKCS12` (Java 17) and
 *    `pk12util -l` (NSS); the key in it belongs to its certificate; a wrong password is refused by
 *    each of them and by mtlsctl (exit 3, one line naming the file);
 *  - the trust store is a trustedCertEntry for keytool;
 *  - p12 files made by `openssl pkcs12 -export` (default, 3DES, no encryption) are read back by
 *    `mtlsctl explain`, and an RC2 one (-legacy) is refused with the way out;
 *  - the refusals (empty password, no password without a terminal, wrong name/format) leave no file.
 * A missing tool fails the test (tool()), never skips it.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { spawn, spawnSync } from "node:child_process";
import { BIN, makeStore, mtls, mtlsOk, openssl, run, tmpDir, tool } from "./helpers/cli";
import { bmpPassword, pkcs12Kdf } from "../src/export/p12-crypto";

const PW = "correct horse battery";

let store: ReturnType<typeof makeStore>;
let pwFile: string;
let badPwFile: string;
const KEYS = { rsa: "rsa-2048", ec: "ec-p256", ed: "ed25519" } as const;
type Variant = "default" | "legacy";

beforeAll(() => {
  store = makeStore({ name: "P12 Test CA" });
  for (const [name, key] of Object.entries(KEYS)) mtlsOk(["client", "issue", name, "--key", key, "--email", `${name}@example.com`], { cwd: store.cwd, env: store.env });
  mtlsOk(["server", "issue", "web", "--dns", "localhost", "--ip", "127.0.0.1"], { cwd: store.cwd, env: store.env });
  pwFile = path.join(store.cwd, "pw.txt");
  fs.writeFileSync(pwFile, PW + "\n");
  badPwFile = path.join(store.cwd, "bad.txt");
  fs.writeFileSync(badPwFile, "not the password\n", { mode: 0o600 }); // a secret file: 0600, or mtlsctl warns
});

function exportP12(name: string, variant: Variant, format: "p12" | "truststore" = "p12"): string {
  const out = path.join(store.cwd, `${name}-${format}-${variant}.p12`);
  if (!fs.existsSync(out))
    mtlsOk(["export", name, "--format", format, "--password-file", pwFile, "--out", out, ...(variant === "legacy" ? ["--legacy"] : [])], { cwd: store.cwd, env: store.env });
  return out;
}

const pubkeyOfCert = (certFile: string) => openssl(["x509", "-in", certFile, "-noout", "-pubkey"]).stdout;

describe.each(Object.keys(KEYS))("%s key", (name) => {
  test.each(["default", "legacy"] as Variant[])("%s p12: openssl, keytool and pk12util read it; the key matches the certificate", (variant) => {
    const f = exportP12(name, variant);
    expect(fs.statSync(f).mode & 0o777).toBe(0o600);

    // openssl (3.0, default provider only: no -legacy even for 3DES)
    const info = openssl(["pkcs12", "-info", "-noout", "-in", f, "-passin", `pass:${PW}`]);
    expect(info.code).toBe(0);
    const text = info.stdout + info.stderr;
    if (variant === "default") {
      expect(text).toMatch(/MAC: sha256/);
      expect(text).toMatch(/Shrouded Keybag: PBES2, PBKDF2, AES-256-CBC, Iteration \d+, PRF hmacWithSHA256/);
      expect(text).toMatch(/PKCS7 Encrypted data: PBES2, PBKDF2, AES-256-CBC/);
    } else {
      expect(text).toMatch(/MAC: sha1, Iteration 2048/);
      expect(text).toMatch(/Shrouded Keybag: pbeWithSHA1And3-KeyTripleDES-CBC, Iteration 2048/);
      expect(text).toMatch(/PKCS7 Encrypted data: pbeWithSHA1And3-KeyTripleDES-CBC/);
    }
    const dump = openssl(["pkcs12", "-in", f, "-passin", `pass:${PW}`, "-nodes"]);
    expect(dump.code).toBe(0);
    expect(dump.stdout.match(/BEGIN CERTIFICATE/g)).toHaveLength(2); // the certificate and the CA
    expect(dump.stdout).toMatch(new RegExp(`friendlyName: ${name}`));
    expect(dump.stdout).toMatch(/localKeyID: [0-9A-F ]{59}/);

    // the key in the file belongs to the certificate in the store (and to the store's key)
    const keyPem = openssl(["pkcs12", "-in", f, "-passin", `pass:${PW}`, "-nocerts", "-nodes"]).stdout;
    const keyFile = path.join(store.cwd, `${name}-${variant}-extracted.key`);
    fs.writeFileSync(keyFile, keyPem);
    const pubFromP12 = openssl(["pkey", "-in", keyFile, "-pubout"]).stdout;
    expect(pubFromP12).toContain("BEGIN PUBLIC KEY");
    expect(pubFromP12).toBe(pubkeyOfCert(path.join(store.dir, "issued", `${name}.crt`)));
    expect(pubFromP12).toBe(openssl(["pkey", "-in", path.join(store.dir, "private", `${name}.key`), "-pubout"]).stdout);
    const certFromP12 = openssl(["pkcs12", "-in", f, "-passin", `pass:${PW}`, "-clcerts", "-nokeys"]).stdout;
    const fp = (pem: string) => openssl(["x509", "-noout", "-fingerprint", "-sha256"], { input: pem }).stdout;
    expect(fp(certFromP12)).toBe(fp(fs.readFileSync(path.join(store.dir, "issued", `${name}.crt`), "utf8")));

    // keytool (Java 17): one PrivateKeyEntry named after the certificate, with the CA in its chain
    const kt = run(tool("keytool"), ["-list", "-v", "-storetype", "PKCS12", "-keystore", f, "-storepass", PW]);
    expect(kt.code).toBe(0);
    expect(kt.stdout).toMatch(/Your keystore contains 1 entry/);
    expect(kt.stdout).toMatch(new RegExp(`Alias name: ${name}`));
    expect(kt.stdout).toMatch(/Entry type: PrivateKeyEntry/);
    expect(kt.stdout).toMatch(/Certificate chain length: 2/);

    // pk12util (NSS)
    const pk = run(tool("pk12util"), ["-l", f, "-W", PW]);
    expect(pk.code).toBe(0);
    expect(pk.stdout).toMatch(new RegExp(`Friendly Name: ${name}`));
    expect(pk.stdout).toMatch(/Subject: "CN=P12 Test CA"/);
    if (variant === "legacy") expect(pk.stdout).toMatch(/PKCS #12 V2 PBE With SHA-1 And 3KEY Triple DES-CBC/);
    else expect(pk.stdout).toMatch(/AES-256-CBC/);
  });

  test.each(["default", "legacy"] as Variant[])("%s p12: a wrong password is refused by every tool and by mtlsctl", (variant) => {
    const f = exportP12(name, variant);
    const bad = "not the password";
    const o = openssl(["pkcs12", "-info", "-noout", "-in", f, "-passin", `pass:${bad}`]);
    expect(o.code).not.toBe(0);
    expect(o.stdout + o.stderr).toMatch(/Mac verify error/);
    const kt = run(tool("keytool"), ["-list", "-storetype", "PKCS12", "-keystore", f, "-storepass", bad]);
    expect(kt.code).not.toBe(0);
    expect(kt.stdout + kt.stderr).toMatch(/password was incorrect/);
    const pk = run(tool("pk12util"), ["-l", f, "-W", bad]);
    expect(pk.code).not.toBe(0);
    expect(pk.stdout + pk.stderr).toMatch(/SEC_ERROR_BAD_PASSWORD/);
    const r = mtls(["explain", f, "--p12-password-file", badPwFile], { cwd: store.cwd, env: store.env });
    expect(r.code).toBe(3);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toContain(f);
    expect(r.stderr).toMatch(/wrong PKCS#12 password/);
    const env = mtls(["explain", f], { cwd: store.cwd, env: { ...store.env, MTLSCTL_P12_PASSWORD: bad } });
    expect(env.code).toBe(3);
  });

  test.each(["default", "legacy"] as Variant[])("%s p12: mtlsctl explain and verify read it back", (variant) => {
    const f = exportP12(name, variant);
    const r = mtlsOk(["explain", f, "--json", "--p12-password-file", pwFile], { cwd: store.cwd, env: store.env });
    const j = JSON.parse(r.stdout);
    expect(j.certificate.subject).toBe(`CN=${name}`);
    expect(j.certificate.sans.email).toEqual([`${name}@example.com`]);
    const listed = JSON.parse(mtlsOk(["list", "--json"], { cwd: store.cwd, env: store.env }).stdout).find((c: any) => c.name === name);
    expect(j.certificate.fingerprint).toBe(listed.fingerprint);
    expect(j.checks.ok).toBe(true); // the chain checks out against the store's CA (the CA in the file is sent along)
    // verify: the same file with a config that maps the email SAN
    const conf = path.join(store.cwd, `v-${name}.conf`);
    fs.writeFileSync(conf, `tls { cert_file: "${store.dir}/issued/web.crt"\n key_file: "${store.dir}/private/web.key"\n ca_file: "${store.dir}/ca.crt"\n verify_and_map: true }\nauthorization { users = [ { user: "${name}@example.com" } ] }\n`);
    const v = mtls(["verify", f, "--config", conf, "--json"], { cwd: store.cwd, env: { ...store.env, MTLSCTL_P12_PASSWORD: PW } });
    expect(v.stderr).toBe("");
    expect(v.code).toBe(0);
    expect(JSON.parse(v.stdout).user).toBe(`${name}@example.com`);
  });
});

test.each(["default", "legacy"] as Variant[])("%s trust store: keytool lists the CA as a trustedCertEntry; openssl and pk12util read it", (variant) => {
  const f = exportP12("ca", variant, "truststore");
  expect(fs.statSync(f).mode & 0o777).toBe(0o644); // no key in it
  const kt = run(tool("keytool"), ["-list", "-v", "-storetype", "PKCS12", "-keystore", f, "-storepass", PW]);
  expect(kt.code).toBe(0);
  expect(kt.stdout).toMatch(/Your keystore contains 1 entry/);
  expect(kt.stdout).toMatch(/Alias name: p12 test ca/);
  expect(kt.stdout).toMatch(/Entry type: trustedCertEntry/);
  expect(kt.stdout).toMatch(/Owner: CN=P12 Test CA/);
  const o = openssl(["pkcs12", "-in", f, "-passin", `pass:${PW}`, "-nokeys"]);
  expect(o.code).toBe(0);
  expect(o.stdout).toMatch(/2\.16\.840\.1\.113894\.746875\.1\.1/); // Oracle's trusted key usage attribute
  expect(o.stdout.match(/BEGIN CERTIFICATE/g)).toHaveLength(1);
  const fp = (pem: string) => openssl(["x509", "-noout", "-fingerprint", "-sha256"], { input: pem }).stdout;
  expect(fp(o.stdout)).toBe(fp(fs.readFileSync(path.join(store.dir, "ca.crt"), "utf8")));
  const pk = run(tool("pk12util"), ["-l", f, "-W", PW]);
  expect(pk.code).toBe(0);
  expect(pk.stdout).toMatch(/Subject: "CN=P12 Test CA"/);
  // wrong password
  expect(run(tool("keytool"), ["-list", "-storetype", "PKCS12", "-keystore", f, "-storepass", "nope"]).code).not.toBe(0);
  expect(openssl(["pkcs12", "-info", "-noout", "-in", f, "-passin", "pass:nope"]).code).not.toBe(0);
  expect(run(tool("pk12util"), ["-l", f, "-W", "nope"]).code).not.toBe(0);
});

describe("p12 files made by openssl pkcs12 -export are read by mtlsctl explain", () => {
  const cases: [string, string[]][] = [
    ["OpenSSL 3 default (PBES2 AES-256, SHA-256 MAC)", []],
    ["3DES and a SHA-1 MAC", ["-certpbe", "PBE-SHA1-3DES", "-keypbe", "PBE-SHA1-3DES", "-macalg", "sha1"]],
    ["no encryption (plain key bag)", ["-certpbe", "NONE", "-keypbe", "NONE"]],
  ];
  test.each(cases)("%s", (_label, flags) => {
    const f = path.join(store.cwd, `openssl-${flags.join("") || "default"}.p12`);
    const mk = openssl(["pkcs12", "-export", "-inkey", path.join(store.dir, "private", "ec.key"), "-in", path.join(store.dir, "issued", "ec.crt"), "-certfile", path.join(store.dir, "ca.crt"), "-name", "from-openssl", "-passout", "pass:ossl-pw", "-out", f, ...flags]);
    expect(mk.code).toBe(0);
    const pwf = path.join(store.cwd, "ossl-pw.txt");
    fs.writeFileSync(pwf, "ossl-pw\n");
    const r = mtlsOk(["explain", f, "--json", "--p12-password-file", pwf], { cwd: store.cwd, env: store.env });
    const j = JSON.parse(r.stdout);
    expect(j.certificate.subject).toBe("CN=ec");
    expect(j.certificate.intermediates).toBe(1);
    expect(j.checks.ok).toBe(true);
    const wrong = mtls(["explain", f, "--p12-password-file", badPwFile], { cwd: store.cwd, env: store.env });
    expect(wrong.code).toBe(3);
    expect(wrong.stderr.trim().split("\n")).toHaveLength(1);
    expect(wrong.stderr).toContain(f);
  });

  test("an RC2 file (openssl -legacy) is refused with the way out", () => {
    const f = path.join(store.cwd, "openssl-rc2.p12");
    expect(openssl(["pkcs12", "-export", "-legacy", "-inkey", path.join(store.dir, "private", "ec.key"), "-in", path.join(store.dir, "issued", "ec.crt"), "-passout", "pass:x", "-out", f]).code).toBe(0);
    const r = mtls(["explain", f], { cwd: store.cwd, env: { ...store.env, MTLSCTL_P12_PASSWORD: "x" } });
    expect(r.code).toBe(3);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/RC2.*without -legacy/);
  });

  test("a file made with an empty password opens without asking", () => {
    const f = path.join(store.cwd, "openssl-empty.p12");
    expect(openssl(["pkcs12", "-export", "-inkey", path.join(store.dir, "private", "rsa.key"), "-in", path.join(store.dir, "issued", "rsa.crt"), "-passout", "pass:", "-out", f]).code).toBe(0);
    const r = mtlsOk(["explain", f, "--json"], { cwd: store.cwd, env: { ...store.env, MTLSCTL_P12_PASSWORD: undefined } });
    expect(JSON.parse(r.stdout).certificate.subject).toBe("CN=rsa");
  });

  test("without a password, a terminal or the environment, explain stops with a usage error naming the options", () => {
    const f = exportP12("ec", "default");
    const r = mtls(["explain", f], { cwd: store.cwd, env: { ...store.env, MTLSCTL_P12_PASSWORD: undefined } });
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/--p12-password-file/);
    expect(r.stderr).toMatch(/MTLSCTL_P12_PASSWORD/);
  });
});

describe("export refusals leave nothing behind", () => {
  const refuse = (args: string[], code: number, match: RegExp, env: Record<string, string | undefined> = {}) => {
    const out = path.join(store.cwd, `refused-${Math.random().toString(36).slice(2)}.p12`);
    const r = mtls(["export", ...args, "--out", out], { cwd: store.cwd, env: { ...store.env, ...env } });
    expect(r.code).toBe(code);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(match);
    expect(fs.existsSync(out)).toBe(false);
  };
  test("an empty password, from the environment or a file", () => {
    refuse(["ec", "--format", "p12"], 3, /empty PKCS#12 password is refused.*--allow-empty-password/, { MTLSCTL_P12_PASSWORD: "" });
    const empty = path.join(store.cwd, "empty.txt");
    fs.writeFileSync(empty, "\n");
    refuse(["ec", "--format", "p12", "--password-file", empty], 3, new RegExp(`${empty}: an empty PKCS#12 password is refused`));
  });
  test("no password and no terminal: a usage error naming the options", () => {
    refuse(["ec", "--format", "p12"], 2, /--password-file.*MTLSCTL_P12_PASSWORD/, { MTLSCTL_P12_PASSWORD: undefined });
  });
  test("the CA key is never exported; a trust store holds the CA; a name must exist; format flags need a p12 format", () => {
    refuse(["ca", "--format", "p12", "--password-file", pwFile], 3, /CA key is never exported/);
    refuse(["ec", "--format", "truststore", "--password-file", pwFile], 3, /export ca --format truststore/);
    refuse(["nobody", "--format", "p12", "--password-file", pwFile], 3, /no certificate named "nobody"/);
    refuse(["ec", "--format", "pem", "--legacy"], 2, /--legacy applies only to --format p12 or truststore/);
  });
  test("an existing --out file without --force, before any password is asked", () => {
    const out = path.join(store.cwd, "exists.p12");
    fs.writeFileSync(out, "keep me");
    const r = mtls(["export", "ec", "--format", "p12", "--out", out], { cwd: store.cwd, env: { ...store.env, MTLSCTL_P12_PASSWORD: undefined } });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/already exists/);
    expect(fs.readFileSync(out, "utf8")).toBe("keep me");
  });
  test("a certificate signed from a request has no key to export", () => {
    const dir = tmpDir();
    mtlsOk(["client", "csr", "remote", "--email", "remote@example.com", "--out-dir", dir], { cwd: store.cwd, env: store.env });
    mtlsOk(["client", "sign", path.join(dir, "remote.csr")], { cwd: store.cwd, env: store.env });
    refuse(["remote", "--format", "p12", "--password-file", pwFile], 3, /no key in the store/);
  });
});

test("--allow-empty-password writes a file every tool opens with the empty password", () => {
  const out = path.join(store.cwd, "empty-pw.p12");
  mtlsOk(["export", "ec", "--format", "p12", "--allow-empty-password", "--out", out], { cwd: store.cwd, env: { ...store.env, MTLSCTL_P12_PASSWORD: "" } });
  expect(openssl(["pkcs12", "-info", "-noout", "-in", out, "-passin", "pass:"]).code).toBe(0);
  expect(run(tool("keytool"), ["-list", "-storetype", "PKCS12", "-keystore", out, "-storepass", ""]).stdout).toMatch(/PrivateKeyEntry/);
  expect(run(tool("pk12util"), ["-l", out, "-W", ""]).code).toBe(0);
  expect(JSON.parse(mtlsOk(["explain", out, "--json"], { cwd: store.cwd, env: { ...store.env, MTLSCTL_P12_PASSWORD: undefined } }).stdout).certificate.subject).toBe("CN=ec");
});

test("without --out a p12 goes to standard output, and is refused on a terminal", async () => {
  const piped = mtls(["export", "ec", "--format", "p12", "--password-file", pwFile], { cwd: store.cwd, env: store.env });
  expect(piped.code).toBe(0);
  const f = path.join(store.cwd, "piped.p12");
  // mtls() decodes stdout as UTF-8; run again capturing the bytes
  const raw = spawnSync(process.execPath, [BIN, "export", "ec", "--format", "p12", "--password-file", pwFile], { cwd: store.cwd, env: { ...process.env, ...store.env } });
  fs.writeFileSync(f, raw.stdout);
  expect(openssl(["pkcs12", "-info", "-noout", "-in", f, "-passin", `pass:${PW}`]).code).toBe(0);
  // a real pseudo-terminal (util-linux script): refused before any password is asked
  const tty = await new Promise<{ code: number; out: string }>((resolve, reject) => {
    const child = spawn(tool("script"), ["-qec", `${process.execPath} ${BIN} export ec --format p12`, "/dev/null"], { cwd: store.cwd, env: { ...process.env, ...store.env, MTLSCTL_P12_PASSWORD: PW } });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code: code ?? -1, out }));
  });
  expect(tty.code).toBe(3);
  expect(tty.out).toMatch(/refusing to write a PKCS#12 file to a terminal: use --out FILE/);
});

test("the RFC 7292 KDF matches the published PKCS#12 test vectors", () => {
  expect(pkcs12Kdf(bmpPassword("smeg"), Buffer.from("0A58CF64530D823F", "hex"), 1, 1, 24).toString("hex")).toBe("8aaae6297b6cb04642ab5b077851284eb7128f1a2a7fbca3");
  expect(pkcs12Kdf(bmpPassword("smeg"), Buffer.from("0A58CF64530D823F", "hex"), 1, 2, 8).toString("hex")).toBe("79993dfe048d3b76");
  expect(pkcs12Kdf(bmpPassword("queeg"), Buffer.from("05DEC959ACFF72F7", "hex"), 1000, 1, 24).toString("hex")).toBe("ed2034e36328830ff09df1e1a07dd357185dac0d4f9eb3d4");
});

test("pkijs is loaded only on the PKCS#12 path: not by --help, client issue or explain of a PEM file", () => {
  const loaded = (args: string[]) => {
    const code = `const { runCli } = require(${JSON.stringify(path.join(__dirname, "..", "dist", "cli", "run.js"))});
      runCli(["node", "mtlsctl", ...${JSON.stringify(args)}]).then(() => {
        process.stderr.write("\\nPKIJS=" + Object.keys(require.cache).some((k) => /node_modules[\\/\\\\](pkijs|asn1js)[\\/\\\\]/.test(k)) + "\\n");
      });`;
    const r = run(process.execPath, ["-e", code], { cwd: store.cwd, env: { ...process.env, ...store.env, MTLSCTL_P12_PASSWORD: PW } });
    const m = r.stderr.match(/PKIJS=(true|false)/);
    if (!m) throw new Error(r.stdout + r.stderr);
    return m[1] === "true";
  };
  expect(loaded(["--help"])).toBe(false);
  expect(loaded(["client", "issue", "late", "--email", "late@example.com"])).toBe(false);
  expect(loaded(["explain", path.join(store.dir, "issued", "ec.crt")])).toBe(false);
  expect(loaded(["export", "ec", "--format", "pem"])).toBe(false);
  expect(loaded(["export", "ec", "--format", "p12", "--out", path.join(store.cwd, "loaded.p12")])).toBe(true);
});

/** Runs a command on a real pseudo-terminal (util-linux script), answering each password prompt in turn. */
function onPty(cmd: string, answers: string[], env: Record<string, string | undefined>): Promise<{ code: number; out: string }> {
  return new Promise((resolve, reject) => {
    const e: NodeJS.ProcessEnv = { ...process.env, ...env } as NodeJS.ProcessEnv;
    for (const k of Object.keys(e)) if (e[k] === undefined) delete e[k];
    const child = spawn(tool("script"), ["-qec", cmd, "/dev/null"], { cwd: store.cwd, env: e, stdio: ["pipe", "pipe", "pipe"] });
    let out = "";
    const pending = [...answers];
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString("utf8");
      const asked = (out.match(/password[^:\n]*:/g) ?? []).length;
      while (pending.length && asked > answers.length - pending.length) child.stdin.write(pending.shift() + "\r");
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, out: out.replace(/\x1b\[[0-9;]*[A-Za-z]/g, "") });
    });
  });
}

test("on a terminal: export asks twice for the p12 password (masked), explain asks once", async () => {
  const out = path.join(store.cwd, "prompted.p12");
  const w = await onPty(`${process.execPath} ${BIN} export ec --format p12 --out ${out}`, ["typed-pass", "typed-pass"], { ...store.env, MTLSCTL_P12_PASSWORD: undefined });
  expect(w.code).toBe(0);
  expect(w.out).toMatch(/PKCS#12 password:/);
  expect(w.out).toMatch(/PKCS#12 password \(again\):/);
  expect(w.out).toContain("**********");
  expect(w.out).not.toContain("typed-pass");
  expect(openssl(["pkcs12", "-info", "-noout", "-in", out, "-passin", "pass:typed-pass"]).code).toBe(0);
  const r = await onPty(`${process.execPath} ${BIN} explain ${out}`, ["typed-pass"], { ...store.env, MTLSCTL_P12_PASSWORD: undefined });
  expect(r.code).toBe(0);
  expect(r.out).toMatch(/PKCS#12 password of .*prompted\.p12:/);
  expect(r.out).toMatch(/Certificate\s+CN=ec/);
});
