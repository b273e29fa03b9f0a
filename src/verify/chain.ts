/**
 * The TLS stage as nats-server 2.9.10 runs it (Go 1.19.8 crypto/tls + crypto/x509, reference §1.3):
 * verify certs[0] against ca_file with the client's further certificates as intermediates,
 * KeyUsages = [ClientAuth], at the current time.
 *
 * Modelled: chain building by issuer name and signature, a leaf that is itself in the root pool,
 * validity of every certificate, CA:TRUE for intermediates, pathLen, EKU down the whole chain
 * (no EKU and anyExtendedKeyUsage count as any), unhandled critical extensions, SHA-1/MD5
 * signatures refused, the leaf's key type, and name constraints on SANs.
 * Not modelled: system roots (when ca_file is absent the verdict says so), revocation (Go has none).
 */
import * as crypto from "node:crypto";
import { OID } from "../asn1/oids";
import * as der from "../asn1/der";
import { ParsedCertificate, signedBy } from "../pki/cert";
import { formatRfc4514 } from "../pki/name";

export interface ChainResult {
  ok: boolean;
  /** Go's error text where it refuses, e.g. "x509: certificate signed by unknown authority". */
  error: string | null;
  /** The chain found (leaf first), when ok. */
  chain: ParsedCertificate[];
  checks: { name: string; ok: boolean; detail: string }[];
}

/** Extensions Go's parser handles; any other critical one fails verification. */
const HANDLED = new Set<string>([
  OID.keyUsage,
  OID.basicConstraints,
  OID.subjectAltName,
  OID.nameConstraints,
  OID.cRLDistributionPoints,
  OID.authorityKeyIdentifier,
  OID.extKeyUsage,
  OID.certificatePolicies,
  OID.subjectKeyIdentifier,
  "1.3.6.1.5.5.7.1.1", // authorityInfoAccess
]);

const WEAK_SIGS: Record<string, string> = {
  "1.2.840.113549.1.1.4": "MD5-RSA",
  [OID.sha1WithRSA]: "SHA1-RSA",
  [OID.ecdsaWithSHA1]: "ECDSA-SHA1",
  "1.2.840.10040.4.3": "DSA-SHA1",
};

function sigAlgOid(c: ParsedCertificate): string {
  return der.readOid(der.children(der.parseOne(c.signatureAlgorithm))[0]);
}

const fmtTime = (d: Date) => d.toISOString().replace(".000Z", "Z");

function checkValidity(c: ParsedCertificate, now: Date): string | null {
  if (now < c.notBefore) return `x509: certificate has expired or is not yet valid: current time ${fmtTime(now)} is before ${fmtTime(c.notBefore)}`;
  if (now > c.notAfter) return `x509: certificate has expired or is not yet valid: current time ${fmtTime(now)} is after ${fmtTime(c.notAfter)}`;
  return null;
}

/** EKU of a certificate as Go sees it: null = any (no extension, or anyExtendedKeyUsage). */
function ekuSet(c: ParsedCertificate): Set<string> | null {
  if (!c.extKeyUsage || c.extKeyUsage.includes(OID.anyExtendedKeyUsage)) return null;
  return new Set(c.extKeyUsage);
}

/** Go's checkChainForKeyUsage for the requested usage. */
function chainAllowsUsage(chain: ParsedCertificate[], usage: string): boolean {
  for (let i = chain.length - 1; i >= 0; i--) {
    const set = ekuSet(chain[i]);
    if (set === null) continue;
    if (!set.has(usage)) return false;
  }
  return true;
}

function leafKeyOk(c: ParsedCertificate): boolean {
  try {
    const k = crypto.createPublicKey({ key: c.spki, format: "der", type: "spki" });
    if (k.asymmetricKeyType === "rsa" || k.asymmetricKeyType === "ed25519") return true;
    return k.asymmetricKeyType === "ec" && ["prime256v1", "secp384r1", "secp521r1"].includes(String(k.asymmetricKeyDetails?.namedCurve));
  } catch {
    return false;
  }
}

/** Name constraints (dNSName, rfc822Name, URI host, IP) as Go applies them to the leaf's SANs. */
interface NameConstraints {
  permitted: { dns: string[]; email: string[]; uri: string[]; ip: Buffer[] };
  excluded: { dns: string[]; email: string[]; uri: string[]; ip: Buffer[] };
  unsupported: boolean;
}

