/**
 * Certificate lifecycle: revoke, crl, renew, status, and `config nats` after revocation (with and
 * without --pinned). Judges: OpenSSL (CRL signature, CRL fields, chain + CRL checks), a real
 * nats-server 2.9.10 (pinned_certs at the handshake), and an independent DER reader (subject and
 * SAN bytes). Every refused command must leave the store byte-for-byte unchanged.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as crypto from "node:crypto";
import { hashTree, makeStore, mtls, mtlsOk, openssl, tool, RunResult } from "./helpers/cli";
import { startNatsServer, stopAllNatsServers } from "./helpers/nats";
import { tbsFields, tlvChildren, pemToDer } from "./helpers/x509";
import { readInventory } from "./helpers/inventory";

jest.setTimeout(120_000);

type TestStore = ReturnType<typeof makeStore>;
const stores: TestStore[] = [];
function newStore(key = "ec-p256"): TestStore {
  const s = makeStore({ key, name: `Lifecycle CA ${key}` });
  stores.push(s);
  return s;
}
const cli = (s: TestStore, args: string[]) => mtlsOk(args, { cwd: s.cwd, env: s.env });
const cliRaw = (s: TestStore, args: string[]) => mtls(args, { cwd: s.cwd, env: s.env });
const crt = (s: TestStore, name: string) => path.join(s.dir, "issued", `${name}.crt`);
const keyOf = (s: TestStore, name: string) => path.join(s.dir, "private", `${name}.key`);

interface ListEntry {
  name: string;
  kind: string;
  serial: string;
  subject: string;
  status: string;
  natsUser: string | null;
  notAfter: string;
  daysLeft: number;
  renewedBy: string | null;
  renews: string | null;
  revokedAt: string | null;
  revocationReason: string | null;
}
const list = (s: TestStore, extra: string[] = []): ListEntry[] => JSON.parse(cli(s, ["list", "--json", ...extra]).stdout);
const serialOf = (s: TestStore, name: string) => list(s).find((e) => e.name === name && e.status === "valid")!.serial;

function osslOk(args: string[], o: { cwd?: string; input?: string } = {}): RunResult {
  const r = openssl(args, o);
  if (r.code !== 0) throw new Error(`openssl ${args.join(" ")} exited ${r.code}\n${r.stdout}${r.stderr}`);
  return r;
}

/** The SHA-256 of a certificate's SubjectPublicKeyInfo as OpenSSL extracts it (independent of mtlsctl). */
function opensslPin(certFile: string): string {
  const pub = osslOk(["x509", "-in", certFile, "-noout", "-pubkey"]).stdout;
  return crypto.createHash("sha256").update(pemToDer(pub, "PUBLIC KEY")).digest("hex");
}

/** One line on stderr, exit 3, and the store unchanged (no lock or temporary file either). */
function expectRefused(s: TestStore, args: string[], message: RegExp, code = 3): void {
  const before = hashTree(s.dir);
  const r = cliRaw(s, args);
  expect({ args, code: r.code }).toEqual({ args, code });
  expect(r.stderr).toMatch(/^mtlsctl: [^\n]+\n$/);
  expect(r.stderr).toMatch(message);
  expect(r.stdout).toBe("");
  expect(hashTree(s.dir)).toEqual(before);
  if (code === 3) {
    const j = cliRaw(s, [...args, "--json"]);
    expect(j.code).toBe(3);
    expect(JSON.parse(j.stdout).error).toEqual(expect.any(String));
    expect(hashTree(s.dir)).toEqual(before);
  }
}

beforeAll(() => {
  tool("openssl"); // a missing tool fails here, never skips
  tool("nats-server");
});

afterAll(async () => {
  await stopAllNatsServers();
  for (const s of stores) fs.rmSync(s.cwd, { recursive: true, force: true });
});

// ------------------------------------------------------------------ CRL

