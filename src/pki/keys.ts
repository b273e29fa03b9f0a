/**
 * Keys: generation with Node's native (OpenSSL) crypto, PKCS#8 at rest, and the signature
 * algorithms that go with each key type.
 */
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import { OID } from "../asn1/oids";
import * as der from "../asn1/der";
import { inputError } from "../errors";
import { toPem } from "./pem";

export const KEY_TYPES = ["ec-p256", "ec-p384", "rsa-2048", "rsa-3072", "rsa-4096", "ed25519"] as const;
export type KeyType = (typeof KEY_TYPES)[number];
export const DEFAULT_KEY_TYPE: KeyType = "ec-p256";

export function parseKeyType(s: string): KeyType {
  const t = s.toLowerCase() as KeyType;
  if (!KEY_TYPES.includes(t)) throw inputError(`unknown key type "${s}" (choose one of ${KEY_TYPES.join(", ")})`);
  return t;
}

/**
 * A new private key. The key is generated as PKCS#8 DER and imported into a fresh KeyObject: a
 * KeyObject returned by generateKeyPairSync shares its lock with the key-generation job, and on Node
 * 20 reading `asymmetricKeyDetails` of it can deadlock when a GC finalizes that job meanwhile
 * (seen here: `client issue` hung in KeyGenJob's destructor under GetEcKeyDetail, one run in two).
 */
export function generateKey(type: KeyType): crypto.KeyObject {
  const enc = { publicKeyEncoding: { type: "spki", format: "der" }, privateKeyEncoding: { type: "pkcs8", format: "der" } } as const;
  let der: Buffer;
  switch (type) {
    case "ec-p256":
      der = crypto.generateKeyPairSync("ec", { namedCurve: "prime256v1", publicKeyEncoding: enc.publicKeyEncoding, privateKeyEncoding: enc.privateKeyEncoding }).privateKey;
      break;
    case "ec-p384":
      der = crypto.generateKeyPairSync("ec", { namedCurve: "secp384r1", publicKeyEncoding: enc.publicKeyEncoding, privateKeyEncoding: enc.privateKeyEncoding }).privateKey;
      break;
    case "rsa-2048":
    case "rsa-3072":
    case "rsa-4096":
      der = crypto.generateKeyPairSync("rsa", { modulusLength: Number(type.slice(4)), publicExponent: 0x10001, publicKeyEncoding: enc.publicKeyEncoding, privateKeyEncoding: enc.privateKeyEncoding }).privateKey;
      break;
    case "ed25519":
      der = crypto.generateKeyPairSync("ed25519", { publicKeyEncoding: enc.publicKeyEncoding, privateKeyEncoding: enc.privateKeyEncoding }).privateKey;
      break;
  }
  return crypto.createPrivateKey({ key: der, format: "der", type: "pkcs8" });
}

/** A human description of a key, e.g. "ec-p256", "rsa-2048", "ed25519". */
export function describeKey(key: crypto.KeyObject): string {
  const d = key.asymmetricKeyDetails ?? {};
  switch (key.asymmetricKeyType) {
    case "ec":
      return d.namedCurve === "prime256v1" ? "ec-p256" : d.namedCurve === "secp384r1" ? "ec-p384" : d.namedCurve === "secp521r1" ? "ec-p521" : `ec-${d.namedCurve}`;
    case "rsa":
      return `rsa-${d.modulusLength}`;
    case "rsa-pss":
      return `rsa-pss-${d.modulusLength}`;
    default:
      return String(key.asymmetricKeyType);
  }
}

/**
 * Whether nats-server (Go's crypto/tls) can use this public key in a client certificate:
 * RSA, ECDSA on P-256/P-384/P-521, or Ed25519.
 */
export function goAcceptsKey(key: crypto.KeyObject): boolean {
  const t = key.asymmetricKeyType;
  if (t === "rsa" || t === "ed25519") return true;
  if (t === "ec") return ["prime256v1", "secp384r1", "secp521r1"].includes(String(key.asymmetricKeyDetails?.namedCurve));
  return false;
}

