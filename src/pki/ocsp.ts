/**
 * OCSP (RFC 6960) as a responder needs it: reading an OCSPRequest, building and signing a
 * BasicOCSPResponse (through the Signer seam, so an HSM-held key signs it as it signs certificates),
 * and the unsigned error responses (malformedRequest, unauthorized, ...).
 */
import * as crypto from "node:crypto";
import * as der from "../asn1/der";
import { OID } from "../asn1/oids";
import { inputError } from "../errors";
import { subjectPublicKeyBits } from "./keys";
import type { Signer } from "./signer";
import type { Extension, ParsedCertificate } from "./types";

export const OCSP_OID = {
  basic: "1.3.6.1.5.5.7.48.1.1",
  nonce: "1.3.6.1.5.5.7.48.1.2",
  noCheck: "1.3.6.1.5.5.7.48.1.5",
  ocspSigning: "1.3.6.1.5.5.7.3.9",
  /** AIA access methods. */
  adOcsp: "1.3.6.1.5.5.7.48.1",
  adCaIssuers: "1.3.6.1.5.5.7.48.2",
} as const;

/** OCSPResponseStatus values. */
export const OcspResponseStatus = { successful: 0, malformedRequest: 1, internalError: 2, tryLater: 3, sigRequired: 5, unauthorized: 6 } as const;

/** The hash algorithms a CertID may use (by OID) and Node's names for them. */
const CERTID_HASHES: Record<string, string> = { [OID.sha1]: "sha1", [OID.sha256]: "sha256", [OID.sha384]: "sha384", [OID.sha512]: "sha512" };

export interface CertId {
  /** The CertID's DER, byte for byte as the request sent it (echoed in the response). */
  raw: Buffer;
  /** Node's name of its hash ("sha1", "sha256", ...), or null for a hash we do not know. */
  hash: string | null;
  hashOid: string;
  issuerNameHash: Buffer;
  issuerKeyHash: Buffer;
  /** Lower-case hex without a sign byte, as ParsedCertificate.serialHex and the store spell it. */
  serialHex: string;
}

export interface OcspRequest {
  certIds: CertId[];
  /** The nonce extension's extnValue (the OCTET STRING's content), when the request has one. */
  nonce?: Buffer;
}

const hexOfSerial = (content: Buffer): string => content.toString("hex").replace(/^(00)+(?=[0-9a-f])/, "") || "0";

function readCertId(n: der.Node): CertId {
  const [alg, nameHash, keyHash, serial] = der.children(der.expect(n, der.Tag.SEQUENCE, "CertID"));
  const hashOid = der.readOid(der.children(der.expect(alg, der.Tag.SEQUENCE, "hashAlgorithm"))[0]);
  der.expect(nameHash, der.Tag.OCTET_STRING, "issuerNameHash");
  der.expect(keyHash, der.Tag.OCTET_STRING, "issuerKeyHash");
  der.expect(serial, der.Tag.INTEGER, "serialNumber");
  if (serial.content.length === 0) throw new der.DerError("empty serialNumber");
  return { raw: n.raw, hash: CERTID_HASHES[hashOid] ?? null, hashOid, issuerNameHash: nameHash.content, issuerKeyHash: keyHash.content, serialHex: hexOfSerial(serial.content) };
}

/** Reads an OCSPRequest (DER). A malformed one is an input error ("malformedRequest" for a responder). */
export function parseOcspRequest(input: Buffer): OcspRequest {
  try {
    const top = der.children(der.expect(der.parseOne(input), der.Tag.SEQUENCE, "OCSPRequest"));
    const tbs = der.children(der.expect(top[0], der.Tag.SEQUENCE, "TBSRequest"));
    let i = 0;
    if (tbs[i]?.tag === 0xa0) {
      const v = der.readSmallInt(der.children(tbs[i])[0]);
      if (v !== 0) throw new der.DerError(`unsupported OCSP request version ${v + 1}`);
      i++;
    }
    if (tbs[i]?.tag === 0xa1) i++; // requestorName
    const list = der.children(der.expect(tbs[i++], der.Tag.SEQUENCE, "requestList"));
    if (list.length === 0) throw new der.DerError("empty requestList");
    const certIds = list.map((r) => readCertId(der.children(der.expect(r, der.Tag.SEQUENCE, "Request"))[0]));
    let nonce: Buffer | undefined;
    if (tbs[i]?.tag === 0xa2) {
      for (const e of der.children(der.expect(der.children(tbs[i])[0], der.Tag.SEQUENCE, "requestExtensions"))) {
        const parts = der.children(der.expect(e, der.Tag.SEQUENCE, "Extension"));
        if (der.readOid(parts[0]) !== OCSP_OID.nonce) continue;
        const value = der.expect(parts[parts.length - 1], der.Tag.OCTET_STRING, "extnValue");
        nonce = Buffer.from(value.content);
      }
      i++;
    }
    if (i !== tbs.length) throw new der.DerError("unexpected fields in TBSRequest");
    if (top.length > 2 || (top[1] && top[1].tag !== 0xa0)) throw new der.DerError("unexpected fields in OCSPRequest");
    return { certIds, nonce };
  } catch (e) {
    if (e instanceof der.DerError) throw inputError(`not an OCSP request: ${e.message}`);
    throw e;
  }
}

