/**
 * The Store interface (src/store/types.ts) on PostgreSQL (issue 19), with node-postgres (`pg`), which
 * is required only here, when a database is named (the file store's commands never load it).
 *
 * Transactions: one SQL transaction (READ COMMITTED) that first takes a transaction-scoped advisory
 * lock (pg_advisory_xact_lock(ADVISORY_KEY)): writers run one at a time across every process and
 * machine on the database, as on the file store (whose lock file does the same), waiting up to 30 s
 * (lock_timeout) before "the store is locked". Readers never wait. Serials have a unique constraint
 * as the backstop; a transaction that fails with a serialization failure, a deadlock or a unique
 * violation on the serial is retried from the start (at most 5 times). The commit is the commit point.
 * The connection, its password and its errors: ./connection.ts.
 */
import { randomBytes } from "node:crypto";
import { inputError } from "../../errors";
import { readCertificates, type ParsedCertificate } from "../../pki/cert";
import type { Artifacts, AuditEvent, CaKeyRef, CertRecord, CrlState, InventoryHeader, NkeyRecord, PreviousCa, RecordFilter, Store, StoreTransaction, TokenRecord } from "../types";
import { MIGRATIONS, SCHEMA_VERSION } from "./schema";
import { dbError, isDbUrl, LOCK_WAIT, makePool, redactUrl, type PgOptions } from "./connection";
import type * as PG from "pg";

export { isDbUrl, redactUrl, type PgOptions };

/** The advisory lock every writer takes ("mtls" in ASCII). */
export const ADVISORY_KEY = 0x6d746c73;

function randomSerial(bytes: number): Buffer {
  const b = randomBytes(bytes);
  b[0] = (b[0] & 0x7f) | 0x01;
  return b;
}

const asList = <T>(v: T | T[] | undefined): T[] | undefined => (v === undefined ? undefined : Array.isArray(v) ? v : [v]);

const RETRY = new Set(["40001", "40P01"]);

const same = (q: string) => q;

