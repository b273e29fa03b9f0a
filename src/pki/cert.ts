/** X.509 v3 certificates: building (profiles for CA, client, server) and parsing. */
import * as crypto from "node:crypto";
import * as der from "../asn1/der";
import { OID } from "../asn1/oids";
import { inputError } from "../errors";
import { keyIdentifier } from "./keys";
import type { Signer } from "./signer";
import { decodeSans, encodeSans, hasSans, Sans } from "./san";
import { toPem, readPemOrDer } from "./pem";
import { decodeName, formatRfc4514 } from "./name";
import { nameConstraintsExtension, NameConstraintsSpec } from "./constraints";

import type { Extension, ParsedCertificate, Profile } from "./types";
// the types live in ./types (so that ./constraints can name them without importing this module)
export type { Extension, ParsedCertificate, Profile } from "./types";

export const KeyUsage = { digitalSignature: 0, nonRepudiation: 1, keyEncipherment: 2, dataEncipherment: 3, keyAgreement: 4, keyCertSign: 5, cRLSign: 6 } as const;

export const ext = {
  basicConstraints(ca: boolean, pathLen?: number): Extension {
    const body = ca ? der.seq(der.bool(true), ...(pathLen !== undefined ? [der.smallInt(pathLen)] : [])) : der.seq();
    return { oid: OID.basicConstraints, critical: true, value: body };
  },
  keyUsage(bits: number[]): Extension {
    return { oid: OID.keyUsage, critical: true, value: der.namedBits(bits) };
  },
  extKeyUsage(oids: string[]): Extension {
    return { oid: OID.extKeyUsage, critical: false, value: der.seq(...oids.map(der.oid)) };
  },
  subjectKeyIdentifier(ski: Buffer): Extension {
    return { oid: OID.subjectKeyIdentifier, critical: false, value: der.octets(ski) };
  },
  authorityKeyIdentifier(keyId: Buffer): Extension {
    return { oid: OID.authorityKeyIdentifier, critical: false, value: der.seq(der.implicit(0, keyId)) };
  },
  /** Critical when the subject is empty (RFC 5280 §4.2.1.6). */
  subjectAltName(sans: Sans, emptySubject: boolean): Extension {
    return { oid: OID.subjectAltName, critical: emptySubject, value: encodeSans(sans) };
  },
};

/** One Extension, DER. */
export function encodeExtension(e: Extension): Buffer {
  return e.critical ? der.seq(der.oid(e.oid), TRUE, der.octets(e.value)) : der.seq(der.oid(e.oid), der.octets(e.value));
}
const TRUE = der.bool(true);

export function encodeExtensions(exts: Extension[]): Buffer {
  return der.tlvOf(der.Tag.SEQUENCE, exts.map(encodeExtension));
}

/**
 * Encodings that repeat across the certificates of one issuer (bulk issuance): the constant
 * extensions (frozen objects, see profileExtensions) and the validity (a batch shares its times).
 */
export class EncodeCache {
  private readonly exts = new WeakMap<Extension, Buffer>();
  private readonly validities = new Map<string, Buffer>();

  extension(e: Extension): Buffer {
    if (!Object.isFrozen(e)) return encodeExtension(e);
    let b = this.exts.get(e);
    if (!b) this.exts.set(e, (b = encodeExtension(e)));
    return b;
  }

  validity(notBefore: Date, notAfter: Date): Buffer {
    const k = `${notBefore.getTime()}/${notAfter.getTime()}`;
    let v = this.validities.get(k);
    if (!v) {
      if (this.validities.size > 64) this.validities.clear();
      this.validities.set(k, (v = der.seq(der.time(notBefore), der.time(notAfter))));
    }
    return v;
  }
}

/** A random positive serial: 16 bytes, top bit clear and second bit set, so always 16 bytes long. `random`: 16 random bytes to use (changed in place). */
export function randomSerial(random: Buffer = crypto.randomBytes(16)): Buffer {
  const b = random;
  b[0] = (b[0] & 0x7f) | 0x40;
  return b;
}

export interface TbsInput {
  serial: Buffer;
  issuer: Buffer; // raw Name DER
  subject: Buffer; // raw Name DER
  notBefore: Date;
  notAfter: Date;
  spki: Buffer;
  extensions: Extension[];
}

const V3 = der.explicit(0, der.smallInt(2));

