/**
 * A worker thread that writes and renames files with plain synchronous system calls, so that bulk
 * issuance makes certificates on one core while the file system work (creating thousands of files,
 * renaming them) runs on the other. Its code is a string run by the Worker (eval), so that it needs
 * no compiled file of its own.
 */
import { Worker } from "node:worker_threads";

export interface FileJob {
  tmp: string;
  data: Buffer;
  mode: number;
}

/** An error from the worker: the system call's code and message, and the job it stopped at. */
export class FileJobError extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
    /** The index of the job that failed; the ones before it were done. */
    readonly index: number,
  ) {
    super(message);
  }
}

const WORKER_CODE = `
"use strict";
const { parentPort, workerData } = require("node:worker_threads");
const fs = require("node:fs");
const umask = workerData.umask;
const fail = (id, i, e) => parentPort.postMessage({ id, error: { code: e && e.code, message: String(e && e.message || e), index: i } });
parentPort.on("message", (m) => {
  if (m.op === "write") {
    for (let i = 0; i < m.jobs.length; i++) {
      const j = m.jobs[i];
      let fd;
      try {
        fd = fs.openSync(j.tmp, "wx", j.mode);
      } catch (e) {
        return fail(m.id, i, e);
      }
      try {
        const d = j.data;
        let off = 0;
        while (off < d.length) off += fs.writeSync(fd, d, off, d.length - off);
        if (j.mode & umask) fs.fchmodSync(fd, j.mode);
      } catch (e) {
        try { fs.closeSync(fd); } catch {}
        return fail(m.id, i, e);
      }
      try {
        fs.closeSync(fd);
      } catch (e) {
        return fail(m.id, i, e);
      }
    }
    parentPort.postMessage({ id: m.id });
  } else if (m.op === "rename") {
    for (let i = 0; i < m.pairs.length; i++) {
      try {
        fs.renameSync(m.pairs[i][0], m.pairs[i][1]);
      } catch (e) {
        return fail(m.id, i, e);
      }
    }
    parentPort.postMessage({ id: m.id });
  }
});
`;

export class FileWriter {
  private seq = 0;
  private readonly waiting = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();
  private dead: Error | null = null;

  private constructor(private readonly worker: Worker) {
    worker.on("message", (m: { id: number; error?: { code?: string; message: string; index: number } }) => {
      const w = this.waiting.get(m.id);
      if (!w) return;
      this.waiting.delete(m.id);
      if (m.error) w.reject(new FileJobError(m.error.message, m.error.code ?? undefined, m.error.index));
      else w.resolve();
    });
    const die = (e: Error) => {
      this.dead ??= e;
      for (const w of this.waiting.values()) w.reject(e);
      this.waiting.clear();
    };
    worker.on("error", die);
    worker.on("exit", () => die(new Error("the file writer thread stopped")));
  }

  /** A writer thread, or null where threads cannot be started. */
  static start(umask: number): FileWriter | null {
    try {
      return new FileWriter(new Worker(WORKER_CODE, { eval: true, workerData: { umask } }));
    } catch {
      return null;
    }
  }

  private send(msg: Record<string, unknown>): Promise<void> {
    if (this.dead) return Promise.reject(this.dead);
    const id = ++this.seq;
    return new Promise<void>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.worker.postMessage({ ...msg, id });
    });
  }

  /** Creates each file (exclusively) with its data and exact mode; no flush. */
  write(jobs: FileJob[]): Promise<void> {
    return this.send({ op: "write", jobs });
  }

  /** Renames, in order. */
  rename(pairs: [string, string][]): Promise<void> {
    return this.send({ op: "rename", pairs });
  }

  async close(): Promise<void> {
    this.dead ??= new Error("closed");
    await this.worker.terminate();
  }
}
