/**
 * Recognising a PKCS#12 file cheaply (no pkijs): the verifier's input reader and the CLI's password
 * hook for `explain` and `verify` (src/cli/p12-password.ts) ask here.
 */
import * as fs from "node:fs";

/**
 * A PFX starts SEQUENCE { INTEGER 3, ContentInfo ... }. A certificate starts SEQUENCE { SEQUENCE ... },
 * so the INTEGER 3 right after the outer header tells them apart (DER or BER, any length form).
 */
export function isPkcs12(data: Buffer): boolean {
  if (data.length < 8 || data[0] !== 0x30) return false;
  let i = 2;
  if (data[1] & 0x80) i += data[1] & 0x7f; // long or indefinite (0x80) form
  return data[i] === 0x02 && data[i + 1] === 0x01 && data[i + 2] === 0x03;
}

/** Whether the file exists and starts like a PKCS#12 file; unreadable files are left to the reader. */
export function isPkcs12File(file: string): boolean {
  let fd: number | undefined;
  try {
    fd = fs.openSync(file, "r");
    const buf = Buffer.alloc(16);
    const n = fs.readSync(fd, buf, 0, 16, 0);
    return isPkcs12(buf.subarray(0, n));
  } catch {
    return false;
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}
