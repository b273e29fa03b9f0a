import * as fs from "node:fs";
import * as path from "node:path";
import { Ctx, getSecret } from "../context";
import { parseKeyType } from "../../pki/keys";
import { Store } from "../../store/store";
import { inputError, usageError } from "../../errors";
import { constraintsFromOptions, constraintsSummary, parseNameConstraints } from "../../pki/constraints";
import { initPendingIntermediate } from "../../hierarchy";
import { openStore } from "../../api/store";
import { writeOutput } from "../common";
import { withDb } from "../store/open";
import { initCaInDb } from "../../api/db-init";
import { putPendingCa } from "../../store/pg/pending";
import * as os from "node:os";

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
  if (o.pkcs11 !== undefined && o.intermediate) throw usageError("--pkcs11 goes with a root CA (not --intermediate)");
  if (o.pkcs11 !== undefined && o.encrypt === false) throw usageError("--pkcs11 and --no-encrypt contradict each other (a token-held key is never in a file)");
  if (ctx.db !== undefined) return initOnDb(ctx, o, keyType, nameConstraints);
  if (Store.exists(ctx.dir) && !o.force) throw inputError("a CA already exists here (use --force to replace it)", path.join(ctx.dir, "ca.crt"));
  if (o.encrypt === false && o.passphraseFile !== undefined) throw inputError("--no-encrypt and --passphrase-file contradict each other");
  if (o.csrOut !== undefined) return pending(ctx, o, keyType);
  // the root store is checked before any passphrase is asked for, the root's before the new one (src/api/store.ts initCa)
  const j = await openStore(ctx.dir).initCa({ ...initOptions(ctx, o, keyType, nameConstraints), force: o.force });
  ctx.warnAll(j.warnings);
  const nc = j.nameConstraints ? parseNameConstraints(Store.open(ctx.dir).caCertificate()).nc : null;
  ctx.result(j, () =>
    [
      `Created ${j.intermediate ? "intermediate " : ""}CA ${ctx.bold(j.subject)} (${keyType}), valid until ${j.notAfter}`,
      `  store        ${ctx.dir}`,
      `  certificate  ${j.certFile}`,
      j.pkcs11File ? `  key          in the PKCS#11 token (${j.pkcs11}), named by ${j.pkcs11File}` : `  key          ${j.keyFile} (${j.encrypted ? "encrypted, AES-256" : "NOT encrypted"})`,
      `  SHA-256      ${j.fingerprint}`,
      ...(j.intermediate ? [`  issuer       ${j.issuer} (recorded as "${j.recordedAs}" in ${j.rootDir})`, `  chain        ${j.chainFile}`, `  roots        ${j.rootsFile} (the ca_file)`] : []),
      ...(j.pathLen !== null ? [`  path length  ${j.pathLen}`] : []),
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
    { dir: value.dir, pending: true, subject: value.subject, keyType: value.keyType, csrFile: o.csrOut === "-" ? null : out, keyFile: new Store(value.dir).caKeyFile, encrypted: passphrase !== undefined, warnings: ctx.warnings },
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

/**
 * initCa's options from the flags, on either store. --pkcs11: --passphrase-file / MTLSCTL_PASSPHRASE is the
 * token's PIN, read only when the URI names no pin-source; the secrets are asked for only when needed.
 */
function initOptions(ctx: Ctx, o: Record<string, any>, keyType: ReturnType<typeof parseKeyType>, nameConstraints: ReturnType<typeof constraintsFromOptions>) {
  const pin = () => getSecret(ctx, { what: "PKCS#11 token PIN", file: o.passphraseFile, fileFlag: "--passphrase-file", env: "MTLSCTL_PASSPHRASE" });
  const newPassphrase = () => getSecret(ctx, { what: "new CA passphrase", file: o.passphraseFile, fileFlag: "--passphrase-file", env: "MTLSCTL_PASSPHRASE", confirm: true });
  const rootPassphrase = () => getSecret(ctx, { what: "root CA passphrase", file: o.rootPassphraseFile, fileFlag: "--root-passphrase-file", env: "MTLSCTL_ROOT_PASSPHRASE" });
  return {
    keyType,
    name: o.name as string | undefined,
    subject: o.subject as string | undefined,
    days: o.days as number | undefined,
    pathLen: o.pathLen as number | undefined,
    nameConstraints,
    passphrase: o.pkcs11 !== undefined ? pin : o.encrypt === false ? null : newPassphrase,
    ...(o.pkcs11 !== undefined ? { pkcs11: o.pkcs11 as string } : {}),
    ...(o.rootDir !== undefined ? { root: { dir: o.rootDir as string, passphrase: rootPassphrase } } : {}),
  };
}

/**
 * `ca init --db URL` (issue 19): a new root CA on an empty database. The CA is made as `ca init` makes
 * it, in a private temporary directory (0700, removed afterwards, whatever happens), then copied into
 * the database by `store copy`'s one transaction (which also creates the schema).
 */
async function initOnDb(ctx: Ctx, o: Record<string, any>, keyType: ReturnType<typeof parseKeyType>, nameConstraints: ReturnType<typeof constraintsFromOptions>): Promise<void> {
  // --intermediate --root-dir: the root's file store signs now, the sub-CA goes into the database; with
  // --csr-out a pending one waits in the database for `ca install --db` (pendingOnDb)
  if (o.force) throw usageError("ca init --db never replaces a store: it needs an empty database");
  if (o.intermediate && o.csrOut !== undefined) return pendingOnDb(ctx, o, keyType);
  if (o.encrypt === false && o.passphraseFile !== undefined) throw inputError("--no-encrypt and --passphrase-file contradict each other");
  await withDb(ctx, async (db) => {
    // the library's initCa on a database (one code path with openStore(URL).initCa): refuses a database that holds a store
    const j = await initCaInDb(db, initOptions(ctx, o, keyType, nameConstraints));
    ctx.warnAll(j.warnings);
    ctx.result(j, () =>
      [
        `Created ${j.intermediate ? "intermediate " : ""}CA ${ctx.bold(j.subject)} (${keyType}), valid until ${j.notAfter}`,
        `  store        ${db.location}`,
        ...(j.intermediate ? [`  issuer       ${j.issuer} (recorded as "${j.recordedAs}" in ${j.rootDir})`] : []),
        j.pkcs11 ? `  key          in the PKCS#11 token (${j.pkcs11}); the database holds its URI` : `  key          in the database (${j.encrypted ? "encrypted, AES-256" : "NOT encrypted"})`,
        `  SHA-256      ${j.fingerprint}`,
        ...(j.pathLen !== null ? [`  path length  ${j.pathLen}`] : []),
      ].join("\n"),
    );
  });
}

/**
 * `ca init --db URL --intermediate --csr-out F` (issue 19): a pending intermediate on an empty database.
 * Made as on a directory (pending(): the key and its request), in a private temporary directory, then
 * kept in the database's pending_ca row until `ca install --db` (src/cli/ca/install.ts).
 */
async function pendingOnDb(ctx: Ctx, o: Record<string, any>, keyType: ReturnType<typeof parseKeyType>): Promise<void> {
  const out = path.resolve(o.csrOut);
  if (o.csrOut !== "-" && fs.existsSync(out)) throw inputError("already exists (remove it first)", out);
  if (o.pathLen !== undefined || constraintsFromOptions(o) || o.days !== undefined)
    throw inputError("--path-len, --days and name constraints are set by the signer: give them to `mtlsctl ca sign` on the root's machine");
  await withDb(ctx, async (db) => {
    if (!(await db.isEmpty())) throw inputError("the database already holds a store: ca init --db needs an empty one", db.location, "exists");
    const passphrase =
      o.encrypt === false ? undefined : await getSecret(ctx, { what: "new CA passphrase", file: o.passphraseFile, fileFlag: "--passphrase-file", env: "MTLSCTL_PASSPHRASE", confirm: true });
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "mtlsctl-pending-"));
    try {
      const dir = path.join(tmp, "pki");
      const { value, warnings } = initPendingIntermediate({ dir, keyType, name: o.name, subject: o.subject, passphrase });
      const st = new Store(value.dir);
      // the request first (a refused database write then removes it): never a pending row without its request
      if (o.csrOut !== "-") writeOutput(o.csrOut, value.csrPem, {});
      try {
        await putPendingCa(db, { keyPem: fs.readFileSync(st.caKeyFile, "utf8"), csrPem: value.csrPem });
      } catch (e) {
        if (o.csrOut !== "-") fs.rmSync(out, { force: true });
        throw e;
      }
      ctx.warnAll(warnings.map((w) => w.split(dir).join(db.location)));
      if (o.csrOut === "-") writeOutput(o.csrOut, value.csrPem, {});
      ctx.result(
        { dir: db.location, pending: true, subject: value.subject, keyType: value.keyType, csrFile: o.csrOut === "-" ? null : out, keyFile: db.location, encrypted: passphrase !== undefined, warnings: ctx.warnings },
        () =>
          o.csrOut === "-"
            ? ""
            : [
                `Pending intermediate CA ${ctx.bold(value.subject)} (${value.keyType}): key and request made`,
                `  store        ${db.location} (pending until \`mtlsctl ca install --db\`)`,
                `  request      ${out}`,
                `Next, on the root's machine:  mtlsctl ca sign ${path.basename(out)} --dir ROOT-STORE --out inter.crt [--path-len N] [--permit-...]`,
                `Then here:                    mtlsctl ca install inter.crt --root root.crt --db URL`,
              ].join("\n"),
      );
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });
}