class PgTransaction implements StoreTransaction {
  private readonly reserved = new Set<string>();
  constructor(
    private readonly c: PG.PoolClient,
    private readonly location: string,
  ) {}
  async header(): Promise<InventoryHeader> {
    return readHeader(this.c, this.location);
  }
  async history(name: string): Promise<CertRecord[]> {
    const r = await this.c.query(same("SELECT record FROM certificates WHERE name = $1 ORDER BY seq"), [name]);
    return r.rows.map((x) => x.record);
  }
  async findByName(name: string): Promise<CertRecord | undefined> {
    return findByName(this.c, name);
  }
  async findBySerial(serial: string): Promise<CertRecord | undefined> {
    return findBySerial(this.c, serial);
  }
  async reserveSerial(bytes = 16): Promise<Buffer> {
    if (!Number.isInteger(bytes) || bytes < 8 || bytes > 20) throw inputError(`a serial has 8 to 20 bytes, not ${bytes}`);
    for (;;) {
      const b = randomSerial(bytes);
      const hex = b.toString("hex");
      if (this.reserved.has(hex)) continue;
      const r = await this.c.query(
        "SELECT 1 FROM certificates WHERE serial = $1 UNION ALL SELECT 1 FROM previous_cas WHERE serial = $1 UNION ALL SELECT 1 FROM ca WHERE lower(record->>'serial') = $1",
        [hex],
      );
      if (r.rowCount) continue;
      this.reserved.add(hex); // the writer lock is held until commit: no other writer can take it meanwhile
      return b;
    }
  }
  async put(records: CertRecord[]): Promise<void> {
    for (const r of records) await upsert(this.c, r);
  }
  async putArtifacts(serial: string, a: Artifacts): Promise<void> {
    const r = await this.c.query("UPDATE certificates SET cert_pem = $2, chain_pem = $3, csr_pem = $4 WHERE serial = $1", [serial.toLowerCase(), a.certPem, a.chainPem ?? null, a.csrPem ?? null]);
    if (!r.rowCount) throw inputError(`no certificate with serial ${serial} in the store (put its record first)`, this.location);
  }
  private async must(serial: string): Promise<CertRecord> {
    const r = await this.findBySerial(serial);
    if (!r) throw inputError(`no certificate with serial ${serial} in the store`, this.location);
    return r;
  }
  async revoke(serial: string, at: Date, reason: string | null): Promise<CertRecord> {
    const r = await this.must(serial);
    if (r.status === "revoked") throw inputError(`serial ${r.serial} ("${r.name}") is already revoked`, this.location);
    r.status = "revoked";
    r.revokedAt = at.toISOString();
    r.revocationReason = reason;
    await upsert(this.c, r);
    return r;
  }
  async supersede(oldSerial: string, newSerial: string): Promise<CertRecord> {
    const r = await this.must(oldSerial);
    if (r.status === "valid") r.status = "superseded";
    r.renewedBy = newSerial;
    await upsert(this.c, r);
    return r;
  }
  async nextCrlNumber(): Promise<number> {
    const r = await this.c.query("SELECT number FROM crl_state WHERE id = 1");
    return (r.rowCount ? Number(r.rows[0].number) : 0) + 1;
  }
  async setCrl(state: CrlState, pem?: string): Promise<void> {
    const r = await this.c.query("SELECT number FROM crl_state WHERE id = 1");
    if (r.rowCount && state.number <= Number(r.rows[0].number)) throw inputError(`CRL number ${state.number} is not above ${r.rows[0].number}`, this.location);
    await this.c.query(
      "INSERT INTO crl_state (id, number, this_update, next_update, crl_pem) VALUES (1, $1, $2, $3, $4) ON CONFLICT (id) DO UPDATE SET number = EXCLUDED.number, this_update = EXCLUDED.this_update, next_update = EXCLUDED.next_update, crl_pem = COALESCE(EXCLUDED.crl_pem, crl_state.crl_pem)",
      [state.number, state.thisUpdate, state.nextUpdate, pem ?? null],
    );
  }
  async setUrls(urls: { ocsp?: string; crl?: string }): Promise<void> {
    await this.c.query("UPDATE ca SET urls = $1 WHERE id = 1", [Object.keys(urls).length ? JSON.stringify(urls) : null]);
  }
  async putNkey(rec: NkeyRecord): Promise<void> {
    await this.c.query("DELETE FROM nkeys WHERE name = $1", [rec.name]);
    await this.c.query("INSERT INTO nkeys (name, record) VALUES ($1, $2)", [rec.name, JSON.stringify(rec)]);
  }
  async audit(event: AuditEvent): Promise<void> {
    await insertAudit(this.c, event);
  }
  async putToken(rec: TokenRecord): Promise<void> {
    await upsertToken(this.c, rec);
  }
  async findToken(nameOrId: string): Promise<TokenRecord | undefined> {
    const r = await this.c.query("SELECT record FROM tokens WHERE id = $1 UNION ALL (SELECT record FROM tokens WHERE name = $1 ORDER BY seq DESC LIMIT 1) LIMIT 1", [nameOrId]);
    return r.rows[0]?.record;
  }
  async claimToken(id: string, serial: string, spkiSha256: string): Promise<TokenRecord> {
    // FOR UPDATE: the row stays locked until COMMIT; a concurrent claim of the same token waits, then
    // finds it claimed (a token already spent on another serial is never re-spent)
    const r = await this.c.query("SELECT record, claimed_serial FROM tokens WHERE id = $1 FOR UPDATE", [id]);
    if (!r.rowCount) throw inputError(`no token with id ${id}`, this.location);
    const s = serial.toLowerCase();
    if (r.rows[0].claimed_serial && r.rows[0].claimed_serial !== s) throw inputError(`the token ${id} was already used (serial ${r.rows[0].claimed_serial})`, this.location);
    const rec: TokenRecord = { ...r.rows[0].record, claim: { serial: s, spkiSha256, at: new Date().toISOString() } };
    await upsertToken(this.c, rec);
    return rec;
  }
}

export async function insertAudit(c: PG.ClientBase, event: AuditEvent): Promise<void> {
  const e = { ...event, at: event.at ?? new Date().toISOString() };
  await c.query("INSERT INTO audit_events (at, action, name, serial, event) VALUES ($1, $2, $3, $4, $5)", [e.at, e.action, e.name ?? null, e.serial ?? null, JSON.stringify(e)]);
}

export async function upsertToken(c: PG.ClientBase, rec: TokenRecord): Promise<void> {
  await c.query(
    "INSERT INTO tokens (id, name, hash, claimed_serial, record) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, hash = EXCLUDED.hash, claimed_serial = EXCLUDED.claimed_serial, record = EXCLUDED.record",
    [rec.id, rec.name, rec.hash, rec.claim?.serial?.toLowerCase() ?? null, JSON.stringify(rec)],
  );
}