export function isRsa(key: crypto.KeyObject): boolean {
  return key.asymmetricKeyType === "rsa" || key.asymmetricKeyType === "rsa-pss";
}

/** Signing goes through the Signer seam (./signer.ts); signerFor is its first implementation, keySigner. */
export { keySigner as signerFor } from "./signer";
export type { Signer } from "./signer";

/** The subjectPublicKey bits of a SubjectPublicKeyInfo (what key identifiers hash). */
export function subjectPublicKeyBits(spki: Buffer): Buffer {
  const [, bits] = der.children(der.parseOne(spki));
  return der.readBitString(bits).bytes;
}

/** RFC 5280 §4.2.1.2 method 1: SHA-1 of the subjectPublicKey bits. */
export function keyIdentifier(spki: Buffer): Buffer {
  return crypto.createHash("sha1").update(subjectPublicKeyBits(spki)).digest();
}

export function spkiOf(key: crypto.KeyObject): Buffer {
  const pub = key.type === "private" ? crypto.createPublicKey(key) : key;
  return pub.export({ type: "spki", format: "der" });
}

// Issuers repeat across certificates: keep their KeyObjects (a small, bounded cache).
const keyCache = new Map<string, crypto.KeyObject>();

/** The public key of a SubjectPublicKeyInfo, cached by its DER. */
export function publicKeyOf(spki: Buffer): crypto.KeyObject {
  const k = spki.toString("base64");
  let key = keyCache.get(k);
  if (!key) {
    key = crypto.createPublicKey({ key: spki, format: "der", type: "spki" });
    if (keyCache.size >= 256) keyCache.delete(keyCache.keys().next().value as string);
    keyCache.set(k, key);
  }
  return key;
}

/** The key type named by a SubjectPublicKeyInfo's algorithm (and curve), read from the DER alone. */
export function spkiKeyType(spki: Buffer): { algorithm: string; curve?: string } {
  const [alg] = der.children(der.parseOne(spki));
  const [oidNode, params] = der.children(alg);
  const algorithm = der.readOid(oidNode);
  return { algorithm, curve: params && params.tag === der.Tag.OID ? der.readOid(params) : undefined };
}

const HASH_BY_OID: Record<string, string> = {
  [OID.sha1]: "sha1",
  [OID.sha224]: "sha224",
  [OID.sha256]: "sha256",
  [OID.sha384]: "sha384",
  [OID.sha512]: "sha512",
};

/**
 * Verifies a signature made with the given AlgorithmIdentifier (DER) by the key in `spki`.
 * Returns false for a bad signature; throws for an algorithm it refuses (MD5, unknown).
 */
export function verifySignature(algorithmId: Buffer, spki: Buffer, data: Buffer, signature: Buffer): boolean {
  const [algNode, paramNode] = der.children(der.parseOne(algorithmId));
  const alg = der.readOid(algNode);
  const pub = publicKeyOf(spki);
  const simple: Record<string, string | null> = {
    [OID.sha1WithRSA]: "sha1",
    [OID.sha224WithRSA]: "sha224",
    [OID.sha256WithRSA]: "sha256",
    [OID.sha384WithRSA]: "sha384",
    [OID.sha512WithRSA]: "sha512",
    [OID.ecdsaWithSHA1]: "sha1",
    [OID.ecdsaWithSHA224]: "sha224",
    [OID.ecdsaWithSHA256]: "sha256",
    [OID.ecdsaWithSHA384]: "sha384",
    [OID.ecdsaWithSHA512]: "sha512",
    [OID.ed25519]: null,
    [OID.ed448]: null,
  };
  if (alg in simple) return crypto.verify(simple[alg], data, pub, signature);
  if (alg === OID.rsaPss) {
    // RSASSA-PSS-params: [0] hash, [1] maskGen, [2] saltLength, [3] trailerField; defaults SHA-1, 20.
    let hash = "sha1";
    let saltLength = 20;
    if (paramNode && paramNode.tag === der.Tag.SEQUENCE) {
      for (const p of der.children(paramNode)) {
        const [inner] = der.children(p);
        if (p.tag === 0xa0) hash = HASH_BY_OID[der.readOid(der.children(inner)[0])] ?? "unknown";
        if (p.tag === 0xa2) saltLength = der.readSmallInt(inner);
      }
    }
    if (hash === "unknown") throw inputError("unsupported RSASSA-PSS hash");
    return crypto.verify(hash, data, { key: pub, padding: crypto.constants.RSA_PKCS1_PSS_PADDING, saltLength }, signature);
  }
  throw inputError(`unsupported signature algorithm ${alg}`);
}

