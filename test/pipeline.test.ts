/**
 * Issue 16 §2: one issuance pipeline. The same identities issued both ways, `client issue NAME`
 * one at a time and `client issue --from users.csv` in bulk, into two copies of one intermediate
 * store whose CA has `--permit-dns example.com` and ends before the leaves' default validity:
 * the same warnings (bulk names the row), the same extensions but for the key's own identifier, and
 * inventory records of the same shape. The name-constraint case of the issue: a CN that looks like a
 * host outside the constraints warns in bulk too, and `openssl verify` shows why (it refuses it).
 */
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { mtls, mtlsOk, openssl, tmpDir, tool } from "./helpers/cli";
import { parseCertificate, ParsedCertificate } from "../src/pki/cert";
import { keyIdentifier } from "../src/pki/keys";
import { CertRecord, Inventory, Store } from "../src/store/store";
import { issue, leafFiles } from "../src/ca";
import { bulkIssue } from "../src/bulk/issue";
import { csvRows } from "../src/bulk/input";
import { writeCrl } from "../src/lifecycle/crl";
import { generateKey, privateKeyPem, spkiOf } from "../src/pki/keys";
import { keySigner, Signer } from "../src/pki/signer";
import { emptySans } from "../src/pki/san";
import { chooseSerial, planIssuance, tbsOf } from "../src/pki/plan";
import { buildCertificate, readCertificates } from "../src/pki/cert";
import { encodeName, parseRfc4514 } from "../src/pki/name";
import { readInventory, inventoryText } from "./helpers/inventory";

jest.setTimeout(180_000);

const cwd = tmpDir("mtlsctl-pipeline-");
const env = { MTLSCTL_PASSPHRASE: "pipe-pass", MTLSCTL_ROOT_PASSPHRASE: "pipe-root", MTLSCTL_DIR: undefined };
const rootDir = path.join(cwd, "root");
const baseDir = path.join(cwd, "base");
const singleDir = path.join(cwd, "single");
const bulkDir = path.join(cwd, "bulk");

interface Identity {
  name: string;
  email?: string[];
  dns?: string[];
  uri?: string[];
  ip?: string[];
  subject?: string;
  key?: string;
}

const IDS: Identity[] = [
  { name: "alice", email: ["alice@example.com"] },
  { name: "cn1", subject: "CN=host.evil.com" }, // the issue's case: a host-like CN outside --permit-dns example.com
  { name: "web", dns: ["api.example.com"], uri: ["spiffe://example.com/web"], ip: ["192.0.2.7"] },
  { name: "carol", subject: "CN=carol,OU=eng,O=Acme Corp,C=US", key: "ec-p384" },
  { name: "frank", subject: "CN=Frank Ü. Smith,UID=frank", key: "ed25519" },
  { name: "erin", email: ["erin@example.org"], key: "rsa-2048" },
];
const lineOf = (name: string) => IDS.findIndex((x) => x.name === name) + 2; // after the header row

const warningsOf = (stderr: string) =>
  stderr
    .split("\n")
    .filter((l) => l.startsWith("mtlsctl: warning: "))
    .map((l) => l.slice("mtlsctl: warning: ".length));
const readCert = (dir: string, name: string): ParsedCertificate => parseCertificate(Buffer.from(fs.readFileSync(path.join(dir, "issued", `${name}.crt`), "utf8").split("\n").slice(1, -2).join(""), "base64"));
const inventory = (dir: string): Inventory => readInventory(dir);
const recordOf = (dir: string, name: string): CertRecord => inventory(dir).certificates.find((c) => c.name === name)!;

const single: Record<string, string[]> = {};
let bulkWarnings: string[] = [];
let csv: string;

