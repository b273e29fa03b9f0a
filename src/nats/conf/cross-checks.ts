/**
 * The checks that need the whole file, run after every block was read: they hold whatever order
 * the server visits the keys in (authorization with accounts, duplicate users across the one table,
 * and the startup-only checks of no_auth_user and leafnode accounts).
 */
import type { ConfMap, ConfValue, Pos } from "./parser";
import { entriesCI } from "./parser";
import { atLeast } from "../versions";
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
  // startup-only checks (not made by `nats-server -t` before 2.15; from 2.15 on, -t validates the
  // options as startup does, on a copy with the defaults set, and refuses the file: observed on 2.15.3)
  const nau = ctx.result.noAuthUser;
  const tValidates = atLeast(ctx.serverVersion, "2.15.0");
  const startup = (kind: StartupProblem["kind"], message: string, pos: Pos, fix: string) => (tValidates ? ctx.error(message, pos) : ctx.result.startupProblems.push({ kind, message, pos, fix }));
  if (nau) {
    const at = ctx.noAuthUserPos!; // set with noAuthUser
    const fix = "define that user in authorization or an account, or remove no_auth_user";
    if (!ctx.result.users.some((u) => !u.nkey)) startup("no_auth_user", `no_auth_user: "${nau}" present, but users${tValidates ? "/nkeys" : ""} are not defined`, at, fix);
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

/**
 * 2.15 on, `nats-server -t` runs validateOptions as startup does (every version refuses to start with
 * these; only 2.15 refuses the file under -t). The ones modelled, each observed on 2.15.3 with a
 * fixture: max_payload above max_pending, an mqtt listener without JetStream on a standalone server,
 * a websocket listener without tls (and without no_tls), and cluster and gateway names that differ.
 */
export function validateLikeStartup(ctx: CheckContext): void {
  if (!atLeast(ctx.serverVersion, "2.15.0")) return;
  const root = ctx.result.tree;
  const last = (m: ConfMap, key: string) => entriesCI(m, key).pop();
  const int64 = (v: ConfValue | undefined): bigint | undefined => (v?.kind === "int" ? BigInt.asIntN(64, (v as { exact: bigint }).exact) : undefined);
  const payload = last(root, "max_payload");
  const pending = last(root, "max_pending");
  const maxPayload = int64(payload?.value) ?? 1048576n;
  const maxPending = int64(pending?.value) ?? 67108864n;
  if (maxPayload > maxPending) ctx.error(`max_payload (${maxPayload}) cannot be higher than max_pending (${maxPending})`, (pending ?? payload)!.keyPos);
  const block = (...keys: string[]) => keys.map((k) => last(root, k)).filter((e) => e !== undefined && e.value.kind === "map").pop();
  const hasPort = (m: ConfMap) => {
    const port = int64(last(m, "port")?.value);
    return (port !== undefined && port !== 0n) || last(m, "listen") !== undefined;
  };
  const mqtt = block("mqtt");
  if (mqtt && hasPort(mqtt.value as ConfMap)) {
    const js = last(root, "jetstream");
    const jsOn = js !== undefined && !(js.value.kind === "bool" && js.value.value === false) && !(js.value.kind === "string" && /^(disabled?|false|off|no)$/i.test(js.value.value));
    if (!jsOn && !block("cluster")) ctx.error("mqtt requires JetStream to be enabled if running in standalone mode", mqtt.keyPos);
  }
  const ws = block("websocket", "ws");
  if (ws && hasPort(ws.value as ConfMap) && ctx.result.websocket && !ctx.result.websocket.tls && !ctx.result.websocket.noTls) ctx.error("websocket requires TLS configuration", ws.keyPos);
  const nameOf = (e: ReturnType<typeof block>) => {
    const n = e ? last(e.value as ConfMap, "name")?.value : undefined;
    return n?.kind === "string" ? n.value : undefined;
  };
  const cluster = block("cluster");
  const gateway = block("gateway");
  const cn = nameOf(cluster);
  const gn = nameOf(gateway);
  if (cn !== undefined && gn !== undefined && cn !== "" && gn !== "" && cn !== gn) ctx.error("cluster name conflicts between cluster and gateway definitions", cluster!.keyPos);
}