describe.each(["ec-p256", "rsa-2048"])("CRL signed by a %s CA, judged by OpenSSL", (caKey) => {
  let s: TestStore;
  let other: TestStore;
  let serials: Record<string, string>;
  let caFile: string;
  let crlFile: string;

  beforeAll(() => {
    s = newStore(caKey);
    other = newStore(caKey); // same CA name ("Lifecycle CA <key>"), a different key
    caFile = path.join(s.dir, "ca.crt");
    crlFile = path.join(s.dir, "crl.pem");
    for (const n of ["alice", "bob", "carol", "dave"]) cli(s, ["client", "issue", n, "--email", `${n}@example.com`]);
    serials = Object.fromEntries(["alice", "bob", "carol", "dave"].map((n) => [n, serialOf(s, n)]));
    expect(fs.existsSync(crlFile)).toBe(false);
    cli(s, ["revoke", "alice", "--reason", "keyCompromise"]);
    cli(s, ["revoke", "--serial", serials.carol.toUpperCase(), "--reason", "cessationOfOperation"]);
    cli(s, ["revoke", "dave"]); // no reason: unspecified, so no reasonCode extension (RFC 5280 §5.3.1)
  });

  test("openssl crl verifies the signature and shows number, AKI, next update, serials and reasons", () => {
    const r = osslOk(["crl", "-in", crlFile, "-CAfile", caFile, "-noout", "-text"]);
    expect(r.stderr + r.stdout).toMatch(/verify OK/);
    const text = r.stdout;
    expect(text).toMatch(/Version 2 \(0x1\)/);
    expect(text).toMatch(/X509v3 CRL Number:\s*\n\s*3\n/); // three revocations, three CRLs
    // AKI = the CA's subject key identifier, as OpenSSL reads both
    const ski = osslOk(["x509", "-in", caFile, "-noout", "-ext", "subjectKeyIdentifier"]).stdout.match(/([0-9A-F]{2}(?::[0-9A-F]{2}){19})/)![1];
    expect(text).toMatch(new RegExp(`X509v3 Authority Key Identifier:\\s*\\n\\s*(keyid:)?${ski}`));
    const last = Date.parse(text.match(/Last Update: (.+)\n/)![1]);
    const next = Date.parse(text.match(/Next Update: (.+)\n/)![1]);
    expect((next - last) / 86_400_000).toBe(7);
    expect(Math.abs(Date.now() - last)).toBeLessThan(10 * 60_000);
    // each revoked serial with its reason; bob is not listed
    const entries = text.split("Serial Number: ").slice(1);
    const bySerial = Object.fromEntries(entries.map((e) => [e.slice(0, e.indexOf("\n")).trim().toLowerCase(), e]));
    expect(Object.keys(bySerial).sort()).toEqual([serials.alice, serials.carol, serials.dave].sort());
    expect(bySerial[serials.alice]).toMatch(/CRL Reason Code:\s*\n\s*Key Compromise/);
    expect(bySerial[serials.carol]).toMatch(/CRL Reason Code:\s*\n\s*Cessation Of Operation/);
    expect(bySerial[serials.dave]).not.toMatch(/CRL Reason Code/);
    expect(text).not.toMatch(new RegExp(serials.bob, "i"));
  });

  test("the signature check can fail: another CA with the same name and key type does not verify the CRL", () => {
    // OpenSSL 3.0's `crl` prints the verdict but exits 0 either way, so the verdict is what counts
    const r = openssl(["crl", "-in", crlFile, "-CAfile", path.join(other.dir, "ca.crt"), "-noout"]);
    expect(r.stdout + r.stderr).toMatch(/verify failure/);
    expect(r.stdout + r.stderr).not.toMatch(/verify OK/);
  });

  test("openssl verify -crl_check refuses the revoked certificates and accepts the valid one", () => {
    for (const n of ["alice", "carol", "dave"]) {
      const r = openssl(["verify", "-crl_check", "-CRLfile", crlFile, "-CAfile", caFile, crt(s, n)]);
      expect({ n, code: r.code }).not.toEqual({ n, code: 0 });
      expect(r.stdout + r.stderr).toMatch(/certificate revoked/);
    }
    const ok = osslOk(["verify", "-crl_check", "-CRLfile", crlFile, "-CAfile", caFile, crt(s, "bob")]);
    expect(ok.stdout).toMatch(/: OK/);
  });

  test("list --json records the revocations; the inventory keeps the CRL number", () => {
    const l = list(s);
    const alice = l.find((e) => e.name === "alice")!;
    expect(alice).toMatchObject({ status: "revoked", revocationReason: "keyCompromise", natsUser: null });
    expect(Date.parse(alice.revokedAt!)).toBeGreaterThan(Date.now() - 10 * 60_000);
    expect(l.find((e) => e.name === "carol")).toMatchObject({ status: "revoked", revocationReason: "cessationOfOperation" });
    expect(l.find((e) => e.name === "dave")).toMatchObject({ status: "revoked", revocationReason: "unspecified" });
    expect(l.find((e) => e.name === "bob")).toMatchObject({ status: "valid" });
    const inv = readInventory(s.dir);
    expect(inv.crl.number).toBe(3);
  });

  test("crl prints PEM and updates crl.pem; --der --out writes DER; the number only grows", () => {
    const pem = cli(s, ["crl"]).stdout;
    expect(pem).toMatch(/^-----BEGIN X509 CRL-----\n[\s\S]+-----END X509 CRL-----\n$/);
    expect(fs.readFileSync(crlFile, "utf8")).toBe(pem);
    expect(osslOk(["crl", "-in", crlFile, "-noout", "-crlnumber"]).stdout.trim()).toBe("crlNumber=0x04");

    const der = path.join(s.cwd, "ca.crl");
    cli(s, ["crl", "--der", "--out", der, "--next-update-days", "30"]);
    const bytes = fs.readFileSync(der);
    expect(bytes[0]).toBe(0x30);
    const r = osslOk(["crl", "-inform", "DER", "-in", der, "-CAfile", caFile, "-noout", "-crlnumber", "-lastupdate", "-nextupdate"]);
    expect(r.stderr + r.stdout).toMatch(/verify OK/);
    expect(r.stdout).toMatch(/crlNumber=0x05/);
    const last = Date.parse(r.stdout.match(/lastUpdate=(.+)\n/)![1]);
    const next = Date.parse(r.stdout.match(/nextUpdate=(.+)\n/)![1]);
    expect((next - last) / 86_400_000).toBe(30);
    // crl.pem is the same CRL, as PEM
    expect(pemToDer(fs.readFileSync(crlFile, "utf8"), "X509 CRL").equals(bytes)).toBe(true);
    // --out refuses to replace without --force, and changes nothing then
    expectRefused(s, ["crl", "--der", "--out", der], /already exists/);
    cli(s, ["crl", "--out", der, "--force"]);
    expect(osslOk(["crl", "-in", der, "-noout", "-crlnumber"]).stdout.trim()).toBe("crlNumber=0x06");

    const j = JSON.parse(cli(s, ["crl", "--json"]).stdout);
    expect(j.number).toBe(7);
    expect(j.revoked.map((e: { serial: string }) => e.serial).sort()).toEqual([serials.alice, serials.carol, serials.dave].sort());
    expect(j.revoked.find((e: { serial: string }) => e.serial === serials.alice).reason).toBe("keyCompromise");
    expect(fs.readFileSync(crlFile, "utf8")).toBe(j.crl);
  });
});

