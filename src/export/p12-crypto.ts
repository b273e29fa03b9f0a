/**
 * The cryptography of PKCS#12 (RFC 7292), all with node:crypto (native OpenSSL), synchronously:
 *  - PBES2 with PBKDF2-HMAC-SHA-x and AES-CBC (or 3DES-CBC) for the modern bags;
 *  - the PKCS#12 key-derivation function of RFC 7292 appendix B, for the legacy
 *    pbeWithSHAAnd3-KeyTripleDES-CBC bags and for the MAC over the whole file.
 * No ASN.1 here: callers pass and receive plain values.
 */
import * as crypto from "node:crypto";

export const P12_OID = {
  data: "1.2.840.113549.1.7.1",
  signedData: "1.2.840.113549.1.7.2",
  envelopedData: "1.2.840.113549.1.7.3",
  encryptedData: "1.2.840.113549.1.7.6",
  keyBag: "1.2.840.113549.1.12.10.1.1",
  shroudedKeyBag: "1.2.840.113549.1.12.10.1.2",
  certBag: "1.2.840.113549.1.12.10.1.3",
  x509Certificate: "1.2.840.113549.1.9.22.1",
  friendlyName: "1.2.840.113549.1.9.20",
  localKeyId: "1.2.840.113549.1.9.21",
  /** Oracle's "trusted key usage" bag attribute: Java reads a certificate bag carrying it as a trustedCertEntry. */
  oracleTrustedKeyUsage: "2.16.840.1.113894.746875.1.1",
  anyExtendedKeyUsage: "2.5.29.37.0",
  pbes2: "1.2.840.113549.1.5.13",
  pbkdf2: "1.2.840.113549.1.5.12",
  pbmac1: "1.2.840.113549.1.5.14",
  pbeSha1Rc4_128: "1.2.840.113549.1.12.1.1",
  pbeSha1Rc4_40: "1.2.840.113549.1.12.1.2",
  pbeSha1TripleDes: "1.2.840.113549.1.12.1.3",
  pbeSha1TwoKeyTripleDes: "1.2.840.113549.1.12.1.4",
  pbeSha1Rc2_128: "1.2.840.113549.1.12.1.5",
  pbeSha1Rc2_40: "1.2.840.113549.1.12.1.6",
} as const;

/** HMAC PRFs of PBKDF2 and the digests of the MAC: OID -> node:crypto name. */
export const PRF_BY_OID: Record<string, string> = {
  "1.2.840.113549.2.7": "sha1",
  "1.2.840.113549.2.8": "sha224",
  "1.2.840.113549.2.9": "sha256",
  "1.2.840.113549.2.10": "sha384",
  "1.2.840.113549.2.11": "sha512",
};
export const PRF_OID = { sha1: "1.2.840.113549.2.7", sha256: "1.2.840.113549.2.9" } as const;

export const DIGEST_BY_OID: Record<string, string> = {
  "1.3.14.3.2.26": "sha1",
  "2.16.840.1.101.3.4.2.4": "sha224",
  "2.16.840.1.101.3.4.2.1": "sha256",
  "2.16.840.1.101.3.4.2.2": "sha384",
  "2.16.840.1.101.3.4.2.3": "sha512",
};
export const DIGEST_OID = { sha1: "1.3.14.3.2.26", sha256: "2.16.840.1.101.3.4.2.1" } as const;

/** PBES2 encryption schemes: OID -> node:crypto cipher and key length. */
export const PBES2_CIPHERS: Record<string, { cipher: string; keyLength: number }> = {
  "2.16.840.1.101.3.4.1.2": { cipher: "aes-128-cbc", keyLength: 16 },
  "2.16.840.1.101.3.4.1.22": { cipher: "aes-192-cbc", keyLength: 24 },
  "2.16.840.1.101.3.4.1.42": { cipher: "aes-256-cbc", keyLength: 32 },
  "1.2.840.113549.3.7": { cipher: "des-ede3-cbc", keyLength: 24 },
};
export const AES256_CBC_OID = "2.16.840.1.101.3.4.1.42";

/** The ceilings past which an iteration count in a file read is refused (a file is not a CPU sink). */
export const MAX_PBKDF2_ITERATIONS = 10_000_000;
export const MAX_PKCS12_KDF_ITERATIONS = 5_000_000;

/**
 * The password as the PKCS#12 KDF wants it: BMPString (UTF-16 big-endian) with two zero bytes at
 * the end. `null` is the absent password (no bytes at all), which some writers use for "".
 */
export function bmpPassword(password: string | null): Buffer {
  if (password === null) return Buffer.alloc(0);
  return Buffer.concat([Buffer.from(password, "utf16le").swap16(), Buffer.alloc(2)]);
}

const BLOCK_SIZE: Record<string, number> = { sha1: 64, sha224: 64, sha256: 64, sha384: 128, sha512: 128 };

/**
 * RFC 7292 appendix B.2: derives `n` bytes of purpose `id` (1 key, 2 IV, 3 MAC key) from the
 * password (already BMP-encoded), salt and iteration count, with `hash`.
 */
