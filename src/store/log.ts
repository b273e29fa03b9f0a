/**
 * The file store's certificate records, kept so that one issuance costs the same in a store of 100
 * certificates and in one of 100,000 (issue 16 §3): nothing on the single-issuance path reads or
 * rewrites the whole inventory, or lists a directory that grows with it.
 *
 *   <dir>/inventory.json        the header only: { version: 2, ca, crl?, nkeys?, previousCas? }
 *   <dir>/db/log/<n>.json       segments: a JSON array of records each, n = 000000000001, 2, ...
 *   <dir>/db/idx/n-<hh>.log     name index, 64 buckets: lines "<name>\t<n>" (the segments naming it)
 *   <dir>/db/idx/s-<hh>.log     serial index, 64 buckets: lines "<serial>\t<n>"
 *   <dir>/db/idx/n-ff.log       the recent index lines of both indexes ("n:<name>\t<n>", "s:<serial>\t<n>"),
 *                               flushed once per commit (see below); named as a bucket beyond the 64
 *   <dir>/db/seq                the number of the newest segment (a hint: probed upward from it)
 *   <dir>/db/journal.json       a change of the header together with records (see below)
 *
 * The inventory's records are the segments read in order: a record (by serial) takes the place of
 * the first one of that serial it meets, where that one stood, so the order of `list` is the order
 * of first issue, as in the single-file inventory. A change of records (an issuance, a renewal, a
 * bulk batch) is one new segment: its creation (written beside, flushed, linked into place) is the
 * commit point. Its index lines are appended before it and made durable before it: an index line is
 * a hint (a lookup reads the segments it names and keeps the records of that name or serial), so a
 * line of a segment that a crash never created, or one cut short, names nothing. A single issuance or
 * an online batch touches up to 64 buckets: rather than one flush per bucket, its lines go to the
 * buckets unflushed and, all together, to the recent file (idx/n-ff.log), flushed once. A lookup reads
 * the bucket and the recent file (after a power loss the bucket may lack lines that the recent file
 * holds). When the recent file passes RECENT_MAX bytes, the next commit flushes every bucket, then
 * removes it. Bulk batches flush their buckets themselves (appendAsync: in parallel). Index files
 * only grow (or are replaced whole, by a migration): a process keeps their text and reads only
 * what was appended since (by size, inode).
 *
 * A change of the header with records (revoke: the record and the CRL number; rollover; nkeys; ca
 * install) is written as db/journal.json first (the commit point), then applied (a segment, then
 * inventory.json) and removed; a reader that finds a journal reads it on top, and the next locked
 * command applies it again when a crash stopped it (applying twice appends an equal segment).
 * A change of the header alone is inventory.json's atomic replacement.
 *
 * Old stores (inventory.json version 1 with certificates[]) are read as they are, and migrated by
 * the first locked command: one segment with every record and its index, then the header (the
 * commit point; db/ left by an interrupted migration is removed first).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { fsyncDir, storeError, tempNameFor, writeFileAtomic } from "./atomic";
import { crashPoint } from "./crashpoints";
import { flushAll, flushAllAsync, flushPathsAsync, type FlushItem } from "./flusher";
import type { CertRecord, InventoryHeader } from "./types";
import { appendFlushed, appendFlushedAsync, appendPlain, BUCKETS, flushFile, indexLines, lines, nameBucket, serialBucket, type IndexText, type Journal } from "./log-index";

export { appendFlushed, BUCKETS, indexLines, nameBucket, serialBucket, type Journal };

const SEGMENT = /^(\d{12})\.json$/;
const pad = (n: number) => String(n).padStart(12, "0");

/** The recent file (see the top): the lines of both indexes since every bucket was last flushed. */
export const RECENT = "n-ff.log";
/** Past this size the recent file is folded: every bucket flushed, then the file removed. */
export const RECENT_MAX = 64 * 1024;
/** Parsed segments kept in memory (the first read is the first to go: a service reads the newest most). */
const SEGMENT_CACHE = 512;
/** Names whose records recordsOfName keeps folded. */
const NAME_CACHE = 4096;

/** Folds records into inventory order: a serial seen again takes the place of its first record. */
export class Folder {
  private readonly at = new Map<string, number>();
  readonly records: CertRecord[] = [];
  add(list: CertRecord[]): void {
    for (const r of list) {
      const i = this.at.get(r.serial);
      if (i === undefined) {
        this.at.set(r.serial, this.records.length);
        this.records.push(r);
      } else this.records[i] = r;
    }
  }
}