beforeAll(() => {
  tool("openssl");
  const secret = (s: string) => {
    const f = path.join(cwd, `secret-${s}`);
    fs.writeFileSync(f, s + "\n", { mode: 0o600 });
    return f;
  };
  // a root that ends in 100 days, and an intermediate under it (its validity: what the root has left)
  mtlsOk(["ca", "init", "--dir", rootDir, "--name", "Pipe Root", "--days", "100", "--passphrase-file", secret("pipe-root")], { cwd, env });
  mtlsOk(["ca", "init", "--intermediate", "--root-dir", rootDir, "--dir", baseDir, "--name", "Pipe Issuing", "--permit-dns", "example.com"], { cwd, env });
  fs.cpSync(baseDir, singleDir, { recursive: true });
  fs.cpSync(baseDir, bulkDir, { recursive: true });
  for (const x of IDS) {
    const args = ["client", "issue", x.name, "--dir", singleDir];
    for (const k of ["email", "dns", "uri", "ip"] as const) for (const v of x[k] ?? []) args.push(`--${k}`, v);
    if (x.subject) args.push("--subject", x.subject);
    if (x.key) args.push("--key", x.key);
    single[x.name] = warningsOf(mtlsOk(args, { cwd, env }).stderr);
  }
  const cell = (a?: string[]) => (a ?? []).join(";");
  csv = path.join(cwd, "users.csv");
  fs.writeFileSync(csv, ["name,email,dns,uri,ip,subject,key", ...IDS.map((x) => [x.name, cell(x.email), cell(x.dns), cell(x.uri), cell(x.ip), x.subject ? `"${x.subject}"` : "", x.key ?? ""].join(","))].join("\n") + "\n");
  bulkWarnings = warningsOf(mtlsOk(["client", "issue", "--from", "users.csv", "--dir", bulkDir], { cwd, env }).stderr);
});

afterAll(() => fs.rmSync(cwd, { recursive: true, force: true }));

