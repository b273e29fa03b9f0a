import * as fs from "node:fs";
import * as path from "node:path";
import { Ctx, getSecret } from "../context";
import { makeCsr } from "../../ca";
import { parseKeyType, privateKeyPem } from "../../pki/keys";
import { sansFromOptions } from "../common";
import { writeFileAtomic } from "../../store/atomic";
import { inputError } from "../../errors";
import { checkName } from "../../store/store";
import type { Command } from "commander";
import { promptClient } from "../prompt-identity";

export async function run([nameArg]: string[], o: Record<string, any>, cmd?: Command): Promise<void> {
  const ctx = new Ctx(o);
  // no NAME: on a terminal, ask for it (then the key type and SANs); else exit 2 naming it
  const name: string =
    nameArg ??
    (await promptClient(ctx, o, cmd, "missing required argument 'name': give client csr NAME", (n) => {
      if (o.force) return null;
      const f = [`${n}.key`, `${n}.csr`].map((b) => path.join(path.resolve(o.outDir), b)).find((x) => fs.existsSync(x));
      return f ? `${f} already exists (use --force to replace it)` : null;
    }));
  checkName(name);
  const keyType = parseKeyType(o.key);
  const outDir = path.resolve(o.outDir);
  if (!fs.existsSync(outDir) || !fs.statSync(outDir).isDirectory()) throw inputError("not a directory", outDir);
  const keyFile = path.join(outDir, `${name}.key`);
  const csrFile = path.join(outDir, `${name}.csr`);
  if (!o.force) for (const f of [keyFile, csrFile]) if (fs.existsSync(f)) throw inputError("already exists (use --force to replace it)", f);
  const warnings: string[] = [];
  const req = makeCsr({ name, subject: o.subject, sans: sansFromOptions(o), keyType }, warnings);
  ctx.warnAll(warnings);
  const passphrase = o.encryptKey
    ? await getSecret(ctx, { what: "key passphrase", file: o.passphraseFile, fileFlag: "--passphrase-file", env: "MTLSCTL_PASSPHRASE", confirm: true })
    : undefined;
  writeFileAtomic(keyFile, privateKeyPem(req.key, passphrase), { mode: 0o600 });
  try {
    writeFileAtomic(csrFile, req.csrPem);
  } catch (e) {
    fs.rmSync(keyFile, { force: true }); // leave nothing half-done behind
    throw e;
  }
  ctx.result({ name, keyType, keyFile, csrFile, keyEncrypted: passphrase !== undefined, warnings: ctx.warnings }, () =>
    [
      `Created ${keyType} key and request for ${ctx.bold(name)}`,
      `  key      ${keyFile} (mode 0600${passphrase !== undefined ? ", encrypted" : ""}; it never leaves this machine)`,
      `  request  ${csrFile}  -> send this to the CA: mtlsctl client sign ${path.basename(csrFile)}`,
    ].join("\n"),
  );
}