export async function upsert(c: PG.ClientBase, r: CertRecord): Promise<void> {
  await c.query(
    `INSERT INTO certificates (serial, name, kind, subject, sans, profile, key_type, not_before, not_after, status, revoked_at, revocation_reason, fingerprint, issued_at, renewed_by, record)
     VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16)
     ON CONFLICT (serial) DO UPDATE SET name = EXCLUDED.name, kind = EXCLUDED.kind, subject = EXCLUDED.subject, sans = EXCLUDED.sans,
       profile = EXCLUDED.profile, key_type = EXCLUDED.key_type, not_before = EXCLUDED.not_before, not_after = EXCLUDED.not_after,
       status = EXCLUDED.status, revoked_at = EXCLUDED.revoked_at, revocation_reason = EXCLUDED.revocation_reason,
       fingerprint = EXCLUDED.fingerprint, issued_at = EXCLUDED.issued_at, renewed_by = EXCLUDED.renewed_by, record = EXCLUDED.record`,
    [
      r.serial.toLowerCase(),
      r.name,
      r.kind,
      r.subject,
      JSON.stringify(r.sans),
      r.profile,
      r.keyType,
      r.notBefore,
      r.notAfter,
      r.status,
      r.revokedAt,
      r.revocationReason,
      r.fingerprint,
      r.issuedAt,
      r.renewedBy ?? null,
      JSON.stringify(r),
    ],
  );
}

async function findByName(c: PG.ClientBase | PG.Pool, name: string): Promise<CertRecord | undefined> {
  const r = await c.query("SELECT record FROM certificates WHERE name = $1 AND status <> 'superseded' AND renewed_by IS NULL ORDER BY seq DESC LIMIT 1", [name]);
  return r.rows[0]?.record;
}
async function findBySerial(c: PG.ClientBase | PG.Pool, serial: string): Promise<CertRecord | undefined> {
  const r = await c.query("SELECT record FROM certificates WHERE serial = $1", [serial.toLowerCase()]);
  return r.rows[0]?.record;
}
async function readHeader(c: PG.ClientBase | PG.Pool, location: string): Promise<InventoryHeader> {
  const ca = await c.query("SELECT record, urls FROM ca WHERE id = 1");
  if (!ca.rowCount) throw inputError("the database holds no CA (run `mtlsctl store copy --from DIR --to URL`; a pending intermediate is completed by `mtlsctl ca install --db`)", location, "no-store");
  const crl = await c.query("SELECT number, this_update, next_update FROM crl_state WHERE id = 1");
  const nk = await c.query("SELECT record FROM nkeys ORDER BY seq");
  const prev = await c.query("SELECT record FROM previous_cas ORDER BY seq");
  const h: InventoryHeader = { version: 1, ca: ca.rows[0].record };
  if (crl.rowCount) h.crl = { number: Number(crl.rows[0].number), thisUpdate: crl.rows[0].this_update, nextUpdate: crl.rows[0].next_update };
  if (nk.rowCount) h.nkeys = nk.rows.map((x) => x.record);
  if (prev.rowCount) h.previousCas = prev.rows.map((x) => x.record);
  if (ca.rows[0].urls && Object.keys(ca.rows[0].urls).length) h.urls = ca.rows[0].urls;
  return h;
}

/** Each process's queue of transactions per database (as the file store's: one at a time in a process). */
const inProcess = new Map<string, Promise<void>>();

const CHECKED_OUT = Symbol("mtlsctl.checkedOut");

/** Back to the pool (see PgStore.checkout), or destroyed when its connection broke meanwhile. */
function checkin(c: PG.PoolClient): void {
  const t = (c as PG.PoolClient & { [CHECKED_OUT]?: { onError: (e: Error) => void; broken: { error?: Error } } })[CHECKED_OUT];
  if (t) c.removeListener("error", t.onError);
  c.release(t?.broken.error ?? undefined);
}

export class PgStore implements Store {
  readonly location: string;
  private checked: Promise<void> | null = null;
  constructor(
    readonly pool: PG.Pool,
    readonly url: string,
  ) {
    this.location = redactUrl(url);
  }

