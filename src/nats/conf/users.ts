/**
 * `authorization {}` and the users arrays (of authorization and of accounts): the server's
 * parseAuthorization and parseUsers, and the user/pass/timeout keys that the listeners'
 * authorization blocks share.
 */
import type { ConfEntry } from "./parser";
import { goTypeName, nilToken } from "./parser";
import type { AuthorizationBlock, ConfigUser, SimpleAuth } from "./types";
import { CheckContext, optionError, want } from "./context";
import { goQuote, goValue } from "./go-values";
import { isValidPublicNkey, PREFIX_USER } from "./nkey";
import { permissions } from "./user-permissions";

const CONNECTION_TYPES = new Set(["STANDARD", "WEBSOCKET", "LEAFNODE", "LEAFNODE_WS", "MQTT", "MQTT_WS"]);

/** user/pass/timeout (and whatever `extra` accepts) of an authorization-like block, into `a`. */
export function simpleAuth<T extends SimpleAuth>(ctx: CheckContext, e: ConfEntry, a: T, extra?: (f: ConfEntry, k: string) => boolean): T {
  const m = want(e.value, "map", e.keyPos);
  ctx.randomKeys(m, [
    ["user", "username"],
    ["pass", "password"],
  ]);
  for (const f of m.entries.values()) {
    const k = f.key.toLowerCase();
    switch (k) {
      case "user":
      case "username":
        a.user = want(f.value, "string", f.keyPos).value;
        break;
      case "pass":
      case "password":
        a.password = want(f.value, "string", f.keyPos).value;
        break;
      case "timeout":
        if (f.value.kind === "int" || f.value.kind === "float") a.timeout = f.value.value;
        break;
      default:
        if (extra && extra(f, k)) break;
        ctx.unknown(f);
    }
  }
  return a;
}

export function authorization(ctx: CheckContext, e: ConfEntry): void {
  let users: ConfigUser[] | undefined;
  const block: AuthorizationBlock = { pos: e.keyPos, hasUsers: false };
  let ok = false;
  ctx.guarded(() => {
    simpleAuth(ctx, e, block, (f, k) => {
      if (k === "token") {
        block.token = want(f.value, "string", f.keyPos).value;
        return true;
      }
      if (k === "users") {
        block.hasUsers = true;
        if (nilToken(f.value)) {
          ctx.error("Expected users field to be an array, got <nil>", f.keyPos);
          return true;
        }
        ctx.guarded(() => {
          users = usersArray(ctx, f, null);
        });
        return true;
      }
      if (k === "default_permission" || k === "default_permissions" || k === "permissions") {
        ctx.guarded(() => permissions(ctx, f.value, f.keyPos, nilToken(f.value)));
        block.defaultPermissions = f.value;
        return true;
      }
      return false;
    });
    ok = true;
  });
  if (!ok) return;
  ctx.result.authorization = block;
  if (users) {
    for (const u of users) ctx.blame.set(u, e.keyPos);
    ctx.result.users.unshift(...users);
  }
}

/** The server's parseUsers: a problem in one entry loses the whole list. */
export function usersArray(ctx: CheckContext, e: ConfEntry, account: string | null): ConfigUser[] | undefined {
  if (e.value.kind !== "array") {
    ctx.error(`Expected users field to be an array, got ${goValue(e.value)}`, e.keyPos);
    return undefined;
  }
  const out: ConfigUser[] = [];
  for (const item of e.value.items) {
    if (item.kind !== "map") {
      ctx.error(`Expected user entry to be a map/struct, got ${goValue(item)}`, item.pos);
      continue;
    }
    const u: ConfigUser = { account, pos: item.pos };
    const random = ctx.randomKeys(item, [["user", "username"], ["pass", "password"], ["nkey"], ["permission", "permissions", "authorization"], ["allowed_connection_types", "connection_types", "clients"]]);
    if (random.length) u.randomFields = random;
    let lastPos = item.pos;
    for (const f of item.entries.values()) {
      lastPos = f.keyPos;
      switch (f.key.toLowerCase()) {
        case "nkey":
          u.nkey = want(f.value, "string", f.keyPos).value;
          break;
        case "user":
        case "username": {
          const s = want(f.value, "string", f.keyPos);
          u.user = s.value;
          u.userBytes = s.bytes;
          break;
        }
        case "pass":
        case "password":
          u.password = want(f.value, "string", f.keyPos).value;
          break;
        case "permission":
        case "permissions":
        case "authorization":
          ctx.guarded(() => permissions(ctx, f.value, f.keyPos, nilToken(f.value)));
          u.permissions = f.value;
          break;
        case "allowed_connection_types":
        case "connection_types":
        case "clients":
          u.allowedConnectionTypes = connectionTypes(ctx, f);
          break;
        default:
          ctx.unknown(f);
      }
    }
    if (u.user === "") delete u.user;
    if (u.nkey === "") delete u.nkey;
    if (!u.nkey && u.user === undefined) throw optionError("User entry requires a user", lastPos);
    if (u.nkey) {
      if (!isValidPublicNkey(u.nkey, PREFIX_USER)) throw optionError("Not a valid public nkey for a user", lastPos);
      if (u.user !== undefined || u.password) throw optionError("Nkey users do not take usernames or passwords", lastPos);
    }
    out.push(u);
  }
  return out;
}

function connectionTypes(ctx: CheckContext, f: ConfEntry): string[] | undefined {
  const v = f.value;
  let list: string[];
  if (v.kind === "string") list = [v.value];
  else if (v.kind === "array") {
    list = [];
    for (const it of v.items) {
      if (it.kind === "string") list.push(it.value);
      else ctx.error(`error parsing allowed connection types: unsupported type in array ${goTypeName(it)}`, it.pos);
    }
  } else {
    ctx.error(`error parsing allowed connection types: unsupported type ${goTypeName(v)}`, f.keyPos);
    return undefined;
  }
  const upper = list.map((s) => s.toUpperCase());
  const bad = upper.filter((s) => !CONNECTION_TYPES.has(s));
  if (bad.length) ctx.error(`invalid connection types [${bad.map((b) => goQuote(b)).join(" ")}]`, f.keyPos);
  return [...new Set(upper.filter((s) => CONNECTION_TYPES.has(s)))];
}