export class RecordLog {
  readonly db: string;
  readonly logDir: string;
  readonly idxDir: string;
  private readonly segments = new Map<number, CertRecord[]>();
  /** Index files' text as last read (they only grow): by file name, with the inode and size it was read at. */
  /** recordsOfName's folds: by name, the segments folded (and the last) and the records. */
  private readonly names = new Map<string, { folded: Set<number>; last: number; folder: Folder }>();
  private readonly texts = new Map<string, IndexText>();

  constructor(readonly dir: string) {
    this.db = path.join(dir, "db");
    this.logDir = path.join(this.db, "log");
    this.idxDir = path.join(this.db, "idx");
  }

  get journalFile(): string {
    return path.join(this.db, "journal.json");
  }
  get seqFile(): string {
    return path.join(this.db, "seq");
  }
  segmentFile(n: number): string {
    return path.join(this.logDir, `${pad(n)}.json`);
  }

  get recentFile(): string {
    return path.join(this.idxDir, RECENT);
  }

  /** A segment's records ([] when it does not exist: a crash before its commit). `keep`: cached for the next reads. */
  segment(n: number, keep = true): CertRecord[] {
    return this.segmentIfAny(n, keep) ?? [];
  }

  /** A segment's records, undefined when it does not exist (yet). */
  private segmentIfAny(n: number, keep = true): CertRecord[] | undefined {
    const cached = this.segments.get(n);
    if (cached) return cached;
    let text: string;
    try {
      text = fs.readFileSync(this.segmentFile(n), "utf8");
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw e;
    }
    const recs = JSON.parse(text) as CertRecord[];
    if (keep) this.keep(n, recs);
    return recs;
  }

  private keep(n: number, recs: CertRecord[]): void {
    if (this.segments.size >= SEGMENT_CACHE) this.segments.delete(this.segments.keys().next().value!);
    this.segments.set(n, recs);
  }

  /** Every segment number, ascending (a directory listing: for the commands that read everything). */
  segmentNumbers(): number[] {
    let names: string[];
    try {
      names = fs.readdirSync(this.logDir);
    } catch {
      return [];
    }
    const out: number[] = [];
    for (const n of names) {
      const m = SEGMENT.exec(n);
      if (m) out.push(Number(m[1]));
    }
    return out.sort((a, b) => a - b);
  }

  /** Every record, in inventory order (the segments read are not kept: a store of 100,000 would stay in memory). */
  readAll(): CertRecord[] {
    const f = new Folder();
    for (const n of this.segmentNumbers()) f.add(this.segment(n, false));
    return f.records;
  }

