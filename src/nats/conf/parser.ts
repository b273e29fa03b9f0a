/**
 * Parser for nats-server configuration files: builds a tree of values with positions from the
 * tokens of ./lexer, following nats-server v2.9.10's rules (reference §3.1, §3.3). Written from the
 * rules; it is not the server's code.
 *
 * What it reproduces:
 *  - `include` relative to the including file's directory (an absolute path is joined to it too,
 *    as the server's path join does), merging the included file's keys into the current map, at the
 *    top level or inside any map;
 *  - `$name` variables: the enclosing maps, innermost first, keys defined earlier; then the
 *    environment variable, re-parsed as the value of `pk=<value>`; a bare `$2a$...` is a bcrypt
 *    string, not a variable. A definition that a variable used is marked (`usedVariable`), because
 *    the server tolerates an otherwise unknown key only when it was used as a variable;
 *  - last-wins duplicate keys (exact, case-sensitive key strings);
 *  - integer suffixes, with 64-bit wrap-around as in Go; an integer with an unknown suffix
 *    (`1kbb`) sets no value at all, and its key stays pending, so a later value can land on it;
 *  - a key with no value before `}` likewise leaves the map's own key pending: `m { a }` sets a
 *    top-level `a` to an empty map, exactly like the server.
 * Errors carry the server's own reason text (see {@link ConfigError}).
 */
import { atLeast } from "../versions";
import * as fs from "node:fs";
import * as path from "node:path";
import { MtlsError } from "../../errors";
import { lexConfigTo, decodeRune, isGoDigit, Token } from "./lexer";
import type { LexOptions } from "./lexer";

// ---------------------------------------------------------------------------------------------
// The tree

export interface Pos {
  /** The file as the server names it (the include path joined to the including file's directory). */
  file: string;
  /** 1-based. */
  line: number;
  /** 1-based, in runes. */
  col: number;
}

interface NodeBase {
  pos: Pos;
  /** This definition was referenced by a `$variable` (the server then ignores it as an unknown key). */
  usedVariable: boolean;
  /** Set when this value came from a `$variable` reference: its name. */
  fromVariable?: string;
  /** Set when that variable came from the environment. */
  fromEnv?: boolean;
  /**
   * Set on every value inside an environment variable's value: the server parses that text in its
   * plain mode, so these are bare values without a token, and an option parser that is handed the
   * token instead of the value gets nil (see {@link nilToken}).
   */
  rawEnv?: boolean;
}
export interface ConfString extends NodeBase {
  kind: "string";
  value: string;
  /** The exact bytes (`\xHH` escapes can make strings that are not UTF-8). */
  bytes: Buffer;
}
export interface ConfBool extends NodeBase {
  kind: "bool";
  value: boolean;
}
export interface ConfInt extends NodeBase {
  kind: "int";
  /** As a JS number (exact up to 2^53). */
  value: number;
  /** The exact int64 value. */
  exact: bigint;
  /** As written (`1MB`). */
  text: string;
}
export interface ConfFloat extends NodeBase {
  kind: "float";
  value: number;
  text: string;
}
export interface ConfDatetime extends NodeBase {
  kind: "datetime";
  value: Date;
  text: string;
}
export interface ConfArray extends NodeBase {
  kind: "array";
  items: ConfValue[];
}
export interface ConfEntry {
  key: string;
  keyPos: Pos;
  value: ConfValue;
}
export interface ConfMap extends NodeBase {
  kind: "map";
  /** In order of (last) definition; keys are exact and case-sensitive, as in the server's maps. */
  entries: Map<string, ConfEntry>;
}
export type ConfValue = ConfString | ConfBool | ConfInt | ConfFloat | ConfDatetime | ConfArray | ConfMap;

export interface VariableRef {
  name: string;
  pos: Pos;
  source: "scope" | "env" | "bcrypt";
  /** For "scope": where the referenced key was defined. */
  definedAt?: Pos;
}

