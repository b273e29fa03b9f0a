/**
 * Go's formatting and parsing of the values the server's messages quote: strconv.Quote, `%v`,
 * time.ParseDuration, and the server's parseListen (net.SplitHostPort).
 */
import type { ConfValue } from "./parser";
import { goTypeName } from "./parser";
import { decodeRune } from "./lexer";

const PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u;

/** Go's strconv.Quote (the `%q` verb on a string); a Buffer is taken as Go's byte string. */
export function goQuote(s: string | Buffer): string {
  const b = typeof s === "string" ? Buffer.from(s, "utf8") : s;
  let out = '"';
  for (let i = 0; i < b.length; ) {
    const [cp, w] = decodeRune(b, i);
    const ch = String.fromCodePoint(cp);
    i += w;
    if (cp === 0xfffd && w === 1) out += "\\x" + b[i - 1].toString(16).padStart(2, "0"); // not UTF-8
    else if (ch === '"' || ch === "\\") out += "\\" + ch;
    else if (PRINTABLE.test(ch)) out += ch;
    else if (cp === 0x07) out += "\\a";
    else if (cp === 0x08) out += "\\b";
    else if (cp === 0x0c) out += "\\f";
    else if (cp === 0x0a) out += "\\n";
    else if (cp === 0x0d) out += "\\r";
    else if (cp === 0x09) out += "\\t";
    else if (cp === 0x0b) out += "\\v";
    else if (cp < 0x20 || cp === 0x7f) out += "\\x" + cp.toString(16).padStart(2, "0");
    else if (cp < 0x10000) out += "\\u" + cp.toString(16).padStart(4, "0");
    else out += "\\U" + cp.toString(16).padStart(8, "0");
  }
  return out + '"';
}

/** Go's `%v` of a config value, as far as it is readable (maps and arrays hold pointers in the server). */
export function goValue(v: ConfValue): string {
  switch (v.kind) {
    case "string":
      return v.value;
    case "int":
      return v.exact.toString();
    case "float":
    case "bool":
      return String(v.value);
    case "datetime":
      return v.value.toISOString();
    case "array":
      return `[${v.items.map(goValue).join(" ")}]`;
    case "map":
      return `map[${[...v.entries.keys()].join(" ")}]`;
  }
}

/**
 * Go's time.ParseDuration: seconds, or the server's error text.
 */
export function parseGoDuration(orig: string): number | string {
  const invalid = `time: invalid duration ${goQuote(orig)}`;
  const units: Record<string, number> = { ns: 1, us: 1e3, "\u00b5s": 1e3, "\u03bcs": 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };
  let s = orig;
  let neg = false;
  if (s !== "" && (s[0] === "-" || s[0] === "+")) {
    neg = s[0] === "-";
    s = s.slice(1);
  }
  if (s === "0") return 0;
  if (s === "") return invalid;
  let total = 0;
  while (s !== "") {
    if (!(s[0] === "." || (s[0] >= "0" && s[0] <= "9"))) return invalid;
    const m = /^([0-9]*)(?:\.([0-9]*))?/.exec(s)!;
    const pre = m[1].length > 0;
    const post = m[2] !== undefined && m[2].length > 0;
    if (!pre && !post) return invalid;
    s = s.slice(m[0].length);
    let i = 0;
    while (i < s.length && s[i] !== "." && !(s[i] >= "0" && s[i] <= "9")) i++;
    if (i === 0) return `time: missing unit in duration ${goQuote(orig)}`;
    const u = s.slice(0, i);
    s = s.slice(i);
    const unit = units[u];
    if (unit === undefined) return `time: unknown unit ${goQuote(u)} in duration ${goQuote(orig)}`;
    total += Number(`${m[1] || "0"}.${m[2] || "0"}`) * unit;
    if (total > 9223372036854775807) return invalid;
  }
  return ((neg ? -1 : 1) * Math.trunc(total)) / 1e9;
}

/** Go's net.SplitHostPort, then the port as an int: the server's parseListen. */
export function parseListen(v: ConfValue): { host: string; port: number } | string {
  if (v.kind === "int") return { host: "", port: v.value };
  if (v.kind !== "string") return `expected port or host:port, got ${goTypeName(v)}`;
  const hp = v.value;
  const bad = `could not parse address string ${goQuote(hp)}`;
  let host: string;
  let port: string;
  if (hp.startsWith("[")) {
    const end = hp.indexOf("]");
    if (end < 0 || hp[end + 1] !== ":") return bad;
    host = hp.slice(1, end);
    port = hp.slice(end + 2);
    if (host.includes("[") || host.includes("]") || port.includes("[") || port.includes("]")) return bad;
  } else {
    const i = hp.lastIndexOf(":");
    if (i < 0) return bad;
    host = hp.slice(0, i);
    port = hp.slice(i + 1);
    if (host.includes(":") || host.includes("[") || host.includes("]") || port.includes("[") || port.includes("]")) return bad;
  }
  if (!/^[+-]?[0-9]+$/.test(port) || Math.abs(Number(port)) > 9223372036854775807) return `could not parse port ${goQuote(port)}`;
  return { host, port: Number(port) };
}
