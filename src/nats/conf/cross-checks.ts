/**
 * The checks that need the whole file, run after every block was read: they hold whatever order
 * the server visits the keys in (authorization with accounts, duplicate users across the one table,
 * and the startup-only checks of no_auth_user and leafnode accounts).
 */
import type { Pos } from "./parser";
import type { StartupProblem } from "./types";
import type { CheckContext } from "./context";
import { goQuote } from "./go-values";

/** Checks that need the whole file: they hold whatever order the server visits the keys in. */
export function crossChecks(ctx: CheckContext): void {
  const auth = ctx.result.authorization;
  const accountUsers = ctx.result.accounts.flatMap((a) => a.users);
  if (auth) {
    const p = auth.pos;
    if ((auth.user || auth.password) && auth.token) ctx.error("Cannot have a user/pass and token", p);
    else if (auth.hasUsers || accountUsers.length > 0) {
      if (auth.user) ctx.error(auth.hasUsers ? "Can not have a single user/pass and a users array" : "Can not have a single user/pass and accounts", p);
      else if (auth.token) ctx.error(auth.hasUsers ? "Can not have a token and a users array" : "Can not have a token and accounts", p);
    }
  }
  // one table for every user and nkey of authorization and accounts
  for (const u of ctx.result.users) {
    const name = u.nkey ?? u.user ?? "";
    if (ctx.seen.has(name)) ctx.error(`Duplicate ${u.nkey ? "nkey" : "user"} ${goQuote(u.userBytes ?? name)} detected`, ctx.blame.get(u) ?? u.pos);
    ctx.seen.add(name);
  }
  // startup-only checks (not made by `nats-server -t`)
  const nau = ctx.result.noAuthUser;
  const startup = (kind: StartupProblem["kind"], message: string, pos: Pos, fix: string) => ctx.result.startupProblems.push({ kind, message, pos, fix });
  if (nau) {
    const at = ctx.noAuthUserPos!; // set with noAuthUser
    const fix = "define that user in authorization or an account, or remove no_auth_user";
    if (!ctx.result.users.some((u) => !u.nkey)) startup("no_auth_user", `no_auth_user: "${nau}" present, but users are not defined`, at, fix);
    else if (!ctx.result.users.some((u) => u.user === nau)) startup("no_auth_user", `no_auth_user: "${nau}" not present as user in authorization block or account configuration`, at, fix);
  }
  // validateLeafNode: a leafnode user's account must be one the server has: $G and $SYS always, else one of accounts {}
  const la = ctx.result.leafnodes?.authorization;
  if (la) {
    const known = new Set(["$G", "$SYS", ...ctx.result.accounts.map((a) => a.name)]);
    const fix = "define the account in accounts { }, or name one that is defined";
    for (const [acc, pos] of [[la.account, la.pos], ...(la.users ?? []).map((u) => [u.account, u.pos])] as [string | undefined, Pos][])
      if (acc !== undefined && acc !== "" && !known.has(acc)) startup("leafnode account", `cannot find local account ${goQuote(acc)} specified in leafnode authorization`, pos, fix);
  }
}
