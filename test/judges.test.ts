/**
 * Issue 21 §1: independent judges on every kind of artifact mtlsctl writes.
 *
 * The artifacts (test/judges/artifacts.ts) are made by the real CLI: a root CA of each key type and an
 * intermediate of each key type under it, name-constrained intermediates, clients (every SAN kind, a subject with every
 * attribute), servers, peers, CSRs, CRLs with and without entries, PKCS#12 modern and legacy, the Java
 * trust store; and OCSP responses of the online CA's responder (good, revoked, unknown; EC, RSA, Ed25519
 * and an intermediate's). The judges, installed by scripts/judges-setup.sh (a missing one fails here, never a skip):
 *  - pkilint's RFC 5280 linters (lint_pkix_cert, lint_pkix_signer_signee_cert_chain, lint_crl) and
 *    zlint v3.7.3 with the RFC5280, RFC5480, RFC5891 and RFC8813 sources: no error and no warning;
 *    pkilint's lint_ocsp_response (RFC 6960) on the OCSP responses;
 *  - Go's crypto/x509 (test/judges/gox509): parse, signatures, Verify with the right EKU (not OCSP:
 *    the standard library has no OCSP parser);
 *  - GnuTLS certtool --verify (purpose, host name), --verify-crl, --crq-info, --p12-info;
 *  - NSS certutil -V -u C / V / L, pk12util -i;
 *  - Python cryptography: load everything, verify every signature and chain, open the PKCS#12 files;
 *    OCSP responses: the signature with the CA's key, the responder ID, the CertID, the status.
 * Every finding of every judge must be named in test/judges/allowed.txt (does not apply, with the
 * reason) or test/judges/known-defects.txt (a defect of mtlsctl, to fix); a line that matches nothing
 * fails too, so both lists stay true.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { X509Certificate } from "node:crypto";
import { ROOT, run, tmpDir } from "./helpers/cli";
import { Artifact, Kind, KEY_TYPES, isCert, isCrl, isLeaf, isP12, makeArtifacts, makeOcspArtifacts } from "./judges/artifacts";

jest.setTimeout(600_000);

const SETUP = path.join(ROOT, "scripts", "judges-setup.sh");
const ZLINT_SOURCES = "RFC5280,RFC5480,RFC5891,RFC8813";
const EKU_OID = { clientAuth: "1.3.6.1.5.5.7.3.2", serverAuth: "1.3.6.1.5.5.7.3.1" } as const;

interface Finding {
  tool: string;
  /** the lint name or check (allowed.txt / known-defects.txt match it) */
  name: string;
  id: string;
  kind: Kind;
  message: string;
}

interface Rule {
  file: string;
  line: number;
  name: string;
  kind?: string;
  text?: string;
  reason: string;
  used: number;
}

function readRules(file: string, withKind: boolean): Rule[] {
  const rules: Rule[] = [];
  fs.readFileSync(file, "utf8").split("\n").forEach((l, i) => {
    if (!l.trim() || l.startsWith("#")) return;
    const m = withKind ? /^(\S+)\s+(\S+)(?:\s+"((?:[^"\\]|\\.)*)")?\s+--\s+(\S.*)$/.exec(l) : /^(\S+)(?:\s+"((?:[^"\\]|\\.)*)")?\s+--\s+(\S.*)$/.exec(l);
    if (!m) throw new Error(`${path.basename(file)}:${i + 1}: not "NAME${withKind ? " KIND" : ""} [\"text\"] -- reason": ${l}`);
    const [name, kind, text, reason] = withKind ? [m[1], m[2], m[3], m[4]] : [m[1], undefined, m[2], m[3]];
    rules.push({ file: path.basename(file), line: i + 1, name, kind, text: text?.replace(/\\(.)/g, "$1"), reason, used: 0 });
  });
  return rules;
}

const allowed = readRules(path.join(ROOT, "test", "judges", "allowed.txt"), false);
const knownDefects = readRules(path.join(ROOT, "test", "judges", "known-defects.txt"), true);
for (const r of knownDefects) if (!r.reason.startsWith("defect: to fix:")) throw new Error(`known-defects.txt:${r.line}: the reason must start "defect: to fix:"`);

