/**
 * What the terminal questions of `client issue`, `server issue` and `revoke` (no NAME) read of the
 * store, from a file store or (issue 19) a database store: the current record of each name (a taken
 * name is refused as it is typed) and the certificates that can be revoked. Read before any question.
 */
import type { Ctx } from "./context";
import { Store, type CertRecord } from "../store/store";
import { withDb } from "./store/open";

export interface NameCheck {
  /** Why `name` cannot be used (it exists, without --force), else null. */
  taken(name: string): string | null;
  /** Where a taken name's certificate is (for the error's file). */
  where(name: string): string;
}

/** The names in use: the file store's inventory, or the database's current rows (one query). */
export async function nameCheck(ctx: Ctx, force: boolean | undefined): Promise<NameCheck> {
  let current: Map<string, CertRecord>;
  let where: (rec: CertRecord) => string;
  if (ctx.db !== undefined) {
    const { rows, location } = await withDb(ctx, async (db) => ({ rows: await db.list({ currentOnly: true }), location: db.location }));
    current = new Map(rows.map((r) => [r.name, r])); // in inventory order: a name's last record wins, as findByName
    where = () => location;
  } else {
    const store = Store.open(ctx.dir); // no store: refused before any question
    const inv = store.readInventory();
    current = new Map();
    // each name's last record that is neither superseded nor replaced: what store.findByName answers
    for (const r of inv.certificates) if (r.status !== "superseded" && !r.renewedBy) current.set(r.name, r);
    where = (rec) => store.path(rec.certFile);
  }
  return {
    taken: (n) => {
      const rec = current.get(n);
      return rec && !force ? `"${n}" already exists (serial ${rec.serial}; use --force to replace it)` : null;
    },
    where: (n) => where(current.get(n)!),
  };
}

/** The certificates `revoke` offers (valid, current, unexpired), and where the store is. */
export async function revocable(ctx: Ctx): Promise<{ live: CertRecord[]; location: string }> {
  const now = Date.now();
  const keep = (c: CertRecord) => c.status === "valid" && !c.renewedBy && new Date(c.notAfter).getTime() > now;
  if (ctx.db !== undefined) return withDb(ctx, async (db) => ({ live: (await db.list({ status: "valid" })).filter(keep), location: db.location }));
  const store = Store.open(ctx.dir);
  return { live: store.readInventory().certificates.filter(keep), location: store.inventoryFile };
}
