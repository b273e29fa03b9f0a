/**
 * PKCS#12 files (RFC 7292): writing a key store (key, certificate and CA chain), a Java trust store
 * (trustedCertEntry bags), and reading any of them back, including those made by openssl, keytool
 * and pk12util.
 *
 * The ASN.1 structures are pkijs 3 / asn1js objects (used synchronously: only their schemas and
 * encoders); every cryptographic step is node:crypto (./p12-crypto). pkijs (and asn1js under it, about
 * 30 ms) is loaded on the first call that needs it (lib()), so importing this module costs nothing:
 * its importers (the CLI's export verb and password hook, the verifier's input reader) import it
 * statically, and only the PKCS#12 code path pays for pkijs.
 *
 * Variants written:
 *  - default: PBES2 (PBKDF2-HMAC-SHA-256, AES-256-CBC) for the key bag and the certificates, and a
 *    SHA-256 MAC;
 *  - legacy: pbeWithSHAAnd3-KeyTripleDES-CBC for both and a SHA-1 MAC, for importers that predate
 *    PBES2 (older macOS Keychain, Windows Server 2016, Java 8 before 8u301 and early Java 11).
 */
import * as crypto from "node:crypto";
import type * as Asn1js from "asn1js";
import type * as Pkijs from "pkijs";
import { ExitCode, inputError, MtlsError } from "../errors";
import { parseCertificate, ParsedCertificate } from "../pki/cert";
import {
  AES256_CBC_OID,
  DIGEST_BY_OID,
  DIGEST_OID,
  P12_OID,
  P12CryptoError,
  PRF_BY_OID,
  PRF_OID,
  Pbes2Params,
  pbes2,
  pfxMac,
  pkcs12Pbe,
  unsupportedPbe,
} from "./p12-crypto";

/** The environment variable the CLI reads a PKCS#12 password from (design.md, Secrets); named here for its messages. */
export const P12_ENV = "MTLSCTL_P12_PASSWORD";

/**
 * Iteration counts of the modern profile. The bags (the key, and the certificates' safe) use PBKDF2-HMAC-SHA-256
 * at 600,000 iterations with a 16-byte salt, as the CA key at rest does (issue 21: every encrypted key mtlsctl
 * writes). The MAC has to be the PKCS#12 KDF (RFC 7292 B.2) for OpenSSL 3.0, Java 17 and NSS 3.87 to read the
 * file (PBMAC1, RFC 9579, came with OpenSSL 3.4); Node has no native PKCS#12 KDF, so it runs in JS at ~4 us an
 * iteration, and 100,000 (~0.4 s on write and on read) is what it costs. It stays the cheapest guess test.
 */
export const MODERN = { pbkdf2Iterations: 600_000, macIterations: 100_000, saltLength: 16 } as const;
/** What the old importers are known to take (OpenSSL's own defaults): 2048 everywhere. */
export const LEGACY = { iterations: 2048, saltLength: 8 } as const;

export interface P12WriteOptions {
  password: string;
  legacy?: boolean;
}

export function describeVariant(legacy: boolean): string {
  return legacy
    ? `legacy: pbeWithSHAAnd3-KeyTripleDES-CBC (${LEGACY.iterations} iterations), SHA-1 MAC`
    : `PBES2 AES-256-CBC with PBKDF2-HMAC-SHA-256 (${MODERN.pbkdf2Iterations} iterations), SHA-256 MAC (${MODERN.macIterations} iterations)`;
}

let libs: { asn1js: typeof Asn1js; pkijs: typeof Pkijs } | undefined;
/** asn1js and pkijs, loaded on first use (each function that builds or tests their objects starts here). */
function lib(): { asn1js: typeof Asn1js; pkijs: typeof Pkijs } {
  return (libs ??= { asn1js: require("asn1js") as typeof Asn1js, pkijs: require("pkijs") as typeof Pkijs });
}

