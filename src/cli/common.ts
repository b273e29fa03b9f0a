/** Helpers shared by the commands that sign. */
import * as path from "node:path";
import type { KeyObject } from "node:crypto";
import { Ctx, getSecret } from "./context";
import { Store, checkName } from "../store/store";
import type { ParsedCertificate } from "../pki/cert";
import { inputError } from "../errors";
import { checkKeyFileMode } from "../pki/keys";
import { Sans } from "../pki/san";
import { natsUserFor } from "../nats/user";
import { describePermissions } from "../nats/permissions";
import { writeFileAtomic } from "../store/atomic";
import { writeOut } from "./out";
import type { Issued } from "../ca";
import { keySigner, Signer } from "../pki/signer";

export interface OpenCa {
  store: Store;
  caCert: ParsedCertificate;
  caKey: KeyObject;
  /** The CA key behind the Signer seam: what issue(), renew(), revoke() and the CRL sign with. */
  signer: Signer;
}

/** Opens the store, refuses an existing name early (before any prompt), and unlocks the CA key. */
export async function openCa(ctx: Ctx, opts: { passphraseFile?: string; force?: boolean }, name?: string): Promise<OpenCa> {
  const store = Store.open(ctx.dir);
  if (name !== undefined) {
    checkName(name);
    const existing = store.findByName(store.readInventory(), name);
    if (existing && !opts.force) throw inputError(`"${name}" already exists (serial ${existing.serial}; use --force to replace it)`, store.path(existing.certFile));
    if ((store.readInventory().nkeys ?? []).some((k) => k.name === name)) throw inputError(`an NKey user is named "${name}": names are shared by certificates and NKeys`, store.inventoryFile);
  }
  const caCert = store.caCertificate();
  if (caCert.notAfter.getTime() <= Date.now()) throw inputError(`the CA certificate expired on ${caCert.notAfter.toISOString()}`, store.caCertFile);
  checkKeyFileMode(store.caKeyFile); // refused before any passphrase prompt
  const passphrase = store.caKeyEncrypted()
    ? await getSecret(ctx, { what: "CA passphrase", file: opts.passphraseFile, fileFlag: "--passphrase-file", env: "MTLSCTL_PASSPHRASE" })
    : undefined;
  const caKey = store.caKey(passphrase, caCert);
  return { store, caCert, caKey, signer: keySigner(caKey) };
}

export function sansFromOptions(o: Record<string, unknown>): Sans {
  const arr = (k: string) => (o[k] as string[] | undefined) ?? [];
  return { email: arr("email"), dns: arr("dns"), uri: arr("uri"), ip: arr("ip") };
}

/** The printed result of an issuance, shared by client sign/issue and server issue. */
export function reportIssued(ctx: Ctx, what: string, issued: Issued): void {
  const rec = issued.record;
  const nats = rec.kind === "client" ? natsUserFor(issued.cert) : null;
  if (nats) ctx.warnAll(nats.notes);
  const rel = (f: string | null) => (f ? path.relative(process.cwd(), f) || f : null);
  ctx.result(
    {
      name: rec.name,
      kind: rec.kind,
      serial: rec.serial,
      subject: rec.subject,
      sans: rec.sans,
      notBefore: rec.notBefore,
      notAfter: rec.notAfter,
      fingerprint: rec.fingerprint,
      certFile: issued.certFile,
      keyFile: issued.keyFile,
      csrFile: issued.csrFile,
      natsUser: nats?.user ?? null,
      ...(rec.kind === "client" ? { account: rec.account ?? null, permissions: rec.permissions ?? null } : {}),
      warnings: ctx.warnings,
    },
    () =>
      [
        `${what} ${ctx.bold(rec.name)}: serial ${rec.serial}, valid until ${rec.notAfter}`,
        `  subject      ${rec.subject || "(empty)"}`,
        `  certificate  ${rel(issued.certFile)}`,
        ...(issued.keyFile ? [`  key          ${rel(issued.keyFile)}`] : []),
        ...(nats ? [`  NATS user    ${nats.user === null ? "(none: this certificate cannot be mapped)" : JSON.stringify(nats.user) + ` (by ${nats.kind})`}`] : []),
        ...(rec.account ? [`  account      ${rec.account}`] : []),
        ...(rec.permissions ? [`  permissions  ${describePermissions(rec.permissions)}`] : []),
      ].join("\n"),
  );
}

/** Writes a command's output to --out (atomically; refuses to replace without --force) or stdout. */
export function writeOutput(file: string | undefined, data: string | Buffer, o: { force?: boolean; mode?: number }): void {
  if (file === undefined || file === "-") {
    writeOut(data);
    return;
  }
  writeFileAtomic(path.resolve(file), data, { mode: o.mode ?? 0o644, exclusive: !o.force });
}
