import * as fs from "node:fs";
import * as path from "node:path";
import type { KeyObject } from "node:crypto";
import { Ctx, getSecret } from "../context";
import { initCa } from "../../ca";
import { checkKeyFileMode, parseKeyType } from "../../pki/keys";
import { Store } from "../../store/store";
import { inputError, usageError } from "../../errors";
import { formatRfc4514 } from "../../pki/name";
import { constraintsFromOptions, constraintsSummary, describeConstraints, parseNameConstraints } from "../../pki/constraints";
import { initIntermediate, initPendingIntermediate } from "../../hierarchy";
import { writeOutput } from "../common";
import type { ParsedCertificate } from "../../pki/cert";
import { keySigner, Signer } from "../../pki/signer";

export async function run(_args: string[], o: Record<string, any>): Promise<void> {
  const ctx = new Ctx(o);
  const keyType = parseKeyType(o.key);
  if (!o.intermediate)
    for (const [flag, v] of [["--root-dir", o.rootDir], ["--root-passphrase-file", o.rootPassphraseFile], ["--csr-out", o.csrOut]] as const)
      if (v !== undefined) throw usageError(`${flag} goes with --intermediate`);
  if (o.intermediate && (o.rootDir === undefined) === (o.csrOut === undefined))
    throw usageError("--intermediate needs --root-dir DIR (the root's store signs now) or --csr-out FILE (a request for `mtlsctl ca sign` on the root's machine), not both");
  if (o.rootPassphraseFile !== undefined && o.rootDir === undefined) throw usageError("--root-passphrase-file goes with --root-dir");
  const nameConstraints = constraintsFromOptions(o);
  if (Store.exists(ctx.dir) && !o.force) throw inputError("a CA already exists here (use --force to replace it)", path.join(ctx.dir, "ca.crt"));
  if (o.encrypt === false && o.passphraseFile !== undefined) throw inputError("--no-encrypt and --passphrase-file contradict each other");
  if (o.csrOut !== undefined) return pending(ctx, o, keyType);

  // the root store first (refusals before any passphrase prompt), then the root's passphrase
  let root: { store: Store; cert: ParsedCertificate; signer: Signer } | undefined;
  if (o.rootDir !== undefined) {
    const rootStore = Store.open(path.resolve(o.rootDir));
    const cert = rootStore.caCertificate();
    if (cert.notAfter.getTime() <= Date.now()) throw inputError(`the root CA certificate expired on ${cert.notAfter.toISOString()}`, rootStore.caCertFile);
    checkKeyFileMode(rootStore.caKeyFile);
    const rootPass = rootStore.caKeyEncrypted()
      ? await getSecret(ctx, { what: "root CA passphrase", file: o.rootPassphraseFile, fileFlag: "--root-passphrase-file", env: "MTLSCTL_ROOT_PASSPHRASE" })
      : undefined;
    root = { store: rootStore, cert, signer: keySigner(rootStore.caKey(rootPass, cert)) };
  }
  const passphrase =
    o.encrypt === false ? undefined : await getSecret(ctx, { what: "new CA passphrase", file: o.passphraseFile, fileFlag: "--passphrase-file", env: "MTLSCTL_PASSPHRASE", confirm: true });
  let c: ParsedCertificate;
  let store: Store;
  let chainFile: string | null = null;
  let rootsFile: string | null = null;
  let recorded: string | null = null;
  if (root) {
    const { value, warnings } = initIntermediate({ dir: ctx.dir, keyType, name: o.name, subject: o.subject, days: o.days, pathLen: o.pathLen, nameConstraints, passphrase, force: o.force, root });
    ctx.warnAll(warnings);
    c = value.cert;
    store = value.store;
    chainFile = store.chainFile;
    rootsFile = store.rootsFile;
    recorded = value.issued.record.name;
  } else {
    const { value, warnings } = initCa({ dir: ctx.dir, keyType, name: o.name, subject: o.subject, days: o.days, pathLen: o.pathLen, nameConstraints, passphrase, force: o.force });
    ctx.warnAll(warnings);
    c = value.cert;
    store = value.store;
  }
  const nc = parseNameConstraints(c).nc;
  ctx.result(
    {
      dir: ctx.dir,
      subject: formatRfc4514(c.subject),
      keyType,
      serial: c.serialHex,
      notBefore: c.notBefore.toISOString(),
      notAfter: c.notAfter.toISOString(),
      fingerprint: c.fingerprint,
      certFile: store.caCertFile,
      keyFile: store.caKeyFile,
      encrypted: passphrase !== undefined,
      intermediate: !!root,
      issuer: root ? formatRfc4514(root.cert.subject) : null,
      rootDir: root ? root.store.dir : null,
      recordedAs: recorded,
      chainFile,
      rootsFile,
      pathLen: c.basicConstraints?.pathLen ?? null,
      nameConstraints: nc ? describeConstraints(nc) : null,
      warnings: ctx.warnings,
    },
    () =>
      [
        `Created ${root ? "intermediate " : ""}CA ${ctx.bold(formatRfc4514(c.subject))} (${keyType}), valid until ${c.notAfter.toISOString()}`,
        `  store        ${ctx.dir}`,
        `  certificate  ${store.caCertFile}`,
        `  key          ${store.caKeyFile} (${passphrase !== undefined ? "encrypted, AES-256" : "NOT encrypted"})`,
        `  SHA-256      ${c.fingerprint}`,
        ...(root ? [`  issuer       ${formatRfc4514(root.cert.subject)} (recorded as "${recorded}" in ${root.store.dir})`, `  chain        ${chainFile}`, `  roots        ${rootsFile} (the ca_file)`] : []),
        ...(c.basicConstraints?.pathLen !== undefined ? [`  path length  ${c.basicConstraints.pathLen}`] : []),
        ...(nc ? [`  constraints  ${constraintsSummary(nc)}`] : []),
      ].join("\n"),
  );
}

