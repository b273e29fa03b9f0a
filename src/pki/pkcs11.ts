/**
 * A CA key in a PKCS#11 token (an HSM, SoftHSM2) behind the Signer seam (./signer.ts). graphene-pk11
 * (an optional dependency) is required only here, and only when a pkcs11 key is used; its calls are
 * synchronous, as Signer.sign is. The private key never leaves the token (CKA_SENSITIVE true,
 * CKA_EXTRACTABLE false when mtlsctl generates it).
 *
 * ECDSA: SoftHSM2 2.6 refuses CKM_ECDSA_SHA256 (CKR_MECHANISM_INVALID), so the data is hashed here
 * (SHA-256 for P-256, SHA-384 for P-384) and signed with CKM_ECDSA; the token's raw r‖s becomes the
 * DER ECDSA-Sig-Value that X.509 carries. RSA: CKM_SHA256_RSA_PKCS. Ed25519: CKM_EDDSA where the
 * token offers it, else refused.
 */
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as der from "../asn1/der";
import { OID } from "../asn1/oids";
import { inputError } from "../errors";
import type { Signer } from "./signer";
import { parsePkcs11Uri, Pkcs11Uri, redactUri } from "./pkcs11-uri";

type Graphene = typeof import("graphene-pk11");

function graphene(): Graphene {
  try {
    return require("graphene-pk11") as Graphene;
  } catch {
    throw inputError("a PKCS#11 key needs the optional package graphene-pk11 (npm install graphene-pk11 pkcs11js)");
  }
}

const CURVES: Record<string, { oid: string; hash: string; sigOid: string; size: number }> = {
  "ec-p256": { oid: "1.2.840.10045.3.1.7", hash: "sha256", sigOid: OID.ecdsaWithSHA256, size: 32 },
  "ec-p384": { oid: "1.3.132.0.34", hash: "sha384", sigOid: OID.ecdsaWithSHA384, size: 48 },
};

/** An open session on the token the URI names, logged in as the user. */
export interface Pkcs11Session {
  uri: Pkcs11Uri;
  session: import("graphene-pk11").Session;
  close(): void;
}

function pinOf(uri: Pkcs11Uri, pin?: string): string {
  if (uri.pinValue !== undefined) return uri.pinValue;
  if (uri.pinSource === undefined && pin !== undefined) return pin;
  if (uri.pinSource === undefined) throw inputError("the PKCS#11 URI gives no PIN (pin-source=file:/path/to/pin)", redactUri(uri.text));
  try {
    return fs.readFileSync(uri.pinSource, "utf8").split(/\r?\n/)[0]!;
  } catch {
    throw inputError("cannot read the PKCS#11 PIN file", uri.pinSource);
  }
}

const p11message = (e: unknown): string => (e instanceof Error ? e.message.split("\n")[0]! : String(e));

/** Loads the module, finds the token by label, opens a session and logs in. */
export function openPkcs11(text: string | Pkcs11Uri, rw = false, pinGiven?: string): Pkcs11Session {
  const uri = typeof text === "string" ? parsePkcs11Uri(text) : text;
  const shown = redactUri(uri.text);
  const g = graphene();
  if (!fs.existsSync(uri.modulePath)) throw inputError("the PKCS#11 module does not exist", uri.modulePath);
  const pin = pinOf(uri, pinGiven);
  let mod: import("graphene-pk11").Module;
  try {
    mod = g.Module.load(uri.modulePath, "mtlsctl");
    mod.initialize();
  } catch (e) {
    throw inputError(`cannot load the PKCS#11 module: ${p11message(e)}`, uri.modulePath);
  }
  const finalize = () => {
    try {
      mod.finalize();
    } catch {
      /* already gone */
    }
  };
  try {
    const slots = mod.getSlots(true);
    let slot: import("graphene-pk11").Slot | undefined;
    for (let i = 0; i < slots.length; i++) {
      const s = slots.items(i);
      if (s.getToken().label.trim() === uri.token) {
        slot = s;
        break;
      }
    }
    if (!slot) throw inputError(`no PKCS#11 token labelled "${uri.token}" in the module`, shown);
    const session = slot.open(g.SessionFlag.SERIAL_SESSION | (rw ? g.SessionFlag.RW_SESSION : 0));
    try {
      session.login(pin, g.UserType.USER);
    } catch (e) {
      session.close();
      const m = p11message(e);
      throw inputError(/PIN_INCORRECT|PIN_LEN|PIN_INVALID/.test(m) ? `the PKCS#11 PIN is wrong for token "${uri.token}"` : `cannot log in to token "${uri.token}": ${m}`, shown);
    }
    return {
      uri,
      session,
      close: () => {
        try {
          session.logout();
          session.close();
        } catch {
          /* the token may be gone */
        }
        finalize();
      },
    };
  } catch (e) {
    finalize();
    throw e;
  }
}

function rsToDer(raw: Buffer): Buffer {
  const n = raw.length / 2;
  return der.seq(der.uint(raw.subarray(0, n)), der.uint(raw.subarray(n)));
}