const ab = (b: Buffer): ArrayBuffer => b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
const toBuf = (x: { toBER(sizeOnly?: boolean): ArrayBuffer }): Buffer => Buffer.from(x.toBER(false));
const octets = (b: Buffer): Asn1js.OctetString => new (lib().asn1js.OctetString)({ valueHex: ab(b) });

// ---------------------------------------------------------------- encryption of bags and safes

interface Encrypted {
  algorithm: Pkijs.AlgorithmIdentifier;
  data: Buffer;
}

function encrypt(plain: Buffer, o: P12WriteOptions): Encrypted {
  const { asn1js, pkijs } = lib();
  if (o.legacy) {
    const salt = crypto.randomBytes(LEGACY.saltLength);
    const data = pkcs12Pbe(false, P12_OID.pbeSha1TripleDes, o.password, salt, LEGACY.iterations, plain);
    const params = new asn1js.Sequence({ value: [octets(salt), new asn1js.Integer({ value: LEGACY.iterations })] });
    return { algorithm: new pkijs.AlgorithmIdentifier({ algorithmId: P12_OID.pbeSha1TripleDes, algorithmParams: params }), data };
  }
  const p: Pbes2Params = { salt: crypto.randomBytes(MODERN.saltLength), iterations: MODERN.pbkdf2Iterations, prf: "sha256", cipherOid: AES256_CBC_OID, iv: crypto.randomBytes(16) };
  const data = pbes2(false, p, o.password, plain);
  const kdf = new pkijs.PBKDF2Params({
    salt: octets(p.salt),
    iterationCount: p.iterations,
    prf: new pkijs.AlgorithmIdentifier({ algorithmId: PRF_OID.sha256, algorithmParams: new asn1js.Null() }),
  });
  const params = new pkijs.PBES2Params({
    keyDerivationFunc: new pkijs.AlgorithmIdentifier({ algorithmId: P12_OID.pbkdf2, algorithmParams: kdf.toSchema() }),
    encryptionScheme: new pkijs.AlgorithmIdentifier({ algorithmId: AES256_CBC_OID, algorithmParams: octets(p.iv) }),
  });
  return { algorithm: new pkijs.AlgorithmIdentifier({ algorithmId: P12_OID.pbes2, algorithmParams: params.toSchema() }), data };
}

/** An AlgorithmIdentifier's parameters as plain values, for decryption. */
function decrypt(alg: Pkijs.AlgorithmIdentifier, password: string | null, data: Buffer): Buffer {
  const { asn1js, pkijs } = lib();
  const oid = alg.algorithmId;
  if (oid === P12_OID.pbes2) {
    const params = new pkijs.PBES2Params({ schema: alg.algorithmParams });
    const kdf = params.keyDerivationFunc;
    if (kdf.algorithmId !== P12_OID.pbkdf2) throw new P12CryptoError(`unsupported PBES2 key derivation ${kdf.algorithmId}`, "unsupported");
    const kp = new pkijs.PBKDF2Params({ schema: kdf.algorithmParams });
    if (!(kp.salt instanceof asn1js.OctetString)) throw new P12CryptoError("unsupported PBKDF2 salt source", "unsupported");
    const prfOid = kp.prf?.algorithmId ?? PRF_OID.sha1;
    const prf = PRF_BY_OID[prfOid];
    if (!prf) throw new P12CryptoError(`unsupported PBKDF2 PRF ${prfOid}`, "unsupported");
    const scheme = params.encryptionScheme;
    if (!(scheme.algorithmParams instanceof asn1js.OctetString)) throw new P12CryptoError("PBES2 cipher without an IV", "malformed");
    return pbes2(
      true,
      { salt: Buffer.from(kp.salt.valueBlock.valueHexView), iterations: kp.iterationCount, prf, keyLength: kp.keyLength, cipherOid: scheme.algorithmId, iv: Buffer.from(scheme.algorithmParams.valueBlock.valueHexView) },
      password,
      data,
    );
  }
  if (oid.startsWith("1.2.840.113549.1.12.1.")) {
    const p = alg.algorithmParams;
    const items = p instanceof asn1js.Sequence ? p.valueBlock.value : [];
    const [salt, iter] = items;
    if (!(salt instanceof asn1js.OctetString) || !(iter instanceof asn1js.Integer)) throw new P12CryptoError("malformed PKCS#12 PBE parameters", "malformed");
    return pkcs12Pbe(true, oid, password, Buffer.from(salt.valueBlock.valueHexView), iter.valueBlock.valueDec, data);
  }
  throw unsupportedPbe(oid);
}

