/**
 * The seam behind which a CA key lives. Everything that a CA signs (certificates one at a time and
 * in bulk, sub-CAs, CRLs; OCSP responses later) is signed through a Signer, never with the key
 * itself, so that a key held elsewhere (an HSM through PKCS#11, a remote signing service) plugs in
 * by implementing these three members. Today's CA key (PKCS#8 at rest, encrypted with PBES2/AES-256
 * unless --no-encrypt, unlocked into a KeyObject) is the first implementation: keySigner().
 */
import * as crypto from "node:crypto";
import * as der from "../asn1/der";
import { OID } from "../asn1/oids";
import { inputError } from "../errors";

export interface Signer {
  /** The AlgorithmIdentifier (DER) of the signatures it makes, as it goes into a certificate or CRL. */
  readonly algorithm: Buffer;
  /** The SubjectPublicKeyInfo (DER) of its key: the CA certificate's own must be the same. */
  readonly publicKey: Buffer;
  /** Signs the DER of a TBSCertificate, TBSCertList, ... and returns the signature value's bytes. */
  sign(tbs: Buffer): Buffer;
}

/** A Signer over a private key in this process (Node's native, synchronous signing). */
export function keySigner(key: crypto.KeyObject): Signer {
  let hash: string | null;
  let algOid: string;
  let params: Buffer | null = null;
  switch (key.asymmetricKeyType) {
    case "ec": {
      const curve = key.asymmetricKeyDetails?.namedCurve;
      hash = curve === "secp384r1" ? "sha384" : curve === "secp521r1" ? "sha512" : "sha256";
      algOid = hash === "sha384" ? OID.ecdsaWithSHA384 : hash === "sha512" ? OID.ecdsaWithSHA512 : OID.ecdsaWithSHA256;
      break;
    }
    case "rsa":
      hash = "sha256";
      algOid = OID.sha256WithRSA;
      params = der.nul();
      break;
    case "ed25519":
      hash = null;
      algOid = OID.ed25519;
      break;
    default:
      throw inputError(`cannot sign with a ${key.asymmetricKeyType} key`);
  }
  const algorithm = params ? der.seq(der.oid(algOid), params) : der.seq(der.oid(algOid));
  let spki: Buffer | undefined;
  return {
    algorithm,
    get publicKey(): Buffer {
      spki ??= (key.type === "private" ? crypto.createPublicKey(key) : key).export({ type: "spki", format: "der" });
      return spki;
    },
    sign: (data) => crypto.sign(hash, data, key),
  };
}

/** Refuses a signer whose key is not the one in the CA certificate's SubjectPublicKeyInfo. */
export function checkSignerMatches(signer: Signer, caSpki: Buffer, file?: string): void {
  if (!signer.publicKey.equals(caSpki)) throw inputError("the CA key does not match the CA certificate", file);
}
