/** `revoke <name> | --serial HEX [--reason R]`: revoke, then sign a fresh CRL (<dir>/crl.pem). */
import * as path from "node:path";
import { Ctx } from "./context";
import { openCa } from "./common";
import { Store } from "../store/store";
import { inputError, usageError } from "../errors";
import { checkRevocation, revoke } from "../lifecycle/revoke";
import { REASON_NAMES } from "../lifecycle/crl";
import * as prompts from "./prompts";

export async function run(args: string[], o: Record<string, any>): Promise<void> {
  const ctx = new Ctx(o);
  let name: string | undefined = args[0];
  if (name !== undefined && o.serial !== undefined) throw usageError("revoke takes a name or --serial HEX (one of them)");
  if (name === undefined && o.serial === undefined) {
    // on a terminal: choose among the valid certificates, then the reason, then confirm
    prompts.mustAsk(ctx, "revoke takes a name or --serial HEX (one of them)");
    const store = Store.open(ctx.dir);
    const live = store.readInventory().certificates.filter((c) => c.status === "valid" && !c.renewedBy && new Date(c.notAfter).getTime() > Date.now());
    if (!live.length) throw inputError("no valid certificate to revoke", store.inventoryFile);
    name = await prompts.askStoreName(ctx, "Revoke which certificate?", live);
    if (o.reason === undefined) {
      o.reason = await prompts.askSelect(ctx, "Reason (RFC 5280)", REASON_NAMES.map((r) => ({ name: r, value: r as string })), "unspecified");
    }
    if (!(await prompts.askConfirm(ctx, `Revoke "${name}" (${o.reason})? This cannot be undone`, false))) throw usageError("cancelled: nothing was revoked");
  }
  const target = { name, serial: o.serial as string | undefined };
  const opts = { reason: o.reason as string | undefined, nextUpdateDays: o.nextUpdateDays as number | undefined };
  checkRevocation(Store.open(ctx.dir), target, opts); // refused before any passphrase prompt
  const ca = await openCa(ctx, { passphraseFile: o.passphraseFile });
  const warnings: string[] = [];
  const r = revoke(ca.store, ca.signer, ca.caCert, target, opts, warnings);
  ctx.warnAll(warnings);
  const rel = (f: string) => path.relative(process.cwd(), f) || f;
  ctx.result(
    {
      revoked: r.revoked.map((c) => ({ name: c.name, kind: c.kind, serial: c.serial, revokedAt: c.revokedAt, reason: c.revocationReason, renewedBy: c.renewedBy ?? null })),
      reason: r.reason,
      crl: { file: r.crlFile, number: r.crl.number, thisUpdate: r.crl.thisUpdate.toISOString(), nextUpdate: r.crl.nextUpdate.toISOString(), revoked: r.crl.entries.length },
      warnings: ctx.warnings,
    },
    () =>
      [
        ...r.revoked.map((c) => `Revoked ${ctx.bold(c.name)} serial ${c.serial}${c.renewedBy ? " (superseded)" : ""}: ${r.reason}, ${c.revokedAt}`),
        `CRL #${r.crl.number} written to ${rel(r.crlFile)}: ${r.crl.entries.length} revoked, next update ${r.crl.nextUpdate.toISOString()}`,
        ...(r.revoked.some((c) => c.kind === "client")
          ? [
              "nats-server has no CRL support: regenerate its snippet (`mtlsctl config nats`, which drops revoked users; add --pinned to refuse revoked keys at the handshake) and reload the server.",
            ]
          : []),
      ].join("\n"),
  );
}
