/** Asynchronous file writes for bulk issuance: the work runs on libuv's thread pool. */
import * as fs from "node:fs";
import * as path from "node:path";
import { inputError, MtlsError } from "../errors";

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

/** Atomic write (beside, flush, rename, flush the directory), asynchronous. */
export function writeAtomicAsync(file: string, data: Buffer | Buffer[], mode: number, tempName: () => string): Promise<void> {
  const tmp = path.join(path.dirname(file), tempName());
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

export function storeError(e: unknown, file: string): Error {
  const err = e as NodeJS.ErrnoException;
  if (err instanceof MtlsError) return err;
  if (err.code === "EACCES" || err.code === "EPERM" || err.code === "EROFS") return inputError("cannot write (permission denied or read-only)", file);
  if (err.code === "ENOSPC" || err.code === "EDQUOT") return inputError("cannot write (no space left on the device)", file);
  if (err.code === "ENOENT") return inputError("cannot write (the directory does not exist)", file);
  return err;
}

