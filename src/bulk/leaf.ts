/**
 * The lean issuance path of `client issue --from`: keys and client certificates for many clients
 * from one CA, without the general path's per-certificate overheads.
 *
 * - EC keys come from OpenSSL's EC key generation through crypto.createECDH (raw private scalar and
 *   public point), and their PKCS#8 and SubjectPublicKeyInfo DER are assembled from fixed templates:
 *   Node's KeyObject.export costs 50-100 µs per key, several times the key generation itself (and
 *   JWK export hangs after a few thousand keys in Node 20, see deps.md). Other key types use
 *   generateKeyPairSync with DER/PEM output.
 * - Everything in a client certificate that does not depend on the client (version, signature
 *   algorithm, issuer, basicConstraints, keyUsage, extKeyUsage, authorityKeyIdentifier) is encoded
 *   once, from the general path's own builders (profileExtensions), and each certificate is
 *   assembled with one allocation per TLV.
 * - Signing is Node's synchronous native signer with the CA's KeyObject (signerFor).
 *
 * The general path (ca.ts issue()) stays the judge: test/bulk.test.ts compares what this file
 * produces, field by field, with what issue() produces for the same inputs.
 */
import * as crypto from "node:crypto";
import * as der from "../asn1/der";
import { OID } from "../asn1/oids";
import { encodeExtensions, ext, Extension, ParsedCertificate, profileExtensions } from "../pki/cert";
import { KeyType, keyIdentifier, signerFor } from "../pki/keys";
import { hasSans, ipBytes, Sans } from "../pki/san";

// ---------------------------------------------------------------- small DER helpers (one allocation)

function header(tag: number, len: number): Buffer {
  if (len < 0x80) return Buffer.from([tag, len]);
  if (len < 0x100) return Buffer.from([tag, 0x81, len]);
  if (len < 0x10000) return Buffer.from([tag, 0x82, len >> 8, len & 0xff]);
  return Buffer.from([tag, 0x83, (len >> 16) & 0xff, (len >> 8) & 0xff, len & 0xff]);
}

/** A TLV of the given tag over the concatenation of `parts`. */
function tlvOf(tag: number, parts: Buffer[]): Buffer {
  let len = 0;
  for (const p of parts) len += p.length;
  const h = header(tag, len);
  const out = Buffer.allocUnsafe(h.length + len);
  h.copy(out, 0);
  let off = h.length;
  for (const p of parts) off += p.copy(out, off);
  return out;
}

// ---------------------------------------------------------------- keys

export interface LeafKey {
  keyType: KeyType;
  /** SubjectPublicKeyInfo DER. */
  spki: Buffer;
  /** RFC 5280 method 1 key identifier (SHA-1 of the subjectPublicKey bits). */
  ski: Buffer;
  /** The private key, PKCS#8 PEM (unencrypted), as privateKeyPem() writes it. */
  pkcs8Pem: string;
  rsa: boolean;
}

interface EcTemplate {
  ecdh: crypto.ECDH;
  size: number; // bytes of the private scalar
  spkiHead: Buffer; // SPKI up to the public point
  p8Head: Buffer; // PKCS#8 up to the private scalar
  p8Mid: Buffer; // between the private scalar and the public point
}

const EC_CURVES: Partial<Record<KeyType, { curve: string; oid: string; size: number }>> = {
  "ec-p256": { curve: "prime256v1", oid: OID.p256, size: 32 },
  "ec-p384": { curve: "secp384r1", oid: OID.p384, size: 48 },
};

/**
 * The DER OpenSSL writes for an EC key (checked against KeyObject.export in the tests):
 *   SPKI   = SEQ { SEQ { ecPublicKey, curve }, BIT STRING point }
 *   PKCS#8 = SEQ { 0, SEQ { ecPublicKey, curve }, OCTET STRING ECPrivateKey }
 *   ECPrivateKey = SEQ { 1, OCTET STRING scalar, [1] { BIT STRING point } }   (no [0] parameters)
 * Every length is fixed by the curve, so each is a head, the scalar, a middle and the point.
 */
