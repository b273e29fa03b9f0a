/**
 * Bulk issuance (`client issue --from F`): many client certificates in one process, in batches.
 *
 * Durability and crash semantics (design.md: "a bulk operation may group its flushes"):
 *   For each batch (up to `batchSize` certificates, 1,000 by default):
 *   1. each file (private/<name>.key, issued/<name>.crt) is written beside its final name
 *      (`.<file>.tmp-<pid>-<random>`) without a flush; its fsync is queued at once on libuv's
 *      thread pool, so that the disk flushes run while the next certificates are being made;
 *   2. when every file of the batch is flushed, all are renamed into place, and issued/ and
 *      private/ are flushed (fsync on the directories) once;
 *   3. the inventory is written once (atomically: beside, fsync, rename, directory fsync): this is
 *      the commit point. A certificate exists when the inventory lists it.
 *   A crash before step 3 publishes nothing of the batch: the inventory still lists none of its
 *   names, so `list`, `config nats`, `status`... do not see them, and the next command that takes
 *   the store lock removes what a killed run left: its temporary files and the files that step 2
 *   had renamed into place but the inventory does not list (Store.withLock); a re-run issues those
 *   names again. A failure that is not a crash (a full disk, say) removes the batch's files before
 *   the error is reported.
 *   Batches commit in order; the batches before the crash stay committed.
 *
 * The store lock is held for slices of at most `sliceMs` (5 s): at the end of a slice every batch
 * in flight is committed, the lock is released for a moment (so that another mtlsctl waiting for it,
 * which polls every 100 ms at most, gets in), then taken again and the inventory read again. So other
 * commands wait seconds, not the whole run, and serials and names are checked against the latest
 * inventory.
 *
 * Memory: rows are read as a stream and each batch's data is dropped once committed; what grows
 * with the store is the inventory itself (about 1 KB per certificate), which is rewritten per batch.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as crypto from "node:crypto";
import { spawn } from "node:child_process";
import { DEFAULT_LEAF_DAYS } from "../ca";
import { inputError, MtlsError } from "../errors";
import type { ParsedCertificate } from "../pki/cert";
import { crashPoint } from "../store/crashpoints";
import { acquireLock } from "../store/lock";
import { CertRecord, Store } from "../store/store";
import { fsyncFile, fsyncPath, storeError, UMASK, writeFlushed } from "./files";
import { InventoryAppender } from "./inventory";
import { FileJob, FileJobError, FileWriter } from "./writer";
import type { RawRow } from "./input";
import { ClientCertEncoder, KeyMaker, pem } from "./leaf";
import { BulkRequest, nameOf, requestOf, RowDefaults } from "./request";

const DAY = 86_400_000;

export type RowResult =
  | { status: "issued"; line: number; name: string; serial: string; certFile: string; keyFile: string }
  | { status: "skipped"; line: number; name: string; reason: string }
  | { status: "failed"; line: number; name: string | null; error: string };

export interface Progress {
  rows: number;
  issued: number;
  skipped: number;
  failed: number;
}

export interface BulkOptions {
  /** The input file, for messages (`<file>:<line>`). */
  file: string;
  defaults: RowDefaults;
  /** Certificates per batch (one inventory write each). Default 1000. */
  batchSize?: number;
  /**
   * How each batch's files are flushed: "syncfs" (default on Linux: one syncfs(2) per batch, through
   * `sync -f`; falls back to "fsync" where that fails) or "fsync" (each file on its own).
   */
  flush?: "syncfs" | "fsync";
  /** false: no writer thread (files are written by the calling thread). */
  thread?: boolean;
  /** How long the store lock is held at a stretch. Default 5000 ms. */
  sliceMs?: number;
  onRow?: (r: RowResult) => void;
  /** Called at most every 100 ms and after each batch. */
  onProgress?: (p: Progress) => void;
  /** Each distinct warning once. */
  onWarning?: (msg: string) => void;
  /** Set `stop` to true (e.g. on SIGINT) to stop reading rows; the batches in flight are committed. */
  control?: { stop: boolean };
}

export interface BulkSummary extends Progress {
  /** True when stopped by `control.stop` before the end of the input. */
  stopped: boolean;
}

interface TempFile {
  tmp: string;
  final: string;
  renamed: boolean;
}

interface Batch {
  now: number;
  issuedAt: string;
  times: Map<number, { validity: Buffer; notBefore: string; notAfter: string }>;
  records: CertRecord[];
  lines: number[];
  files: TempFile[];
  /** Writes or fsyncs not yet done. */
  pending: number;
  /** No more files will be added. */
  closed: boolean;
  /** The flush (syncfs) has started. */
  settling: boolean;
  flushed: Promise<void>;
  resolveFlushed: () => void;
  committed: boolean;
}

