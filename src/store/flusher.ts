/**
 * Several flushes at once from synchronous code (a group commit's files, a commit's index and segment).
 * One fsync after another waits for one journal commit each (2–3 ms here, far more on a busy disk);
 * fsyncs issued together share commits. The store's writers are synchronous, so the flushes go to a
 * helper thread (one worker, its fsyncs on libuv's thread pool, all at once) while this thread waits
 * on a shared word (Atomics.wait): the same guarantee as flushing each file in turn, as every flush
 * has returned before flushAll does. Without worker threads (or should the helper not answer within a
 * minute), each is flushed here in turn.
 */
import * as fs from "node:fs";
import { getSystemErrorName } from "node:util";

const HELPER = `
const { parentPort } = require("node:worker_threads");
const fs = require("node:fs");
parentPort.on("message", ({ fds, sab }) => {
  const st = new Int32Array(sab);
  let left = fds.length;
  fds.forEach((fd, i) =>
    fs.fsync(fd, (e) => {
      if (e) Atomics.store(st, 2 + i, e.errno || -5);
      if (--left === 0) {
        Atomics.store(st, 0, 1);
        Atomics.notify(st, 0);
      }
    }),
  );
});
`;

type HelperThread = { postMessage(v: unknown): void; unref(): void; on(ev: string, f: (...a: unknown[]) => void): void; terminate(): unknown };
let helper: HelperThread | null | undefined;

function helperThread(): HelperThread | null {
  if (helper !== undefined) return helper;
  try {
    const { Worker } = require("node:worker_threads") as typeof import("node:worker_threads");
    const w = new Worker(HELPER, { eval: true, resourceLimits: { maxOldGenerationSizeMb: 8, maxYoungGenerationSizeMb: 2 } }) as unknown as HelperThread;
    w.unref(); // never keeps the process alive
    w.on("error", () => (helper = null));
    w.on("exit", () => (helper = null));
    helper = w;
  } catch {
    helper = null;
  }
  return helper;
}

/** What to flush: an open descriptor, and whether a failure is ignored (a directory: some file systems refuse it). */
export interface FlushItem {
  fd: number;
  file: string;
  optional?: boolean;
}

const fail = (errno: number, file: string): NodeJS.ErrnoException => {
  let code = "EIO";
  try {
    code = getSystemErrorName(errno);
  } catch {
    /* unknown errno */
  }
  return Object.assign(new Error(`${code}: fsync ${file}`), { code, errno, path: file });
};

/** fsync of every item, together; throws the first failure of an item that is not optional (ErrnoException). */
/**
 * Below this many flushes the helper thread is not started: starting it costs ~40 ms of a short command
 * (one `client issue` went from 187 to 227 ms), more than the few fsyncs in turn; a group commit's
 * many files (bulk, the service's batches) are worth it, and once started it is reused.
 */
const HELPER_MIN = 8;

export function flushAll(items: FlushItem[]): void {
  const h = items.length >= HELPER_MIN || (helper && items.length > 1) ? helperThread() : null;
  if (h) {
    const sab = new SharedArrayBuffer(4 * (2 + items.length));
    const st = new Int32Array(sab);
    try {
      h.postMessage({ fds: items.map((it) => it.fd), sab });
      Atomics.wait(st, 0, 0, 60_000);
      if (Atomics.load(st, 0) === 1) {
        items.forEach((it, i) => {
          const errno = Atomics.load(st, 2 + i);
          if (errno && !it.optional) throw fail(errno, it.file);
        });
        return;
      }
      helper = null; // no answer: the flushes below, one by one
      void h.terminate();
    } catch (e) {
      if ((e as NodeJS.ErrnoException).path !== undefined) throw e;
      helper = null;
    }
  }
  for (const it of items) {
    try {
      fs.fsyncSync(it.fd);
    } catch (e) {
      if (!it.optional) throw e;
    }
  }
}

/** Opens each path read-only (files must open; a directory that cannot be opened has nothing to flush, as fsyncDir). The caller closes them. */
function openItems(files: string[], dirs: string[], items: FlushItem[]): void {
  for (const f of files) items.push({ fd: fs.openSync(f, "r"), file: f });
  for (const d of dirs) {
    try {
      items.push({ fd: fs.openSync(d, "r"), file: d, optional: true });
    } catch {
      /* as fsyncDir */
    }
  }
}

/** Opens each path read-only, flushes them all together (flushAll), closes them. Directories' failures are ignored. */
export function flushPaths(files: string[], dirs: string[] = []): void {
  const items: FlushItem[] = [];
  try {
    openItems(files, dirs, items);
    flushAll(items);
  } finally {
    for (const it of items) fs.closeSync(it.fd);
  }
}

/** flushAll on the thread pool, for asynchronous writers: every fsync issued at once; resolves when all returned. */
export function flushAllAsync(items: FlushItem[]): Promise<void> {
  return new Promise((resolve, reject) => {
    let left = items.length;
    let failed: NodeJS.ErrnoException | null = null;
    if (!left) return resolve();
    for (const it of items)
      fs.fsync(it.fd, (e) => {
        if (e && !it.optional && !failed) failed = Object.assign(e, { path: it.file });
        if (--left === 0) (failed ? reject(failed) : resolve());
      });
  });
}

/** flushPaths on the thread pool: opens each path, flushes them all at once, closes them. */
export async function flushPathsAsync(files: string[], dirs: string[] = []): Promise<void> {
  const items: FlushItem[] = [];
  try {
    openItems(files, dirs, items);
    await flushAllAsync(items);
  } finally {
    for (const it of items) fs.closeSync(it.fd);
  }
}
