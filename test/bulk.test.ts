/**
 * `client issue --from`: the CSV and JSON readers, the lean issuance path judged field by field
 * against the general path (issue()), and the command end to end: 1,000 clients, bad rows with
 * their line numbers, re-runs, a second process at the same time, a wrong passphrase, failures and
 * a kill -9 in the middle of a run.
 */
import { spawn } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { BIN, hashTree, makeStore, mtls, openssl, tmpDir } from "./helpers/cli";
import { x509 } from "./helpers/x509";
import { issue, subjectFor } from "../src/ca";
import { parseCertificate, ParsedCertificate } from "../src/pki/cert";
import { generateKey, KeyType, privateKeyPem, spkiOf, subjectPublicKeyBits } from "../src/pki/keys";
import { checkSans } from "../src/pki/san";
import { CertRecord, Inventory, Store } from "../src/store/store";
import { csvRows, jsonRows, countRows, RawRow } from "../src/bulk/input";
import { KeyMaker } from "../src/bulk/leaf";
import { keySigner } from "../src/pki/signer";
import { bulkIssue, RowResult } from "../src/bulk/issue";
import { clientRecordText } from "../src/bulk/inventory";
import { ByteList, InventoryAppender, recordText } from "../src/bulk/inventory";
import { inventoryText, readInventory } from "./helpers/inventory";

const PASS = "test-pass";

function write(dir: string, name: string, text: string): string {
  const f = path.join(dir, name);
  fs.writeFileSync(f, text);
  return f;
}

const rows = (gen: Generator<RawRow>) => [...gen];
/** The one line the CLI would print for an error: "<file>: <message>". */
function errorLine(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    const m = e as { file?: string; message: string };
    return m.file ? `${m.file}: ${m.message}` : m.message;
  }
  return "no error";
}
const inventory = (dir: string): Inventory => readInventory(dir);
function readCert(dir: string, name: string): ParsedCertificate {
  const pem = fs.readFileSync(path.join(dir, "issued", `${name}.crt`), "utf8");
  const b64 = pem.replace(/-----[A-Z ]+-----/g, "").replace(/\s+/g, "");
  return parseCertificate(Buffer.from(b64, "base64"));
}

/** Files whose name marks an unfinished write (.<name>.tmp-<pid>-<hex>). */
function tempFiles(dir: string): string[] {
  const out: string[] = [];
  for (const d of ["", "issued", "private"]) for (const e of fs.readdirSync(path.join(dir, d))) if (/\.tmp-\d+-/.test(e)) out.push(path.join(d, e));
  return out;
}

/** Every listed certificate has its files, and no two share a serial. */
function checkConsistent(dir: string): Inventory {
  const inv = inventory(dir);
  const serials = new Set(inv.certificates.map((c) => c.serial));
  expect(serials.size).toBe(inv.certificates.length);
  for (const c of inv.certificates) {
    expect(fs.existsSync(path.join(dir, c.certFile))).toBe(true);
    if (c.keyFile) expect(fs.existsSync(path.join(dir, c.keyFile))).toBe(true);
    expect(readCert(dir, c.name).serialHex).toBe(c.serial);
  }
  return inv;
}

// ---------------------------------------------------------------- readers

describe("CSV rows (RFC 4180)", () => {
  const dir = tmpDir("mtlsctl-bulk-csv-");

  test("columns in any order and case, quoted cells with commas, quotes and line breaks, CRLF, BOM, blank lines", () => {
    const f = write(
      dir,
      "a.csv",
      '\ufeffEmail, NAME ,subject,days\r\n' +
        'a@example.com;b@example.com, alice ,"CN=alice,OU=eng,O=Acme",30\r\n' +
        "\r\n" +
        '"x@example.com",bob,"CN=Bob ""the builder"",O=Acme",\r\n' +
        '"multi\nline",carol,,\r\n' +
        "no-newline-at-end@example.com,dave,,7",
    );
    const r = rows(csvRows(f));
    expect(r.map((x) => x.line)).toEqual([2, 4, 5, 7]);
    expect(r[0].values).toEqual({ email: ["a@example.com", "b@example.com"], name: "alice", subject: "CN=alice,OU=eng,O=Acme", days: "30" });
    expect(r[1].values).toEqual({ email: ["x@example.com"], name: "bob", subject: 'CN=Bob "the builder",O=Acme' });
    expect(r[2].values).toEqual({ email: ["multi\nline"], name: "carol" });
    expect(r[3].values).toEqual({ email: ["no-newline-at-end@example.com"], name: "dave", days: "7" });
    expect(countRows(f)).toBe(4);
  });

  test("a row with the wrong number of cells is an error of that row only", () => {
    const f = write(dir, "b.csv", "name,email\nalice,a@example.com\nbob\ncarol,c@example.com,extra\ndave,d@example.com\n");
    const r = rows(csvRows(f));
    expect(r.map((x) => [x.line, x.error ?? null])).toEqual([
      [2, null],
      [3, "the row has 1 cell, the header has 2"],
      [4, "the row has 3 cells, the header has 2"],
      [5, null],
    ]);
  });

  test.each([
    ["name,email\nalice,\"a@example.com\n", /c\.csv:2: a quoted cell starts here and is never closed/],
    ['name,email\nal"ice,a@example.com\n', /c\.csv:2: a quote inside an unquoted cell/],
    ['name,email\n"alice"x,a@example.com\n', /c\.csv:2: text after a closing quote/],
    ["name,emial\nalice,a@example.com\n", /c\.csv:1: unknown column "emial"/],
    ["email,dns\na@example.com,\n", /c\.csv:1: the header row has no "name" column/],
    ["name,name\na,b\n", /c\.csv:1: column "name" appears twice/],
    ["\n\n", /c\.csv: the file is empty/],
  ])("damage to the file is an error about the file: %j", (text, msg) => {
    const f = write(dir, "c.csv", text);
    expect(errorLine(() => countRows(f))).toMatch(msg);
  });
});

