/**
 * Config-level findings: the users table (DN quirks, random picks, passwords), the listeners
 * (which map certificates and which let a name alone in), and the tls blocks (ca_file, insecure,
 * verify / verify_and_map, pinned_certs). Positions come from the reader's tree.
 */
import * as path from "node:path";
import type { ServerConfig, TlsConfig, ConfigUser, ConfMap, ConfEntry, ConfValue, Pos } from "../nats/conf/server-config";
import { CODES, Code, Finding, SET_STYLE_RDNSMATCH } from "./codes";
import { analyzeUserDn, isDnLike } from "./dn";
import { findTies } from "./ties";
import { isUtf8Of } from "../verify/from-config";

// ---------------------------------------------------------------------------------------------
// Positions

const samePos = (a: Pos, b: Pos) => a.line === b.line && a.col === b.col && a.file === b.file;

/**
 * Every map of the reader's tree by position (the first one at each position), and its entries by
 * position. Positions are numbers per file, not strings: a config with 100,000 users has 200,000
 * maps and entries, and a string key for each made `verify`'s memory grow (issue 9).
 */
export class TreeIndex {
  private readonly maps = new Map<string, Map<number, ConfMap>>();
  /** Positions a number cannot hold exactly (past 2^22 lines or 2^31 columns). */
  private readonly wide = new Map<string, ConfMap>();
  constructor(private readonly root: ConfMap) {
    const walk = (v: ConfValue) => {
      if (v.kind === "map") {
        const n = TreeIndex.num(v.pos);
        if (n < 0) {
          const k = `${v.pos.file}\u0000${v.pos.line}\u0000${v.pos.col}`;
          if (!this.wide.has(k)) this.wide.set(k, v);
        } else {
          let m = this.maps.get(v.pos.file);
          if (!m) this.maps.set(v.pos.file, (m = new Map()));
          if (!m.has(n)) m.set(n, v);
        }
        for (const e of v.entries.values()) walk(e.value);
      } else if (v.kind === "array") v.items.forEach(walk);
    };
    walk(root);
  }
  private static num(p: Pos): number {
    return p.line >= 0 && p.line < 2 ** 22 && p.col >= 0 && p.col < 2 ** 31 ? p.line * 2 ** 31 + p.col : -1;
  }
  map(pos: Pos): ConfMap | undefined {
    const n = TreeIndex.num(pos);
    return n < 0 ? this.wide.get(`${pos.file}\u0000${pos.line}\u0000${pos.col}`) : this.maps.get(pos.file)?.get(n);
  }
  /** The first entry at `pos` in the tree's order (asked for a few blocks only: a walk, no index). */
  entry(pos: Pos): ConfEntry | undefined {
    const find = (v: ConfValue): ConfEntry | undefined => {
      if (v.kind === "map") {
        for (const e of v.entries.values()) {
          if (samePos(e.keyPos, pos)) return e;
          const hit = find(e.value);
          if (hit) return hit;
        }
      } else if (v.kind === "array") for (const item of v.items) {
        const hit = find(item);
        if (hit) return hit;
      }
      return undefined;
    };
    return find(this.root);
  }
  /** The last entry of a map whose key is one of `keys` (ignoring case), as the server keeps it. */
  static key(m: ConfMap | undefined, ...keys: string[]): ConfEntry | undefined {
    if (!m) return undefined;
    let last: ConfEntry | undefined;
    for (const e of m.entries.values()) if (keys.includes(e.key.toLowerCase())) last = e;
    return last;
  }
}

// ---------------------------------------------------------------------------------------------
// Helpers

export function finding(code: Code, pos: { file: string; line: number | null; col?: number }, message: string, fix: string, versions?: string): Finding {
  const info = CODES[code];
  return { code, severity: info.severity, file: pos.file, line: pos.line, ...(pos.col ? { col: pos.col } : {}), message, versions: versions ?? info.versions, fix };
}

const q = (s: string) => JSON.stringify(s);
const at = (p: Pos) => ({ file: p.file, line: p.line, col: p.col });
/** A user's place, for a message about `file`: "line N" in the same file, else "file:N". */
const whereIn = (file: string) => (p: Pos) => (p.file === file ? `line ${p.line}` : `${shortPath(p.file)}:${p.line}`);
/** A path as the user would write it from the current directory (absolute when outside it). */
export function shortPath(file: string): string {
  const rel = path.relative(process.cwd(), file);
  return rel && !rel.startsWith("..") && !path.isAbsolute(rel) ? rel : file;
}
const plural = (n: number, one: string, many: string) => (n === 1 ? one : many);