// ---------------------------------------------------------------- PEM at rest (PKCS#8)

/** An unencrypted PKCS#8 PEM from its DER: the same text as privateKeyPem(key) without a passphrase. */
export const pkcs8Pem = (p8: Buffer): string => toPem("PRIVATE KEY", p8);

export const EC_CURVES: Partial<Record<KeyType, { curve: string; oid: string; size: number }>> = {
  "ec-p256": { curve: "prime256v1", oid: OID.p256, size: 32 },
  "ec-p384": { curve: "secp384r1", oid: OID.p384, size: 48 },
};

/**
 * PKCS#8 and SubjectPublicKeyInfo of an EC key given as its raw scalar and point (crypto.createECDH:
 * bulk issuance makes keys so, since a KeyObject's export costs several times the key generation).
 * The DER is what OpenSSL writes (checked against KeyObject.export in test/bulk.test.ts):
 *   SPKI   = SEQ { SEQ { ecPublicKey, curve }, BIT STRING point }
 *   PKCS#8 = SEQ { 0, SEQ { ecPublicKey, curve }, OCTET STRING ECPrivateKey }
 *   ECPrivateKey = SEQ { 1, OCTET STRING scalar, [1] { BIT STRING point } }   (no [0] parameters)
 * Every length is fixed by the curve, so each is a head, the scalar, a middle and the point.
 */
export class EcKeyEncoder {
  private constructor(
    readonly curve: string,
    private readonly size: number,
    private readonly spkiHead: Buffer,
    private readonly p8Head: Buffer,
    private readonly p8Mid: Buffer,
  ) {}

  /** The encoder for an EC key type, or null for other types. */
  static for(t: KeyType): EcKeyEncoder | null {
    const c = EC_CURVES[t];
    if (!c) return null;
    const pointLen = 1 + 2 * c.size;
    const alg = der.seq(der.oid(OID.ecPublicKey), der.oid(c.oid));
    const spki = der.seq(alg, der.bitString(Buffer.alloc(pointLen)));
    const tail = der.explicit(1, der.bitString(Buffer.alloc(pointLen))); // [1] header, BIT STRING header, unused-bits byte, point
    const p8 = der.seq(der.smallInt(0), alg, der.octets(der.seq(der.smallInt(1), der.octets(Buffer.alloc(c.size)), tail)));
    return new EcKeyEncoder(c.curve, c.size, spki.subarray(0, spki.length - pointLen), p8.subarray(0, p8.length - tail.length - c.size), tail.subarray(0, tail.length - pointLen));
  }

  spki(point: Buffer): Buffer {
    return Buffer.concat([this.spkiHead, point]);
  }

  /** The PKCS#8 DER (the caller zeroes it after use). */
  pkcs8(scalar: Buffer, point: Buffer): Buffer {
    const pad = this.size - scalar.length; // BN bytes drop leading zeros
    return Buffer.concat(pad > 0 ? [this.p8Head, Buffer.alloc(pad), scalar, this.p8Mid, point] : [this.p8Head, scalar, this.p8Mid, point]);
  }
}

/**
 * The key derivation of every encrypted private key mtlsctl writes: PBKDF2-HMAC-SHA256 with 600,000
 * iterations (OWASP's 2023 figure for PBKDF2-HMAC-SHA256; ~0.2 s to unlock here: scripts/bench-unlock.js) and a 16-byte salt.
 * Node's KeyObject.export would use OpenSSL's defaults, 2,048 iterations and an 8-byte salt.
 */
