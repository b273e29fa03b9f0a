/**
 * The store (design.md): easy-rsa's layout plus an inventory.
 *
 *   <dir>/ca.crt  <dir>/private/ca.key  <dir>/issued/<name>.crt  <dir>/private/<name>.key
 *   <dir>/reqs/<name>.csr  <dir>/inventory.json  <dir>/renewed/<serial>.crt  <dir>/crl.pem
 *
 * The inventory is the commit point: a certificate exists when the inventory lists it. Files are
 * written atomically before the inventory names them, so a crash leaves the old state (perhaps with
 * an unlisted file that the next issue of that name replaces) or the new one.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { createPublicKey, KeyObject } from "node:crypto";
import { inputError } from "../errors";
import { fsyncDir, PendingFlush, storeError, writeFileAtomic } from "./atomic";
import { acquireLock } from "./lock";
import { flushPaths } from "./flusher";
import { crashPoint } from "./crashpoints";
import { ParsedCertificate, readCertificates } from "../pki/cert";
import { loadPrivateKey, isEncryptedKeyPem, checkKeyFileMode } from "../pki/keys";
import type { AuditEvent, CertRecord, Inventory, InventoryHeader } from "./types";
import { recoverInterruptedInit, recoverStagedCa, recoverStagedCrl, removeStaleTempFiles, removeUnlistedFiles, stagedCaFiles, stagedCrlName } from "./recovery";
import { Folder, Journal, RecordLog } from "./log";
import { StoreFiles } from "./files";
import { appendAuditLog, readAuditLog } from "./audit-log";

export type { CertKind, CertStatus, CertRecord, PreviousCa, CrlState, Inventory, InventoryHeader, NkeyRecord, RecordFilter, AuditEvent, StoreTransaction } from "./types";
export type { Store as StoreApi } from "./types";
export { recoverInterruptedInit, removeStaleTempFiles, stagedCrlName } from "./recovery";
export { caOf, checkName, DEFAULT_DIR, LAYOUT, NAME_RULE, resolveStoreDir } from "./layout";

/** A file's identity and version for change detection ("-" when it does not exist). */
function statKey(file: string): string {
  const st = fs.statSync(file, { bigint: true, throwIfNoEntry: false });
  return st ? `${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}` : "-";
}

/**
 * The file store: easy-rsa's layout, an inventory header (inventory.json) and a record log
 * (db/, src/store/log.ts). Synchronous: the CLI's and the core's calls; the Promise-based Store
 * interface (src/store/types.ts) over it is fileStoreApi() (src/store/file-api.ts).
 */
export class FileStore extends StoreFiles {
  readonly log: RecordLog;
  /** The records as this instance last read or wrote them (serial -> JSON), for writeInventory's difference. */
  private snapshot: Map<string, string> | null = null;
  private snapshotHeader: string | null = null;

  constructor(dir: string) {
    super(dir);
    this.log = new RecordLog(this.dir);
  }

  /** A new store's directories (ca init, ca import, a pending intermediate), in `dir` which exists. */
  static createLayout(dir: string): void {
    for (const sub of ["issued", "reqs", "renewed"]) fs.mkdirSync(path.join(dir, sub), { mode: 0o755 });
    fs.mkdirSync(path.join(dir, "nkeys"), { mode: 0o700 }); // NKey seeds are secrets, like private/
    fs.mkdirSync(path.join(dir, "private"), { mode: 0o700 });
  }

  static exists(dir: string): boolean {
    recoverInterruptedInit(path.resolve(dir));
    return fs.existsSync(path.join(dir, "ca.crt")) || fs.existsSync(path.join(dir, "inventory.json")) || FileStore.isPending(dir);
  }

  /**
   * A pending intermediate store (`ca init --intermediate --csr-out`): its key and request
   * (private/ca.key, reqs/ca.csr) and no inventory yet; `ca install` completes it, the inventory last.
   */
  static isPending(dir: string): boolean {
    return !fs.existsSync(path.join(dir, "inventory.json")) && fs.existsSync(path.join(dir, "reqs", "ca.csr")) && fs.existsSync(path.join(dir, "private", "ca.key"));
  }

