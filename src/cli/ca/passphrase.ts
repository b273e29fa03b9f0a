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

export async function run(_args: string[], o: Record<string, any>): Promise<void> {
  const ctx = new Ctx(o);
  if (o.encrypt === false && o.newPassphraseFile !== undefined) throw inputError("--no-encrypt and --new-passphrase-file contradict each other");
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
