/**
 * What the verifier needs from a nats-server configuration, read the way nats-server v2.9.10 reads
 * it (`nats-server -t -c file`): the client `tls {}` block, every user (authorization and accounts),
 * `no_auth_user`, and the websocket, mqtt and leafnode listeners with their own tls blocks
 * (reference §1.1, §2.1, §3.3). Written from the server's rules; it is not the server's code.
 *
 * The server checks its options after parsing and refuses the file on the first problem it meets;
 * {@link readServerConfig} throws a {@link ConfigError} with the server's own reason text where it
 * would. The server visits map keys in Go's random map order: where that order changes the result
 * (`verify_and_map: true` with `verify: false`; `user` and `USER` in one entry), the outcome is
 * reported in `warnings` instead of guessed.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { X509Certificate, createPrivateKey, KeyObject } from "node:crypto";
import {
  ConfigError,
  ConfEntry,
  ConfMap,
  ConfValue,
  Pos,
  VariableRef,
  goFileError,
  goTypeName,
  parseConfigFile,
} from "./parser";
import { decodeRune } from "./lexer";

export { ConfigError } from "./parser";
import { atLeast } from "../versions";
export type { ConfValue, ConfMap, ConfEntry, Pos } from "./parser";

// ---------------------------------------------------------------------------------------------
// The result

export interface ConfigUser {
  /** The user string exactly as configured (UTF-8 text). */
  user?: string;
  /** Its exact bytes (differs from `user` only for strings that are not valid UTF-8). */
  userBytes?: Buffer;
  password?: string;
  nkey?: string;
  /** The account named in `accounts {}`; null for `authorization { users }` (the global account). */
  account: string | null;
  /** Upper-cased, as the server stores them; absent when not configured (every type allowed). */
  allowedConnectionTypes?: string[];
  /** `permissions` as written (not interpreted). */
  permissions?: ConfValue;
  /** Where the entry is (its `{`). */
  pos: Pos;
  /** Fields whose value the server picks at random (the same field given twice in different case). */
  randomFields?: string[];
}

export interface TlsConfig {
  pos: Pos;
  certFile?: string;
  keyFile?: string;
  caFile?: string;
  /** Whether client certificates are requested and verified (see `verifyUncertain`). */
  verify: boolean;
  /** `verify_and_map`: certificates are mapped to users. */
  map: boolean;
  /** Both `verify` and `verify_and_map` appear in the block. */
  verifyAndVerifyAndMap: boolean;
  /**
   * `verify` depends on the server's random key order (`verify_and_map: true` with `verify: false`,
   * or a key repeated in different case): it changes from restart to restart (reference §1.1).
   */
  verifyUncertain: boolean;
  insecure: boolean;
  /** Handshake timeout in seconds, when configured. */
  timeout?: number;
  pinnedCerts?: string[];
  cipherSuites?: string[];
  curvePreferences?: string[];
  connectionRateLimit?: number;
  verifyCertAndCheckKnownUrls: boolean;
  /** The keys as written, in order. */
  keys: string[];
  /** Keys accepted only because the modelled server is newer than 2.9.10 (e.g. handshake_first). */
  laterKeys?: string[];
}

export interface SimpleAuth {
  pos: Pos;
  user?: string;
  password?: string;
  token?: string;
  timeout?: number;
}

export interface AuthorizationBlock extends SimpleAuth {
  /** A `users` array is present (even empty). */
  hasUsers: boolean;
  defaultPermissions?: ConfValue;
}

export interface AccountBlock {
  name: string;
  pos: Pos;
  nkey?: string;
  users: ConfigUser[];
  /** `default_permissions` as written: the permissions of its users that have none of their own. */
  defaultPermissions?: ConfValue;
}

export interface ListenerBlock {
  pos: Pos;
  tls?: TlsConfig;
  noTls?: boolean;
  authorization?: SimpleAuth;
  noAuthUser?: string;
}

export interface LeafUser {
  user?: string;
  password?: string;
  account?: string;
  pos: Pos;
}

export interface LeafNodesBlock {
  pos: Pos;
  tls?: TlsConfig;
  authorization?: SimpleAuth & { account?: string; users?: LeafUser[] };
}

export interface ConfigWarning {
  pos: Pos;
  message: string;
  /**
   * "server": a warning nats-server itself prints (it starts, but `nats-server -t` exits 1);
   * "random": the result depends on the server's random map order.
   */
  kind: "server" | "random";
}

/** A problem `nats-server -t` does not notice but that stops the server from starting. */
export interface StartupProblem {
  kind: "no_auth_user" | "leafnode account";
  /** The server's words. */
  message: string;
  pos: Pos;
  /** What to do about it. */
  fix: string;
}

export interface ServerConfig {
  file: string;
  /** The main file, then every included file. */
  files: string[];
  tree: ConfMap;
  variables: VariableRef[];
  tls?: TlsConfig;
  authorization?: AuthorizationBlock;
  accounts: AccountBlock[];
  /** Every user of the one table the server builds: authorization users, then account users. */
  users: ConfigUser[];
  noAuthUser?: string;
  websocket?: ListenerBlock;
  mqtt?: ListenerBlock;
  leafnodes?: LeafNodesBlock;
  warnings: ConfigWarning[];
  /** Problems the server reports only when it starts (not under `-t`), in its words. */
  startupProblems: StartupProblem[];
  /** Top-level keys that are valid but whose contents this reader does not check. */
  unchecked: string[];
  /** With `keepGoing`: every option error the server would refuse the file for (else thrown). */
  errors?: ConfigError[];
}

