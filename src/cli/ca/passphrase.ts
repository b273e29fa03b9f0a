/**
 * `ca passphrase`: re-encrypts the CA key (PKCS#8, PBES2, AES-256) under a new passphrase, or
 * writes it unencrypted with --no-encrypt. The current passphrase is checked before the new one is
 * asked for; a wrong one changes nothing (exit 3).
 */
import { Ctx, getSecret } from "../context";
import { Store } from "../../store/store";
import { inputError } from "../../errors";
import { checkKeyFileMode } from "../../pki/keys";
import { changePassphrase } from "../../lifecycle/rollover";
import { caKeyEncryptedInDb, changeDbCaPassphrase, checkDbCaPassphrase } from "../../api/db-store";
import { withDb } from "../store/open";

export async function run(_args: string[], o: Record<string, any>): Promise<void> {
  const ctx = new Ctx(o);
  if (o.encrypt === false && o.newPassphraseFile !== undefined) throw inputError("--no-encrypt and --new-passphrase-file contradict each other");
  if (ctx.db !== undefined) return onDb(ctx, o);
  const store = Store.open(ctx.dir);
  const caCert = store.caCertificate();
  checkKeyFileMode(store.caKeyFile);
  const wasEncrypted = store.caKeyEncrypted();
  const old = wasEncrypted
    ? await getSecret(ctx, { what: "current CA passphrase", file: o.passphraseFile, fileFlag: "--passphrase-file", env: "MTLSCTL_PASSPHRASE" })
    : undefined;
  store.caKey(old, caCert); // a wrong passphrase stops here, before the new one is asked for
  const next =
    o.encrypt === false
      ? undefined
      : await getSecret(ctx, { what: "new CA passphrase", file: o.newPassphraseFile, fileFlag: "--new-passphrase-file", env: "MTLSCTL_NEW_PASSPHRASE", confirm: true });
  const warnings: string[] = [];
  const r = changePassphrase(store, old, next, warnings);
  ctx.warnAll(warnings);
  ctx.result({ dir: ctx.dir, keyFile: store.caKeyFile, wasEncrypted, encrypted: r.encrypted, files: r.files.map((f) => store.path(f)), warnings: ctx.warnings }, () =>
    [
      `${r.encrypted ? "Re-encrypted" : "Decrypted"} the CA key ${store.caKeyFile} (${r.encrypted ? "PKCS#8, PBES2 AES-256" : "NOT encrypted"})`,
      ...(r.files.length > 1 ? [`  and ${r.files.length - 1} previous CA key(s)`] : []),
      r.encrypted ? "  the old passphrase no longer opens it; update MTLSCTL_PASSPHRASE / your passphrase file" : "",
    ]
      .filter(Boolean)
      .join("\n"),
  );
}

/** A database store (issue 19): the ca row's key (and the previous CAs' rows), re-encrypted in one transaction. */
async function onDb(ctx: Ctx, o: Record<string, any>): Promise<void> {
  await withDb(ctx, async (db) => {
    const wasEncrypted = await caKeyEncryptedInDb(db);
    const old = wasEncrypted ? await getSecret(ctx, { what: "current CA passphrase", file: o.passphraseFile, fileFlag: "--passphrase-file", env: "MTLSCTL_PASSPHRASE" }) : undefined;
    await checkDbCaPassphrase(db, old); // a wrong passphrase stops here, before the new one is asked for
    const next =
      o.encrypt === false
        ? undefined
        : await getSecret(ctx, { what: "new CA passphrase", file: o.newPassphraseFile, fileFlag: "--new-passphrase-file", env: "MTLSCTL_NEW_PASSPHRASE", confirm: true });
    const warnings: string[] = [];
    const r = await changeDbCaPassphrase(db, old, next, warnings);
    ctx.warnAll(warnings);
    const keyRow = `${db.location} (ca)`;
    ctx.result({ dir: db.location, keyFile: keyRow, wasEncrypted, encrypted: r.encrypted, files: r.rows.map((x) => `${db.location} (${x})`), warnings: ctx.warnings }, () =>
      [
        `${r.encrypted ? "Re-encrypted" : "Decrypted"} the CA key in ${keyRow} (${r.encrypted ? "PKCS#8, PBES2 AES-256" : "NOT encrypted"})`,
        ...(r.rows.length > 1 ? [`  and ${r.rows.length - 1} previous CA key(s)`] : []),
        r.encrypted ? "  the old passphrase no longer opens it; update MTLSCTL_PASSPHRASE / your passphrase file (and every serve --db instance's)" : "",
      ]
        .filter(Boolean)
        .join("\n"),
    );
  });
}
