/**
 * Keys for `client issue --from`: many keys without the general path's per-key overheads. The
 * certificates themselves are planned and written by the one issuance path (pki/plan.ts
 * planIssuance, pki/cert.ts buildCertificate with an EncodeCache for what repeats).
 *
 * - EC keys come from OpenSSL's EC key generation through crypto.createECDH (raw private scalar and
 *   public point), and their PKCS#8 and SubjectPublicKeyInfo DER are assembled from fixed templates:
 *   Node's KeyObject.export costs 50-100 µs per key, several times the key generation itself (and
 *   JWK export hangs after a few thousand keys in Node 20, see deps.md). Other key types use
 *   generateKeyPairSync with DER/PEM output.
 * The general path (ca.ts issue()) stays the judge: test/bulk.test.ts compares what this file
 * produces, field by field, with what issue() produces for the same inputs.
 */
import * as crypto from "node:crypto";
import * as der from "../asn1/der";
import { OID } from "../asn1/oids";
import { KeyType, keyIdentifier } from "../pki/keys";
import { toPem } from "../pki/pem";

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

/** PEM as the store writes it (pki/pem.ts toPem). */
export const pem = toPem;

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