// ---------------------------------------------------------------- writing

function bmpAttr(type: string, value: string): Pkijs.Attribute {
  const { asn1js, pkijs } = lib();
  return new pkijs.Attribute({ type, values: [new asn1js.BmpString({ value })] });
}

function certBag(der: Buffer, attributes?: Pkijs.Attribute[]): Pkijs.SafeBag {
  const { pkijs } = lib();
  const bag = new pkijs.CertBag({ certId: P12_OID.x509Certificate, certValue: octets(der) });
  // bagAttributes must be absent (not an empty SET) when there are none: openssl shows "<Empty Attributes>" otherwise
  return attributes ? new pkijs.SafeBag({ bagId: P12_OID.certBag, bagValue: bag, bagAttributes: attributes }) : new pkijs.SafeBag({ bagId: P12_OID.certBag, bagValue: bag });
}

/** An encrypted SafeContents (certificates) as an encryptedData ContentInfo. */
function encryptedSafe(bags: Pkijs.SafeBag[], o: P12WriteOptions): Pkijs.ContentInfo {
  const { pkijs } = lib();
  const enc = encrypt(toBuf(new pkijs.SafeContents({ safeBags: bags }).toSchema()), o);
  const ed = new pkijs.EncryptedData({
    version: 0,
    encryptedContentInfo: new pkijs.EncryptedContentInfo({
      contentType: P12_OID.data,
      contentEncryptionAlgorithm: enc.algorithm,
      encryptedContent: octets(enc.data),
      disableSplit: true, // one primitive OCTET STRING: DER, not BER chunks
    }),
  });
  return new pkijs.ContentInfo({ contentType: P12_OID.encryptedData, content: ed.toSchema() });
}

function dataSafe(bags: Pkijs.SafeBag[]): Pkijs.ContentInfo {
  const { pkijs } = lib();
  return new pkijs.ContentInfo({ contentType: P12_OID.data, content: octets(toBuf(new pkijs.SafeContents({ safeBags: bags }).toSchema())) });
}

/** The PFX around the safes, with its MAC. */
function pfx(safes: Pkijs.ContentInfo[], o: P12WriteOptions): Buffer {
  const { asn1js, pkijs } = lib();
  const authSafe = toBuf(new pkijs.AuthenticatedSafe({ safeContents: safes }).toSchema());
  const hash = o.legacy ? "sha1" : "sha256";
  const iterations = o.legacy ? LEGACY.iterations : MODERN.macIterations;
  const salt = crypto.randomBytes(o.legacy ? LEGACY.saltLength : MODERN.saltLength);
  const mac = pfxMac(hash, o.password, salt, iterations, authSafe);
  const p = new pkijs.PFX({
    version: 3,
    authSafe: new pkijs.ContentInfo({ contentType: P12_OID.data, content: octets(authSafe) }),
    macData: new pkijs.MacData({
      mac: new pkijs.DigestInfo({
        digestAlgorithm: new pkijs.AlgorithmIdentifier({ algorithmId: o.legacy ? DIGEST_OID.sha1 : DIGEST_OID.sha256, algorithmParams: new asn1js.Null() }),
        digest: octets(mac),
      }),
      macSalt: octets(salt),
      iterations,
    }),
  });
  return toBuf(p.toSchema());
}

/**
 * A key store: the private key in a shrouded key bag, its certificate and the CA chain. The key bag
 * and the certificate carry the friendlyName (Java's alias) and localKeyId (SHA-1 of the
 * certificate, as OpenSSL writes it); the chain's bags carry nothing.
 */