function ecTemplate(t: KeyType): EcTemplate | null {
  const c = EC_CURVES[t];
  if (!c) return null;
  const pointLen = 1 + 2 * c.size;
  const alg = der.seq(der.oid(OID.ecPublicKey), der.oid(c.oid));
  const spki = der.seq(alg, der.bitString(Buffer.alloc(pointLen)));
  const tail = der.explicit(1, der.bitString(Buffer.alloc(pointLen))); // [1] header, BIT STRING header, unused-bits byte, point
  const p8 = der.seq(der.smallInt(0), alg, der.octets(der.seq(der.smallInt(1), der.octets(Buffer.alloc(c.size)), tail)));
  const p8HeadLen = p8.length - tail.length - c.size;
  return {
    ecdh: crypto.createECDH(c.curve),
    size: c.size,
    spkiHead: spki.subarray(0, spki.length - pointLen),
    p8Head: p8.subarray(0, p8HeadLen),
    p8Mid: tail.subarray(0, tail.length - pointLen),
  };
}

const PEM_LINE = 64;
/** PEM with 64-character lines, as toPem() writes it. */
export function pem(label: string, body: Buffer): string {
  const b64 = body.toString("base64");
  let out = `-----BEGIN ${label}-----\n`;
  for (let i = 0; i < b64.length; i += PEM_LINE) out += b64.slice(i, i + PEM_LINE) + "\n";
  return out + `-----END ${label}-----\n`;
}

export class KeyMaker {
  private readonly ec = new Map<KeyType, EcTemplate | null>();

  make(type: KeyType): LeafKey {
    let t = this.ec.get(type);
    if (t === undefined) this.ec.set(type, (t = ecTemplate(type)));
    if (t) {
      const point = t.ecdh.generateKeys(); // the public point, uncompressed
      let d = t.ecdh.getPrivateKey();
      if (d.length < t.size) d = Buffer.concat([Buffer.alloc(t.size - d.length), d]); // BN bytes drop leading zeros
      const p8 = Buffer.concat([t.p8Head, d, t.p8Mid, point]);
      d.fill(0);
      const out = {
        keyType: type,
        spki: Buffer.concat([t.spkiHead, point]),
        ski: crypto.hash("sha1", point, "buffer"),
        pkcs8Pem: pem("PRIVATE KEY", p8),
        rsa: false,
      };
      p8.fill(0);
      return out;
    }
    const { publicKey, privateKey } = generateOther(type);
    return { keyType: type, spki: publicKey, ski: keyIdentifier(publicKey), pkcs8Pem: privateKey, rsa: type.startsWith("rsa") };
  }
}

function generateOther(type: KeyType): { publicKey: Buffer; privateKey: string } {
  const publicKeyEncoding = { type: "spki", format: "der" } as const;
  const privateKeyEncoding = { type: "pkcs8", format: "pem" } as const;
  switch (type) {
    case "rsa-2048":
    case "rsa-3072":
    case "rsa-4096":
      return crypto.generateKeyPairSync("rsa", { modulusLength: Number(type.slice(4)), publicExponent: 0x10001, publicKeyEncoding, privateKeyEncoding });
    case "ed25519":
      return crypto.generateKeyPairSync("ed25519", { publicKeyEncoding, privateKeyEncoding });
    case "ec-p256":
    case "ec-p384":
      return crypto.generateKeyPairSync("ec", { namedCurve: EC_CURVES[type]!.curve, publicKeyEncoding, privateKeyEncoding });
  }
}

// ---------------------------------------------------------------- certificates

export interface LeafInput {
  serial: Buffer;
  /** der.seq(time(notBefore), time(notAfter)): the same for many certificates, see validity(). */
  validity: Buffer;
  subject: Buffer;
  key: LeafKey;
  sans: Sans;
}

/** A client-certificate encoder for one CA: the constant parts encoded once. */
export class ClientCertEncoder {
  private readonly version = der.explicit(0, der.smallInt(2));
  private readonly sigAlg: Buffer;
  private readonly issuer: Buffer;
  private readonly sign: (data: Buffer) => Buffer;
  /** Encoded extensions before and after the subjectKeyIdentifier, for EC/Ed25519 and RSA keys. */
  private readonly around: Record<"rsa" | "other", { before: Buffer[]; after: Buffer[] }>;
  private readonly skiHead: Buffer;
  private readonly validityCache = new Map<string, Buffer>();

