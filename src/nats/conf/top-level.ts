/**
 * The top level of a config: each key to its block checker, the scalar options checked in place,
 * the blocks this reader does not read (cluster, gateway, jetstream, ...) listed in `unchecked`.
 */
import type { ConfEntry } from "./parser";
import { goTypeName } from "./parser";
import { CheckContext, want } from "./context";
import { parseGoDuration, parseListen } from "./go-values";
import { tlsWithFiles } from "./tls";
import { authorization } from "./users";
import { accounts } from "./accounts";
import { listener } from "./listeners";
import { leafnodes } from "./leafnodes";
import { crossChecks, validateLikeStartup } from "./cross-checks";
import { parseOcspCache } from "./ocsp-peer";
import { atLeast } from "../versions";

/** The server's ProcessConfigFile after parsing: every top-level key, then the checks that need the whole file. */
export function checkConfig(ctx: CheckContext): void {
  const root = ctx.result.tree;
  // system account first, as the server does (exact keys)
  const sys = root.entries.get("system_account") ?? root.entries.get("system");
  if (sys && sys.value.kind !== "string") ctx.error("system account name must be a string", sys.keyPos);
  for (const e of root.entries.values()) ctx.guarded(() => topLevel(ctx, e));
  // the same block under two spellings: the server applies both, in random order
  for (const group of [["tls"], ["authorization"], ["accounts"], ["no_auth_user"], ["websocket", "ws"], ["mqtt"], ["leaf", "leafnodes"]]) {
    const hits = [...root.entries.values()].filter((e) => group.includes(e.key.toLowerCase()));
    if (hits.length > 1) {
      ctx.warnings.push({
        pos: hits[hits.length - 1].keyPos,
        kind: "random",
        message: `${hits.map((h) => h.key).join(", ")} are the same option: the server applies them in random order (this reader keeps the last one)`,
      });
    }
  }
  crossChecks(ctx);
  validateLikeStartup(ctx);
}

/** One top-level key: a scalar option checked in place, or a block handed to its checker. */
function topLevel(ctx: CheckContext, e: ConfEntry): void {
  const k = e.key.toLowerCase();
  const v = e.value;
  const p = e.keyPos;
  const str = () => want(v, "string", p).value;
  const bool = () => want(v, "bool", p).value;
  const int = () => want(v, "int", p);
  switch (k) {
    case "listen":
    case "http":
    case "https": {
      const hp = parseListen(v);
      if (typeof hp === "string") ctx.error(hp, p);
      return;
    }
    case "server_name":
      // 2.11.0 on: "[FIXED/CHANGED] Reject server/cluster/gateway names with spaces"
      if (str().includes(" ") && atLeast(ctx.serverVersion, "2.11.0")) ctx.error("server name cannot contain spaces", p);
      return;
    case "client_advertise":
    case "host":
    case "net":
    case "http_base_path":
    case "store_dir":
    case "storedir":
    case "logfile":
    case "log_file":
    case "remote_syslog":
    case "pidfile":
    case "pid_file":
    case "ports_file_dir":
      str();
      return;
    case "no_auth_user":
      ctx.result.noAuthUser = str();
      ctx.noAuthUserPos = p;
      return;
    case "debug":
    case "trace":
    case "trace_verbose":
    case "logtime":
    case "disable_sublist_cache":
    case "no_sublist_cache":
    case "syslog":
    case "allow_non_tls":
    case "no_system_account":
    case "no_system":
    case "no_sys_acc":
    case "no_header_support":
      bool();
      return;
    case "port":
    case "http_port":
    case "monitor_port":
    case "https_port":
    case "logfile_size_limit":
    case "log_size_limit":
    case "prof_port":
    case "max_pending":
    case "max_connections":
    case "max_conn":
    case "max_traced_msg_len":
    case "max_subscriptions":
    case "max_subs":
    case "ping_max":
    case "connect_error_reports":
    case "reconnect_error_reports":
      int();
      return;
    case "max_control_line":
    case "max_payload":
      if (int().exact > 2147483647n) ctx.error(`${e.key} value is too big`, p);
      return;
    case "max_sub_tokens":
    case "max_subscription_tokens": {
      const n = int().exact;
      if (n > 255n) ctx.error(`${e.key} value is too big`, p);
      else if (n <= 0n) ctx.error(`${e.key} value can not be negative`, p);
      return;
    }
    case "ping_interval":
    case "write_deadline":
      ctx.duration(k, v, p);
      return;
    case "lame_duck_duration":
    case "lame_duck_grace_period": {
      const d = parseGoDuration(str());
      if (typeof d === "string") ctx.error(`error parsing ${k}: ${d}`, p);
      else if (k === "lame_duck_duration" && d < 30) ctx.error(`invalid lame_duck_duration of ${str()}, minimum is 30 seconds`, p);
      else if (k === "lame_duck_grace_period" && d < 0) ctx.error("invalid lame_duck_grace_period, needs to be positive", p);
      return;
    }
    case "system_account":
    case "system":
      return;
    case "tls":
      ctx.result.tls = tlsWithFiles(ctx, e);
      return;
    case "resolver_tls":
      tlsWithFiles(ctx, e);
      return;
    case "authorization":
      authorization(ctx, e);
      return;
    case "accounts":
      accounts(ctx, e);
      return;
    case "websocket":
    case "ws":
      ctx.result.websocket = listener(ctx, e, "websocket");
      return;
    case "mqtt":
      ctx.result.mqtt = listener(ctx, e, "mqtt");
      return;
    case "leaf":
    case "leafnodes":
      leafnodes(ctx, e);
      return;
    case "server_tags":
      if (v.kind === "array") {
        if (v.items.some((it) => it.kind !== "string")) ctx.error("error parsing tags: unsupported type *conf.token where string is expected", p);
      } else if (v.kind !== "string") ctx.error(`error parsing tags: unsupported type ${goTypeName(v)}`, p);
      return;
    case "ocsp_cache":
      // 2.9.21 on (with ocsp_peer); older servers do not know it
      if (!atLeast(ctx.serverVersion, "2.9.21")) return ctx.unknown(e);
      ctx.result.ocspCache = parseOcspCache(v, p);
      return;
    case "mappings":
    case "maps":
    case "cluster":
    case "gateway":
    case "jetstream":
    case "ocsp":
    case "operator":
    case "operators":
    case "roots":
    case "root":
    case "root_operators":
    case "root_operator":
    case "resolver":
    case "account_resolver":
    case "accounts_resolver":
    case "resolver_preload":
    case "resolver_pinned_accounts":
    case "trusted":
    case "trusted_keys":
    case "default_js_domain":
      ctx.result.unchecked.push(e.key);
      return;
    default:
      ctx.unknown(e);
  }
}