/**
 * TLS keys that servers after 2.9.10 accept (reference §4), with the first release that has each.
 * None of them changes which user a certificate maps to; ocsp_peer can refuse certificates at the
 * handshake (OCSP is not modelled: the verdict notes it).
 */
const LATER_TLS_KEYS: Record<string, { since: string; kinds: string[] }> = {
  ocsp_peer: { since: "2.9.21", kinds: ["bool", "map"] },
  handshake_first: { since: "2.10.0", kinds: ["bool", "string"] },
  first: { since: "2.10.0", kinds: ["bool", "string"] },
  immediate: { since: "2.10.0", kinds: ["bool", "string"] },
  cert_store: { since: "2.10.0", kinds: ["string"] },
  cert_match_by: { since: "2.10.0", kinds: ["string"] },
  cert_match: { since: "2.10.0", kinds: ["string"] },
  min_version: { since: "2.10.21", kinds: ["string"] },
  certs: { since: "2.11.0", kinds: ["array"] },
  ca_certs_match: { since: "2.11.0", kinds: ["array", "string"] },
  cert_match_skip_invalid: { since: "2.11.0", kinds: ["bool"] },
  allow_insecure_cipher_suites: { since: "2.12.0", kinds: ["bool"] },
};

export interface ReadOptions {
  /** The nats-server version whose configuration language to accept (default 2.9.10). */
  serverVersion?: string;
  /** Where the server runs: `cert_file`, `key_file` and `ca_file` are opened relative to it. Default: process.cwd(). */
  cwd?: string;
  /** Load the certificate, key and CA files as the server does (default true). */
  checkFiles?: boolean;
  /**
   * Return what could be read even when the server would refuse the file's options (not its
   * syntax): the refusals are then in `errors` instead of thrown (for `lint`).
   */
  keepGoing?: boolean;
}

