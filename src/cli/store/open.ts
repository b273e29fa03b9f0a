/** Opens the database store a command names (--db / MTLSCTL_DB, or a URL operand), with --db-password-file. */
import type { Ctx } from "../context";
import { checkDbUrl } from "../db";
import { openPgStore, type PgStore } from "../../store/pg/pg-store";

export function openDb(ctx: Ctx, url: string | undefined = ctx.db): PgStore {
  if (url === undefined) throw new Error("openDb without a database URL"); // callers check ctx.db first
  return openPgStore(checkDbUrl(url), { password: ctx.dbPassword(), envPassword: ctx.envDbPassword() });
}

/** Runs `fn` on the database store, then closes its connections (whatever fn did). */
export async function withDb<T>(ctx: Ctx, fn: (db: PgStore) => Promise<T>, url?: string): Promise<T> {
  const db = openDb(ctx, url);
  try {
    return await fn(db);
  } finally {
    await db.close().catch(() => undefined);
  }
}
