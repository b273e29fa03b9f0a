/**
 * The record log's index files (src/store/log.ts): the bucket of a name or a serial, the lines a
 * segment adds, appends with and without a flush, and reading an index file's lines.
 */
import * as fs from "node:fs";
import type { CertRecord, InventoryHeader } from "./types";

export const BUCKETS = 64;

/** FNV-1a, 32 bits: a name's bucket. */
export function fnv(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
export const nameBucket = (name: string): string => `n-${(fnv(name) % BUCKETS).toString(16).padStart(2, "0")}.log`;
export const serialBucket = (serial: string): string => `s-${(fnv(serial.toLowerCase()) % BUCKETS).toString(16).padStart(2, "0")}.log`;

export interface Journal {
  header: Omit<InventoryHeader, "version"> & { version: 2 };
  records: CertRecord[];
}

/** Groups index lines by bucket file: the lines a segment's records add. */
export function indexLines(records: { name: string; serial: string }[], seg: number): Map<string, string> {
  const out = new Map<string, string>();
  const add = (f: string, line: string) => out.set(f, (out.get(f) ?? "") + line);
  const n = String(seg);
  let last = "";
  for (const r of records) {
    if (r.name !== last) add(nameBucket(r.name), `${r.name}\t${n}\n`); // a renewal's two records: one line
    last = r.name;
    add(serialBucket(r.serial), `${r.serial.toLowerCase()}\t${n}\n`);
  }
  return out;
}

/** Appends and flushes (one bucket file at a time; sync). */
export function appendFlushed(file: string, text: string): void {
  const fd = fs.openSync(file, "a", 0o644);
  try {
    fs.writeSync(fd, text);
    fs.fdatasyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** Appends without a flush (an index bucket whose lines the recent file makes durable). */
export function appendPlain(file: string, text: string): void {
  const fd = fs.openSync(file, "a", 0o644);
  try {
    fs.writeSync(fd, text);
  } finally {
    fs.closeSync(fd);
  }
}

/** Flushes a file's data, when it exists. */
export function flushFile(file: string): void {
  let fd: number;
  try {
    fd = fs.openSync(file, "r");
  } catch {
    return;
  }
  try {
    fs.fdatasyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** Appends and flushes on the thread pool (bulk: every bucket of a batch at once). */
export function appendFlushedAsync(file: string, text: string): Promise<void> {
  return new Promise((resolve, reject) =>
    fs.open(file, "a", 0o644, (err, fd) => {
      if (err) return reject(err);
      fs.write(fd, text, (e) => {
        if (e) return fs.close(fd, () => reject(e));
        fs.fdatasync(fd, (e2) => fs.close(fd, (e3) => (e2 || e3 ? reject(e2 || e3) : resolve())));
      });
    }),
  );
}

/** An index file as a RecordLog keeps it (see RecordLog.indexOf). */
export interface IndexText {
  ino: number;
  born: number;
  /** Bytes read so far. */
  size: number;
  /** The complete lines of the first read. */
  base: string;
  /** A line not yet complete at the last read. */
  partial: string;
  /** Complete lines read since: key -> segment numbers. */
  tail: Map<string, number[]>;
}

/** Adds to `seen` the segment numbers of the complete lines of `text` that start with `prefix`. */
export function lines(text: string, prefix: string, seen: Set<number>): void {
  let at = 0;
  for (;;) {
    const i = text.indexOf(prefix, at);
    if (i < 0) break;
    const end = text.indexOf("\n", i);
    at = end < 0 ? text.length : end + 1;
    if (i > 0 && text[i - 1] !== "\n") continue; // another key ending in this one
    if (end < 0) break; // cut short by a crash
    const n = Number(text.slice(i + prefix.length, end));
    if (Number.isInteger(n) && n > 0) seen.add(n);
  }
}