// ------------------------------------------------------------------ revocation and nats-server

describe("after revoke, config nats drops the user; with --pinned, nats-server refuses revoked keys at the handshake", () => {
  let s: TestStore;
  let caFile: string;
  const oldCarol = { cert: "", key: "" };
  let carolOldSerial = "";

  beforeAll(() => {
    s = newStore();
    caFile = path.join(s.dir, "ca.crt");
    cli(s, ["server", "issue", "nats1", "--dns", "localhost", "--ip", "127.0.0.1"]);
    cli(s, ["client", "issue", "alice", "--email", "alice@example.com"]);
    cli(s, ["client", "issue", "bob", "--email", "bob@example.com"]);
    cli(s, ["client", "issue", "carol", "--subject", "CN=carol,O=Acme"]);
    // carol: keep her old certificate and key, renew with a new key, then revoke the old serial
    const keep = path.join(s.cwd, "keep");
    fs.mkdirSync(keep);
    oldCarol.cert = path.join(keep, "carol-old.crt");
    oldCarol.key = path.join(keep, "carol-old.key");
    fs.copyFileSync(crt(s, "carol"), oldCarol.cert);
    fs.copyFileSync(keyOf(s, "carol"), oldCarol.key);
    carolOldSerial = serialOf(s, "carol");
    cli(s, ["renew", "carol", "--rekey"]);
  });

  test("config nats lists alice before the revocation and not after; bob stays", () => {
    const before = JSON.parse(cli(s, ["config", "nats", "--json"]).stdout);
    expect(before.users.map((u: { user: string }) => u.user).sort()).toEqual(["CN=carol,O=Acme", "alice@example.com", "bob@example.com"]);
    cli(s, ["revoke", "alice", "--reason", "keyCompromise"]);
    const after = cli(s, ["config", "nats"]);
    expect(after.stdout).not.toMatch(/alice/);
    expect(after.stdout).toMatch(/\{ user: "bob@example.com" \}/);
    expect(after.stdout).not.toMatch(/pinned_certs/);
    // the note says that the server reads no CRL and points at --pinned
    expect(after.stderr).toMatch(/no CRL support/);
    expect(after.stderr).toMatch(/--pinned/);
    const j = JSON.parse(cli(s, ["config", "nats", "--json"]).stdout);
    expect(j.users.map((u: { name: string }) => u.name).sort()).toEqual(["bob", "carol"]);
    expect(j.pins).toBeNull();
  });

  test("revoking carol's superseded serial warns that only pinning can refuse it", () => {
    const r = cli(s, ["revoke", "--serial", carolOldSerial, "--reason", "superseded"]);
    expect(r.stdout).toMatch(new RegExp(`Revoked carol serial ${carolOldSerial}`));
    const l = list(s).filter((e) => e.name === "carol");
    expect(l.map((e) => e.status).sort()).toEqual(["revoked", "valid"]);
    // without --pinned, config nats warns that the old certificate still maps to carol's user
    const c = cli(s, ["config", "nats"]);
    expect(c.stderr).toMatch(new RegExp(`revoked carol \\(serial ${carolOldSerial}\\) still maps to the listed user "CN=carol,O=Acme".*use --pinned`));
  });

  test("--pinned: the pins are OpenSSL's SHA-256 of each valid client's SubjectPublicKeyInfo, in the tls block, with the CRL comment", () => {
    const r = cli(s, ["config", "nats", "--pinned"]);
    const tlsBlock = r.stdout.match(/\ntls \{\n([\s\S]*?)\n\}\n/)![1];
    const pins = [...tlsBlock.matchAll(/^\s+"([0-9a-f]{64})"$/gm)].map((m) => m[1]);
    expect(tlsBlock).toMatch(/^  pinned_certs: \[$/m);
    expect(pins.sort()).toEqual([opensslPin(crt(s, "bob")), opensslPin(crt(s, "carol"))].sort());
    expect(pins).not.toContain(opensslPin(crt(s, "alice")));
    expect(pins).not.toContain(opensslPin(oldCarol.cert));
    expect(tlsBlock).toMatch(/# nats-server has no CRL support/);
    expect(tlsBlock).toMatch(/# pinned_certs is the allow-list it does check/);
    expect(r.stderr).toMatch(/nats-server has no CRL support.*pinned_certs is the allow-list it does check: 2 client key\(s\) pinned/);
    const j = JSON.parse(cli(s, ["config", "nats", "--pinned", "--json"]).stdout);
    expect(j.pins.map((p: { sha256: string }) => p.sha256).sort()).toEqual(pins.sort());
  });

  test("without pinning nats-server accepts carol's revoked old certificate (it has no CRL); with --pinned it refuses it and alice at the handshake", async () => {
    const work = path.join(s.cwd, "nats");
    fs.mkdirSync(work);
    const plain = path.join(work, "plain.conf");
    const pinned = path.join(work, "pinned.conf");
    cli(s, ["config", "nats", "--out", plain]);
    cli(s, ["config", "nats", "--pinned", "--out", pinned]);

    // 1. no pinning: the revoked old carol certificate still gets in as carol
    const srv1 = await startNatsServer(plain);
    const old1 = await srv1.connectAs(oldCarol.cert, oldCarol.key, caFile);
    expect(old1).toMatchObject({ ok: true, user: "CN=carol,O=Acme" });
    const alice1 = await srv1.connectAs(crt(s, "alice"), keyOf(s, "alice"), caFile);
    expect(alice1.ok).toBe(false); // refused by the map stage: her user is gone
    expect(srv1.log()).toMatch(/not found/);
    expect(srv1.log()).not.toMatch(/certificate not pinned/);
    await srv1.stop();

    // 2. pinned: valid clients in, revoked keys out at the TLS handshake
    const srv2 = await startNatsServer(pinned);
    expect(await srv2.connectAs(crt(s, "bob"), keyOf(s, "bob"), caFile)).toMatchObject({ ok: true, user: "bob@example.com" });
    expect(await srv2.connectAs(crt(s, "carol"), keyOf(s, "carol"), caFile)).toMatchObject({ ok: true, user: "CN=carol,O=Acme" });
    for (const [who, cert, key] of [
      ["old carol", oldCarol.cert, oldCarol.key],
      ["alice", crt(s, "alice"), keyOf(s, "alice")],
    ]) {
      const r = await srv2.connectAs(cert, key, caFile);
      expect({ who, ok: r.ok }).toEqual({ who, ok: false });
      if (!r.ok) expect(r.code).not.toBe("AUTHORIZATION_VIOLATION"); // refused before any mapping
      const pin = opensslPin(cert);
      // nats-server logs the refused key's hash, then the handshake error
      expect(srv2.log()).toMatch(new RegExp(`Failed pinned cert test for key id: ${pin}`, "i"));
    }
    expect(srv2.log()).toMatch(/TLS handshake error: certificate not pinned/);
    expect(srv2.log()).not.toMatch(/Authorization Violation|not found/);
    await srv2.stop();
  });
});

// ------------------------------------------------------------------ renew

describe("renew", () => {
  let s: TestStore;
  let caFile: string;

  beforeAll(() => {
    s = newStore();
    caFile = path.join(s.dir, "ca.crt");
    cli(s, ["server", "issue", "nats1", "--dns", "localhost"]);
    cli(s, [
      "client",
      "issue",
      "alice",
      "--subject",
      "CN=alice,OU=eng,O=Acme",
      "--email",
      "alice@example.com",
      "--dns",
      "alice.example.com",
      "--uri",
      "spiffe://example.org/alice",
      "--ip",
      "10.0.0.1",
      "--days",
      "90",
    ]);
  });

  const derOf = (file: string) => pemToDer(fs.readFileSync(file, "utf8"), "CERTIFICATE");
  const sanExt = (certDer: Buffer) => {
    const f = tbsFields(certDer);
    const exts = tlvChildren(tlvChildren(f.extensions!)[0]);
    const san = exts.find((e) => tlvChildren(e)[0].content.equals(Buffer.from([0x55, 0x1d, 0x11])))!;
    return tlvChildren(san).slice(1).map((t) => t.raw.toString("hex")).join(":");
  };

  test("same subject bytes, SANs and key; a new serial; the old certificate under renewed/<serial>.crt, superseded", () => {
    const oldFile = crt(s, "alice");
    const oldDer = derOf(oldFile);
    const oldPem = fs.readFileSync(oldFile);
    const keyBefore = fs.readFileSync(keyOf(s, "alice"));
    const oldSerial = serialOf(s, "alice");

    const r = JSON.parse(cli(s, ["renew", "alice", "--json"]).stdout);
    const newDer = derOf(crt(s, "alice"));
    const o = tbsFields(oldDer);
    const n = tbsFields(newDer);
    expect(r.serial).not.toBe(oldSerial);
    expect(n.serial.content.toString("hex").replace(/^00/, "")).toBe(r.serial);
    expect(n.subject.raw.equals(o.subject.raw)).toBe(true);
    expect(sanExt(newDer)).toBe(sanExt(oldDer));
    expect(n.spki.raw.equals(o.spki.raw)).toBe(true);
    // the key file is untouched
    expect(fs.readFileSync(keyOf(s, "alice")).equals(keyBefore)).toBe(true);
    expect(fs.statSync(keyOf(s, "alice")).mode & 0o777).toBe(0o600);
    // the old certificate, byte for byte, under renewed/
    const moved = path.join(s.dir, "renewed", `${oldSerial}.crt`);
    expect(fs.readFileSync(moved).equals(oldPem)).toBe(true);
    // the renewal keeps the old length (90 days)
    expect(Math.round((Date.parse(r.notAfter) - Date.now()) / 86_400_000)).toBe(90);
    // output: the NATS user is unchanged, no config edit needed
    expect(r).toMatchObject({ renews: oldSerial, oldStatus: "superseded", natsUser: "alice@example.com", natsUserChanged: false, configChangeNeeded: false, keyChanged: false });
    // OpenSSL accepts the new certificate (and, the old one is still valid: superseded, not revoked)
    expect(osslOk(["verify", "-CAfile", caFile, crt(s, "alice")]).stdout).toMatch(/: OK/);
    expect(osslOk(["verify", "-CAfile", caFile, moved]).stdout).toMatch(/: OK/);
    expect(osslOk(["x509", "-in", crt(s, "alice"), "-noout", "-subject", "-nameopt", "RFC2253"]).stdout.trim()).toBe("subject=CN=alice,OU=eng,O=Acme");

    const l = list(s).filter((e) => e.name === "alice");
    expect(l).toHaveLength(2);
    expect(l.find((e) => e.serial === oldSerial)).toMatchObject({ status: "superseded", renewedBy: r.serial, natsUser: null });
    expect(l.find((e) => e.serial === r.serial)).toMatchObject({ status: "valid", renews: oldSerial, natsUser: "alice@example.com" });

    // config nats lists the identity once
    const c = cli(s, ["config", "nats"]).stdout;
    expect(c.match(/\{ user: "alice@example\.com" \}/g)).toHaveLength(1);
    expect(JSON.parse(cli(s, ["config", "nats", "--json"]).stdout).users.filter((u: { name: string }) => u.name === "alice")).toHaveLength(1);
  });

  test("the human output says the NATS user string is unchanged", () => {
    const r = cli(s, ["renew", "alice"]);
    expect(r.stdout).toMatch(/^Renewed alice: serial [0-9a-f]+/);
    expect(r.stdout).toMatch(/NATS user "alice@example.com" unchanged: no edit to the users list is needed/);
    expect(r.stdout).toMatch(/replaces\s+serial [0-9a-f]+, now superseded \(pki\/renewed\/[0-9a-f]+\.crt/);
  });

  test("--rekey: a different public key of the same type, the key file replaced with mode 0600 and matching the certificate", () => {
    const oldSpki = tbsFields(derOf(crt(s, "alice"))).spki.raw;
    const keyBefore = fs.readFileSync(keyOf(s, "alice"), "utf8");
    const r = JSON.parse(cli(s, ["renew", "alice", "--rekey", "--days", "30", "--json"]).stdout);
    const newSpki = tbsFields(derOf(crt(s, "alice"))).spki.raw;
    expect(newSpki.equals(oldSpki)).toBe(false);
    expect(r).toMatchObject({ keyChanged: true, rekeyed: true, natsUserChanged: false });
    const keyAfter = fs.readFileSync(keyOf(s, "alice"), "utf8");
    expect(keyAfter).not.toBe(keyBefore);
    expect(fs.statSync(keyOf(s, "alice")).mode & 0o777).toBe(0o600);
    // the key matches the new certificate and has the same type (OpenSSL's view)
    const pubOfKey = osslOk(["pkey", "-in", keyOf(s, "alice"), "-pubout"]).stdout;
    const pubOfCert = osslOk(["x509", "-in", crt(s, "alice"), "-noout", "-pubkey"]).stdout;
    expect(pubOfKey).toBe(pubOfCert);
    expect(osslOk(["pkey", "-in", keyOf(s, "alice"), "-noout", "-text"]).stdout).toMatch(/NIST CURVE: P-256/);
    // the request in reqs/ names the new key
    const csrPub = osslOk(["req", "-in", path.join(s.dir, "reqs", "alice.csr"), "-noout", "-pubkey"]).stdout;
    expect(csrPub).toBe(pubOfCert);
    expect(Math.round((Date.parse(r.notAfter) - Date.now()) / 86_400_000)).toBe(30);
    expect(osslOk(["verify", "-CAfile", caFile, crt(s, "alice")]).stdout).toMatch(/: OK/);
    expect(r.actions.join("\n")).toMatch(/--pinned/);
  });

  test("a server certificate renews in place (same file for the config)", () => {
    const before = JSON.parse(cli(s, ["config", "nats", "--json"]).stdout).config.match(/cert_file: (.+)/)[1];
    const r = cli(s, ["renew", "nats1"]);
    expect(r.stdout).toMatch(/reload nats-server/);
    const after = JSON.parse(cli(s, ["config", "nats", "--json"]).stdout).config.match(/cert_file: (.+)/)[1];
    expect(after).toBe(before);
    expect(osslOk(["verify", "-CAfile", caFile, "-purpose", "sslserver", crt(s, "nats1")]).stdout).toMatch(/: OK/);
  });

  test("a client signed from a CSR renews with the same key; --rekey is refused (its key is not in the store)", () => {
    const csrDir = path.join(s.cwd, "csr");
    fs.mkdirSync(csrDir);
    mtlsOk(["client", "csr", "erin", "--email", "erin@example.com", "--out-dir", csrDir], { cwd: csrDir, env: {} });
    cli(s, ["client", "sign", path.join(csrDir, "erin.csr")]);
    expectRefused(s, ["renew", "erin", "--rekey"], /key is not in the store/);
    const oldSpki = tbsFields(derOf(crt(s, "erin"))).spki.raw;
    cli(s, ["renew", "erin"]);
    expect(tbsFields(derOf(crt(s, "erin"))).spki.raw.equals(oldSpki)).toBe(true);
    expect(fs.existsSync(keyOf(s, "erin"))).toBe(false);
    // the client's own key still matches
    expect(osslOk(["pkey", "-in", path.join(csrDir, "erin.key"), "-pubout"]).stdout).toBe(osslOk(["x509", "-in", crt(s, "erin"), "-noout", "-pubkey"]).stdout);
  });

  test("revoking a superseded serial that shares its key with the current certificate warns that pinning cannot refuse it", () => {
    cli(s, ["client", "issue", "kim", "--email", "kim@example.com"]);
    const old = serialOf(s, "kim");
    cli(s, ["renew", "kim"]); // same key
    const r = cli(s, ["revoke", "--serial", old, "--reason", "superseded"]);
    expect(r.stderr).toMatch(new RegExp(`warning: serial ${old} shares its key with "kim"'s certificate [0-9a-f]+, which stays valid`));
    const c = cli(s, ["config", "nats", "--pinned"]);
    expect(c.stderr).toMatch(new RegExp(`revoked kim \\(serial ${old}\\) has the same key as a pinned certificate`));
    // with --rekey first, no such warning
    cli(s, ["client", "issue", "lou", "--email", "lou@example.com"]);
    const lou = serialOf(s, "lou");
    cli(s, ["renew", "lou", "--rekey"]);
    expect(cli(s, ["revoke", "--serial", lou]).stderr).not.toMatch(/shares its key/);
  });

  test("renewing an unknown or a revoked name exits 3 and changes nothing", () => {
    expectRefused(s, ["renew", "nobody"], /no certificate named "nobody"/);
    cli(s, ["client", "issue", "zed", "--email", "zed@example.com"]);
    cli(s, ["revoke", "zed"]);
    expectRefused(s, ["renew", "zed"], /"zed" \(serial [0-9a-f]+\) is revoked: it cannot be renewed/);
    expectRefused(s, ["renew", "zed", "--rekey"], /is revoked/);
  });

  test("revoke <name> revokes the current and the superseded, unexpired certificates of that name", () => {
    const before = list(s).filter((e) => e.name === "alice");
    expect(before.map((e) => e.status).sort()).toEqual(["superseded", "superseded", "superseded", "valid"]);
    const r = JSON.parse(cli(s, ["revoke", "alice", "--reason", "affiliationChanged", "--json"]).stdout);
    expect(r.revoked.map((e: { serial: string }) => e.serial).sort()).toEqual(before.map((e) => e.serial).sort());
    expect(list(s).filter((e) => e.name === "alice").map((e) => e.status)).toEqual(["revoked", "revoked", "revoked", "revoked"]);
    const crlFile = path.join(s.dir, "crl.pem");
    for (const e of before) {
      const file = e.status === "valid" ? crt(s, "alice") : path.join(s.dir, "renewed", `${e.serial}.crt`);
      const v = openssl(["verify", "-crl_check", "-CRLfile", crlFile, "-CAfile", caFile, file]);
      expect(v.stdout + v.stderr).toMatch(/certificate revoked/);
    }
  });
});

// ------------------------------------------------------------------ status

describe("status and list --expiring", () => {
  let s: TestStore;
  beforeAll(() => {
    s = newStore();
    cli(s, ["server", "issue", "nats1", "--dns", "localhost"]);
    cli(s, ["client", "issue", "short", "--email", "short@example.com", "--days", "10"]);
    cli(s, ["client", "issue", "long", "--email", "long@example.com"]);
  });

  test("a 10-day certificate: --expiring 30 exits 1, --expiring 5 exits 0; the default window is 30", () => {
    const r30 = cliRaw(s, ["status", "--expiring", "30"]);
    expect(r30.code).toBe(1);
    expect(r30.stdout).toMatch(/1 certificate\(s\) expire within 30 days: short/);
    expect(cliRaw(s, ["status"]).code).toBe(1);
    const r5 = cliRaw(s, ["status", "--expiring", "5"]);
    expect(r5.code).toBe(0);
    expect(r5.stdout).toMatch(/nothing expires within 5 days/);
  });

  test("--json lists every certificate with its days left", () => {
    const r = cliRaw(s, ["status", "--expiring", "30", "--json"]);
    expect(r.code).toBe(1);
    const j = JSON.parse(r.stdout);
    expect(j.windowDays).toBe(30);
    expect(j.expiring).toEqual(["short"]);
    const by = Object.fromEntries(j.certificates.map((c: { name: string }) => [c.name, c]));
    expect(Object.keys(by).sort()).toEqual(["ca", "long", "nats1", "short"]);
    expect(by.short).toMatchObject({ kind: "client", daysLeft: 9, expiring: true, expired: false });
    expect(by.long).toMatchObject({ daysLeft: 364, expiring: false });
    expect(by.nats1).toMatchObject({ kind: "server", daysLeft: 364 });
    expect(by.ca).toMatchObject({ kind: "ca", daysLeft: 3649 });
    const j5 = cliRaw(s, ["status", "--expiring", "5", "--json"]);
    expect(j5.code).toBe(0);
    expect(JSON.parse(j5.stdout).expiring).toEqual([]);
  });

  test("the human table is aligned", () => {
    const lines = cliRaw(s, ["status"]).stdout.split("\n");
    const rows = lines.slice(0, lines.indexOf(""));
    expect(rows[0]).toMatch(/^KIND\s+NAME\s+SERIAL\s+EXPIRES\s+DAYS LEFT$/);
    expect(rows).toHaveLength(5);
    for (const col of ["NAME", "SERIAL", "EXPIRES"]) {
      const at = rows[0].indexOf(col);
      for (const row of rows.slice(1)) {
        expect(row[at - 1]).toBe(" ");
        expect(row[at]).not.toBe(" ");
      }
    }
    const end = rows[0].indexOf("DAYS LEFT") + "DAYS LEFT".length; // right-aligned numbers
    for (const row of rows.slice(1)) expect(row.slice(0, end)).toMatch(/\d$/);
  });

  test("list --expiring shows only valid certificates within the window", () => {
    expect(list(s, ["--expiring", "30"]).map((e) => e.name)).toEqual(["short"]);
    expect(list(s, ["--expiring", "5"])).toEqual([]);
    expect(list(s, ["--expiring", "400"]).map((e) => e.name).sort()).toEqual(["long", "nats1", "short"]);
  });

  test("renewing or revoking the expiring certificate clears the status", () => {
    cli(s, ["renew", "short", "--days", "60"]);
    expect(cliRaw(s, ["status", "--expiring", "30"]).code).toBe(0);
    // the superseded certificate is not counted
    expect(JSON.parse(cliRaw(s, ["status", "--json"]).stdout).counts).toEqual({ valid: 3, revoked: 0, superseded: 1 });
    cli(s, ["client", "issue", "short2", "--email", "short2@example.com", "--days", "3"]);
    expect(cliRaw(s, ["status", "--expiring", "30"]).code).toBe(1);
    cli(s, ["revoke", "short2", "--reason", "cessationOfOperation"]);
    const r = cliRaw(s, ["status", "--expiring", "30"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/CRL #1: 1 revoked, next update/);
  });
});

// ------------------------------------------------------------------ bad input

describe("bad input: one-line error, exit 3, store unchanged", () => {
  let s: TestStore;
  let aliceSerial: string;
  beforeAll(() => {
    s = newStore();
    cli(s, ["client", "issue", "alice", "--email", "alice@example.com"]);
    cli(s, ["client", "issue", "bob", "--email", "bob@example.com"]);
    aliceSerial = serialOf(s, "alice");
    cli(s, ["revoke", "bob", "--reason", "keyCompromise"]);
  });

  test.each([
    [["revoke", "alice", "--reason", "stolen"], /unknown revocation reason "stolen" \(use one of unspecified, keyCompromise/],
    [["revoke", "alice", "--reason", "removeFromCRL"], /unknown revocation reason "removeFromCRL"/],
    [["revoke", "--serial", "0123456789abcdef"], /no certificate with serial 123456789abcdef in the store/],
    [["revoke", "--serial", "xyz"], /--serial "xyz" is not a hexadecimal serial number/],
    [["revoke", "nobody"], /no certificate named "nobody" in the store/],
    [["revoke", "bob"], /"bob" \(serial [0-9a-f]+\) is already revoked \(keyCompromise/],
    [["revoke", "bob", "--reason", "superseded"], /is already revoked/],
    [["revoke", "../etc"], /name "\.\.\/etc" is not allowed/],
    [["revoke", "alice", "--next-update-days", "0"], /--next-update-days must be a whole number from 1 to 3650/],
    [["renew", "nobody"], /no certificate named "nobody"/],
    [["renew", "bob"], /is revoked: it cannot be renewed/],
    [["status", "--expiring", "99999"], /--expiring must be a whole number of days/],
  ])("%j", (args, message) => {
    expectRefused(s, args as string[], message as RegExp);
  });

  test("revoking a serial twice, and the CA's own serial", () => {
    const bobSerial = list(s).find((e) => e.name === "bob")!.serial;
    expectRefused(s, ["revoke", "--serial", bobSerial], /serial [0-9a-f]+ \("bob"\) is already revoked/);
    const caSerial = list(s).find((e) => e.kind === "ca")!.serial;
    expectRefused(s, ["revoke", "--serial", caSerial], /the CA's own certificate/);
  });

  test("a wrong passphrase revokes nothing", () => {
    const before = hashTree(s.dir);
    const r = mtls(["revoke", "alice"], { cwd: s.cwd, env: { ...s.env, MTLSCTL_PASSPHRASE: "wrong" } });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/^mtlsctl: .*wrong passphrase[^\n]*\n$/);
    expect(hashTree(s.dir)).toEqual(before);
    expect(list(s).find((e) => e.serial === aliceSerial)!.status).toBe("valid");
  });

  test("usage errors exit 2: both a name and --serial, or neither", () => {
    expectRefused(s, ["revoke", "alice", "--serial", aliceSerial], /a name or --serial/, 2);
    expectRefused(s, ["revoke"], /a name or --serial/, 2);
    expectRefused(s, ["status", "--expiring", "soon"], /--expiring takes a whole number/, 2);
  });

  test("the serial may be typed as OpenSSL prints it (upper case, colons)", () => {
    const typed = aliceSerial.toUpperCase().match(/../g)!.join(":");
    cli(s, ["revoke", "--serial", typed, "--reason", "privilegeWithdrawn"]);
    expect(list(s).find((e) => e.serial === aliceSerial)).toMatchObject({ status: "revoked", revocationReason: "privilegeWithdrawn" });
  });
});
