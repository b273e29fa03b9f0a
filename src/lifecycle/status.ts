/**
 * Expiry status: the CA and every valid certificate with the days it has left, and which of them
 * expire within a window (design: `status` exits 1 when any does). No printing.
 */
import * as fs from "node:fs";
import { caOf, type CertKind, type CertRecord, type Inventory, type Store } from "../store/store";
import { inputError } from "../errors";
import { parseCrl } from "./crl";

const DAY = 86_400_000;
export const DEFAULT_EXPIRING_DAYS = 30;

export interface StatusEntry {
  name: string;
  kind: CertKind;
  serial: string;
  subject: string;
  notAfter: string;
  /** Whole days left (negative once expired). */
  daysLeft: number;
  expired: boolean;
  /** Expires within the window (or has expired). */
  expiring: boolean;
  /** The CA that signed it (ca rollover): the current one, a previous one still trusted (overlap), or a retired one. */
  caSerial: string;
  caStatus: "current" | "overlap" | "retired";
}

export interface StoreStatus {
  now: string;
  windowDays: number;
  /** The CA first, then server and client certificates with status valid, soonest expiry first. */
  certificates: StatusEntry[];
  /** Names of the certificates that expire within the window. */
  expiring: string[];
  counts: { valid: number; revoked: number; superseded: number };
  /** The latest CRL (<dir>/crl.pem), or null when none was signed yet. */
  crl: { number: number | null; thisUpdate: string; nextUpdate: string | null; revoked: number; overdue: boolean } | null;
  warnings: string[];
}

export function daysLeft(notAfter: string | Date, now: Date): number {
  return Math.floor((new Date(notAfter).getTime() - now.getTime()) / DAY);
}

/** Whether a certificate expires within `days` days of `now` (an expired one does too). */
export function expiresWithin(notAfter: string | Date, days: number, now: Date): boolean {
  return new Date(notAfter).getTime() - now.getTime() <= days * DAY;
}

export function checkWindow(days: number | undefined): number {
  const d = days ?? DEFAULT_EXPIRING_DAYS;
  if (!Number.isInteger(d) || d < 0 || d > 36500) throw inputError(`--expiring must be a whole number of days from 0 to 36500 (got ${days})`);
  return d;
}

export function storeStatus(store: Store, o: { expiringDays?: number; now?: Date } = {}): StoreStatus {
  const crlFile = store.crlFile;
  return statusOf(store.readInventory(), fs.existsSync(crlFile) ? { data: fs.readFileSync(crlFile), file: crlFile } : null, o);
}

/**
 * storeStatus over an inventory and its latest CRL from any store (issue 19: a database's). With
 * `counts` (a database counts its rows in SQL), `inv.certificates` need hold only the valid records:
 * the counts, and whether any is revoked, come from `counts`.
 */
export function statusOf(inv: Inventory, latestCrl: { data: Buffer; file: string } | null, o: { expiringDays?: number; now?: Date } = {}, counts?: StoreStatus["counts"]): StoreStatus {
  const windowDays = checkWindow(o.expiringDays);
  const now = o.now ?? new Date();
  const entry = (c: CertRecord): StatusEntry => ({
    name: c.name,
    kind: c.kind,
    serial: c.serial,
    subject: c.subject,
    notAfter: c.notAfter,
    daysLeft: daysLeft(c.notAfter, now),
    expired: new Date(c.notAfter) <= now,
    expiring: expiresWithin(c.notAfter, windowDays, now),
    caSerial: caOf(inv, c).serial,
    caStatus: caOf(inv, c).status,
  });
  const order: Record<string, number> = { server: 0, client: 1 };
  const leaves = inv.certificates
    .filter((c) => c.status === "valid")
    .sort((a, b) => (order[a.kind] ?? 2) - (order[b.kind] ?? 2) || a.notAfter.localeCompare(b.notAfter) || a.name.localeCompare(b.name))
    .map(entry);
  const certificates = [entry(inv.ca), ...leaves];
  const warnings: string[] = [];
  let crl: StoreStatus["crl"] = null;
  if (latestCrl) {
    const p = parseCrl(latestCrl.data, latestCrl.file);
    const overdue = p.nextUpdate !== null && p.nextUpdate <= now;
    crl = { number: p.number, thisUpdate: p.thisUpdate.toISOString(), nextUpdate: p.nextUpdate?.toISOString() ?? null, revoked: p.entries.length, overdue };
    if (overdue) warnings.push(`the CRL's next update was due on ${crl.nextUpdate}: run \`mtlsctl crl\` to sign a fresh one`);
    // revoke and crl write the inventory, then crl.pem: an interruption in between leaves crl.pem behind
    const recorded = inv.crl?.number ?? null;
    if (recorded !== null && (p.number === null || p.number < recorded))
      warnings.push(`crl.pem (CRL number ${p.number ?? "none"}) is older than the inventory's latest CRL (number ${recorded}): a revoke or crl was interrupted; run \`mtlsctl crl\``);
  } else if (counts ? counts.revoked > 0 : inv.certificates.some((c) => c.status === "revoked")) warnings.push("certificates are revoked but there is no crl.pem: run `mtlsctl crl`");
  for (const st of ["overlap", "retired"] as const) {
    const hit = leaves.filter((c) => c.caStatus === st && !c.expired);
    if (hit.length)
      warnings.push(
        `${hit.length} valid certificate(s) were signed by a ${st === "overlap" ? "previous CA still trusted during the rollover overlap" : "retired CA and are refused by servers using roots.pem"}: ${hit
          .slice(0, 10)
          .map((c) => c.name)
          .join(", ")}${hit.length > 10 ? ", ..." : ""} (renew them: mtlsctl renew NAME${st === "overlap" ? ", then mtlsctl ca retire" : ""})`,
      );
  }
  const count = (s: string) => inv.certificates.filter((c) => c.status === s).length;
  return {
    now: now.toISOString(),
    windowDays,
    certificates,
    expiring: certificates.filter((c) => c.expiring).map((c) => c.name),
    counts: counts ? { valid: counts.valid, revoked: counts.revoked, superseded: counts.superseded } : { valid: count("valid"), revoked: count("revoked"), superseded: count("superseded") },
    crl,
    warnings,
  };
}