/** `--intermediate --csr-out F`: the key and a request; the store stays pending until `ca install`. */
async function pending(ctx: Ctx, o: Record<string, any>, keyType: ReturnType<typeof parseKeyType>): Promise<void> {
  const out = path.resolve(o.csrOut);
  if (o.csrOut !== "-" && fs.existsSync(out) && !o.force) throw inputError("already exists (use --force to replace it)", out);
  // checks what it can (subject, options, directory) before the passphrase is asked for
  if (o.pathLen !== undefined || constraintsFromOptions(o) || o.days !== undefined)
    throw inputError("--path-len, --days and name constraints are set by the signer: give them to `mtlsctl ca sign` on the root's machine");
  const passphrase =
    o.encrypt === false ? undefined : await getSecret(ctx, { what: "new CA passphrase", file: o.passphraseFile, fileFlag: "--passphrase-file", env: "MTLSCTL_PASSPHRASE", confirm: true });
  const { value, warnings } = initPendingIntermediate({ dir: ctx.dir, keyType, name: o.name, subject: o.subject, passphrase, force: o.force });
  ctx.warnAll(warnings);
  writeOutput(o.csrOut, value.csrPem, { force: o.force });
  ctx.result(
    { dir: value.dir, pending: true, subject: value.subject, keyType: value.keyType, csrFile: o.csrOut === "-" ? null : out, keyFile: path.join(value.dir, "private", "ca.key"), encrypted: passphrase !== undefined, warnings: ctx.warnings },
    () =>
      o.csrOut === "-"
        ? ""
        : [
            `Pending intermediate CA ${ctx.bold(value.subject)} (${value.keyType}): key and request made`,
            `  store        ${value.dir} (pending until \`mtlsctl ca install\`)`,
            `  request      ${out}`,
            `Next, on the root's machine:  mtlsctl ca sign ${path.basename(out)} --dir ROOT-STORE --out inter.crt [--path-len N] [--permit-...]`,
            `Then here:                    mtlsctl ca install inter.crt --root root.crt --dir ${path.relative(process.cwd(), value.dir) || "."}`,
          ].join("\n"),
  );
}