function parseNameConstraints(c: ParsedCertificate): NameConstraints | null {
  const e = c.extensions.find((x) => x.oid === OID.nameConstraints);
  if (!e) return null;
  const nc: NameConstraints = { permitted: { dns: [], email: [], uri: [], ip: [] }, excluded: { dns: [], email: [], uri: [], ip: [] }, unsupported: false };
  for (const part of der.children(der.parseOne(e.value))) {
    const target = part.tag === 0xa0 ? nc.permitted : part.tag === 0xa1 ? nc.excluded : null;
    if (!target) continue;
    for (const subtree of der.children(part)) {
      const [base] = der.children(subtree);
      switch (base.tag) {
        case 0x82:
          target.dns.push(base.content.toString("latin1"));
          break;
        case 0x81:
          target.email.push(base.content.toString("latin1"));
          break;
        case 0x86:
          target.uri.push(base.content.toString("latin1"));
          break;
        case 0x87:
          target.ip.push(Buffer.from(base.content));
          break;
        default:
          nc.unsupported = true;
      }
    }
  }
  return nc;
}

function dnsMatches(name: string, constraint: string): boolean {
  if (constraint === "") return true;
  const n = name.toLowerCase();
  const c = constraint.toLowerCase();
  if (c.startsWith(".")) return n.endsWith(c);
  return n === c || n.endsWith("." + c);
}

function emailMatches(email: string, constraint: string): boolean {
  if (constraint.includes("@")) return email.toLowerCase() === constraint.toLowerCase();
  return dnsMatches(email.slice(email.lastIndexOf("@") + 1), constraint);
}

function ipMatches(ip: Buffer, constraint: Buffer): boolean {
  const half = constraint.length / 2;
  if (ip.length !== half) return false;
  for (let i = 0; i < half; i++) if ((ip[i] & constraint[half + i]) !== (constraint[i] & constraint[half + i])) return false;
  return true;
}