export function buildKeyStore(o: P12WriteOptions & { keyPkcs8: Buffer; certDer: Buffer; chainDer: Buffer[]; friendlyName: string }): Buffer {
  const { pkijs } = lib();
  const localKeyId = crypto.createHash("sha1").update(o.certDer).digest();
  const attrs = () => [bmpAttr(P12_OID.friendlyName, o.friendlyName), new pkijs.Attribute({ type: P12_OID.localKeyId, values: [octets(localKeyId)] })];
  const enc = encrypt(o.keyPkcs8, o);
  const keyBag = new pkijs.SafeBag({
    bagId: P12_OID.shroudedKeyBag,
    bagValue: new pkijs.PKCS8ShroudedKeyBag({ encryptionAlgorithm: enc.algorithm, encryptedData: octets(enc.data) }),
    bagAttributes: attrs(),
  });
  const certs = [certBag(o.certDer, attrs()), ...o.chainDer.map((d) => certBag(d))];
  // the order OpenSSL and Java write: the encrypted certificates first, then the key
  return pfx([encryptedSafe(certs, o), dataSafe([keyBag])], o);
}

/**
 * A trust store: certificate bags that Java's PKCS12 KeyStore loads as trustedCertEntry, because
 * each carries Oracle's trusted-key-usage attribute (here anyExtendedKeyUsage), as keytool writes them.
 */
export function buildTrustStore(o: P12WriteOptions & { certs: { der: Buffer; friendlyName: string }[] }): Buffer {
  const { asn1js, pkijs } = lib();
  const bags = o.certs.map((c) =>
    certBag(c.der, [bmpAttr(P12_OID.friendlyName, c.friendlyName), new pkijs.Attribute({ type: P12_OID.oracleTrustedKeyUsage, values: [new asn1js.ObjectIdentifier({ value: P12_OID.anyExtendedKeyUsage })] })]),
  );
  return pfx([encryptedSafe(bags, o)], o);
}

// ---------------------------------------------------------------- reading

export interface P12Bag {
  friendlyName?: string;
  localKeyId?: Buffer;
}
export interface P12Contents {
  /** PKCS#8 DER of each private key. */
  keys: (P12Bag & { pkcs8: Buffer })[];
  certs: (P12Bag & { der: Buffer; trusted: string[] })[];
  /** The MAC's digest and iterations; null when the file has no MAC. */
  mac: { hash: string; iterations: number } | null;
  /** The encryption algorithms found (OIDs; PBES2 as "pbes2:<cipher oid>"). */
  encryption: string[];
}

function attrsOf(bag: Pkijs.SafeBag): { friendlyName?: string; localKeyId?: Buffer; trusted: string[] } {
  const { asn1js } = lib();
  const out: { friendlyName?: string; localKeyId?: Buffer; trusted: string[] } = { trusted: [] };
  for (const a of bag.bagAttributes ?? []) {
    const v = a.values[0];
    if (a.type === P12_OID.friendlyName && v instanceof asn1js.BmpString) out.friendlyName = v.valueBlock.value;
    else if (a.type === P12_OID.localKeyId && v instanceof asn1js.OctetString) out.localKeyId = Buffer.from(v.valueBlock.valueHexView);
    else if (a.type === P12_OID.oracleTrustedKeyUsage) for (const x of a.values) if (x instanceof asn1js.ObjectIdentifier) out.trusted.push(x.valueBlock.toString());
  }
  return out;
}

/** The bytes of an OCTET STRING, also when BER splits it into pieces or it comes IMPLICIT-tagged. */
function octetValue(x: unknown): Buffer {
  const { asn1js } = lib();
  if (x instanceof asn1js.OctetString) return Buffer.from(x.getValue());
  if (x instanceof asn1js.Constructed) return Buffer.concat(x.valueBlock.value.map(octetValue));
  if (x instanceof asn1js.Primitive) return Buffer.from(x.valueBlock.valueHexView);
  throw new P12CryptoError("expected an OCTET STRING", "malformed");
}