  /** A pool on `url` (lazily connecting: nothing happens until the first query). */
  static connect(url: string, o: PgOptions = {}): PgStore {
    if (!isDbUrl(url)) throw inputError(`not a PostgreSQL URL (postgres://USER@HOST/DB): ${redactUrl(url)}`);
    const pool = makePool(url, o);
    return new PgStore(pool, url);
  }

  async close(): Promise<void> {
    await this.pool.end();
  }

  private async q<R extends PG.QueryResultRow = any>(text: string, values?: unknown[]): Promise<PG.QueryResult<R>> {
    await this.ready();
    try {
      return await this.pool.query<R>(text, values as any[]);
    } catch (e) {
      throw dbError(e, this.location);
    }
  }

  /** The schema version the database has: 0 when it has no mtlsctl schema. */
  async schemaVersion(): Promise<number> {
    try {
      const t = await this.pool.query("SELECT to_regclass('schema_version') AS t");
      if (!t.rows[0].t) return 0;
      const r = await this.pool.query("SELECT version FROM schema_version");
      return r.rowCount ? Number(r.rows[0].version) : 0;
    } catch (e) {
      throw dbError(e, this.location);
    }
  }

  /** Refuses a database without the schema, with an older one (store migrate), or a newer one. */
  private ready(): Promise<void> {
    return (this.checked ??= (async () => {
      const v = await this.schemaVersion();
      if (v > SCHEMA_VERSION) throw inputError(`the database's schema is version ${v}, newer than this mtlsctl knows (${SCHEMA_VERSION}): upgrade mtlsctl`, this.location);
      if (v === 0) throw inputError("the database holds no mtlsctl store (run `mtlsctl store copy --from DIR --to URL`, or `mtlsctl store migrate --db URL` for an empty schema)", this.location, "no-store");
      if (v < SCHEMA_VERSION) throw inputError(`the database's schema is version ${v}; this mtlsctl needs ${SCHEMA_VERSION}: run \`mtlsctl store migrate --db URL\``, this.location);
    })().catch((e) => {
      this.checked = null;
      throw e;
    }));
  }

  /**
   * A client of the pool for a transaction, listened to: a connection that breaks while it is checked
   * out (the server stopped between two queries, while the caller signs) emits 'error' on the client,
   * which with no listener ends the process. The error is kept; checkin() then destroys the client
   * instead of returning it to the pool, and the caller's next query fails (503 for serve).
   */
  private async checkout(): Promise<PG.PoolClient> {
    let c: PG.PoolClient;
    try {
      c = await this.pool.connect();
    } catch (e) {
      throw dbError(e, this.location);
    }
    const broken: { error?: Error } = {};
    const onError = (e: Error) => (broken.error = e);
    c.on("error", onError);
    (c as PG.PoolClient & { [CHECKED_OUT]?: { onError: (e: Error) => void; broken: { error?: Error } } })[CHECKED_OUT] = { onError, broken };
    return c;
  }

  /**
   * Creates or upgrades the schema to SCHEMA_VERSION (one transaction, under the writer lock); refuses
   * a newer one. Returns the versions before and after.
   */
  async migrate(): Promise<{ from: number; to: number }> {
    const out = await this.rawTransaction(async (c) => {
      await c.query("CREATE TABLE IF NOT EXISTS schema_version (version int NOT NULL)");
      const r = await c.query("SELECT version FROM schema_version");
      const from = r.rowCount ? Number(r.rows[0].version) : 0;
      if (from > SCHEMA_VERSION) throw inputError(`the database's schema is version ${from}, newer than this mtlsctl knows (${SCHEMA_VERSION}): upgrade mtlsctl`, this.location);
      for (let v = from + 1; v <= SCHEMA_VERSION; v++) await c.query(MIGRATIONS[v - 1]);
      if (!r.rowCount) await c.query("INSERT INTO schema_version (version) VALUES ($1)", [SCHEMA_VERSION]);
      else await c.query("UPDATE schema_version SET version = $1", [SCHEMA_VERSION]);
      return { from, to: SCHEMA_VERSION };
    });
    this.checked = null;
    return out;
  }

