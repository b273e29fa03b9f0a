/** Reading a record's certificate, and the key pin nats-server checks (pinned_certs). */
import * as fs from "node:fs";
import * as crypto from "node:crypto";
import { inputError } from "../errors";
import { ParsedCertificate, readCertificates } from "../pki/cert";
import type { CertRecord } from "../store/store";

/** What certOfRecord reads: a store's paths, or (a view over a store without files: a database's) its certificates. */
export interface RecordCertificates {
  path(...rel: string[]): string;
  /** The record's certificate, when the store answers it without a file. */
  certOf?(rec: CertRecord): ParsedCertificate;
}

/** The certificate file an inventory record names (exit 3 when it is missing). */
export function certOfRecord(store: RecordCertificates, rec: CertRecord): ParsedCertificate {
  if (store.certOf) return store.certOf(rec);
  const file = store.path(rec.certFile);
  let data: Buffer;
  try {
    data = fs.readFileSync(file);
  } catch {
    throw inputError("the certificate listed in the inventory is missing", file);
  }
  return readCertificates(data, file)[0];
}

/**
 * nats-server's pin for a certificate: the lower-case hex SHA-256 of its DER SubjectPublicKeyInfo
 * (`pinned_certs`, reference §1.1; the server compares case-insensitively).
 */
export function spkiPin(cert: Pick<ParsedCertificate, "spki">): string {
  return crypto.createHash("sha256").update(cert.spki).digest("hex");
}