/** At most this many files open at once (each waits for its fsync). */
const MAX_OPEN = 512;
/** Files per message to the writer thread, and messages in flight at most. */
const CHUNK_FILES = 128;
const MAX_CHUNKS = 8;
/** Yield to the event loop (fsync completions, renames) every this many rows. */
const YIELD_EVERY = 32;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const tick = () => new Promise<void>((r) => setImmediate(r));

export class BulkIssuer {
  private readonly encoder: ClientCertEncoder;
  private readonly keys = new KeyMaker();
  private readonly o: BulkOptions;
  private readonly batchSize: number;
  private readonly sliceMs: number;
  private flush: "syncfs" | "fsync";
  /** Names met in the file so far (name -> line). */
  private readonly seen = new Map<string, number>();
  private readonly warned = new Set<string>();
  /** Names that exist (the store's current ones, and those issued by this run). */
  private names = new Set<string>();
  private serials = new Set<string>();
  private readonly inventory: InventoryAppender;
  private chain: Promise<void> = Promise.resolve();
  private failure: Error | null = null;
  /** Files being written and flushed on the thread pool (fsync mode). */
  private open = 0;
  /** Chunks of files sent to the writer thread and not yet written. */
  private chunksInFlight = 0;
  private roomWaiters: (() => void)[] = [];
  /** The writer thread (syncfs mode), and the files of the current batch not yet sent to it. */
  private writer: FileWriter | null = null;
  private chunk: FileJob[] = [];
  private readonly unpublished = new Set<Batch>();
  private readonly progress: Progress = { rows: 0, issued: 0, skipped: 0, failed: 0 };
  private lastProgress = 0;
  private serialPool: Buffer = Buffer.alloc(0);
  private serialOff = 0;
  /** Temporary file names: .<file>.tmp-<pid>-<8 hex digits>, as store/atomic.ts names them. */
  private tempSeq = crypto.randomBytes(4).readUInt32BE(0);

  constructor(
    private readonly store: Store,
    caKey: crypto.KeyObject,
    private readonly caCert: ParsedCertificate,
    o: BulkOptions,
  ) {
    this.o = o;
    this.encoder = new ClientCertEncoder(caCert, caKey);
    this.inventory = new InventoryAppender(store, () => `.inventory.json.tmp-${process.pid}-${this.tempId()}`);
    this.batchSize = Math.max(1, o.batchSize ?? 1000);
    this.sliceMs = o.sliceMs ?? 5000;
    this.flush = o.flush ?? (process.platform === "linux" ? "syncfs" : "fsync");
  }

  async run(rows: Iterator<RawRow>): Promise<BulkSummary> {
    if (this.caCert.notAfter.getTime() <= Date.now()) throw inputError(`the CA certificate expired on ${this.caCert.notAfter.toISOString()}`, this.store.caCertFile);
    for (const d of ["issued", "private"]) fs.mkdirSync(this.store.path(d), { recursive: true, mode: d === "private" ? 0o700 : 0o755 });
    const control = this.o.control ?? { stop: false };
    // what a killed writer left (temporary files, files it published but never listed) goes first
    this.store.withLock(() => undefined);
    if (this.flush === "syncfs" && this.o.thread !== false) this.writer = FileWriter.start(UMASK);
    try {
      return await this.slices(rows, control);
    } finally {
      await this.writer?.close();
    }
  }

  private async slices(rows: Iterator<RawRow>, control: { stop: boolean }): Promise<BulkSummary> {
    let exhausted = false;
    while (!exhausted && !control.stop) {
      const release = acquireLock(this.store.path(".lock"));
      try {
        this.loadInventory();
        const sliceEnd = Date.now() + this.sliceMs;
        let batch = this.newBatch();
        let n = 0;
        while (!this.failure && !control.stop && Date.now() < sliceEnd) {
          const next = rows.next();
          if (next.done) {
            exhausted = true;
            break;
          }
          this.row(next.value, batch);
          if (batch.records.length >= this.batchSize) {
            this.close(batch);
            batch = this.newBatch();
          }
          if (++n % YIELD_EVERY === 0) {
            await tick();
            while (this.busy()) await new Promise<void>((r) => this.roomWaiters.push(r));
            this.report(false);
          }
        }
        this.close(batch);
        await this.chain;
        if (this.failure) throw this.failure;
      } catch (e) {
        this.failure ??= e as Error;
        await this.chain.catch(() => undefined);
        while (this.chunksInFlight > 0 || this.open > 0) await new Promise<void>((r) => this.roomWaiters.push(r));
        this.discardUnpublished();
        throw this.failure;
      } finally {
        release();
      }
      this.report(true);
      if (!exhausted && !control.stop) await sleep(150); // let a waiting mtlsctl take the lock
    }
    return { ...this.progress, stopped: !exhausted };
  }

