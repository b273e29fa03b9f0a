/**
 * The connection to PostgreSQL (issue 19): the URL without its password for messages, pg's errors as
 * one line, and the pool — node-postgres (`pg`), required here only when a database is named, with the
 * password resolved as libpq does. Credentials never need to be in the URL: `password` (from
 * --db-password-file), else libpq's variables (PGPASSWORD, PGPASSFILE / ~/.pgpass, PGUSER, PGHOST, ...).
 * `location` is the URL without its password; no message names a password.
 */
import { inputError, MtlsctlError } from "../../errors";
import type * as PG from "pg";

/** The advisory-lock wait a writer allows (pg-store's lock_timeout), named in the "locked" message. */
export const LOCK_WAIT = "30s";

/** The URL without its password (what messages and `location` show). */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "";
    return u.toString().replace(/^(postgres(?:ql)?:\/\/[^:@/]*):@/, "$1@");
  } catch {
    return url.replace(/\/\/([^:/@]*):[^@/]*@/, "//$1@");
  }
}

export const isDbUrl = (s: string): boolean => /^postgres(ql)?:\/\//i.test(s);

/** A pg error as one line for the user (never with a password: pg's messages carry none). */
export function dbError(e: unknown, location: string): Error {
  if (e instanceof MtlsctlError) return e;
  const err = e as { code?: string; message?: string; severity?: string; errors?: { message?: string }[] };
  const code = err.code ?? "";
  // not from the database or the network (a bug in a transaction's function): as it is
  if (!err.severity && !/^(E[A-Z]+|[0-9A-Z]{5})$/.test(code) && !/connect|terminated|timeout|SSL|certificate|password/i.test(err.message ?? "") && !err.errors) return e as Error;
  let msg = err.message || (err.errors && err.errors.map((x) => x.message).join("; ")) || String(e);
  msg = msg.replace(/\s+/g, " ").trim();
  const connecting = /^(ECONNREFUSED|ENOTFOUND|ETIMEDOUT|ECONNRESET|EHOSTUNREACH|EAI_AGAIN|28P01|28000|3D000|57P03|08\w\w\w)$/.test(code) || /connect|password|SSL|certificate|terminated/i.test(msg);
  if (code === "55P03") return inputError(`the store is locked: another mtlsctl has held the database's writer lock for ${LOCK_WAIT}`, location, "locked");
  return connecting ? inputError(`cannot use the database: ${msg}`, location, "unavailable") : inputError(`database error: ${msg}${code ? ` (${code})` : ""}`, location);
}

export interface PgOptions {
  /** The password (from --db-password-file); otherwise libpq's variables and PGPASSFILE. */
  password?: string;
  /** PGPASSWORD as the caller read it (the CLI takes it out of process.env at start); default process.env.PGPASSWORD. */
  envPassword?: string;
}

/** A pool on `url` (lazily connecting: nothing happens until the first query). */
export function makePool(url: string, o: PgOptions = {}): PG.Pool {
  const pg = require("pg") as typeof PG;
  // libpq's order: the given password, PGPASSWORD, then PGPASSFILE / ~/.pgpass (through the pgpass
  // module that node-postgres itself uses; giving it as a function avoids pg's deprecation of that path)
  const cs = (require("pg-connection-string") as { parse(u: string): Record<string, unknown> }).parse(url);
  const password = async (): Promise<string> => {
    if (o.password !== undefined) return o.password;
    if (typeof cs.password === "string" && cs.password) return cs.password;
    const envPassword = o.envPassword ?? process.env.PGPASSWORD;
    if (envPassword !== undefined) return envPassword;
    const info = { host: cs.host || process.env.PGHOST || "localhost", port: cs.port || process.env.PGPORT || 5432, database: cs.database || process.env.PGDATABASE, user: cs.user || process.env.PGUSER || require("node:os").userInfo().username };
    const fromPassfile = await new Promise<string | undefined>((resolve) => (require("pgpass") as (i: object, cb: (p?: string) => void) => void)(info, resolve));
    // asked only when the server wants a password: say which ways there are, not pg's "SASL: ... non-empty string"
    if (!fromPassfile) throw inputError("the database asks for a password and none was given (--db-password-file, PGPASSWORD, or a PGPASSFILE / ~/.pgpass entry)", redactUrl(url), "unavailable");
    return fromPassfile;
  };
  // a client whose connection failed is dropped by the pool without end(): its socket would stay open
  // until the server's authentication_timeout (60 s), keeping the process alive; end it here
  const Base = pg.Client as unknown as new (...args: unknown[]) => { connect(cb?: (err?: Error) => void): unknown; end(): Promise<void> };
  class Client extends Base {
    override connect(cb?: (err?: Error) => void): unknown {
      if (!cb) return super.connect();
      return super.connect((err?: Error) => {
        if (err) this.end().catch(() => undefined);
        cb(err);
      });
    }
  }
  // the URL parsed here (not connectionString: pg would merge the URL's undefined password over the function)
  const { password: _inUrl, ...fromUrl } = cs;
  const pool = new pg.Pool({ ...(fromUrl as PG.PoolConfig), Client: Client as unknown as PG.PoolConfig["Client"], password, max: 4, allowExitOnIdle: true, connectionTimeoutMillis: 10_000, idleTimeoutMillis: 1_000 });
  pool.on("error", () => undefined); // an idle client's error (server restart): the next query reports it
  return pool;
}
