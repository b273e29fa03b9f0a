/**
 * Bulk issuance (`client issue --from F`): many client certificates in one process, in batches.
 *
 * Work split: this thread reads rows, checks them and makes keys and certificates (src/bulk/leaf.ts);
 * a writer thread (src/bulk/writer.ts) creates and renames the files, so the file system's work runs
 * on another core; flushes and the inventory run on libuv's thread pool or in a helper process.
 *
 * Durability and crash semantics (design.md: "a bulk operation may group its flushes"):
 *   For each batch (up to `batchSize` certificates, 1,000 by default):
 *   1. each file (private/<name>.key, issued/<name>.crt) is written beside its final name
 *      (`.<file>.tmp-<pid>-<hex>`), without a flush;
 *   2. the batch is flushed once: one syncfs(2) on the store's file system (Linux: `sync -f`, run
 *      by a helper shell, while this thread goes on with the next batch). Where that is not
 *      available (not Linux, no `sync -f`), each file is fsynced on its own instead, on the thread
 *      pool, and so are the next batches' files;
 *   3. then all the batch's files are renamed into place, and issued/ and private/ are flushed
 *      (fsync on the directories);
 *   4. then the inventory is written once, atomically (beside, fsync, rename, directory fsync; see
 *      inventory.ts): this is the commit point. A certificate exists when the inventory lists it.
 *   A crash before step 4 publishes nothing of the batch: the inventory lists none of its names, so
 *   `list`, `config nats`, `status`, `export`... do not see them; the next command that takes the
 *   store lock removes what the killed run left (its temporary files, and the files that step 3
 *   renamed into place but the inventory does not list: Store.withLock), and a re-run issues those
 *   names again. A failure that is not a crash (a full disk, say) removes the batch's files itself
 *   before the error is reported. Batches commit in order; those before a crash stay committed.
 *
 * The store lock is held for slices of at most `sliceMs` (5 s): at the end of a slice every batch in
 * flight is committed, the lock is released for a moment (another mtlsctl waiting for it polls every
 * 100 ms at most, and gets in), then taken again; the inventory is read again if someone changed it.
 * So other commands wait seconds, not the whole run, and names and serials are checked against the
 * latest inventory.
 *
 * Memory: rows are read as a stream, each batch's data is dropped once committed, and the inventory
 * is updated by appending to a copy of the file (inventory.ts), not rebuilt in memory; what grows
 * with the number of rows is a set of names and serials (tens of bytes each).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as crypto from "node:crypto";
import { recordOf, storeIssuer } from "../ca";
import { inputError, MtlsError } from "../errors";
import { buildCertificate, EncodeCache, ParsedCertificate, randomSerial } from "../pki/cert";
import { chooseSerial, IssuancePlan, PlanIssuer, planIssuance, tbsOf } from "../pki/plan";
import { checkSignerMatches, Signer } from "../pki/signer";
import { crashPoint } from "../store/crashpoints";
import { acquireLock } from "../store/lock";
import { LAYOUT, Store } from "../store/store";
import { fsyncFile, fsyncPath, storeError, tempNameFor, TEMP_FILE, UMASK, writeFlushed } from "../store/atomic";
import { ByteList, clientRecordText, InventoryAppender } from "./inventory";
import { Syncfs } from "./syncfs";
import { FileChunk, FileJobError, FileWriter } from "./writer";
import type { RawRow } from "./input";
import { KeyMaker, LeafKey, pem } from "./leaf";
import { pemBundle } from "../pki/hierarchy";
import { BulkRequest, nameOf, requestOf, RowDefaults } from "./request";

import type { Progress, RowResult } from "./request";
export type { Progress, RowResult } from "./request";

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

/** A file of a batch: where it is written, and where it goes. */
interface TempFile {
  tmp: string;
  final: string;
}

