/**
 * Arbitrary X.509 certificates for tests, built with mtlsctl's own DER and signing code
 * (src/asn1/der.ts, src/pki/cert.ts, src/pki/keys.ts), so that any subject, SAN or extension a
 * client could present can be made: multi-valued RDNs, raw T61String bytes, BMPString, DC, UID,
 * emailAddress, title, repeated attributes, empty subjects, every SAN kind (written byte for byte,
 * no validation), bad EKUs, dates, CA flags, path lengths, name constraints, unknown critical
 * extensions.
 */
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import * as der from "../../src/asn1/der";
import { OID } from "../../src/asn1/oids";
import { buildCertificate, ext, Extension, KeyUsage, randomSerial } from "../../src/pki/cert";
import { generateKey, keyIdentifier, signerFor, spkiOf } from "../../src/pki/keys";
import { ipBytes } from "../../src/pki/san";

export { OID, KeyUsage };

/** Attribute types by short name (anything else: a dotted OID). */
export const ATTR: Record<string, string> = {
  CN: OID.CN,
  SERIALNUMBER: OID.SERIALNUMBER,
  C: OID.C,
  L: OID.L,
  ST: OID.ST,
  STREET: OID.STREET,
  O: OID.O,
  OU: OID.OU,
  POSTALCODE: OID.POSTALCODE,
  DC: OID.DC,
  UID: OID.UID,
  emailAddress: OID.emailAddress,
  title: "2.5.4.12",
};

/**
 * One attribute: [type, value, tag?]. The type is a short name from ATTR or a dotted OID; a
 * Buffer value is written as raw content bytes (e.g. a T61String with a Latin-1 byte). The
 * default tag is PrintableString for C, IA5String for DC and emailAddress, else UTF8String.
 */
export type AttrSpec = [type: string, value: string | Buffer, tag?: number];
/** RDNs in DER order (most significant first); each RDN one or more attributes. */
export type SubjectSpec = AttrSpec[][];

function attrTag(type: string, tag?: number): number {
  if (tag !== undefined) return tag;
  if (type === OID.C) return der.Tag.PrintableString;
  if (type === OID.DC || type === OID.emailAddress) return der.Tag.IA5String;
  return der.Tag.UTF8String;
}

function encodeAttr([type, value, tag]: AttrSpec): Buffer {
  const oid = ATTR[type] ?? type;
  const t = attrTag(oid, tag);
  const content = Buffer.isBuffer(value) ? value : t === der.Tag.BMPString ? Buffer.from(value, "utf16le").swap16() : Buffer.from(value, t === der.Tag.UTF8String ? "utf8" : "latin1");
  return der.seq(der.oid(oid), der.tlv(t, content));
}

/** A raw Name. `unsorted` keeps each multi-valued RDN's attributes in the given order (not DER-sorted). */
export function encodeSubject(rdns: SubjectSpec, o: { unsorted?: boolean } = {}): Buffer {
  return der.seq(...rdns.map((rdn) => (o.unsorted ? der.tlv(der.Tag.SET, Buffer.concat(rdn.map(encodeAttr))) : der.setOf(...rdn.map(encodeAttr)))));
}

/** One attribute per RDN: `dn(["O","Acme"],["CN","alice"])` is O=Acme / CN=alice in DER order. */
export const dn = (...attrs: AttrSpec[]): SubjectSpec => attrs.map((a) => [a]);

/** A GeneralName for the SAN extension, written byte for byte. */
export type San = { email: string } | { dns: string } | { uri: string } | { ip: string };

export function encodeSanList(sans: San[]): Buffer {
  return der.seq(
    ...sans.map((s) => {
      if ("email" in s) return der.implicit(1, Buffer.from(s.email, "latin1"));
      if ("dns" in s) return der.implicit(2, Buffer.from(s.dns, "latin1"));
      if ("uri" in s) return der.implicit(6, Buffer.from(s.uri, "latin1"));
      return der.implicit(7, ipBytes(s.ip));
    }),
  );
}

/**
 * NameConstraints: permitted/excluded subtrees of DNS names, email domains or mailboxes (rfc822Name),
 * URI domains, and IP ranges ("10.0.0.0/8": address and mask bytes).
 */
export function nameConstraints(o: { permittedDns?: string[]; excludedDns?: string[]; permittedEmail?: string[]; excludedEmail?: string[]; permittedUri?: string[]; excludedUri?: string[]; permittedIp?: string[]; excludedIp?: string[]; critical?: boolean }): Extension {
  const ipRange = (cidr: string) => {
    const [addr, bits] = cidr.split("/");
    const a = ipBytes(addr);
    const mask = Buffer.alloc(a.length);
    for (let i = 0; i < Number(bits); i++) mask[i >> 3] |= 0x80 >> (i & 7);
    return Buffer.concat([a, mask]);
  };
  const one = (tag: number, n: string) => der.seq(der.implicit(tag, tag === 7 ? ipRange(n) : Buffer.from(n, "latin1")));
  // GeneralSubtrees (SEQUENCE OF GeneralSubtree) under an IMPLICIT [0]/[1]: the content of the SEQUENCE OF
  const subtrees = (lists: [number, string[] | undefined][]) => Buffer.concat(lists.flatMap(([tag, names]) => (names ?? []).map((n) => one(tag, n))));
  const permitted = subtrees([[2, o.permittedDns], [1, o.permittedEmail], [6, o.permittedUri], [7, o.permittedIp]]);
  const excluded = subtrees([[2, o.excludedDns], [1, o.excludedEmail], [6, o.excludedUri], [7, o.excludedIp]]);
  const parts: Buffer[] = [];
  if (permitted.length) parts.push(der.implicit(0, permitted, true));
  if (excluded.length) parts.push(der.implicit(1, excluded, true));
  return { oid: OID.nameConstraints, critical: o.critical ?? true, value: der.seq(...parts) };
}

