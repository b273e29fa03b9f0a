/** `crl [--out F] [--der]`: sign a fresh CRL, update <dir>/crl.pem, and print or write it. */
import * as fs from "node:fs";
import * as path from "node:path";
import { Ctx } from "./context";
import { passphraseFrom, writeOutput } from "./common";
import { openStore } from "../api/store";
import { inputError } from "../errors";
import { checkNextUpdateDays } from "../lifecycle/crl";
import { crlOfStore } from "../api/db-store";
import { withDb } from "./store/open";

export async function run(_args: string[], o: Record<string, any>): Promise<void> {
  const ctx = new Ctx(o);
  checkNextUpdateDays(o.nextUpdateDays);
  const toStdout = o.out === undefined || o.out === "-";
  if (o.der && toStdout && !ctx.json && process.stdout.isTTY) throw inputError("refusing to write DER to a terminal: use --out FILE");
  // refuse an existing --out before signing: a refused command changes nothing in the store
  if (!toStdout && !o.force && fs.existsSync(path.resolve(o.out))) throw inputError("already exists (use --force to replace it)", path.resolve(o.out));
  const facts = ctx.db !== undefined ? await withDb(ctx, (db) => crlOfStore(db, { nextUpdateDays: o.nextUpdateDays, format: o.der ? "der" : "pem", passphrase: passphraseFrom(ctx, o.passphraseFile) })) : await openStore(ctx.dir).crl({ nextUpdateDays: o.nextUpdateDays, format: o.der ? "der" : "pem", passphrase: passphraseFrom(ctx, o.passphraseFile) });
  ctx.warnAll(facts.warnings);
  facts.out = o.out ?? null;
  const data = o.der ? Buffer.from(facts.crl, "base64") : facts.crl;
  if (ctx.json) {
    if (!toStdout) writeOutput(o.out, data, { force: o.force });
    ctx.result(facts, () => "");
    return;
  }
  writeOutput(o.out, data, { force: o.force });
  ctx.note(`CRL #${facts.number}: ${facts.revoked.length} revoked, next update ${facts.nextUpdate}; also ${ctx.db !== undefined ? "kept in" : "written to"} ${facts.file}${toStdout ? "" : `; wrote ${o.out} (${facts.format})`}`);
}