/** The findings no rule explains (and counts each rule's uses). */
function unexplained(findings: Finding[]): string[] {
  const out: string[] = [];
  for (const f of findings) {
    const rule = [...allowed, ...knownDefects].find((r) => r.name === f.name && (r.kind === undefined || r.kind === f.kind) && (r.text === undefined || f.message.includes(r.text)));
    if (rule) rule.used++;
    else out.push(`${f.tool}: ${f.name} on ${f.kind} ${f.id}: ${f.message}`);
  }
  return out;
}

const cwd = tmpDir("mtlsctl-judges-");
let tools: Record<string, string> = {};
let artifacts: Artifact[] = [];
let manifest = "";
let goManifest = "";
let py: { tool: string; id: string; ok?: boolean; error?: string; checks?: string[]; findings: { code: string; severity: string; message: string; path: string; linter: string }[] }[] = [];
const byId = (id: string) => artifacts.find((a) => a.id === id)!;
const keyType = (file: string) => new X509Certificate(fs.readFileSync(file)).publicKey.asymmetricKeyType;
const write = (name: string, text: string | Buffer) => {
  const f = path.join(cwd, "work", name);
  fs.mkdirSync(path.dirname(f), { recursive: true });
  fs.writeFileSync(f, text);
  return f;
};
const cat = (files: string[] = []) => files.map((f) => fs.readFileSync(f, "utf8")).join("");

beforeAll(async () => {
  const r = run("bash", [SETUP, "--check"]);
  if (r.code !== 0) throw new Error(`the judges are not installed: ${r.stderr.trim() || r.stdout.trim()}`);
  for (const l of r.stdout.trim().split("\n")) {
    const [name, p] = l.split(" ");
    tools[name] = p;
  }
  for (const t of ["python", "zlint", "gox509", "certtool", "certutil", "pk12util"]) if (!tools[t]) throw new Error(`scripts/judges-setup.sh --check named no ${t}: run bash scripts/judges-setup.sh`);
  artifacts = [...makeArtifacts(cwd), ...(await makeOcspArtifacts(cwd))];
  manifest = write("manifest.json", JSON.stringify(artifacts, null, 1));
  // Go's standard library reads no OCSP response: its judge gets the rest
  goManifest = write("manifest-go.json", JSON.stringify(artifacts.filter((a) => a.kind !== "ocsp"), null, 1));
  const p = run(tools.python, [path.join(ROOT, "test", "judges", "pyjudge.py"), manifest]);
  if (p.code !== 0) throw new Error(`pyjudge.py exited ${p.code}: ${p.stderr}`);
  py = p.stdout.trim().split("\n").map((l) => JSON.parse(l));
});

afterAll(() => {
  fs.rmSync(cwd, { recursive: true, force: true });
});

test("a judge that is missing fails with the way to install it (never a skip)", () => {
  const r = run("bash", [SETUP, "--check"], { env: { ...process.env, MTLSCTL_CACHE: path.join(cwd, "empty-cache") } });
  expect(r.code).toBe(1);
  expect(r.stderr).toMatch(/^scripts\/judges-setup\.sh: .* is missing: run bash scripts\/judges-setup\.sh/);
});