/** The one certificate writer (every path: ca.ts issue(), bulk, sub-CAs, roots, rollover). `cache`: see EncodeCache. */
export function buildCertificate(tbs: TbsInput, signer: Signer, cache?: EncodeCache): Buffer {
  const exts = cache ? tbs.extensions.map((e) => cache.extension(e)) : tbs.extensions.map(encodeExtension);
  const tbsDer = der.seq(
    V3,
    der.uint(tbs.serial),
    signer.algorithm,
    tbs.issuer,
    cache ? cache.validity(tbs.notBefore, tbs.notAfter) : der.seq(der.time(tbs.notBefore), der.time(tbs.notAfter)),
    tbs.subject,
    tbs.spki,
    der.explicit(3, der.tlvOf(der.Tag.SEQUENCE, exts)),
  );
  return der.seq(tbsDer, signer.algorithm, der.bitString(signer.sign(tbsDer)));
}

/**
 * The extensions of a leaf profile that do not depend on the key or the names (basicConstraints,
 * keyUsage, extKeyUsage, authorityKeyIdentifier): the same objects, frozen, for every certificate of
 * an issuer, so that an encoder may keep their DER (EncodeCache). Bounded.
 */
const constantExtensions = new Map<string, { before: Extension[]; after: Extension[] }>();
function leafConstants(profile: Exclude<Profile, "ca">, rsa: boolean, issuerKeyId: Buffer | undefined): { before: Extension[]; after: Extension[] } {
  const k = `${profile}|${rsa ? 1 : 0}|${issuerKeyId ? issuerKeyId.toString("hex") : ""}`;
  let c = constantExtensions.get(k);
  if (!c) {
    // keyEncipherment is RSA key transport, a TLS server's use: RFC 5280 4.2.1.12 allows only
    // digitalSignature and/or keyAgreement with clientAuth alone (zlint e_key_usage_and_extended_key_usage_inconsistent)
    const ku = rsa && profile !== "client" ? [KeyUsage.digitalSignature, KeyUsage.keyEncipherment] : [KeyUsage.digitalSignature];
    const before = [ext.basicConstraints(false), ext.keyUsage(ku), ext.extKeyUsage(profile === "client" ? [OID.clientAuth] : profile === "peer" ? [OID.serverAuth, OID.clientAuth] : [OID.serverAuth])];
    const after = issuerKeyId ? [ext.authorityKeyIdentifier(issuerKeyId)] : [];
    for (const e of [...before, ...after]) Object.freeze(e);
    if (constantExtensions.size >= 64) constantExtensions.clear();
    constantExtensions.set(k, (c = { before, after }));
  }
  return c;
}

/** The extensions of each profile. `keyId`: the key identifier of `spki`, when the caller has it. */
export function profileExtensions(
  profile: Profile,
  o: { spki: Buffer; keyId?: Buffer; issuerKeyId?: Buffer; rsa: boolean; sans?: Sans; emptySubject?: boolean; pathLen?: number; nameConstraints?: NameConstraintsSpec },
): Extension[] {
  const ski = o.keyId ?? keyIdentifier(o.spki);
  if (profile === "ca") {
    // a root has no AKI; an intermediate names its issuer's key; name constraints (critical) when given
    const list = [ext.basicConstraints(true, o.pathLen), ext.keyUsage([KeyUsage.keyCertSign, KeyUsage.cRLSign]), ext.subjectKeyIdentifier(ski)];
    if (o.issuerKeyId) list.push(ext.authorityKeyIdentifier(o.issuerKeyId));
    if (o.nameConstraints) list.push(nameConstraintsExtension(o.nameConstraints));
    return list;
  }
  const c = leafConstants(profile, o.rsa, o.issuerKeyId);
  const list = [...c.before, ext.subjectKeyIdentifier(ski), ...c.after];
  if (o.sans && hasSans(o.sans)) list.push(ext.subjectAltName(o.sans, !!o.emptySubject));
  return list;
}

// ---------------------------------------------------------------- parsing

