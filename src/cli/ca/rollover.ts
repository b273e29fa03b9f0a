/**
 * `ca rollover`: a new root key and certificate become the store's CA; the previous root stays
 * trusted beside it in roots.pem (the overlap) until `ca retire`.
 */
import { Ctx, getSecret } from "../context";
import { Store } from "../../store/store";
import { checkKeyFileMode, parseKeyType } from "../../pki/keys";
import { formatRfc4514 } from "../../pki/name";
import { rollover } from "../../lifecycle/rollover";
import { inputError } from "../../errors";
import { caKeyEncryptedInDb, rolloverInDb } from "../../api/db-store";
import { withDb } from "../store/open";

export async function run(_args: string[], o: Record<string, any>): Promise<void> {
  const ctx = new Ctx(o);
  const keyType = o.key === undefined ? undefined : parseKeyType(o.key);
  // a database store (issue 19): the new CA's row, the previous CA's row and every record's caSerial in one transaction
  if (ctx.db !== undefined) return onDb(ctx, o, keyType);
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

/** A database store (issue 19): the new CA's row, the previous CA's row and every record's caSerial, in one transaction. */
async function onDb(ctx: Ctx, o: Record<string, any>, keyType: ReturnType<typeof parseKeyType> | undefined): Promise<void> {
  if (o.name !== undefined && o.subject !== undefined) throw inputError("give --name or --subject, not both");
  await withDb(ctx, async (db) => {
    const old = await db.caCertificate();
    const passphrase = (await caKeyEncryptedInDb(db)) ? await getSecret(ctx, { what: "CA passphrase", file: o.passphraseFile, fileFlag: "--passphrase-file", env: "MTLSCTL_PASSPHRASE" }) : undefined;
    const warnings: string[] = [];
    const r = await rolloverInDb(db, { keyType, name: o.name, subject: o.subject, days: o.days, passphrase }, warnings);
    ctx.warnAll(warnings);
    const c = r.cert;
    const at = (x: string) => `${db.location} (${x})`;
    ctx.result(
      {
        dir: db.location,
        ca: { subject: formatRfc4514(c.subject), serial: c.serialHex, keyType: r.keyType, notBefore: c.notBefore.toISOString(), notAfter: c.notAfter.toISOString(), fingerprint: c.fingerprint, certFile: at("ca"), keyFile: at("ca"), encrypted: r.encrypted },
        previous: { subject: r.previous.subject, serial: r.previous.serial, notAfter: r.previous.notAfter, caStatus: r.previous.caStatus, certFile: at(`previous CA ${r.previous.serial}`), keyFile: at(`previous CA ${r.previous.serial}`) },
        rootsFile: at("ca roots"),
        roots: r.roots,
        warnings: ctx.warnings,
      },
      () =>
        [
          `New CA ${ctx.bold(formatRfc4514(c.subject))} (${r.keyType}), serial ${c.serialHex}, valid until ${c.notAfter.toISOString()}`,
          `  previous CA  ${formatRfc4514(old.subject)}, serial ${old.serialHex}: in overlap (still trusted), kept in ${at("previous_cas")}`,
          `  trust file   ${at("ca roots")} (${r.roots.length} CAs)`,
          "Next: give the servers both CAs (mtlsctl export ca --format roots --out FILE, then config nats --ca-file FILE; Java: --format truststore) and reload",
          "      them, before handing out certificates of the new CA; renew the old certificates (mtlsctl renew NAME); then mtlsctl ca retire --all-previous.",
        ].join("\n"),
    );
  });
}
