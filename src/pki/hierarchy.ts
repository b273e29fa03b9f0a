/** CA hierarchies (issue 10): the CAs above a store's issuing CA, and what a new sub-CA must respect. */
import { inputError } from "../errors";
import { certificatePem, ParsedCertificate, signedBy } from "./cert";
import { formatRfc4514 } from "./name";
/** What issuingChain reads of a store (the file store, or any other that keeps a CA's chain). */
export interface ChainSource {
  /** The issuing CA's certificate followed by the intermediates above it (chain.pem; [ca.crt] for a root store). */
  presentedChain(): ParsedCertificate[];
  /** The trust anchors (roots.pem); may throw when there is none. */
  trustAnchors(): ParsedCertificate[];
}

/** Certificates as one PEM bundle. */
export const pemBundle = (certs: ParsedCertificate[]): string => certs.map((c) => certificatePem(c.der)).join("");

/**
 * The issuing CA and every CA above it, nearest first: ca.crt, the rest of chain.pem, then the
 * trust anchor(s) that signed the top of that chain (none for a root store: its ca.crt is the root).
 */
export function issuingChain(store: ChainSource, caCert: ParsedCertificate): ParsedCertificate[] {
  const chain = [caCert, ...store.presentedChain().slice(1)];
  const top = chain[chain.length - 1];
  if (top.issuerRaw.equals(top.subjectRaw)) return chain;
  let anchors: ParsedCertificate[] = [];
  try {
    anchors = store.trustAnchors();
  } catch {
    return chain;
  }
  return [...chain, ...anchors.filter((a) => !a.der.equals(top.der) && a.subjectRaw.equals(top.issuerRaw) && signedBy(top, a.spki))];
}

/**
 * Refuses a sub-CA that its issuers' path lengths forbid (every verifier would refuse the leaves under
 * it): the CA k levels above the new one must allow at least k intermediates below it. Also refuses
 * a sub-CA named like one of its issuers (chains could not be built by name).
 */
export function checkSubCa(issuers: ParsedCertificate[], subjectDer: Buffer, pathLen: number | undefined): void {
  if (subjectDer.length <= 2) throw inputError("a CA certificate needs a subject");
  if (pathLen !== undefined && (!Number.isInteger(pathLen) || pathLen < 0 || pathLen > 16)) throw inputError("--path-len must be a whole number from 0 to 16");
  issuers.forEach((ca, i) => {
    if (ca.subjectRaw.equals(subjectDer)) throw inputError(`the new CA's subject is that of its issuer "${formatRfc4514(ca.subject)}": give the intermediate its own name`);
    const pl = ca.basicConstraints?.pathLen;
    if (pl !== undefined && pl < i + 1)
      throw inputError(`the CA "${formatRfc4514(ca.subject)}" has path length ${pl}: it allows ${pl === 0 ? "no intermediate" : `${pl} intermediate(s)`} below it, so a CA signed here would be refused by every verifier`);
  });
}

/** The path-length room that `issuers` leave for a CA signed by the first of them (undefined: unlimited). */
export function pathLenRoom(issuers: ParsedCertificate[]): number | undefined {
  let room: number | undefined;
  issuers.forEach((ca, i) => {
    const pl = ca.basicConstraints?.pathLen;
    if (pl !== undefined) room = Math.min(room ?? Infinity, pl - (i + 1));
  });
  return room;
}