  /** Whether the store holds anything (a CA, a record, a token, an event): a copy's target must not. */
  async isEmpty(): Promise<boolean> {
    const v = await this.schemaVersion();
    if (v === 0) return true;
    await this.ready();
    try {
      return await this.isEmptyIn(this.pool);
    } catch (e) {
      throw dbError(e, this.location);
    }
  }
  async isEmptyIn(c: PG.ClientBase | PG.Pool): Promise<boolean> {
    const r = await c.query("SELECT (SELECT count(*) FROM ca) + (SELECT count(*) FROM certificates) + (SELECT count(*) FROM audit_events) + (SELECT count(*) FROM nkeys) + (SELECT count(*) FROM previous_cas) + (SELECT count(*) FROM tokens) + (SELECT count(*) FROM pending_ca) AS n");
    return Number(r.rows[0].n) === 0;
  }

  /** `fn` in one REPEATABLE READ, READ ONLY transaction: a consistent snapshot while writers go on. */
  async snapshot<T>(fn: (c: PG.PoolClient) => Promise<T>): Promise<T> {
    await this.ready();
    const c = await this.checkout();
    try {
      await c.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
      const out = await fn(c);
      await c.query("COMMIT");
      return out;
    } catch (e) {
      await c.query("ROLLBACK").catch(() => undefined);
      throw dbError(e, this.location);
    } finally {
      checkin(c);
    }
  }

  async caRow(): Promise<{ certPem: string; chainPem: string | null; rootsPem: string | null; key: CaKeyRef }> {
    const r = await this.q("SELECT cert_pem, chain_pem, roots_pem, key_pem, key_uri FROM ca WHERE id = 1");
    if (!r.rowCount) throw inputError("the database holds no CA (run `mtlsctl store copy --from DIR --to URL`; a pending intermediate is completed by `mtlsctl ca install --db`)", this.location, "no-store");
    const x = r.rows[0];
    return { certPem: x.cert_pem, chainPem: x.chain_pem, rootsPem: x.roots_pem, key: x.key_uri ? { pkcs11Uri: x.key_uri } : { pem: x.key_pem } };
  }