describe("JSON rows", () => {
  const dir = tmpDir("mtlsctl-bulk-json-");

  test("an array of objects: arrays or ;-strings, numbers for days, line of each object", () => {
    const f = write(
      dir,
      "a.json",
      JSON.stringify([{ name: "alice", email: ["a@example.com", "b@example.com"], days: 30 }, { name: "bob", dns: "bob.example.com; b.example.com", subject: "CN=bob,O=Acme", key: "ec-p384" }], null, 2),
    );
    const r = rows(jsonRows(f));
    expect(r.map((x) => x.line)).toEqual([2, 10]);
    expect(r[0].values).toEqual({ name: "alice", email: ["a@example.com", "b@example.com"], days: 30 });
    expect(r[1].values).toEqual({ name: "bob", dns: ["bob.example.com", "b.example.com"], subject: "CN=bob,O=Acme", key: "ec-p384" });
  });

  test("an element that is not a usable object is an error of that row", () => {
    const f = write(dir, "b.json", '[\n  {"name": "a"},\n  "text",\n  {"name": "b", "emial": "x"},\n  {"name": "c", "email": 5},\n  {"name": "d"}\n]\n');
    const r = rows(jsonRows(f));
    expect(r.map((x) => [x.line, x.error ?? null])).toEqual([
      [2, null],
      [3, 'expected an object ({ "name": ... }), found string'],
      [4, 'unknown key "emial" (expected name plus any of email, dns, uri, ip, subject, key, days, account, allow_pub, deny_pub, allow_sub, deny_sub)'],
      [5, '"email" must be a string or an array of strings'],
      [6, null],
    ]);
  });

  test.each([
    ['{"name": "a"}', /d\.json:1: expected a JSON array/],
    ['[\n {"name": "a"},\n {"name": "b",}\n]', /d\.json:3: not valid JSON/],
    ['[\n {"name": "a"},\n]', /d\.json:3: a "," before "\]"/],
    ['[\n {"name": "a"}\n', /d\.json:3: the JSON array is not closed/],
    ['[{"name": "a"}] x', /d\.json:1: text after the end of the array/],
    ["", /d\.json: the file is empty/],
  ])("damage to the file is an error about the file: %j", (text, msg) => {
    const f = write(dir, "d.json", text);
    expect(errorLine(() => countRows(f))).toMatch(msg);
  });
});

// ---------------------------------------------------------------- keys and the inventory

