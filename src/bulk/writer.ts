/**
 * A worker thread that writes and renames files with plain synchronous system calls, so that bulk
 * issuance makes certificates on one core while the file system work (creating thousands of files,
 * renaming them) runs on the other. Its code is a string run by the Worker (eval), so that it needs
 * no compiled file of its own.
 */
import { Worker } from "node:worker_threads";

/**
 * Files for the writer thread, packed: their contents in one buffer that is handed over to the
 * thread (transferred, not copied), their names in one string.
 */
export class FileChunk {
  private buf: Buffer;
  private len = 0;
  readonly paths: string[] = [];
  readonly modes: number[] = [];
  readonly ends: number[] = [];

  constructor(capacity = 1 << 18) {
    this.buf = Buffer.allocUnsafeSlow(capacity); // its own ArrayBuffer, so that it can be transferred
  }

  get count(): number {
    return this.paths.length;
  }

  /** Adds a file whose content is ASCII text (PEM). */
  add(tmp: string, text: string, mode: number): void {
    if (this.len + text.length > this.buf.length) {
      const next = Buffer.allocUnsafeSlow(Math.max(this.buf.length * 2, this.len + text.length));
      this.buf.copy(next, 0, 0, this.len);
      this.buf = next;
    }
    this.len += this.buf.write(text, this.len, "latin1");
    this.paths.push(tmp);
    this.modes.push(mode);
    this.ends.push(this.len);
  }

  /** The message and its transfer list. */
  message(): [Record<string, unknown>, ArrayBuffer[]] {
    const ab = this.buf.buffer as ArrayBuffer;
    return [{ paths: this.paths.join("\0"), modes: this.modes, ends: this.ends, offset: this.buf.byteOffset, data: ab }, [ab]];
  }
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
    const data = new Uint8Array(m.data, m.offset);
    const paths = m.paths.split("\0");
    let start = 0;
    for (let i = 0; i < paths.length; i++) {
      const end = m.ends[i];
      const mode = m.modes[i];
      let fd;
      try {
        fd = fs.openSync(paths[i], "wx", mode);
      } catch (e) {
        return fail(m.id, i, e);
      }
      try {
        let off = start;
        while (off < end) off += fs.writeSync(fd, data, off, end - off);
        if (mode & umask) fs.fchmodSync(fd, mode);
      } catch (e) {
        try { fs.closeSync(fd); } catch {}
        return fail(m.id, i, e);
      }
      try {
        fs.closeSync(fd);
      } catch (e) {
        return fail(m.id, i, e);
      }
      start = end;
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

  private send(msg: Record<string, unknown>, transfer: ArrayBuffer[] = []): Promise<void> {
    if (this.dead) return Promise.reject(this.dead);
    const id = ++this.seq;
    return new Promise<void>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.worker.postMessage({ ...msg, id }, transfer);
    });
  }

  /** Creates each file of the chunk (exclusively) with its data and exact mode; no flush. */
  write(chunk: FileChunk): Promise<void> {
    const [msg, transfer] = chunk.message();
    return this.send({ op: "write", ...msg }, transfer);
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