interface Batch {
  now: number;
  issuedAt: string;
  /**
   * The batch's certificates, kept small (V8 promotes what lives until the commit, and the heap
   * grows with it): names, lines, serials, the id of their temporary files, and their inventory
   * records already as the bytes to append (outside V8's heap).
   */
  names: string[];
  lines: number[];
  serials: string[];
  ids: number[];
  records: ByteList;
  /** How many of the batch's files (in order: key, certificate, key, ...) are renamed into place. */
  renamed: number;
  /** Some files were written without their own fsync (to be flushed by the batch's syncfs). */
  unflushed: boolean;
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
/** Yield to the event loop (the writer's answers, flushes, commits) every this many rows. */
const YIELD_EVERY = 32;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const tick = () => new Promise<void>((r) => setImmediate(r));

export class BulkIssuer {
  /** What repeats across the certificates (constant extensions, a batch's validity): encoded once. */
  private readonly cache = new EncodeCache();
  /** The CA and every CA above it (name constraints, issue 10), as planIssuance() takes them; chain.pem (intermediate stores: a fullchain file per row). */
  private readonly issuer: PlanIssuer;
  private readonly chainPem: string;
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
  /** The writer thread (syncfs mode; started with the first file), and the files not yet sent to it. */
  private writer: FileWriter | null | undefined;
  private syncer: Syncfs | null = null;
  private chunk = new FileChunk();
  private readonly unpublished = new Set<Batch>();
  private readonly progress: Progress = { rows: 0, issued: 0, skipped: 0, failed: 0 };
  private lastProgress = 0;
  private serialPool: Buffer = Buffer.alloc(0);
  private serialOff = 0;
  /** Temporary file names: .<file>.tmp-<pid>-<8 hex digits>, as store/atomic.ts names them. */
  private tempSeq = crypto.randomBytes(4).readUInt32BE(0);

  constructor(
    private readonly store: Store,
    private readonly signer: Signer,
    private readonly caCert: ParsedCertificate,
    o: BulkOptions,
  ) {
    this.o = o;
    checkSignerMatches(signer, caCert.spki, store.caCertFile);
    this.issuer = storeIssuer(store, caCert);
    this.chainPem = pemBundle(store.presentedChain());
    this.inventory = new InventoryAppender(store, () => this.tempId());
    this.batchSize = Math.max(1, o.batchSize ?? 1000);
    this.sliceMs = o.sliceMs ?? 5000;
    this.flush = o.flush ?? (process.platform === "linux" ? "syncfs" : "fsync");
  }

  async run(rows: Iterator<RawRow>): Promise<BulkSummary> {
    if (this.caCert.notAfter.getTime() <= Date.now()) throw inputError(`the CA certificate expired on ${this.caCert.notAfter.toISOString()}`, this.store.caCertFile);
    for (const [d, f] of Object.entries(this.store.leafDirs)) fs.mkdirSync(f, { recursive: true, mode: d === "private" ? 0o700 : 0o755 });
    const control = this.o.control ?? { stop: false };
    // what a killed writer left (temporary files, files it published but never listed) goes first
    this.store.withLock(() => undefined);
    try {
      return await this.slices(rows, control);
    } finally {
      this.syncer?.close();
      await this.writer?.close();
    }
  }

