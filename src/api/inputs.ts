/**
 * The inputs the public API takes in more than one form: a certificate (a path, PEM text or bytes)
 * and a nats-server config (a path or the config's text), resolved to what the core reads.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { inputError } from "../errors";
import { readCertificates } from "../pki/cert";
import { PresentedChain, readPresentedChain } from "../input";
import { isPkcs12 } from "../export/p12-detect";
import { readPkcs12Certificates } from "../export/pkcs12";
import { readServerConfig, ServerConfig } from "../nats/conf/server-config";

/** A certificate as a client presents it: a file path, PEM text, or bytes (PEM, DER or PKCS#12; a leaf then its intermediates). */
export type CertificateInput = string | Buffer | Uint8Array;

const MAX_INPUT = 1 << 20;

/** Whether a string is PEM text rather than a path. */
const isPemText = (s: string): boolean => s.includes("-----BEGIN ");

/** Whether a certificate input names a file (a string that is not PEM text). */
export const isFileInput = (input: CertificateInput): input is string => typeof input === "string" && !isPemText(input);

/** The leaf and intermediates of a certificate input; `label` names a non-file input in errors and in the verdict's `file`. */
export function presentedChainOf(input: CertificateInput, label = "<certificate>", p12Password?: string): PresentedChain {
  if (isFileInput(input)) return readPresentedChain(input, p12Password);
  const data = typeof input === "string" ? Buffer.from(input, "utf8") : Buffer.from(input.buffer, input.byteOffset, input.byteLength);
  if (data.length > MAX_INPUT) throw inputError("the certificate is larger than 1 MB", label);
  const certs = isPkcs12(data) ? readPkcs12Certificates(data, label, p12Password) : readCertificates(data, label);
  if (!certs.length) throw inputError("no certificate found", label);
  return { file: label, leaf: certs[0], intermediates: certs.slice(1) };
}

/** The name a certificate input goes by in results: its path as given, else the label. */
export const certificateLabel = (input: CertificateInput, label = "<certificate>"): string => (isFileInput(input) ? input : label);

/** Where a config given as text is taken to live: its includes resolve from this directory. */
export const CONFIG_TEXT_NAME = "<config>";

/**
 * A config given as a path (relative to `cwd`, default the process's) or as text (its includes then
 * resolve from `cwd`). Text is recognised by a newline or the characters a config
 * needs ({ } : =) when no file of that name exists; a path that does not exist is an error naming it.
 */
export function configSource(config: string, cwd = process.cwd()): { file: string; text?: string } {
  if (!config.includes("\n")) {
    const file = path.resolve(cwd, config);
    if (fs.existsSync(file) || !/[{}:=]/.test(config)) return { file };
  }
  return { file: path.join(cwd, CONFIG_TEXT_NAME), text: config };
}

export interface ConfigReadOptions {
  serverVersion: string;
  /** The server's working directory (cert_file, ca_file relative to it). */
  serverCwd: string;
  /** Where `$VAR` references fall back to (the server's environment); default process.env. */
  env?: NodeJS.ProcessEnv;
}

/** Reads a config (path or text) as the server does; a config it would refuse throws ConfigError (code "config"). */
export function readConfig(config: string, o: ConfigReadOptions): ServerConfig {
  const src = configSource(config);
  return readServerConfig(src.file, o.env ?? process.env, { cwd: o.serverCwd, serverVersion: o.serverVersion, text: src.text });
}