// ---------------------------------------------------------------------------------------------
// Go formatting helpers

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
function goValue(v: ConfValue): string {
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

// ---------------------------------------------------------------------------------------------
// NKeys and subjects

const B32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

function crc16(data: Uint8Array): number {
  let crc = 0;
  for (const b of data) {
    crc ^= b << 8;
    for (let i = 0; i < 8; i++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc;
}

/** An NKey public key of the given prefix byte (user 'U' = 20<<3, account 'A' = 0), as nkeys v0.3.0 checks it. */
export function isValidPublicNkey(s: string, prefixByte: number): boolean {
  const src = s.replace(/[\r\n]/g, "");
  if ([1, 3, 6].includes(src.length % 8)) return false;
  const out: number[] = [];
  let acc = 0;
  let bits = 0;
  for (const c of src) {
    const v = B32.indexOf(c);
    if (v < 0) return false;
    acc = (acc << 5) | v;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out.push((acc >> bits) & 0xff);
    }
    acc &= (1 << bits) - 1;
  }
  if (out.length < 4) return false;
  const raw = Uint8Array.from(out);
  const body = raw.subarray(0, raw.length - 2);
  const want = raw[raw.length - 2] | (raw[raw.length - 1] << 8);
  if (crc16(body) !== want) return false;
  return body[0] === prefixByte;
}
const PREFIX_USER = 20 << 3;
const PREFIX_ACCOUNT = 0;

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

const CIPHERS = new Set([
  "TLS_RSA_WITH_RC4_128_SHA",
  "TLS_RSA_WITH_3DES_EDE_CBC_SHA",
  "TLS_RSA_WITH_AES_128_CBC_SHA",
  "TLS_RSA_WITH_AES_128_CBC_SHA256",
  "TLS_RSA_WITH_AES_256_CBC_SHA",
  "TLS_RSA_WITH_AES_256_GCM_SHA384",
  "TLS_ECDHE_ECDSA_WITH_RC4_128_SHA",
  "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA",
  "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA",
  "TLS_ECDHE_RSA_WITH_RC4_128_SHA",
  "TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA",
  "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
  "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256",
  "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256",
  "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
  "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
  "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
  "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
  "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
  "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305",
  "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305",
  "TLS_AES_128_GCM_SHA256",
  "TLS_AES_256_GCM_SHA384",
  "TLS_CHACHA20_POLY1305_SHA256",
]);
const CURVES = new Set(["X25519", "CurveP256", "CurveP384", "CurveP521"]);
const CONNECTION_TYPES = new Set(["STANDARD", "WEBSOCKET", "LEAFNODE", "LEAFNODE_WS", "MQTT", "MQTT_WS"]);

// ---------------------------------------------------------------------------------------------
// The checker

/** A server-side option error, printed by the server as `file:line:col: reason`. */
function optionError(reason: string, pos: Pos): ConfigError {
  // the server counts columns from 0 on the first line of a file and from 1 on the others
  return new ConfigError(reason, pos, `${pos.file}:${pos.line}:${pos.line === 1 ? pos.col - 1 : pos.col}: ${reason}`);
}

/** A Go panic inside one of the server's option parsers (a type assertion that failed). */
class Panic {
  constructor(
    readonly message: string,
    readonly pos: Pos,
  ) {}
}

function want<K extends ConfValue["kind"]>(v: ConfValue, kind: K, pos: Pos): Extract<ConfValue, { kind: K }> {
  if (v.kind !== kind) {
    const goWant = { string: "string", bool: "bool", int: "int64", float: "float64", datetime: "time.Time", array: "[]interface {}", map: "map[string]interface {}" }[kind];
    throw new Panic(`interface conversion: interface {} is ${goTypeName(v)}, not ${goWant}`, pos);
  }
  return v as Extract<ConfValue, { kind: K }>;
}

/** Go's net.SplitHostPort, then the port as an int: the server's parseListen. */
function parseListen(v: ConfValue): { host: string; port: number } | string {
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

interface PemBlock {
  type: string;
  headers: boolean;
  der: Buffer;
}
function pemBlocks(data: Buffer): PemBlock[] {
  const text = data.toString("latin1");
  const out: PemBlock[] = [];
  const re = /-----BEGIN ([^\n-]*)-----\r?\n([\s\S]*?)-----END \1-----/g;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const body = m[2];
    const headers = /^[^\n]*:/.test(body);
    out.push({ type: m[1], headers, der: Buffer.from(body.replace(/^[^\n]*:[^\n]*\r?\n/gm, "").replace(/\s+/g, ""), "base64") });
  }
  return out;
}

class Checker {
  readonly errors: ConfigError[] = [];
  readonly warnings: ConfigWarning[] = [];
  readonly result: ServerConfig;
  private readonly cwd: string;
  private readonly serverVersion: string;
  private readonly checkFiles: boolean;
  /** Users and nkeys of the one table, for the duplicate check. */
  private readonly seen = new Set<string>();
  /** Where no_auth_user is set (its startup problem points there). */
  private noAuthUserPos?: Pos;
  /** For each user, the position the server blames for a duplicate (its `authorization` or `users` key). */
  private readonly blame = new Map<ConfigUser, Pos>();

  constructor(file: string, files: string[], tree: ConfMap, variables: VariableRef[], opts: ReadOptions) {
    this.cwd = opts.cwd ?? process.cwd();
    this.serverVersion = opts.serverVersion ?? "2.9.10";
    this.checkFiles = opts.checkFiles ?? true;
    this.result = { file, files, tree, variables, accounts: [], users: [], warnings: this.warnings, startupProblems: [], unchecked: [] };
  }

  private error(reason: string, pos: Pos): void {
    this.errors.push(optionError(reason, pos));
  }
  private unknown(e: ConfEntry): void {
    if (!e.value.usedVariable) this.error(`unknown field ${goQuote(e.key)}`, e.keyPos);
  }
  /** Runs one of the server's option parsers; a panic inside it becomes one error, as the server's recover does. */
  private guarded(f: () => void): void {
    try {
      f();
    } catch (e) {
      if (e instanceof Panic) this.error(e.message, e.pos);
      else if (e instanceof ConfigError) this.errors.push(e);
      else throw e;
    }
  }
  /** Flags keys of one map that differ only in case among the given names (the server picks one at random). */
  private randomKeys(m: ConfMap, names: string[][]): string[] {
    const out: string[] = [];
    for (const group of names) {
      const hits = [...m.entries.values()].filter((e) => group.includes(e.key.toLowerCase()));
      if (hits.length > 1) {
        const values = new Set(hits.map((h) => JSON.stringify([h.value.kind, h.value.kind === "string" ? h.value.value : String((h.value as { value?: unknown }).value)])));
        if (values.size > 1) {
          out.push(group[0]);
          this.warnings.push({
            pos: hits[hits.length - 1].keyPos,
            kind: "random",
            message: `${hits.map((h) => h.key).join(", ")} set the same option to different values: the server picks one at random on each start`,
          });
        }
      }
    }
    return out;
  }

  // ----- top level ---------------------------------------------------------------------------

  run(): void {
    const root = this.result.tree;
    // system account first, as the server does (exact keys)
    const sys = root.entries.get("system_account") ?? root.entries.get("system");
    if (sys && sys.value.kind !== "string") this.error("system account name must be a string", sys.keyPos);
    for (const e of root.entries.values()) this.guarded(() => this.topLevel(e));
    // the same block under two spellings: the server applies both, in random order
    for (const group of [["tls"], ["authorization"], ["accounts"], ["no_auth_user"], ["websocket", "ws"], ["mqtt"], ["leaf", "leafnodes"]]) {
      const hits = [...root.entries.values()].filter((e) => group.includes(e.key.toLowerCase()));
      if (hits.length > 1) {
        this.warnings.push({
          pos: hits[hits.length - 1].keyPos,
          kind: "random",
          message: `${hits.map((h) => h.key).join(", ")} are the same option: the server applies them in random order (this reader keeps the last one)`,
        });
      }
    }
    this.crossChecks();
  }

  private topLevel(e: ConfEntry): void {
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
        if (typeof hp === "string") this.error(hp, p);
        return;
      }
      case "client_advertise":
      case "server_name":
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
        this.result.noAuthUser = str();
        this.noAuthUserPos = p;
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
        if (int().exact > 2147483647n) this.error(`${e.key} value is too big`, p);
        return;
      case "max_sub_tokens":
      case "max_subscription_tokens": {
        const n = int().exact;
        if (n > 255n) this.error(`${e.key} value is too big`, p);
        else if (n <= 0n) this.error(`${e.key} value can not be negative`, p);
        return;
      }
      case "ping_interval":
      case "write_deadline":
        this.duration(k, v, p);
        return;
      case "lame_duck_duration":
      case "lame_duck_grace_period": {
        const d = parseGoDuration(str());
        if (typeof d === "string") this.error(`error parsing ${k}: ${d}`, p);
        else if (k === "lame_duck_duration" && d < 30) this.error(`invalid lame_duck_duration of ${str()}, minimum is 30 seconds`, p);
        else if (k === "lame_duck_grace_period" && d < 0) this.error("invalid lame_duck_grace_period, needs to be positive", p);
        return;
      }
      case "system_account":
      case "system":
        return;
      case "tls":
        this.result.tls = this.tlsWithFiles(e);
        return;
      case "resolver_tls":
        this.tlsWithFiles(e);
        return;
      case "authorization":
        this.authorization(e);
        return;
      case "accounts":
        this.accounts(e);
        return;
      case "websocket":
      case "ws":
        this.result.websocket = this.listener(e, "websocket");
        return;
      case "mqtt":
        this.result.mqtt = this.listener(e, "mqtt");
        return;
      case "leaf":
      case "leafnodes":
        this.leafnodes(e);
        return;
      case "server_tags":
        if (v.kind === "array") {
          if (v.items.some((it) => it.kind !== "string")) this.error("error parsing tags: unsupported type *conf.token where string is expected", p);
        } else if (v.kind !== "string") this.error(`error parsing tags: unsupported type ${goTypeName(v)}`, p);
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
        this.result.unchecked.push(e.key);
        return;
      default:
        this.unknown(e);
    }
  }

  /** The server's parseDuration: a duration string, or (with a warning) a number of seconds. */
  private duration(field: string, v: ConfValue, p: Pos): void {
    if (v.kind === "string") {
      const d = parseGoDuration(v.value);
      if (typeof d === "string") this.error(`error parsing ${field}: ${d}`, p);
      return;
    }
    want(v, "int", p); // anything but a string or an int is a panic
    this.warnings.push({ pos: p, kind: "server", message: `invalid use of field ${goQuote(field)}: ${field} should be converted to a duration` });
  }

  // ----- tls ---------------------------------------------------------------------------------

  private tlsWithFiles(e: ConfEntry): TlsConfig | undefined {
    const tc = this.tls(e);
    if (tc && this.checkFiles) {
      const why = this.loadTlsFiles(tc);
      if (why) {
        this.error(why, e.keyPos);
        return undefined;
      }
    }
    return tc;
  }

  /** The server's parseTLS for a client-side block; the first problem aborts it. */
  private tls(e: ConfEntry): TlsConfig | undefined {
    let out: TlsConfig | undefined;
    this.guarded(() => {
      const m = want(e.value, "map", e.keyPos);
      const tc: TlsConfig = {
        pos: e.keyPos,
        verify: false,
        map: false,
        verifyAndVerifyAndMap: false,
        verifyUncertain: false,
        insecure: false,
        verifyCertAndCheckKnownUrls: false,
        keys: [...m.entries.keys()],
      };
      const fail = (reason: string, pos: Pos): never => {
        throw optionError(reason, pos);
      };
      let verifyVal: boolean | undefined;
      let mapVal: boolean | undefined;
      const seen = new Map<string, number>();
      for (const f of m.entries.values()) {
        const k = f.key.toLowerCase();
        seen.set(k, (seen.get(k) ?? 0) + 1);
        const v = f.value;
        const p = f.keyPos;
        const boolOf = (name: string) => {
          if (v.kind !== "bool") fail(`error parsing tls config, expected '${name}' to be a boolean`, p);
          return (v as { value: boolean }).value;
        };
        const fileOf = (name: string) => {
          if (v.kind !== "string") fail(`error parsing tls config, expected '${name}' to be filename`, p);
          return (v as { value: string }).value;
        };
        switch (k) {
          case "cert_file":
            tc.certFile = fileOf("cert_file");
            break;
          case "key_file":
            tc.keyFile = fileOf("key_file");
            break;
          case "ca_file":
            tc.caFile = fileOf("ca_file");
            break;
          case "insecure":
            tc.insecure = boolOf("insecure");
            break;
          case "verify":
            verifyVal = boolOf("verify");
            break;
          case "verify_and_map":
            mapVal = boolOf("verify_and_map");
            break;
          case "verify_cert_and_check_known_urls":
            tc.verifyCertAndCheckKnownUrls = boolOf("verify_cert_and_check_known_urls");
            if (tc.verifyCertAndCheckKnownUrls) fail("verify_cert_and_check_known_urls not supported in this context", p);
            break;
          case "cipher_suites":
          case "curve_preferences": {
            const arr = want(v, "array", p);
            if (arr.items.length === 0) fail(`error parsing tls config, '${k}' cannot be empty`, p);
            const names = arr.items.map((it) => want(it, "string", it.pos).value);
            arr.items.forEach((it, i) => {
              const known = k === "cipher_suites" ? CIPHERS : CURVES;
              if (!known.has(names[i])) fail(k === "cipher_suites" ? `unrecognized cipher ${names[i]}` : `unrecognized curve preference ${names[i]}`, it.pos);
            });
            if (k === "cipher_suites") tc.cipherSuites = names;
            else tc.curvePreferences = names;
            break;
          }
          case "timeout":
            if (v.kind === "int" || v.kind === "float") tc.timeout = v.value;
            else if (v.kind === "string") {
              const d = parseGoDuration(v.value);
              if (typeof d === "string") fail(`error parsing tls config, 'timeout' ${d}`, p);
              tc.timeout = d as number;
            } else fail("error parsing tls config, 'timeout' wrong type", p);
            break;
          case "connection_rate_limit":
            if (v.kind !== "int") fail("error parsing tls config, 'connection_rate_limit' wrong type", p);
            tc.connectionRateLimit = (v as { value: number }).value;
            break;
          case "pinned_certs": {
            if (v.kind !== "array") fail("error parsing tls config, expected 'pinned_certs' to be a list of hex-encoded sha256 of DER encoded SubjectPublicKeyInfo", p);
            const pins: string[] = [];
            for (const it of (v as { items: ConfValue[] }).items) {
              const entry = want(it, "string", it.pos).value.toLowerCase();
              if (!/^[a-f0-9]{64}$/.test(entry)) {
                fail(`error parsing tls config, 'pinned_certs' key ${entry} does not look like hex-encoded sha256 of DER encoded SubjectPublicKeyInfo`, it.pos);
              }
              pins.push(entry);
            }
            if (pins.length) tc.pinnedCerts = pins;
            break;
          }
          default: {
            // keys later servers added (reference §4): accepted when the modelled version has them
            const gate = LATER_TLS_KEYS[k];
            if (gate && atLeast(this.serverVersion, gate.since)) {
              if (!gate.kinds.includes(v.kind)) fail(`error parsing tls config, '${k}' wrong type`, p);
              (tc.laterKeys ??= []).push(k);
              break;
            }
            fail(`error parsing tls config, unknown field [${goQuote(f.key)}]`, p);
          }
        }
      }
      // verify: `verify` sets it, `verify_and_map: true` sets it too; the last one visited wins
      tc.map = mapVal ?? false;
      tc.verifyAndVerifyAndMap = verifyVal !== undefined && mapVal !== undefined;
      if (verifyVal === undefined) tc.verify = mapVal === true;
      else if (mapVal === true && verifyVal === false) {
        tc.verify = true;
        tc.verifyUncertain = true;
      } else tc.verify = verifyVal;
      const repeated = [...seen.entries()].filter(([, n]) => n > 1).map(([k]) => k);
      const random = this.randomKeys(m, repeated.map((k) => [k]));
      if (random.some((k) => k === "verify" || k === "verify_and_map")) tc.verifyUncertain = true;
      if (tc.verifyUncertain) {
        this.warnings.push({
          pos: e.keyPos,
          kind: "random",
          message: "whether client certificates are verified depends on the server's random key order (verify_and_map: true with verify: false): it changes from restart to restart",
        });
      }
      out = tc;
    });
    return out;
  }

  /** The server's GenTLSConfig: the key pair and the CA file; the reason text when it fails. */
  private loadTlsFiles(tc: TlsConfig): string | undefined {
    const open = (f: string): Buffer | string => {
      try {
        return fs.readFileSync(path.resolve(this.cwd, f));
      } catch (e) {
        return goFileError(e, f);
      }
    };
    if (tc.certFile && !tc.keyFile) return "missing 'key_file' in TLS configuration";
    if (!tc.certFile && tc.keyFile) return "missing 'cert_file' in TLS configuration";
    if (tc.certFile && tc.keyFile) {
      const pair = (why: string) => `error parsing X509 certificate/key pair: ${why}`;
      const certData = open(tc.certFile);
      if (typeof certData === "string") return pair(certData);
      const keyData = open(tc.keyFile);
      if (typeof keyData === "string") return pair(keyData);
      const certBlocks = pemBlocks(certData);
      const certs = certBlocks.filter((b) => b.type === "CERTIFICATE");
      if (certs.length === 0) {
        if (certBlocks.length === 0) return pair("tls: failed to find any PEM data in certificate input");
        if (certBlocks.length === 1 && certBlocks[0].type.endsWith("PRIVATE KEY")) {
          return pair("tls: failed to find certificate PEM data in certificate input, but did find a private key; PEM inputs may have been switched");
        }
        return pair(`tls: failed to find "CERTIFICATE" PEM block in certificate input after skipping PEM blocks of the following types: [${certBlocks.map((b) => b.type).join(" ")}]`);
      }
      const keyBlocks = pemBlocks(keyData);
      const keyBlock = keyBlocks.find((b) => b.type === "PRIVATE KEY" || b.type.endsWith(" PRIVATE KEY"));
      if (!keyBlock) {
        if (keyBlocks.length === 0) return pair("tls: failed to find any PEM data in key input");
        if (keyBlocks.length === 1 && keyBlocks[0].type === "CERTIFICATE") return pair("tls: found a certificate rather than a key in the PEM for the private key");
        return pair(`tls: failed to find PEM block with type ending in "PRIVATE KEY" in key input after skipping PEM blocks of the following types: [${keyBlocks.map((b) => b.type).join(" ")}]`);
      }
      let cert: X509Certificate;
      try {
        cert = new X509Certificate(certs[0].der);
      } catch {
        return pair("x509: malformed certificate");
      }
      let key: KeyObject | undefined;
      for (const type of ["pkcs1", "pkcs8", "sec1"] as const) {
        try {
          key = createPrivateKey({ key: keyBlock.der, format: "der", type });
          break;
        } catch {
          /* try the next form */
        }
      }
      if (!key) return pair("tls: failed to parse private key");
      let matches = false;
      try {
        matches = cert.checkPrivateKey(key);
      } catch {
        matches = false;
      }
      if (!matches) return pair("tls: private key does not match public key");
    }
    if (tc.caFile) {
      const data = open(tc.caFile);
      if (typeof data === "string") return data;
      const ok = pemBlocks(data).some((b) => {
        if (b.type !== "CERTIFICATE" || b.headers) return false;
        try {
          new X509Certificate(b.der);
          return true;
        } catch {
          return false;
        }
      });
      if (!ok) return "failed to parse root ca certificate";
    }
    return undefined;
  }

  // ----- authorization and users -------------------------------------------------------------

  /** user/pass/timeout (and whatever `extra` accepts) of an authorization-like block, into `a`. */
  private simpleAuth<T extends SimpleAuth>(e: ConfEntry, a: T, extra?: (f: ConfEntry, k: string) => boolean): T {
    const m = want(e.value, "map", e.keyPos);
    this.randomKeys(m, [
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
          this.unknown(f);
      }
    }
    return a;
  }

  private authorization(e: ConfEntry): void {
    let users: ConfigUser[] | undefined;
    const block: AuthorizationBlock = { pos: e.keyPos, hasUsers: false };
    let ok = false;
    this.guarded(() => {
      this.simpleAuth(e, block, (f, k) => {
        if (k === "token") {
          block.token = want(f.value, "string", f.keyPos).value;
          return true;
        }
        if (k === "users") {
          block.hasUsers = true;
          this.guarded(() => {
            users = this.users(f, null);
          });
          return true;
        }
        if (k === "default_permission" || k === "default_permissions" || k === "permissions") {
          this.guarded(() => this.permissions(f.value, f.keyPos));
          block.defaultPermissions = f.value;
          return true;
        }
        return false;
      });
      ok = true;
    });
    if (!ok) return;
    this.result.authorization = block;
    if (users) {
      for (const u of users) this.blame.set(u, e.keyPos);
      this.result.users.unshift(...users);
    }
  }

  /** Checks that need the whole file: they hold whatever order the server visits the keys in. */
  private crossChecks(): void {
    const auth = this.result.authorization;
    const accountUsers = this.result.accounts.flatMap((a) => a.users);
    if (auth) {
      const p = auth.pos;
      if ((auth.user || auth.password) && auth.token) this.error("Cannot have a user/pass and token", p);
      else if (auth.hasUsers || accountUsers.length > 0) {
        if (auth.user) this.error(auth.hasUsers ? "Can not have a single user/pass and a users array" : "Can not have a single user/pass and accounts", p);
        else if (auth.token) this.error(auth.hasUsers ? "Can not have a token and a users array" : "Can not have a token and accounts", p);
      }
    }
    // one table for every user and nkey of authorization and accounts
    for (const u of this.result.users) {
      const name = u.nkey ?? u.user ?? "";
      if (this.seen.has(name)) this.error(`Duplicate ${u.nkey ? "nkey" : "user"} ${goQuote(u.userBytes ?? name)} detected`, this.blame.get(u) ?? u.pos);
      this.seen.add(name);
    }
    // startup-only checks (not made by `nats-server -t`)
    const nau = this.result.noAuthUser;
    const startup = (kind: StartupProblem["kind"], message: string, pos: Pos, fix: string) => this.result.startupProblems.push({ kind, message, pos, fix });
    if (nau) {
      const at = this.noAuthUserPos!; // set with noAuthUser
      const fix = "define that user in authorization or an account, or remove no_auth_user";
      if (!this.result.users.some((u) => !u.nkey)) startup("no_auth_user", `no_auth_user: "${nau}" present, but users are not defined`, at, fix);
      else if (!this.result.users.some((u) => u.user === nau)) startup("no_auth_user", `no_auth_user: "${nau}" not present as user in authorization block or account configuration`, at, fix);
    }
    // validateLeafNode: a leafnode user's account must be one the server has: $G and $SYS always, else one of accounts {}
    const la = this.result.leafnodes?.authorization;
    if (la) {
      const known = new Set(["$G", "$SYS", ...this.result.accounts.map((a) => a.name)]);
      const fix = "define the account in accounts { }, or name one that is defined";
      for (const [acc, pos] of [[la.account, la.pos], ...(la.users ?? []).map((u) => [u.account, u.pos])] as [string | undefined, Pos][])
        if (acc !== undefined && acc !== "" && !known.has(acc)) startup("leafnode account", `cannot find local account ${goQuote(acc)} specified in leafnode authorization`, pos, fix);
    }
  }

  /** The server's parseUsers: a problem in one entry loses the whole list. */
  private users(e: ConfEntry, account: string | null): ConfigUser[] | undefined {
    if (e.value.kind !== "array") {
      this.error(`Expected users field to be an array, got ${goValue(e.value)}`, e.keyPos);
      return undefined;
    }
    const out: ConfigUser[] = [];
    for (const item of e.value.items) {
      if (item.kind !== "map") {
        this.error(`Expected user entry to be a map/struct, got ${goValue(item)}`, item.pos);
        continue;
      }
      const u: ConfigUser = { account, pos: item.pos };
      const random = this.randomKeys(item, [["user", "username"], ["pass", "password"], ["nkey"], ["permission", "permissions", "authorization"], ["allowed_connection_types", "connection_types", "clients"]]);
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
            this.guarded(() => this.permissions(f.value, f.keyPos));
            u.permissions = f.value;
            break;
          case "allowed_connection_types":
          case "connection_types":
          case "clients":
            u.allowedConnectionTypes = this.connectionTypes(f);
            break;
          default:
            this.unknown(f);
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

  private connectionTypes(f: ConfEntry): string[] | undefined {
    const v = f.value;
    let list: string[];
    if (v.kind === "string") list = [v.value];
    else if (v.kind === "array") {
      list = [];
      for (const it of v.items) {
        if (it.kind === "string") list.push(it.value);
        else this.error(`error parsing allowed connection types: unsupported type in array ${goTypeName(it)}`, it.pos);
      }
    } else {
      this.error(`error parsing allowed connection types: unsupported type ${goTypeName(v)}`, f.keyPos);
      return undefined;
    }
    const upper = list.map((s) => s.toUpperCase());
    const bad = upper.filter((s) => !CONNECTION_TYPES.has(s));
    if (bad.length) this.error(`invalid connection types [${bad.map((b) => goQuote(b)).join(" ")}]`, f.keyPos);
    return [...new Set(upper.filter((s) => CONNECTION_TYPES.has(s)))];
  }

  /** The server's parseUserPermissions (checked, not interpreted). */
  private permissions(v: ConfValue, pos: Pos): void {
    if (v.kind !== "map") throw optionError(`Expected permissions to be a map/struct, got ${goValue(v)}`, pos);
    for (const f of v.entries.values()) {
      switch (f.key.toLowerCase()) {
        case "pub":
        case "publish":
        case "import":
        case "sub":
        case "subscribe":
        case "export":
          this.guarded(() => {
            if (f.value.kind === "map") {
              for (const g of f.value.entries.values()) {
                const k = g.key.toLowerCase();
                if (k === "allow" || k === "deny") this.guarded(() => this.subjects(g.value, g.keyPos));
                else if (!g.value.usedVariable) this.error(`Unknown field name ${goQuote(g.key)} parsing subject permissions, only 'allow' or 'deny' are permitted`, g.keyPos);
              }
            } else this.subjects(f.value, f.keyPos);
          });
          break;
        case "publish_allow_responses":
        case "allow_responses":
          if (f.value.kind === "bool") break;
          this.guarded(() => this.allowResponses(f.value, f.keyPos));
          break;
        default:
          if (!f.value.usedVariable) this.error(`Unknown field ${goQuote(f.key)} parsing permissions`, f.keyPos);
      }
    }
  }

  private subjects(v: ConfValue, pos: Pos): void {
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

  private allowResponses(v: ConfValue, pos: Pos): void {
    if (v.kind !== "map") {
      this.error("error parsing response permissions, expected a boolean or a map", pos);
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
            this.error("error parsing expires, not a duration string", f.keyPos);
            return;
          } else {
            const d = parseGoDuration(f.value.value);
            if (typeof d === "string") {
              this.error(`error parsing expires: ${d}`, f.keyPos);
              return;
            }
          }
          break;
        default:
          if (!f.value.usedVariable) this.error(`Unknown field ${goQuote(f.key)} parsing permissions`, f.keyPos);
      }
    }
  }

  // ----- accounts ----------------------------------------------------------------------------

  private accounts(e: ConfEntry): void {
    const v = e.value;
    if (v.kind === "array") {
      const names = new Set<string>();
      for (const it of v.items) {
        const name = want(it, "string", it.pos).value;
        if (name === "$G") this.error(`"$G" is a Reserved Account`, it.pos);
        else if (names.has(name)) this.error(`Duplicate Account Entry: ${name}`, it.pos);
        else {
          names.add(name);
          this.result.accounts.push({ name, pos: it.pos, users: [] });
        }
      }
      return;
    }
    if (v.kind !== "map") return; // the server ignores any other kind of value here
    for (const a of v.entries.values()) {
      if (a.value.usedVariable) continue;
      if (a.value.kind !== "map") {
        this.error("Expected map entries for accounts", a.keyPos);
        continue;
      }
      if (a.key === "$G") {
        this.error(`"$G" is a Reserved Account`, a.keyPos);
        continue;
      }
      const acc: AccountBlock = { name: a.key, pos: a.keyPos, users: [] };
      this.result.accounts.push(acc);
      for (const f of a.value.entries.values()) {
        switch (f.key.toLowerCase()) {
          case "nkey":
            if (f.value.kind !== "string" || !isValidPublicNkey(f.value.value, PREFIX_ACCOUNT)) {
              this.error(`Not a valid public nkey for an account: ${f.value.kind === "string" ? goQuote(f.value.value) : `%!q(${goTypeName(f.value)}=${goValue(f.value)})`}`, f.keyPos);
            } else acc.nkey = f.value.value;
            break;
          case "users":
            this.guarded(() => {
              const list = this.users(f, a.key);
              if (list) acc.users = list;
              for (const u of acc.users) this.blame.set(u, f.keyPos);
            });
            break;
          case "default_permissions":
            this.guarded(() => this.permissions(f.value, f.keyPos));
            acc.defaultPermissions = f.value;
            break;
          case "imports":
          case "exports":
          case "jetstream":
          case "mappings":
          case "maps":
          case "limits":
            if (!this.result.unchecked.includes(`accounts.${f.key.toLowerCase()}`)) this.result.unchecked.push(`accounts.${f.key.toLowerCase()}`);
            break;
          default:
            this.unknown(f);
        }
      }
      this.result.users.push(...acc.users);
    }
  }

  // ----- other listeners ---------------------------------------------------------------------

  private listener(e: ConfEntry, kind: "websocket" | "mqtt"): ListenerBlock | undefined {
    if (e.value.kind !== "map") {
      this.error(`Expected ${kind} to be a map, got ${goTypeName(e.value)}`, e.keyPos);
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
          if (typeof hp === "string") this.error(hp, p);
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
          out.tls = this.tlsWithFiles(f);
          continue;
        case "authorization":
        case "authentication":
          this.guarded(() => {
            const a: SimpleAuth = { pos: f.keyPos };
            this.simpleAuth(f, a, (g, gk) => {
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
              for (const it of v.items) if (it.kind !== "string") this.error(`error parsing allowed origins: unsupported type in array ${goTypeName(it)}`, it.pos);
            } else if (v.kind !== "string") this.error(`error parsing allowed origins: unsupported type ${goTypeName(v)}`, p);
            continue;
          case "handshake_timeout":
            if (v.kind === "string") {
              const d = parseGoDuration(v.value);
              if (typeof d === "string") this.error(d, p);
            } else if (v.kind !== "int") this.error(`error parsing handshake timeout: unsupported type ${goTypeName(v)}`, p);
            continue;
        }
      } else {
        switch (k) {
          case "ack_wait":
          case "ackwait":
            this.duration("ack_wait", v, p);
            continue;
          case "consumer_inactive_threshold":
          case "consumer_auto_cleanup":
            this.duration("consumer_inactive_threshold", v, p);
            continue;
          case "max_ack_pending":
          case "max_pending":
          case "max_inflight": {
            const n = want(v, "int", p).value;
            if (n < 0 || n > 0xffff) this.error(`invalid value ${n}, should in [0..65535] range`, p);
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
      this.unknown(f);
    }
    return out;
  }

  private leafnodes(e: ConfEntry): void {
    if (e.value.kind !== "map") {
      this.error(`Expected map to define a leafnode, got ${goTypeName(e.value)}`, e.keyPos);
      return;
    }
    const out: LeafNodesBlock = { pos: e.keyPos };
    this.result.leafnodes = out;
    for (const f of e.value.entries.values()) {
      const v = f.value;
      const p = f.keyPos;
      switch (f.key.toLowerCase()) {
        case "listen": {
          const hp = parseListen(v);
          if (typeof hp === "string") this.error(hp, p);
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
          out.tls = this.tlsWithFiles(f);
          break;
        case "remotes":
          if (!this.result.unchecked.includes("leafnodes.remotes")) this.result.unchecked.push("leafnodes.remotes");
          break;
        case "authorization":
          this.guarded(() => {
            const users: LeafUser[] = [];
            const a: SimpleAuth & { account?: string; users?: LeafUser[] } = { pos: f.keyPos };
            this.simpleAuth(f, a, (g, gk) => {
              if (gk === "account") {
                a.account = want(g.value, "string", g.keyPos).value;
                return true;
              }
              if (gk !== "users") return false;
              this.guarded(() => {
                if (g.value.kind !== "array") throw optionError(`Expected users field to be an array, got ${goValue(g.value)}`, g.keyPos);
                for (const it of g.value.items) {
                  if (it.kind !== "map") {
                    this.error(`Expected user entry to be a map/struct, got ${goValue(it)}`, it.pos);
                    continue;
                  }
                  const lu: LeafUser = { pos: it.pos };
                  for (const h of it.entries.values()) {
                    const hk = h.key.toLowerCase();
                    if (hk === "user" || hk === "username") lu.user = want(h.value, "string", h.keyPos).value;
                    else if (hk === "pass" || hk === "password") lu.password = want(h.value, "string", h.keyPos).value;
                    else if (hk === "account") lu.account = want(h.value, "string", h.keyPos).value;
                    else this.unknown(h);
                  }
                  users.push(lu);
                }
              });
              return true;
            });
            a.users = users;
            out.authorization = a;
            if (users.length) {
              if (a.user) this.error("can not have a single user/pass and a users array", p);
              else {
                const names = new Set<string>();
                for (const u of users) {
                  const n = u.user ?? "";
                  if (names.has(n)) {
                    this.error(`duplicate user ${goQuote(n)} detected in leafnode authorization`, p);
                    break;
                  }
                  names.add(n);
                }
              }
            }
          });
          break;
        default:
          this.unknown(f);
      }
    }
  }
}

/**
 * Reads a nats-server configuration file as nats-server 2.9.10 would, and collects what the verifier
 * needs. Throws a {@link ConfigError} (the server's reason text, with file, line and column) when the
 * server would refuse to load the file; the first problem is thrown, the others are in `others`.
 */
export function readServerConfig(file: string, env?: NodeJS.ProcessEnv, opts: ReadOptions = {}): ServerConfig {
  const parsed = parseConfigFile(file, { env });
  const checker = new Checker(file, parsed.files, parsed.root, parsed.variables, opts);
  checker.run();
  if (opts.keepGoing) return { ...checker.result, errors: checker.errors };
  if (checker.errors.length > 0) {
    const [first, ...others] = checker.errors;
    throw new ConfigError(first.reason, { file: first.file, line: first.line, col: first.col }, first.serverMessage, others);
  }
  return checker.result;
}