describe("the lean path's parts", () => {
  test.each(["ec-p256", "ec-p384"] as KeyType[])("%s keys: PKCS#8 and SPKI bytes are what OpenSSL writes for the same key", (type) => {
    const km = new KeyMaker();
    for (let i = 0; i < 1200; i++) {
      const k = km.make(type); // about 1 in 256 private scalars has a leading zero byte
      const pem = k.pkcs8Pem;
      const priv = crypto.createPrivateKey(pem);
      expect(priv.export({ type: "pkcs8", format: "pem" })).toBe(pem);
      expect(crypto.createPublicKey(priv).export({ type: "spki", format: "der" }).equals(k.spki)).toBe(true);
      expect(k.ski.equals(crypto.createHash("sha1").update(subjectPublicKeyBits(k.spki)).digest())).toBe(true);
    }
  });

  test("batches appended as segments read back as the inventory Store.writeInventory would hold, in order", async () => {
    const { dir } = makeStore();
    const store = new Store(dir);
    const inv = store.readInventory();
    inv.crl = { number: 3, thisUpdate: "2026-01-01T00:00:00.000Z", nextUpdate: "2026-01-08T00:00:00.000Z" };
    store.writeInventory(inv); // a header change
    const rec = (n: number): CertRecord => ({ ...inv.ca, name: `n${n}`, kind: "client", serial: crypto.randomBytes(16).toString("hex"), subject: `CN=n${n},O=A \\"q\\" é` });
    const app = new InventoryAppender(store);
    const commit = (recs: CertRecord[]) => {
      const add = new ByteList();
      for (const r of recs) add.append(",\n    " + recordText(r));
      return app.commit(add.bytes(), recs.length, recs);
    };
    app.refresh();
    const all = [rec(1), rec(2), rec(3), rec(4), rec(5), rec(6)];
    await commit(all.slice(0, 2));
    await commit(all.slice(2, 3));
    await commit(all.slice(3));
    const parsed = new Store(dir).readInventory();
    expect(parsed.certificates).toEqual(all);
    expect(parsed.crl).toEqual(inv.crl);
    // each name is found through its index bucket, each serial through its own
    for (const r of all) {
      expect(new Store(dir).currentOf(r.name)).toEqual(r);
      expect(new Store(dir).serialTaken(r.serial)).toBe(true);
    }
    expect(recordText(parsed.certificates[0]).startsWith("{\n      ")).toBe(true);
    // the lean path's own writer of its records says the same as JSON.stringify
    for (const r of [...parsed.certificates, { ...parsed.certificates[0], sans: { email: ["a@x.org", "b\"q@x.org"], dns: ["d.example"], uri: [], ip: ["::1", "10.0.0.1"] }, subject: "CN=Ü \\, \u0001" }]) {
      const mine = { ...r, kind: "client" as const, keyFile: "private/x.key", csrFile: null, revokedAt: null, revocationReason: null };
      const ordered: CertRecord = { name: mine.name, kind: mine.kind, serial: mine.serial, subject: mine.subject, sans: mine.sans, profile: mine.profile, keyType: mine.keyType, notBefore: mine.notBefore, notAfter: mine.notAfter, status: mine.status, revokedAt: null, revocationReason: null, fingerprint: mine.fingerprint, certFile: mine.certFile, keyFile: mine.keyFile, csrFile: null, issuedAt: mine.issuedAt };
      expect(clientRecordText(ordered)).toBe(recordText(ordered));
    }
    expect(app.refresh()).toBeNull(); // still what this process wrote: not read again
    const other = new Store(dir);
    const inv2 = other.readInventory();
    inv2.certificates[0] = { ...inv2.certificates[0], status: "revoked" };
    other.writeInventory(inv2); // another writer
    expect(app.refresh()).not.toBeNull();
    expect(tempFiles(dir)).toEqual([]);
  });
});

// ---------------------------------------------------------------- the judge: issue() for the same inputs

interface Spec {
  name: string;
  email?: string[];
  dns?: string[];
  uri?: string[];
  ip?: string[];
  subject?: string;
  key?: KeyType;
  days?: number;
}

const SPECS: Spec[] = [
  { name: "alice", email: ["alice@example.com"] },
  { name: "bob", email: ["bob@example.com", "b@example.org"], dns: ["bob.example.com"], uri: ["spiffe://example.org/bob"], ip: ["192.0.2.7", "2001:DB8::0010"], days: 30 },
  { name: "carol", subject: "CN=carol,OU=eng,O=Acme Corp,C=US", key: "ec-p384" },
  { name: "dave", subject: "O=Acme,CN=dave", dns: ["dave.example.com"], key: "ed25519", days: 90 },
  { name: "erin@example.com", uri: ["urn:example:erin"], key: "rsa-2048" },
  { name: "frank", subject: "CN=Frank Ü. Smith,UID=frank", days: 1 },
  { name: "x".repeat(64), days: 36500 }, // the longest CN, and a validity that the CA cuts short
];