  /** Opens an existing store; fails with exit 3 when there is none. */
  static open(dir: string): FileStore {
    const s = new FileStore(dir);
    recoverInterruptedInit(s.dir); // a killed ca init may have left the old store aside
    if (!fs.existsSync(s.dir)) throw inputError("no store here (run `mtlsctl ca init`, or pass --dir)", s.dir);
    if (!fs.statSync(s.dir).isDirectory()) throw inputError("not a directory", s.dir);
    if (FileStore.isPending(s.dir)) throw inputError("pending: the intermediate CA's request (reqs/ca.csr) awaits its certificate: run `mtlsctl ca install CERT --root ROOT`", s.dir);
    if (!fs.existsSync(s.caCertFile)) throw inputError("no CA certificate: not a store (run `mtlsctl ca init`)", s.caCertFile);
    if (!fs.existsSync(s.inventoryFile)) throw inputError("the inventory is missing", s.inventoryFile);
    if (stagedCaFiles(s, false).length) {
      try {
        s.withLock(() => undefined); // a killed ca rollover / retire: finish or discard it first
      } catch {
        /* read-only store: the command goes on with what is there */
      }
    }
    return s;
  }

  /** Runs `fn` holding the store's lock (waits up to 30 s for another process). */
  withLock<T>(fn: () => T): T {
    const release = this.lock();
    try {
      const out = fn();
      this.flushDirs();
      return out;
    } catch (e) {
      this.unflushedDirs.clear();
      this.sweepQuietly(); // a refused or failed writer may have published files before its commit point
      throw e;
    } finally {
      release();
    }
  }

  /** withLock for an asynchronous section (the Store interface's transaction). */
  async withLockAsync<T>(fn: () => Promise<T>): Promise<T> {
    const release = this.lock();
    try {
      const out = await fn();
      this.flushDirs();
      return out;
    } catch (e) {
      this.unflushedDirs.clear();
      this.sweepQuietly();
      throw e;
    } finally {
      release();
    }
  }

  /**
   * Takes the lock, then repairs what a killed writer left. Every locked command does the O(1)
   * part: the store's top directory (temporary files, a staged CRL or CA), the migration of an old
   * inventory, an unapplied journal. The full sweep (temporary and unlisted files in every
   * directory: it reads the whole inventory and lists issued/, private/, ...) runs only when the lock
   * was taken over from a dead owner, or after a locked section that failed: a writer that
   * finished released its lock with nothing left behind.
   */
  protected lock(): () => void {
    const release = acquireLock(this.lockFile);
    try {
      removeStaleTempFiles(this.dir, ["", "db"]);
      this.migrate();
      this.applyJournal();
      if (release.tookOver) this.sweep();
      recoverStagedCrl(this);
      this.recoverStagedCa(release.tookOver);
    } catch (e) {
      release();
      throw e;
    }
    return release;
  }

  /** The full sweep (see lock()). */
  sweep(): void {
    removeStaleTempFiles(this.dir);
    removeUnlistedFiles(this);
    this.recoverStagedCa(true);
  }

  protected sweepQuietly(): void {
    try {
      this.sweep();
    } catch {
      /* the next locked command after a take-over tries again */
    }
  }

  /** Publishes or discards staged CA files (recovery.ts stagedCaFiles); call it holding the lock. */
  recoverStagedCa(withPrivate = true): void {
    recoverStagedCa(this, withPrivate);
  }

  /** roots.pem as the inventory's CAs call for: the current CA, then the previous ones in overlap. */
  rootsText(inv: Pick<InventoryHeader, "previousCas">): string {
    const files = [this.caCertFile, ...(inv.previousCas ?? []).filter((p) => p.caStatus === "overlap").map((p) => this.path(p.certFile))];
    return files.map((f) => fs.readFileSync(f, "utf8").trim() + "\n").join("");
  }

  /**
   * Signs-and-commits a CRL: staged under its number, then the inventory (which records the number)
   * as the commit point, then published as crl.pem. See recoverStagedCrl.
   */
  commitCrl(inv: Inventory, number: number, pem: string): void {
    const staged = stagedCrlName(number);
    this.write(staged, pem);
    this.writeInventory(inv);
    crashPoint(`CRL committed, not yet published: ${staged}`);
    fs.renameSync(this.path(staged), this.path("crl.pem"));
    fsyncDir(this.dir);
  }

  /** inventory.json as it is: version 1 (every record in it: a store not yet migrated) or 2 (the header). */
  private readRaw(): RawInventory {
    let text: string;
    try {
      text = fs.readFileSync(this.inventoryFile, "utf8");
    } catch {
      throw inputError("the inventory cannot be read", this.inventoryFile);
    }
    let inv: any;
    try {
      inv = JSON.parse(text);
    } catch {
      throw inputError("the inventory is corrupted (not valid JSON)", this.inventoryFile);
    }
    const ok =
      inv &&
      typeof inv === "object" &&
      inv.ca &&
      (inv.nkeys === undefined || Array.isArray(inv.nkeys)) &&
      ((inv.version === 1 && Array.isArray(inv.certificates)) || (inv.version === 2 && inv.certificates === undefined));
    if (!ok) throw inputError("the inventory is corrupted (unexpected structure)", this.inventoryFile);
    return inv;
  }