function ecSpki(curveOid: string, ecPoint: Buffer): Buffer {
  // CKA_EC_POINT is the DER OCTET STRING of the point (PKCS#11 2.40); some tokens give the bare point
  const point = ecPoint[0] === 0x04 && ecPoint.length > 1 && ecPoint[1] === ecPoint.length - 2 ? ecPoint.subarray(2) : ecPoint;
  return der.seq(der.seq(der.oid(OID.ecPublicKey), der.oid(curveOid)), der.bitString(point));
}

function curveOfParams(params: Buffer): string | undefined {
  const oid = der.readOid(der.parseOne(params));
  return Object.keys(CURVES).find((k) => CURVES[k]!.oid === oid);
}

/** PKCS#11 numbers graphene-pk11 2.3 has no names for (PKCS#11 3.0). */
const CKM_EC_EDWARDS_KEY_PAIR_GEN = 0x1055;
const CKM_EDDSA = 0x1057;
const CKK_EC_EDWARDS = 0x40;
const ED25519_OID = "1.3.101.112";

/** Whether the token's slot offers a mechanism (by number). */
function offers(session: import("graphene-pk11").Session, mech: number): boolean {
  const ms = session.slot.getMechanisms();
  for (let i = 0; i < ms.length; i++) if (ms.items(i).type === mech) return true;
  return false;
}

/** A token-held CA key behind the Signer seam; `uri` is the URI as given, `close` ends the session. */
export type Pkcs11Signer = Signer & { keyType: string; uri: Pkcs11Uri; close(): void };

/**
 * Finds the key pair the URI names (by CKA_LABEL and, when given, CKA_ID) and returns a Signer over it.
 * `pin` is the PIN when the URI gives none (no pin-source, no pin-value).
 */
export function pkcs11Signer(text: string | Pkcs11Uri, o: { pin?: string } = {}): Pkcs11Signer {
  const g = graphene();
  const s = openPkcs11(text, false, o.pin);
  const { uri, session } = s;
  const shown = redactUri(uri.text);
  try {
    const tmpl = (cls: number) => ({ class: cls, label: uri.object, ...(uri.id ? { id: uri.id } : {}) });
    const privs = session.find(tmpl(g.ObjectClass.PRIVATE_KEY));
    if (privs.length === 0) throw inputError(`the token "${uri.token}" has no private key labelled "${uri.object}"`, shown);
    if (privs.length > 1) throw inputError(`the token "${uri.token}" has ${privs.length} private keys labelled "${uri.object}": add id=… to the URI`, shown);
    const priv = privs.items(0).toType<import("graphene-pk11").PrivateKey>();
    const pubs = session.find(tmpl(g.ObjectClass.PUBLIC_KEY));
    if (pubs.length !== 1) throw inputError(`the token "${uri.token}" has no (single) public key labelled "${uri.object}" beside the private key`, shown);
    const pub = pubs.items(0).toType<import("graphene-pk11").PublicKey>();
    const kt = priv.type;
    let publicKey: Buffer, algorithm: Buffer, sign: (tbs: Buffer) => Buffer, keyType: string;
    if (kt === g.KeyType.EC) {
      // CKA_EC_PARAMS and CKA_ECDSA_PARAMS share one number: graphene may name it either way
      const a = pub.getAttribute({ paramsEC: null, pointEC: null }) as { paramsEC?: Buffer; paramsECDSA?: Buffer; pointEC: Buffer };
      const curve = curveOfParams((a.paramsEC ?? a.paramsECDSA)!);
      if (!curve) throw inputError(`the token key "${uri.object}" is on a curve mtlsctl does not sign with (P-256 and P-384 only)`, shown);
      const c = CURVES[curve]!;
      keyType = curve;
      publicKey = ecSpki(c.oid, a.pointEC);
      algorithm = der.seq(der.oid(c.sigOid));
      sign = (tbs) => rsToDer(session.createSign("ECDSA", priv).once(crypto.createHash(c.hash).update(tbs).digest()));
    } else if (kt === g.KeyType.RSA) {
      const a = pub.getAttribute({ modulus: null, publicExponent: null }) as { modulus: Buffer; publicExponent: Buffer };
      const b64 = (b: Buffer) => b.toString("base64url");
      publicKey = crypto.createPublicKey({ key: { kty: "RSA", n: b64(a.modulus), e: b64(a.publicExponent) }, format: "jwk" }).export({ type: "spki", format: "der" });
      keyType = `rsa-${a.modulus.length * 8}`;
      algorithm = der.seq(der.oid(OID.sha256WithRSA), der.nul());
      sign = (tbs) => session.createSign("SHA256_RSA_PKCS", priv).once(tbs);
    } else if ((kt as number) === CKK_EC_EDWARDS) {
      if (!offers(session, CKM_EDDSA)) throw inputError(`the token "${uri.token}" does not offer CKM_EDDSA: it cannot sign with the Ed25519 key "${uri.object}"`, shown);
      const a = pub.getAttribute({ paramsEC: null, pointEC: null }) as { paramsEC?: Buffer; paramsECDSA?: Buffer; pointEC: Buffer };
      // CKA_EC_PARAMS: the curve's OID, or the PrintableString "edwards25519" (PKCS#11 3.0 allows both)
      const params = a.paramsEC ?? a.paramsECDSA ?? Buffer.alloc(0);
      const isOid = params[0] === 0x06;
      const ok = isOid ? der.readOid(der.parseOne(params)) === ED25519_OID : /edwards25519/.test(params.toString("latin1"));
      if (!ok) throw inputError(`the token key "${uri.object}" is an Edwards key on a curve other than Ed25519`, shown);
      const point = a.pointEC.length === 34 && a.pointEC[0] === 0x04 && a.pointEC[1] === 32 ? a.pointEC.subarray(2) : a.pointEC;
      keyType = "ed25519";
      publicKey = der.seq(der.seq(der.oid(OID.ed25519)), der.bitString(point));
      algorithm = der.seq(der.oid(OID.ed25519));
      sign = (tbs) => session.createSign(CKM_EDDSA as never, priv).once(tbs);
    } else {
      throw inputError(`the token key "${uri.object}" is of a type mtlsctl cannot sign with (EC P-256/P-384, RSA, Ed25519)`, shown);
    }
    return {
      keyType,
      uri,
      algorithm,
      publicKey,
      sign: (tbs) => {
        try {
          return sign(tbs);
        } catch (e) {
          throw inputError(`the PKCS#11 token refused to sign: ${p11message(e)}`, shown);
        }
      },
      close: s.close,
    };
  } catch (e) {
    s.close();
    throw e;
  }
}