  // ------------------------------------------------------------ rows

  private result(r: RowResult): void {
    this.progress[r.status]++;
    this.o.onRow?.(r);
  }

  private warn(msg: string): void {
    if (this.warned.has(msg)) return;
    this.warned.add(msg);
    this.o.onWarning?.(msg);
  }

  private row(row: RawRow, batch: Batch): void {
    this.progress.rows++;
    const where = `${this.o.file}:${row.line}`;
    const rawName = typeof row.values.name === "string" ? row.values.name : null;
    if (row.error) return this.result({ status: "failed", line: row.line, name: rawName, error: row.error });
    let name: string;
    try {
      name = nameOf(row);
    } catch (e) {
      if (!(e instanceof MtlsError)) throw e;
      return this.result({ status: "failed", line: row.line, name: rawName, error: e.message });
    }
    const prev = this.seen.get(name);
    if (prev !== undefined) return this.result({ status: "failed", line: row.line, name, error: `"${name}" is also on line ${prev} (each name once)` });
    this.seen.set(name, row.line);
    if (this.names.has(name)) return this.result({ status: "skipped", line: row.line, name, reason: "exists" });
    const warnings: string[] = [];
    let req: BulkRequest;
    try {
      req = requestOf(row, name, this.o.defaults, warnings);
    } catch (e) {
      if (!(e instanceof MtlsError)) throw e;
      return this.result({ status: "failed", line: row.line, name, error: e.message });
    }
    for (const w of warnings) this.warn(`${where}: ${w}`);
    this.issueOne(req, batch);
  }

  private nextSerial(): Buffer {
    for (;;) {
      if (this.serialOff + 16 > this.serialPool.length) {
        this.serialPool = crypto.randomBytes(16 * 256);
        this.serialOff = 0;
      }
      const b = Buffer.from(this.serialPool.subarray(this.serialOff, this.serialOff + 16));
      this.serialOff += 16;
      b[0] = (b[0] & 0x7f) | 0x40; // as randomSerial(): positive, always 16 bytes
      if (!this.serials.has(b.toString("hex"))) return b;
    }
  }

  /** Validity and its ISO strings for a batch and a number of days (the same for most rows). */
  private times(batch: Batch, days: number, given: boolean): { validity: Buffer; notBefore: string; notAfter: string } {
    let t = batch.times.get(days);
    if (!t) {
      const notBefore = new Date(batch.now - 60_000);
      let notAfter = new Date(batch.now + days * DAY);
      if (notAfter > this.caCert.notAfter) {
        notAfter = this.caCert.notAfter;
        this.warn(`${given ? `days ${days}` : `the default validity (${DEFAULT_LEAF_DAYS} days)`} would outlive the CA: such certificates end with the CA on ${notAfter.toISOString()}`);
      }
      const secs = (d: Date) => new Date(Math.floor(d.getTime() / 1000) * 1000).toISOString();
      t = { validity: this.encoder.validity(notBefore, notAfter), notBefore: secs(notBefore), notAfter: secs(notAfter) };
      batch.times.set(days, t);
    }
    return t;
  }

  private issueOne(req: BulkRequest, batch: Batch): void {
    const t = this.times(batch, req.days, req.daysGiven);
    const serial = this.nextSerial();
    const key = this.keys.make(req.keyType);
    const certDer = this.encoder.encode({ serial, validity: t.validity, subject: req.subjectDer, key, sans: req.sans });
    const serialHex = serial.toString("hex");
    const certRel = `issued/${req.name}.crt`;
    const keyRel = `private/${req.name}.key`;
    // the same fields, in the same order, as the general path's record()
    const rec: CertRecord = {
      name: req.name,
      kind: "client",
      serial: serialHex,
      subject: req.subject,
      sans: { email: req.sans.email, dns: req.sans.dns, uri: req.sans.uri, ip: req.sans.ip },
      profile: "client",
      keyType: req.keyType,
      notBefore: t.notBefore,
      notAfter: t.notAfter,
      status: "valid",
      revokedAt: null,
      revocationReason: null,
      fingerprint: crypto.createHash("sha256").update(certDer).digest("hex"),
      certFile: certRel,
      keyFile: keyRel,
      csrFile: null,
      issuedAt: batch.issuedAt,
    };
    this.names.add(req.name);
    this.serials.add(serialHex);
    batch.records.push(rec);
    batch.lines.push(req.line);
    this.writeTemp(batch, keyRel, Buffer.from(key.pkcs8Pem, "latin1"), 0o600);
    this.writeTemp(batch, certRel, Buffer.from(pem("CERTIFICATE", certDer), "latin1"), 0o644);
  }