describe("the lean path against issue(), field by field", () => {
  let bulkDir: string, refDir: string;
  let caCert: ParsedCertificate;
  const results: RowResult[] = [];
  const warnings: string[] = [];

  beforeAll(async () => {
    const s = makeStore();
    bulkDir = s.dir;
    refDir = path.join(s.cwd, "ref");
    fs.cpSync(s.dir, refDir, { recursive: true });
    // the bulk path, from CSV
    const csv = ["name,email,dns,uri,ip,subject,key,days", ...SPECS.map((x) => [x.name, (x.email ?? []).join(";"), (x.dns ?? []).join(";"), (x.uri ?? []).join(";"), (x.ip ?? []).join(";"), x.subject ? `"${x.subject}"` : "", x.key ?? "", x.days ?? ""].join(","))].join("\n");
    const file = write(s.cwd, "judge.csv", csv + "\n");
    const store = new Store(bulkDir);
    caCert = store.caCertificate();
    const caKey = keySigner(store.caKey(PASS, caCert));
    await bulkIssue(store, caKey, caCert, csvRows(file), { file, defaults: { keyType: "ec-p256" }, onRow: (r) => results.push(r), onWarning: (w) => warnings.push(w) });
    // the general path, as `client issue` calls it
    const ref = new Store(refDir);
    for (const x of SPECS) {
      const sans = checkSans({ email: x.email ?? [], dns: x.dns ?? [], uri: x.uri ?? [], ip: x.ip ?? [] });
      const key = generateKey(x.key ?? "ec-p256");
      issue(
        ref,
        caKey,
        caCert,
        {
          profile: "client",
          name: x.name,
          subjectDer: subjectFor({ name: x.name, subject: x.subject, sans }, []),
          spki: spkiOf(key),
          publicKey: crypto.createPublicKey(key),
          sans,
          days: x.days,
          keyType: x.key ?? "ec-p256",
          extraFiles: [{ rel: `private/${x.name}.key`, data: privateKeyPem(key), mode: 0o600 }],
          keyRel: `private/${x.name}.key`,
        },
        [],
      );
    }
  });

  test("every row is issued", () => {
    expect(results.map((r) => r.status)).toEqual(SPECS.map(() => "issued"));
    expect(warnings).toContainEqual(expect.stringMatching(/^.*judge\.csv:8: days 36500 would outlive the CA: the certificate ends with the CA on /));
    expect(warnings).toContainEqual(expect.stringMatching(/^.*judge\.csv:7: subject "CN=Frank Ü\. Smith,UID=frank" cannot be mapped predictably by nats-server/));
  });

  test.each(SPECS.map((x) => [x.name.slice(0, 12), x] as const))("%s: the same certificate but for serial, key, validity seconds and signature", (_n, x) => {
    const a = readCert(bulkDir, x.name);
    const b = readCert(refDir, x.name);
    expect(a.version).toBe(3);
    expect(a.version).toBe(b.version);
    expect(a.signatureAlgorithm.equals(b.signatureAlgorithm)).toBe(true);
    expect(a.issuerRaw.equals(b.issuerRaw)).toBe(true);
    expect(a.subjectRaw.toString("hex")).toBe(b.subjectRaw.toString("hex"));
    // the key: a different one of the same type
    const alg = (c: ParsedCertificate) => crypto.createPublicKey({ key: c.spki, format: "der", type: "spki" }).asymmetricKeyDetails;
    expect(alg(a)).toEqual(alg(b));
    expect(a.spki.equals(b.spki)).toBe(false);
    // validity: the same length, to the second
    const len = (c: ParsedCertificate) => c.notAfter.getTime() - c.notBefore.getTime();
    expect(Math.abs(len(a) - len(b))).toBeLessThanOrEqual(2000);
    expect(Math.abs(a.notBefore.getTime() - b.notBefore.getTime())).toBeLessThan(120_000);
    // serial: random, positive, 16 bytes
    expect(a.serialHex).toMatch(/^[4-7][0-9a-f]{31}$/);
    expect(a.serialHex).not.toBe(b.serialHex);
    // extensions: the same list, in the same order, with the same bytes, but for the key's own identifier
    expect(a.extensions.map((e) => [e.oid, e.critical])).toEqual(b.extensions.map((e) => [e.oid, e.critical]));
    a.extensions.forEach((e, i) => {
      if (e.oid === "2.5.29.14") expect(a.subjectKeyId!.equals(crypto.createHash("sha1").update(subjectPublicKeyBits(a.spki)).digest())).toBe(true);
      else expect(e.value.toString("hex")).toBe(b.extensions[i].value.toString("hex"));
    });
    // the CA's signature
    const caPub = crypto.createPublicKey({ key: caCert.spki, format: "der", type: "spki" });
    expect(new crypto.X509Certificate(a.der).verify(caPub)).toBe(true);
  });

  test("@peculiar/x509 reads the same things from both", async () => {
    for (const x of SPECS) {
      const a = new x509.X509Certificate(fs.readFileSync(path.join(bulkDir, "issued", `${x.name}.crt`), "utf8"));
      const b = new x509.X509Certificate(fs.readFileSync(path.join(refDir, "issued", `${x.name}.crt`), "utf8"));
      expect(a.subject).toBe(b.subject);
      expect(a.issuer).toBe(b.issuer);
      expect(a.signatureAlgorithm).toEqual(b.signatureAlgorithm);
      expect(a.extensions.map((e) => e.type)).toEqual(b.extensions.map((e) => e.type));
      const san = (c: x509.X509Certificate) => c.getExtension(x509.SubjectAlternativeNameExtension)?.names.toJSON() ?? null;
      expect(san(a)).toEqual(san(b));
      const eku = (c: x509.X509Certificate) => c.getExtension(x509.ExtendedKeyUsageExtension)?.usages;
      expect(eku(a)).toEqual(["1.3.6.1.5.5.7.3.2"]);
      expect(eku(a)).toEqual(eku(b));
      expect(a.getExtension(x509.KeyUsagesExtension)?.usages).toBe(b.getExtension(x509.KeyUsagesExtension)?.usages);
      const ca = new x509.X509Certificate(fs.readFileSync(path.join(bulkDir, "ca.crt"), "utf8"));
      expect(await a.verify({ publicKey: ca.publicKey, signatureOnly: true })).toBe(true);
    }
  });

  test("the inventory records are the same but for serial, fingerprint, times and the CSR", () => {
    const a = inventory(bulkDir).certificates;
    const b = inventory(refDir).certificates;
    expect(a.map((r) => r.name)).toEqual(SPECS.map((x) => x.name));
    const strip = (r: CertRecord) => {
      const { serial: _s, fingerprint: _f, notBefore: _b, notAfter: _a, issuedAt: _i, csrFile: _c, ...rest } = r;
      return rest;
    };
    a.forEach((r, i) => {
      expect(Object.keys(r)).toEqual(Object.keys(b[i]));
      expect(strip(r)).toEqual(strip(b[i]));
      expect(r.csrFile).toBeNull();
      expect(r.fingerprint).toBe(crypto.createHash("sha256").update(readCert(bulkDir, r.name).der).digest("hex"));
      expect(r.serial).toBe(readCert(bulkDir, r.name).serialHex);
    });
  });

  test("keys: PKCS#8 PEM, mode 0600, the certificate's key; certificates mode 0644", () => {
    for (const x of SPECS) {
      const kf = path.join(bulkDir, "private", `${x.name}.key`);
      const pem = fs.readFileSync(kf, "utf8");
      expect(pem.startsWith("-----BEGIN PRIVATE KEY-----\n")).toBe(true);
      expect(fs.statSync(kf).mode & 0o777).toBe(0o600);
      expect(fs.statSync(path.join(bulkDir, "issued", `${x.name}.crt`)).mode & 0o777).toBe(0o644);
      const pub = crypto.createPublicKey(crypto.createPrivateKey(pem)).export({ type: "spki", format: "der" });
      expect(pub.equals(readCert(bulkDir, x.name).spki)).toBe(true);
    }
  });

  test("openssl verify -purpose sslclient accepts every one", () => {
    const files = SPECS.map((x) => path.join(bulkDir, "issued", `${x.name}.crt`));
    const r = openssl(["verify", "-CAfile", path.join(bulkDir, "ca.crt"), "-purpose", "sslclient", ...files]);
    expect(r.stdout + r.stderr).not.toMatch(/error|fail/i);
    expect(r.code).toBe(0);
    expect(r.stdout.match(/: OK$/gm)).toHaveLength(files.length);
  });
});

