/**
 * The state one reading of a config shares across the block checkers (tls.ts, users.ts,
 * user-permissions.ts, accounts.ts, listeners.ts, leafnodes.ts, cross-checks.ts): the result being
 * built, the option errors and warnings so far, and the helpers that report them the server's way.
 */
import type { ConfEntry, ConfMap, ConfValue, Pos, VariableRef } from "./parser";
import { ConfigError, goTypeName } from "./parser";
import type { ConfigUser, ConfigWarning, ReadOptions, ServerConfig } from "./types";
import { goQuote, parseGoDuration } from "./go-values";

/** A server-side option error, printed by the server as `file:line:col: reason`. */
export function optionError(reason: string, pos: Pos): ConfigError {
  // the server counts columns from 0 on the first line of a file and from 1 on the others
  return new ConfigError(reason, pos, `${pos.file}:${pos.line}:${pos.line === 1 ? pos.col - 1 : pos.col}: ${reason}`);
}

/** A Go panic inside one of the server's option parsers (a type assertion that failed). */
export class Panic {
  constructor(
    readonly message: string,
    readonly pos: Pos,
  ) {}
}

/** The server's type assertion on a parsed value: the wrong kind is a {@link Panic} with Go's message. */
export function want<K extends ConfValue["kind"]>(v: ConfValue, kind: K, pos: Pos): Extract<ConfValue, { kind: K }> {
  if (v.kind !== kind) {
    const goWant = { string: "string", bool: "bool", int: "int64", float: "float64", datetime: "time.Time", array: "[]interface {}", map: "map[string]interface {}" }[kind];
    throw new Panic(`interface conversion: interface {} is ${goTypeName(v)}, not ${goWant}`, pos);
  }
  return v as Extract<ConfValue, { kind: K }>;
}

/** One reading's shared state; every block checker takes it as its first argument. */
export class CheckContext {
  readonly errors: ConfigError[] = [];
  readonly warnings: ConfigWarning[] = [];
  readonly result: ServerConfig;
  /** Where the server runs: it opens cert_file, key_file and ca_file relative to it. */
  readonly cwd: string;
  readonly serverVersion: string;
  readonly checkFiles: boolean;
  /** Users and nkeys of the one table, for the duplicate check. */
  readonly seen = new Set<string>();
  /** Where no_auth_user is set (its startup problem points there). */
  noAuthUserPos?: Pos;
  /** For each user, the position the server blames for a duplicate (its `authorization` or `users` key). */
  readonly blame = new Map<ConfigUser, Pos>();

  constructor(file: string, files: string[], tree: ConfMap, variables: VariableRef[], opts: ReadOptions) {
    this.cwd = opts.cwd ?? process.cwd();
    this.serverVersion = opts.serverVersion ?? "2.9.10";
    this.checkFiles = opts.checkFiles ?? true;
    this.result = { file, files, tree, variables, accounts: [], users: [], warnings: this.warnings, startupProblems: [], unchecked: [] };
  }

  error(reason: string, pos: Pos): void {
    this.errors.push(optionError(reason, pos));
  }

  unknown(e: ConfEntry): void {
    if (!e.value.usedVariable) this.error(`unknown field ${goQuote(e.key)}`, e.keyPos);
  }

  /** Runs one of the server's option parsers; a panic inside it becomes one error, as the server's recover does. */
  guarded(f: () => void): void {
    try {
      f();
    } catch (e) {
      if (e instanceof Panic) this.error(e.message, e.pos);
      else if (e instanceof ConfigError) this.errors.push(e);
      else throw e;
    }
  }

  /** Flags keys of one map that differ only in case among the given names (the server picks one at random). */
  randomKeys(m: ConfMap, names: string[][]): string[] {
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

  /** The server's parseDuration: a duration string, or (with a warning) a number of seconds. */
  duration(field: string, v: ConfValue, p: Pos): void {
    if (v.kind === "string") {
      const d = parseGoDuration(v.value);
      if (typeof d === "string") this.error(`error parsing ${field}: ${d}`, p);
      return;
    }
    want(v, "int", p); // anything but a string or an int is a panic
    this.warnings.push({ pos: p, kind: "server", message: `invalid use of field ${goQuote(field)}: ${field} should be converted to a duration` });
  }
}
