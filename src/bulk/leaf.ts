/**
 * Keys for `client issue --from`: many keys without the general path's per-key overheads. The
 * certificates themselves are planned and written by the one issuance path (pki/plan.ts
 * planIssuance, pki/cert.ts buildCertificate with an EncodeCache for what repeats).
 *
 * - EC keys come from OpenSSL's EC key generation through crypto.createECDH (raw private scalar and
 *   public point), and their PKCS#8 and SubjectPublicKeyInfo DER are assembled by pki/keys.ts's
 *   EcKeyEncoder (fixed templates, byte for byte what OpenSSL writes):
 *   Node's KeyObject.export costs 50-100 µs per key, several times the key generation itself (and
 *   JWK export hangs after a few thousand keys in Node 20, see deps.md). Other key types use
 *   generateKeyPairSync with DER/PEM output.
 * The general path (ca.ts issue()) stays the judge: test/bulk.test.ts compares what this file
 * produces, field by field, with what issue() produces for the same inputs.
 */
import * as crypto from "node:crypto";
import { EC_CURVES, EcKeyEncoder, KeyType, keyIdentifier, pkcs8Pem } from "../pki/keys";
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

/** PEM as the store writes it (pki/pem.ts toPem). */
export const pem = toPem;

export class KeyMaker {
  private readonly ec = new Map<KeyType, { ecdh: crypto.ECDH; enc: EcKeyEncoder } | null>();

  make(type: KeyType): LeafKey {
    let t = this.ec.get(type);
    if (t === undefined) {
      const enc = EcKeyEncoder.for(type);
      this.ec.set(type, (t = enc ? { ecdh: crypto.createECDH(enc.curve), enc } : null));
    }
    if (t) {
      const point = t.ecdh.generateKeys(); // the public point, uncompressed
      const d = t.ecdh.getPrivateKey();
      const p8 = t.enc.pkcs8(d, point);
      d.fill(0);
      const out = { keyType: type, spki: t.enc.spki(point), ski: crypto.hash("sha1", point, "buffer"), pkcs8Pem: pkcs8Pem(p8), rsa: false };
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

