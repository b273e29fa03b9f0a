/**
 * The TLS stage as nats-server 2.9.10 runs it (Go 1.19.8 crypto/tls + crypto/x509, reference §1.3):
 * verify certs[0] against ca_file with the client's further certificates as intermediates,
 * KeyUsages = [ClientAuth], at the current time.
 *
 * Modelled: chain building by issuer name and signature, a leaf that is itself in the root pool,
 * validity of every certificate, CA:TRUE for intermediates, pathLen, EKU down the whole chain
 * (no EKU and anyExtendedKeyUsage count as any), unhandled critical extensions, SHA-1/MD5
 * signatures refused, the leaf's key type, and name constraints on SANs.
 * Where the Go of a server differs (src/nats/versions.ts goRules: its toolchain and its go.mod's
 * GODEBUG defaults): negative serial numbers refused at parse time, RSA keys under 1024 bits refused
 * at every signature check (an issuer's in the chain, the leaf's on the handshake's CertificateVerify:
 * clientSignatureError). Without rules, Go 1.19's (Debian's 2.9.10).
 * Not modelled: system roots (when ca_file is absent the verdict says so), revocation (Go has none).
 */
import { OID } from "../asn1/oids";
import * as der from "../asn1/der";
import { ParsedCertificate } from "../pki/cert";
import { spkiKeyType, verifySignature } from "../pki/keys";
import { formatRfc4514, decodeName } from "../pki/name";
import { goUrlParseError, goX509UriString } from "../nats/gourl";
import { certSubjectViews } from "../nats/subject";
import { checkSanExtensions, constraintsSummary, parseNameConstraints, sanExtension } from "../pki/constraints";
import { GoRules } from "../nats/versions";

/** Go 1.19's rules: no negative-serial or small-RSA refusals. */
const GO119: GoRules = { toolchain: "go1.19", negativeSerialRefused: false, rsa1024min: false };