export interface ParsedConfig {
  root: ConfMap;
  /** Every file read, the main one first, then includes in the order they were read. */
  files: string[];
  /** Every variable reference, in order (including those inside environment values). */
  variables: VariableRef[];
}

/** The Go type name the server prints for a value (in its "interface conversion" messages). */
export function goTypeName(v: ConfValue): string {
  switch (v.kind) {
    case "string":
      return "string";
    case "bool":
      return "bool";
    case "int":
      return "int64";
    case "float":
      return "float64";
    case "datetime":
      return "time.Time";
    case "array":
      return "[]interface {}";
    case "map":
      return "map[string]interface {}";
  }
}

// ---------------------------------------------------------------------------------------------
// Errors

/**
 * A configuration the server would refuse. `reason` is the server's own text for the problem;
 * `serverMessage` is what nats-server 2.9.10 prints after "nats-server: " (best effort: the
 * server's own column numbers are not reproduced). `file`, `line`, `col` locate the problem
 * (inside an included file when the problem is there).
 */
export class ConfigError extends MtlsError {
  override readonly file: string;
  readonly line: number;
  readonly col: number;
  readonly reason: string;
  readonly serverMessage: string;
  /** Further errors the server would report together with this one (server-side checks). */
  readonly others: ConfigError[];
  constructor(reason: string, pos: Pos, serverMessage?: string, others: ConfigError[] = []) {
    super(pos.line > 0 ? `line ${pos.line}, column ${pos.col}: ${reason}` : reason, { file: pos.file, code: "config" });
    this.name = "ConfigError";
    this.file = pos.file;
    this.line = pos.line;
    this.col = pos.col;
    this.reason = reason;
    this.serverMessage = serverMessage ?? reason;
    this.others = others;
  }
}

// ---------------------------------------------------------------------------------------------
// Parsing

export interface ParseOptions {
  /** Where `$VAR` falls back to; defaults to process.env. */
  env?: NodeJS.ProcessEnv;
  /** The nats-server version whose parser to follow (default 2.9.10). */
  serverVersion?: string;
}

interface Shared {
  env: NodeJS.ProcessEnv;
  /** 2.9.22 on: a file whose last item is a key (no value before the end) is "config is invalid". */
  keyAtEofInvalid: boolean;
  /** 2.10.0 on: the lexer reads top-level braces as a block (nested ones too). */
  blockLexer: boolean;
  /** The lexer's version-dependent rules. */
  lex: LexOptions;
  /** Whether a self-referencing environment variable is reported as a cycle (else the server overflows its stack). */
  envCycles: boolean;
  /** Environment variables whose values are being read (the server's envVarReferences). */
  resolving: Set<string>;
  files: string[];
  variables: VariableRef[];
  /** Key names seen, to share one string per name. */
  names: Map<string, string>;
}

/** Includes and environment values nested deeper than this are taken as a cycle (the server overflows its stack). */
const MAX_NESTING = 64;

/** An include or environment-variable cycle: nats-server 2.9.10 dies of a stack overflow on it. */
class CycleError extends ConfigError {}

/** Go's os error text for a failed read, e.g. `open x.conf: no such file or directory`. */
export function goFileError(e: unknown, file: string): string {
  const code = (e as NodeJS.ErrnoException)?.code;
  const texts: Record<string, string> = {
    ENOENT: "no such file or directory",
    EACCES: "permission denied",
    ENOTDIR: "not a directory",
    ELOOP: "too many levels of symbolic links",
    ENAMETOOLONG: "file name too long",
  };
  if (code === "EISDIR") return `read ${file}: is a directory`;
  return `open ${file}: ${texts[code ?? ""] ?? (e as Error)?.message ?? String(e)}`;
}

function posOf(file: string, t: Token): Pos {
  return { file, line: t.line, col: t.col };
}

// Nodes are written as whole object literals (`usedVariable` included): copying one with a spread and
// then adding a property makes V8 move every such object to the old generation at once (issue 9).

