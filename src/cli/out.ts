/**
 * Output without process.stdout / process.stderr: touching either builds a stream (node:stream,
 * node:net or node:tty, about 2 ms of start-up, issue 9). On Linux those streams write synchronously
 * to files, pipes and terminals anyway, so writing with fs.writeSync keeps the same order with any
 * output that does go through them (commander's help).
 */
import * as fs from "node:fs";

function writeAll(fd: number, data: string | Buffer): void {
  let buf = typeof data === "string" ? Buffer.from(data, "utf8") : data;
  let waits = 0;
  while (buf.length) {
    try {
      const n = fs.writeSync(fd, buf);
      buf = buf.subarray(n);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      // a reader that went away (`mtlsctl list | head`): the rest has nowhere to go
      if (code === "EPIPE") return;
      // a non-blocking descriptor (shared with another process in a pipeline): wait for room
      if (code === "EAGAIN" && waits++ < 60_000) {
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1);
        continue;
      }
      throw e;
    }
  }
}

export const writeOut = (data: string | Buffer): void => writeAll(1, data);
export const writeErr = (text: string): void => writeAll(2, text);

/**
 * isatty(fd) without loading node:tty (which loads node:net, ~2 ms) when fd cannot be a terminal: only a
 * character device can be one, so a pipe or a file (scripts, CI) is answered by fstat alone; so is Linux's
 * memory-device major 1 (/dev/null, /dev/zero, /dev/full, /dev/urandom), where scripts and benchmarks send
 * what they do not read (`mtlsctl verify ... >/dev/null && ...`).
 */
export function isatty(fd: number): boolean {
  try {
    const st = fs.fstatSync(fd);
    if (!st.isCharacterDevice()) return false;
    if (process.platform === "linux" && linuxMajor(st.rdev) === 1) return false;
  } catch {
    return false;
  }
  return (require("node:tty") as typeof import("node:tty")).isatty(fd);
}

/** The major number of a Linux device number (glibc's gnu_dev_major: bits 8-19 and 32-43). */
export function linuxMajor(rdev: number): number {
  const hi = Math.floor(rdev / 2 ** 32);
  return ((rdev >>> 8) & 0xfff) | ((hi & ~0xfff) >>> 0);
}