/** The two hashes of an issuer a CertID names: of its subject Name's DER and of its subjectPublicKey bits. */
export interface IssuerHashes {
  name: Buffer;
  key: Buffer;
}

export function issuerHashes(issuer: ParsedCertificate, hash: string): IssuerHashes {
  return {
    name: crypto.createHash(hash).update(issuer.subjectRaw).digest(),
    key: crypto.createHash(hash).update(subjectPublicKeyBits(issuer.spki)).digest(),
  };
}

/** GeneralizedTime (RFC 6960 wants it for every time; seconds precision, Z). */
export function generalizedTime(d: Date): Buffer {
  const s = d.toISOString();
  return der.tlv(der.Tag.GeneralizedTime, Buffer.from(s.slice(0, 4) + s.slice(5, 7) + s.slice(8, 10) + s.slice(11, 13) + s.slice(14, 16) + s.slice(17, 19) + "Z", "latin1"));
}

export type SingleStatus = { status: "good" } | { status: "revoked"; at: Date; reasonCode: number | null } | { status: "unknown" };

export interface SingleResponseInput {
  certId: CertId;
  status: SingleStatus;
  thisUpdate: Date;
  nextUpdate?: Date;
}

/** A SingleResponse's DER. */
export function singleResponse(s: SingleResponseInput): Buffer {
  let status: Buffer;
  if (s.status.status === "good") status = Buffer.from([0x80, 0x00]);
  else if (s.status.status === "unknown") status = Buffer.from([0x82, 0x00]);
  else {
    const parts = [generalizedTime(s.status.at)];
    if (s.status.reasonCode !== null) parts.push(der.explicit(0, der.tlv(0x0a, Buffer.from([s.status.reasonCode]))));
    status = der.tlvOf(0xa1, parts);
  }
  return der.seq(s.certId.raw, status, generalizedTime(s.thisUpdate), ...(s.nextUpdate ? [der.explicit(0, generalizedTime(s.nextUpdate))] : []));
}

export interface BasicResponseInput {
  /** The certificate whose key signs: the CA's, or a delegated responder's (then sent in certs). */
  responderCert: ParsedCertificate;
  signer: Signer;
  /** Include responderCert in the response's certs (a delegated responder must). */
  includeCert: boolean;
  producedAt: Date;
  /** SingleResponse DERs (singleResponse()). */
  responses: Buffer[];
  nonce?: Buffer;
}

/** An OCSPResponse (successful, id-pkix-ocsp-basic) with a signed BasicOCSPResponse; responderID byKey. */
export function buildOcspResponse(r: BasicResponseInput): Buffer {
  const keyHash = crypto.createHash("sha1").update(subjectPublicKeyBits(r.responderCert.spki)).digest();
  const exts: Buffer[] = [];
  if (r.nonce) exts.push(der.explicit(1, der.seq(der.seq(der.oid(OCSP_OID.nonce), der.octets(r.nonce)))));
  const tbs = der.seq(der.explicit(2, der.octets(keyHash)), generalizedTime(r.producedAt), der.tlvOf(der.Tag.SEQUENCE, r.responses), ...exts);
  const basic = der.seq(tbs, r.signer.algorithm, der.bitString(r.signer.sign(tbs)), ...(r.includeCert ? [der.explicit(0, der.seq(r.responderCert.der))] : []));
  return der.seq(der.tlv(0x0a, Buffer.from([OcspResponseStatus.successful])), der.explicit(0, der.seq(der.oid(OCSP_OID.basic), der.octets(basic))));
}

/** An unsuccessful OCSPResponse (no responseBytes, unsigned). */
export function ocspErrorResponse(status: Exclude<keyof typeof OcspResponseStatus, "successful">): Buffer {
  return der.seq(der.tlv(0x0a, Buffer.from([OcspResponseStatus[status]])));
}

/** The AIA extension (RFC 5280 §4.2.2.1) with an id-ad-ocsp URI. */
export function aiaExtension(ocspUrl: string): Extension {
  return { oid: "1.3.6.1.5.5.7.1.1", critical: false, value: der.seq(der.seq(der.oid(OCSP_OID.adOcsp), der.implicit(6, Buffer.from(ocspUrl, "latin1")))) };
}

/** The CRL distribution points extension (RFC 5280 §4.2.1.13): one point, fullName URI. */
export function cdpExtension(crlUrl: string): Extension {
  return { oid: OID.cRLDistributionPoints, critical: false, value: der.seq(der.seq(der.explicit(0, der.explicit(0, der.implicit(6, Buffer.from(crlUrl, "latin1")))))) };
}