function uriHost(u: string): string | null {
  const m = u.match(/^[A-Za-z][A-Za-z0-9+.-]*:\/\/(?:[^@/?#]*@)?(\[[^\]]*\]|[^:/?#]*)/);
  return m ? m[1] : null;
}

function checkNameConstraints(leaf: ParsedCertificate, ca: ParsedCertificate, nc: NameConstraints): string | null {
  const who = formatRfc4514(ca.subject);
  const check = (kind: "dns" | "email" | "uri" | "ip", value: string, match: (c: never) => boolean): string | null => {
    const ex = (nc.excluded[kind] as never[]).find((c) => match(c));
    if (ex !== undefined) return `x509: a root or intermediate certificate (${who}) excludes the ${kind === "dns" ? "DNS name" : kind} "${value}"`;
    const perm = nc.permitted[kind] as never[];
    if (perm.length && !perm.some((c) => match(c))) return `x509: a root or intermediate certificate (${who}) does not permit the ${kind === "dns" ? "DNS name" : kind} "${value}"`;
    return null;
  };
  const { ipBytes } = require("../pki/san") as typeof import("../pki/san");
  for (const d of leaf.sans.dns) {
    const r = check("dns", d, ((c: string) => dnsMatches(d, c)) as never);
    if (r) return r;
  }
  for (const e of leaf.sans.email) {
    const r = check("email", e, ((c: string) => emailMatches(e, c)) as never);
    if (r) return r;
  }
  for (const u of leaf.sans.uri) {
    const host = uriHost(u);
    if (host === null || host === "") return `x509: cannot parse URI "${u}" for name constraints`;
    const r = check("uri", u, ((c: string) => dnsMatches(host, c)) as never);
    if (r) return r;
  }
  for (const a of leaf.sans.ip) {
    const bytes = ipBytes(a);
    const r = check("ip", a, ((c: Buffer) => ipMatches(bytes, c)) as never);
    if (r) return r;
  }
  return null;
}

/**
 * Verifies `leaf` with `intermediates` (as the client sends them) against `roots` (ca_file),
 * for client authentication at time `now`.
 */
export function verifyClientChain(leaf: ParsedCertificate, intermediates: ParsedCertificate[], roots: ParsedCertificate[], now = new Date()): ChainResult {
  const checks: ChainResult["checks"] = [];
  const fail = (name: string, error: string): ChainResult => {
    checks.push({ name, ok: false, detail: error });
    return { ok: false, error, chain: [], checks };
  };

  if (!leafKeyOk(leaf)) return fail("key", "tls: client certificate contains an unsupported public key (Go accepts RSA, ECDSA P-256/P-384/P-521, Ed25519)");
  checks.push({ name: "key", ok: true, detail: "public key type usable by Go's TLS" });

  const unhandled = (c: ParsedCertificate) => c.extensions.find((e) => e.critical && !HANDLED.has(e.oid));
  const leafUnhandled = unhandled(leaf);
  if (leafUnhandled) return fail("extensions", `x509: unhandled critical extension (${leafUnhandled.oid})`);

  // Chain building: depth-first over candidate parents, as Go does; the first chain that passes wins.
  const errors: string[] = [];
  const chains: ParsedCertificate[][] = [];
  const isRoot = (c: ParsedCertificate) => roots.some((r) => r.der.equals(c.der));
  const build = (chain: ParsedCertificate[]) => {
    const cur = chain[chain.length - 1];
    if (chains.length || chain.length > 10) return;
    const parents = [...roots.map((r) => ({ c: r, root: true })), ...intermediates.map((c) => ({ c, root: false }))].filter(
      (p) => p.c.subjectRaw.equals(cur.issuerRaw) && !chain.some((x) => x.der.equals(p.c.der)),
    );
    for (const p of parents) {
      // CheckSignatureFrom: a v3 parent must assert CA:TRUE, and keyCertSign when it has a KeyUsage
      const bc = p.c.basicConstraints;
      if ((p.c.version === 3 && !bc) || (bc && !bc.ca) || (p.c.keyUsage && !p.c.keyUsage.includes(5))) {
        errors.push(`x509: certificate signed by unknown authority (possibly because of "x509: invalid signature: parent certificate cannot sign this kind of certificate" while trying to verify candidate authority certificate "${formatRfc4514(p.c.subject)}")`);
        continue;
      }
      if (!signedBy(cur, p.c.spki)) {
        errors.push(`x509: certificate signed by unknown authority (possibly because of "crypto: verification error" while trying to verify candidate authority certificate "${formatRfc4514(p.c.subject)}")`);
        continue;
      }
      const weak = WEAK_SIGS[sigAlgOid(cur)];
      if (weak) {
        errors.push(`x509: cannot verify signature: insecure algorithm ${weak}`);
        continue;
      }
      const next = [...chain, p.c];
      const pl = p.c.basicConstraints?.pathLen;
      if (p.c.basicConstraints?.ca && pl !== undefined && chain.length - 1 > pl) {
        errors.push("x509: too many intermediates for path length constraint");
        continue;
      }
      const u = unhandled(p.c);
      if (u) {
        errors.push(`x509: unhandled critical extension (${u.oid})`);
        continue;
      }
      if (p.root) chains.push(next);
      else build(next);
      if (chains.length) return;
    }
  };
  if (isRoot(leaf)) chains.push([leaf]);
  else build([leaf]);

  if (!chains.length) return fail("chain", errors[0] ?? "x509: certificate signed by unknown authority");
  const chain = chains[0];
  checks.push({ name: "chain", ok: true, detail: chain.map((c) => formatRfc4514(c.subject) || "(empty subject)").join(" <- ") });

  for (const c of chain) {
    const v = checkValidity(c, now);
    if (v) return fail("validity", v);
  }
  checks.push({ name: "validity", ok: true, detail: `valid until ${fmtTime(leaf.notAfter)}` });

  for (const ca of chain.slice(1)) {
    const nc = parseNameConstraints(ca);
    if (!nc) continue;
    if (nc.unsupported && ca.extensions.find((e) => e.oid === OID.nameConstraints)?.critical) return fail("nameConstraints", "x509: unhandled critical extension");
    const r = checkNameConstraints(leaf, ca, nc);
    if (r) return fail("nameConstraints", r);
  }

  if (!chainAllowsUsage(chain, OID.clientAuth)) return fail("eku", "x509: certificate specifies an incompatible key usage");
  checks.push({ name: "eku", ok: true, detail: leaf.extKeyUsage ? "clientAuth allowed along the chain" : "no EKU extension (Go treats it as any usage)" });
  return { ok: true, error: null, chain, checks };
}
