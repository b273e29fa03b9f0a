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
import { inputError, MtlsError } from "../errors";
import { fsyncDir, writeFileAtomic } from "./atomic";
import { acquireLock, pidAlive } from "./lock";
import { crashPoint } from "./crashpoints";
import { ParsedCertificate, readCertificates } from "../pki/cert";
import { loadPrivateKey, isEncryptedKeyPem, checkKeyFileMode } from "../pki/keys";
import type { AuditEvent, CertRecord, Inventory, InventoryHeader } from "./types";
import { Folder, Journal, RecordLog } from "./log";

export type { CertKind, CertStatus, CertRecord, PreviousCa, CrlState, Inventory, InventoryHeader, NkeyRecord, RecordFilter, AuditEvent, StoreTransaction } from "./types";
export type { Store as StoreApi } from "./types";

/** The CA that signed a record, and whether the store still trusts it. */
export function caOf(inv: Pick<InventoryHeader, "ca" | "previousCas">, rec: CertRecord): { serial: string; status: "current" | "overlap" | "retired" } {
  // a store's own CA (and previous ones) is itself; a sub-CA it signed (profile "sub-ca", issue 10) is like a leaf
  const serial = rec.kind === "ca" && rec.profile !== "sub-ca" ? rec.serial : rec.caSerial ?? inv.ca.serial;
  if (serial === inv.ca.serial) return { serial, status: "current" };
  return { serial, status: inv.previousCas?.find((p) => p.serial === serial)?.caStatus ?? "retired" };
}

/** The store's layout of a leaf's files, relative to the store (design.md): the one place it is written. */
export const LAYOUT = {
  caCertRel: "ca.crt",
  caKeyRel: "private/ca.key",
  caCsrRel: "reqs/ca.csr",
  certRel: (name: string) => `issued/${name}.crt`,
  keyRel: (name: string) => `private/${name}.key`,
  csrRel: (name: string) => `reqs/${name}.csr`,
  fullchainRel: (name: string) => `issued/${name}.fullchain.pem`,
  renewedRel: (serial: string, ext: string) => `renewed/${serial}.${ext}`,
  nkeySeedRel: (name: string) => `nkeys/${name}.nk`,
  /** Directories whose files are secrets (0600 files, 0700 directories). */
  secretDirs: ["private", "nkeys"],
};

/** The default store directory (src/cli/context.ts resolves --dir the same way). */
export const DEFAULT_DIR = "pki";

export const NAME_RULE = /^[A-Za-z0-9_@-][A-Za-z0-9._@-]*$/;

export function checkName(name: string): string {
  if (!NAME_RULE.test(name) || name.length > 128)
    throw inputError(`name "${name.replace(/[\u0000-\u001f\u007f]/g, "?")}" is not allowed (use letters, digits, ".", "_", "@", "-"; not starting with ".")`);
  return name;
}

export function resolveStoreDir(dir?: string): string {
  return path.resolve(dir ?? process.env.MTLSCTL_DIR ?? DEFAULT_DIR);
}

/**
 * The file store: easy-rsa's layout, an inventory header (inventory.json) and a record log
 * (db/, src/store/log.ts). Synchronous: the CLI's and the core's calls; the Promise-based Store
 * interface (src/store/types.ts) over it is fileStoreApi() (src/store/file-api.ts).
 */
export class FileStore {
  readonly dir: string;
  readonly log: RecordLog;
  /** The records as this instance last read or wrote them (serial -> JSON), for writeInventory's difference. */
  private snapshot: Map<string, string> | null = null;
  private snapshotHeader: string | null = null;

  constructor(dir: string) {
    this.dir = path.resolve(dir);
    this.log = new RecordLog(this.dir);
  }

  path(...rel: string[]): string {
    return path.join(this.dir, ...rel);
  }

  get inventoryFile(): string {
    return this.path("inventory.json");
  }
  get caCertFile(): string {
    return this.path("ca.crt");
  }
  get caKeyFile(): string {
    return this.path("private", "ca.key");
  }