  private journal(): Journal | null {
    try {
      return this.log.readJournal();
    } catch {
      throw inputError("the inventory's journal is corrupted (not valid JSON)", this.log.journalFile);
    }
  }

  /** The header (CA, CRL state, NKeys, previous CAs) without reading any certificate record. */
  private headerCache: { key: string; header: InventoryHeader } | null = null;

  /**
   * readHeader(), read again only when inventory.json or the journal changed (inode, size, change and
   * modification times: every write of either is a rename of a new file): what a running service asks
   * on every OCSP request, to see a revocation by another process in its very next answer.
   */
  readHeaderCached(): InventoryHeader {
    const key = statKey(this.inventoryFile) + "|" + statKey(this.log.journalFile);
    if (this.headerCache?.key === key) return structuredClone(this.headerCache.header);
    const header = this.readHeader();
    this.headerCache = { key, header: structuredClone(header) };
    return header;
  }

  readHeader(): InventoryHeader {
    const raw = this.readRaw();
    const j = raw.version === 2 ? this.journal() : null;
    const { certificates: _c, ...h } = (j ? j.header : raw) as RawInventory;
    return { ...h, version: 1 };
  }

  /** The whole inventory (every record: O(n); for list, status, config nats, crl, rollover). */
  readInventory(): Inventory {
    const raw = this.readRaw();
    let inv: Inventory;
    if (raw.version === 1) inv = raw as Inventory;
    else {
      const j = this.journal();
      const f = new Folder();
      f.add(this.log.readAll());
      if (j) f.add(j.records);
      const { version: _v, ...h } = j ? j.header : raw;
      inv = { version: 1, ca: h.ca, certificates: f.records, ...withoutCa(h) };
    }
    this.snapshot = new Map(inv.certificates.map((r) => [r.serial, JSON.stringify(r)]));
    this.snapshotHeader = headerText(inv);
    return inv;
  }

  /**
   * Writes what changed since this instance read the inventory: changed records as one segment (the
   * commit point), a changed header alone by replacing inventory.json, both through the journal.
   * See src/store/log.ts. Call it holding the lock.
   */
  writeInventory(inv: Inventory): void {
    this.flushDirs(); // keepAside's entries before this commit
    const changed = this.snapshot ? inv.certificates.filter((r) => this.snapshot!.get(r.serial) !== JSON.stringify(r)) : inv.certificates;
    const head = headerText(inv);
    const headChanged = head !== this.snapshotHeader || !fs.existsSync(this.inventoryFile);
    crashPoint(`before the inventory write: ${this.inventoryFile}`);
    if (headChanged && changed.length) {
      const j: Journal = { header: JSON.parse(head), records: changed };
      this.log.writeJournal(j);
      this.applyJournal(j);
    } else if (headChanged) this.writeHeader(head);
    else if (changed.length) this.log.append(changed);
    crashPoint(`after the inventory write: ${this.inventoryFile}`);
    this.snapshot ??= new Map();
    for (const r of changed) this.snapshot.set(r.serial, JSON.stringify(r));
    this.snapshotHeader = head;
  }

  private writeHeader(text: string): void {
    writeFileAtomic(this.inventoryFile, text, { mode: 0o644 });
  }

  /** Applies an unapplied journal (holding the lock): its records as a segment, then the header; then removes it. */
  private applyJournal(j: Journal | null = this.raw2() ? this.journal() : null): void {
    if (!j) return;
    if (j.records.length) this.log.append(j.records);
    this.writeHeader(JSON.stringify(j.header, null, 2) + "\n");
    crashPoint(`journal applied, not yet removed: ${this.log.journalFile}`);
    this.log.removeJournal();
  }

  private raw2(): boolean {
    try {
      return this.readRaw().version === 2;
    } catch {
      return false;
    }
  }

  /**
   * An inventory of version 1 (every record in inventory.json) becomes a header and a record log:
   * db/ written first (what an interrupted migration left is removed), the header last (the commit
   * point). Holding the lock.
   */
  private migrate(): void {
    let raw;
    try {
      raw = this.readRaw();
    } catch {
      return; // the command reports it
    }
    if (raw.version !== 1) return;
    fs.rmSync(this.log.db, { recursive: true, force: true });
    this.log.reset();
    crashPoint(`migration: before the record log: ${this.log.db}`);
    this.log.append(raw.certificates!);
    const { certificates, ...h } = raw;
    this.writeHeader(headerText({ ...h, certificates: certificates! } as Inventory));
    crashPoint(`migration: header written (the commit point): ${this.inventoryFile}`);
  }