export interface Issued {
  der: Buffer;
  pem: string;
  key: crypto.KeyObject;
  subject: Buffer;
  spki: Buffer;
}

export interface CertSpec {
  /** The subject: a raw Name, or RDNs (default: empty subject). */
  subject?: SubjectSpec | Buffer;
  /** The issuer; absent: self-signed. */
  issuer?: Issued;
  key?: crypto.KeyObject;
  sans?: San[];
  /** Default: critical when the subject is empty. */
  sanCritical?: boolean;
  /** EKU OIDs; null: no EKU extension. Default: clientAuth (a CA: no EKU). */
  eku?: string[] | null;
  /** CA:TRUE (with an optional path length). `"leaf"` (default) writes CA:FALSE; `"none"` omits basicConstraints. */
  basic?: { ca: true; pathLen?: number } | "leaf" | "none";
  /** KeyUsage bits; null: no KeyUsage. Default: digitalSignature (a CA: keyCertSign + cRLSign). */
  keyUsage?: number[] | null;
  notBefore?: Date;
  notAfter?: Date;
  /** Appended after the standard extensions. */
  extraExtensions?: Extension[];
  /** The serial number's magnitude (a positive INTEGER of any length); default 16 random bytes. */
  serial?: Buffer;
}

const DAY = 86_400_000;

export function issue(spec: CertSpec): Issued {
  const key = spec.key ?? generateKey("ec-p256");
  const spki = spkiOf(key);
  const subject = Buffer.isBuffer(spec.subject) ? spec.subject : encodeSubject(spec.subject ?? []);
  const isCa = typeof spec.basic === "object" && spec.basic.ca;
  const exts: Extension[] = [];
  if (spec.basic === undefined || spec.basic === "leaf") exts.push(ext.basicConstraints(false));
  else if (spec.basic !== "none") exts.push(ext.basicConstraints(true, spec.basic.pathLen));
  const ku = spec.keyUsage === undefined ? (isCa ? [KeyUsage.keyCertSign, KeyUsage.cRLSign] : [KeyUsage.digitalSignature]) : spec.keyUsage;
  if (ku) exts.push(ext.keyUsage(ku));
  const eku = spec.eku === undefined ? (isCa ? null : [OID.clientAuth]) : spec.eku;
  if (eku) exts.push(ext.extKeyUsage(eku));
  exts.push(ext.subjectKeyIdentifier(keyIdentifier(spki)));
  if (spec.issuer) exts.push(ext.authorityKeyIdentifier(keyIdentifier(spec.issuer.spki)));
  if (spec.sans?.length) {
    const emptySubject = der.children(der.parseOne(subject)).length === 0;
    exts.push({ oid: OID.subjectAltName, critical: spec.sanCritical ?? emptySubject, value: encodeSanList(spec.sans) });
  }
  exts.push(...(spec.extraExtensions ?? []));
  const now = Date.now();
  const cert = buildCertificate(
    {
      serial: spec.serial ?? randomSerial(),
      issuer: spec.issuer ? spec.issuer.subject : subject,
      subject,
      notBefore: spec.notBefore ?? new Date(now - DAY),
      notAfter: spec.notAfter ?? new Date(now + 30 * DAY),
      spki,
      extensions: exts,
    },
    signerFor(spec.issuer ? spec.issuer.key : key),
  );
  return { der: cert, pem: pemOf(cert), key, subject, spki };
}

export function pemOf(certDer: Buffer): string {
  const b64 = certDer.toString("base64").replace(/(.{64})/g, "$1\n").replace(/\n$/, "");
  return `-----BEGIN CERTIFICATE-----\n${b64}\n-----END CERTIFICATE-----\n`;
}

/** A self-signed CA (CA:TRUE, keyCertSign). */
export function makeCa(cn: string, o: Partial<CertSpec> = {}): Issued {
  return issue({ subject: dn(["CN", cn]), basic: { ca: true }, ...o });
}

/** Writes `<dir>/<name>.crt` (the certificate, then `chain`) and `<dir>/<name>.key`; returns both paths. */
export function writePair(dir: string, name: string, c: Issued, chain: Issued[] = []): { cert: string; key: string } {
  const cert = path.join(dir, `${name}.crt`);
  const key = path.join(dir, `${name}.key`);
  fs.writeFileSync(cert, c.pem + chain.map((x) => x.pem).join(""));
  fs.writeFileSync(key, c.key.export({ type: "pkcs8", format: "pem" }) as string, { mode: 0o600 });
  return { cert, key };
}

/** Hex SHA-256 of the SubjectPublicKeyInfo (what pinned_certs lists). */
export const spkiSha256 = (c: Issued): string => crypto.createHash("sha256").update(c.spki).digest("hex");
