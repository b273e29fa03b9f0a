/** `nkey list`: the NKey users of the store. */
import { Ctx } from "../context";
import { Store } from "../../store/store";
import { withDb } from "../store/open";

export async function run(_args: string[], o: Record<string, any>): Promise<void> {
  const ctx = new Ctx(o);
  // a database store (issue 19): each seed file as recorded (where nkey create --db wrote it; a copied store's names its directory's)
  const [nkeys, seedPath] =
    ctx.db !== undefined
      ? [await withDb(ctx, (db) => db.nkeys()), (rel: string) => rel]
      : ((s) => [s.readInventory().nkeys ?? [], (rel: string) => s.path(rel)] as const)(Store.open(ctx.dir));
  const rows = nkeys.map((k) => ({
    name: k.name,
    kind: "nkey" as const,
    publicKey: k.publicKey,
    natsUser: k.publicKey,
    createdAt: k.createdAt,
    seedFile: seedPath(k.seedFile),
  }));
  ctx.result(rows, () => {
    if (!rows.length) return "no NKeys yet (mtlsctl nkey create NAME)";
    const table = [["NAME", "CREATED", "PUBLIC KEY"], ...rows.map((r) => [r.name, r.createdAt.slice(0, 10), r.publicKey])];
    const widths = table[0].map((_, i) => Math.max(...table.map((row) => row[i].length)));
    return table.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]))).join("  ")).join("\n");
  });
}
