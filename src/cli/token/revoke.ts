/** `token revoke <name|id>`: the token can no longer enrol. */
import { Ctx } from "../context";
import { withDb } from "../store/open";
import { revokeTokens } from "../../service/tokens";

export async function run([nameOrId]: string[], o: Record<string, any>): Promise<void> {
  const ctx = new Ctx(o);
  const r = ctx.db !== undefined ? await withDb(ctx, (db) => revokeTokens(db, nameOrId)) : await revokeTokens(ctx.dir, nameOrId);
  ctx.result(r, () => r.revoked.map((t) => `revoked token ${t.id} (${t.name})`).join("\n"));
}
