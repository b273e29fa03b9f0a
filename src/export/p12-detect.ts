/**
 * Recognising a PKCS#12 file cheaply (no pkijs), and the hook that `explain` and `verify` run
 * before their action: when a certificate argument is a .p12/.pfx, the password is settled there
 * (file, environment, or a masked prompt), so that the synchronous readers never have to ask.
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

interface HookCommand {
  processedArgs: unknown[];
  optsWithGlobals(): Record<string, unknown>;
}

/** commander preAction hook for `explain` and `verify`: settles the PKCS#12 password when one is needed. */
export async function p12PasswordHook(_program: unknown, cmd: HookCommand): Promise<void> {
  const files = cmd.processedArgs.flat().filter((a): a is string => typeof a === "string");
  const p12s = files.filter(isPkcs12File);
  if (p12s.length === 0) return;
  const { preparePasswordForReading } = require("./password") as typeof import("./password");
  await preparePasswordForReading(p12s, cmd.optsWithGlobals());
}
