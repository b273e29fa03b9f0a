/** Reading the certificate a client would present: a leaf, optionally followed by intermediates. */
import * as fs from "node:fs";
import { inputError } from "../errors";
import { ParsedCertificate, readCertificates } from "../pki/cert";

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

/** PEM (leaf then intermediates) or DER (a single certificate). */
export function readPresentedChain(file: string): PresentedChain {
  const certs = readCertificates(readFileChecked(file, "certificate"), file);
  return { file, leaf: certs[0], intermediates: certs.slice(1) };
}

/** A CA bundle (ca_file): every certificate in it. */
export function readRoots(file: string): ParsedCertificate[] {
  const certs = readCertificates(readFileChecked(file, "CA file"), file);
  if (!certs.length) throw inputError("failed to parse root ca certificate", file);
  return certs;
}