/** Size suffixes, lower-cased: k m g t p e are powers of 1000, with b/i/ib powers of 1024. */
const SUFFIX: Record<string, bigint> = (() => {
  const m: Record<string, bigint> = { "": 1n };
  "kmgtpe".split("").forEach((c, i) => {
    m[c] = 1000n ** BigInt(i + 1);
    for (const s of ["b", "i", "ib"]) m[c + s] = 1024n ** BigInt(i + 1);
  });
  return m;
})();

const INT64_MAX = (1n << 63n) - 1n;
const INT64_MIN = -(1n << 63n);

/** The layout 2006-01-02T15:04:05Z with Go's range checks; null when Go's time.Parse refuses it. */
function parseZulu(s: string): Date | null {
  const m = /^([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})Z$/.exec(s);
  if (!m) return null;
  const [y, mo, d, h, mi, se] = m.slice(1).map(Number);
  if (mo < 1 || mo > 12 || h > 23 || mi > 59 || se > 59 || d < 1) return null;
  const leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
  const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][mo - 1];
  if (d > days) return null;
  const date = new Date(0);
  date.setUTCFullYear(y, mo - 1, d);
  date.setUTCHours(h, mi, se, 0);
  return date;
}

/**
 * A map node's entries: a Map in every way its readers use, without a Map for a map of one key,
 * the common case of a users list (`{ user: ... }`), where a Map per user was a quarter of a large
 * config's tree (issue 9). From the second key on, the entries live in a Map.
 */
class Entries implements Map<string, ConfEntry> {
  private oneKey: string | undefined;
  private one: ConfEntry | undefined;
  private many: Map<string, ConfEntry> | undefined;
  /** On the prototype, not a field: a field is one more slot in each of a large config's maps. */
  get [Symbol.toStringTag](): string {
    return "Map";
  }

  get size(): number {
    return this.many ? this.many.size : this.one ? 1 : 0;
  }
  get(k: string): ConfEntry | undefined {
    if (this.many) return this.many.get(k);
    return this.one && this.oneKey === k ? this.one : undefined;
  }
  has(k: string): boolean {
    return this.many ? this.many.has(k) : !!this.one && this.oneKey === k;
  }
  set(k: string, e: ConfEntry): this {
    if (this.many) this.many.set(k, e);
    else if (!this.one || this.oneKey === k) {
      this.oneKey = k;
      this.one = e;
    } else {
      this.many = new Map([[this.oneKey!, this.one]]);
      this.many.set(k, e);
      this.oneKey = this.one = undefined;
    }
    return this;
  }
  delete(k: string): boolean {
    if (this.many) return this.many.delete(k);
    if (!this.one || this.oneKey !== k) return false;
    this.oneKey = this.one = undefined;
    return true;
  }
  clear(): void {
    this.oneKey = this.one = this.many = undefined;
  }
  forEach(f: (value: ConfEntry, key: string, map: Map<string, ConfEntry>) => void, thisArg?: unknown): void {
    for (const [k, v] of this.entries()) f.call(thisArg, v, k, this);
  }
  *entries(): MapIterator<[string, ConfEntry]> {
    if (this.many) yield* this.many.entries();
    else if (this.one) yield [this.oneKey!, this.one];
  }
  // keys and values without a [key, value] pair per step (lint walks every user's map; issue 9)
  *keys(): MapIterator<string> {
    if (this.many) yield* this.many.keys();
    else if (this.one) yield this.oneKey!;
  }
  *values(): MapIterator<ConfEntry> {
    if (this.many) yield* this.many.values();
    else if (this.one) yield this.one;
  }
  [Symbol.iterator](): MapIterator<[string, ConfEntry]> {
    return this.entries();
  }
}

class Parser {
  /** Open maps and arrays, the innermost last. */
  private readonly stack: (ConfMap | ConfArray)[] = [];
  /** Keys waiting for their value. */
  private readonly keys: { name: string; pos: Pos }[] = [];
  readonly root: ConfMap;

