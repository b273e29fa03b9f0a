/**
 * CMS (RFC 5652) as EST needs it: a degenerate, certs-only SignedData (no content, no signers), the
 * body of /cacerts and of an enrolment's answer (RFC 7030 §4.1.3, §4.2.3).
 * (Written by the serve branch while the OCSP branch's cms.ts had not landed; same export.)
 */
import * as der from "../asn1/der";

const ID_SIGNED_DATA = "1.2.840.113549.1.7.2";
const ID_DATA = "1.2.840.113549.1.7.1";

/** ContentInfo { signedData { version 1, no digests, id-data without content, certificates [0] in the given order, no signers } }. */
export function certsOnly(certsDer: Buffer[]): Buffer {
  const signedData = der.seq(
    der.smallInt(1),
    der.setOf(),
    der.seq(der.oid(ID_DATA)),
    der.tlvOf(0xa0, certsDer),
    der.setOf(),
  );
  return der.seq(der.oid(ID_SIGNED_DATA), der.explicit(0, signedData));
}
