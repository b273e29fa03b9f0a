import * as path from "node:path";
import { Ctx } from "../context";
import { accessOptions, passphraseFrom, reportIssued, sansFromOptions } from "../common";
import { openStore } from "../../api/store";
import type { Command } from "commander";
import { mustAsk } from "../prompts";
import { promptClient } from "../prompt-identity";
import { nameCheck } from "../prompt-store";
import { issueClientInStore } from "../../api/db-store";
import { withDb } from "../store/open";

/** `client issue`: key, request and certificate in one step, on the CA's machine (src/api/store.ts issueClient). */
export async function run([nameArg]: string[], o: Record<string, any>, cmd?: Command): Promise<void> {
  const ctx = new Ctx(o);
  // no NAME: on a terminal, ask for it (then the key type and SANs); else exit 2 naming it
  let name: string = nameArg;
  if (name === undefined) {
    const missing = "missing required argument 'name': give client issue NAME (or --from FILE)";
    mustAsk(ctx, missing);
    const check = await nameCheck(ctx, o.force); // no store: refused before any question
    name = await promptClient(ctx, o, cmd, missing, check.taken);
  }
  if (ctx.db !== undefined) {
    // a database store (issue 19): the key is never stored, it goes to --out-dir (default .) with the certificate
    const nameArg = name;
    const jd = await withDb(ctx, (db) =>
      issueClientInStore(db, nameArg, { ...sansFromOptions(o), ...accessOptions(o), subject: o.subject, keyType: o.key, days: o.days, force: o.force, outDir: o.outDir ?? ".", passphrase: passphraseFrom(ctx, o.passphraseFile) }),
    );
    reportIssued(ctx, "Issued client certificate", jd);
    return;
  }
  const j = await openStore(ctx.dir).issueClient(name, {
    ...sansFromOptions(o),
    ...accessOptions(o),
    subject: o.subject,
    keyType: o.key,
    days: o.days,
    force: o.force,
    // --no-keep-key: commander sets keepKey false; the key goes to --out-dir (default .) as <name>.key
    keyOut: o.keepKey === false ? path.join(o.outDir ?? ".", `${name}.key`) : undefined,
    passphrase: passphraseFrom(ctx, o.passphraseFile),
  });
  reportIssued(ctx, "Issued client certificate", j);
}