describe("single and bulk issuance share one plan", () => {
  test("the name-constraint case warns on both paths, bulk naming the row", () => {
    const text = `the subject CN "host.evil.com" looks like a host name outside the DNS name constraints of CA "CN=Pipe Issuing": nats-server (Go) ignores the CN, but OpenSSL-based verifiers refuse the certificate (give a DNS SAN, or a CN without dots)`;
    expect(single.cn1).toContain(text);
    expect(bulkWarnings).toContain(`users.csv:${lineOf("cn1")}: ${text}`);
    // and the warning is right: OpenSSL refuses both certificates for that reason
    const chain = path.join(singleDir, "chain.pem");
    const roots = path.join(singleDir, "roots.pem");
    for (const dir of [singleDir, bulkDir]) {
      const r = openssl(["verify", "-CAfile", roots, "-untrusted", chain, "-purpose", "sslclient", path.join(dir, "issued", "cn1.crt")]);
      expect(r.code).not.toBe(0);
      expect(r.stdout + r.stderr).toMatch(/permitted subtree violation/);
      const ok = openssl(["verify", "-CAfile", roots, "-untrusted", chain, "-purpose", "sslclient", path.join(dir, "issued", "alice.crt")]);
      expect(ok.stdout + ok.stderr).toMatch(/: OK/);
    }
  });

  test("the same warning texts: every single-path warning from the planning step is said by bulk, prefixed by a row of that identity", () => {
    // bulk says a text once (the first row it concerns): the default validity outliving the CA is one text for all rows
    const outlive = /^the default validity \(365 days\) would outlive the CA: the certificate ends with the CA on \S+$/;
    for (const x of IDS) expect(single[x.name]).toContainEqual(expect.stringMatching(outlive));
    const stripped = bulkWarnings.map((w) => w.replace(/^users\.csv:\d+: /, ""));
    expect(bulkWarnings.every((w) => /^users\.csv:\d+: /.test(w))).toBe(true);
    expect(stripped.filter((w) => outlive.test(w))).toEqual([single.alice.find((w) => outlive.test(w))]);
    expect(bulkWarnings.find((w) => outlive.test(w.replace(/^users\.csv:\d+: /, "")))).toMatch(new RegExp(`^users\\.csv:${lineOf("alice")}: `));
    for (const x of IDS)
      for (const w of single[x.name]) {
        if (outlive.test(w)) continue;
        expect(bulkWarnings).toContain(`users.csv:${lineOf(x.name)}: ${w}`);
      }
    // and nothing else: the same set of texts
    expect(new Set(stripped)).toEqual(new Set(IDS.flatMap((x) => single[x.name])));
    expect(stripped.length).toBe(new Set(stripped).size);
  });

  test.each(IDS.map((x) => [x.name, x] as const))("%s: the same extensions and fields but for serial, key and times", (name) => {
    const a = readCert(singleDir, name);
    const b = readCert(bulkDir, name);
    expect(b.issuerRaw.equals(a.issuerRaw)).toBe(true);
    expect(b.subjectRaw.equals(a.subjectRaw)).toBe(true);
    expect(b.signatureAlgorithm.equals(a.signatureAlgorithm)).toBe(true);
    expect(b.serialHex).not.toBe(a.serialHex);
    expect(b.notAfter.getTime()).toBe(a.notAfter.getTime()); // both clamped to the CA's end
    expect(b.extensions.map((e) => [e.oid, e.critical])).toEqual(a.extensions.map((e) => [e.oid, e.critical]));
    b.extensions.forEach((e, i) => {
      if (e.oid === "2.5.29.14") expect(b.subjectKeyId!.equals(keyIdentifier(b.spki))).toBe(true);
      else expect(e.value.toString("hex")).toBe(a.extensions[i].value.toString("hex"));
    });
    const ca = new crypto.X509Certificate(fs.readFileSync(path.join(baseDir, "ca.crt")));
    expect(new crypto.X509Certificate(b.der).verify(ca.publicKey)).toBe(true);
  });

  test("inventory records of the same shape (same keys, in the same order; csrFile present in both)", () => {
    for (const x of IDS) {
      const a = recordOf(singleDir, x.name);
      const b = recordOf(bulkDir, x.name);
      expect(Object.keys(b)).toEqual(Object.keys(a));
      expect("csrFile" in a && "csrFile" in b).toBe(true);
      const strip = (r: CertRecord) => {
        const { serial: _s, fingerprint: _f, notBefore: _b, notAfter: _a, issuedAt: _i, csrFile: _c, ...rest } = r;
        return rest;
      };
      expect(strip(b)).toEqual(strip(a));
      expect(b.notAfter).toBe(a.notAfter);
      expect(b.fingerprint).toBe(readCert(bulkDir, x.name).fingerprint);
    }
  });

  test("a SAN outside the constraints is refused on both paths, with the same message", () => {
    const r1 = mtls(["client", "issue", "evil", "--dir", singleDir, "--dns", "host.evil.com"], { cwd, env });
    expect(r1.code).toBe(3);
    const msg = r1.stderr.trim().replace(/^mtlsctl: /, "");
    const f = path.join(cwd, "evil.csv");
    fs.writeFileSync(f, "name,dns\nevil,host.evil.com\n");
    const r2 = mtls(["client", "issue", "--from", "evil.csv", "--dir", bulkDir, "--json"], { cwd, env });
    expect(r2.stdout + r2.stderr).toContain(msg);
  });
});