// ---------------------------------------------------------------- the command

function csvOf(names: string[], extra = (_n: string) => ""): string {
  return "name,email\n" + names.map((n) => `${n},${extra(n) || `${n}@example.com`}`).join("\n") + "\n";
}

/** Runs the CLI in the background; resolves with its exit code and output. */
function mtlsAsync(args: string[], o: { cwd: string; env: Record<string, string> }, onStderr?: (chunk: string, kill: () => void) => void): Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [BIN, ...args], { cwd: o.cwd, env: { ...process.env, NO_COLOR: "1", ...o.env }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    p.stdout.on("data", (d) => (stdout += d));
    p.stderr.on("data", (d) => {
      stderr += d;
      onStderr?.(String(d), () => p.kill("SIGKILL"));
    });
    p.on("close", (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

describe("client issue --from, end to end", () => {
  test("1,000 clients from CSV: 1,000 valid certificates, one inventory entry each, distinct serials; a re-run issues nothing", () => {
    const s = makeStore();
    const names = Array.from({ length: 1000 }, (_, i) => `user${String(i).padStart(4, "0")}`);
    const file = write(s.cwd, "users.csv", csvOf(names));
    const r = mtls(["client", "issue", "--from", "users.csv"], { cwd: s.cwd, env: s.env });
    expect(r.stderr).not.toMatch(/mtlsctl: /);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Issued 1000 client certificates from users\.csv/);
    const inv = checkConsistent(s.dir);
    expect(inv.certificates.map((c) => c.name).sort()).toEqual(names);
    const text = inventoryText(s.dir);
    expect(text).toBe(JSON.stringify(inv, null, 2) + "\n"); // exactly what Store.writeInventory would write
    const ca = readCertPem(path.join(s.dir, "ca.crt"));
    const caPub = crypto.createPublicKey({ key: ca.spki, format: "der", type: "spki" });
    for (const c of inv.certificates) {
      const cert = readCert(s.dir, c.name);
      expect(new crypto.X509Certificate(cert.der).verify(caPub)).toBe(true);
      expect(cert.sans.email).toEqual([`${c.name}@example.com`]);
      expect(c.sans.email).toEqual([`${c.name}@example.com`]);
      expect(c.subject).toBe(`CN=${c.name}`);
      expect(cert.extKeyUsage).toEqual(["1.3.6.1.5.5.7.3.2"]);
    }
    // openssl on a sample of 20
    const sample = names.filter((_, i) => i % 50 === 7).map((n) => path.join(s.dir, "issued", `${n}.crt`));
    const v = openssl(["verify", "-CAfile", path.join(s.dir, "ca.crt"), "-purpose", "sslclient", ...sample]);
    expect(v.code).toBe(0);
    expect(v.stdout.match(/: OK$/gm)).toHaveLength(20);
    expect(tempFiles(s.dir)).toEqual([]);
    // list sees them
    const list = JSON.parse(mtls(["list", "--json"], { cwd: s.cwd, env: s.env }).stdout);
    expect(list.filter((x: { kind: string }) => x.kind === "client")).toHaveLength(1000);
    // again: nothing new, exit 0, the store untouched
    const before = hashTree(s.dir);
    const again = mtls(["client", "issue", "--from", file, "--json"], { cwd: s.cwd, env: s.env });
    expect(again.code).toBe(0);
    const sum = JSON.parse(again.stdout);
    expect(sum.counts).toEqual({ issued: 0, skipped: 1000, failed: 0 });
    expect(sum.skipped[0]).toEqual({ line: 2, name: "user0000", reason: "exists" });
    expect(hashTree(s.dir)).toEqual(before);
  });

  test("JSON input", () => {
    const s = makeStore();
    write(
      s.cwd,
      "users.json",
      JSON.stringify([
        { name: "alice", email: ["alice@example.com", "a@example.com"] },
        { name: "bob", dns: "bob.example.com;b.example.com", key: "ed25519", days: 30 },
        { name: "carol", subject: "CN=carol,OU=ops,O=Acme" },
      ]),
    );
    const r = mtls(["client", "issue", "--from", "users.json", "--json"], { cwd: s.cwd, env: s.env });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).issued.map((x: { name: string }) => x.name)).toEqual(["alice", "bob", "carol"]);
    expect(readCert(s.dir, "alice").sans.email).toEqual(["alice@example.com", "a@example.com"]);
    expect(readCert(s.dir, "bob").sans.dns).toEqual(["bob.example.com", "b.example.com"]);
    expect(inventory(s.dir).certificates.find((c) => c.name === "bob")!.keyType).toBe("ed25519");
    expect(inventory(s.dir).certificates.find((c) => c.name === "carol")!.subject).toBe("CN=carol,OU=ops,O=Acme");
    checkConsistent(s.dir);
  });

  test("bad rows are reported with their line numbers, one line each, and the rest are issued; exit 3", () => {
    const s = makeStore();
    write(s.cwd, "users.csv", ["name,email", "alice,alice@example.com", "bob,bob-at-example.com", "bad name,x@example.com", "carol,carol@example.com", "alice,alice2@example.com", ".hidden,h@example.com", "dave,dave@example.com", ""].join("\n"));
    const r = mtls(["client", "issue", "--from", "users.csv"], { cwd: s.cwd, env: s.env });
    expect(r.code).toBe(3);
    const errors = r.stderr.split("\n").filter((l) => l.startsWith("mtlsctl: "));
    expect(errors).toEqual([
      'mtlsctl: users.csv:3: email "bob-at-example.com": expected local@domain',
      expect.stringMatching(/^mtlsctl: users\.csv:4: name "bad name" is not allowed/),
      'mtlsctl: users.csv:6: "alice" is also on line 2 (each name once)',
      expect.stringMatching(/^mtlsctl: users\.csv:7: name "\.hidden" is not allowed/),
    ]);
    expect(r.stdout).toMatch(/Issued 3 client certificates from users\.csv .*; 4 rows failed/);
    expect(inventory(s.dir).certificates.map((c) => c.name)).toEqual(["alice", "carol", "dave"]);
    expect(readCert(s.dir, "alice").sans.email).toEqual(["alice@example.com"]);
    checkConsistent(s.dir);
    // --json: the summary, and still the lines on stderr
    const j = mtls(["client", "issue", "--from", "users.csv", "--json"], { cwd: s.cwd, env: s.env });
    expect(j.code).toBe(3);
    const sum = JSON.parse(j.stdout);
    expect(sum.counts).toEqual({ issued: 0, skipped: 3, failed: 4 });
    expect(sum.failed.map((f: { line: number }) => f.line)).toEqual([3, 4, 6, 7]);
    expect(sum.failed[0]).toEqual({ line: 3, name: "bob", error: 'email "bob-at-example.com": expected local@domain' });
    expect(j.stderr).toMatch(/users\.csv:6: "alice" is also on line 2/);
  });

  test("a damaged file, a wrong passphrase: exit 3 and the store unchanged", () => {
    const s = makeStore();
    mtls(["client", "issue", "first"], { cwd: s.cwd, env: s.env });
    const before = hashTree(s.dir);
    write(s.cwd, "bad.csv", 'name,email\nalice,"a@example.com\n');
    const bad = mtls(["client", "issue", "--from", "bad.csv"], { cwd: s.cwd, env: s.env });
    expect(bad.code).toBe(3);
    expect(bad.stderr).toMatch(/^mtlsctl: bad\.csv:2: a quoted cell starts here and is never closed \(a missing quote\?\)\n$/);
    write(s.cwd, "users.csv", csvOf(["alice", "bob"]));
    const wrong = mtls(["client", "issue", "--from", "users.csv"], { cwd: s.cwd, env: { ...s.env, MTLSCTL_PASSPHRASE: "not-the-passphrase" } });
    expect(wrong.code).toBe(3);
    expect(wrong.stderr).toMatch(/wrong passphrase/);
    expect(wrong.stderr.trim().split("\n")).toHaveLength(1);
    const missing = mtls(["client", "issue", "--from", "nope.csv"], { cwd: s.cwd, env: s.env });
    expect(missing.code).toBe(3);
    expect(missing.stderr).toMatch(/nope\.csv: cannot read the file/);
    expect(hashTree(s.dir)).toEqual(before);
  });

  test("usage: a NAME and --from, or SAN flags with --from, exit 2", () => {
    const s = makeStore();
    write(s.cwd, "users.csv", csvOf(["alice"]));
    const before = hashTree(s.dir);
    expect(mtls(["client", "issue", "bob", "--from", "users.csv"], { cwd: s.cwd, env: s.env }).code).toBe(2);
    expect(mtls(["client", "issue", "--from", "users.csv", "--email", "x@example.com"], { cwd: s.cwd, env: s.env }).code).toBe(2);
    expect(mtls(["client", "issue", "--from", "users.csv", "--force"], { cwd: s.cwd, env: s.env }).code).toBe(2);
    expect(hashTree(s.dir)).toEqual(before);
  });

  test("a second process at the same time waits for the store lock; both complete, no serial twice", async () => {
    const s = makeStore();
    write(s.cwd, "a.csv", csvOf(Array.from({ length: 1500 }, (_, i) => `a${i}`)));
    write(s.cwd, "b.csv", csvOf(Array.from({ length: 300 }, (_, i) => `b${i}`)));
    const [a, b, c] = await Promise.all([
      mtlsAsync(["client", "issue", "--from", "a.csv"], s),
      new Promise((r) => setTimeout(r, 150)).then(() => mtlsAsync(["client", "issue", "--from", "b.csv"], s)),
      new Promise((r) => setTimeout(r, 300)).then(() => mtlsAsync(["client", "issue", "single", "--email", "single@example.com"], s)),
    ]);
    expect([a.code, b.code, c.code]).toEqual([0, 0, 0]);
    const inv = checkConsistent(s.dir);
    expect(inv.certificates).toHaveLength(1801);
    expect(new Set(inv.certificates.map((x) => x.name)).size).toBe(1801);
    expect(tempFiles(s.dir)).toEqual([]);
    expect(fs.existsSync(path.join(s.dir, ".lock"))).toBe(false);
  });

  test("kill -9 in the middle (a random moment): the inventory lists only whole batches with their files; a re-run finishes and clears the debris", async () => {
    const s = makeStore();
    const names = Array.from({ length: 6000 }, (_, i) => `k${i}`);
    write(s.cwd, "users.csv", csvOf(names));
    let killed = false;
    const r = await mtlsAsync(["client", "issue", "--from", "users.csv"], s, (chunk, kill) => {
      if (!killed && /^progress: /m.test(chunk)) {
        killed = true;
        kill();
      }
    });
    const inv = checkConsistent(s.dir);
    expect(r.signal === "SIGKILL" || r.code === 0).toBe(true);
    const again = mtls(["client", "issue", "--from", "users.csv", "--json"], { cwd: s.cwd, env: s.env });
    expect(again.code).toBe(0);
    const sum = JSON.parse(again.stdout);
    expect(sum.counts.issued + sum.counts.skipped).toBe(6000);
    expect(sum.counts.skipped).toBe(inv.certificates.length);
    const done = checkConsistent(s.dir);
    expect(done.certificates.map((c) => c.name).sort()).toEqual([...names].sort());
    expect(tempFiles(s.dir)).toEqual([]);
  }, 120_000);

  test("killed at each crash point of a batch (flushed / renamed / committed): old state or new, never half a batch; the next locked command removes the debris", () => {
    const s = makeStore();
    const names = Array.from({ length: 1100 }, (_, i) => `c${i}`);
    write(s.cwd, "users.csv", csvOf(names));
    const pristine = path.join(s.cwd, "pristine");
    fs.cpSync(s.dir, pristine, { recursive: true });
    // crash points: 1 the cleanup's lock, 2 the run's lock, then per batch: flushed, renamed, index
    // appended, before the segment's link (the commit point), linked, after the link, after the commit
    for (const at of [3, 4, 5, 6, 7, 8, 9, 11]) {
      fs.rmSync(s.dir, { recursive: true });
      fs.cpSync(pristine, s.dir, { recursive: true });
      const r = mtls(["client", "issue", "--quiet", "--from", "users.csv"], { cwd: s.cwd, env: { ...s.env, MTLSCTL_TEST_KILL_AT: String(at), MTLSCTL_TEST_KILL_TRACE: "1" } });
      expect(r.code).toBe(-1); // killed
      // what was committed: the batches whose "after the inventory write" point was reached
      const sizes = [...r.stderr.matchAll(/bulk: batch of (\d+) flushed/g)].map((m) => Number(m[1]));
      // what was committed: the batches whose segment was linked into place (the commit point)
      const commits = (r.stderr.match(/segment linked, temporary name not yet removed/g) ?? []).length;
      const killedAt = r.stderr.trim().split("\n").pop()!;
      const inv = checkConsistent(s.dir);
      expect(inv.certificates.length).toBe(sizes.slice(0, commits).reduce((a, b) => a + b, 0));
      expect({ killedAt, n: inv.certificates.length }).toEqual({ killedAt, n: at <= 6 ? 0 : sizes[0] }); // 3-6 come before the first batch's commit; 11 is the second batch's renames
      // another command that takes the lock: the unlisted files and the temporary files go
      expect(mtls(["client", "issue", "other", "--email", "o@example.com"], { cwd: s.cwd, env: s.env }).code).toBe(0);
      expect(tempFiles(s.dir)).toEqual([]);
      const listed = new Set(inventory(s.dir).certificates.map((c) => c.name));
      for (const d of ["issued", "private"]) for (const f of fs.readdirSync(path.join(s.dir, d))) if (f !== "ca.key") expect(listed.has(f.replace(/\.(crt|key)$/, ""))).toBe(true);
      // and a re-run completes the file
      const again = mtls(["client", "issue", "--quiet", "--from", "users.csv"], { cwd: s.cwd, env: s.env });
      expect(again.code).toBe(0);
      expect(checkConsistent(s.dir).certificates).toHaveLength(1101);
    }
  }, 300_000);

  test.each([
    ["fsync per file, on the thread pool", { flush: "fsync" as const }],
    ["syncfs, files written by the calling thread", { thread: false }],
    ["syncfs where `sync -f` fails: each file fsynced instead", { fakeSync: true }],
  ])("the other ways to write and flush give the same store: %s", async (_label, o: { flush?: "fsync"; thread?: boolean; fakeSync?: boolean }) => {
    const s = makeStore();
    const store = new Store(s.dir);
    const caCert = store.caCertificate();
    const caKey = keySigner(store.caKey(PASS, caCert));
    const names = Array.from({ length: 45 }, (_, i) => `m${i}`);
    const file = write(s.cwd, "users.csv", csvOf(names));
    // a `sync` that fails and says it was called: the helper shell (a fixed PATH) finds it through the test hook
    const bin = tmpDir("mtlsctl-fake-sync-");
    const called = path.join(bin, "called");
    if (o.fakeSync) {
      write(bin, "sync", `#!/bin/sh\necho "$@" >> "${called}"\nexit 1\n`);
      fs.chmodSync(path.join(bin, "sync"), 0o755);
      process.env.MTLSCTL_TEST_SYNC_DIR = bin;
    }
    try {
      const sum = await bulkIssue(store, caKey, caCert, csvRows(file), { file, defaults: { keyType: "ec-p256" }, batchSize: 20, flush: o.flush, thread: o.thread });
      expect(sum).toEqual({ rows: 45, issued: 45, skipped: 0, failed: 0, stopped: false });
    } finally {
      delete process.env.MTLSCTL_TEST_SYNC_DIR;
    }
    // the fallback was taken: the failing sync ran (once: then every file is fsynced on its own)
    if (o.fakeSync) expect(fs.readFileSync(called, "utf8").trim().split("\n").length).toBeGreaterThanOrEqual(1);
    const inv = checkConsistent(s.dir);
    expect(inv.certificates.map((c) => c.name)).toEqual(names);
    for (const n of names) {
      expect(fs.statSync(path.join(s.dir, "private", `${n}.key`)).mode & 0o777).toBe(0o600);
      expect(fs.statSync(path.join(s.dir, "issued", `${n}.crt`)).mode & 0o777).toBe(0o644);
    }
    const text = inventoryText(s.dir);
    expect(text).toBe(JSON.stringify(JSON.parse(text), null, 2) + "\n");
    expect(tempFiles(s.dir)).toEqual([]);
  });

  test("a failure in the middle of a batch publishes nothing of that batch and leaves no file behind", async () => {
    const s = makeStore();
    const store = new Store(s.dir);
    const caCert = store.caCertificate();
    const caKey = keySigner(store.caKey(PASS, caCert));
    const names = Array.from({ length: 25 }, (_, i) => `f${i}`);
    const file = write(s.cwd, "users.csv", csvOf(names));
    fs.mkdirSync(path.join(s.dir, "issued", "f17.crt")); // the rename of f17's certificate (batch 2) fails
    const issued: string[] = [];
    await expect(bulkIssue(store, caKey, caCert, csvRows(file), { file, defaults: { keyType: "ec-p256" }, batchSize: 10, onRow: (r) => r.status === "issued" && issued.push(r.name) })).rejects.toThrow(/f17\.crt/);
    expect(issued).toEqual(names.slice(0, 10));
    const inv = checkConsistent(s.dir);
    expect(inv.certificates.map((c) => c.name)).toEqual(names.slice(0, 10));
    for (const n of names.slice(10)) {
      expect(fs.existsSync(path.join(s.dir, "private", `${n}.key`))).toBe(false);
      if (n !== "f17") expect(fs.existsSync(path.join(s.dir, "issued", `${n}.crt`))).toBe(false);
    }
    expect(tempFiles(s.dir)).toEqual([]);
    expect(fs.existsSync(path.join(s.dir, ".lock"))).toBe(false);
  });
});

function readCertPem(file: string): ParsedCertificate {
  const b64 = fs.readFileSync(file, "utf8").replace(/-----[A-Z ]+-----/g, "").replace(/\s+/g, "");
  return parseCertificate(Buffer.from(b64, "base64"));
}