  // ------------------------------------------------------------ files

  private newBatch(): Batch {
    let resolveFlushed!: () => void;
    const flushed = new Promise<void>((r) => (resolveFlushed = r));
    const now = Date.now();
    const b: Batch = { now, issuedAt: new Date(now).toISOString(), times: new Map(), records: [], lines: [], files: [], pending: 0, closed: false, settling: false, flushed, resolveFlushed, committed: false };
    this.unpublished.add(b);
    return b;
  }

  /**
   * Writes a file beside its final name. With syncfs, nothing more (the batch is flushed at once when
   * it closes): the writer thread creates it, or this thread where there is none. With fsync, its
   * open, write, fsync and close run on libuv's thread pool.
   */
  private writeTemp(batch: Batch, rel: string, data: Buffer, mode: number): void {
    const final = `${this.store.dir}/${rel}`;
    const tmp = `${path.dirname(final)}/.${path.basename(final)}.tmp-${process.pid}-${this.tempId()}`;
    const f: TempFile = { tmp, final, renamed: false };
    batch.files.push(f);
    if (this.flush === "syncfs" && this.writer) {
      this.chunk.push({ tmp, data, mode });
      if (this.chunk.length >= CHUNK_FILES) this.sendChunk(batch);
    } else if (this.flush === "syncfs") {
      let fd: number;
      try {
        fd = fs.openSync(tmp, "wx", mode);
      } catch (e) {
        batch.files.pop();
        throw storeError(e, final);
      }
      try {
        let off = 0;
        while (off < data.length) off += fs.writeSync(fd, data, off, data.length - off);
        if (mode & UMASK) fs.fchmodSync(fd, mode); // exact, whatever the umask
      } catch (e) {
        throw storeError(e, final);
      } finally {
        fs.closeSync(fd);
      }
    } else {
      batch.pending++;
      this.open++;
      writeFlushed(tmp, data, mode, (err) => this.flushed(batch, err, final));
    }
  }

  /** Sends the files made since the last chunk to the writer thread. */
  private sendChunk(batch: Batch): void {
    const jobs = this.chunk;
    if (!jobs.length || !this.writer) return;
    this.chunk = [];
    batch.pending++;
    this.chunksInFlight++;
    const done = (err: unknown) => {
      if (err) {
        const e = err as FileJobError;
        const file = jobs[e.index ?? 0]?.tmp ?? this.store.dir;
        this.failure ??= storeError(e, path.join(path.dirname(file), path.basename(file).replace(/^\.(.*)\.tmp-\d+-[0-9a-f]{8}$/, "$1")));
      }
      this.chunksInFlight--;
      batch.pending--;
      this.settle(batch);
      this.wake();
    };
    this.writer.write(jobs).then(() => done(null), done);
  }

  /** Too much in flight: the row loop waits. */
  private busy(): boolean {
    return this.open > MAX_OPEN || this.chunksInFlight > MAX_CHUNKS;
  }

  private wake(): void {
    if (this.roomWaiters.length && (!this.busy() || (this.chunksInFlight === 0 && this.open === 0))) for (const w of this.roomWaiters.splice(0)) w();
  }

  /** When the batch is closed and all its files written: its flush. */
  private settle(batch: Batch): void {
    if (!batch.closed || batch.pending > 0 || batch.settling) return;
    batch.settling = true;
    if (this.flush === "syncfs" && !this.failure) this.syncfs(batch);
    else batch.resolveFlushed();
  }

  /** One file of the batch is flushed (or failed). */
  private flushed(batch: Batch, err: NodeJS.ErrnoException | null, file: string): void {
    this.open--;
    if (err) this.failure ??= storeError(err, file);
    batch.pending--;
    this.settle(batch);
    this.wake();
  }