  /**
   * CA hierarchy and rollover (issue 10). Files beside ca.crt:
   *   chain.pem  intermediate stores only: ca.crt followed by every intermediate above it, not the
   *              root: what a leaf presents after itself (cert_file = leaf + chain.pem).
   *   roots.pem  the trust anchors that ca_file names: the root of an intermediate store, or, in a
   *              root store during a rollover, the new root and the previous one(s). Absent: ca.crt.
   */
  get chainFile(): string {
    return this.path("chain.pem");
  }
  get rootsFile(): string {
    return this.path("roots.pem");
  }
  /** The file a server's ca_file (or a client's CA option) names: roots.pem when present, else ca.crt. */
  get trustFile(): string {
    return fs.existsSync(this.rootsFile) ? this.rootsFile : this.caCertFile;
  }
  /** The CA certificates a leaf of this store presents after itself (empty for a root store). */
  presentedChain(): ParsedCertificate[] {
    if (!fs.existsSync(this.chainFile)) return [];
    return readCertificates(fs.readFileSync(this.chainFile), this.chainFile);
  }
  /** The trust anchors (roots.pem, else ca.crt). */
  trustAnchors(): ParsedCertificate[] {
    const f = this.trustFile;
    return readCertificates(fs.readFileSync(f), f);
  }

  get auditFile(): string {
    return this.path("audit.log");
  }

  /** Relative paths of a name's files (the store's layout; callers never build them by hand). */
  certRel(name: string): string {
    return LAYOUT.certRel(name);
  }
  keyRel(name: string): string {
    return LAYOUT.keyRel(name);
  }
  csrRel(name: string): string {
    return LAYOUT.csrRel(name);
  }
  /** An intermediate store's leaf followed by chain.pem (issue 10). */
  fullchainRel(name: string): string {
    return LAYOUT.fullchainRel(name);
  }
  /** Where renew / --force keeps a replaced certificate's files (ext: crt, csr, key). */
  renewedRel(serial: string, ext: string): string {
    return LAYOUT.renewedRel(serial, ext);
  }
  /** A CA replaced by `ca rollover`: its certificate and key. */
  previousCertRel(serial: string): string {
    return `previous/${serial}.crt`;
  }
  previousKeyRel(serial: string): string {
    return `private/previous-${serial}.key`;
  }
  /** `ca rollover` stages the new CA key here before its commit (see recoverStagedCa). */
  stagedCaKeyRel(serial: string): string {
    return `private/.ca-${serial}.key`;
  }
  /** The directories leaf certificates and keys go to (created by bulk issuance up front). */
  get leafDirs(): { issued: string; private: string } {
    return { issued: this.path("issued"), private: this.path("private") };
  }
  get lockFile(): string {
    return this.path(".lock");
  }
  get crlFile(): string {
    return this.path("crl.pem");
  }
  /** A pending intermediate's request (`ca init --intermediate --csr-out`). */
  get caCsrFile(): string {
    return this.path("reqs", "ca.csr");
  }
  /** The files a backup must hold for it to be a store. */
  static readonly REQUIRED_FILES = ["ca.crt", "inventory.json"];