test("the artifacts: every kind mtlsctl writes, a root and an intermediate of every key type", () => {
  const kinds: Kind[] = ["root", "intermediate", "constrained-intermediate", "client", "server", "peer", "csr", "crl-empty", "crl-entries", "p12", "p12-legacy", "truststore", "truststore-legacy", "ocsp"];
  expect([...new Set(artifacts.map((a) => a.kind))].sort()).toEqual([...kinds].sort());
  const keyTypeName = (file: string) => {
    const k = new X509Certificate(fs.readFileSync(file)).publicKey;
    const d = k.asymmetricKeyDetails!;
    return k.asymmetricKeyType === "ec" ? `ec-p${d.namedCurve === "prime256v1" ? 256 : 384}` : k.asymmetricKeyType === "rsa" ? `rsa-${d.modulusLength}` : k.asymmetricKeyType;
  };
  for (const k of KEY_TYPES) {
    expect(byId(`root/${k}`).kind).toBe("root");
    // the intermediate has the key type, and is signed by the root of the same key type
    const i = byId(`intermediate/${k}`);
    expect([i.kind, keyTypeName(i.file), keyTypeName(i.issuer!)]).toEqual(["intermediate", k, k]);
    expect(new X509Certificate(fs.readFileSync(i.file)).checkIssued(new X509Certificate(fs.readFileSync(i.issuer!)))).toBe(true);
    expect(byId(`client/inter-${k}`).intermediates).toEqual([i.file]);
  }
  // OCSP: each status, and responses signed with EC, RSA and Ed25519 keys
  const ocsp = artifacts.filter((a) => a.kind === "ocsp");
  expect([...new Set(ocsp.map((a) => a.ocspStatus))].sort()).toEqual(["good", "revoked", "unknown"]);
  expect([...new Set(ocsp.map((a) => keyTypeName(a.issuer!)))].sort()).toEqual(["ec-p256", "ed25519", "rsa-2048"]);
  // the full client: every SAN kind and every subject attribute, as openssl reads them
  const full = new X509Certificate(fs.readFileSync(byId("client/full").file));
  expect(full.subjectAltName).toBe("email:alice@example.com, DNS:alice.example.com, URI:spiffe://example.org/ns/prod/sa/alice, IP Address:10.1.2.3, IP Address:2001:DB8:0:0:0:0:0:7");
  expect(full.subject.split("\n").map((l) => l.split("=")[0])).toEqual(["C", "ST", "L", "street", "postalCode", "O", "OU", "CN", "serialNumber"]);
});

test("pkilint (RFC 5280 linters, RFC 6960 for OCSP): no error and no warning beyond allowed.txt / known-defects.txt", () => {
  const lint = py.filter((r) => r.tool === "pkilint");
  // every certificate and every CRL was linted
  expect(lint.map((r) => r.id).sort()).toEqual(artifacts.filter((a) => isCert(a) || isCrl(a) || a.kind === "ocsp").map((a) => a.id).sort());
  const findings = lint.flatMap((r) => r.findings.map((f) => ({ tool: `pkilint ${f.linter}`, name: f.code, id: r.id, kind: byId(r.id).kind, message: `${f.severity} ${f.message} at ${f.path}` })));
  expect(unexplained(findings)).toEqual([]);
});

test("zlint v3.7.3 (RFC5280, RFC5480, RFC5891, RFC8813): no error and no warning beyond the lists", () => {
  const findings: Finding[] = [];
  for (const a of artifacts.filter(isCert)) {
    const r = run(tools.zlint, ["-includeSources", ZLINT_SOURCES, a.file]);
    expect(r.code).toBe(0);
    const results: Record<string, { result: string; details?: string }> = JSON.parse(r.stdout);
    const counts: Record<string, number> = {};
    for (const [name, v] of Object.entries(results)) {
      counts[v.result] = (counts[v.result] ?? 0) + 1;
      if (["warn", "error", "fatal"].includes(v.result)) findings.push({ tool: "zlint", name, id: a.id, kind: a.kind, message: `${v.result}: ${v.details ?? ""}` });
    }
    // the lints ran: dozens passed on each certificate
    expect(counts.pass ?? 0).toBeGreaterThan(20);
  }
  expect(unexplained(findings)).toEqual([]);
});