  /**
   * The records (the newest of each serial, in inventory order) that `pred` accepts, reading one
   * segment at a time and keeping only those: O(n) in time, O(matches) in memory (serve's choice of
   * its server certificate in a store of 100,000 client certificates). `pred` must hold for every
   * record of a serial or for none (e.g. the kind). `hint`: text that every accepted record's JSON
   * holds (e.g. '"server"'): segments without it are not parsed.
   */
  recordsWhere(pred: (r: CertRecord) => boolean, hint?: string): CertRecord[] {
    const raw = this.readRaw();
    if (raw.version === 1) return raw.certificates!.filter(pred);
    const found = new Map<string, CertRecord>();
    const add = (list: CertRecord[]) => {
      for (const r of list) if (pred(r)) found.set(r.serial, r);
    };
    for (const seg of this.log.scan(hint)) add(seg);
    const j = this.journal();
    if (j) add(j.records);
    return [...found.values()];
  }

  /** Every record of a name, oldest first: its index bucket and the segments it names (O(1) in the inventory's size). */
  recordsOf(name: string): CertRecord[] {
    const raw = this.readRaw();
    if (raw.version === 1) return raw.certificates!.filter((c) => c.name === name);
    const recs = this.log.recordsOfName(name);
    const j = this.journal();
    if (!j) return recs;
    const f = new Folder();
    f.add(recs);
    f.add(j.records.filter((r) => r.name === name));
    return f.records;
  }

  /** The name's current certificate (see findByName), from its own records only. */
  currentOf(name: string): CertRecord | undefined {
    return this.recordsOf(name).filter((c) => c.status !== "superseded" && !c.renewedBy).pop();
  }

  /** The newest record of a serial. */
  recordOfSerial(serial: string): CertRecord | undefined {
    const s = serial.toLowerCase();
    const raw = this.readRaw();
    if (raw.version === 1) return raw.certificates!.filter((c) => c.serial.toLowerCase() === s).pop();
    return this.journal()?.records.filter((r) => r.serial.toLowerCase() === s).pop() ?? this.log.recordOfSerial(s);
  }

  /** Whether a serial is taken in this store: the CA's, a previous CA's, or any record's (its index). */
  serialTaken(hex: string): boolean {
    const s = hex.toLowerCase();
    const raw = this.readRaw();
    if (raw.ca.serial.toLowerCase() === s || (raw.previousCas ?? []).some((p) => p.serial.toLowerCase() === s)) return true;
    if (raw.version === 1) return raw.certificates!.some((c) => c.serial.toLowerCase() === s);
    return this.log.serialIndexed(s) || !!this.journal()?.records.some((r) => r.serial.toLowerCase() === s);
  }

  /**
   * Inserts records, or replaces the ones of the same serial: one segment, the commit point (O(1) in
   * the inventory's size). Holding the lock (which migrated an old inventory first).
   */
  commitRecords(records: CertRecord[]): void {
    crashPoint(`before the inventory write: ${this.inventoryFile}`);
    this.log.append(records, undefined, this.takeDirs());
    crashPoint(`after the inventory write: ${this.inventoryFile}`);
    if (this.snapshot) for (const r of records) this.snapshot.set(r.serial, JSON.stringify(r));
  }

  /** commitRecords for an asynchronous writer (log.appendDurable: the flushes on the thread pool). Holding the lock. */
  async commitRecordsAsync(records: CertRecord[]): Promise<void> {
    crashPoint(`before the inventory write: ${this.inventoryFile}`);
    await this.log.appendDurable(records, this.takeDirs());
    crashPoint(`after the inventory write: ${this.inventoryFile}`);
    if (this.snapshot) for (const r of records) this.snapshot.set(r.serial, JSON.stringify(r));
  }

  /** Appends audit events to audit.log (JSON Lines, flushed). No secret ever goes in. */
  audit(events: AuditEvent[]): void {
    appendAuditLog(this.auditFile, events);
  }

  auditEvents(): AuditEvent[] {
    return readAuditLog(this.auditFile);
  }

  caCertificate(): ParsedCertificate {
    let data: Buffer;
    try {
      data = fs.readFileSync(this.caCertFile);
    } catch {
      throw inputError("cannot read the CA certificate", this.caCertFile);
    }
    const certs = readCertificates(data, this.caCertFile);
    if (certs.length !== 1) throw inputError(`expected one certificate, found ${certs.length}`, this.caCertFile);
    return certs[0];
  }

