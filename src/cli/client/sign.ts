import * as path from "node:path";
import { Ctx } from "../context";
import { readCsr } from "../../pki/csr";
import { readFileChecked } from "../../input";
import { accessOptions, passphraseFrom, reportIssued, sansFromOptions } from "../common";
import { usageError } from "../../errors";
import { NAME_RULE } from "../../store/store";
import { openStore } from "../../api/store";
import { signCsrInStore } from "../../api/db-store";
import { withDb } from "../store/open";

/** `client sign <file.csr>`: a client certificate for a request made elsewhere (src/api/store.ts signCsr). */
export async function run([csrFile]: string[], o: Record<string, any>): Promise<void> {
  const ctx = new Ctx(o);
  if (o.outDir !== undefined && ctx.db === undefined) throw usageError("--out-dir is for a database store (--db): a file store keeps the certificate in issued/NAME.crt");
  const data = readFileChecked(csrFile, "certificate request");
  const csr = readCsr(data, csrFile); // a malformed request is refused before the name is derived from its file name (parsed once)
  let name: string | undefined = o.name;
  if (name === undefined) {
    const base = path.basename(csrFile).replace(/\.(csr|req|pem)$/i, "");
    if (!NAME_RULE.test(base)) throw usageError(`cannot derive a name from "${csrFile}": give --name`);
    name = base;
  }
  const opts = {
    name,
    file: csrFile,
    ...sansFromOptions(o),
    ...accessOptions(o),
    subject: o.subject,
    days: o.days,
    force: o.force,
    passphrase: passphraseFrom(ctx, o.passphraseFile),
  };
  // a database store (issue 19): the certificate is also written to --out-dir (default .) as NAME.crt
  const j = ctx.db !== undefined ? await withDb(ctx, (db) => signCsrInStore(db, csr, { ...opts, outDir: o.outDir ?? "." })) : await openStore(ctx.dir).signCsr(csr, opts);
  reportIssued(ctx, "Signed client certificate", j);
}
