/**
 * Atomic file writes: write beside, flush, rename, flush the directory. One module for the store's
 * single writes (writeFileAtomic) and for bulk issuance's batched ones (writeFlushed, fsyncFile,
 * fsyncPath, writeAtomicAsync: the same steps on libuv's thread pool, the flush grouped per batch
 * by the caller), with one naming of temporary files (tempNameFor) and one error mapping (storeError).
 */
import * as fs from "node:fs";
import { flushPaths } from "./flusher";
import * as path from "node:path";
import * as crypto from "node:crypto";
import { inputError, MtlsError } from "../errors";
import { crashPoint } from "./crashpoints";

/** The pattern of temporary files, .<name>.tmp-<pid>-<8 hex digits> (Store.withLock removes a killed writer's). */
export const TEMP_FILE = /^\.(.*)\.tmp-\d+-[0-9a-f]{8}$/;

/** Where `file` is written before its rename: beside it, .<name>.tmp-<pid>-<8 hex digits> (`id`: those digits; random by default). */
export function tempNameFor(file: string, id?: number): string {
  const hex = id === undefined ? crypto.randomBytes(4).toString("hex") : (id >>> 0).toString(16).padStart(8, "0");
  // the directory part kept as given (bulk names thousands of files: no path.join normalisation per file)
  const cut = Math.max(file.lastIndexOf("/"), path.sep === "/" ? -1 : file.lastIndexOf(path.sep)) + 1;
  return `${file.slice(0, cut)}.${file.slice(cut)}.tmp-${process.pid}-${hex}`;
}