describe("the Signer seam", () => {
  /** A signer that holds its key out of reach (as an HSM would): only algorithm, publicKey and sign(). */
  function sealedSigner(dir: string): Signer & { calls: number } {
    const store = new Store(dir);
    const key = store.caKey("pipe-pass", store.caCertificate());
    const inner = keySigner(key);
    const publicKey = spkiOf(key);
    const s = { calls: 0, algorithm: inner.algorithm, publicKey, sign: (tbs: Buffer) => (s.calls++, crypto.sign("sha256", tbs, key)) };
    return s;
  }

  test("issue(), bulkIssue() and writeCrl() sign through any Signer; the results verify with the CA's key", async () => {
    const dir = path.join(cwd, "seam");
    fs.cpSync(baseDir, dir, { recursive: true });
    const store = new Store(dir);
    const caCert = store.caCertificate();
    const signer = sealedSigner(dir);
    const key = generateKey("ec-p256");
    const warnings: string[] = [];
    const one = issue(store, signer, caCert, { profile: "client", name: "sealed", subjectDer: Buffer.from("3000", "hex"), spki: spkiOf(key), sans: { ...emptySans(), email: ["sealed@example.com"] }, ...leafFiles("sealed", { keyPem: privateKeyPem(key) }) }, warnings);
    expect(signer.calls).toBe(1);
    const f = path.join(cwd, "seam.csv");
    fs.writeFileSync(f, "name,email\ns1,s1@example.com\ns2,s2@example.com\n");
    const sum = await bulkIssue(store, signer, caCert, csvRows(f), { file: f, defaults: { keyType: "ec-p256" } });
    expect(sum.issued).toBe(2);
    expect(signer.calls).toBe(3);
    const crl = writeCrl(store, signer, caCert, {}, []);
    expect(signer.calls).toBe(4);
    const ca = new crypto.X509Certificate(fs.readFileSync(path.join(dir, "ca.crt")));
    for (const n of ["sealed", "s1", "s2"]) expect(new crypto.X509Certificate(fs.readFileSync(path.join(dir, "issued", `${n}.crt`))).verify(ca.publicKey)).toBe(true);
    expect(one.record.subject).toBe("");
    const crlFile = path.join(cwd, "seam.crl");
    fs.writeFileSync(crlFile, crl.pem);
    const r = openssl(["crl", "-in", crlFile, "-CAfile", path.join(dir, "ca.crt"), "-noout"]);
    expect(r.stdout + r.stderr).toMatch(/verify OK/);
  });

  test("a Signer whose key is not the CA certificate's is refused before anything is signed", async () => {
    const dir = path.join(cwd, "seam-wrong");
    fs.cpSync(baseDir, dir, { recursive: true });
    const store = new Store(dir);
    const caCert = store.caCertificate();
    const other = keySigner(generateKey("ec-p256"));
    const key = generateKey("ec-p256");
    const before = inventoryText(dir);
    expect(() => issue(store, other, caCert, { profile: "client", name: "x", subjectDer: Buffer.from("3000", "hex"), spki: spkiOf(key), sans: { ...emptySans(), email: ["x@example.com"] } }, [])).toThrow(/the CA key does not match the CA certificate/);
    const f = path.join(cwd, "seam-wrong.csv");
    fs.writeFileSync(f, "name\ny1\n");
    await expect(bulkIssue(store, other, caCert, csvRows(f), { file: f, defaults: { keyType: "ec-p256" } })).rejects.toThrow(/does not match/);
    expect(() => writeCrl(store, other, caCert, {}, [])).toThrow(/does not match/);
    expect(inventoryText(dir)).toBe(before);
    expect(fs.readdirSync(path.join(dir, "issued"))).toEqual([]);
  });
});

