/** Atomic file writes: write beside, flush, rename, flush the directory. */
import * as fs from "node:fs";
import * as path from "node:path";
import * as crypto from "node:crypto";
import { inputError } from "../errors";
import { crashPoint } from "./crashpoints";

export function tempNameFor(file: string): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.tmp-${process.pid}-${crypto.randomBytes(4).toString("hex")}`);
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
    fs.fsyncSync(fd);
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
    fsyncDir(path.dirname(file));
  } catch (e) {
    if (fd !== undefined) fs.closeSync(fd);
    try {
      fs.unlinkSync(tmp);
    } catch {
      /* already gone */
    }
    const err = e as NodeJS.ErrnoException;
    if (err.code === "EEXIST") throw inputError("already exists (use --force to replace it)", file);
    if (err.code === "EACCES" || err.code === "EPERM" || err.code === "EROFS") throw inputError("cannot write (permission denied or read-only)", file);
    if (err.code === "ENOENT") throw inputError("cannot write (the directory does not exist)", file);
    throw e;
  }
}
