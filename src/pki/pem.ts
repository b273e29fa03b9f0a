/** PEM encoding and strict decoding (labels checked, base64 validated). */
import { inputError } from "../errors";

export function toPem(label: string, der: Buffer): string {
  const b64 = der.toString("base64");
  const lines: string[] = [];
  for (let i = 0; i < b64.length; i += 64) lines.push(b64.slice(i, i + 64));
  return `-----BEGIN ${label}-----\n${lines.join("\n")}\n-----END ${label}-----\n`;
}

export interface PemBlock {
  label: string;
  der: Buffer;
}

const BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END ([A-Z0-9 ]+)-----/g;

/** Every PEM block in the text. Throws (naming the file) on a damaged block. */
export function pemBlocks(text: string, file: string): PemBlock[] {
  const out: PemBlock[] = [];
  for (const m of text.matchAll(BLOCK)) {
    if (m[1] !== m[3]) throw inputError(`PEM block "${m[1]}" ends with "${m[3]}"`, file);
    let body = m[2];
    if (/^[A-Za-z-]+:/m.test(body)) body = body.replace(/^[\s\S]*?\r?\n\r?\n/, ""); // RFC 1421 headers
    const b64 = body.replace(/\s+/g, "");
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64) || b64.length % 4 !== 0 || b64.length === 0)
      throw inputError(`PEM block "${m[1]}" has damaged base64`, file);
    out.push({ label: m[1], der: Buffer.from(b64, "base64") });
  }
  if (out.length === 0 && text.includes("-----BEGIN ")) throw inputError("truncated PEM (no END line)", file);
  return out;
}

/**
 * Reads the blocks of the wanted labels from a file's bytes, accepting DER when `allowDer` is set.
 * Refuses other labels so that a key is never taken for a certificate and the reverse.
 */
export function readPemOrDer(data: Buffer, file: string, labels: string[], what: string, allowDer = true): Buffer[] {
  if (data.length === 0) throw inputError("the file is empty", file);
  if (data[0] === 0x30) {
    if (!allowDer) throw inputError(`expected a PEM ${what}, found binary (DER) data`, file);
    return [data];
  }
  const text = data.toString("latin1");
  const blocks = pemBlocks(text, file);
  if (blocks.length === 0) throw inputError(`not a PEM ${what} (no "-----BEGIN ${labels[0]}-----" line)`, file);
  const wrong = blocks.find((b) => !labels.includes(b.label));
  if (wrong) throw inputError(`expected a PEM ${what}, found "${wrong.label}"`, file);
  return blocks.map((b) => b.der);
}
