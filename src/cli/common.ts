/** Helpers shared by the commands that sign. */
import * as path from "node:path";
import { Ctx, getSecret } from "./context";
import { Sans, sansOf } from "../pki/san";
import { writeFileAtomic } from "../store/atomic";
import { writeOut } from "./out";
import { issuedText, IssuedJson, Secret, UnlockedCa, unlockCa } from "../api/store";
import type { AccessOptions } from "../config/access";

export type OpenCa = UnlockedCa;

/** The CA passphrase as the CLI gets it (--passphrase-file, MTLSCTL_PASSPHRASE, else a masked prompt), asked only when needed. */
export const passphraseFrom = (ctx: Ctx, file: string | undefined): Secret => () => getSecret(ctx, { what: "CA passphrase", file, fileFlag: "--passphrase-file", env: "MTLSCTL_PASSPHRASE" });

/** Opens the store, refuses an existing name early (before any prompt), and unlocks the CA key (src/api/store.ts unlockCa). */
export function openCa(ctx: Ctx, opts: { passphraseFile?: string; force?: boolean }, name?: string): Promise<OpenCa> {
  return unlockCa(ctx.dir, { passphrase: passphraseFrom(ctx, opts.passphraseFile), force: opts.force }, name);
}

/** A user's NATS account and permission flags (client issue/sign): --account/--no-account, --allow-pub ... */
export function accessOptions(o: Record<string, any>): AccessOptions {
  return { account: o.account, permissions: o.permissions, allowPub: o.allowPub, denyPub: o.denyPub, allowSub: o.allowSub, denySub: o.denySub, allowResponses: o.allowResponses };
}

export const sansFromOptions = (o: Record<string, unknown>): Sans => sansOf(o as Parameters<typeof sansOf>[0]);

/** The printed result of an issuance (client sign/issue, server issue): the library's object, as is. */
export function reportIssued(ctx: Ctx, what: string, j: IssuedJson): void {
  ctx.warnAll(j.warnings);
  ctx.result(j, () => issuedText(what, j, (t) => ctx.bold(t)));
}

/** Writes a command's output to --out (atomically; refuses to replace without --force) or stdout. */
export function writeOutput(file: string | undefined, data: string | Buffer, o: { force?: boolean; mode?: number }): void {
  if (file === undefined || file === "-") {
    writeOut(data);
    return;
  }
  writeFileAtomic(path.resolve(file), data, { mode: o.mode ?? 0o644, exclusive: !o.force });
}
