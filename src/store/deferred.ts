/**
 * A file store whose writes wait asynchronously (issue 17: `serve`'s group commit). The issuance
 * pipeline (src/ca.ts issueBatch) is synchronous: under its lock it reads what it needs and calls the
 * store's writes (keepAside, write, commitRecords, audit) in the order that makes a crash safe. Here
 * those writes are not done on the spot: they are kept, in that order, and drain() does them, each
 * flush on the thread pool, still holding the lock, which it releases last. Meanwhile the process
 * goes on answering (TLS handshakes, request bodies, the next batch's checks): the disk's waits no
 * longer stop the event loop. The caller answers only after drain() resolved: durable before the
 * response, as with the synchronous store.
 *
 * Order kept: keepAside's links, then the commit that records the move (its segment flushed with
 * the links' directories); the new files written beside and flushed (all at once, on the thread
 * pool), renamed, their directories flushed before the next commit, which names them; the audit
 * events last. Reads during the batch see
 * the store as it was before it (the batch's names are distinct; its serials are chosen against the
 * serial index and the batch itself).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { FileStore } from "./store";
import { PendingFlush, storeError, tempNameFor, writeFlushed } from "./atomic";
import { crashPoint } from "./crashpoints";
import { flushPathsAsync } from "./flusher";
import { appendAuditLogAsync } from "./audit-log";
import type { AuditEvent, CertRecord } from "./types";

/** A kept write, or another kept step. Consecutive writes are done together (in parallel, on the thread pool). */
type Op = { write: { rel: string; data: Buffer; mode: number } } | (() => void | Promise<void>);

export class DeferredFileStore extends FileStore {
  private ops: Op[] = [];
  private held: (() => void) | null = null;
  private deferring = false;
  /** Files written by the kept ops and not yet flushed (their directories too). */
  private written = { files: new Set<string>(), dirs: new Set<string>() };

  /** The lock is taken here and kept until drain(); a throw drops what was kept and releases it. */
  override withLock<T>(fn: () => T): T {
    if (this.held || this.deferring) throw new Error("DeferredFileStore: the previous batch is not drained");
    const release = this.lock();
    this.deferring = true;
    try {
      const out = fn();
      this.held = release;
      return out;
    } catch (e) {
      this.ops = [];
      this.sweepQuietly();
      release();
      throw e;
    } finally {
      this.deferring = false;
    }
  }

  override keepAside(pairs: Array<{ from: string; to: string; mode: number }>): void {
    if (!this.deferring) return super.keepAside(pairs);
    this.ops.push(() => super.keepAside(pairs)); // links now; their directories flushed with the next commit
  }

  override write(rel: string, data: string | Buffer, mode = 0o644, defer?: PendingFlush): void {
    if (!this.deferring) return super.write(rel, data, mode, defer);
    this.ops.push({ write: { rel, data: typeof data === "string" ? Buffer.from(data) : data, mode } });
  }

  /** A write: beside (flushed, on the thread pool), then renamed; its directory flushed before the next commit. */
  private writeOne(w: { rel: string; data: Buffer; mode: number }): Promise<void> {
    const file = this.path(w.rel);
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: w.rel.startsWith("private") ? 0o700 : 0o755 });
    const tmp = tempNameFor(file);
    return new Promise<void>((resolve, reject) =>
      writeFlushed(tmp, w.data, w.mode, (err) => {
        if (err) return fs.unlink(tmp, () => reject(storeError(err, file)));
        crashPoint(`before rename: ${file}`);
        fs.rename(tmp, file, (e) => {
          if (e) return fs.unlink(tmp, () => reject(storeError(e, file)));
          this.written.dirs.add(path.dirname(file));
          resolve();
        });
      }),
    );
  }

  override commitRecords(records: CertRecord[]): void {
    if (!this.deferring) return super.commitRecords(records);
    this.ops.push(async () => {
      await this.flushWritten();
      await this.commitRecordsAsync(records);
    });
  }

  override audit(events: AuditEvent[]): void {
    if (!this.deferring) return super.audit(events);
    this.ops.push(async () => {
      await this.flushWritten();
      await appendAuditLogAsync(this.auditFile, events);
    });
  }

  private async flushWritten(): Promise<void> {
    if (!this.written.files.size && !this.written.dirs.size) return;
    const { files, dirs } = this.written;
    this.written = { files: new Set(), dirs: new Set() };
    await flushPathsAsync([...files], [...dirs]);
  }

  /** Whether a batch holds the lock (drain() not yet called or not yet done). */
  get busy(): boolean {
    return this.held !== null;
  }

  /** Does what the last locked section kept, in order; releases the lock. A failure: swept, released, thrown. */
  async drain(): Promise<void> {
    const release = this.held;
    const ops = this.ops;
    this.ops = [];
    if (!release) return;
    try {
      for (let i = 0; i < ops.length; ) {
        const op = ops[i];
        if (typeof op === "function") {
          await op();
          i++;
          continue;
        }
        const group: Array<{ rel: string; data: Buffer; mode: number }> = [];
        for (; i < ops.length; i++) {
          const o = ops[i];
          if (typeof o === "function") break;
          group.push(o.write);
        }
        const done = await Promise.allSettled(group.map((w) => this.writeOne(w)));
        const bad = done.find((d) => d.status === "rejected") as PromiseRejectedResult | undefined;
        if (bad) throw bad.reason;
      }
      await this.flushWritten();
      const dirs = this.takeDirs();
      if (dirs.length) await flushPathsAsync([], dirs);
    } catch (e) {
      this.written = { files: new Set(), dirs: new Set() };
      this.takeDirs();
      this.sweepQuietly();
      throw e;
    } finally {
      this.held = null;
      release();
    }
  }
}
