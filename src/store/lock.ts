/**
 * The store lock: a file created exclusively, holding the owner's PID. A lock whose owner is gone
 * (e.g. killed) is taken over. Waits up to 30 s, then fails with exit 3.
 */
import * as fs from "node:fs";
import { inputError } from "../errors";
import { tempNameFor } from "./atomic";
import { crashPoint } from "./crashpoints";

const sleeper = new Int32Array(new SharedArrayBuffer(4));
const sleep = (ms: number) => Atomics.wait(sleeper, 0, 0, ms);

/** Whether a process with this PID exists (EPERM: it exists, owned by someone else). */
export function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

function ownerAlive(lockFile: string): boolean {
  let pid: number;
  try {
    pid = Number(fs.readFileSync(lockFile, "utf8").trim());
  } catch {
    return true; // being written or removed right now: treat as held
  }
  return pidAlive(pid);
}

/** Releases the lock; `tookOver`: the lock was taken from a dead owner (a killed writer: its leftovers need a sweep). */
export type LockRelease = (() => void) & { tookOver: boolean };

export function acquireLock(lockFile: string, timeoutMs = 30_000): LockRelease {
  const deadline = Date.now() + timeoutMs;
  let delay = 5;
  // The lock file appears with its owner's PID already in it (written beside, then linked into
  // place), so a waiter never sees an empty lock and takes it for a stale one.
  const tmp = tempNameFor(lockFile);
  try {
    fs.writeFileSync(tmp, String(process.pid), { mode: 0o600, flag: "wx" });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "EACCES" || code === "EPERM" || code === "EROFS") throw inputError("cannot lock the store (permission denied or read-only)", lockFile);
    if (code === "ENOENT") throw inputError("the store directory does not exist", lockFile);
    throw e;
  }
  try {
    return lockLoop(lockFile, tmp, deadline, delay);
  } finally {
    try {
      fs.unlinkSync(tmp);
    } catch {
      /* gone */
    }
  }
}

function lockLoop(lockFile: string, tmp: string, deadline: number, delay: number): LockRelease {
  let tookOver = false;
  for (;;) {
    try {
      fs.linkSync(tmp, lockFile);
      crashPoint(`store lock taken: ${lockFile}`);
      let released = false;
      const release = () => {
        if (released) return;
        released = true;
        process.removeListener("exit", release);
        try {
          fs.unlinkSync(lockFile);
        } catch {
          /* gone */
        }
      };
      process.on("exit", release);
      return Object.assign(release, { tookOver });
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === "EACCES" || code === "EPERM" || code === "EROFS") throw inputError("cannot lock the store (permission denied or read-only)", lockFile);
      if (code === "ENOENT") throw inputError("the store directory does not exist", lockFile);
      if (code !== "EEXIST") throw e;
    }
    if (!ownerAlive(lockFile)) {
      // Stale: rename it away first so that two waiters cannot both delete a fresh lock.
      const aside = `${lockFile}.stale-${process.pid}`;
      tookOver = true; // whoever removes it, a writer died: this one sweeps too
      try {
        fs.renameSync(lockFile, aside);
        if (ownerAlive(aside)) {
          // lost a race with a fresh lock: put it back unless yet another one has appeared
          try {
            fs.linkSync(aside, lockFile);
          } catch {
            /* a newer lock holds the name */
          }
        }
        fs.unlinkSync(aside);
      } catch {
        /* someone else handled it */
      }
      continue;
    }
    if (Date.now() > deadline) throw inputError("the store is locked by another mtlsctl process (waited 30 s)", lockFile);
    sleep(delay);
    delay = Math.min(delay * 2, 100);
  }
}