export interface ChainResult {
  ok: boolean;
  /**
   * Where Go's crypto/tls refused: "parse" (x509.ParseCertificate of a certificate the client sent:
   * "tls: failed to parse client certificate: ..."), "verify" (chain verification: "tls: failed to
   * verify client certificate: ..."), "key" (the leaf's public key type). Null when ok.
   */
  phase: "parse" | "verify" | "key" | null;
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

/** Go's time.RFC3339 in UTC: whole seconds. */
const fmtTime = (d: Date) => d.toISOString().replace(/\.\d+Z$/, "Z");

/**
 * The name Go's UnknownAuthorityError gives a candidate authority: its last CN, else its first O,
 * else "serial:" and the decimal serial number.
 */
function goCertName(c: ParsedCertificate): string {
  let cn = "";
  let o: string | null = null;
  for (const rdn of c.subject)
    for (const a of rdn) {
      if (a.type === OID.CN) cn = a.value;
      else if (a.type === OID.O && o === null) o = a.value;
    }
  if (cn) return cn;
  if (o !== null) return o;
  return "serial:" + BigInt("0x" + c.serialHex).toString(10);
}

// ---------------------------------------------------------------- Go's x509.ParseCertificate

/** Go's x509 isPrintable: PrintableString characters plus '*' and '&'. */
function goPrintable(b: number): boolean {
  return (
    (b >= 0x61 && b <= 0x7a) || (b >= 0x41 && b <= 0x5a) || (b >= 0x30 && b <= 0x39) || (b >= 0x27 && b <= 0x29) || (b >= 0x2b && b <= 0x2f) ||
    b === 0x20 || b === 0x3a || b === 0x3d || b === 0x3f || b === 0x2a || b === 0x26
  );
}

function validUtf8(b: Buffer): boolean {
  return Buffer.from(b.toString("utf8"), "utf8").equals(b);
}

/** Go 1.19's parseASN1String: null when the value is accepted, else its error text. */
function goStringError(tag: number, v: Buffer): string | null {
  switch (tag) {
    case der.Tag.T61String:
      return null;
    case der.Tag.PrintableString:
      return v.every(goPrintable) ? null : "invalid PrintableString";
    case der.Tag.UTF8String:
      return validUtf8(v) ? null : "invalid UTF-8 string";
    case der.Tag.BMPString:
      return v.length % 2 === 0 ? null : "invalid BMPString";
    case der.Tag.IA5String:
      return v.every((b) => b < 0x80) ? null : "invalid IA5String";
    case der.Tag.NumericString:
      return v.every((b) => (b >= 0x30 && b <= 0x39) || b === 0x20) ? null : "invalid NumericString";
    default:
      return `unsupported string type: ${tag}`;
  }
}

/** Go's %q for the ASCII text that reaches it here. */
const goQuoteAscii = (s: string) => JSON.stringify(s).replace(/\\u00([0-9a-f]{2})/g, "\\x$1");

/**
 * The error Go 1.19.8's x509.ParseCertificate returns for what mtlsctl can build or meet in a
 * client certificate, or null: attribute values of the issuer and subject names (string types and
 * their character sets), and the SAN entries (IA5 text, URIs that url.Parse accepts with a valid
 * domain as host, IP lengths), in Go's order (issuer, subject, then the SANs in order).
 */
export function goParseError(c: ParsedCertificate, go: GoRules = GO119): string | null {
  // the serial number comes first in the TBSCertificate, so first in Go's parser
  if (go.negativeSerialRefused && negativeSerial(c)) return "x509: negative serial number";
  // the subject's decoded Name is the one its views share (src/nats/subject.ts)
  for (const names of [() => decodeName(c.issuerRaw), () => certSubjectViews(c).rdns]) {
    for (const rdn of names())
      for (const a of rdn) {
        const e = goStringError(a.tag, a.bytes);
        if (e) return `x509: invalid RDNSequence: invalid attribute value: ${e}`;
      }
  }
  const san = c.extensions.find((e) => e.oid === OID.subjectAltName);
  if (san) {
    for (const gn of der.children(der.parseOne(san.value))) {
      const text = gn.content.toString("latin1");
      const ia5 = gn.content.every((b) => b < 0x80);
      switch (gn.tag) {
        case 0x81:
          if (!ia5) return "x509: SAN rfc822Name is malformed";
          break;
        case 0x82:
          if (!ia5) return "x509: SAN dNSName is malformed";
          break;
        case 0x86: {
          if (!ia5) return "x509: SAN uniformResourceIdentifier is malformed";
          const urlErr = goUrlParseError(text);
          if (urlErr !== null) return `x509: cannot parse URI ${goQuoteAscii(text)}: parse ${goQuoteAscii(text)}: ${urlErr}`;
          if (goX509UriString(text) === null) return `x509: cannot parse URI ${goQuoteAscii(text)}: invalid domain`;
          break;
        }
        case 0x87:
          if (gn.content.length !== 4 && gn.content.length !== 16) return `x509: cannot parse IP address of length ${gn.content.length}`;
          break;
      }
    }
  }
  return parseNameConstraints(c).error;
}

/** Whether the certificate's serial number INTEGER is negative (its first content byte has the top bit set). */
function negativeSerial(c: ParsedCertificate): boolean {
  const t = der.children(der.parseOne(c.tbs));
  const serial = t[0].tag === 0xa0 ? t[1] : t[0];
  return serial.content.length > 0 && (serial.content[0] & 0x80) !== 0;
}

/** The modulus size in bits of an RSA SubjectPublicKeyInfo, or null for another key type. */
function rsaBits(spki: Buffer): number | null {
  try {
    const { algorithm } = spkiKeyType(spki);
    if (algorithm !== OID.rsaEncryption && algorithm !== OID.rsaPss) return null;
    const [, bits] = der.children(der.parseOne(spki));
    const key = der.parseOne(der.readBitString(bits).bytes); // RSAPublicKey { modulus, publicExponent }
    const n = der.children(key)[0].content;
    let i = 0;
    while (i < n.length - 1 && n[i] === 0) i++;
    return n.length - i === 0 ? 0 : (n.length - i - 1) * 8 + (32 - Math.clz32(n[i]));
  } catch {
    return null;
  }
}

/** crypto/rsa's checkKeySize (Go 1.24 on, unless GODEBUG rsa1024min=0): its error for a key under 1024 bits, else null. */
function rsaKeySizeError(spki: Buffer, go: GoRules): string | null {
  if (!go.rsa1024min) return null;
  const bits = rsaBits(spki);
  return bits !== null && bits < 1024 ? `crypto/rsa: ${bits}-bit keys are insecure (see https://go.dev/pkg/crypto/rsa#hdr-Minimum_key_size)` : null;
}

/**
 * The handshake's last client-side check, after the chain (and after ocsp_peer's VerifyConnection):
 * crypto/tls verifies the client's CertificateVerify signature with the leaf's key; with an RSA key
 * under 1024 bits Go 1.24's crypto/rsa refuses to. Its log line, or null.
 */
export function clientSignatureError(leaf: ParsedCertificate, go: GoRules = GO119): string | null {
  const e = rsaKeySizeError(leaf.spki, go);
  return e ? `tls: invalid signature by the client certificate: ${e}` : null;
}

/**
 * Go's isValid name-constraint step for a candidate parent `ca`: the SANs of the leaf and of `ca`
 * itself against `ca`'s constraints (src/pki/constraints.ts, shared with signing). Null when none apply.
 */
export function nameConstraintsError(leaf: ParsedCertificate, ca: ParsedCertificate): string | null {
  const { nc } = parseNameConstraints(ca);
  if (!nc) return null;
  const exts = [sanExtension(leaf), sanExtension(ca)].filter((x): x is Buffer => x !== undefined);
  return checkSanExtensions(exts, nc)?.goError ?? null;
}

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

/** Go's TLS takes RSA, ECDSA on P-256/P-384/P-521, or Ed25519 client keys. */
function leafKeyOk(c: ParsedCertificate): boolean {
  try {
    const { algorithm, curve } = spkiKeyType(c.spki);
    if (algorithm === OID.rsaEncryption || algorithm === OID.ed25519) return true;
    return algorithm === OID.ecPublicKey && [OID.p256, OID.p384, OID.p521].includes(curve as never);
  } catch {
    return false;
  }
}

/** Whether `cert` carries a valid signature by the key in `issuerSpki` (checked over its TBS). */
function signedBy(cert: ParsedCertificate, issuerSpki: Buffer): boolean {
  try {
    return verifySignature(cert.signatureAlgorithm, issuerSpki, cert.tbs, cert.signature);
  } catch {
    return false;
  }
}

/**
 * Verifies `leaf` with `intermediates` (as the client sends them) against `roots` (ca_file),
 * for client authentication at time `now`.
 */
export function verifyClientChain(leaf: ParsedCertificate, intermediates: ParsedCertificate[], roots: ParsedCertificate[], now = new Date(), go: GoRules = GO119): ChainResult {
  const checks: ChainResult["checks"] = [];
  const fail = (name: string, error: string, phase: ChainResult["phase"] = "verify"): ChainResult => {
    checks.push({ name, ok: false, detail: error });
    return { ok: false, phase, error, chain: [], checks };
  };

  // crypto/tls parses every certificate the client sent before it verifies anything
  for (const c of [leaf, ...intermediates]) {
    const e = goParseError(c, go);
    if (e) return fail("parse", e, "parse");
  }
  checks.push({ name: "parse", ok: true, detail: "Go's x509 parser accepts every certificate sent" });

  if (!leafKeyOk(leaf)) return fail("key", "tls: client certificate contains an unsupported public key (Go accepts RSA, ECDSA P-256/P-384/P-521, Ed25519)", "key");
  checks.push({ name: "key", ok: true, detail: "public key type usable by Go's TLS" });

  // a critical NameConstraints with a form Go does not handle (directoryName, ...) is unhandled too
  const unhandled = (c: ParsedCertificate) =>
    c.extensions.find((e) => e.critical && (!HANDLED.has(e.oid) || (e.oid === OID.nameConstraints && !!parseNameConstraints(c).nc?.unsupported)));
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
        errors.push(`x509: certificate signed by unknown authority (possibly because of "x509: invalid signature: parent certificate cannot sign this kind of certificate" while trying to verify candidate authority certificate ${goQuoteAscii(goCertName(p.c))})`);
        continue;
      }
      // Go's checkSignature: an insecure algorithm first, then crypto/rsa's key size, then the signature;
      // a failure makes this candidate the hint of an UnknownAuthorityError
      const hint = (why: string) => `x509: certificate signed by unknown authority (possibly because of ${goQuoteAscii(why)} while trying to verify candidate authority certificate ${goQuoteAscii(goCertName(p.c))})`;
      const weak = WEAK_SIGS[sigAlgOid(cur)];
      if (weak) {
        // Go 1.18 to 1.23 name the GODEBUG that re-allowed SHA-1 (removed in Go 1.24)
        const override = go.toolchain === "go1.19" && (weak === "SHA1-RSA" || weak === "ECDSA-SHA1") ? " (temporarily override with GODEBUG=x509sha1=1)" : "";
        errors.push(hint(`x509: cannot verify signature: insecure algorithm ${weak}${override}`));
        continue;
      }
      const small = rsaKeySizeError(p.c.spki, go);
      if (small) {
        errors.push(hint(small));
        continue;
      }
      if (!signedBy(cur, p.c.spki)) {
        errors.push(hint("crypto: verification error"));
        continue;
      }
      const next = [...chain, p.c];
      const ncError = nameConstraintsError(chain[0], p.c);
      if (ncError) {
        errors.push(ncError);
        continue;
      }
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

  // the chain's name constraints (each was checked while building it, as Go does), for explain
  const constrained = chain.slice(1).flatMap((ca) => {
    const { nc } = parseNameConstraints(ca);
    return nc ? [`${formatRfc4514(ca.subject)}: ${constraintsSummary(nc)}`] : [];
  });
  if (constrained.length) checks.push({ name: "nameConstraints", ok: true, detail: constrained.join("; ") });

  if (!chainAllowsUsage(chain, OID.clientAuth)) return fail("eku", "x509: certificate specifies an incompatible key usage");
  checks.push({ name: "eku", ok: true, detail: leaf.extKeyUsage ? "clientAuth allowed along the chain" : "no EKU extension (Go treats it as any usage)" });
  return { ok: true, phase: null, error: null, chain, checks };
}
