/** `status [--expiring DAYS] [--json]`: days left per certificate; exit 1 when any expires within the window. */
import { Ctx } from "./context";
import { Store } from "../store/store";
import { storeStatus } from "../lifecycle/status";
import { statusOfStore } from "../api/db-store";
import { withDb } from "./store/open";

export async function run(_args: string[], o: Record<string, any>): Promise<void> {
  const ctx = new Ctx(o);
  const st = ctx.db !== undefined ? await withDb(ctx, (db) => statusOfStore(db, { expiringDays: o.expiring })) : storeStatus(Store.open(ctx.dir), { expiringDays: o.expiring });
  ctx.warnAll(st.warnings);
  ctx.result({ ...st, warnings: ctx.warnings }, () => {
    const table = [["KIND", "NAME", "SERIAL", "EXPIRES", "DAYS LEFT", ""]];
    for (const c of st.certificates)
      table.push([c.kind, c.name, c.serial.slice(0, 16), c.notAfter.slice(0, 10), String(c.daysLeft), c.expired ? "EXPIRED" : c.expiring ? `expires within ${st.windowDays} days` : "ok"]);
    const widths = table[0].map((_, i) => Math.max(...table.map((row) => row[i].length)));
    const right = new Set([4]);
    const lines = table.map((row) =>
      row
        .map((cell, i) => (i === row.length - 1 ? cell : right.has(i) ? cell.padStart(widths[i]) : cell.padEnd(widths[i])))
        .join("  ")
        .trimEnd(),
    );
    lines.push("");
    lines.push(`${st.counts.valid} valid, ${st.counts.revoked} revoked, ${st.counts.superseded} superseded`);
    if (st.crl) lines.push(`CRL #${st.crl.number ?? "?"}: ${st.crl.revoked} revoked, next update ${st.crl.nextUpdate ?? "(none)"}${st.crl.overdue ? " (OVERDUE)" : ""}`);
    else lines.push("CRL: none yet (mtlsctl crl)");
    lines.push(
      st.expiring.length
        ? `${st.expiring.length} certificate(s) expire within ${st.windowDays} days: ${st.expiring.join(", ")} (${
            st.certificates.some((c) => c.kind === "ca" && c.expiring) ? "the CA cannot be renewed: make a new CA and re-issue; " : ""
          }renew the others with: mtlsctl renew NAME)`
        : `nothing expires within ${st.windowDays} days`,
    );
    return lines.join("\n");
  });
  if (st.expiring.length) process.exitCode = 1;
}
