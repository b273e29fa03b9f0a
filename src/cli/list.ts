import { Ctx } from "./context";
import { Store, CertRecord } from "../store/store";
import { natsUserOfRecord } from "../nats/config-writer";

export function listEntries(store: Store, expiringDays?: number) {
  const inv = store.readInventory();
  const now = Date.now();
  const rows = [inv.ca, ...inv.certificates].filter((c) => expiringDays === undefined || (c.status === "valid" && new Date(c.notAfter).getTime() - now <= expiringDays * 86_400_000));
  return rows.map((c: CertRecord) => ({
    name: c.name,
    kind: c.kind,
    serial: c.serial,
    subject: c.subject,
    sans: c.sans,
    notBefore: c.notBefore,
    notAfter: c.notAfter,
    daysLeft: Math.floor((new Date(c.notAfter).getTime() - now) / 86_400_000),
    status: c.status,
    fingerprint: c.fingerprint,
    keyType: c.keyType,
    natsUser: c.kind === "client" && c.status === "valid" ? natsUserOfRecord(store, c).user : null,
    revokedAt: c.revokedAt,
    revocationReason: c.revocationReason,
    renewedBy: c.renewedBy ?? null,
    renews: c.renews ?? null,
  }));
}

export function run(_args: string[], o: Record<string, any>): void {
  const ctx = new Ctx(o);
  const store = Store.open(ctx.dir);
  const rows = listEntries(store, o.expiring);
  if (ctx.json) {
    process.stdout.write(JSON.stringify(rows, null, 2) + "\n");
    return;
  }
  const table = [["NAME", "KIND", "STATUS", "SERIAL", "EXPIRES", "DAYS", "NATS USER / SUBJECT"]];
  for (const r of rows)
    table.push([r.name, r.kind, r.status, r.serial.slice(0, 16), r.notAfter.slice(0, 10), String(r.daysLeft), r.natsUser !== null ? JSON.stringify(r.natsUser) : r.subject]);
  const widths = table[0].map((_, i) => Math.max(...table.map((row) => row[i].length)));
  ctx.result(null, () => table.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]))).join("  ")).join("\n"));
}
