/** The `websocket {}` and `mqtt {}` listeners: their own tls, authorization and no_auth_user. */
import type { ConfEntry } from "./parser";
import { goTypeName } from "./parser";
import type { ListenerBlock, SimpleAuth } from "./types";
import { CheckContext, want } from "./context";
import { parseGoDuration, parseListen } from "./go-values";
import { tlsWithFiles } from "./tls";
import { simpleAuth } from "./users";

/** The server's parseWebsocket / parseMQTT: the keys each accepts, its tls block with files, its authorization and no_auth_user. */
export function listener(ctx: CheckContext, e: ConfEntry, kind: "websocket" | "mqtt"): ListenerBlock | undefined {
  if (e.value.kind !== "map") {
    ctx.error(`Expected ${kind} to be a map, got ${goTypeName(e.value)}`, e.keyPos);
    return undefined;
  }
  const out: ListenerBlock = { pos: e.keyPos };
  for (const f of e.value.entries.values()) {
    const k = f.key.toLowerCase();
    const v = f.value;
    const p = f.keyPos;
    const str = () => want(v, "string", p).value;
    switch (k) {
      case "listen": {
        const hp = parseListen(v);
        if (typeof hp === "string") ctx.error(hp, p);
        continue;
      }
      case "port":
        want(v, "int", p);
        continue;
      case "host":
      case "net":
        str();
        continue;
      case "tls":
        out.tls = tlsWithFiles(ctx, f);
        continue;
      case "authorization":
      case "authentication":
        ctx.guarded(() => {
          const a: SimpleAuth = { pos: f.keyPos };
          simpleAuth(ctx, f, a, (g, gk) => {
            if (gk !== "token") return false;
            a.token = want(g.value, "string", g.keyPos).value;
            return true;
          });
          out.authorization = a;
        });
        continue;
      case "no_auth_user":
        out.noAuthUser = str();
        continue;
    }
    if (kind === "websocket") {
      switch (k) {
        case "advertise":
        case "jwt_cookie":
          str();
          continue;
        case "no_tls":
          out.noTls = want(v, "bool", p).value;
          continue;
        case "same_origin":
        case "compress":
        case "compression":
          want(v, "bool", p);
          continue;
        case "allowed_origins":
        case "allowed_origin":
        case "allow_origins":
        case "allow_origin":
        case "origins":
        case "origin":
          if (v.kind === "array") {
            for (const it of v.items) if (it.kind !== "string") ctx.error(`error parsing allowed origins: unsupported type in array ${goTypeName(it)}`, it.pos);
          } else if (v.kind !== "string") ctx.error(`error parsing allowed origins: unsupported type ${goTypeName(v)}`, p);
          continue;
        case "handshake_timeout":
          if (v.kind === "string") {
            const d = parseGoDuration(v.value);
            if (typeof d === "string") ctx.error(d, p);
          } else if (v.kind !== "int") ctx.error(`error parsing handshake timeout: unsupported type ${goTypeName(v)}`, p);
          continue;
      }
    } else {
      switch (k) {
        case "ack_wait":
        case "ackwait":
          ctx.duration("ack_wait", v, p);
          continue;
        case "consumer_inactive_threshold":
        case "consumer_auto_cleanup":
          ctx.duration("consumer_inactive_threshold", v, p);
          continue;
        case "max_ack_pending":
        case "max_pending":
        case "max_inflight": {
          const n = want(v, "int", p).value;
          if (n < 0 || n > 0xffff) ctx.error(`invalid value ${n}, should in [0..65535] range`, p);
          continue;
        }
        case "js_domain":
          str();
          continue;
        case "stream_replicas":
        case "consumer_replicas":
          want(v, "int", p);
          continue;
        case "consumer_memory_storage":
          want(v, "bool", p);
          continue;
      }
    }
    ctx.unknown(f);
  }
  return out;
}
