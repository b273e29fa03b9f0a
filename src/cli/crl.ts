/** `crl [--out F] [--der]`: sign a fresh CRL, update <dir>/crl.pem, and print or write it. */
import * as fs from "node:fs";
import * as path from "node:path";
import { Ctx } from "./context";
import { openCa, writeOutput } from "./common";
import { inputError } from "../errors";
import { writeCrl, checkNextUpdateDays } from "../lifecycle/crl";

export async function run(_args: string[], o: Record<string, any>): Promise<void> {
  const ctx = new Ctx(o);
  checkNextUpdateDays(o.nextUpdateDays);
  const toStdout = o.out === undefined || o.out === "-";
  if (o.der && toStdout && !ctx.json && process.stdout.isTTY) throw inputError("refusing to write DER to a terminal: use --out FILE");
  // refuse an existing --out before signing: a refused command changes nothing in the store
  if (!toStdout && !o.force && fs.existsSync(path.resolve(o.out))) throw inputError("already exists (use --force to replace it)", path.resolve(o.out));
  const ca = await openCa(ctx, { passphraseFile: o.passphraseFile });
  const warnings: string[] = [];
  const crl = writeCrl(ca.store, ca.signer, ca.caCert, { nextUpdateDays: o.nextUpdateDays }, warnings);
  ctx.warnAll(warnings);
  const data = o.der ? crl.der : crl.pem;
  const facts = {
    number: crl.number,
    thisUpdate: crl.thisUpdate.toISOString(),
    nextUpdate: crl.nextUpdate.toISOString(),
    revoked: crl.entries.map((e) => ({ serial: e.serial, revokedAt: e.revokedAt.toISOString(), reason: e.reason })),
    file: ca.store.path("crl.pem"),
    out: o.out ?? null,
    format: o.der ? "der" : "pem",
    crl: o.der ? crl.der.toString("base64") : crl.pem,
    warnings: ctx.warnings,
  };
  if (ctx.json) {
    if (!toStdout) writeOutput(o.out, data, { force: o.force });
    ctx.result(facts, () => "");
    return;
  }
  writeOutput(o.out, data, { force: o.force });
  ctx.note(`CRL #${crl.number}: ${crl.entries.length} revoked, next update ${facts.nextUpdate}; also written to ${facts.file}${toStdout ? "" : `; wrote ${o.out} (${facts.format})`}`);
}
