/**
 * `openStore(dirOrUrl)` (issue 16): a directory gives the file store's CaStore (src/api/store.ts); a
 * `postgres://` URL gives a DbCaStore, the same operations on a database store (issue 19) through the
 * very functions the CLI's `--db` commands call (src/api/db-store.ts), so that each method returns what
 * the command prints with `--json --db URL` for the same inputs.
 *
 * node-postgres is loaded only when a database is first used (PgStore.connect): `require("mtlsctl")` and
 * the file store never load it. Secrets are options: the CA passphrase per call (a string, or a function
 * called once the request has passed every other check), the database password as `dbPassword`. Without
 * `dbPassword` the database password follows node-postgres / libpq: the URL's own password, else
 * PGPASSWORD, else PGPASSFILE (default ~/.pgpass); PGUSER, PGHOST, PGPORT, PGDATABASE fill what the URL
 * leaves out. The library reads no other variable and never a terminal.
 */
import * as path from "node:path";
import { MtlsctlError, usageError } from "../errors";
import { readCsr, type ParsedCsr } from "../pki/csr";
import { openPgStore, redactUrl, type PgStore } from "../store/pg/pg-store";
import type { NatsConfig } from "../config/config-writer";
import { CaStore, type DbInitCaOptions, type Secret, type IssuedJson, type IssueOptions, type ListOptions, type NatsConfigApiOptions, type RevokeOptions, type CrlOptions, type ServerIssueOptions, type SignOptions } from "./store";
import { initCaInDb } from "./db-init";
import { crlOfStore, issueClientInStore, issueServerInStore, listOf, natsConfigOfStore, revokeInDb, signCsrInStore } from "./db-store";

/** A PostgreSQL URL, as openStore recognises one (`postgres://` or `postgresql://`). */
export type PostgresUrl = `postgres://${string}` | `postgresql://${string}`;

const isPostgresUrl = (s: string): s is PostgresUrl => /^postgres(ql)?:\/\//i.test(s);

export interface DbStoreOptions {
  /**
   * The database password (what `--db-password-file` gives the CLI). Without it: the URL's password,
   * else PGPASSWORD, else PGPASSFILE / ~/.pgpass (node-postgres' and libpq's order).
   */
  dbPassword?: string;
  /**
   * Where issueClient, issueServer and signCsr write NAME.key and NAME.crt when a call names no
   * `outDir` (a database never keeps a leaf key). Default: the current directory at the time of the
   * call (the CLI's `--out-dir`, default `.`).
   */
  outDir?: string;
}

/** Where a database store's issuance writes its files (the CLI's --out-dir). */
export interface OutDirOption {
  /** The directory NAME.key (0600) and NAME.crt are written to; default the store's `outDir`, else the current directory. */
  outDir?: string;
}

export type { DbInitCaOptions };
export type DbIssueOptions = Omit<IssueOptions, "keyOut"> & OutDirOption;
export type DbServerIssueOptions = Omit<ServerIssueOptions, "keyOut"> & OutDirOption;
export type DbSignOptions = SignOptions & OutDirOption;
export type DbNatsConfigOptions = NatsConfigApiOptions & {
  /** The file nats-server reads the CA certificate from (required: a database has no file for it; `export ca --out FILE` writes one). */
  caFile?: string;
};

/**
 * A database store: the methods of CaStore, each returning what its command prints with `--json` on
 * `--db URL`. Leaf keys never go into the database: issueClient and issueServer write NAME.key (0600)
 * and NAME.crt to `outDir`, signCsr NAME.crt, and the result names those files. `close()` ends the
 * connection pool (idle connections also end by themselves, so a script that forgets still exits).
 */
export class DbCaStore {
  /** The database URL without its password (what messages and results name). */
  readonly location: string;
  private readonly url: string;
  private readonly dbPassword: string | undefined;
  private readonly outDir: string | undefined;
  private pool: PgStore | undefined;

  constructor(url: string, o: DbStoreOptions = {}) {
    if (!isPostgresUrl(url)) throw usageError("a database store takes a PostgreSQL URL (postgres://USER@HOST/DB)");
    this.url = url;
    this.location = redactUrl(url);
    this.dbPassword = o.dbPassword;
    this.outDir = o.outDir;
  }

  /** The store over its pool, made on first use: node-postgres is loaded then, not when the store is opened. */
  private get db(): PgStore {
    return (this.pool ??= openPgStore(this.url, { password: this.dbPassword }));
  }

  private out(o: OutDirOption): string {
    return path.resolve(o.outDir ?? this.outDir ?? process.cwd());
  }

