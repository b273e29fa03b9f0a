/**
 * Issue 21 §2, defects found by review, each a regression test: SAN input that verifiers read
 * differently is refused with a pointer to the right flag, and an RSA client certificate carries no
 * keyEncipherment (RFC 5280 4.2.1.12: clientAuth goes with digitalSignature and/or keyAgreement).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { X509Certificate } from "node:crypto";
import { makeStore, mtls, mtlsOk, openssl } from "./helpers/cli";
import { openStore } from "../src";

const store = makeStore({ noEncrypt: true });
const cli = (args: string[]) => mtls(args, { cwd: store.cwd, env: store.env });

test.each([
  [["server", "issue", "e11", "--dns", "1.2.3.4"], 'DNS name "1.2.3.4": an IP address is not a DNS name (verifiers match an address only against IP SANs): give it with --ip'],
  [["client", "issue", "e12", "--dns", "10.0.0.1", "--email", "e@example.com"], 'DNS name "10.0.0.1": an IP address is not a DNS name'],
  [["server", "issue", "e13", "--ip", "::ffff:10.0.0.1"], 'IP address "::ffff:10.0.0.1" is an IPv4-mapped IPv6 address (Go reads it as 10.0.0.1, OpenSSL as IPv6, so verifiers disagree): give 10.0.0.1'],
  [["server", "issue", "e14", "--dns", "localhost", "--ip", "0:0:0:0:0:ffff:c000:201"], "is an IPv4-mapped IPv6 address (Go reads it as 192.0.2.1"],
])("refused, nothing written: %j", (args, message) => {
  const r = cli(args);
  expect(r.code).toBe(3);
  expect(r.stderr).toContain(message);
  expect(fs.existsSync(path.join(store.dir, "issued", `${args[2]}.crt`))).toBe(false);
});

test("an IPv6 address that is not IPv4-mapped, and an IPv4 address as --ip, are issued and match with openssl -verify_ip", () => {
  mtlsOk(["server", "issue", "v6", "--dns", "localhost", "--ip", "2001:db8::1", "--ip", "10.0.0.1"], { cwd: store.cwd, env: store.env });
  const crt = path.join(store.dir, "issued", "v6.crt");
  for (const ip of ["2001:db8::1", "10.0.0.1"]) expect(openssl(["verify", "-CAfile", path.join(store.dir, "ca.crt"), "-verify_ip", ip, crt]).code).toBe(0);
});

test("an RSA client certificate has keyUsage digitalSignature only; an RSA server keeps keyEncipherment", () => {
  mtlsOk(["client", "issue", "rsac", "--key", "rsa-2048", "--email", "rsac@example.com"], { cwd: store.cwd, env: store.env });
  mtlsOk(["server", "issue", "rsas", "--key", "rsa-2048", "--dns", "localhost"], { cwd: store.cwd, env: store.env });
  const ku = (n: string) => openssl(["x509", "-noout", "-ext", "keyUsage", "-in", path.join(store.dir, "issued", `${n}.crt`)]).stdout.split("\n")[1].trim();
  expect(ku("rsac")).toBe("Digital Signature");
  expect(ku("rsas")).toBe("Digital Signature, Key Encipherment");
  expect(new X509Certificate(fs.readFileSync(path.join(store.dir, "issued", "rsac.crt"))).keyUsage).toEqual(["1.3.6.1.5.5.7.3.2"]); // node's keyUsage is the EKU: clientAuth
});

test("secrets do not reach child processes: the nats-server that version detection starts sees no MTLSCTL_PASSPHRASE", () => {
  const bin = path.join(store.cwd, "fakebin");
  fs.mkdirSync(bin, { recursive: true });
  const dump = path.join(store.cwd, "child-env.txt");
  // a stand-in nats-server on PATH: it records its environment and answers --version
  fs.writeFileSync(path.join(bin, "nats-server"), `#!/bin/sh\nenv > ${JSON.stringify(dump)}\necho "nats-server: v2.9.10"\n`, { mode: 0o755 });
  mtlsOk(["client", "issue", "envcheck", "--email", "env@example.com"], { cwd: store.cwd, env: store.env });
  const r = mtls(["explain", path.join(store.dir, "issued", "envcheck.crt")], {
    cwd: store.cwd,
    env: { ...store.env, PATH: `${bin}:${process.env.PATH}`, MTLSCTL_PASSPHRASE: "s3cret-passphrase", MTLSCTL_P12_PASSWORD: "p12-s3cret", TMPDIR: path.join(store.cwd) },
  });
  expect(r.code).toBe(0);
  expect(r.stdout).toContain("nats-server 2.9.10"); // the stand-in answered
  const seen = fs.readFileSync(dump, "utf8");
  expect(seen).not.toContain("s3cret");
  expect(seen).not.toMatch(/^MTLSCTL_/m);
});

test("the CA key at rest: PBES2, PBKDF2-HMAC-SHA256 with 600,000 iterations and a 16-byte salt, AES-256-CBC; a key written with OpenSSL's defaults still opens", () => {
  const s = makeStore(); // encrypted with MTLSCTL_PASSPHRASE
  const parsed = openssl(["asn1parse", "-in", path.join(s.dir, "private", "ca.key")]).stdout;
  expect(parsed).toMatch(/OBJECT\s+:PBES2/);
  expect(parsed).toMatch(/OBJECT\s+:PBKDF2\n.*\n.*OCTET STRING\s+\[HEX DUMP\]:[0-9A-F]{32}\n.*INTEGER\s+:0927C0\n/); // 16-byte salt, 600000
  expect(parsed).toMatch(/OBJECT\s+:hmacWithSHA256/);
  expect(parsed).toMatch(/OBJECT\s+:aes-256-cbc/);
  // the key opens with the passphrase (openssl and mtlsctl), not without
  expect(openssl(["pkey", "-in", path.join(s.dir, "private", "ca.key"), "-passin", `pass:${s.env.MTLSCTL_PASSPHRASE}`, "-noout"]).code).toBe(0);
  mtlsOk(["client", "issue", "kdf1", "--email", "kdf1@example.com"], { cwd: s.cwd, env: s.env });
  expect(mtls(["client", "issue", "kdf2", "--email", "kdf2@example.com"], { cwd: s.cwd, env: { ...s.env, MTLSCTL_PASSPHRASE: "wrong" } }).stderr).toContain("wrong passphrase");
  // a key encrypted the old way (OpenSSL's PBES2 defaults: 2,048 iterations, 8-byte salt) still opens, and ca passphrase rewrites it the new way
  const old = openssl(["pkcs8", "-topk8", "-v2", "aes-256-cbc", "-in", path.join(s.dir, "private", "ca.key"), "-passin", `pass:${s.env.MTLSCTL_PASSPHRASE}`, "-passout", `pass:${s.env.MTLSCTL_PASSPHRASE}`]);
  expect(old.code).toBe(0);
  fs.writeFileSync(path.join(s.dir, "private", "ca.key"), old.stdout, { mode: 0o600 });
  expect(openssl(["asn1parse", "-in", path.join(s.dir, "private", "ca.key")]).stdout).toMatch(/INTEGER\s+:0800\n/);
  mtlsOk(["client", "issue", "kdf3", "--email", "kdf3@example.com"], { cwd: s.cwd, env: s.env });
  const pw = path.join(s.cwd, "pw.txt");
  fs.writeFileSync(pw, `${s.env.MTLSCTL_PASSPHRASE}\n`, { mode: 0o600 });
  mtlsOk(["ca", "passphrase", "--passphrase-file", pw, "--new-passphrase-file", pw], { cwd: s.cwd, env: s.env });
  expect(openssl(["asn1parse", "-in", path.join(s.dir, "private", "ca.key")]).stdout).toMatch(/INTEGER\s+:0927C0\n/);
});

test("a passphrase file that others can read is used with a warning naming it and its mode; a 0600 one without", () => {
  const s = makeStore();
  const loose = path.join(s.cwd, "loose.txt");
  fs.writeFileSync(loose, `${s.env.MTLSCTL_PASSPHRASE}\n`, { mode: 0o644 });
  fs.chmodSync(loose, 0o644);
  const env = { ...s.env, MTLSCTL_PASSPHRASE: undefined };
  const r = mtls(["client", "issue", "pf1", "--email", "pf1@example.com", "--passphrase-file", loose], { cwd: s.cwd, env });
  expect(r.code).toBe(0);
  expect(r.stderr).toContain(`mtlsctl: warning: ${loose}: a secret file that group or others can read (mode 0644): chmod 600 it`);
  fs.chmodSync(loose, 0o600);
  const ok = mtls(["client", "issue", "pf2", "--email", "pf2@example.com", "--passphrase-file", loose], { cwd: s.cwd, env });
  expect({ code: ok.code, stderr: ok.stderr }).toEqual({ code: 0, stderr: "" });
});

test("a PKCS#12 key bag (and the certificates' safe) is PBES2 with PBKDF2-HMAC-SHA256 at 600,000 iterations; the MAC SHA-256 at 100,000; --legacy keeps 3DES at 2,048", () => {
  mtlsOk(["client", "issue", "p12kdf", "--email", "p12kdf@example.com"], { cwd: store.cwd, env: store.env });
  const env = { ...store.env, MTLSCTL_P12_PASSWORD: "p12-pass" };
  const out = path.join(store.cwd, "p12kdf.p12");
  const legacy = path.join(store.cwd, "p12kdf-legacy.p12");
  mtlsOk(["export", "p12kdf", "--format", "p12", "--out", out], { cwd: store.cwd, env });
  mtlsOk(["export", "p12kdf", "--format", "p12", "--legacy", "--out", legacy], { cwd: store.cwd, env });
  const info = openssl(["pkcs12", "-info", "-noout", "-in", out, "-passin", "pass:p12-pass"]);
  expect(info.code).toBe(0);
  expect(info.stderr).toContain("MAC: sha256, Iteration 100000");
  expect(info.stderr).toContain("Shrouded Keybag: PBES2, PBKDF2, AES-256-CBC, Iteration 600000, PRF hmacWithSHA256");
  expect(info.stderr).toContain("PKCS7 Encrypted data: PBES2, PBKDF2, AES-256-CBC, Iteration 600000, PRF hmacWithSHA256");
  const legacyInfo = openssl(["pkcs12", "-info", "-noout", "-legacy", "-in", legacy, "-passin", "pass:p12-pass"]);
  expect(legacyInfo.stderr).toContain("MAC: sha1, Iteration 2048");
  expect(legacyInfo.stderr).toContain("Shrouded Keybag: pbeWithSHA1And3-KeyTripleDES-CBC, Iteration 2048");
  // and the key comes back out, with the password only
  expect(openssl(["pkcs12", "-in", out, "-nocerts", "-nodes", "-passin", "pass:p12-pass"]).stdout).toContain("BEGIN PRIVATE KEY");
  expect(openssl(["pkcs12", "-in", out, "-nocerts", "-nodes", "-passin", "pass:wrong"]).code).not.toBe(0);
});

test("IDNA: a non-ASCII DNS name or email domain is issued as its A-labels (UTS #46, as url.domainToASCII); a non-ASCII local part is refused", () => {
  const r = mtlsOk(["client", "issue", "idn1", "--dns", "Bücher.example", "--email", "bob@bücher.example", "--json"], { cwd: store.cwd, env: store.env });
  expect(r.stdout).toContain('"bob@xn--bcher-kva.example"');
  const text = openssl(["x509", "-noout", "-ext", "subjectAltName", "-in", path.join(store.dir, "issued", "idn1.crt")]).stdout;
  expect(text).toContain("DNS:xn--bcher-kva.example");
  expect(text).toContain("email:bob@xn--bcher-kva.example");
  const ex = mtlsOk(["explain", path.join(store.dir, "issued", "idn1.crt"), "--json"], { cwd: store.cwd, env: store.env });
  expect(JSON.parse(ex.stdout).identities.map((i: { value: string }) => i.value)).toEqual(expect.arrayContaining(["bob@xn--bcher-kva.example", "xn--bcher-kva.example"]));
  const bad = cli(["client", "issue", "idn2", "--email", "bö@example.com"]);
  expect(bad.code).toBe(3);
  expect(bad.stderr.trim()).toBe('mtlsctl: email "bö@example.com": a non-ASCII local part needs an SmtpUTF8Mailbox SAN, which mtlsctl does not write (RFC 9598): use an ASCII mailbox');
  const bad2 = cli(["client", "issue", "idn3", "--dns", "bü cher.example"]);
  expect(bad2.code).toBe(3);
  expect(bad2.stderr).toContain("not a valid internationalised domain name");
  expect(fs.existsSync(path.join(store.dir, "issued", "idn2.crt")) || fs.existsSync(path.join(store.dir, "issued", "idn3.crt"))).toBe(false);
});

test("IDNA: each conversion is said, one warning naming the input and its A-label: CLI (JSON and stderr), server issue, bulk, client csr, the library", async () => {
  const said = (name: string, out: string) => `"${name}" is internationalised: written as its A-label "${out}"`;
  // client issue --json: in "warnings"; and on stderr without --json
  const j = JSON.parse(mtlsOk(["client", "issue", "idnw1", "--dns", "Bücher.example", "--email", "bob@bücher.example", "--json"], { cwd: store.cwd, env: store.env }).stdout);
  expect(j.warnings).toHaveLength(2);
  expect(j.warnings).toEqual(expect.arrayContaining([expect.stringContaining(`DNS name ${said("Bücher.example", "xn--bcher-kva.example")}`), expect.stringContaining(`email ${said("bob@bücher.example", "bob@xn--bcher-kva.example")}`)]));
  for (const w of j.warnings) expect(w).not.toContain("\n");
  // an ASCII name: no such warning
  expect(JSON.parse(mtlsOk(["client", "issue", "idnw0", "--dns", "books.example", "--json"], { cwd: store.cwd, env: store.env }).stdout).warnings).toEqual([]);
  const srv = mtlsOk(["server", "issue", "idnw2", "--dns", "straße.example"], { cwd: store.cwd, env: store.env });
  expect(srv.stderr.trim().split("\n")).toEqual([`mtlsctl: warning: DNS name ${said("straße.example", "xn--strae-oqa.example")} (IDNA2008, UTS #46), the string verifiers and nats-server compare`]);
  // bulk: naming the row
  fs.writeFileSync(path.join(store.cwd, "idn.csv"), "name,dns,email\nidnw3,münchen.example,ann@münchen.example\n");
  const bulk = mtlsOk(["client", "issue", "--from", "idn.csv"], { cwd: store.cwd, env: store.env });
  expect(bulk.stderr).toContain(`idn.csv:2: DNS name ${said("münchen.example", "xn--mnchen-3ya.example")}`);
  expect(bulk.stderr).toContain(`idn.csv:2: email ${said("ann@münchen.example", "ann@xn--mnchen-3ya.example")}`);
  // client csr (no store), then client sign of that request: the CSR already holds the A-label, no second warning
  const csr = mtlsOk(["client", "csr", "idnw4", "--dns", "bücher.example", "--out-dir", store.cwd, "--json"], { cwd: store.cwd, env: store.env });
  expect(JSON.parse(csr.stdout).warnings).toEqual([expect.stringContaining(said("bücher.example", "xn--bcher-kva.example"))]);
  expect(JSON.parse(mtlsOk(["client", "sign", path.join(store.cwd, "idnw4.csr"), "--json"], { cwd: store.cwd, env: store.env }).stdout).warnings).toEqual([]);
  // the library says it too
  const lib = await openStore(store.dir).issueServer("idnw5", { dns: ["bücher.example"] });
  expect(lib.warnings).toEqual([expect.stringContaining(said("bücher.example", "xn--bcher-kva.example"))]);
});

test("client issue --no-keep-key [--out-dir D]: the key is written to D (0600), never into the store; an existing key file needs --force", () => {
  const out = path.join(store.cwd, "keys-out");
  fs.mkdirSync(out, { recursive: true });
  const r = mtlsOk(["client", "issue", "nokeep", "--email", "nokeep@example.com", "--no-keep-key", "--out-dir", out, "--json"], { cwd: store.cwd, env: store.env });
  const key = path.join(out, "nokeep.key");
  expect(JSON.parse(r.stdout).keyFile).toBe(key);
  expect(fs.statSync(key).mode & 0o777).toBe(0o600);
  expect(fs.existsSync(path.join(store.dir, "private", "nokeep.key"))).toBe(false);
  // the key is the certificate's
  const crt = path.join(store.dir, "issued", "nokeep.crt");
  const pub = (args: string[]) => openssl(args).stdout;
  expect(pub(["pkey", "-in", key, "-pubout"])).toBe(pub(["x509", "-in", crt, "-noout", "-pubkey"]));
  const list = JSON.parse(mtlsOk(["list", "--json"], { cwd: store.cwd, env: store.env }).stdout).find((c: { name: string }) => c.name === "nokeep");
  expect(list).toBeTruthy();
  const before = fs.readFileSync(key);
  const again = cli(["client", "issue", "nokeep2", "--email", "nk2@example.com", "--no-keep-key", "--out-dir", out]);
  expect(again.code).toBe(0);
  fs.copyFileSync(key, path.join(out, "nokeep3.key"));
  const refused = cli(["client", "issue", "nokeep3", "--email", "nk3@example.com", "--no-keep-key", "--out-dir", out]);
  expect(refused.code).toBe(3);
  expect(refused.stderr.trim()).toBe(`mtlsctl: ${path.join(out, "nokeep3.key")}: already exists (use --force to replace it)`);
  expect(fs.existsSync(path.join(store.dir, "issued", "nokeep3.crt"))).toBe(false);
  expect(fs.readFileSync(key)).toEqual(before);
  // default: the current directory
  mtlsOk(["client", "issue", "nokeep4", "--email", "nk4@example.com", "--no-keep-key"], { cwd: store.cwd, env: store.env });
  expect(fs.statSync(path.join(store.cwd, "nokeep4.key")).mode & 0o777).toBe(0o600);
  expect(fs.existsSync(path.join(store.dir, "private", "nokeep4.key"))).toBe(false);
});