  async caCertificate(): Promise<ParsedCertificate> {
    const certs = readCertificates(Buffer.from((await this.caRow()).certPem), this.location);
    if (certs.length !== 1) throw inputError(`expected one CA certificate, found ${certs.length}`, this.location);
    return certs[0];
  }
  async presentedChain(): Promise<ParsedCertificate[]> {
    const { chainPem } = await this.caRow();
    return chainPem ? readCertificates(Buffer.from(chainPem), this.location) : [];
  }
  async trustAnchors(): Promise<ParsedCertificate[]> {
    const { certPem, rootsPem } = await this.caRow();
    return readCertificates(Buffer.from(rootsPem ?? certPem), this.location);
  }
  async header(): Promise<InventoryHeader> {
    await this.ready();
    try {
      return await readHeader(this.pool, this.location);
    } catch (e) {
      throw dbError(e, this.location);
    }
  }
  async findByName(name: string): Promise<CertRecord | undefined> {
    await this.ready();
    return findByName(this.pool, name).catch((e) => Promise.reject(dbError(e, this.location)));
  }
  async history(name: string): Promise<CertRecord[]> {
    return (await this.q("SELECT record FROM certificates WHERE name = $1 ORDER BY seq", [name])).rows.map((x) => x.record);
  }
  async findBySerial(serial: string): Promise<CertRecord | undefined> {
    await this.ready();
    return findBySerial(this.pool, serial).catch((e) => Promise.reject(dbError(e, this.location)));
  }
  async list(f: RecordFilter = {}): Promise<CertRecord[]> {
    const where: string[] = [];
    const vals: unknown[] = [];
    const st = asList(f.status);
    const kd = asList(f.kind);
    if (st) where.push(`status = ANY($${vals.push(st)})`);
    if (kd) where.push(`kind = ANY($${vals.push(kd)})`);
    if (f.name !== undefined) where.push(`name = $${vals.push(f.name)}`);
    if (f.expiringDays !== undefined) {
      const limit = new Date((f.now ?? new Date()).getTime() + f.expiringDays * 86_400_000).toISOString();
      where.push(`status = 'valid' AND not_after <= $${vals.push(limit)}`);
    }
    if (f.currentOnly) where.push("status <> 'superseded' AND renewed_by IS NULL");
    const sql = `SELECT record FROM certificates${where.length ? " WHERE " + where.join(" AND ") : ""} ORDER BY seq`;
    return (await this.q(sql, vals)).rows.map((x) => x.record);
  }
  /** The number of records of each status (`status`: one aggregate over the status index, not the rows). */
  async countByStatus(): Promise<{ valid: number; revoked: number; superseded: number }> {
    const out = { valid: 0, revoked: 0, superseded: 0 };
    for (const r of (await this.q("SELECT status, count(*) AS n FROM certificates GROUP BY status")).rows) out[r.status as keyof typeof out] = Number(r.n);
    return out;
  }
  /**
   * `ca passphrase --db`: replaces the CA key (and the previous CAs' keys) by `rewrap`'s PEMs in one
   * transaction under the writer lock, with an audit event. `rewrap` gets the rows as they are inside
   * the transaction (a concurrent change is seen) and may throw: then nothing changes.
   */
  async rewrapCaKeys(rewrap: (ca: string | null, previous: { serial: string; pem: string }[]) => { ca: string; previous: { serial: string; pem: string }[] }, event: AuditEvent): Promise<void> {
    await this.ready();
    await this.rawTransaction(async (c) => {
      const ca = await c.query("SELECT key_pem FROM ca WHERE id = 1");
      if (!ca.rowCount) throw inputError("the database holds no CA (run `mtlsctl store copy --from DIR --to URL`; a pending intermediate is completed by `mtlsctl ca install --db`)", this.location, "no-store");
      const prev = await c.query("SELECT serial, key_pem FROM previous_cas WHERE key_pem IS NOT NULL ORDER BY seq");
      const out = rewrap(ca.rows[0].key_pem, prev.rows.map((r) => ({ serial: r.serial, pem: r.key_pem })));
      await c.query("UPDATE ca SET key_pem = $1 WHERE id = 1", [out.ca]);
      for (const p of out.previous) await c.query("UPDATE previous_cas SET key_pem = $2 WHERE serial = $1", [p.serial, p.pem]);
      await insertAudit(c, event);
    });
  }
  /**
   * `ca retire --db`: the file store's retire (src/lifecycle/rollover.ts) on the rows, in one transaction
   * under the writer lock: the chosen previous CAs (in overlap) become retired, the ca row's roots_pem is
   * the current CA then the previous CAs still in overlap, and an audit event. The same refusals, in
   * the same order, before anything changes. Returns the retired CAs, the roots (serials) and the valid
   * certificates the retired CAs signed (stranded).
   */
  async retirePrevious(o: { serials?: string[]; all?: boolean; now?: Date }): Promise<{ retired: PreviousCa[]; roots: string[]; stranded: CertRecord[] }> {
    const now = o.now ?? new Date();
    const wanted = (o.serials ?? []).map((s) => s.toLowerCase().replace(/^0x/, "").replace(/:/g, ""));
    if (!o.all && !wanted.length) throw inputError("name the previous CA to retire (its serial; see mtlsctl ca show) or give --all-previous");
    if (o.all && wanted.length) throw inputError("give serials or --all-previous, not both");
    const same = (a: string, b: string) => a === b || a.replace(/^0+/, "") === b.replace(/^0+/, "");
    await this.ready();
    return this.rawTransaction(async (c) => {
      const ca = await c.query("SELECT record, cert_pem FROM ca WHERE id = 1");
      if (!ca.rowCount) throw inputError("the database holds no CA (run `mtlsctl store copy --from DIR --to URL`; a pending intermediate is completed by `mtlsctl ca install --db`)", this.location, "no-store");
      const current: CertRecord = ca.rows[0].record;
      const prev = (await c.query("SELECT serial, record, cert_pem FROM previous_cas ORDER BY seq")).rows as { serial: string; record: PreviousCa; cert_pem: string }[];
      for (const s of wanted) {
        if (s === current.serial) throw inputError(`${s} is the store's current CA: only a previous CA can be retired`, this.location);
        const p = prev.find((x) => same(x.record.serial, s));
        if (!p) throw inputError(`no previous CA with serial ${s} (see mtlsctl ca show)`, this.location);
        if (p.record.caStatus === "retired") throw inputError(`the previous CA ${p.record.serial} is already retired`, this.location);
      }
      const overlap = prev.filter((p) => p.record.caStatus === "overlap");
      const chosen = o.all ? overlap : overlap.filter((p) => wanted.some((s) => same(p.record.serial, s)));
      if (!chosen.length) throw inputError("no previous CA is in overlap: nothing to retire", this.location);
      const retired: PreviousCa[] = [];
      for (const p of chosen) {
        const rec: PreviousCa = { ...p.record, caStatus: "retired", retiredAt: now.toISOString() };
        await c.query("UPDATE previous_cas SET record = $2 WHERE serial = $1", [p.serial, JSON.stringify(rec)]);
        retired.push(rec);
        p.record = rec;
      }
      const still = prev.filter((p) => p.record.caStatus === "overlap");
      const roots = [current.serial, ...still.map((p) => p.record.serial)];
      const rootsPem = [ca.rows[0].cert_pem as string, ...still.map((p) => p.cert_pem)].map((x) => x.trim() + "\n").join("");
      await c.query("UPDATE ca SET roots_pem = $1 WHERE id = 1", [rootsPem]);
      const ids = retired.map((p) => p.serial.toLowerCase());
      const stranded = (await c.query("SELECT record FROM certificates WHERE status = 'valid' AND not_after > $1 AND lower(record->>'caSerial') = ANY($2) ORDER BY seq", [now.toISOString(), ids])).rows.map((x) => x.record as CertRecord);
      await insertAudit(c, { action: "ca-retire", detail: { serials: retired.map((p) => p.serial) } });
      return { retired, roots, stranded };
    });
  }
  /**
   * `ca rollover --db`: the file store's rollover (src/lifecycle/rollover.ts) on the rows, in one
   * transaction under the writer lock. `build` gets a new serial (one no row has) and returns the new
   * CA (record, certificate, key PEM); the current CA becomes a previous CA in overlap (its row moved
   * to previous_cas with its key as stored), the ca row's trust anchors are the new CA then the previous
   * CAs in overlap, and every record the old CA signed is stamped with its serial (caSerial, appended
   * to the record's JSON as the file store appends it). Refused when the CA changed since `expected`.
   */
  async rolloverCa(expected: string, build: (serial: Buffer) => { record: CertRecord; certPem: string; keyPem: string; previous: (current: CertRecord) => PreviousCa }): Promise<{ previous: PreviousCa; roots: string[] }> {
    await this.ready();
    return this.rawTransaction(async (c) => {
      const ca = await c.query("SELECT record, cert_pem, key_pem, key_uri FROM ca WHERE id = 1");
      if (!ca.rowCount) throw inputError("the database holds no CA (run `mtlsctl store copy --from DIR --to URL`; a pending intermediate is completed by `mtlsctl ca install --db`)", this.location, "no-store");
      const current: CertRecord = ca.rows[0].record;
      if (current.serial !== expected) throw inputError("the CA changed meanwhile (another mtlsctl?): run ca rollover again", this.location);
      const serial = await new PgTransaction(c, this.location).reserveSerial(16);
      const next = build(serial);
      const previous = next.previous(current);
      await c.query("INSERT INTO previous_cas (serial, record, cert_pem, key_pem, key_uri) VALUES ($1, $2, $3, $4, $5)", [current.serial.toLowerCase(), JSON.stringify(previous), ca.rows[0].cert_pem, ca.rows[0].key_pem, ca.rows[0].key_uri]);
      const overlap = (await c.query("SELECT record, cert_pem FROM previous_cas ORDER BY seq")).rows.filter((r) => r.record.caStatus === "overlap");
      const rootsPem = [next.certPem, ...overlap.map((r) => r.cert_pem as string)].map((x) => x.trim() + "\n").join("");
      await c.query("UPDATE ca SET record = $1, cert_pem = $2, key_pem = $3, key_uri = NULL, chain_pem = NULL, roots_pem = $4 WHERE id = 1", [JSON.stringify(next.record), next.certPem, next.keyPem, rootsPem]);
      // what the old CA signed keeps its name: "caSerial" appended as the last key (json keeps the order)
      await c.query(`UPDATE certificates SET record = regexp_replace(record::text, '\\}\\s*$', ',"caSerial":' || to_json($1::text)::text || '}')::json WHERE record->>'caSerial' IS NULL`, [current.serial]);
      await insertAudit(c, { action: "ca-rollover", serial: next.record.serial, detail: { previous: current.serial } });
      return { previous, roots: [next.record.serial, ...overlap.map((r) => r.record.serial as string)] };
    });
  }
  async nkeys(): Promise<NkeyRecord[]> {
    return (await this.q("SELECT record FROM nkeys ORDER BY seq")).rows.map((x) => x.record);
  }
  async previousCas(): Promise<PreviousCa[]> {
    return (await this.q("SELECT record FROM previous_cas ORDER BY seq")).rows.map((x) => x.record);
  }
  async certificatePem(serial: string): Promise<string | undefined> {
    const r = await this.q("SELECT cert_pem FROM certificates WHERE serial = $1", [serial.toLowerCase()]);
    return r.rows[0]?.cert_pem ?? undefined;
  }
  async certificatePems(serials: string[]): Promise<Map<string, string>> {
    const r = await this.q("SELECT serial, cert_pem FROM certificates WHERE serial = ANY($1) AND cert_pem IS NOT NULL", [serials.map((s) => s.toLowerCase())]);
    return new Map(r.rows.map((x) => [x.serial, x.cert_pem]));
  }
  async artifacts(serial: string): Promise<Artifacts | undefined> {
    const r = await this.q("SELECT cert_pem, chain_pem, csr_pem FROM certificates WHERE serial = $1", [serial.toLowerCase()]);
    const x = r.rows[0];
    if (!x || !x.cert_pem) return undefined;
    return { certPem: x.cert_pem, ...(x.chain_pem ? { chainPem: x.chain_pem } : {}), ...(x.csr_pem ? { csrPem: x.csr_pem } : {}) };
  }
  async auditEvents(): Promise<AuditEvent[]> {
    return (await this.q("SELECT event FROM audit_events ORDER BY id")).rows.map((x) => x.event);
  }
  async tokens(): Promise<TokenRecord[]> {
    return (await this.q("SELECT record FROM tokens ORDER BY seq")).rows.map((x) => x.record);
  }
  async tokensNamed(name: string): Promise<TokenRecord[]> {
    return (await this.q("SELECT record FROM tokens WHERE name = $1 ORDER BY seq", [name])).rows.map((x) => x.record);
  }
  async crlPem(): Promise<string | undefined> {
    return (await this.q("SELECT crl_pem FROM crl_state WHERE id = 1")).rows[0]?.crl_pem ?? undefined;
  }
  async caKey(): Promise<CaKeyRef> {
    return (await this.caRow()).key;
  }
  async previousCaPem(serial: string): Promise<string | undefined> {
    return (await this.q("SELECT cert_pem FROM previous_cas WHERE serial = $1", [serial.toLowerCase()])).rows[0]?.cert_pem ?? undefined;
  }
  /** Never a leaf key in a database (a record copied from a directory still names its file there: not this store's). */
  leafKey(rec: CertRecord): { why: string } {
    return { why: `a database store never keeps a leaf key: it is where \`client issue --db\` or \`server issue --db\` wrote it (--out-dir)${rec.keyFile ? `, or in the store directory this one was copied from (${rec.keyFile})` : ""}` };
  }