  constructor(
    private readonly file: string,
    /** The directory includes are relative to. */
    private readonly dir: string,
    /** The server's checked mode (every file it loads) vs its plain mode (environment values). */
    private readonly pedantic: boolean,
    private readonly depth: number,
    private readonly shared: Shared,
  ) {
    this.root = { kind: "map", entries: new Entries(), pos: { file, line: 1, col: 1 }, usedVariable: false };
    this.stack.push(this.root);
  }

  run(src: Buffer): ConfMap {
    // tokens are parsed as the lexer reads them: a large file's tokens are never all held at once
    let last: Token | null = null;
    lexConfigTo(src, (t) => {
      if (t.kind !== "eof") {
        last = t;
        this.token(t);
        return;
      }
      // 2.9.22 on (conf/parse.go): the end of a checked file right after a key, unless the key is a
      // closing brace (JSON-like files), is refused; 2.9.10 drops the key. 2.10.0's lexer reads a
      // top-level `{ ... }` as a block (lexBlockStart), nested braces too: the closing `}}` of `{{ ... }}`
      // is no key there (observed: top-extra-open.conf, refused by 2.9.25, accepted by 2.10.27 on)
      const prev = last as Token | null;
      const closing = prev?.text === "}" || (this.shared.blockLexer && /^}+$/.test(prev?.text ?? ""));
      if (this.pedantic && this.shared.keyAtEofInvalid && prev?.kind === "key" && !closing) {
        const reason = `config is invalid (${this.file}:${t.line}:${t.col})`;
        throw new ConfigError(reason, posOf(this.file, t), reason);
      }
    }, this.shared.lex);
    return this.root;
  }

  /** One string per distinct key name (a users list repeats `user` once per user). */
  private intern(name: string): string {
    const known = this.shared.names.get(name);
    if (known !== undefined) return known;
    if (this.shared.names.size < 10000) this.shared.names.set(name, name);
    return name;
  }

  private set(value: ConfValue, key?: { name: string; pos: Pos }): void {
    const top = this.stack[this.stack.length - 1];
    if (top.kind === "array") {
      top.items.push(value);
      return;
    }
    const k = key ?? this.keys.pop();
    if (!k) throw new Error("BUG: config parser key stack empty");
    top.entries.delete(k.name);
    top.entries.set(k.name, { key: k.name, keyPos: k.pos, value });
  }

  private token(t: Token): void {
    const pos = posOf(this.file, t);
    switch (t.kind) {
      case "error":
        throw new ConfigError(t.text, pos, `Parse error on line ${t.serverLine}: '${t.text}'`);
      case "key":
        this.keys.push({ name: this.intern(t.text), pos });
        return;
      case "mapStart":
        this.stack.push({ kind: "map", entries: new Entries(), pos, usedVariable: false });
        return;
      case "arrayStart":
        this.stack.push({ kind: "array", items: [], pos, usedVariable: false });
        return;
      case "mapEnd":
      case "arrayEnd": {
        const done = this.stack.pop();
        if (!done || this.stack.length === 0) throw new Error("BUG: config parser context stack empty");
        this.set(done);
        return;
      }
      case "string":
        this.set({ kind: "string", value: t.text, bytes: t.bytes, pos, usedVariable: false });
        return;
      case "bool":
        this.set({ kind: "bool", value: ["true", "yes", "on"].includes(t.text.toLowerCase()), pos, usedVariable: false });
        return;
      case "int":
        this.integer(t, pos);
        return;
      case "float": {
        if (!/^-?[0-9]+\.[0-9]+$/.test(t.text)) throw new ConfigError(`expected float, but got '${t.text}'`, pos);
        const value = Number(t.text);
        if (!Number.isFinite(value)) throw new ConfigError(`float '${t.text}' is out of the range`, pos);
        this.set({ kind: "float", value, text: t.text, pos, usedVariable: false });
        return;
      }
      case "datetime": {
        const value = parseZulu(t.text);
        if (!value) throw new ConfigError(`expected Zulu formatted DateTime, but got '${t.text}'`, pos);
        this.set({ kind: "datetime", value, text: t.text, pos, usedVariable: false });
        return;
      }
      case "variable":
        this.set(this.variable(t, pos));
        return;
      case "include":
        this.include(t, pos);
        return;
    }
  }

  private integer(t: Token, pos: Pos): void {
    // the number is the leading run of digits and '-' (counted in runes, cut in bytes, as the server does)
    let runes = 0;
    for (let i = 0; i < t.bytes.length; ) {
      const [r, w] = decodeRune(t.bytes, i);
      if (!isGoDigit(r) && r !== 0x2d) break;
      runes++;
      i += w;
    }
    const num = t.bytes.subarray(0, runes).toString("latin1");
    if (!/^[+-]?[0-9]+$/.test(num)) throw new ConfigError(`expected integer, but got '${t.text}'`, pos);
    const n = BigInt(num);
    if (n > INT64_MAX || n < INT64_MIN) throw new ConfigError(`integer '${t.text}' is out of the range`, pos);
    const mult = SUFFIX[t.bytes.subarray(runes).toString("latin1").trim().toLowerCase()];
    if (mult === undefined) return; // an unknown suffix sets nothing (the key stays pending)
    const exact = BigInt.asIntN(64, n * mult);
    this.set({ kind: "int", value: Number(exact), exact, text: t.text, pos, usedVariable: false });
  }

  private variable(t: Token, pos: Pos): ConfValue {
    const name = t.text;
    if (name.startsWith("2a$")) {
      this.shared.variables.push({ name, pos, source: "bcrypt" });
      const bytes = Buffer.concat([Buffer.from("$"), t.bytes]);
      return { kind: "string", value: "$" + name, bytes, pos, usedVariable: false };
    }
    for (let i = this.stack.length - 1; i >= 0; i--) {
      const ctx = this.stack[i];
      if (ctx.kind !== "map") continue;
      const found = ctx.entries.get(name);
      if (found) {
        found.value.usedVariable = true;
        this.shared.variables.push({ name, pos, source: "scope", definedAt: found.keyPos });
        return { ...found.value, pos, usedVariable: false, fromVariable: name, fromEnv: undefined };
      }
    }
    const failed = (why: string) => `variable reference for '${name}' on line ${t.serverLine} could not be parsed: ${why}`;
    // 2.11.12, 2.12.4 and 2.14.0 on: a variable met again while its environment value is being read is a cycle
    if (this.shared.envCycles && this.shared.resolving.has(name)) throw new ConfigError(failed(`variable reference cycle for '${name}'`), pos);
    const envValue = this.shared.env[name];
    if (envValue === undefined) throw new ConfigError(`variable reference for '${name}' on line ${t.serverLine} can not be found`, pos);
    this.shared.variables.push({ name, pos, source: "env" });
    if (this.depth >= MAX_NESTING) {
      const why = "environment variables refer to each other without end (nats-server crashes with a stack overflow)";
      throw new CycleError(why, pos, why);
    }
    let sub: ConfMap;
    this.shared.resolving.add(name);
    try {
      sub = new Parser(`$${name}`, ".", false, this.depth + 1, this.shared).run(Buffer.from(`pk=${envValue}`, "utf8"));
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      if (e instanceof CycleError && this.depth > 0) throw e;
      throw new ConfigError(failed(e.serverMessage), pos);
    } finally {
      this.shared.resolving.delete(name);
    }
    const v = sub.entries.get("pk");
    if (!v) throw new ConfigError(`variable reference for '${name}' on line ${t.serverLine} can not be found`, pos);
    markRawEnv(v.value);
    return { ...v.value, pos, usedVariable: false, fromVariable: name, fromEnv: true, rawEnv: undefined };
  }

  private include(t: Token, pos: Pos): void {
    const target = path.join(this.dir, t.text);
    const wrap = (inner: string) => `error parsing include file '${t.text}', ${inner}`;
    if (this.depth >= MAX_NESTING) {
      const why = "includes nest without end (nats-server crashes with a stack overflow)";
      throw new CycleError(why, pos, why);
    }
    let src: Buffer;
    try {
      src = fs.readFileSync(target);
    } catch (e) {
      const text = goFileError(e, target);
      throw new ConfigError(wrap(this.pedantic ? text : `error opening config file: ${text}`), pos);
    }
    this.shared.files.push(target);
    let sub: ConfMap;
    try {
      sub = new Parser(target, path.dirname(target), this.pedantic, this.depth + 1, this.shared).run(src);
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      if (e instanceof CycleError && this.depth > 0) throw e;
      throw new ConfigError(e.reason, { file: e.file, line: e.line, col: e.col }, wrap(e.serverMessage));
    }
    for (const entry of sub.entries.values()) this.set(entry.value, { name: entry.key, pos: entry.keyPos });
  }
}

