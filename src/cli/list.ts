import { Ctx } from "./context";
import { Store } from "../store/store";
import { listEntries, nkeyEntries } from "../api/store";
import { writeOut } from "./out";
import { listOf } from "../api/db-store";
import { withDb } from "./store/open";

export async function run(_args: string[], o: Record<string, any>): Promise<void> {
  const ctx = new Ctx(o);
  let rows: ReturnType<typeof listEntries>;
  let nkeys: ReturnType<typeof nkeyEntries>;
  if (ctx.db !== undefined) {
    // a database store (issue 19): the same rows, through the Store interface
    const all = await withDb(ctx, (db) => listOf(db, o.expiring));
    rows = all.filter((r) => r.kind !== "nkey") as typeof rows;
    nkeys = all.filter((r) => r.kind === "nkey") as typeof nkeys;
  } else {
    const store = Store.open(ctx.dir);
    rows = listEntries(store, o.expiring);
    nkeys = nkeyEntries(store, o.expiring);
  }
  if (ctx.json) {
    writeOut(JSON.stringify([...rows, ...nkeys], null, 2) + "\n"); // what the library's list() returns
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
