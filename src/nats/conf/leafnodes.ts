/**
 * `leafnodes {}` (the accepting side): its listener, tls block and authorization (a single user or
 * a users table). `remotes` are not checked (reported in `unchecked`); `cluster {}` and `gateway {}`
 * are not read at all (top-level.ts).
 */
import type { ConfEntry } from "./parser";
import { goTypeName } from "./parser";
import type { LeafNodesBlock, LeafUser, SimpleAuth } from "./types";
import { CheckContext, optionError, want } from "./context";
import { goQuote, goValue, parseListen } from "./go-values";
import { tlsWithFiles } from "./tls";
import { simpleAuth } from "./users";

/** The server's parseLeafNodes (accepting side): listener keys, tls with files, and authorization with its users table. */
export function leafnodes(ctx: CheckContext, e: ConfEntry): void {
  if (e.value.kind !== "map") {
    ctx.error(`Expected map to define a leafnode, got ${goTypeName(e.value)}`, e.keyPos);
    return;
  }
  const out: LeafNodesBlock = { pos: e.keyPos };
  ctx.result.leafnodes = out;
  for (const f of e.value.entries.values()) {
    const v = f.value;
    const p = f.keyPos;
    switch (f.key.toLowerCase()) {
      case "listen": {
        const hp = parseListen(v);
        if (typeof hp === "string") ctx.error(hp, p);
        break;
      }
      case "port":
      case "reconnect":
      case "reconnect_delay":
      case "reconnect_interval":
        want(v, "int", p);
        break;
      case "host":
      case "net":
      case "leafnode_advertise":
      case "advertise":
      case "min_version":
      case "minimum_version":
        want(v, "string", p);
        break;
      case "no_advertise":
        want(v, "bool", p);
        break;
      case "tls":
        out.tls = tlsWithFiles(ctx, f);
        break;
      case "remotes":
        if (!ctx.result.unchecked.includes("leafnodes.remotes")) ctx.result.unchecked.push("leafnodes.remotes");
        break;
      case "authorization":
        ctx.guarded(() => {
          const users: LeafUser[] = [];
          const a: SimpleAuth & { account?: string; users?: LeafUser[] } = { pos: f.keyPos };
          simpleAuth(ctx, f, a, (g, gk) => {
            if (gk === "account") {
              a.account = want(g.value, "string", g.keyPos).value;
              return true;
            }
            if (gk !== "users") return false;
            ctx.guarded(() => {
              if (g.value.kind !== "array") throw optionError(`Expected users field to be an array, got ${goValue(g.value)}`, g.keyPos);
              for (const it of g.value.items) {
                if (it.kind !== "map") {
                  ctx.error(`Expected user entry to be a map/struct, got ${goValue(it)}`, it.pos);
                  continue;
                }
                const lu: LeafUser = { pos: it.pos };
                for (const h of it.entries.values()) {
                  const hk = h.key.toLowerCase();
                  if (hk === "user" || hk === "username") lu.user = want(h.value, "string", h.keyPos).value;
                  else if (hk === "pass" || hk === "password") lu.password = want(h.value, "string", h.keyPos).value;
                  else if (hk === "account") lu.account = want(h.value, "string", h.keyPos).value;
                  else ctx.unknown(h);
                }
                users.push(lu);
              }
            });
            return true;
          });
          a.users = users;
          out.authorization = a;
          if (users.length) {
            if (a.user) ctx.error("can not have a single user/pass and a users array", p);
            else {
              const names = new Set<string>();
              for (const u of users) {
                const n = u.user ?? "";
                if (names.has(n)) {
                  ctx.error(`duplicate user ${goQuote(n)} detected in leafnode authorization`, p);
                  break;
                }
                names.add(n);
              }
            }
          }
        });
        break;
      default:
        ctx.unknown(f);
    }
  }
}
