/** `accounts {}`: the server's parseAccounts, as a list of names or a map of account blocks. */
import type { ConfEntry } from "./parser";
import { goTypeName, nilToken } from "./parser";
import type { AccountBlock } from "./types";
import { CheckContext, want } from "./context";
import { goQuote, goValue } from "./go-values";
import { isValidPublicNkey, PREFIX_ACCOUNT } from "./nkey";
import { usersArray } from "./users";
import { permissions } from "./user-permissions";

/** The server's parseAccounts: `accounts: [names]` or `accounts { NAME { nkey, users, default_permissions, ... } }`; users join the one table. */
export function accounts(ctx: CheckContext, e: ConfEntry): void {
  const v = e.value;
  if (v.kind === "array") {
    const names = new Set<string>();
    for (const it of v.items) {
      const name = want(it, "string", it.pos).value;
      if (name === "$G") ctx.error(`"$G" is a Reserved Account`, it.pos);
      else if (names.has(name)) ctx.error(`Duplicate Account Entry: ${name}`, it.pos);
      else {
        names.add(name);
        ctx.result.accounts.push({ name, pos: it.pos, users: [] });
      }
    }
    return;
  }
  if (v.kind !== "map") return; // the server ignores any other kind of value here
  for (const a of v.entries.values()) {
    if (a.value.usedVariable) continue;
    if (a.value.kind !== "map") {
      ctx.error("Expected map entries for accounts", a.keyPos);
      continue;
    }
    if (a.key === "$G") {
      ctx.error(`"$G" is a Reserved Account`, a.keyPos);
      continue;
    }
    const acc: AccountBlock = { name: a.key, pos: a.keyPos, users: [] };
    ctx.result.accounts.push(acc);
    for (const f of a.value.entries.values()) {
      switch (f.key.toLowerCase()) {
        case "nkey":
          if (f.value.kind !== "string" || !isValidPublicNkey(f.value.value, PREFIX_ACCOUNT)) {
            ctx.error(`Not a valid public nkey for an account: ${f.value.kind === "string" ? goQuote(f.value.value) : `%!q(${goTypeName(f.value)}=${goValue(f.value)})`}`, f.keyPos);
          } else acc.nkey = f.value.value;
          break;
        case "users":
          ctx.guarded(() => {
            const list = usersArray(ctx, f, a.key);
            if (list) acc.users = list;
            for (const u of acc.users) ctx.blame.set(u, f.keyPos);
          });
          break;
        case "default_permissions":
          ctx.guarded(() => permissions(ctx, f.value, f.keyPos, nilToken(f.value)));
          acc.defaultPermissions = f.value;
          break;
        case "imports":
        case "exports":
        case "jetstream":
        case "mappings":
        case "maps":
        case "limits":
          if (!ctx.result.unchecked.includes(`accounts.${f.key.toLowerCase()}`)) ctx.result.unchecked.push(`accounts.${f.key.toLowerCase()}`);
          break;
        default:
          ctx.unknown(f);
      }
    }
    ctx.result.users.push(...acc.users);
  }
}