export const KEY_KDF = { iterations: 600_000, saltBytes: 16 } as const;

const PBES2_OID = { pbes2: "1.2.840.113549.1.5.13", pbkdf2: "1.2.840.113549.1.5.12", hmacWithSHA256: "1.2.840.113549.2.9", aes256Cbc: "2.16.840.1.101.3.4.1.42" } as const;

/** An EncryptedPrivateKeyInfo (RFC 5958) of PKCS#8 DER: PBES2 (RFC 8018) with PBKDF2-HMAC-SHA256 and AES-256-CBC. */
export function encryptPkcs8(pkcs8: Buffer, passphrase: string, kdf: { iterations: number; saltBytes: number } = KEY_KDF): Buffer {
  const salt = crypto.randomBytes(kdf.saltBytes);
  const iv = crypto.randomBytes(16);
  const key = crypto.pbkdf2Sync(Buffer.from(passphrase, "utf8"), salt, kdf.iterations, 32, "sha256");
  const c = crypto.createCipheriv("aes-256-cbc", key, iv);
  const encrypted = Buffer.concat([c.update(pkcs8), c.final()]);
  key.fill(0);
  const intOf = (n: number) => {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(n);
    return der.uint(b);
  };
  const params = der.seq(
    der.seq(der.oid(PBES2_OID.pbkdf2), der.seq(der.octets(salt), intOf(kdf.iterations), der.seq(der.oid(PBES2_OID.hmacWithSHA256), der.nul()))),
    der.seq(der.oid(PBES2_OID.aes256Cbc), der.octets(iv)),
  );
  return der.seq(der.seq(der.oid(PBES2_OID.pbes2), params), der.octets(encrypted));
}

/** The one PKCS#8 writer for a KeyObject: unencrypted, or PBES2 (encryptPkcs8, KEY_KDF) with a passphrase. */
export function privateKeyPem(key: crypto.KeyObject, passphrase?: string): string {
  if (passphrase === undefined) return key.export({ type: "pkcs8", format: "pem" }) as string;
  const plain = key.export({ type: "pkcs8", format: "der" });
  try {
    return toPem("ENCRYPTED PRIVATE KEY", encryptPkcs8(plain, passphrase));
  } finally {
    plain.fill(0);
  }
}

export function isEncryptedKeyPem(pem: string): boolean {
  return pem.includes("-----BEGIN ENCRYPTED PRIVATE KEY-----");
}

/**
 * Refuses a key file that its group or others can read or write (like ssh): the fix goes in the
 * one-line error. A file that cannot be stat'ed is left to the reader to report.
 */
export function checkKeyFileMode(file: string): void {
  if (process.platform === "win32") return;
  let mode: number;
  try {
    mode = fs.statSync(file).mode & 0o777;
  } catch {
    return;
  }
  if (mode & 0o077) throw inputError(`permissions ${mode.toString(8).padStart(4, "0")} are too open (chmod 600 ${file})`, file);
}

/**
 * Reads a private key PEM (PKCS#8, encrypted or not; PKCS#1 and SEC1 too).
 * Errors name the file and say what is wrong, without echoing any secret.
 */
export function loadPrivateKey(pem: string, file: string, passphrase?: string): crypto.KeyObject {
  if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(pem)) throw inputError("not a PEM private key", file);
  const encrypted = isEncryptedKeyPem(pem) || /Proc-Type: 4,ENCRYPTED/.test(pem);
  if (encrypted && passphrase === undefined) throw inputError("the key is encrypted and no passphrase was given", file);
  try {
    return crypto.createPrivateKey(encrypted ? { key: pem, format: "pem", passphrase } : { key: pem, format: "pem" });
  } catch (e) {
    const msg = String((e as Error).message);
    if (encrypted && /bad decrypt|decrypt|passphrase|unsupported/i.test(msg)) throw inputError("wrong passphrase, or the encrypted key is corrupted", file);
    throw inputError("the private key cannot be read (corrupted or not a key)", file);
  }
}
