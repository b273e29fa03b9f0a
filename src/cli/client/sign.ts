import * as path from "node:path";
import { Ctx } from "../context";
import { readCsr } from "../../pki/csr";
import { readFileChecked } from "../../input";
import { accessOptions, passphraseFrom, reportIssued, sansFromOptions } from "../common";
import { usageError } from "../../errors";
import { NAME_RULE } from "../../store/store";
import { openStore } from "../../api/store";

/** `client sign <file.csr>`: a client certificate for a request made elsewhere (src/api/store.ts signCsr). */
export async function run([csrFile]: string[], o: Record<string, any>): Promise<void> {
  const ctx = new Ctx(o);
  const data = readFileChecked(csrFile, "certificate request");
  readCsr(data, csrFile); // a malformed request is refused before the name is derived from its file name
  let name: string | undefined = o.name;
  if (name === undefined) {
    const base = path.basename(csrFile).replace(/\.(csr|req|pem)$/i, "");
    if (!NAME_RULE.test(base)) throw usageError(`cannot derive a name from "${csrFile}": give --name`);
    name = base;
  }
  const j = await openStore(ctx.dir).signCsr(data, {
    name,
    file: csrFile,
    ...sansFromOptions(o),
    ...accessOptions(o),
    subject: o.subject,
    days: o.days,
    force: o.force,
    passphrase: passphraseFrom(ctx, o.passphraseFile),
  });
  reportIssued(ctx, "Signed client certificate", j);
}
