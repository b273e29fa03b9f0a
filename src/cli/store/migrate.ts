/** `store migrate`: creates or upgrades the database store's schema (--db / MTLSCTL_DB). */
import { Ctx } from "../context";
import { usageError } from "../../errors";
import { withDb } from "./open";

export async function run(_args: string[], o: Record<string, any>): Promise<void> {
  const ctx = new Ctx(o);
  if (ctx.db === undefined) throw usageError("store migrate works on a database: give --db postgres://USER@HOST/DB (or set MTLSCTL_DB)");
  const r = await withDb(ctx, async (db) => ({ database: db.location, ...(await db.migrate()) }));
  ctx.result(r, () => (r.from === r.to ? `${r.database}: schema version ${r.to}, up to date` : r.from === 0 ? `${r.database}: schema version ${r.to} created` : `${r.database}: schema upgraded from version ${r.from} to ${r.to}`));
}
