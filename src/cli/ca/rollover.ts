/**
 * `ca rollover`: a new root key and certificate become the store's CA; the previous root stays
 * trusted beside it in roots.pem (the overlap) until `ca retire`.
 */
import { Ctx, getSecret } from "../context";
import { Store } from "../../store/store";
import { checkKeyFileMode, parseKeyType } from "../../pki/keys";
import { formatRfc4514 } from "../../pki/name";
import { rollover } from "../../lifecycle/rollover";
import { inputError, usageError } from "../../errors";

export async function run(_args: string[], o: Record<string, any>): Promise<void> {
  const ctx = new Ctx(o);
  // a database store (issue 19): not yet (a new CA key row, the previous CA's rows and every record's caSerial in one transaction)
  if (ctx.db !== undefined) throw usageError("ca rollover works on a file store only, not yet on a database (--db): roll over a copy (store copy --from URL --to DIR; ca rollover --dir DIR), then store copy it into an empty database");
  const keyType = o.key === undefined ? undefined : parseKeyType(o.key);
  if (o.name !== undefined && o.subject !== undefined) throw inputError("give --name or --subject, not both");
  const store = Store.open(ctx.dir);
  const old = store.caCertificate();
  checkKeyFileMode(store.caKeyFile);
  const passphrase = store.caKeyEncrypted()
    ? await getSecret(ctx, { what: "CA passphrase", file: o.passphraseFile, fileFlag: "--passphrase-file", env: "MTLSCTL_PASSPHRASE" })
    : undefined;
  const warnings: string[] = [];
  const r = rollover(store, { keyType, name: o.name, subject: o.subject, days: o.days, passphrase }, warnings);
  ctx.warnAll(warnings);
  const c = r.cert;
  ctx.result(
    {
      dir: ctx.dir,
      ca: { subject: formatRfc4514(c.subject), serial: c.serialHex, keyType: r.keyType, notBefore: c.notBefore.toISOString(), notAfter: c.notAfter.toISOString(), fingerprint: c.fingerprint, certFile: store.caCertFile, keyFile: store.caKeyFile, encrypted: r.encrypted },
      previous: { subject: r.previous.subject, serial: r.previous.serial, notAfter: r.previous.notAfter, caStatus: r.previous.caStatus, certFile: store.path(r.previous.certFile), keyFile: store.path(r.previous.keyFile!) },
      rootsFile: store.rootsFile,
      roots: r.roots,
      warnings: ctx.warnings,
    },
    () =>
      [
        `New CA ${ctx.bold(formatRfc4514(c.subject))} (${r.keyType}), serial ${c.serialHex}, valid until ${c.notAfter.toISOString()}`,
        `  previous CA  ${formatRfc4514(old.subject)}, serial ${old.serialHex}: in overlap (still trusted), kept as ${store.path(r.previous.certFile)}`,
        `  trust file   ${store.rootsFile} (${r.roots.length} CAs)`,
        "Next: mtlsctl config nats --out ... (ca_file is now roots.pem) and reload nats-server, before handing out",
        "      certificates of the new CA; renew the old certificates (mtlsctl renew NAME); then mtlsctl ca retire --all-previous.",
      ].join("\n"),
  );
}