  /**
   * Every segment's records, one segment at a time, oldest first, none kept (a scan in little memory).
   * With `hint`: only the segments whose text holds it (the others are read as bytes, never parsed).
   */
  *scan(hint?: string): Generator<CertRecord[]> {
    const needle = hint === undefined ? null : Buffer.from(hint);
    let buf = Buffer.allocUnsafe(1 << 20); // one buffer for every segment: 100 reads of 1 MB would each stay with the allocator
    for (const n of this.segmentNumbers()) {
      const cached = this.segments.get(n);
      if (cached) {
        yield cached;
        continue;
      }
      let len = 0;
      let fd: number;
      try {
        fd = fs.openSync(this.segmentFile(n), "r");
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === "ENOENT") continue;
        throw e;
      }
      try {
        const size = fs.fstatSync(fd).size;
        if (size > buf.length) buf = Buffer.allocUnsafe(size);
        while (len < size) {
          const k = fs.readSync(fd, buf, len, size - len, len);
          if (!k) break;
          len += k;
        }
      } finally {
        fs.closeSync(fd);
      }
      const data = buf.subarray(0, len);
      if (needle && data.indexOf(needle) < 0) continue;
      yield JSON.parse(data.toString("utf8")) as CertRecord[];
    }
  }

  /**
   * An index file as last read (undefined when missing): its text when first read (`base`, complete
   * lines), and the lines appended since, parsed into `tail` (key -> segment numbers) as they come:
   * a file that grows by a line a commit is never copied again (a long string a commit would be
   * garbage by the megabyte under load).
   */
  private indexOf(file: string): IndexText | undefined {
    const st = fs.statSync(file, { throwIfNoEntry: false });
    if (!st) {
      this.texts.delete(file);
      return undefined;
    }
    const had = this.texts.get(file);
    const same = had !== undefined && had.ino === st.ino && had.born === st.birthtimeMs && had.size <= st.size;
    if (same && had.size === st.size) return had;
    try {
      if (same) {
        const fd = fs.openSync(file, "r");
        let text: string;
        try {
          const buf = Buffer.alloc(st.size - had.size);
          let got = 0;
          while (got < buf.length) {
            const k = fs.readSync(fd, buf, got, buf.length - got, had.size + got);
            if (!k) break;
            got += k;
          }
          had.size += got;
          text = had.partial + buf.toString("utf8", 0, got);
        } finally {
          fs.closeSync(fd);
        }
        const last = text.lastIndexOf("\n");
        had.partial = text.slice(last + 1);
        for (const line of text.slice(0, last + 1).split("\n")) {
          const t = line.lastIndexOf("\t");
          if (t <= 0) continue;
          const n = Number(line.slice(t + 1));
          if (!Number.isInteger(n) || n <= 0) continue;
          const key = line.slice(0, t);
          const l = had.tail.get(key);
          if (l) l.push(n);
          else had.tail.set(key, [n]);
        }
        return had;
      }
      const data = fs.readFileSync(file);
      const last = data.lastIndexOf(0x0a);
      const e: IndexText = { ino: st.ino, born: st.birthtimeMs, size: data.length, base: data.toString("utf8", 0, last + 1), partial: data.toString("utf8", last + 1), tail: new Map() };
      this.texts.set(file, e);
      return e;
    } catch {
      this.texts.delete(file);
      return undefined;
    }
  }

  /** The segments an index bucket (and the recent file) names for `key` (ascending, no repeats). */
  private lookup(bucket: string, key: string): number[] {
    const seen = new Set<number>();
    for (const [ix, k] of [
      [this.indexOf(path.join(this.idxDir, bucket)), key],
      [this.indexOf(this.recentFile), bucket[0] + ":" + key],
    ] as const) {
      if (!ix) continue;
      lines(ix.base, k + "\t", seen);
      for (const n of ix.tail.get(k) ?? []) seen.add(n);
    }
    return [...seen].sort((a, b) => a - b);
  }


  /**
   * Every record of a name, oldest first (from the name's index bucket and the segments it names).
   * A name renewed every few minutes is named by thousands of segments: what was folded is kept
   * (segments never change once they exist), and only the segments named since are read.
   */
  recordsOfName(name: string): CertRecord[] {
    const nums = this.lookup(nameBucket(name), name);
    let m = this.names.get(name);
    this.names.delete(name);
    if (m && nums.some((n) => n < m!.last && !m!.folded.has(n))) m = undefined; // a segment before the last folded: fold anew
    m ??= { folded: new Set(), last: 0, folder: new Folder() };
    for (const n of nums) {
      if (m.folded.has(n)) continue;
      const seg = this.segmentIfAny(n);
      if (seg === undefined) continue; // named before its commit (or by a writer that crashed): not yet a segment
      m.folder.add(seg.filter((r) => r.name === name));
      m.folded.add(n);
      m.last = n;
    }
    this.names.set(name, m);
    if (this.names.size > NAME_CACHE) this.names.delete(this.names.keys().next().value!);
    return [...m.folder.records];
  }

  /** The newest record of a serial, or undefined. */
  recordOfSerial(serial: string): CertRecord | undefined {
    const s = serial.toLowerCase();
    let found: CertRecord | undefined;
    for (const n of this.lookup(serialBucket(s), s)) for (const r of this.segment(n)) if (r.serial.toLowerCase() === s) found = r;
    return found;
  }

  /** Whether the serial index names the serial (a reservation or a record: both stay taken). */
  serialIndexed(serial: string): boolean {
    return this.lookup(serialBucket(serial), serial.toLowerCase()).length > 0;
  }

  /** The number the next segment gets: the hint in db/seq, probed upward past segments that exist. */
  private nextNumber(): number {
    let n = 0;
    try {
      n = Number(fs.readFileSync(this.seqFile, "utf8").trim());
    } catch {
      /* none yet */
    }
    if (!Number.isInteger(n) || n < 0) n = Math.max(0, ...this.segmentNumbers());
    n++;
    while (fs.existsSync(this.segmentFile(n))) n++;
    return n;
  }

  private ensureDirs(): void {
    fs.mkdirSync(this.logDir, { recursive: true, mode: 0o755 });
    fs.mkdirSync(this.idxDir, { recursive: true, mode: 0o755 });
  }

  /**
   * Commits records as one new segment (call it holding the lock): index lines appended and flushed,
   * then the segment written beside, flushed and linked into place (the commit point). `text`: the
   * segment's JSON when the caller has it already (bulk); else JSON.stringify(records).
   */
  append(records: CertRecord[], text?: string, dirs: string[] = []): number {
    if (!records.length) return 0;
    this.ensureDirs();
    const n = this.nextNumber();
    this.foldRecent();
    let recent = "";
    for (const [bucket, text] of indexLines(records, n)) {
      appendPlain(path.join(this.idxDir, bucket), text);
      recent += text.replace(/^(?=.)/gm, bucket[0] + ":");
    }
    // the recent file's one flush makes every line above durable; it is flushed together with the segment's data, before its link
    // `dirs`: directories whose new entries must be durable with this commit (store.keepAside's), flushed together too
    const also: FlushItem[] = [];
    try {
      also.push({ fd: fs.openSync(this.recentFile, "a", 0o644), file: this.recentFile });
      fs.writeSync(also[0].fd, recent);
      for (const d of dirs) {
        try {
          also.push({ fd: fs.openSync(d, "r"), file: d, optional: true });
        } catch {
          /* as fsyncDir: a directory that cannot be opened is not flushed */
        }
      }
      crashPoint(`index appended, before the segment: ${this.segmentFile(n)}`);
      this.publish(n, text ?? JSON.stringify(records), also);
    } finally {
      for (const it of also) fs.closeSync(it.fd);
    }
    this.keep(n, records);
    return n;
  }

  /**
   * append() for a writer that waits asynchronously (the online CA's group commit: serve keeps
   * answering TLS handshakes meanwhile): the same steps in the same order, the flushes on the thread
   * pool. Call it holding the lock.
   */
  async appendDurable(records: CertRecord[], dirs: string[] = []): Promise<number> {
    if (!records.length) return 0;
    this.ensureDirs();
    const n = this.nextNumber();
    if ((fs.statSync(this.recentFile, { throwIfNoEntry: false })?.size ?? 0) >= RECENT_MAX) {
      const buckets: string[] = [];
      for (let i = 0; i < BUCKETS; i++) {
        const hh = i.toString(16).padStart(2, "0");
        for (const b of [`n-${hh}.log`, `s-${hh}.log`]) if (fs.existsSync(path.join(this.idxDir, b))) buckets.push(path.join(this.idxDir, b));
      }
      await flushPathsAsync(buckets);
      crashPoint(`buckets flushed, recent index not yet removed: ${this.recentFile}`);
      fs.unlinkSync(this.recentFile);
    }
    let recent = "";
    for (const [bucket, text] of indexLines(records, n)) {
      appendPlain(path.join(this.idxDir, bucket), text);
      recent += text.replace(/^(?=.)/gm, bucket[0] + ":");
    }
    const file = this.segmentFile(n);
    const tmp = tempNameFor(file);
    const items: FlushItem[] = [];
    let linked = false;
    try {
      items.push({ fd: fs.openSync(this.recentFile, "a", 0o644), file: this.recentFile });
      fs.writeSync(items[0].fd, recent);
      crashPoint(`index appended, before the segment: ${file}`);
      const data = Buffer.from(JSON.stringify(records));
      items.push({ fd: fs.openSync(tmp, "wx", 0o644), file: tmp });
      for (let off = 0; off < data.length; ) off += fs.writeSync(items[1].fd, data, off, data.length - off);
      for (const d of dirs) {
        try {
          items.push({ fd: fs.openSync(d, "r"), file: d, optional: true });
        } catch {
          /* as fsyncDir */
        }
      }
      await flushAllAsync(items);
      fs.chmodSync(tmp, 0o644);
      crashPoint(`before the segment's link (the commit point): ${file}`);
      fs.linkSync(tmp, file); // never over an existing segment
      linked = true;
      crashPoint(`segment linked, temporary name not yet removed: ${file}`);
    } catch (e) {
      throw storeError(e, file);
    } finally {
      for (const it of items) fs.closeSync(it.fd);
      try {
        fs.unlinkSync(tmp);
      } catch {
        /* not created */
      }
    }
    if (linked) crashPoint(`after the segment's link: ${file}`);
    await flushPathsAsync([], [this.logDir]);
    this.writeSeq(n);
    this.keep(n, records);
    return n;
  }

  /** A recent file past RECENT_MAX: every bucket flushed (what any process appended), then the file removed. */
  private foldRecent(): void {
    const st = fs.statSync(this.recentFile, { throwIfNoEntry: false });
    if (!st || st.size < RECENT_MAX) return;
    for (let i = 0; i < BUCKETS; i++) {
      const hh = i.toString(16).padStart(2, "0");
      flushFile(path.join(this.idxDir, `n-${hh}.log`));
      flushFile(path.join(this.idxDir, `s-${hh}.log`));
    }
    crashPoint(`buckets flushed, recent index not yet removed: ${this.recentFile}`);
    fs.unlinkSync(this.recentFile); // not flushed: should it come back, its lines are in the buckets too
  }

  /** append() on the thread pool for bulk batches: the record text is the caller's, the index buckets flushed in parallel. */
  async appendAsync(records: { name: string; serial: string }[], text: string | Buffer, count: number): Promise<number> {
    if (!count) return 0;
    this.ensureDirs();
    const n = this.nextNumber();
    await Promise.all([...indexLines(records, n)].map(([bucket, lines]) => appendFlushedAsync(path.join(this.idxDir, bucket), lines)));
    crashPoint(`bulk: index appended, before the segment: ${this.segmentFile(n)}`);
    this.publish(n, text);
    return n;
  }

  /** Writes segment n beside, flushes it (and `also`, together), links it into place (the commit point). */
  private publish(n: number, text: string | Buffer, also: FlushItem[] = []): void {
    const file = this.segmentFile(n);
    const tmp = tempNameFor(file);
    const data = typeof text === "string" ? Buffer.from(text) : text;
    try {
      const fd = fs.openSync(tmp, "wx", 0o644);
      try {
        for (let off = 0; off < data.length; ) off += fs.writeSync(fd, data, off, data.length - off);
        flushAll([{ fd, file: tmp }, ...also]);
      } finally {
        fs.closeSync(fd);
      }
      fs.chmodSync(tmp, 0o644);
      crashPoint(`before the segment's link (the commit point): ${file}`);
      fs.linkSync(tmp, file); // never over an existing segment
      crashPoint(`segment linked, temporary name not yet removed: ${file}`);
    } catch (e) {
      try {
        fs.unlinkSync(tmp);
      } catch {
        /* not created */
      }
      throw storeError(e, file);
    }
    fs.unlinkSync(tmp);
    crashPoint(`after the segment's link: ${file}`);
    fsyncDir(this.logDir);
    this.writeSeq(n);
  }

  /** The hint for the next segment (not flushed: a stale hint is probed past). */
  private writeSeq(n: number): void {
    try {
      const t = tempNameFor(this.seqFile);
      fs.writeFileSync(t, String(n) + "\n", { mode: 0o644 });
      fs.renameSync(t, this.seqFile);
    } catch {
      /* a hint */
    }
  }

  /** A journal left by a writer (unapplied), or null. */
  readJournal(): Journal | null {
    let text: string;
    try {
      text = fs.readFileSync(this.journalFile, "utf8");
    } catch {
      return null;
    }
    return JSON.parse(text) as Journal;
  }

  writeJournal(j: Journal): void {
    fs.mkdirSync(this.db, { recursive: true, mode: 0o755 });
    crashPoint(`before the journal write: ${this.journalFile}`);
    writeFileAtomic(this.journalFile, JSON.stringify(j) + "\n", { mode: 0o644 });
    crashPoint(`journal written (the commit point), not yet applied: ${this.journalFile}`);
  }

  removeJournal(): void {
    try {
      fs.unlinkSync(this.journalFile);
    } catch {
      /* gone */
    }
    fsyncDir(this.db);
  }

  /** Forgets cached segments and index text (another process may have written). */
  reset(): void {
    this.segments.clear();
    this.texts.clear();
    this.names.clear();
  }
}