  certPath(name: string): string {
    return this.path(this.certRel(name));
  }
  keyPath(name: string): string {
    return this.path(this.keyRel(name));
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
    if (s.stagedCaFiles(false).length) {
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
      return fn();
    } catch (e) {
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
      return await fn();
    } catch (e) {
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
  private lock(): () => void {
    const release = acquireLock(this.lockFile);
    try {
      removeStaleTempFiles(this.dir, ["", "db"]);
      this.migrate();
      this.applyJournal();
      if (release.tookOver) this.sweep();
      this.recoverStagedCrl();
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
    this.removeUnlistedFiles();
    this.recoverStagedCa(true);
  }

  private sweepQuietly(): void {
    try {
      this.sweep();
    } catch {
      /* the next locked command after a take-over tries again */
    }
  }

  /**
   * A CRL is signed to `.crl-<number>.pem` before the inventory records that number (the commit
   * point), then renamed to crl.pem. A writer killed in between leaves the staged file: publish it
   * when the inventory recorded its number (the new state), delete it otherwise (the old state).
   * No CA key is needed, so this runs on every locked command.
   */
  private recoverStagedCrl(): void {
    let names: string[];
    try {
      names = fs.readdirSync(this.dir).filter((n) => STAGED_CRL.test(n));
    } catch {
      return;
    }
    if (!names.length) return;
    let recorded: number | undefined;
    try {
      recorded = this.readHeader().crl?.number;
    } catch {
      return; // the command itself reports a broken inventory
    }
    for (const n of names) {
      const f = this.path(n);
      try {
        if (Number(STAGED_CRL.exec(n)![1]) === recorded) {
          fs.renameSync(f, this.path("crl.pem"));
          fsyncDir(this.dir);
        } else fs.unlinkSync(f);
      } catch {
        /* another try on the next command */
      }
    }
  }

  /**
   * `ca rollover` stages the new CA as `.ca-<serial>.crt` and `private/.ca-<serial>.key`, and both
   * rollover and `ca retire` stage the new trust file as `.roots-<sha256/16>.pem`, before the
   * inventory (the commit point) names the new state. A writer killed in between leaves them:
   * publish each one that the inventory's state calls for, delete the others (the old state).
   */
  stagedCaFiles(withPrivate = true): string[] {
    const ls = (sub: string) => {
      try {
        return fs.readdirSync(this.path(sub)).filter((n) => STAGED_CA.test(n)).map((n) => path.join(sub, n));
      } catch {
        return [];
      }
    };
    // private/ holds every leaf key: listed only by the full sweep (the CA key is staged with its .crt in the top directory)
    return [...ls(""), ...(withPrivate ? ls("private") : [])];
  }

  /** Publishes or discards staged CA files (see stagedCaFiles); call it holding the lock. */
  recoverStagedCa(withPrivate = true): void {
    const staged = this.stagedCaFiles(withPrivate);
    if (!staged.length) return;
    let inv: InventoryHeader;
    try {
      inv = this.readHeader();
    } catch {
      return;
    }
    // the CA first (the trust file is derived from it), then the trust file
    for (const rel of staged.sort((a, b) => Number(a.includes(".roots-")) - Number(b.includes(".roots-")))) {
      const m = STAGED_CA.exec(path.basename(rel))!;
      const f = this.path(rel);
      try {
        let to: string | null = null;
        if (m[1] === "ca" && m[2] === inv.ca.serial) to = m[3] === "key" ? this.caKeyFile : this.caCertFile;
        if (m[1] === "roots" && fs.readFileSync(f, "utf8") === this.rootsText(inv)) to = this.rootsFile;
        if (to) {
          fs.renameSync(f, to);
          fsyncDir(path.dirname(to));
        } else fs.unlinkSync(f);
      } catch {
        /* another try on the next command */
      }
    }
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

  /**
   * Files that a killed writer published before its commit point (the inventory) and that the
   * inventory therefore does not list: issued/<name>.crt, reqs/<name>.csr, private/<name>.key and
   * renewed/<serial>.{crt,csr,key}. Called holding the lock, when no writer is between its renames and its
   * inventory write; nothing else in the store is touched (ca.crt, the CA key, crl.pem, nkeys/).
   */
  private removeUnlistedFiles(): void {
    let inv: Inventory;
    try {
      inv = this.readInventory();
    } catch {
      return; // the command itself reports it
    }
    const listed = new Set<string>();
    for (const r of [inv.ca, ...inv.certificates, ...(inv.previousCas ?? [])]) for (const f of [r.certFile, r.keyFile, r.csrFile, r.chainFile]) if (f) listed.add(path.normalize(f));
    const kinds: [string, RegExp][] = [
      ["issued", /^[A-Za-z0-9_@-][A-Za-z0-9._@-]*\.crt$/],
      ["issued", /^[A-Za-z0-9_@-][A-Za-z0-9._@-]*\.fullchain\.pem$/], // an intermediate store's leaf + chain.pem
      ["reqs", /^[A-Za-z0-9_@-][A-Za-z0-9._@-]*\.csr$/],
      ["private", /^[A-Za-z0-9_@-][A-Za-z0-9._@-]*\.key$/],
      ["renewed", /^[0-9a-f]+\.(crt|csr|key)$/],
      ["previous", /^[0-9a-f]+\.crt$/],
    ];
    for (const [sub, re] of kinds) {
      let names: string[];
      try {
        names = fs.readdirSync(this.path(sub));
      } catch {
        continue;
      }
      for (const n of names) {
        const rel = path.join(sub, n);
        if (!re.test(n) || listed.has(rel) || rel === path.join("private", "ca.key")) continue;
        try {
          fs.unlinkSync(this.path(rel));
        } catch {
          /* not ours to remove */
        }
      }
    }
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
    this.log.append(records);
    crashPoint(`after the inventory write: ${this.inventoryFile}`);
    if (this.snapshot) for (const r of records) this.snapshot.set(r.serial, JSON.stringify(r));
  }

  /** Appends audit events to audit.log (JSON Lines, flushed). No secret ever goes in. */
  audit(events: AuditEvent[]): void {
    if (!events.length) return;
    const at = new Date().toISOString();
    const text = events.map((e) => JSON.stringify({ at: e.at ?? at, ...e })).join("\n") + "\n";
    const fd = fs.openSync(this.auditFile, "a", 0o644);
    try {
      fs.writeSync(fd, text);
      fs.fdatasyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  }

  auditEvents(): AuditEvent[] {
    let text: string;
    try {
      text = fs.readFileSync(this.auditFile, "utf8");
    } catch {
      return [];
    }
    const out: AuditEvent[] = [];
    for (const line of text.split("\n")) {
      if (!line) continue;
      try {
        out.push(JSON.parse(line));
      } catch {
        /* a line cut short by a crash */
      }
    }
    return out;
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
    try {
      return isEncryptedKeyPem(fs.readFileSync(this.caKeyFile, "utf8"));
    } catch {
      throw inputError("cannot read the CA key", this.caKeyFile);
    }
  }

  /** Loads the CA key and checks that it belongs to the CA certificate. */
  caKey(passphrase: string | undefined, caCert: ParsedCertificate): KeyObject {
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

  /** Writes a file inside the store atomically (creating its directory). */
  write(rel: string, data: string | Buffer, mode = 0o644): void {
    const file = this.path(rel);
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: rel.startsWith("private") ? 0o700 : 0o755 });
    writeFileAtomic(file, data, { mode });
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

export function isMtlsError(e: unknown): e is MtlsError {
  return e instanceof MtlsError;
}

// ---------------------------------------------------------------- leftovers of killed processes

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/**
 * Undoes what a killed `ca init` / `ca import` left beside the store (createStore in src/ca.ts):
 * its staging directory `.<dir>.init-<pid>-<hex>` is removed, and a store it had moved aside to
 * `.<dir>.replaced-<pid>-<hex>` is put back when no new store took its place (else removed).
 * Only leftovers of processes that no longer run are touched. Errors are ignored (read-only parent).
 */
export function recoverInterruptedInit(dir: string): void {
  const parent = path.dirname(dir);
  const re = new RegExp(`^\\.${escapeRe(path.basename(dir))}\\.(init|replaced)-(\\d+)-[0-9a-f]+$`);
  let names: string[];
  try {
    names = fs.readdirSync(parent);
  } catch {
    return;
  }
  const dead = names.map((n) => ({ n, m: re.exec(n) })).filter((x) => x.m && !pidAlive(Number(x.m[2])));
  if (!dead.length) return;
  try {
    if (!fs.existsSync(dir)) {
      const old = dead.find((x) => x.m![1] === "replaced");
      if (old) fs.renameSync(path.join(parent, old.n), dir);
    }
    for (const x of dead) {
      const p = path.join(parent, x.n);
      if (fs.existsSync(p)) fs.rmSync(p, { recursive: true, force: true });
    }
  } catch {
    /* left for the next run */
  }
}

const STALE_TEMP = /^\..+\.(?:tmp-(\d+)-[0-9a-f]{8}|stale-(\d+))$/;

/**
 * Removes the temporary files of killed writers (`.<name>.tmp-<pid>-<hex>` from writeFileAtomic,
 * `.lock.stale-<pid>` from a lock take-over) in the store's directories. Called holding the lock;
 * files of processes that still run are left alone.
 */
/** A CRL staged before its commit (see Store.commitCrl). */
const STAGED_CRL = /^\.crl-(\d+)\.pem$/;
export const stagedCrlName = (n: number): string => `.crl-${n}.pem`;
/** A CA or trust file staged by `ca rollover` / `ca retire` (see Store.recoverStagedCa). */
const STAGED_CA = /^\.(ca|roots)-([0-9a-f]+)\.(crt|key|pem)$/;


export function removeStaleTempFiles(dir: string, subs = ["", "issued", "reqs", "private", "renewed", "nkeys", "previous", "db", "db/log", "db/idx"]): void {
  for (const sub of subs) {
    const d = path.join(dir, sub);
    let names: string[];
    try {
      names = fs.readdirSync(d);
    } catch {
      continue;
    }
    for (const n of names) {
      const m = STALE_TEMP.exec(n);
      if (!m || pidAlive(Number(m[1] ?? m[2]))) continue;
      try {
        fs.unlinkSync(path.join(d, n));
      } catch {
        /* gone, or not ours to remove */
      }
    }
  }
}