describe("planIssuance: a plain function of a request and an issuer", () => {
  const certsOf = (f: string) => readCertificates(fs.readFileSync(f), f);
  const issuer = () => {
    const ca = certsOf(path.join(baseDir, "ca.crt"))[0];
    return { cert: ca, chain: [ca, ...certsOf(path.join(baseDir, "roots.pem"))] };
  };
  const spki = () => spkiOf(generateKey("ec-p256"));
  const subject = (s: string) => encodeName(parseRfc4514(s));

  test("the issue's case: a warning, not a refusal; SANs outside the constraints: a refusal", () => {
    const p = planIssuance({ profile: "client", subjectDer: subject("CN=host.evil.com"), spki: spki(), sans: emptySans() }, issuer());
    expect(p.warnings).toContainEqual(expect.stringMatching(/^the subject CN "host\.evil\.com" looks like a host name outside the DNS name constraints of CA "CN=Pipe Issuing"/));
    expect(() => planIssuance({ profile: "client", subjectDer: subject("CN=x"), spki: spki(), sans: { ...emptySans(), dns: ["host.evil.com"] } }, issuer())).toThrow(/host\.evil\.com/);
    expect(planIssuance({ profile: "client", subjectDer: subject("CN=x"), spki: spki(), sans: { ...emptySans(), dns: ["api.example.com"] } }, issuer()).warnings.filter((w) => /constraints/.test(w))).toEqual([]);
  });

  test("validity: clamped to the CA's end, with the option named as the caller says; an expired CA refused", () => {
    const iss = issuer();
    const p = planIssuance({ profile: "client", subjectDer: subject("CN=x"), spki: spki(), sans: emptySans(), days: 36500, daysOption: "days" }, iss);
    expect(p.notAfter.getTime()).toBe(iss.cert.notAfter.getTime());
    expect(p.warnings).toContain(`days 36500 would outlive the CA: the certificate ends with the CA on ${iss.cert.notAfter.toISOString()}`);
    const q = planIssuance({ profile: "client", subjectDer: subject("CN=x"), spki: spki(), sans: emptySans(), days: 10 }, iss, Date.UTC(2027, 0, 1, 0, 0, 0, 999) - 400 * 86_400_000);
    expect(q.notBefore.getMilliseconds()).toBe(0);
    expect(q.notAfter.getTime() - q.notBefore.getTime()).toBe(10 * 86_400_000 + 60_000);
    expect(q.warnings).toEqual([]);
    expect(() => planIssuance({ profile: "client", subjectDer: subject("CN=x"), spki: spki(), sans: emptySans() }, iss, iss.cert.notAfter.getTime() + 1000)).toThrow(/the CA certificate expired on/);
  });

  test("subject, SAN and key checks are the plan's; the plan signs to the certificate issue() would make", () => {
    const iss = issuer();
    expect(() => planIssuance({ profile: "client", subjectDer: Buffer.from("3000", "hex"), spki: spki(), sans: emptySans() }, iss)).toThrow(/needs a subject or at least one SAN/);
    expect(() => planIssuance({ profile: "server", subjectDer: subject("CN=s"), spki: spki(), sans: { ...emptySans(), email: ["a@example.com"] } }, iss)).toThrow(/needs at least one --dns or --ip/);
    expect(() => planIssuance({ profile: "client", subjectDer: subject("CN=x"), spki: spki(), sans: { ...emptySans(), email: ["no-at-sign"] } }, iss)).toThrow(/expected local@domain/);
    const secp256k1 = crypto.generateKeyPairSync("ec", { namedCurve: "secp256k1" }).publicKey.export({ type: "spki", format: "der" });
    expect(() => planIssuance({ profile: "client", subjectDer: subject("CN=x"), spki: secp256k1, sans: emptySans() }, iss)).toThrow(/cannot be used with nats-server/);
    const p = planIssuance({ profile: "client", subjectDer: subject("CN=x"), spki: spki(), sans: { ...emptySans(), ip: ["2001:DB8::0010"] } }, iss);
    expect(p.sans.ip).toEqual(["2001:db8::10"]);
    const signer = sealedSignerFor(baseDir);
    const der = buildCertificate(tbsOf(p, chooseSerial(() => false)), signer);
    expect(new crypto.X509Certificate(der).verify(crypto.createPublicKey({ key: iss.cert.spki, format: "der", type: "spki" }))).toBe(true);
    expect(new crypto.X509Certificate(der).subjectAltName).toBe("IP Address:2001:DB8:0:0:0:0:0:10");
  });

  test("chooseSerial: 16 bytes, positive, never a taken one", () => {
    const taken = new Set<string>();
    const fixed = [Buffer.alloc(16, 0x41), Buffer.alloc(16, 0x41), Buffer.alloc(16, 0x42)];
    taken.add(Buffer.alloc(16, 0x41).toString("hex"));
    expect(chooseSerial((h) => taken.has(h), () => fixed.shift()!).toString("hex")).toBe("42".repeat(16));
    for (let i = 0; i < 200; i++) expect(chooseSerial(() => false).toString("hex")).toMatch(/^[4-7][0-9a-f]{31}$/);
  });
});

function sealedSignerFor(dir: string): Signer {
  const store = new Store(dir);
  return keySigner(store.caKey("pipe-pass", store.caCertificate()));
}