/** Does the MAC verify with this password? Tries the absent password too when it is empty. */
function macPassword(p: Pkijs.PFX, content: Buffer, password: string): { ok: boolean; use: string | null; hash: string; iterations: number } {
  const md = p.macData!;
  const hash = DIGEST_BY_OID[md.mac.digestAlgorithm.algorithmId];
  if (!hash) {
    const what = md.mac.digestAlgorithm.algorithmId === P12_OID.pbmac1 ? "PBMAC1 (RFC 9579)" : md.mac.digestAlgorithm.algorithmId;
    throw new P12CryptoError(`its MAC algorithm ${what} is not supported`, "unsupported");
  }
  const salt = Buffer.from(md.macSalt.valueBlock.valueHexView);
  const iterations = md.iterations ?? 1;
  const expected = Buffer.from(md.mac.digest.valueBlock.valueHexView);
  for (const pw of password === "" ? ["", null] : [password]) {
    const got = pfxMac(hash, pw, salt, iterations, content);
    if (got.length === expected.length && crypto.timingSafeEqual(got, expected)) return { ok: true, use: pw, hash, iterations };
  }
  return { ok: false, use: password, hash, iterations };
}

/** Whether `password` opens the file (its MAC verifies); files without a MAC count as opened. */
export function passwordOpens(data: Buffer, password: string): boolean {
  const { pkijs } = lib();
  try {
    const p = pkijs.PFX.fromBER(ab(data));
    if (!p.macData) return true;
    return macPassword(p, octetValue(p.authSafe.content), password).ok;
  } catch {
    return false;
  }
}

/** Reads a PKCS#12 file: checks its MAC, decrypts every part, returns keys and certificates. */
export function readPkcs12(data: Buffer, password: string, file: string): P12Contents {
  try {
    return readInner(data, password);
  } catch (e) {
    if (e instanceof P12CryptoError) {
      if (e.kind === "password") throw inputError(`wrong PKCS#12 password (${e.message})`, file);
      throw inputError(`cannot read this PKCS#12 file: ${e.message}`, file);
    }
    if ((e as { exitCode?: number }).exitCode) throw e;
    throw inputError(`not a valid PKCS#12 file (${String((e as Error).message ?? e).split("\n")[0]})`, file);
  }
}

