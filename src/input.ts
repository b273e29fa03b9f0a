/** Reading the certificate a client would present: a leaf, optionally followed by intermediates. */
import * as fs from "node:fs";
import { inputError } from "./errors";
import { ParsedCertificate, readCertificates } from "./pki/cert";
import { isPkcs12 } from "./export/p12-detect";
import { readPkcs12Certificates } from "./export/pkcs12";

const MAX_INPUT = 1 << 20;

export function readFileChecked(file: string, what: string): Buffer {
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch {
    throw inputError(`cannot read the ${what} (no such file)`, file);
  }
  if (st.isDirectory()) throw inputError("is a directory, not a file", file);
  if (st.size > MAX_INPUT) throw inputError(`the ${what} is larger than 1 MB`, file);
  try {
    return fs.readFileSync(file);
  } catch {
    throw inputError(`cannot read the ${what}`, file);
  }
}

export interface PresentedChain {
  file: string;
  leaf: ParsedCertificate;
  intermediates: ParsedCertificate[];
}

/**
 * PEM (leaf then intermediates), DER (a single certificate) or PKCS#12 (.p12/.pfx: the key's
 * certificate, then the others, opened with `p12Password`: the caller's, e.g. the one the CLI's
 * preAction hook settled; without one, only a file made without a password opens).
 */
export function readPresentedChain(file: string, p12Password?: string): PresentedChain {
  const data = readFileChecked(file, "certificate");
  const certs = isPkcs12(data) ? readPkcs12Certificates(data, file, p12Password) : readCertificates(data, file); // pkijs is loaded only for PKCS#12
  return { file, leaf: certs[0], intermediates: certs.slice(1) };
}

/** A CA bundle (ca_file): every certificate in it. */
export function readRoots(file: string): ParsedCertificate[] {
  const certs = readCertificates(readFileChecked(file, "CA file"), file);
  if (!certs.length) throw inputError("failed to parse root ca certificate", file);
  return certs;
}
