/**
 * CMS (RFC 5652) "certs-only" SignedData: the degenerate form with certificates and no signers,
 * as EST answers /cacerts and /simpleenroll with (RFC 7030 §4.1.3), and a reader of its certificates.
 */
import * as der from "../asn1/der";
import { inputError } from "../errors";

const ID_SIGNED_DATA = "1.2.840.113549.1.7.2";
const ID_DATA = "1.2.840.113549.1.7.1";

/**
 * ContentInfo { id-signedData, [0] SignedData { version 1, digestAlgorithms {}, encapContentInfo
 * { id-data } (no eContent), certificates [0] IMPLICIT SET OF Certificate, signerInfos {} } }.
 * The certificates keep the caller's order (a SET OF in BER; OpenSSL and Go keep the order).
 */
export function certsOnly(certsDer: Buffer[]): Buffer {
  const signedData = der.seq(
    der.smallInt(1),
    der.tlvOf(der.Tag.SET, []),
    der.seq(der.oid(ID_DATA)),
    der.tlvOf(0xa0, certsDer),
    der.tlvOf(der.Tag.SET, []),
  );
  return der.seq(der.oid(ID_SIGNED_DATA), der.explicit(0, signedData));
}

/** The certificates (DER, in order) of a CMS SignedData; throws a one-line input error on anything else. */
export function certsFromCms(input: Buffer, file?: string): Buffer[] {
  try {
    const ci = der.children(der.expect(der.parseOne(input), der.Tag.SEQUENCE, "ContentInfo"));
    if (der.readOid(der.expect(ci[0], der.Tag.OID, "contentType")) !== ID_SIGNED_DATA) {
      throw new der.DerError("the content type is not signedData");
    }
    const wrapped = der.children(der.expect(ci[1], 0xa0, "content"));
    const sd = der.children(der.expect(wrapped[0], der.Tag.SEQUENCE, "SignedData"));
    der.expect(sd[0], der.Tag.INTEGER, "version");
    der.expect(sd[1], der.Tag.SET, "digestAlgorithms");
    der.expect(sd[2], der.Tag.SEQUENCE, "encapContentInfo");
    const certSet = sd[3]?.tag === 0xa0 ? sd[3] : undefined;
    if (!certSet) return [];
    return der.children(certSet).map((c) => {
      der.expect(c, der.Tag.SEQUENCE, "certificate");
      return Buffer.from(c.raw);
    });
  } catch (e) {
    if (e instanceof der.DerError) throw inputError(`not a CMS certs-only SignedData: ${e.message}`, file);
    throw e;
  }
}