/** Marks everything inside an environment value as bare (the value itself becomes a token in the file). */
function markRawEnv(v: ConfValue): void {
  const children = v.kind === "map" ? [...v.entries.values()].map((e) => e.value) : v.kind === "array" ? v.items : [];
  for (const c of children) {
    c.rawEnv = true;
    markRawEnv(c);
  }
}

/**
 * Where the server hands an option parser the entry's token rather than its value (parseUsers for
 * authorization's `users`, parseUserPermissions, parsePermSubjects for `allow`/`deny`): a bare value
 * from inside an environment variable has no token, and the parser sees nil. Observed on every server
 * of the matrix (`authorization: $AUTH` with a users list: "Expected users field to be an array, got <nil>").
 */
export function nilToken(v: ConfValue): boolean {
  return v.rawEnv === true;
}

/** "Fix config parsing with self referencing environment variables": 2.11.12, 2.12.4, 2.14.0 (2.10.27 still overflows its stack). */
function envCycles(v: string): boolean {
  return (atLeast(v, "2.11.12") && !atLeast(v, "2.12.0")) || (atLeast(v, "2.12.4") && !atLeast(v, "2.13.0")) || atLeast(v, "2.14.0");
}

/** Parses configuration text. `file` names it in positions; includes are relative to its directory. */
export function parseConfigText(src: Buffer | string, file = "<config>", opts: ParseOptions = {}): ParsedConfig {
  const v = opts.serverVersion ?? "2.9.10";
  const shared: Shared = { env: opts.env ?? process.env, keyAtEofInvalid: atLeast(v, "2.9.22"), blockLexer: atLeast(v, "2.10.0"), lex: { digitAfterSuffixIsString: atLeast(v, "2.14.10") }, envCycles: envCycles(v), resolving: new Set(), files: [file], variables: [], names: new Map() };
  const buf = typeof src === "string" ? Buffer.from(src, "utf8") : src;
  const root = new Parser(file, path.dirname(file), true, 0, shared).run(buf);
  return { root, files: shared.files, variables: shared.variables };
}

/** Reads and parses a configuration file as nats-server 2.9.10 does (`nats-server -c file`). */
export function parseConfigFile(file: string, opts: ParseOptions = {}): ParsedConfig {
  let src: Buffer;
  try {
    src = fs.readFileSync(file);
  } catch (e) {
    // the file itself cannot be read: no line to point at
    throw new ConfigError(goFileError(e, file), { file, line: 0, col: 0 });
  }
  return parseConfigText(src, file, opts);
}

// ---------------------------------------------------------------------------------------------
// Helpers for readers of the tree

/** Every entry whose key equals `key` ignoring case, in order of definition. */
export function entriesCI(m: ConfMap, key: string): ConfEntry[] {
  const want = key.toLowerCase();
  return [...m.entries.values()].filter((e) => e.key.toLowerCase() === want);
}

/** Plain JS value of a node (maps become objects, ints numbers); for tests and display. */
export function toPlain(v: ConfValue): unknown {
  switch (v.kind) {
    case "array":
      return v.items.map(toPlain);
    case "map": {
      const o: Record<string, unknown> = {};
      for (const e of v.entries.values()) o[e.key] = toPlain(e.value);
      return o;
    }
    default:
      return v.value;
  }
}