  private async slices(rows: Iterator<RawRow>, control: { stop: boolean }): Promise<BulkSummary> {
    let exhausted = false;
    while (!exhausted && !control.stop) {
      const release = acquireLock(this.store.lockFile);
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
          if (batch.names.length >= this.batchSize) {
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

  /**
   * A warning, once: the planning step's text, prefixed by the row (`<file>:<line>: `). The same text
   * for many rows (the default validity outliving the CA, say) is said once, naming the first row.
   */
  private warn(where: string, msg: string): void {
    if (this.warned.has(msg)) return;
    this.warned.add(msg);
    this.o.onWarning?.(`${where}: ${msg}`);
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
    for (const w of warnings) this.warn(where, w);
    // the one planning step (pki/plan.ts), as `client issue NAME` runs it: validity, checks, name constraints, extensions
    const key = this.keys.make(req.keyType);
    let plan: IssuancePlan;
    try {
      plan = planIssuance({ profile: "client", subjectDer: req.subjectDer, commonNames: req.commonNames, spki: key.spki, keyId: key.ski, sans: req.sans, days: req.daysGiven ? req.days : undefined, daysOption: req.daysOption }, this.issuer, batch.now);
    } catch (e) {
      if (!(e instanceof MtlsError)) throw e;
      return this.result({ status: "failed", line: row.line, name, error: e.message });
    }
    for (const w of plan.warnings) this.warn(where, w);
    this.issueOne(req, key, plan, batch);
  }

  /** randomSerial()'s, drawn from a pool of random bytes (one randomBytes call per 256 serials). */
  private pooledSerial(): Buffer {
    if (this.serialOff + 16 > this.serialPool.length) {
      this.serialPool = crypto.randomBytes(16 * 256);
      this.serialOff = 0;
    }
    const b = Buffer.from(this.serialPool.subarray(this.serialOff, this.serialOff + 16));
    this.serialOff += 16;
    return randomSerial(b);
  }

  private issueOne(req: BulkRequest, key: LeafKey, plan: IssuancePlan, batch: Batch): void {
    const serial = chooseSerial((hex) => this.serials.has(hex), () => this.pooledSerial());
    const certDer = buildCertificate(tbsOf(plan, serial), this.signer, this.cache);
    const serialHex = serial.toString("hex");
    const certRel = this.store.certRel(req.name);
    const keyRel = this.store.keyRel(req.name);
    // the one record builder (ca.ts recordOf), from the plan: the fields issue() reads back from the certificate
    const rec = recordOf(
      "client",
      req.name,
      { serialHex, subject: req.subject, sans: plan.sans, notBefore: plan.notBefore, notAfter: plan.notAfter, fingerprint: crypto.hash("sha256", certDer, "hex") },
      req.keyType,
      // no reqs/<name>.csr: bulk makes no request. `client issue NAME` signs one with the new key (a
      // KeyObject); here keys are raw ECDH scalars, and making each a KeyObject to sign a request
      // costs 150-370 us a row (createPrivateKey from JWK or PKCS#8), several times the whole row.
      { cert: certRel, key: keyRel, csr: null },
      { account: req.account, permissions: req.permissions, chainFile: this.chainPem ? this.store.fullchainRel(req.name) : null },
      batch.issuedAt,
    );
    this.names.add(req.name);
    this.serials.add(serialHex);
    const id = (this.tempSeq = (this.tempSeq + 1) >>> 0);
    batch.names.push(req.name);
    batch.lines.push(req.line);
    batch.serials.push(serialHex);
    batch.ids.push(id);
    batch.records.append(",\n    " + clientRecordText(rec));
    const certPem = pem("CERTIFICATE", certDer);
    this.writeTemp(batch, this.fileOf(req.name, id, "key"), key.pkcs8Pem, 0o600);
    this.writeTemp(batch, this.fileOf(req.name, id, "crt"), certPem, 0o644);
    if (this.chainPem) this.writeTemp(batch, this.fileOf(req.name, id, "chain"), certPem + this.chainPem, 0o644);
  }

  /** A certificate's file in a batch: private/<name>.key or issued/<name>.crt, and its temporary name. */
  private fileOf(name: string, id: number, ext: "key" | "crt" | "chain"): TempFile {
    // the store's layout (LAYOUT), written out here: two files a row, no path.join normalisation per file
    const final = `${this.store.dir}/${ext === "key" ? LAYOUT.keyRel(name) : ext === "chain" ? LAYOUT.fullchainRel(name) : LAYOUT.certRel(name)}`;
    return { tmp: tempNameFor(final, id), final };
  }

  /** The batch's files, in order: key, certificate, key, certificate, ... */
  private filesOf(batch: Batch): TempFile[] {
    const out: TempFile[] = [];
    batch.names.forEach((n, i) => {
      out.push(this.fileOf(n, batch.ids[i], "key"), this.fileOf(n, batch.ids[i], "crt"));
      if (this.chainPem) out.push(this.fileOf(n, batch.ids[i], "chain"));
    });
    return out;
  }

  // ------------------------------------------------------------ files

  private newBatch(): Batch {
    let resolveFlushed!: () => void;
    const flushed = new Promise<void>((r) => (resolveFlushed = r));
    const now = Date.now();
    const b: Batch = { now, issuedAt: new Date(now).toISOString(), names: [], lines: [], serials: [], ids: [], records: new ByteList(), renamed: 0, unflushed: false, pending: 0, closed: false, settling: false, flushed, resolveFlushed, committed: false };
    this.unpublished.add(b);
    return b;
  }

  /**
   * Writes a file beside its final name. With syncfs, nothing more (the batch is flushed at once when
   * it closes): the writer thread creates it, or this thread where there is none. With fsync, its
   * open, write, fsync and close run on libuv's thread pool.
   */
  private writeTemp(batch: Batch, f: TempFile, text: string, mode: number): void {
    const { tmp, final } = f;
    if (this.writer === undefined) this.writer = this.flush === "syncfs" && this.o.thread !== false ? FileWriter.start(UMASK) : null;
    if (this.flush === "syncfs") batch.unflushed = true;
    if (this.flush === "syncfs" && this.writer) {
      this.chunk.add(tmp, text, mode);
      if (this.chunk.count >= CHUNK_FILES) this.sendChunk(batch);
      return;
    }
    const data = Buffer.from(text, "latin1");
    if (this.flush === "syncfs") {
      let fd: number;
      try {
        fd = fs.openSync(tmp, "wx", mode);
      } catch (e) {
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
    if (!jobs.count || !this.writer) return;
    this.chunk = new FileChunk();
    batch.pending++;
    this.chunksInFlight++;
    const done = (err: unknown) => {
      if (err) {
        const e = err as FileJobError;
        const file = jobs.paths[e.index ?? 0] ?? this.store.dir;
        this.failure ??= storeError(e, path.join(path.dirname(file), path.basename(file).replace(TEMP_FILE, "$1")));
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

  /** When the batch is closed and all its files written: its flush, once. */
  private settle(batch: Batch): void {
    if (!batch.closed || batch.pending > 0 || batch.settling) return;
    batch.settling = true;
    if (this.failure) return batch.resolveFlushed(); // publish() reports it
    if (this.flush === "syncfs") return this.syncfs(batch);
    // fsync, after a fall back from syncfs: the files written without their own fsync (all of the batch's, to be simple)
    if (!batch.unflushed) return batch.resolveFlushed();
    batch.unflushed = false;
    batch.settling = false;
    for (const f of this.filesOf(batch)) {
      batch.pending++;
      this.open++;
      fsyncFile(f.tmp, (err) => this.flushed(batch, err, f.final));
    }
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
   * Flushes a whole batch with one syncfs(2) on the store's file system (`sync -f DIR`, run by a
   * helper process while this one goes on with the next batch). Where that is not available, each file is
   * flushed on its own (fsync on the thread pool), for this batch and the next ones.
   */
  private syncfs(batch: Batch): void {
    let settled = false;
    const fallback = () => {
      if (settled) return;
      settled = true;
      this.flush = "fsync"; // for the next batches too
      batch.settling = false;
      this.settle(batch);
    };
    if (!this.syncer) {
      // one directory per file system (issued/ and private/ are normally on the store's)
      const dirs = [this.store.leafDirs.issued, this.store.leafDirs.private];
      const devs = dirs.map((d) => fs.statSync(d).dev);
      this.syncer = Syncfs.start(devs[0] === devs[1] ? [dirs[0]] : dirs);
    }
    this.syncer.sync().then((ok) => {
      if (!ok) return fallback();
      if (settled) return;
      settled = true;
      batch.resolveFlushed();
    });
  }

  private tempId(): number {
    return (this.tempSeq = (this.tempSeq + 1) >>> 0);
  }

  /** Queues the batch's publication after the ones before it. */
  private close(batch: Batch): void {
    if (batch.names.length === 0) {
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
    crashPoint(`bulk: batch of ${batch.names.length} flushed, before its renames`);
    const files = this.filesOf(batch);
    // one after the other (parallel renames in one directory contend for its lock), on the writer thread if there is one
    if (this.writer) {
      try {
        await this.writer.rename(files.map((f) => [f.tmp, f.final]));
        batch.renamed = files.length;
      } catch (e) {
        const index = e instanceof FileJobError ? e.index : 0;
        batch.renamed = index;
        throw storeError(e, files[index]?.final ?? this.store.dir);
      }
    } else
      for (const f of files) {
        try {
          fs.renameSync(f.tmp, f.final);
        } catch (e) {
          throw storeError(e, f.final);
        }
        batch.renamed++;
      }
    await Promise.all([fsyncPath(this.store.leafDirs.issued), fsyncPath(this.store.leafDirs.private)]);
    // the commit point
    crashPoint(`bulk: batch renamed into place, before the inventory write: ${this.store.inventoryFile}`);
    try {
      await this.inventory.commit(batch.records.bytes(), batch.names.length, batch.names.map((name, i) => ({ name, serial: batch.serials[i] })));
    } catch (e) {
      throw storeError(e, this.store.inventoryFile);
    }
    crashPoint(`bulk: after the inventory write: ${this.store.inventoryFile}`);
    batch.committed = true;
    // one audit line a certificate, one append a batch (after its commit: an event is never of an uncommitted certificate)
    this.store.audit(batch.names.map((name, i) => ({ action: "bulk-issue", name, serial: batch.serials[i], detail: { line: batch.lines[i] } })));
    this.unpublished.delete(batch);
    batch.names.forEach((name, i) => this.result({ status: "issued", line: batch.lines[i], name, serial: batch.serials[i], certFile: this.store.certPath(name), keyFile: this.store.keyPath(name) }));
    batch.names = [];
    batch.records = new ByteList();
    this.report(true);
  }

  /** After a failure: removes every file of the batches that were not committed. */
  private discardUnpublished(): void {
    for (const b of this.unpublished) {
      this.filesOf(b).forEach((f, i) => {
        try {
          fs.unlinkSync(i < b.renamed ? f.final : f.tmp);
        } catch {
          /* gone */
        }
      });
      for (const n of b.names) this.names.delete(n);
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
export async function bulkIssue(store: Store, signer: Signer, caCert: ParsedCertificate, rows: Iterator<RawRow>, o: BulkOptions): Promise<BulkSummary> {
  return new BulkIssuer(store, signer, caCert, o).run(rows);
}
