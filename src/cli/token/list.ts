/** `token list [--json]`: every token (never the token itself: only its id, state and identity). */
import { Ctx } from "../context";
import { withDb } from "../store/open";
import { writeOut } from "../out";
import { listTokens } from "../../service/tokens";

export async function run(_args: string[], o: Record<string, any>): Promise<void> {
  const ctx = new Ctx(o);
  const rows = ctx.db !== undefined ? await withDb(ctx, (db) => listTokens(db)) : await listTokens(ctx.dir);
  if (ctx.json) {
    writeOut(JSON.stringify(rows, null, 2) + "\n");
    return;
  }
  const table = [["ID", "NAME", "KIND", "STATE", "EXPIRES", "SERIAL", "SUBJECT"]];
  for (const r of rows) table.push([r.id, r.name, r.kind, r.state, r.expiresAt, r.serial ?? "-", r.subject]);
  const widths = table[0].map((_, i) => Math.max(...table.map((row) => row[i].length)));
  ctx.result(null, () => table.map((row) => row.map((c, i) => (i === row.length - 1 ? c : c.padEnd(widths[i]))).join("  ")).join("\n"));
}
