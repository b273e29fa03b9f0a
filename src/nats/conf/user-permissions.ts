/**
 * `permissions` of a user and `default_permissions` of authorization and accounts: the server's
 * parseUserPermissions, checked for what it refuses (not interpreted; src/nats/permissions.ts
 * interprets them).
 */
import type { ConfValue, Pos } from "./parser";
import { goTypeName, nilToken } from "./parser";
import { CheckContext, optionError, want } from "./context";
import { goQuote, goValue, parseGoDuration } from "./go-values";

/** The server's IsValidSubject (v2.9.10). */
function isValidSubject(s: string): boolean {
  if (s === "") return false;
  let sawFwc = false;
  for (const t of s.split(".")) {
    if (t.length === 0 || sawFwc) return false;
    if (t.length > 1) {
      if (/[\t\n\f\r ]/.test(t)) return false;
      continue;
    }
    if (t === ">") sawFwc = true;
    else if (/[ \t\n\r\f]/.test(t)) return false;
  }
  return true;
}

/** The server's parseUserPermissions (checked, not interpreted). */
export function permissions(ctx: CheckContext, v: ConfValue, pos: Pos, nil = false): void {
  // handed a token that is not there (a bare value from inside an environment variable): nil
  if (nil) throw optionError("Expected permissions to be a map/struct, got <nil>", pos);
  if (v.kind !== "map") throw optionError(`Expected permissions to be a map/struct, got ${goValue(v)}`, pos);
  for (const f of v.entries.values()) {
    switch (f.key.toLowerCase()) {
      case "pub":
      case "publish":
      case "import":
      case "sub":
      case "subscribe":
      case "export":
        ctx.guarded(() => {
          if (f.value.kind === "map") {
            for (const g of f.value.entries.values()) {
              const k = g.key.toLowerCase();
              if ((k === "allow" || k === "deny") && nilToken(g.value)) ctx.error("Expected subject permissions to be a subject, or array of subjects, got <nil>", g.keyPos);
              else if (k === "allow" || k === "deny") ctx.guarded(() => subjects(ctx, g.value, g.keyPos));
              else if (!g.value.usedVariable) ctx.error(`Unknown field name ${goQuote(g.key)} parsing subject permissions, only 'allow' or 'deny' are permitted`, g.keyPos);
            }
          } else subjects(ctx, f.value, f.keyPos);
        });
        break;
      case "publish_allow_responses":
      case "allow_responses":
        if (f.value.kind === "bool") break;
        ctx.guarded(() => allowResponses(ctx, f.value, f.keyPos));
        break;
      default:
        if (!f.value.usedVariable) ctx.error(`Unknown field ${goQuote(f.key)} parsing permissions`, f.keyPos);
    }
  }
}

function subjects(ctx: CheckContext, v: ConfValue, pos: Pos): void {
  let list: string[];
  if (v.kind === "string") list = [v.value];
  else if (v.kind === "array") {
    list = v.items.map((it) => {
      if (it.kind !== "string") throw optionError("Subject in permissions array cannot be cast to string", it.pos);
      return it.value;
    });
  } else throw optionError(`Expected subject permissions to be a subject, or array of subjects, got ${goTypeName(v)}`, pos);
  for (const s of list) {
    if (isValidSubject(s)) continue;
    const parts = s.split(/[\t\n\v\f\r \u0085\u00a0]+/).filter((x) => x !== "");
    if (parts.length !== 2) throw optionError(`subject ${goQuote(s)} is not a valid subject`, pos);
    if (!isValidSubject(parts[0])) throw optionError(`subject ${goQuote(parts[0])} is not a valid subject`, pos);
  }
}

function allowResponses(ctx: CheckContext, v: ConfValue, pos: Pos): void {
  if (v.kind !== "map") {
    ctx.error("error parsing response permissions, expected a boolean or a map", pos);
    return;
  }
  for (const f of v.entries.values()) {
    switch (f.key.toLowerCase()) {
      case "max":
      case "max_msgs":
      case "max_messages":
      case "max_responses":
        want(f.value, "int", f.keyPos);
        break;
      case "expires":
      case "expiration":
      case "ttl":
        if (f.value.kind !== "string") {
          ctx.error("error parsing expires, not a duration string", f.keyPos);
          return;
        } else {
          const d = parseGoDuration(f.value.value);
          if (typeof d === "string") {
            ctx.error(`error parsing expires: ${d}`, f.keyPos);
            return;
          }
        }
        break;
      default:
        if (!f.value.usedVariable) ctx.error(`Unknown field ${goQuote(f.key)} parsing permissions`, f.keyPos);
    }
  }
}
