/** `nkey list`: the NKey users of the store. */
import { Ctx } from "../context";
import { Store } from "../../store/store";

export function run(_args: string[], o: Record<string, any>): void {
  const ctx = new Ctx(o);
  const store = Store.open(ctx.dir);
  const rows = (store.readInventory().nkeys ?? []).map((k) => ({
    name: k.name,
    kind: "nkey" as const,
    publicKey: k.publicKey,
    natsUser: k.publicKey,
    createdAt: k.createdAt,
    seedFile: store.path(k.seedFile),
  }));
  ctx.result(rows, () => {
    if (!rows.length) return "no NKeys yet (mtlsctl nkey create NAME)";
    const table = [["NAME", "CREATED", "PUBLIC KEY"], ...rows.map((r) => [r.name, r.createdAt.slice(0, 10), r.publicKey])];
    const widths = table[0].map((_, i) => Math.max(...table.map((row) => row[i].length)));
    return table.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]))).join("  ")).join("\n");
  });
}
