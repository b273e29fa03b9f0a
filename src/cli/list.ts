import { Ctx } from "./context";
import { Store, CertRecord, caOf } from "../store/store";
import { natsUserOfRecord } from "../nats/config-writer";
import { writeOut } from "./out";

export function listEntries(store: Store, expiringDays?: number) {
  const inv = store.readInventory();
  const now = Date.now();
  const rows = [inv.ca, ...(inv.previousCas ?? []), ...inv.certificates].filter((c) => expiringDays === undefined || (c.status === "valid" && new Date(c.notAfter).getTime() - now <= expiringDays * 86_400_000));
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
    // ca rollover: the CA that signed it, and whether the store still trusts that CA
    caSerial: caOf(inv, c).serial,
    caStatus: caOf(inv, c).status,
    // issue 10: "peer" (route/gateway/leafnode), "sub-ca"...; the NATS account and own permissions
    profile: c.profile,
    account: c.account ?? null,
    permissions: c.permissions ?? null,
  }));
}

/** The NKey users, as list rows of kind "nkey" (they do not expire, so --expiring leaves them out). */
export function nkeyEntries(store: Store, expiringDays?: number) {
  if (expiringDays !== undefined) return [];
  return (store.readInventory().nkeys ?? []).map((k) => ({
    name: k.name,
    kind: "nkey" as const,
    serial: null,
    subject: null,
    sans: null,
    notBefore: k.createdAt,
    notAfter: null,
    daysLeft: null,
    status: "valid" as const,
    fingerprint: null,
    keyType: "nkey-ed25519",
    natsUser: k.publicKey,
    publicKey: k.publicKey,
    seedFile: store.path(k.seedFile),
    revokedAt: null,
    revocationReason: null,
    renewedBy: null,
    renews: null,
    profile: "nkey",
    account: k.account ?? null,
    permissions: k.permissions ?? null,
  }));
}

export function run(_args: string[], o: Record<string, any>): void {
  const ctx = new Ctx(o);
  const store = Store.open(ctx.dir);
  const rows = listEntries(store, o.expiring);
  const nkeys = nkeyEntries(store, o.expiring);
  if (ctx.json) {
    writeOut(JSON.stringify([...rows, ...nkeys], null, 2) + "\n");
    return;
  }
  const table = [["NAME", "KIND", "STATUS", "SERIAL", "EXPIRES", "DAYS", "NATS USER / SUBJECT"]];
  for (const r of rows)
    table.push([r.name, r.kind, r.caStatus === "current" ? r.status : r.kind === "ca" ? `previous (${r.caStatus})` : `${r.status} (${r.caStatus} CA)`, r.serial.slice(0, 16), r.notAfter.slice(0, 10), String(r.daysLeft), r.natsUser !== null ? JSON.stringify(r.natsUser) : r.subject]);
  for (const k of nkeys) table.push([k.name, k.kind, k.status, "-", "never", "-", JSON.stringify(k.natsUser)]);
  const widths = table[0].map((_, i) => Math.max(...table.map((row) => row[i].length)));
  const right = 5; // DAYS, right-aligned
  ctx.result(null, () => table.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : i === right ? cell.padStart(widths[i]) : cell.padEnd(widths[i]))).join("  ")).join("\n"));
}