test("Go crypto/x509: every certificate, CRL and CSR parses; signatures; Verify with the right EKU", () => {
  const r = run(tools.gox509, [goManifest]);
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
  const results: { id: string; ok: boolean; error?: string; checks: string[] }[] = r.stdout.trim().split("\n").map((l) => JSON.parse(l));
  expect(results.map((x) => x.id).sort()).toEqual(artifacts.filter((a) => !isP12(a) && a.kind !== "ocsp").map((a) => a.id).sort());
  const findings: Finding[] = results.filter((x) => !x.ok).map((x) => ({ tool: "go", name: "go.x509", id: x.id, kind: byId(x.id).kind, message: x.error ?? "" }));
  expect(unexplained(findings)).toEqual([]);
  for (const x of results.filter((y) => y.ok)) {
    const a = byId(x.id);
    // each EKU was verified, and a single-purpose leaf is refused for the other one
    for (const e of a.eku ?? []) expect(x.checks).toContainEqual(expect.stringMatching(new RegExp(`^verify ${e} \\(chain of ${2 + (a.intermediates?.length ?? 0)}\\)$`)));
    if (a.eku?.length === 1) expect(x.checks).toContain(`refused ${a.eku[0] === "clientAuth" ? "serverAuth" : "clientAuth"}`);
    if (isCrl(a)) expect(x.checks).toContain(`${a.revoked!.length} entries`);
  }
});

test("Python cryptography: loads every artifact, verifies every signature and chain, opens the PKCS#12 files, checks the OCSP responses", () => {
  const res = py.filter((r) => r.tool === "cryptography");
  expect(res.map((r) => r.id).sort()).toEqual(artifacts.map((a) => a.id).sort());
  expect(res.filter((r) => !r.ok).map((r) => `${r.id}: ${r.error}`)).toEqual([]);
  const findings = res.flatMap((r) => r.findings.map((f) => ({ tool: "cryptography", name: f.code, id: r.id, kind: byId(r.id).kind, message: f.message })));
  expect(unexplained(findings)).toEqual([]);
  for (const r of res) {
    const a = byId(r.id);
    if (isCert(a)) expect(r.checks).toContain("signature by issuer");
    if (isCrl(a)) expect(r.checks).toEqual(["load", "signature", `${a.revoked!.length} entries`]);
    if (a.kind === "csr") expect(r.checks).toEqual(["load", "signature"]);
    if (a.kind.startsWith("p12")) expect(r.checks).toEqual(["open with password", "key matches certificate", "certificate signed by the CA", "CA carried"]);
    if (a.kind.startsWith("truststore")) expect(r.checks).toEqual(["open with password", "the CA alone"]);
    if (a.kind === "ocsp") expect(r.checks).toEqual(["load", "signature", "responder ID", "for the CA and the serial", `status ${a.ocspStatus}`]);
  }
});

test("Python cryptography refuses an OCSP response whose signature (EC, RSA, Ed25519) is altered, or that says another status", () => {
  const bad: Artifact[] = [];
  for (const id of ["ocsp/main-good", "ocsp/rsa-2048-good", "ocsp/ed25519-good"]) {
    const a = byId(id);
    const der = fs.readFileSync(a.file);
    der[der.length - 1] ^= 0x01; // the signature BIT STRING ends the response (no certificates follow)
    bad.push({ ...a, id: `${id}-altered`, file: write(`ocsp-bad/${id.replace("/", "-")}.der`, der) });
  }
  bad.push({ ...byId("ocsp/main-good"), id: "ocsp/main-good-as-revoked", ocspStatus: "revoked" });
  const p = run(tools.python, [path.join(ROOT, "test", "judges", "pyjudge.py"), write("manifest-bad.json", JSON.stringify(bad))]);
  expect(p.code).toBe(0);
  const res = p.stdout.trim().split("\n").map((l) => JSON.parse(l)).filter((r) => r.tool === "cryptography");
  expect(res.map((r) => [r.id, r.ok, r.error])).toEqual([
    ["ocsp/main-good-altered", false, "InvalidSignature: "],
    ["ocsp/rsa-2048-good-altered", false, "InvalidSignature: "],
    ["ocsp/ed25519-good-altered", false, "InvalidSignature: "],
    ["ocsp/main-good-as-revoked", false, "ValueError: status good, expected revoked"],
  ]);
});

