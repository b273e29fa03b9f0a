/** `revoke <name> | --serial HEX [--reason R]`: revoke, then sign a fresh CRL (<dir>/crl.pem). */
import * as path from "node:path";
import { Ctx } from "./context";
import { passphraseFrom } from "./common";
import { inputError, usageError } from "../errors";
import { openStore } from "../api/store";
import { REASON_NAMES } from "../lifecycle/crl";
import * as prompts from "./prompts";
import { revokeInDb } from "../api/db-store";
import { withDb } from "./store/open";
import { revocable } from "./prompt-store";

export async function run(args: string[], o: Record<string, any>): Promise<void> {
  const ctx = new Ctx(o);
  let name: string | undefined = args[0];
  if (name !== undefined && o.serial !== undefined) throw usageError("revoke takes a name or --serial HEX (one of them)");
  if (name === undefined && o.serial === undefined) {
    // on a terminal (either store): choose among the valid certificates, then the reason, then confirm
    prompts.mustAsk(ctx, "revoke takes a name or --serial HEX (one of them)");
    const { live, location } = await revocable(ctx); // the file store's inventory, or the database's valid rows
    if (!live.length) throw inputError("no valid certificate to revoke", location);
    name = await prompts.askStoreName(ctx, "Revoke which certificate?", live);
    if (o.reason === undefined) {
      o.reason = await prompts.askSelect(ctx, "Reason (RFC 5280)", REASON_NAMES.map((r) => ({ name: r, value: r as string })), "unspecified");
    }
    if (!(await prompts.askConfirm(ctx, `Revoke "${name}" (${o.reason})? This cannot be undone`, false))) throw usageError("cancelled: nothing was revoked");
  }
  if (ctx.db !== undefined) {
    // a database store (issue 19): the CRL is kept in the database
    const rd = await withDb(ctx, (db) => revokeInDb(db, { name, serial: o.serial as string | undefined }, { reason: o.reason, nextUpdateDays: o.nextUpdateDays, passphrase: passphraseFrom(ctx, o.passphraseFile) }));
    ctx.warnAll(rd.warnings);
    ctx.result(rd, () => [...rd.revoked.map((c) => `Revoked ${ctx.bold(c.name)} serial ${c.serial}${c.renewedBy ? " (superseded)" : ""}: ${rd.reason}, ${c.revokedAt}`), `CRL #${rd.crl.number} kept in ${rd.crl.file}: ${rd.crl.revoked} revoked, next update ${rd.crl.nextUpdate}`].join("\n"));
    return;
  }
  const r = await openStore(ctx.dir).revoke({ name, serial: o.serial as string | undefined }, { reason: o.reason, nextUpdateDays: o.nextUpdateDays, passphrase: passphraseFrom(ctx, o.passphraseFile) });
  ctx.warnAll(r.warnings);
  const rel = (f: string) => path.relative(process.cwd(), f) || f;
  ctx.result(r, () =>
    [
      ...r.revoked.map((c) => `Revoked ${ctx.bold(c.name)} serial ${c.serial}${c.renewedBy ? " (superseded)" : ""}: ${r.reason}, ${c.revokedAt}`),
      `CRL #${r.crl.number} written to ${rel(r.crl.file)}: ${r.crl.revoked} revoked, next update ${r.crl.nextUpdate}`,
      ...(r.revoked.some((c) => c.kind === "client")
        ? [
            "nats-server has no CRL support: regenerate its snippet (`mtlsctl config nats`, which drops revoked users; add --pinned to refuse revoked keys at the handshake) and reload the server.",
          ]
        : []),
    ].join("\n"),
  );
}
