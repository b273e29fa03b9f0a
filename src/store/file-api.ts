/**
 * The Store interface (src/store/types.ts) over the file store: every answer from FileStore's
 * synchronous calls, wrapped in promises; a transaction runs under the store's lock, buffers its
 * updates and commits them when its function returns (records only: one segment; with the header:
 * the journal), so that a thrown error leaves the store as it was.
 */
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { inputError } from "../errors";
import type { ParsedCertificate } from "../pki/cert";
import { FileStore } from "./store";
import { Folder } from "./log";
import type { Artifacts, AuditEvent, CaKeyRef, CertRecord, CrlState, Inventory, InventoryHeader, NkeyRecord, PreviousCa, RecordFilter, Store, StoreTransaction, TokenRecord } from "./types";
import { TokenFile } from "./tokens";

const current = (recs: CertRecord[]) => recs.filter((c) => c.status !== "superseded" && !c.renewedBy).pop();
const asList = <T>(v: T | T[] | undefined): T[] | undefined => (v === undefined ? undefined : Array.isArray(v) ? v : [v]);

/** A random serial of `bytes` bytes, positive as DER reads it (the top bit clear, the first byte not zero). */
function randomSerial(bytes: number): Buffer {
  const b = randomBytes(bytes);
  b[0] = (b[0] & 0x7f) | 0x01; // positive, no leading zero byte: exactly `bytes` bytes, >= 8*bytes-2 random bits
  return b;
}

export function matches(r: CertRecord, f: RecordFilter, now: number): boolean {
  const st = asList(f.status);
  const kd = asList(f.kind);
  if (st && !st.includes(r.status)) return false;
  if (kd && !kd.includes(r.kind)) return false;
  if (f.name !== undefined && r.name !== f.name) return false;
  if (f.expiringDays !== undefined && !(r.status === "valid" && new Date(r.notAfter).getTime() - now <= f.expiringDays * 86_400_000)) return false;
  return true;
}

class FileTransaction implements StoreTransaction {
  /** Updated or new records (by serial), in the order first touched. */
  readonly records = new Map<string, CertRecord>();
  readonly events: AuditEvent[] = [];
  private readonly reserved = new Set<string>();

  constructor(private readonly fs: FileStore) {}

  private head: InventoryHeader | null = null;
  private headChanged = false;

  private async header_(): Promise<InventoryHeader> {
    return (this.head ??= this.fs.readHeader());
  }

  async header(): Promise<InventoryHeader> {
    return structuredClone(await this.header_());
  }
  async history(name: string): Promise<CertRecord[]> {
    const f = new Folder();
    f.add(this.fs.recordsOf(name));
    f.add([...this.records.values()].filter((r) => r.name === name));
    return f.records.map((r) => structuredClone(r));
  }
  async findByName(name: string): Promise<CertRecord | undefined> {
    return current(await this.history(name));
  }
  async findBySerial(serial: string): Promise<CertRecord | undefined> {
    const s = serial.toLowerCase();
    const r = this.records.get(s) ?? [...this.records.values()].find((x) => x.serial.toLowerCase() === s) ?? this.fs.recordOfSerial(s);
    return r && structuredClone(r);
  }
  async reserveSerial(bytes = 16): Promise<Buffer> {
    if (!Number.isInteger(bytes) || bytes < 8 || bytes > 20) throw inputError(`a serial has 8 to 20 bytes, not ${bytes}`);
    for (;;) {
      const b = randomSerial(bytes);
      const hex = b.toString("hex");
      if (this.reserved.has(hex) || this.records.has(hex) || this.fs.serialTaken(hex)) continue;
      this.reserved.add(hex); // the lock is held until commit: nobody else can take it meanwhile
      return b;
    }
  }
  async put(records: CertRecord[]): Promise<void> {
    for (const r of records) this.records.set(r.serial, structuredClone(r));
  }
  private async must(serial: string): Promise<CertRecord> {
    const r = await this.findBySerial(serial);
    if (!r) throw inputError(`no certificate with serial ${serial} in the store`, this.fs.inventoryFile);
    return r;
  }
  async revoke(serial: string, at: Date, reason: string | null): Promise<CertRecord> {
    const r = await this.must(serial);
    if (r.status === "revoked") throw inputError(`serial ${r.serial} ("${r.name}") is already revoked`, this.fs.inventoryFile);
    r.status = "revoked";
    r.revokedAt = at.toISOString();
    r.revocationReason = reason;
    await this.put([r]);
    return structuredClone(r);
  }
  async supersede(oldSerial: string, newSerial: string): Promise<CertRecord> {
    const r = await this.must(oldSerial);
    if (r.status === "valid") r.status = "superseded";
    r.renewedBy = newSerial;
    await this.put([r]);
    return structuredClone(r);
  }
  async nextCrlNumber(): Promise<number> {
    const h = await this.header_();
    return (h.crl?.number ?? 0) + 1;
  }
  private crlPem: string | null = null;
  async setCrl(state: CrlState, pem?: string): Promise<void> {
    if (pem !== undefined) this.crlPem = pem;
    const h = await this.header_();
    if (h.crl && state.number <= h.crl.number) throw inputError(`CRL number ${state.number} is not above ${h.crl.number}`, this.fs.inventoryFile);
    h.crl = { ...state };
    this.headChanged = true;
  }
  async setUrls(urls: { ocsp?: string; crl?: string }): Promise<void> {
    const h = await this.header_();
    if (Object.keys(urls).length) h.urls = { ...urls };
    else delete h.urls;
    this.headChanged = true;
  }
  async putNkey(rec: NkeyRecord): Promise<void> {
    const h = await this.header_();
    h.nkeys = [...(h.nkeys ?? []).filter((k) => k.name !== rec.name), structuredClone(rec)];
    this.headChanged = true;
  }
  async audit(event: AuditEvent): Promise<void> {
    this.events.push({ ...event });
  }
  readonly artifactsOf = new Map<string, Artifacts>();
  async putArtifacts(serial: string, a: Artifacts): Promise<void> {
    await this.must(serial);
    this.artifactsOf.set(serial.toLowerCase(), { ...a });
  }

