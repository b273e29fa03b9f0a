/**
 * `tls { ocsp_peer }` (nats-server 2.9.21 on: opts.go parseTLS's "ocsp_peer" case and
 * ocsp_peer.go parseOCSPPeer) and the top-level `ocsp_cache` (ocsp_responsecache.go
 * parseOCSPResponseCache), read as the server reads them: `ocsp_peer: true|false` (true: verify with
 * every default), or a map whose `verify` defaults to false. The facts, the same on 2.9.25 … 2.15.3:
 * defaults ca_timeout 2 s, allowed_clockskew 30 s, cache_ttl_when_next_update_unset 1 h; a negative
 * duration keeps the default; an unknown key is refused.
 */
import type { ConfValue, Pos } from "./parser";
import { goTypeName } from "./parser";
import { optionError } from "./context";
import { goQuote, parseGoDuration } from "./go-values";
import type { OcspCacheConfig, OcspPeerConfig } from "./types";

export const OCSP_PEER_DEFAULTS: Omit<OcspPeerConfig, "pos" | "form"> = {
  verify: false,
  caTimeout: 2,
  allowedClockskew: 30,
  warnOnly: false,
  unknownIsGood: false,
  allowWhenCaUnreachable: false,
  ttlUnsetNextUpdate: 3600,
};

const nested = (reason: string, inner: Pos, outer: Pos) => {
  // configErr{outer, configErr{inner, reason}.Error()}: the inner position is part of the reason
  const full = optionError(reason, inner).serverMessage;
  const innerText = full.slice(0, full.length - reason.length - 2);
  return optionError(`${innerText}: ${reason}`, outer);
};

/** `ocsp_peer`'s value as the server reads it; throws ConfigError as it refuses one. */
export function parseOcspPeer(v: ConfValue, pos: Pos): OcspPeerConfig {
  if (v.kind === "bool") return { ...OCSP_PEER_DEFAULTS, verify: v.value, pos, form: "bool" };
  // the server names the type of the whole tls map here, not of the value (opts.go: `%T`, v)
  if (v.kind !== "map") throw optionError("error parsing ocsp peer config: unsupported type map[string]interface {}", pos);
  const out: OcspPeerConfig = { ...OCSP_PEER_DEFAULTS, pos, form: "map" };
  for (const f of v.entries.values()) {
    const k = f.key.toLowerCase();
    const fv = f.value;
    const generic = () => nested(`error parsing tls peer config, unknown field [${goQuote(f.key)}]`, f.keyPos, pos);
    const bool = (): boolean => {
      if (fv.kind !== "bool") throw generic();
      return fv.value;
    };
    const seconds = (): number => {
      if (fv.kind === "int" || fv.kind === "float") return fv.value;
      if (fv.kind === "string") {
        const d = parseGoDuration(fv.value);
        if (typeof d === "string") throw nested(`error parsing tls peer config, conversion error: ${k === "allowed_clockskew" ? "unexpected type" : d}`, f.keyPos, pos);
        return d;
      }
      throw nested("error parsing tls peer config, conversion error: unexpected type", f.keyPos, pos);
    };
    switch (k) {
      case "verify":
        out.verify = bool();
        break;
      case "warn_only":
        out.warnOnly = bool();
        break;
      case "unknown_is_good":
        out.unknownIsGood = bool();
        break;
      case "allow_when_ca_unreachable":
        out.allowWhenCaUnreachable = bool();
        break;
      case "ca_timeout":
      case "allowed_clockskew":
      case "cache_ttl_when_next_update_unset": {
        const s = seconds();
        if (s >= 0) out[k === "ca_timeout" ? "caTimeout" : k === "allowed_clockskew" ? "allowedClockskew" : "ttlUnsetNextUpdate"] = s;
        break;
      }
      default:
        throw generic();
    }
  }
  return out;
}

/** The top-level `ocsp_cache`: true/false (local/none) or a map; default (absent): local. */
export function parseOcspCache(v: ConfValue, pos: Pos): OcspCacheConfig {
  if (v.kind === "bool") return { type: v.value ? "local" : "none", preserveRevoked: false, pos };
  if (v.kind !== "map") throw optionError(`error parsing tags: unsupported type ${goTypeName(v)}`, pos);
  const out: OcspCacheConfig = { type: "local", preserveRevoked: false, pos };
  for (const f of v.entries.values()) {
    const k = f.key.toLowerCase();
    const fv = f.value;
    const generic = () => optionError(`error parsing OCSP peer cache config, unknown field [${goQuote(f.key)}]`, f.keyPos);
    switch (k) {
      case "type": {
        if (fv.kind !== "string") throw generic();
        const t = fv.value.toLowerCase();
        if (t !== "none" && t !== "local") throw optionError(`error parsing OCSP peer cache config, unknown type [${fv.value}]`, f.keyPos);
        out.type = t;
        break;
      }
      case "local_store":
        if (fv.kind !== "string") throw generic();
        break;
      case "preserve_revoked":
        if (fv.kind !== "bool") throw generic();
        out.preserveRevoked = fv.value;
        break;
      case "save_interval":
        if (fv.kind === "string") {
          const d = parseGoDuration(fv.value);
          if (typeof d === "string") throw optionError(`error parsing tls peer config, conversion error: ${d}`, f.keyPos);
        } else if (fv.kind !== "int" && fv.kind !== "float") throw optionError("error parsing OCSP peer cache config, conversion error: unexpected type", f.keyPos);
        break;
      default:
        throw generic();
    }
  }
  return out;
}