export function parseCertificate(certDer: Buffer, file = "certificate"): ParsedCertificate {
  try {
    const [tbsN, algN, sigN] = der.children(der.expect(der.parseOne(certDer), der.Tag.SEQUENCE, "Certificate"));
    const t = der.children(der.expect(tbsN, der.Tag.SEQUENCE, "TBSCertificate"));
    let i = 0;
    let version = 1;
    if (t[0].tag === 0xa0) {
      version = der.readSmallInt(der.children(t[0])[0]) + 1;
      i++;
    }
    const serial = der.expect(t[i++], der.Tag.INTEGER, "serial").content;
    i++; // signature alg
    const issuer = der.expect(t[i++], der.Tag.SEQUENCE, "issuer");
    const [nb, na] = der.children(der.expect(t[i++], der.Tag.SEQUENCE, "validity"));
    const subject = der.expect(t[i++], der.Tag.SEQUENCE, "subject");
    const spki = der.expect(t[i++], der.Tag.SEQUENCE, "subjectPublicKeyInfo");
    const extensions: Extension[] = [];
    for (; i < t.length; i++) {
      if (t[i].tag !== 0xa3) continue;
      for (const e of der.children(der.children(t[i])[0])) {
        const parts = der.children(e);
        const critical = parts.length === 3 ? der.readBool(parts[1]) : false;
        extensions.push({ oid: der.readOid(parts[0]), critical, value: der.expect(parts[parts.length - 1], der.Tag.OCTET_STRING, "extnValue").content });
      }
    }
    const get = (o: string) => extensions.find((e) => e.oid === o)?.value;
    const p: ParsedCertificate = {
      der: certDer,
      version,
      tbs: tbsN.raw,
      serialHex: Buffer.from(serial).toString("hex").replace(/^00(?=[0-9a-f])/, "") || "0",
      signatureAlgorithm: algN.raw,
      signature: der.readBitString(sigN).bytes,
      issuerRaw: issuer.raw,
      subjectRaw: subject.raw,
      subject: decodeName(subject.raw),
      notBefore: der.readTime(nb),
      notAfter: der.readTime(na),
      spki: spki.raw,
      extensions,
      sans: get(OID.subjectAltName) ? decodeSans(get(OID.subjectAltName)!) : { email: [], dns: [], uri: [], ip: [], other: 0 },
      fingerprint: crypto.createHash("sha256").update(certDer).digest("hex"),
    };
    const bc = get(OID.basicConstraints);
    if (bc) {
      const parts = der.children(der.parseOne(bc));
      const ca = parts[0]?.tag === der.Tag.BOOLEAN ? der.readBool(parts[0]) : false;
      const pl = parts.find((x) => x.tag === der.Tag.INTEGER);
      p.basicConstraints = { ca, pathLen: pl ? der.readSmallInt(pl) : undefined };
    }
    const ku = get(OID.keyUsage);
    if (ku) p.keyUsage = der.readNamedBits(der.parseOne(ku));
    const eku = get(OID.extKeyUsage);
    if (eku) p.extKeyUsage = der.children(der.parseOne(eku)).map(der.readOid);
    const ski = get(OID.subjectKeyIdentifier);
    if (ski) p.subjectKeyId = der.parseOne(ski).content;
    const aki = get(OID.authorityKeyIdentifier);
    if (aki) p.authorityKeyId = der.children(der.parseOne(aki)).find((x) => x.tag === 0x80)?.content;
    return p;
  } catch (e) {
    if (e instanceof der.DerError) throw inputError(`not a valid X.509 certificate (${e.message})`, file);
    throw e;
  }
}

export const certificatePem = (d: Buffer): string => toPem("CERTIFICATE", d);

/** Reads one or more certificates from PEM or DER bytes. */
export function readCertificates(data: Buffer, file: string): ParsedCertificate[] {
  return readPemOrDer(data, file, ["CERTIFICATE"], "certificate").map((d) => parseCertificate(d, file));
}

export function subjectString(c: ParsedCertificate): string {
  return formatRfc4514(c.subject);
}

/** Whether `cert` was signed by the key in `issuerSpki` (via Node's X509Certificate). */
/** The issuer's key object, made once per SPKI buffer (the service checks every client certificate against one CA). */
const issuerKeys = new WeakMap<Buffer, crypto.KeyObject>();

export function signedBy(cert: ParsedCertificate, issuerSpki: Buffer): boolean {
  try {
    let key = issuerKeys.get(issuerSpki);
    if (!key) issuerKeys.set(issuerSpki, (key = crypto.createPublicKey({ key: issuerSpki, format: "der", type: "spki" })));
    return new crypto.X509Certificate(cert.der).verify(key);
  } catch {
    return false;
  }
}
