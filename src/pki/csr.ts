/** PKCS#10 certificate signing requests: building, parsing, and checking proof of possession. */
import * as crypto from "node:crypto";
import * as der from "../asn1/der";
import { OID } from "../asn1/oids";
import { inputError } from "../errors";
import { Extension, encodeExtensions, ext } from "./cert";
import { spkiOf, verifySignature } from "./keys";
import { keySigner } from "./signer";
import { decodeName, DecodedAttribute, SHORT_NAMES } from "./name";
import { decodeSans, hasSans, Sans } from "./san";
import { readPemOrDer, toPem } from "./pem";

export function buildCsr(key: crypto.KeyObject, subject: Buffer, sans: Sans): Buffer {
  const exts: Extension[] = hasSans(sans) ? [ext.subjectAltName(sans, subject.length <= 2)] : [];
  const attrs = exts.length ? [der.seq(der.oid(OID.extensionRequest), der.setOf(encodeExtensions(exts)))] : [];
  const info = der.seq(der.smallInt(0), subject, spkiOf(key), der.implicit(0, Buffer.concat(attrs), true));
  const signer = keySigner(key);
  return der.seq(info, signer.algorithm, der.bitString(signer.sign(info)));
}

export const csrPem = (d: Buffer): string => toPem("CERTIFICATE REQUEST", d);

export interface ParsedCsr {
  der: Buffer;
  subjectRaw: Buffer;
  subject: DecodedAttribute[][];
  spki: Buffer;
  publicKey: crypto.KeyObject;
  /** Requested extensions (from the PKCS#9 extensionRequest attribute). */
  extensions: Extension[];
  sans?: Sans & { other: number };
}

/** RFC 5280 upper bounds (characters) of the attribute types a request's subject usually holds. */
const SUBJECT_UB: Record<string, number> = {
  [OID.CN]: 64,
  [OID.SERIALNUMBER]: 64,
  [OID.O]: 64,
  [OID.OU]: 64,
  [OID.L]: 128,
  [OID.ST]: 128,
  [OID.STREET]: 128,
  [OID.POSTALCODE]: 40,
  [OID.DC]: 63,
  [OID.emailAddress]: 255,
};

/**
 * The subject bytes of a request are kept as they are (design.md), so what --subject refuses is
 * refused here too: control characters (NUL, newline...), UTF8String bytes that are not UTF-8, and
 * values longer than their RFC 5280 bound (256 characters for other types).
 */
function checkRequestedSubject(subject: DecodedAttribute[][], file: string): void {
  for (const rdn of subject)
    for (const a of rdn) {
      const name = SHORT_NAMES[a.type] ?? a.type;
      if (a.tag === der.Tag.UTF8String && !Buffer.from(a.value, "utf8").equals(a.bytes)) throw inputError(`the request's subject: ${name} is not valid UTF-8`, file);
      if (/[\u0000-\u001f\u007f]/.test(a.value)) throw inputError(`the request's subject: ${name} contains a control character`, file);
      const ub = SUBJECT_UB[a.type] ?? 256;
      if ([...a.value].length > ub) throw inputError(`the request's subject: ${name} is longer than ${ub} characters`, file);
    }
}

/**
 * Parses a CSR and checks its self-signature (proof that the requester holds the key).
 * Every failure is an input error naming the file.
 */
export function readCsr(data: Buffer, file: string): ParsedCsr {
  const blocks = readPemOrDer(data, file, ["CERTIFICATE REQUEST", "NEW CERTIFICATE REQUEST"], "certificate request");
  if (blocks.length !== 1) throw inputError(`expected one certificate request, found ${blocks.length}`, file);
  const csrDer = blocks[0];
  let parsed: Omit<ParsedCsr, "publicKey"> & { alg: Buffer; sig: Buffer; info: Buffer };
  try {
    const [info, alg, sig] = der.children(der.expect(der.parseOne(csrDer), der.Tag.SEQUENCE, "CertificationRequest"));
    const [version, subject, spki, attrs] = der.children(der.expect(info, der.Tag.SEQUENCE, "CertificationRequestInfo"));
    if (der.readSmallInt(version) !== 0) throw new der.DerError("unsupported CSR version");
    der.expect(subject, der.Tag.SEQUENCE, "subject");
    der.expect(spki, der.Tag.SEQUENCE, "subjectPKInfo");
    const extensions: Extension[] = [];
    if (attrs && attrs.tag === 0xa0) {
      for (const a of der.children(attrs)) {
        const [t, values] = der.children(a);
        if (der.readOid(t) !== OID.extensionRequest) continue;
        for (const v of der.children(values))
          for (const e of der.children(v)) {
            const parts = der.children(e);
            extensions.push({
              oid: der.readOid(parts[0]),
              critical: parts.length === 3 ? der.readBool(parts[1]) : false,
              value: der.expect(parts[parts.length - 1], der.Tag.OCTET_STRING, "extnValue").content,
            });
          }
      }
    }
    const sanExt = extensions.find((e) => e.oid === OID.subjectAltName);
    parsed = {
      der: csrDer,
      subjectRaw: subject.raw,
      subject: decodeName(subject.raw),
      spki: spki.raw,
      extensions,
      sans: sanExt ? decodeSans(sanExt.value) : undefined,
      alg: alg.raw,
      sig: der.readBitString(sig).bytes,
      info: info.raw,
    };
  } catch (e) {
    if (e instanceof der.DerError) throw inputError(`not a valid certificate request (${e.message})`, file);
    throw e;
  }
  checkRequestedSubject(parsed.subject, file);
  let publicKey: crypto.KeyObject;
  try {
    publicKey = crypto.createPublicKey({ key: parsed.spki, format: "der", type: "spki" });
  } catch {
    throw inputError("the certificate request's public key cannot be read", file);
  }
  let ok: boolean;
  try {
    ok = verifySignature(parsed.alg, parsed.spki, parsed.info, parsed.sig);
  } catch (e) {
    throw inputError(`the certificate request's signature cannot be checked: ${(e as Error).message}`, file);
  }
  if (!ok) throw inputError("the certificate request's signature does not verify (no proof of possession of the key)", file);
  const { alg: _a, sig: _s, info: _i, ...rest } = parsed;
  return { ...rest, publicKey };
}