  // ---- tokens (issue 17): buffered like the records, written before them at commit
  private tokens_: TokenRecord[] | null = null;
  private tokensChanged = false;
  private tokenList(): TokenRecord[] {
    return (this.tokens_ ??= new TokenFile(this.fs.dir).read());
  }
  async putToken(rec: TokenRecord): Promise<void> {
    const l = this.tokenList();
    const i = l.findIndex((t) => t.id === rec.id);
    if (i >= 0) l[i] = structuredClone(rec);
    else l.push(structuredClone(rec));
    this.tokensChanged = true;
  }
  async findToken(nameOrId: string): Promise<TokenRecord | undefined> {
    const l = this.tokenList();
    const t = l.find((x) => x.id === nameOrId) ?? l.filter((x) => x.name === nameOrId).pop();
    return t && structuredClone(t);
  }
  async claimToken(id: string, serial: string, spkiSha256: string): Promise<TokenRecord> {
    const t = this.tokenList().find((x) => x.id === id);
    if (!t) throw inputError(`no token with id ${id}`, new TokenFile(this.fs.dir).file);
    t.claim = { serial, spkiSha256, at: new Date().toISOString() };
    this.tokensChanged = true;
    return structuredClone(t);
  }

  /** Commits: records alone as one segment; with a header change, through the journal (writeInventory). */
  commit(): void {
    // a claim before the certificate's record: a claim whose serial is not in the store counts as none (store/tokens.ts)
    if (this.tokensChanged) new TokenFile(this.fs.dir).write(this.tokens_!);
    // the bytes first (each file atomic), the inventory last: the commit point
    for (const [serial, a] of this.artifactsOf) {
      const r = this.records.get(serial) ?? [...this.records.values()].find((x) => x.serial.toLowerCase() === serial) ?? this.fs.recordOfSerial(serial)!;
      this.fs.write(r.certFile, a.certPem);
      if (a.chainPem && r.chainFile) this.fs.write(r.chainFile, a.chainPem);
      if (a.csrPem && r.csrFile) this.fs.write(r.csrFile, a.csrPem);
    }
    const recs = [...this.records.values()];
    if (this.headChanged) {
      // writeInventory writes what differs from what it read: the header and these records
      const inv: Inventory = { ...this.fs.readInventory() };
      const f = new Folder();
      f.add(inv.certificates);
      f.add(recs);
      // the header as this transaction left it (a field it removed, e.g. `ca set`'s last URL, stays removed)
      const { crl: _c, nkeys: _n, previousCas: _p, urls: _u, ...rest } = inv;
      this.fs.writeInventory({ ...rest, ...this.head!, version: 1, certificates: f.records });
    } else if (recs.length) this.fs.commitRecords(recs);
    if (this.crlPem !== null) this.fs.write(path.relative(this.fs.dir, this.fs.crlFile), this.crlPem); // after the inventory, as commitCrl
    this.fs.audit(this.events);
  }
}

const inProcess = new Map<string, Promise<void>>();