/** A user string that a certificate could present: a DN, an e-mail address, a URI or a host name. */
export function looksLikeCertificateIdentity(user: string): boolean {
  if (isDnLike(user)) return true;
  if (/^[^\s@]+@[^\s@]+$/.test(user)) return true;
  if (/^[A-Za-z][A-Za-z0-9+.-]*:\S+$/.test(user)) return true;
  return /^(\*\.)?[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$/.test(user) && !/^[0-9.]+$/.test(user);
}

export interface LintUser {
  user: string;
  bytes?: Buffer;
  password?: string;
  allowed?: string[];
  account: string | null;
  /** The `user` key (else the entry's `{`). */
  pos: Pos;
  /** The `password` key, when there is one. */
  passwordPos?: Pos;
}

export function lintUsers(sc: ServerConfig, tree: TreeIndex): LintUser[] {
  const out: LintUser[] = [];
  for (const u of sc.users as ConfigUser[]) {
    if (u.user === undefined || u.nkey) continue;
    const m = tree.map(u.pos);
    const ue = TreeIndex.key(m, "user", "username");
    const pe = TreeIndex.key(m, "pass", "password");
    // one literal per shape, not a spread, and no Buffer per user to compare with (issue 9)
    const pos = ue?.keyPos ?? u.pos;
    out.push(
      u.userBytes && !isUtf8Of(u.userBytes, u.user)
        ? { user: u.user, bytes: u.userBytes, password: u.password, allowed: u.allowedConnectionTypes, account: u.account, pos, passwordPos: pe?.keyPos }
        : { user: u.user, password: u.password, allowed: u.allowedConnectionTypes, account: u.account, pos, passwordPos: pe?.keyPos },
    );
  }
  return out;
}

const allowedOn = (u: LintUser, type: string) => !u.allowed || u.allowed.length === 0 || u.allowed.includes(type);

// ---------------------------------------------------------------------------------------------
// Listeners

interface Listener {
  name: string;
  /** The connection type the server gives its clients. */
  type: string;
  tls?: TlsConfig;
  maps: boolean;
  /** The listener has its own single user or token: the global users table is not used there. */
  ownAuth: boolean;
  pos: Pos;
}

function listeners(sc: ServerConfig): Listener[] {
  const top = sc.tree;
  const mainPos = sc.tls?.pos ?? sc.authorization?.pos ?? { file: sc.file, line: 1, col: 1 };
  const out: Listener[] = [{ name: "the client listener (top-level tls {})", type: "STANDARD", tls: sc.tls, maps: !!sc.tls?.map, ownAuth: false, pos: mainPos }];
  if (sc.websocket) {
    const a = sc.websocket.authorization;
    out.push({ name: "the websocket listener", type: "WEBSOCKET", tls: sc.websocket.tls, maps: !!sc.websocket.tls?.map, ownAuth: !!(a?.user || a?.token), pos: sc.websocket.pos });
  }
  if (sc.mqtt) {
    const a = sc.mqtt.authorization;
    out.push({ name: "the MQTT listener", type: "MQTT", tls: sc.mqtt.tls, maps: !!sc.mqtt.tls?.map, ownAuth: !!(a?.user || a?.token), pos: sc.mqtt.pos });
  }
  if (sc.leafnodes) {
    const leafMap = TreeIndex.key(top, "leafnodes", "leaf")?.value;
    const accepts = leafMap?.kind === "map" && !!TreeIndex.key(leafMap, "listen", "port");
    const a = sc.leafnodes.authorization;
    if (accepts)
      out.push({ name: "the leafnode listener", type: "LEAFNODE", tls: sc.leafnodes.tls, maps: !!sc.leafnodes.tls?.map, ownAuth: !!(a?.user || a?.users?.length), pos: sc.leafnodes.pos });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// The checks

export interface ConfigLintOptions {
  version: string;
  /** User strings that the given certificates map to (they are certificate users whatever they look like). */
  certificateUsers?: Set<string>;
  /** Known certificates' key pins (lower-case hex), for pinned_certs; absent: not checked. */
  knownPins?: Map<string, { name: string; status: string }[]>;
}

export function lintConfig(sc: ServerConfig, o: ConfigLintOptions): Finding[] {
  const tree = new TreeIndex(sc.tree);
  const out: Finding[] = [];
  const users = lintUsers(sc, tree);

  // --- the server refuses or warns
  for (const e of sc.errors ?? []) out.push(finding("NATS000", { file: e.file, line: e.line || null, col: e.col || undefined }, `nats-server refuses to load the config: ${e.reason}`, "correct it; `nats-server -t -c FILE` must exit 0"));
  for (const p of sc.startupProblems) out.push(finding("NATS027", at(p.pos), `nats-server passes \`-t\` but refuses to start: ${p.message}`, p.fix));
  for (const w of sc.warnings) {
    if (w.message.startsWith("whether client certificates are verified")) continue; // NATS023 below
    if (w.kind === "random") out.push(finding("NATS025", at(w.pos), `${w.message}`, "keep one spelling of the option"));
    else out.push(finding("NATS026", at(w.pos), `nats-server warns: ${w.message}`, "write the option as the server asks"));
  }

  // --- user strings meant as DNs
  for (const u of users) {
    if (!isDnLike(u.user) && !/^\s*$/.test(u.user)) continue;
    for (const i of analyzeUserDn(u.user, u.bytes)) out.push(finding(i.code, at(u.pos), i.message, i.fix));
  }

  // --- random picks in the DN stage
  // an exact duplicate is a config error (NATS000), not a random pick
  // keyed by the user's bytes as latin1 text; an ASCII user string is already that text (no copy per user)
  const firstOfEach = [...new Map(users.map((u) => [u.bytes ? u.bytes.toString("latin1") : /^[\x00-\x7f]*$/.test(u.user) ? u.user : Buffer.from(u.user).toString("latin1"), u] as const)).values()];
  for (const t of findTies(firstOfEach, o.version)) {
    const sorted = [...t.users].sort((a, b) => a.pos.file.localeCompare(b.pos.file) || a.pos.line - b.pos.line || a.pos.col - b.pos.col);
    const last = sorted[sorted.length - 1];
    const list = sorted.map((u) => `${q(u.user)} (${whereIn(last.pos.file)(u.pos)})`).join(", ");
    if (t.tier === "Equal")
      out.push(
        finding(
          "NATS001",
          at(last.pos),
          `users ${list} parse to the same DN (${q(t.example)}): the server walks its users in random order, so a certificate with that subject logs in as one of them at random on every connection`,
          "keep one of these users (attribute types are compared without case, values exactly)",
        ),
      );
    else
      out.push(
        finding(
          "NATS002",
          at(last.pos),
          `users ${list} have the same RDNs in different orders: a certificate whose subject reads ${q(t.example)} equals none of them exactly, matches all of them in the order-insensitive tier, and logs in as one of them at random on every connection`,
          "keep one of these users, written in the certificate's own order (as `mtlsctl explain CERT` shows it)",
          t.setStyleOnly ? SET_STYLE_RDNSMATCH : undefined,
        ),
      );
  }

  // --- listeners: which map, which take a name alone
  // a block the server refuses is missing from the reader's result: no listener findings then
  const ls = sc.errors?.length ? [] : listeners(sc);
  const mapping = ls.filter((l) => l.maps);
  const certUser = (u: LintUser) => looksLikeCertificateIdentity(u.user) || !!o.certificateUsers?.has(u.user);
  if (mapping.length) {
    for (const u of users) {
      if (!u.password || !certUser(u) || !mapping.some((l) => allowedOn(u, l.type))) continue;
      out.push(
        finding(
          "NATS020",
          at(u.passwordPos ?? u.pos),
          `user ${q(u.user)} is a certificate user with a password: under verify_and_map the server still checks the password, so a client that presents the certificate but sends no password (or another one) is refused with Authorization Violation`,
          "remove the password if the certificate alone should log in; keep it only if clients must send both",
        ),
      );
    }
  }
  const passwordless = users.filter((u) => !u.password && certUser(u) && u.user !== sc.noAuthUser);
  const listOf = (us: LintUser[]) => us.slice(0, 5).map((u) => q(u.user)).join(", ") + (us.length > 5 ? ` and ${us.length - 5} more` : "");
  if (mapping.length) {
    for (const l of ls) {
      if (l.maps || l.ownAuth) continue;
      const hit = passwordless.filter((u) => allowedOn(u, l.type));
      if (!hit.length) continue;
      out.push(
        finding(
          "NATS021",
          at(l.pos),
          `${l.name} has no verify_and_map, and ${hit.length} password-less certificate ${plural(hit.length, "user", "users")} (${listOf(hit)}) can log in there by sending just the user name in CONNECT, without any certificate of theirs`,
          `add verify_and_map: true to its tls {}, or restrict these users with allowed_connection_types, or upgrade to nats-server 2.14.4 or later (2.12.14 in the 2.12 line)`,
        ),
      );
    }
  } else if (passwordless.length && ls.length) {
    const main = ls[0];
    const how = main.tls ? (main.tls.verify ? "client certificates are verified but never mapped" : "client certificates are not even requested") : "there is no tls {} block";
    out.push(
      finding(
        "NATS022",
        at(main.pos),
        `no listener has verify_and_map (${how}), so ${plural(passwordless.length, "a password-less user that looks like a certificate identity", `${passwordless.length} password-less users that look like certificate identities`)} (${listOf(passwordless)}) ${plural(passwordless.length, "logs", "log")} in by name: any client ${main.tls?.verify ? "with any trusted certificate " : ""}that sends the name in CONNECT becomes that user`,
        "add verify_and_map: true to the tls {} block",
      ),
    );
  }

  // --- tls blocks
  const blocks: { name: string; tls: TlsConfig; clientSide: boolean }[] = [];
  if (sc.tls) blocks.push({ name: "tls {}", tls: sc.tls, clientSide: true });
  if (sc.websocket?.tls) blocks.push({ name: "websocket tls {}", tls: sc.websocket.tls, clientSide: true });
  if (sc.mqtt?.tls) blocks.push({ name: "mqtt tls {}", tls: sc.mqtt.tls, clientSide: true });
  if (sc.leafnodes?.tls) blocks.push({ name: "leafnodes tls {}", tls: sc.leafnodes.tls, clientSide: false });
  for (const b of blocks) {
    const m = tree.entry(b.tls.pos)?.value;
    const tm = m?.kind === "map" ? m : undefined;
    const keyPos = (...k: string[]) => TreeIndex.key(tm, ...k)?.keyPos ?? b.tls.pos;
    if (b.tls.verifyUncertain)
      out.push(
        finding(
          "NATS023",
          at(keyPos("verify")),
          `${b.name}: verify_and_map: true with verify: false (or the same key twice) is resolved in Go's random map order at each start: after some restarts the server requests no client certificate and every mapping fails ("User required in cert, no peer certificates found"), after others it maps`,
          "remove `verify`: verify_and_map: true already verifies the certificate",
        ),
      );
    else if (b.tls.verifyAndVerifyAndMap)
      out.push(finding("NATS024", at(keyPos("verify")), `${b.name}: verify and verify_and_map are both set; verify_and_map: true already requests and verifies client certificates`, "remove `verify`"));
    if ((b.tls.verify || b.tls.map) && !b.tls.caFile)
      out.push(
        finding(
          "NATS030",
          at(b.tls.pos),
          `${b.name} verifies client certificates but has no ca_file: Go then trusts the system roots (or SSL_CERT_FILE / SSL_CERT_DIR), so a client certificate from any public CA is accepted, and one with a matching e-mail SAN or subject logs in as that user`,
          "add ca_file with your own CA (e.g. the store's ca.crt)",
        ),
      );
    if (b.clientSide && b.tls.insecure)
      out.push(
        finding(
          "NATS031",
          at(keyPos("insecure")),
          `${b.name}: insecure only affects connections the server dials (routes, leafnode remotes); client certificates are still verified in full`,
          "remove `insecure` (it does not relax anything here)",
        ),
      );
    if (o.knownPins && b.tls.pinnedCerts?.length) {
      const pe = TreeIndex.key(tm, "pinned_certs");
      const items = pe?.value.kind === "array" ? pe.value.items : [];
      b.tls.pinnedCerts.forEach((pin, i) => {
        const p = items[i]?.pos ?? pe?.keyPos ?? b.tls.pos;
        const known = o.knownPins!.get(pin.toLowerCase());
        if (!known)
          out.push(finding("NATS032", at(p), `${b.name}: pinned_certs entry ${pin} is the key of none of the given certificates: no certificate you know of can connect with it`, "remove it, or check that it is the SHA-256 of a client certificate's SubjectPublicKeyInfo (`mtlsctl config nats --pinned` writes them)"));
        else if (known.every((k) => k.status === "revoked"))
          out.push(
            finding(
              "NATS033",
              at(p),
              `${b.name}: pinned_certs entry ${pin} is the key of revoked certificate${known.length > 1 ? "s" : ""} ${known.map((k) => q(k.name)).join(", ")}: nats-server reads no CRL, so the pin still lets ${known.length > 1 ? "them" : "it"} in`,
              "remove the pin (rewrite the block with `mtlsctl config nats --pinned`)",
            ),
          );
      });
    }
  }
  return out;
}
