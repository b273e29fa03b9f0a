/** What every command gets: global options, output helpers and secret input. */
import * as fs from "node:fs";
import { inputError, usageError } from "../errors";
import { isatty, writeErr, writeOut } from "./out";
import { askPassword, cannotAsk } from "./prompts"; // @inquirer/prompts is loaded only when a prompt is shown
import { resolveStoreTarget, type StoreTarget } from "./db";
import { SECRET_ENV } from "../secret-env";

export interface GlobalOptions {
  dir?: string;
  /** A database store (issue 19): postgres://USER@HOST/DB (env MTLSCTL_DB); src/cli/db.ts. */
  db?: string;
  dbPasswordFile?: string;
  json?: boolean;
  quiet?: boolean;
  color?: boolean;
  yes?: boolean;
}

export class Ctx {
  /** The store named: a directory or a database (src/cli/db.ts: --db/--dir, MTLSCTL_DB/MTLSCTL_DIR). */
  readonly target: StoreTarget;
  readonly json: boolean;
  readonly quiet: boolean;
  readonly warnings: string[] = [];
  private readonly g: GlobalOptions;
  private colorMemo?: boolean;
  private interactiveMemo?: boolean;

  constructor(g: GlobalOptions) {
    // --dir, else MTLSCTL_DIR, else ./pki; or --db / MTLSCTL_DB (kept out of store code: context loads none)
    this.target = resolveStoreTarget(g);
    this.json = !!g.json;
    this.quiet = !!g.quiet;
    this.g = g;
  }

  /** The file store's directory; a command that has no database path refuses a --db (exit 2), naming itself. */
  get dir(): string {
    if (this.target.kind === "db") throw usageError(`${commandName || "this command"} works on a file store only (--dir), not on a database (--db / MTLSCTL_DB)`);
    return this.target.dir;
  }
  /** The database URL when a database store is named, else undefined. */
  get db(): string | undefined {
    return this.target.kind === "db" ? this.target.url : undefined;
  }
  /** The database password from --db-password-file (else libpq's PGPASSWORD / PGPASSFILE). */
  dbPassword(): string | undefined {
    return this.g.dbPasswordFile !== undefined ? readSecretFile(this.g.dbPasswordFile, "database password") : undefined;
  }
  /** libpq's PGPASSWORD as the environment gave it (taken out of process.env by takeEnvSecrets). */
  envDbPassword(): string | undefined {
    return envSecret("PGPASSWORD");
  }

  // isatty(fd), not process.stdin.isTTY: touching process.stdin/stderr builds their streams (a few ms of start-up)
  get color(): boolean {
    return (this.colorMemo ??= this.g.color !== false && !process.env.NO_COLOR && isatty(1));
  }
  get interactive(): boolean {
    return (this.interactiveMemo ??= !this.g.yes && isatty(0) && isatty(2));
  }

  warn(msg: string): void {
    this.warnings.push(msg);
    writeErr(`mtlsctl: warning: ${msg}\n`);
  }

  warnAll(msgs: string[]): void {
    for (const m of msgs) this.warn(m);
  }

  /** A note for people (stderr), silenced by --quiet and --json. */
  note(msg: string): void {
    if (!this.quiet && !this.json) writeErr(msg + "\n");
  }

  /** The command's result: JSON on stdout with --json, else the human text (unless --quiet). */
  result(json: unknown, human: () => string): void {
    if (this.json) writeOut(JSON.stringify(json, null, 2) + "\n");
    else if (!this.quiet) {
      const text = human();
      if (text) writeOut(text.endsWith("\n") ? text : text + "\n");
    }
  }

  bold(s: string): string {
    return this.color ? `\x1b[1m${s}\x1b[0m` : s;
  }
}

/** The command being run ("ca rollover"), set by the command loader (main.ts), for messages. */
let commandName = "";
export function setCommandName(name: string): void {
  commandName = name;
}

let stdinUsed = false;

/** A secret from a file: its first line without the line ending; "-" reads standard input. */
export function readSecretFile(file: string, what: string): string {
  let text: string;
  try {
    if (file === "-") {
      if (stdinUsed) throw usageError("only one secret can be read from standard input");
      stdinUsed = true;
      text = fs.readFileSync(0, "utf8");
    } else {
      const st = fs.statSync(file);
      if (st.isDirectory()) throw inputError("is a directory, not a file", file);
      text = fs.readFileSync(file, "utf8");
      // as ssh does for a key: a secret that others can read is not a secret
      if (st.mode & 0o077) writeErr(`mtlsctl: warning: ${file}: a secret file that group or others can read (mode ${(st.mode & 0o777).toString(8).padStart(4, "0")}): chmod 600 it\n`);
    }
  } catch (e) {
    if ((e as { exitCode?: number }).exitCode) throw e;
    throw inputError(`cannot read the ${what}`, file === "-" ? "<stdin>" : file);
  }
  const line = text.split(/\r?\n/, 1)[0];
  if (line === "") throw inputError(`the ${what} is empty`, file === "-" ? "<stdin>" : file);
  return line;
}

export interface SecretSpec {
  what: string; // "CA passphrase"
  file?: string;
  fileFlag: string; // "--passphrase-file"
  env: string; // "MTLSCTL_PASSPHRASE"
  confirm?: boolean;
}

export { SECRET_ENV };
const envSecrets = new Map<string, string>();

/**
 * Takes the secrets out of process.env (run once when the CLI starts): every program mtlsctl starts
 * (nats-server for its version, sh for a file-system flush) then inherits none of them.
 */
export function takeEnvSecrets(env: NodeJS.ProcessEnv = process.env): void {
  for (const k of SECRET_ENV) {
    const v = env[k];
    if (v === undefined) continue;
    envSecrets.set(k, v);
    delete env[k];
  }
}

/** A secret the environment gave (taken by takeEnvSecrets), else what process.env holds now (a library caller's CLI-less use). */
export const envSecret = (name: string): string | undefined => envSecrets.get(name) ?? process.env[name];

/** Reads a secret from the flag's file, else the environment, else a masked prompt on a TTY. */
export async function getSecret(ctx: Ctx, spec: SecretSpec): Promise<string> {
  if (spec.file !== undefined) return readSecretFile(spec.file, spec.what);
  const env = envSecret(spec.env);
  if (env !== undefined && env !== "") return env;
  if (!ctx.interactive) throw cannotAsk(`the ${spec.what} is needed: give ${spec.fileFlag} F or set ${spec.env}`);
  for (;;) {
    const first = await askPassword(ctx, `${spec.what}:`);
    if (!spec.confirm) return first;
    const again = await askPassword(ctx, `${spec.what} (again):`, false);
    if (again === first) return first;
    writeErr("mtlsctl: they differ, try again\n");
  }
}