export class FileStoreApi implements Store {
  readonly location: string;
  constructor(readonly file: FileStore) {
    this.location = file.dir;
  }
  async caCertificate(): Promise<ParsedCertificate> {
    return this.file.caCertificate();
  }
  async presentedChain(): Promise<ParsedCertificate[]> {
    return this.file.presentedChain();
  }
  async trustAnchors(): Promise<ParsedCertificate[]> {
    return this.file.trustAnchors();
  }
  async header(): Promise<InventoryHeader> {
    return this.file.readHeaderCached();
  }
  async history(name: string): Promise<CertRecord[]> {
    return this.file.recordsOf(name);
  }
  async findByName(name: string): Promise<CertRecord | undefined> {
    return this.file.currentOf(name);
  }
  async findBySerial(serial: string): Promise<CertRecord | undefined> {
    return this.file.recordOfSerial(serial);
  }
  async list(filter: RecordFilter = {}): Promise<CertRecord[]> {
    const now = (filter.now ?? new Date()).getTime();
    let recs = this.file.readInventory().certificates;
    if (filter.currentOnly) recs = recs.filter((c) => c.status !== "superseded" && !c.renewedBy);
    return recs.filter((r) => matches(r, filter, now));
  }
  async nkeys(): Promise<NkeyRecord[]> {
    return this.file.readHeader().nkeys ?? [];
  }
  async previousCas(): Promise<PreviousCa[]> {
    return this.file.readHeader().previousCas ?? [];
  }
  async transaction<T>(fn: (tx: StoreTransaction) => Promise<T>): Promise<T> {
    // one at a time in this process too (the lock file's owner is the process: a second taker here would wait on itself)
    const prev = inProcess.get(this.file.dir) ?? Promise.resolve();
    let done!: () => void;
    const mine = new Promise<void>((r) => (done = r));
    inProcess.set(this.file.dir, mine);
    await prev;
    try {
      return await this.file.withLockAsync(async () => {
        const tx = new FileTransaction(this.file);
        const out = await fn(tx);
        tx.commit();
        return out;
      });
    } finally {
      if (inProcess.get(this.file.dir) === mine) inProcess.delete(this.file.dir);
      done();
    }
  }
  async auditEvents(): Promise<AuditEvent[]> {
    return this.file.auditEvents();
  }
  async artifacts(serial: string): Promise<Artifacts | undefined> {
    const r = this.file.recordOfSerial(serial);
    if (!r) return undefined;
    const read = (rel: string | null | undefined) => {
      if (!rel) return undefined;
      try {
        return fs.readFileSync(this.file.path(rel), "utf8");
      } catch {
        return undefined;
      }
    };
    const certPem = read(r.certFile);
    if (certPem === undefined) return undefined;
    const chainPem = read(r.chainFile);
    const csrPem = read(r.csrFile);
    return { certPem, ...(chainPem ? { chainPem } : {}), ...(csrPem ? { csrPem } : {}) };
  }
  async certificatePem(serial: string): Promise<string | undefined> {
    return (await this.artifacts(serial))?.certPem;
  }
  async close(): Promise<void> {}
  async tokens(): Promise<TokenRecord[]> {
    return new TokenFile(this.file.dir).read();
  }
  async tokensNamed(name: string): Promise<TokenRecord[]> {
    return (await this.tokens()).filter((t) => t.name === name);
  }
  async crlPem(): Promise<string | undefined> {
    try {
      return fs.readFileSync(this.file.crlFile, "utf8");
    } catch {
      return undefined;
    }
  }
  async previousCaPem(serial: string): Promise<string | undefined> {
    if (!(this.file.readHeader().previousCas ?? []).some((p) => p.serial.toLowerCase() === serial.toLowerCase())) return undefined;
    const f = this.file.path(this.file.previousCertRel(serial));
    try {
      return fs.readFileSync(f, "utf8");
    } catch {
      throw inputError("cannot read the previous CA certificate", f);
    }
  }
  leafKey(rec: CertRecord): { file: string } | { why: string } {
    return rec.keyFile ? { file: this.file.path(rec.keyFile) } : { why: "it was signed from a request or its key was written outside the store: the key stays where it was made" };
  }
  async caKey(): Promise<CaKeyRef> {
    const where = this.file.caKeyRef();
    if (where.kind === "pkcs11") return { pkcs11Uri: where.uri }; // private/ca.pkcs11: the key is in a token
    try {
      return { pem: fs.readFileSync(this.file.caKeyFile, "utf8") };
    } catch {
      throw inputError("cannot read the CA key", this.file.caKeyFile);
    }
  }
}

/** The Store interface over the file store in `dir` (which must exist: FileStore.open's checks). */
export function openFileStore(dir: string): Store {
  return new FileStoreApi(FileStore.open(dir));
}