  constructor(caCert: ParsedCertificate, caKey: crypto.KeyObject) {
    const signer = signerFor(caKey);
    this.sigAlg = signer.algorithm;
    this.sign = signer.sign;
    this.issuer = caCert.subjectRaw;
    // profileExtensions is the source of the extensions' shapes: take its list for a sample key and
    // keep everything but the per-key SKI (and the SAN, which it adds only when there are SANs).
    const sample = der.seq(der.seq(der.oid(OID.ecPublicKey), der.oid(OID.p256)), der.bitString(Buffer.alloc(65, 4)));
    const split = (rsa: boolean) => {
      const list = profileExtensions("client", { spki: sample, issuerKeyId: caCert.subjectKeyId, rsa, sans: undefined, emptySubject: false });
      const i = list.findIndex((e) => e.oid === OID.subjectKeyIdentifier);
      if (i < 0 || list.some((e) => e.oid === OID.subjectAltName)) throw new Error("unexpected client profile");
      return { before: list.slice(0, i).map(encodeOne), after: list.slice(i + 1).map(encodeOne) };
    };
    this.around = { rsa: split(true), other: split(false) };
    const skiSample = encodeOne(ext.subjectKeyIdentifier(Buffer.alloc(20)));
    this.skiHead = skiSample.subarray(0, skiSample.length - 20);
  }

  /** The Validity of a certificate (cached: a batch shares its times). */
  validity(notBefore: Date, notAfter: Date): Buffer {
    const k = `${notBefore.getTime()}/${notAfter.getTime()}`;
    let v = this.validityCache.get(k);
    if (!v) {
      if (this.validityCache.size > 64) this.validityCache.clear();
      v = der.seq(der.time(notBefore), der.time(notAfter));
      this.validityCache.set(k, v);
    }
    return v;
  }

  private readonly sanOid = der.oid(OID.subjectAltName);
  private readonly critical = der.bool(true);

  /** ext.subjectAltName(sans, critical) as encodeExtensions writes it (GeneralNames: emails, DNS, URIs, IPs). */
  private subjectAltName(s: Sans, critical: boolean): Buffer {
    const names: Buffer[] = [];
    for (const v of s.email) names.push(tlvOf(0x81, [Buffer.from(v, "latin1")]));
    for (const v of s.dns) names.push(tlvOf(0x82, [Buffer.from(v, "latin1")]));
    for (const v of s.uri) names.push(tlvOf(0x86, [Buffer.from(v, "latin1")]));
    for (const v of s.ip) names.push(tlvOf(0x87, [ipBytes(v)]));
    const value = tlvOf(0x04, [tlvOf(0x30, names)]);
    return tlvOf(0x30, critical ? [this.sanOid, this.critical, value] : [this.sanOid, value]);
  }

  /** The certificate's DER. */
  encode(o: LeafInput): Buffer {
    const shape = o.key.rsa ? this.around.rsa : this.around.other;
    const ski = o.key.ski.length === 20 ? Buffer.concat([this.skiHead, o.key.ski]) : encodeOne(ext.subjectKeyIdentifier(o.key.ski));
    const exts = shape.before.concat(ski, shape.after);
    if (hasSans(o.sans)) exts.push(this.subjectAltName(o.sans, o.subject.length <= 2));
    const serial = o.serial.length === 16 && o.serial[0] >= 0x40 && o.serial[0] < 0x80 ? tlvOf(0x02, [o.serial]) : der.uint(o.serial);
    const tbs = tlvOf(0x30, [this.version, serial, this.sigAlg, this.issuer, o.validity, o.subject, o.key.spki, tlvOf(0xa3, [tlvOf(0x30, exts)])]);
    const sig = this.sign(tbs);
    return tlvOf(0x30, [tbs, this.sigAlg, tlvOf(0x03, [Buffer.from([0]), sig])]);
  }
}

/** One Extension's DER, exactly as encodeExtensions writes it. */
function encodeOne(e: Extension): Buffer {
  return der.children(der.parseOne(encodeExtensions([e])))[0].raw;
}
