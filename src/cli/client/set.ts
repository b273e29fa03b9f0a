/** `client set <name> [--account A | --no-account] [permission flags | --no-permissions]`: change a user's NATS account and permissions. */
import { Ctx } from "../context";
import type { Store as StoreApi } from "../../store/types";
import { openFileStore } from "../../store/file-api";
import { openDb } from "../store/open";
import { setAccessInStore } from "../../config/access";
import { describePermissions } from "../../nats/permissions";

export async function run(args: string[], o: Record<string, any>, _cmd?: unknown, kind: "client" | "nkey" = "client"): Promise<void> {
  const ctx = new Ctx(o);
  // either store, through the Store interface (issue 19)
  const store: StoreApi = ctx.db !== undefined ? openDb(ctx) : openFileStore(ctx.dir);
  let ch;
  try {
    ch = await setAccessInStore(store, args[0], kind, o);
  } finally {
    await store.close().catch(() => undefined);
  }
  const note = "regenerate the server's config (mtlsctl config nats) and reload the server for it to take effect";
  ctx.result({ name: ch.name, kind: ch.kind, account: ch.after.account, permissions: ch.after.permissions, before: ch.before, note }, () =>
    [
      `${kind === "nkey" ? "NKey" : "Client"} ${ctx.bold(ch.name)}:`,
      `  account      ${ch.after.account ?? "(none: the global users list)"}${ch.before.account !== ch.after.account ? ` (was ${ch.before.account ?? "none"})` : ""}`,
      `  permissions  ${ch.after.permissions ? describePermissions(ch.after.permissions) : "(none of its own: config nats' defaults)"}`,
      `  ${note}`,
    ].join("\n"),
  );
}