  /**
   * The CA passphrase option as the --db functions take it. Without one, the function they call only
   * when the key is encrypted (or a PKCS#11 token's URI names no PIN) refuses as the file store's
   * unlockCa does (code "passphrase"): the CLI always gives one (its prompt or its error).
   */
  private passphrase(p: Secret | undefined): Secret {
    return p ?? (() => Promise.reject(new MtlsctlError("the CA key is encrypted: give the passphrase", { file: this.location, code: "passphrase" })));
  }

  /** Whether the database holds a store (false on an empty database or one with the schema alone). */
  async exists(): Promise<boolean> {
    return !(await this.db.isEmpty());
  }

  /** `ca init --db`: a new root CA on an empty database. */
  async initCa(o: DbInitCaOptions) {
    return initCaInDb(this.db, o);
  }

  /** `client issue --db`: a key (written to outDir/NAME.key, never stored) and a client certificate. */
  async issueClient(name: string, o: DbIssueOptions = {}): Promise<IssuedJson> {
    if ((o as IssueOptions).keyOut !== undefined) throw usageError("a database store never keeps a key: give `outDir` (NAME.key is written there), not `keyOut`");
    return issueClientInStore(this.db, name, { ...o, outDir: this.out(o), passphrase: this.passphrase(o.passphrase) });
  }

  /** `server issue --db`: a server (or peer) certificate; its key to outDir/NAME.key. */
  async issueServer(name: string, o: DbServerIssueOptions = {}): Promise<IssuedJson> {
    return issueServerInStore(this.db, name, { ...o, outDir: this.out(o), passphrase: this.passphrase(o.passphrase) });
  }

  /** `client sign --db`: a client certificate for a CSR (PEM or DER) made elsewhere, also written to outDir/NAME.crt. */
  async signCsr(csr: string | Buffer | ParsedCsr, o: DbSignOptions): Promise<IssuedJson> {
    const parsed = typeof csr === "string" || Buffer.isBuffer(csr) ? readCsr(typeof csr === "string" ? Buffer.from(csr, "utf8") : csr, o.file ?? "<csr>") : csr;
    return signCsrInStore(this.db, parsed, { ...o, outDir: this.out(o), passphrase: this.passphrase(o.passphrase) });
  }

  /** `list --db --json`: every certificate (the CA first), then the NKey users. */
  async list(o: ListOptions = {}) {
    return listOf(this.db, o.expiringDays);
  }

  /** `revoke --db`: a name (its current certificate) or a serial; the CRL is kept in the database. */
  async revoke(nameOrSerial: string | { name?: string; serial?: string }, o: RevokeOptions = {}) {
    // a string is a name when the store has one so called, else a serial when it is hex (as the file store's revoke)
    const target =
      typeof nameOrSerial !== "string" ? nameOrSerial : /^(0x)?[0-9a-fA-F:]+$/.test(nameOrSerial) && !(await this.db.findByName(nameOrSerial)) ? { serial: nameOrSerial } : { name: nameOrSerial };
    return revokeInDb(this.db, target, { ...o, passphrase: this.passphrase(o.passphrase) });
  }

  /** `crl --db --json`: signs the next CRL, keeps it in the database, and returns it. */
  async crl(o: CrlOptions = {}) {
    return crlOfStore(this.db, { ...o, passphrase: this.passphrase(o.passphrase) });
  }

  /** `config nats --db --ca-file F`: the snippet's text. */
  async natsConfig(o: DbNatsConfigOptions = {}): Promise<string> {
    return (await this.natsConfigDetailed(o)).text;
  }

  /** `config nats --db` with everything its --json prints. */
  async natsConfigDetailed(o: DbNatsConfigOptions = {}): Promise<NatsConfig> {
    return natsConfigOfStore(this.db, o);
  }

  /** Ends the connection pool (a store never used has none). */
  async close(): Promise<void> {
    const pool = this.pool;
    this.pool = undefined;
    if (pool) await pool.close();
  }
}

/**
 * A store: a directory (the file store; it need not exist, `initCa` creates it), or a PostgreSQL URL
 * (`postgres://USER@HOST/DB`; a database store). Another URL scheme is refused (code "unsupported").
 * The result's type follows the argument's: a URL held in a `string` is typed as one with
 * `url as PostgresUrl`.
 */
export function openStore(url: PostgresUrl, o?: DbStoreOptions): DbCaStore;
export function openStore(dir: string): CaStore;
export function openStore(dirOrUrl: string, o: DbStoreOptions = {}): CaStore | DbCaStore {
  if (isPostgresUrl(dirOrUrl)) return new DbCaStore(dirOrUrl, o);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(dirOrUrl)) throw new MtlsctlError(`store URLs other than postgres:// are not supported (${dirOrUrl.split("://")[0]}://): give a directory or a PostgreSQL URL`, { code: "unsupported" });
  return new CaStore(dirOrUrl);
}