/** Flushes a directory after a rename (best effort: some filesystems refuse it). */
export function fsyncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, "r");
    fs.fsyncSync(fd);
  } catch {
    // some filesystems refuse fsync on directories; the rename is still atomic
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

export interface WriteOptions {
  mode?: number;
  /** Refuse to replace an existing file. */
  exclusive?: boolean;
  /**
   * Leave the flush to the caller (a group commit): the file is written and renamed into place, and
   * `defer` remembers it and its directory, to be flushed together (PendingFlush.flush()) before the
   * commit point that names them.
   */
  defer?: PendingFlush;
}

/**
 * Files written with `defer`, flushed together: each file's data once (fsync through a new
 * descriptor: the data written by any descriptor of the file), then each directory once, however
 * many of the files it holds. Call flush() before the commit that names the files.
 */
export class PendingFlush {
  private readonly files = new Set<string>();
  private readonly dirs = new Set<string>();
  add(file: string): void {
    this.files.add(file);
    this.dirs.add(path.dirname(file));
  }
  flush(): void {
    // every file and every directory at once (src/store/flusher.ts): one wait, however many files. The
    // files were renamed into place already; nothing names them before the commit that follows this.
    try {
      flushPaths([...this.files], [...this.dirs]);
    } catch (e) {
      throw storeError(e, (e as NodeJS.ErrnoException).path ?? [...this.files][0]);
    }
    this.files.clear();
    this.dirs.clear();
  }
}

/** Writes `data` to `file` atomically. With `exclusive`, an existing file is an error (exit 3). */
export function writeFileAtomic(file: string, data: string | Buffer, opts: WriteOptions = {}): void {
  const mode = opts.mode ?? 0o644;
  if (opts.exclusive && fs.existsSync(file)) throw inputError("already exists (use --force to replace it)", file);
  const tmp = tempNameFor(file);
  let fd: number | undefined;
  try {
    fd = fs.openSync(tmp, "wx", mode);
    crashPoint(`temp file created, empty: ${path.basename(tmp)}`);
    fs.writeSync(fd, typeof data === "string" ? Buffer.from(data) : data);
    if (!opts.defer) fs.fsyncSync(fd);
    fs.closeSync(fd);
    fd = undefined;
    fs.chmodSync(tmp, mode); // the umask may have narrowed or widened nothing; make it exact
    crashPoint(`before rename: ${file}`);
    if (opts.exclusive) {
      // link() fails if the target exists, so a racing writer cannot be overwritten
      fs.linkSync(tmp, file);
      crashPoint(`after link, temp file not yet removed: ${file}`);
      fs.unlinkSync(tmp);
    } else fs.renameSync(tmp, file);
    crashPoint(`after rename: ${file}`);
    if (opts.defer) opts.defer.add(file);
    else fsyncDir(path.dirname(file));
  } catch (e) {
    if (fd !== undefined) fs.closeSync(fd);
    try {
      fs.unlinkSync(tmp);
    } catch {
      /* already gone */
    }
    if ((e as NodeJS.ErrnoException).code === "EEXIST") throw inputError("already exists (use --force to replace it)", file);
    throw storeError(e, file);
  }
}

// ---------------------------------------------------------------- batched, asynchronous (bulk issuance)

/** Exact modes need a chmod only when the umask takes bits away from them. */
export const UMASK = process.umask();

/** open (exclusive), write the parts, chmod when needed, fsync, close: all on the thread pool. */
export function writeFlushed(file: string, data: Buffer | Buffer[], mode: number, cb: (err: NodeJS.ErrnoException | null) => void): void {
  const parts = Array.isArray(data) ? data : [data];
  fs.open(file, "wx", mode, (err, fd) => {
    if (err) return cb(err);
    const fail = (e: NodeJS.ErrnoException) => fs.close(fd, () => cb(e));
    const flush = () =>
      fs.fsync(fd, (e) => {
        if (e) return fail(e);
        fs.close(fd, cb);
      });
    const chmod = () => (mode & UMASK ? fs.fchmod(fd, mode, (e) => (e ? fail(e) : flush())) : flush());
    const write = (k: number, off: number): void => {
      if (k === parts.length) return chmod();
      const p = parts[k];
      if (off >= p.length) return write(k + 1, 0);
      fs.write(fd, p, off, p.length - off, null, (e, n) => (e ? fail(e) : write(k, off + n)));
    };
    write(0, 0);
  });
}

/** open, fsync, close on the thread pool. */
export function fsyncFile(file: string, cb: (err: NodeJS.ErrnoException | null) => void): void {
  fs.open(file, "r", (err, fd) => {
    if (err) return cb(err);
    fs.fsync(fd, (e) => fs.close(fd, (e2) => cb(e ?? e2)));
  });
}

/** fsync of a directory (its entries, after renames). Some filesystems refuse it: then nothing. */
export function fsyncPath(dir: string): Promise<void> {
  return new Promise((resolve) =>
    fs.open(dir, "r", (err, fd) => {
      if (err) return resolve();
      fs.fsync(fd, () => fs.close(fd, () => resolve()));
    }),
  );
}

/** writeFileAtomic's asynchronous variant (beside, flush, rename, flush the directory), on the thread pool. `id`: see tempNameFor. */
export function writeAtomicAsync(file: string, data: Buffer | Buffer[], mode: number, id?: number): Promise<void> {
  const tmp = tempNameFor(file, id);
  return new Promise<void>((resolve, reject) =>
    writeFlushed(tmp, data, mode, (err) => {
      if (err) {
        fs.unlink(tmp, () => reject(err));
        return;
      }
      fs.rename(tmp, file, (e) => {
        if (e) {
          fs.unlink(tmp, () => reject(e));
          return;
        }
        fsyncPath(path.dirname(file)).then(resolve);
      });
    }),
  );
}

/** A store write's failure as the one-line input error that names the file (exit 3); other errors as they are. */
export function storeError(e: unknown, file: string): Error {
  const err = e as NodeJS.ErrnoException;
  if (err instanceof MtlsError) return err;
  if (err.code === "EACCES" || err.code === "EPERM" || err.code === "EROFS") return inputError("cannot write (permission denied or read-only)", file);
  if (err.code === "ENOSPC" || err.code === "EDQUOT") return inputError("cannot write (no space left on the device)", file);
  if (err.code === "ENOENT") return inputError("cannot write (the directory does not exist)", file);
  return err;
}


