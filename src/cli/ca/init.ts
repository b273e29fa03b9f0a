import * as path from "node:path";
import { Ctx, getSecret } from "../context";
import { initCa } from "../../ca";
import { parseKeyType } from "../../pki/keys";
import { Store } from "../../store/store";
import { inputError } from "../../errors";
import { formatRfc4514 } from "../../pki/name";

export async function run(_args: string[], o: Record<string, any>): Promise<void> {
  const ctx = new Ctx(o);
  const keyType = parseKeyType(o.key);
  if (Store.exists(ctx.dir) && !o.force) throw inputError("a CA already exists here (use --force to replace it)", path.join(ctx.dir, "ca.crt"));
  if (o.encrypt === false && o.passphraseFile !== undefined) throw inputError("--no-encrypt and --passphrase-file contradict each other");
  const passphrase =
    o.encrypt === false ? undefined : await getSecret(ctx, { what: "new CA passphrase", file: o.passphraseFile, fileFlag: "--passphrase-file", env: "MTLSCTL_PASSPHRASE", confirm: true });
  const { value, warnings } = initCa({ dir: ctx.dir, keyType, name: o.name, subject: o.subject, days: o.days, pathLen: o.pathLen, passphrase, force: o.force });
  ctx.warnAll(warnings);
  const c = value.cert;
  ctx.result(
    {
      dir: ctx.dir,
      subject: formatRfc4514(c.subject),
      keyType,
      serial: c.serialHex,
      notBefore: c.notBefore.toISOString(),
      notAfter: c.notAfter.toISOString(),
      fingerprint: c.fingerprint,
      certFile: value.store.caCertFile,
      keyFile: value.store.caKeyFile,
      encrypted: passphrase !== undefined,
      warnings: ctx.warnings,
    },
    () =>
      [
        `Created CA ${ctx.bold(formatRfc4514(c.subject))} (${keyType}), valid until ${c.notAfter.toISOString()}`,
        `  store        ${ctx.dir}`,
        `  certificate  ${value.store.caCertFile}`,
        `  key          ${value.store.caKeyFile} (${passphrase !== undefined ? "encrypted, AES-256" : "NOT encrypted"})`,
        `  SHA-256      ${c.fingerprint}`,
      ].join("\n"),
  );
}