/**
 * Generates the CA key pair inside the token: CKA_TOKEN true, CKA_SENSITIVE true, CKA_EXTRACTABLE false,
 * CKA_LABEL = the URI's object, CKA_ID = the URI's id or 16 random bytes. Refuses when a key with that
 * label already exists. Ed25519 is refused unless the token offers CKM_EC_EDWARDS_KEY_PAIR_GEN.
 */
export function generatePkcs11Key(text: string | Pkcs11Uri, keyType: string, o: { pin?: string } = {}): Pkcs11Signer {
  const g = graphene();
  const uri = typeof text === "string" ? parsePkcs11Uri(text) : text;
  const shown = redactUri(uri.text);
  const s = openPkcs11(uri, true, o.pin);
  const id = uri.id ?? crypto.randomBytes(16);
  try {
    const { session } = s;
    if (session.find({ class: g.ObjectClass.PRIVATE_KEY, label: uri.object }).length > 0) throw inputError(`the token "${uri.token}" already has a key labelled "${uri.object}" (use ca import --pkcs11 to use it)`, shown);
    const common = { token: true, label: uri.object, id };
    const priv = { ...common, private: true, sign: true, sensitive: true, extractable: false };
    if (CURVES[keyType]) {
      const params = der.oid(CURVES[keyType]!.oid);
      session.generateKeyPair(g.KeyGenMechanism.EC, { ...common, keyType: g.KeyType.EC, verify: true, paramsEC: params }, { ...priv, keyType: g.KeyType.EC });
    } else if (/^rsa-(2048|3072|4096)$/.test(keyType)) {
      session.generateKeyPair(g.KeyGenMechanism.RSA, { ...common, keyType: g.KeyType.RSA, verify: true, modulusBits: Number(keyType.slice(4)), publicExponent: Buffer.from([1, 0, 1]) }, { ...priv, keyType: g.KeyType.RSA });
    } else if (keyType === "ed25519") {
      if (!offers(session, CKM_EC_EDWARDS_KEY_PAIR_GEN) || !offers(session, CKM_EDDSA))
        throw inputError(`the token "${uri.token}" cannot make an Ed25519 key (it offers no CKM_EC_EDWARDS_KEY_PAIR_GEN / CKM_EDDSA): use ec-p256, ec-p384 or rsa-*`, shown);
      const params = der.oid(ED25519_OID);
      session.generateKeyPair(CKM_EC_EDWARDS_KEY_PAIR_GEN as never, { ...common, keyType: CKK_EC_EDWARDS, verify: true, paramsEC: params } as never, { ...priv, keyType: CKK_EC_EDWARDS } as never);
    } else throw inputError(`unknown key type "${keyType}"`, shown);
  } finally {
    s.close();
  }
  return pkcs11Signer({ ...uri, id }, o);
}

/**
 * Removes the key pair the URI names (CKA_LABEL and CKA_ID): `ca init --pkcs11` undoes its key generation
 * when a later step fails, so that a refused command leaves nothing behind in the token either.
 */
export function destroyPkcs11Key(uri: Pkcs11Uri, o: { pin?: string } = {}): void {
  const g = graphene();
  const s = openPkcs11(uri, true, o.pin);
  try {
    for (const cls of [g.ObjectClass.PRIVATE_KEY, g.ObjectClass.PUBLIC_KEY]) {
      const found = s.session.find({ class: cls, label: uri.object, ...(uri.id ? { id: uri.id } : {}) });
      for (let i = 0; i < found.length; i++) found.items(i).destroy();
    }
  } finally {
    s.close();
  }
}