test("GnuTLS certtool: --verify with the purpose (and host name), --verify-crl, --crq-info, --p12-info", () => {
  const findings: Finding[] = [];
  const certtool = (args: string[]) => run(tools.certtool, args);
  const verified = (out: string) => /Chain verification output: Verified\. The certificate is trusted\./.test(out);
  // the finding's message: certtool's verdict line, else its last line
  const note = (a: Artifact, name: string, out: string) => findings.push({ tool: "certtool", name, id: a.id, kind: a.kind, message: /(Chain verification|Verification) output: .*/.exec(out)?.[0].trim() ?? out.trim().split("\n").pop() ?? "" });
  for (const a of artifacts) {
    if (isCert(a)) {
      const chain = write(`certtool/${a.id}.chain.pem`, cat([a.file, ...(a.intermediates ?? [])]));
      const roots = write(`certtool/${a.id}.roots.pem`, cat(a.roots));
      const base = ["--verify", "--verify-profile", "medium", "--load-ca-certificate", roots, "--infile", chain];
      if (!isLeaf(a)) {
        const r = certtool(base);
        if (r.code !== 0 || !verified(r.stdout)) note(a, "certtool.verify", r.stdout + "\n" + r.stderr);
      }
      for (const e of a.eku ?? []) {
        const r = certtool([...base, "--verify-purpose", EKU_OID[e], ...(e === "serverAuth" ? ["--verify-hostname", a.dns!] : [])]);
        if (r.code !== 0 || !verified(r.stdout)) note(a, `certtool.verify-${e}`, r.stdout + r.stderr);
      }
      if (a.eku?.length === 1) {
        const other = a.eku[0] === "clientAuth" ? "serverAuth" : "clientAuth";
        const r = certtool([...base, "--verify-purpose", EKU_OID[other]]);
        expect(r.stdout).toMatch(/Not verified\..*does not match the intended purpose/);
      }
    } else if (isCrl(a)) {
      // certtool's --inder would apply to the CA certificate too: a DER CRL is given as PEM (same bytes)
      const crl = a.format === "der" ? write(`certtool/${a.id}.pem`, `-----BEGIN X509 CRL-----\n${fs.readFileSync(a.file).toString("base64").replace(/.{64}/g, "$&\n")}\n-----END X509 CRL-----\n`) : a.file;
      const r = certtool(["--verify-crl", "--load-ca-certificate", a.issuer!, "--infile", crl]);
      if (r.code !== 0 || !/Verification output: Verified\./.test(r.stdout)) note(a, "certtool.verify-crl", r.stdout + r.stderr);
      if (a.revoked!.length === 0) expect(r.stdout).toMatch(/No revoked certificates\./);
      else expect(r.stdout).toContain(`Revoked certificates (${a.revoked!.length}):`);
    } else if (a.kind === "csr") {
      const r = certtool(["--crq-info", "--infile", a.file]);
      if (r.code !== 0 || !/Self signature: verified/.test(r.stdout)) note(a, "certtool.crq-info", r.stdout + r.stderr);
    } else if (isP12(a)) {
      const r = certtool(["--p12-info", "--inder", "--password", a.password!, "--infile", a.file]);
      if (r.code !== 0) note(a, "certtool.p12-info", r.stdout + r.stderr);
      const certs = (r.stdout.match(/Type: Certificate/g) ?? []).length;
      const keys = (r.stdout.match(/Type: PKCS #8 Encrypted key/g) ?? []).length;
      if (a.kind.startsWith("truststore")) expect([certs, keys]).toEqual([1, 0]);
      else expect([certs >= 2, keys]).toEqual([true, 1]);
      expect(r.stdout).toMatch(a.kind.endsWith("legacy") ? /Schema: PKCS12-3DES-SHA1/ : /Schema: PBES2-AES256-CBC/);
      expect(certtool(["--p12-info", "--inder", "--password", "wrong-password", "--infile", a.file]).code).not.toBe(0);
    }
  }
  expect(unexplained(findings)).toEqual([]);
});

test("NSS: certutil -V -u C (clients), -u V (servers), both (peers), -u L (CAs); pk12util imports the PKCS#12 files", () => {
  const findings: Finding[] = [];
  const db = path.join(cwd, "nss");
  fs.mkdirSync(db);
  const certutil = (args: string[]) => run(tools.certutil, ["-d", `sql:${db}`, ...args]);
  expect(certutil(["-N", "--empty-password"]).code).toBe(0);
  // an Ed25519 key of the certificate itself, or above it (an EC leaf of an Ed25519 intermediate)
  const ed = (a: Artifact) => (keyType(a.file) === "ed25519" ? "Ed25519 key: " : [a.issuer, ...(a.intermediates ?? [])].some((f) => f && keyType(f) === "ed25519") ? "Ed25519 key in the chain: " : "");
  const note = (a: Artifact, name: string, out: string) => findings.push({ tool: "nss", name, id: a.id, kind: a.kind, message: `${ed(a)}${out.trim()}` });
  // every certificate once, under its id: roots trusted as CAs for TLS, the others with no trust
  const added = new Set<string>();
  for (const a of artifacts.filter(isCert).sort((x, y) => Number(y.kind === "root") - Number(x.kind === "root"))) {
    const r = certutil(["-A", "-n", a.id, "-t", a.kind === "root" ? "CT,C,C" : ",,", "-i", a.file]);
    if (r.code !== 0) note(a, "nss.add", r.stdout + r.stderr);
    else added.add(a.id);
  }
  const usage = { clientAuth: "C", serverAuth: "V" } as const;
  for (const a of artifacts.filter((x) => isCert(x) && added.has(x.id))) {
    for (const u of isLeaf(a) ? a.eku!.map((e) => usage[e]) : ["L"]) {
      const r = certutil(["-V", "-n", a.id, "-u", u]);
      if (r.code !== 0 || !/certificate is valid/.test(r.stdout + r.stderr)) note(a, `nss.verify-${u}`, r.stdout + r.stderr);
    }
    if (a.eku?.length === 1) {
      const r = certutil(["-V", "-n", a.id, "-u", a.eku[0] === "clientAuth" ? "V" : "C"]);
      expect(r.stdout + r.stderr).toMatch(/certificate is invalid/);
    }
  }
  // each PKCS#12 into a database of its own (they carry the same certificates)
  for (const a of artifacts.filter(isP12)) {
    const d = path.join(cwd, "nss-p12", a.id.replace("/", "-"));
    fs.mkdirSync(d, { recursive: true });
    expect(run(tools.certutil, ["-d", `sql:${d}`, "-N", "--empty-password"]).code).toBe(0);
    const r = run(tools.pk12util, ["-i", a.file, "-d", `sql:${d}`, "-W", a.password!]);
    const list = run(tools.certutil, ["-d", `sql:${d}`, "-L"]).stdout;
    if (r.code !== 0 || !/PKCS12 IMPORT SUCCESSFUL/.test(r.stdout + r.stderr)) {
      const leaf = a.kind.startsWith("p12") ? path.join(path.dirname(a.issuer!), "issued", `${path.basename(a.file).replace(/(-legacy)?\.p12$/, "")}.crt`) : a.issuer!;
      findings.push({ tool: "nss", name: "nss.pk12util", id: a.id, kind: a.kind, message: `${keyType(leaf) === "ed25519" ? "Ed25519 key: " : ""}${(r.stdout + r.stderr).trim()}` });
    } else expect(list.split("\n").filter((l) => /\S\s+(u,u,u|,,)\s*$/.test(l)).length).toBeGreaterThanOrEqual(1);
    expect(run(tools.pk12util, ["-i", a.file, "-d", `sql:${d}`, "-W", "wrong-password"]).code).not.toBe(0);
  }
  expect(unexplained(findings)).toEqual([]);
});

test("allowed.txt and known-defects.txt: every line is used by a finding (the lists stay short and true)", () => {
  expect([...allowed, ...knownDefects].filter((r) => r.used === 0).map((r) => `${r.file}:${r.line}: ${r.name}${r.kind ? " " + r.kind : ""}${r.text ? ` "${r.text}"` : ""} matched no finding: remove the line`)).toEqual([]);
});