export function pkcs12Kdf(bmpPass: Buffer, salt: Buffer, iterations: number, id: 1 | 2 | 3, n: number, hash = "sha1"): Buffer {
  const v = BLOCK_SIZE[hash];
  if (!v) throw new Error(`PKCS#12 KDF: unsupported hash ${hash}`);
  const fill = (s: Buffer): Buffer => {
    const out = Buffer.alloc(s.length === 0 ? 0 : v * Math.ceil(s.length / v));
    for (let i = 0; i < out.length; i++) out[i] = s[i % s.length];
    return out;
  };
  const I = Buffer.concat([fill(salt), fill(bmpPass)]);
  const D = Buffer.alloc(v, id);
  const out: Buffer[] = [];
  let got = 0;
  for (;;) {
    let A = crypto.createHash(hash).update(D).update(I).digest();
    for (let j = 1; j < iterations; j++) A = crypto.hash(hash, A, "buffer");
    out.push(A);
    got += A.length;
    if (got >= n) break;
    // I_j = (I_j + B + 1) mod 2^(8v) for each v-byte block of I, with B = A repeated to v bytes
    const B = Buffer.alloc(v);
    for (let i = 0; i < v; i++) B[i] = A[i % A.length];
    for (let j = 0; j < I.length; j += v) {
      let carry = 1;
      for (let k = v - 1; k >= 0; k--) {
        const s = I[j + k] + B[k] + carry;
        I[j + k] = s & 0xff;
        carry = s >> 8;
      }
    }
  }
  return Buffer.concat(out).subarray(0, n);
}

/** The legacy PKCS#12 PBE ciphers that node:crypto can run. */
const PKCS12_PBE: Record<string, { cipher: string; keyLength: number; ivLength: number }> = {
  [P12_OID.pbeSha1TripleDes]: { cipher: "des-ede3-cbc", keyLength: 24, ivLength: 8 },
  [P12_OID.pbeSha1TwoKeyTripleDes]: { cipher: "des-ede-cbc", keyLength: 16, ivLength: 8 },
};

export class P12CryptoError extends Error {
  /** "password": decryption failed (wrong password or damaged data); "unsupported": cannot be read here. */
  constructor(
    message: string,
    readonly kind: "password" | "unsupported" | "malformed",
  ) {
    super(message);
  }
}

function runCipher(decrypt: boolean, cipher: string, key: Buffer, iv: Buffer, data: Buffer): Buffer {
  try {
    const c = decrypt ? crypto.createDecipheriv(cipher, key, iv) : crypto.createCipheriv(cipher, key, iv);
    return Buffer.concat([c.update(data), c.final()]);
  } catch (e) {
    if (decrypt) throw new P12CryptoError("or a damaged file: decryption failed", "password");
    throw e;
  }
}

/** pbeWithSHAAnd3-KeyTripleDES-CBC (and the 2-key variant): encrypt or decrypt. */
export function pkcs12Pbe(decrypt: boolean, algOid: string, password: string | null, salt: Buffer, iterations: number, data: Buffer): Buffer {
  const p = PKCS12_PBE[algOid];
  if (!p) throw unsupportedPbe(algOid);
  if (iterations < 1 || iterations > MAX_PKCS12_KDF_ITERATIONS) throw new P12CryptoError(`an iteration count of ${iterations} is out of range`, "unsupported");
  const pw = bmpPassword(password);
  const key = pkcs12Kdf(pw, salt, iterations, 1, p.keyLength);
  const iv = pkcs12Kdf(pw, salt, iterations, 2, p.ivLength);
  return runCipher(decrypt, p.cipher, key, iv, data);
}

export function unsupportedPbe(algOid: string): P12CryptoError {
  if (algOid === P12_OID.pbeSha1Rc2_40 || algOid === P12_OID.pbeSha1Rc2_128)
    return new P12CryptoError("it is encrypted with RC2 (openssl pkcs12 -export -legacy), which cannot be read here: re-export it without -legacy", "unsupported");
  if (algOid === P12_OID.pbeSha1Rc4_40 || algOid === P12_OID.pbeSha1Rc4_128) return new P12CryptoError("it is encrypted with RC4, which cannot be read here: re-export it with AES", "unsupported");
  return new P12CryptoError(`unsupported encryption algorithm ${algOid}`, "unsupported");
}

export interface Pbes2Params {
  salt: Buffer;
  iterations: number;
  /** node:crypto hash name of the HMAC PRF */
  prf: string;
  keyLength?: number;
  cipherOid: string;
  iv: Buffer;
}

/** PBES2 with PBKDF2 (RFC 8018): the password is used as its UTF-8 bytes, as OpenSSL, Java and NSS do. */
export function pbes2(decrypt: boolean, p: Pbes2Params, password: string | null, data: Buffer): Buffer {
  const c = PBES2_CIPHERS[p.cipherOid];
  if (!c) throw new P12CryptoError(`unsupported PBES2 cipher ${p.cipherOid}`, "unsupported");
  if (p.keyLength !== undefined && p.keyLength !== c.keyLength) throw new P12CryptoError(`PBES2 key length ${p.keyLength} does not fit ${c.cipher}`, "malformed");
  if (p.iterations < 1 || p.iterations > MAX_PBKDF2_ITERATIONS) throw new P12CryptoError(`an iteration count of ${p.iterations} is out of range`, "unsupported");
  const key = crypto.pbkdf2Sync(Buffer.from(password ?? "", "utf8"), p.salt, p.iterations, c.keyLength, p.prf);
  return runCipher(decrypt, c.cipher, key, p.iv, data);
}

/** The MAC of a PFX (RFC 7292 §5): HMAC over the AuthenticatedSafe bytes, keyed by the PKCS#12 KDF (ID 3). */
export function pfxMac(hash: string, password: string | null, salt: Buffer, iterations: number, content: Buffer): Buffer {
  if (iterations < 1 || iterations > MAX_PKCS12_KDF_ITERATIONS) throw new P12CryptoError(`a MAC iteration count of ${iterations} is out of range`, "unsupported");
  const size = crypto.createHash(hash).digest().length;
  const key = pkcs12Kdf(bmpPassword(password), salt, iterations, 3, size, hash);
  return crypto.createHmac(hash, key).update(content).digest();
}