  caKeyEncrypted(): boolean {
    if (this.caKeyRef().kind === "pkcs11") return false;
    try {
      return isEncryptedKeyPem(fs.readFileSync(this.caKeyFile, "utf8"));
    } catch {
      throw inputError("cannot read the CA key", this.caKeyFile);
    }
  }

  /** Loads the CA key and checks that it belongs to the CA certificate. */
  caKey(passphrase: string | undefined, caCert: ParsedCertificate): KeyObject {
    if (this.caKeyRef().kind === "pkcs11") throw inputError("the CA key is in a PKCS#11 token, not in a file: this command needs a CA key file", this.caPkcs11File);
    checkKeyFileMode(this.caKeyFile);
    let pem: string;
    try {
      pem = fs.readFileSync(this.caKeyFile, "utf8");
    } catch {
      throw inputError("cannot read the CA key", this.caKeyFile);
    }
    const key = loadPrivateKey(pem, this.caKeyFile, isEncryptedKeyPem(pem) ? passphrase : undefined);
    // The key must match the certificate's public key.
    const spki = createPublicKey(key).export({ type: "spki", format: "der" });
    if (!spki.equals(caCert.spki)) throw inputError("the CA key does not match the CA certificate", this.caKeyFile);
    return key;
  }

  /**
   * Keeps a file that is about to be replaced under another name (a renewal's old certificate, request
   * and key go to renewed/<serial>.*): a hard link to the same inode, so nothing is copied or flushed
   * again (its data was made durable when it was written); only the new directory entry is, by one
   * fsync of each target directory, made with the next commit (commitRecords: together with its
   * segment's flush, before its commit point; writeInventory: first), else at the lock's release. A target left by an interrupted earlier attempt is replaced; where
   * the file system refuses hard links the file is copied (atomically, flushed) instead.
   */
  keepAside(pairs: Array<{ from: string; to: string; mode: number }>): void {
    const dirs = new Set<string>();
    for (const { from, to, mode } of pairs) {
      const src = this.path(from);
      const dst = this.path(to);
      fs.mkdirSync(path.dirname(dst), { recursive: true, mode: 0o755 });
      try {
        try {
          fs.linkSync(src, dst);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
          fs.unlinkSync(dst);
          fs.linkSync(src, dst);
        }
        dirs.add(path.dirname(dst));
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code !== "EPERM" && code !== "EXDEV" && code !== "ENOTSUP" && code !== "EMLINK") throw storeError(e, dst);
        writeFileAtomic(dst, fs.readFileSync(src), { mode });
      }
    }
    for (const d of dirs) this.unflushedDirs.add(d); // flushed with the next commit's segment, before its commit point
  }

  /** Directories whose new entries (keepAside's links) the next commit flushes with its segment (or the lock's release). */
  private readonly unflushedDirs = new Set<string>();

  protected takeDirs(): string[] {
    const d = [...this.unflushedDirs];
    this.unflushedDirs.clear();
    return d;
  }

  private flushDirs(): void {
    if (this.unflushedDirs.size) flushPaths([], this.takeDirs());
  }

  /** Writes a store file atomically; with `defer`, its flush is left to the caller's group commit (PendingFlush). */
  write(rel: string, data: string | Buffer, mode = 0o644, defer?: PendingFlush): void {
    const file = this.path(rel);
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: rel.startsWith("private") ? 0o700 : 0o755 });
    writeFileAtomic(file, data, { mode, defer });
  }

  /**
   * The name's current certificate: the newest record of that name that nothing replaced (it may be
   * revoked). Superseded records, and revoked ones that a later issue --force replaced, are history.
   */
  findByName(inv: Inventory, name: string): CertRecord | undefined {
    return inv.certificates.filter((c) => c.name === name && c.status !== "superseded" && !c.renewedBy).pop();
  }
}

type RawInventory = Omit<InventoryHeader, "version"> & { version: 1 | 2; certificates?: CertRecord[] };

/** Callers name the file store Store (the type and the class). */
export { FileStore as Store };

/** A header's text as inventory.json holds it (version 2: no records). */
function headerText(inv: Inventory | InventoryHeader): string {
  const { version: _v, certificates: _c, ...h } = inv as Inventory;
  return JSON.stringify({ version: 2, ...h }, null, 2) + "\n";
}

function withoutCa<T extends { ca: unknown }>(h: T): Omit<T, "ca"> {
  const { ca: _ca, ...rest } = h;
  return rest;
}