  /**
   * Flushes a whole batch with one syncfs(2) on the store's file system (`sync -f DIR`, run beside
   * this process while it goes on with the next batch). Where that is not available, each file is
   * flushed on its own (fsync on the thread pool), for this batch and the next ones.
   */
  private syncfs(batch: Batch): void {
    let settled = false;
    const fallback = () => {
      if (settled) return;
      settled = true;
      this.flush = "fsync";
      if (batch.files.length === 0) return batch.resolveFlushed();
      batch.settling = false; // settle() again once these fsyncs are done
      for (const f of batch.files) {
        batch.pending++;
        this.open++;
        fsyncFile(f.tmp, (err) => this.flushed(batch, err, f.final));
      }
    };
    let child: ReturnType<typeof spawn>;
    try {
      child = spawn("sync", ["-f", this.store.path("issued"), this.store.path("private")], { stdio: "ignore" });
    } catch {
      return fallback();
    }
    child.on("error", fallback);
    child.on("exit", (code) => {
      if (code !== 0) return fallback();
      if (settled) return;
      settled = true;
      batch.resolveFlushed();
    });
  }

  private tempId(): string {
    this.tempSeq = (this.tempSeq + 1) >>> 0;
    return this.tempSeq.toString(16).padStart(8, "0");
  }

  /** Queues the batch's publication after the ones before it. */
  private close(batch: Batch): void {
    if (batch.records.length === 0 && batch.files.length === 0) {
      this.unpublished.delete(batch);
      return;
    }
    this.sendChunk(batch);
    batch.closed = true;
    this.settle(batch);
    this.chain = this.chain
      .then(() => batch.flushed)
      .then(() => this.publish(batch))
      .catch((e) => {
        this.failure ??= e as Error;
      });
  }

  private async publish(batch: Batch): Promise<void> {
    if (this.failure) throw this.failure;
    crashPoint(`bulk: batch of ${batch.records.length} flushed, before its renames`);
    // one after the other (parallel renames in one directory contend for its lock), on the writer thread if there is one
    if (this.writer) {
      try {
        await this.writer.rename(batch.files.map((f) => [f.tmp, f.final]));
        for (const f of batch.files) f.renamed = true;
      } catch (e) {
        const index = e instanceof FileJobError ? e.index : 0;
        for (let i = 0; i < index; i++) batch.files[i].renamed = true;
        throw storeError(e, batch.files[index]?.final ?? this.store.dir);
      }
    } else
      for (const f of batch.files) {
        try {
          fs.renameSync(f.tmp, f.final);
        } catch (e) {
          throw storeError(e, f.final);
        }
        f.renamed = true;
      }
    await Promise.all([fsyncPath(this.store.path("issued")), fsyncPath(this.store.path("private"))]);
    // the commit point
    crashPoint(`bulk: batch renamed into place, before the inventory write: ${this.store.inventoryFile}`);
    try {
      await this.inventory.commit(batch.records);
    } catch (e) {
      throw storeError(e, this.store.inventoryFile);
    }
    crashPoint(`bulk: after the inventory write: ${this.store.inventoryFile}`);
    batch.committed = true;
    this.unpublished.delete(batch);
    batch.records.forEach((r, i) => this.result({ status: "issued", line: batch.lines[i], name: r.name, serial: r.serial, certFile: this.store.path(r.certFile), keyFile: this.store.path(r.keyFile!) }));
    batch.records = [];
    batch.files = [];
    this.report(true);
  }

  /** After a failure: removes every file of the batches that were not committed. */
  private discardUnpublished(): void {
    for (const b of this.unpublished) {
      for (const f of b.files) {
        try {
          fs.unlinkSync(f.renamed ? f.final : f.tmp);
        } catch {
          /* gone */
        }
      }
      for (const r of b.records) this.names.delete(r.name);
    }
    this.unpublished.clear();
  }

  /** Reads the inventory when another process changed it (or at the start): names and serials that exist. */
  private loadInventory(): void {
    const inv = this.inventory.refresh();
    if (!inv) return; // still the one this run wrote last: the sets are up to date
    this.names = new Set();
    this.serials = new Set([inv.ca.serial]);
    for (const c of inv.certificates) {
      this.serials.add(c.serial);
      if (c.status !== "superseded" && !c.renewedBy) this.names.add(c.name);
    }
  }

  private report(force: boolean): void {
    const now = Date.now();
    if (!force && now - this.lastProgress < 100) return;
    this.lastProgress = now;
    this.o.onProgress?.({ ...this.progress });
  }
}

/** Issues a client certificate for each row; see the file comment for batching and crashes. */
export function bulkIssue(store: Store, caKey: crypto.KeyObject, caCert: ParsedCertificate, rows: Iterator<RawRow>, o: BulkOptions): Promise<BulkSummary> {
  return new BulkIssuer(store, caKey, caCert, o).run(rows);
}