  async transaction<T>(fn: (tx: StoreTransaction) => Promise<T>): Promise<T> {
    const prev = inProcess.get(this.url) ?? Promise.resolve();
    let done!: () => void;
    const mine = new Promise<void>((r) => (done = r));
    inProcess.set(this.url, mine);
    await prev;
    try {
      await this.ready();
      return await this.rawTransaction((c) => fn(new PgTransaction(c, this.location)));
    } finally {
      if (inProcess.get(this.url) === mine) inProcess.delete(this.url);
      done();
    }
  }

  /** BEGIN, the writer lock, fn, COMMIT; retried on a serialization failure or deadlock. */
  async rawTransaction<T>(fn: (c: PG.PoolClient) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const c = await this.checkout();
      try {
        await c.query("BEGIN");
        await c.query(`SET LOCAL lock_timeout = '${LOCK_WAIT}'`);
        await c.query("SELECT pg_advisory_xact_lock($1)", [ADVISORY_KEY]);
        const out = await fn(c);
        await c.query("COMMIT");
        return out;
      } catch (e) {
        await c.query("ROLLBACK").catch(() => undefined);
        const code = (e as { code?: string }).code ?? "";
        const serialClash = code === "23505" && /certificates_serial_unique/.test((e as { constraint?: string }).constraint ?? "");
        if ((RETRY.has(code) || serialClash) && attempt < 5) continue;
        throw dbError(e, this.location);
      } finally {
        checkin(c);
      }
    }
  }
}

/** The Store interface on the database at `url` (a pool; nothing connects until the first call). */
export function openPgStore(url: string, o: PgOptions = {}): PgStore {
  return PgStore.connect(url, o);
}