function readInner(data: Buffer, password: string): P12Contents {
  const { pkijs } = lib();
  const p = pkijs.PFX.fromBER(ab(data));
  if (p.version !== 3) throw new P12CryptoError(`PFX version ${p.version}, expected 3`, "malformed");
  if (p.authSafe.contentType !== P12_OID.data) {
    const what = p.authSafe.contentType === P12_OID.signedData ? "public-key integrity mode (signedData)" : `content type ${p.authSafe.contentType}`;
    throw new P12CryptoError(`${what} is not supported`, "unsupported");
  }
  const content = octetValue(p.authSafe.content);
  let pw: string | null = password;
  let mac: P12Contents["mac"] = null;
  if (p.macData) {
    const m = macPassword(p, content, password);
    if (!m.ok) throw new P12CryptoError("the file's MAC does not verify", "password");
    pw = m.use;
    mac = { hash: m.hash, iterations: m.iterations };
  }
  const out: P12Contents = { keys: [], certs: [], mac, encryption: [] };
  const note = (alg: Pkijs.AlgorithmIdentifier) => {
    let name = alg.algorithmId;
    if (name === P12_OID.pbes2) name = "pbes2:" + new pkijs.PBES2Params({ schema: alg.algorithmParams }).encryptionScheme.algorithmId;
    if (!out.encryption.includes(name)) out.encryption.push(name);
  };
  const authSafe = pkijs.AuthenticatedSafe.fromBER(ab(content));
  for (const ci of authSafe.safeContents) {
    let safeDer: Buffer;
    if (ci.contentType === P12_OID.data) safeDer = octetValue(ci.content);
    else if (ci.contentType === P12_OID.encryptedData) {
      const ed = new pkijs.EncryptedData({ schema: ci.content });
      const eci = ed.encryptedContentInfo;
      if (!eci.encryptedContent) throw new P12CryptoError("encrypted content is missing", "malformed");
      note(eci.contentEncryptionAlgorithm);
      safeDer = decrypt(eci.contentEncryptionAlgorithm, pw, octetValue(eci.encryptedContent));
    } else if (ci.contentType === P12_OID.envelopedData) throw new P12CryptoError("public-key privacy mode (envelopedData) is not supported", "unsupported");
    else throw new P12CryptoError(`unknown safe content type ${ci.contentType}`, "malformed");
    let safe: Pkijs.SafeContents;
    try {
      safe = pkijs.SafeContents.fromBER(ab(safeDer));
    } catch (e) {
      // a decryption that passed the padding check by chance with a wrong password (files without a MAC)
      if (ci.contentType === P12_OID.encryptedData && !p.macData) throw new P12CryptoError("or a damaged file: decryption failed", "password");
      throw e;
    }
    for (const bag of safe.safeBags) {
      const a = attrsOf(bag);
      const meta: P12Bag = { ...(a.friendlyName !== undefined ? { friendlyName: a.friendlyName } : {}), ...(a.localKeyId ? { localKeyId: a.localKeyId } : {}) };
      if (bag.bagId === P12_OID.keyBag) out.keys.push({ ...meta, pkcs8: toBuf((bag.bagValue as Pkijs.PrivateKeyInfo).toSchema()) });
      else if (bag.bagId === P12_OID.shroudedKeyBag) {
        const sk = bag.bagValue as Pkijs.PKCS8ShroudedKeyBag;
        note(sk.encryptionAlgorithm);
        out.keys.push({ ...meta, pkcs8: decrypt(sk.encryptionAlgorithm, pw, octetValue(sk.encryptedData)) });
      } else if (bag.bagId === P12_OID.certBag) {
        const cb = bag.bagValue as Pkijs.CertBag;
        if (cb.certId !== P12_OID.x509Certificate) continue;
        out.certs.push({ ...meta, der: octetValue(cb.certValue), trusted: a.trusted });
      }
      // CRL, secret and nested safe-contents bags are not needed here
    }
  }
  return out;
}

/** The error for a file that needs a password and was given none (the CLI's words: it settles the password). */
export function p12PasswordNeeded(file: string): MtlsError {
  return new MtlsError(`the PKCS#12 password is needed: give --p12-password-file F or set ${P12_ENV} (no terminal to ask on)`, { file, exitCode: ExitCode.USAGE });
}

/**
 * The certificates of a PKCS#12 file as a client presents them: the certificate of the (first)
 * private key first, then the others in file order. For explain and verify. `password` is the
 * caller's (a parameter, never read here from a terminal or the environment); without one, only a
 * file made with the empty password opens.
 */
export function readPkcs12Certificates(data: Buffer, file: string, password?: string): ParsedCertificate[] {
  if (password === undefined) {
    if (!passwordOpens(data, "")) throw p12PasswordNeeded(file);
    password = "";
  }
  const c = readPkcs12(data, password, file);
  if (c.certs.length === 0) throw inputError("the PKCS#12 file holds no certificate", file);
  const certs = c.certs.map((x) => parseCertificate(x.der, file));
  let leaf = -1;
  const key = c.keys[0];
  if (key) {
    try {
      const spki = crypto.createPublicKey(crypto.createPrivateKey({ key: key.pkcs8, format: "der", type: "pkcs8" })).export({ type: "spki", format: "der" });
      leaf = certs.findIndex((x) => x.spki.equals(spki));
    } catch {
      /* a key Node cannot load: fall back to localKeyId */
    }
    if (leaf < 0 && key.localKeyId) leaf = c.certs.findIndex((x) => x.localKeyId?.equals(key.localKeyId!));
  }
  if (leaf < 0) leaf = Math.max(0, certs.findIndex((x) => !x.basicConstraints?.ca));
  return [certs[leaf], ...certs.filter((_, i) => i !== leaf)];
}
