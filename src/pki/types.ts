/**
 * The certificate types that pki modules share (a leaf module: types only, so that cert.ts and
 * constraints.ts can both name them without importing each other). cert.ts re-exports them.
 */
import type { DecodedAttribute } from "./name";
import type { Sans } from "./san";

/** "peer": serverAuth + clientAuth, for cluster routes, gateways and leafnodes (TLS client on one side, server on the other). */
export type Profile = "ca" | "client" | "server" | "peer";

export interface Extension {
  oid: string;
  critical: boolean;
  value: Buffer;
}

export interface ParsedCertificate {
  der: Buffer;
  /** 1, 2 or 3 */
  version: number;
  tbs: Buffer;
  serialHex: string;
  signatureAlgorithm: Buffer;
  signature: Buffer;
  issuerRaw: Buffer;
  subjectRaw: Buffer;
  subject: DecodedAttribute[][];
  notBefore: Date;
  notAfter: Date;
  spki: Buffer;
  extensions: Extension[];
  sans: Sans & { other: number };
  basicConstraints?: { ca: boolean; pathLen?: number };
  keyUsage?: number[];
  extKeyUsage?: string[];
  subjectKeyId?: Buffer;
  authorityKeyId?: Buffer;
  fingerprint: string; // SHA-256 hex of the DER
}

