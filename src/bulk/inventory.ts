/**
 * The inventory, as bulk issuance updates it: once per batch, without holding the whole inventory
 * in memory and without serializing it again per batch.
 *
 * Store.writeInventory writes JSON.stringify(inventory, null, 2) + "\n". When the file is exactly
 * that (checked when it is read), appending records to the certificates array means inserting their
 * text before the array's closing "\n  ]". A commit therefore copies the current file beside it
 * (fs.copyFile: a kernel-side copy), cuts it at that point, writes the batch's records and the
 * unchanged tail, flushes it and renames it over the inventory (then flushes the directory): the
 * same atomic replacement as writeFileAtomic, with memory in proportion to the batch. A file in any
 * other form (edited by hand, or with no certificate yet) is rewritten in full at the first commit,
 * which puts it in that form.
 *
 * Between two reads, the file is recognised by its inode, size and modification time: when it is
 * still the one this process wrote last, nobody else changed it, and it is not read again.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { CertRecord, Inventory, Store } from "../store/store";
import { fsyncPath, tempNameFor, writeAtomicAsync } from "../store/atomic";

const MODE = 0o644;

/** A record as JSON.stringify(inventory, null, 2) writes it inside the certificates array. */
export function recordText(r: CertRecord): string {
  return JSON.stringify(r, null, 2).replace(/\n/g, "\n    ");
}

/** The text after the last record of a non-empty certificates array, to the end of the file. */
function tailOf(inv: Inventory): Buffer {
  const mark = `@@records-${process.pid}-${Date.now()}@@`;
  const shell = JSON.stringify({ ...inv, certificates: [mark] }, null, 2);
  const slot = `[\n    "${mark}"\n  ]`;
  const at = shell.lastIndexOf(slot);
  return Buffer.from("\n  ]" + shell.slice(at + slot.length) + "\n");
}

/** A growable byte buffer (doubling) for text that is appended piece by piece. */
export class ByteList {
  private buf = Buffer.allocUnsafe(0);
  private len = 0;

  append(text: string): void {
    const n = Buffer.byteLength(text);
    if (this.len + n > this.buf.length) {
      const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.len + n, 4096));
      this.buf.copy(next, 0, 0, this.len);
      this.buf = next;
    }
    this.len += this.buf.write(text, this.len);
  }

  bytes(): Buffer {
    return this.buf.subarray(0, this.len);
  }
}

const stampOf = (st: fs.BigIntStats) => `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}`;

function cb2p<T>(f: (cb: (err: NodeJS.ErrnoException | null, v: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => f((err, v) => (err ? reject(err) : resolve(v))));
}

export class InventoryAppender {
  /** Where new records go (byte offset of the array's closing "\n  ]"), and what follows it. */
  private layout: { insertAt: number; tail: Buffer } | null = null;
  /** When the layout is unknown: the inventory to rewrite in full at the next commit. */
  private whole: Inventory | null = null;
  /** The file as this process last read or wrote it. */
  private stamp: string | null = null;

  constructor(
    private readonly store: Store,
    /** The id of the next temporary file (tempNameFor). */
    private readonly tempId: () => number,
  ) {}

  private get file(): string {
    return this.store.inventoryFile;
  }

  /** Reads the inventory unless it is still the one this process last read or wrote; returns it when read. */
  refresh(): Inventory | null {
    try {
      if (this.stamp !== null && stampOf(fs.statSync(this.file, { bigint: true })) === this.stamp) return null;
    } catch {
      /* readInventory reports it */
    }
    const inv = this.store.readInventory();
    const bytes = fs.readFileSync(this.file);
    const stamp = stampOf(fs.statSync(this.file, { bigint: true }));
    if (inv.certificates.length > 0 && bytes.equals(Buffer.from(JSON.stringify(inv, null, 2) + "\n"))) {
      const tail = tailOf(inv);
      this.layout = { insertAt: bytes.length - tail.length, tail };
      this.whole = null;
    } else {
      this.layout = null;
      this.whole = inv;
    }
    this.stamp = stamp;
    return inv;
  }

  /**
   * Adds records to the inventory: the commit point of a batch. `add` is their text as it goes after
   * the last record: for each, ",\n    " and recordText(record).
   */
  async commit(add: Buffer, count: number): Promise<void> {
    if (count === 0) return;
    if (!this.layout) {
      if (!this.whole) throw new Error("inventory not read");
      const records = JSON.parse("[" + add.toString("utf8").slice(1) + "]") as CertRecord[];
      const inv: Inventory = { ...this.whole, certificates: [...this.whole.certificates, ...records] };
      const data = Buffer.from(JSON.stringify(inv, null, 2) + "\n");
      await writeAtomicAsync(this.file, data, MODE, this.tempId());
      const tail = tailOf(inv);
      this.layout = { insertAt: data.length - tail.length, tail };
      this.whole = null;
      this.stamp = stampOf(await cb2p<fs.BigIntStats>((cb) => fs.stat(this.file, { bigint: true }, cb)));
      return;
    }
    const { insertAt, tail } = this.layout;
    const tmp = tempNameFor(this.file, this.tempId());
    let fd: number | null = null;
    try {
      await cb2p<void>((cb) => fs.copyFile(this.file, tmp, fs.constants.COPYFILE_EXCL, (e) => cb(e, undefined)));
      fd = await cb2p<number>((cb) => fs.open(tmp, "r+", cb));
      const f = fd;
      await cb2p<void>((cb) => fs.ftruncate(f, insertAt, (e) => cb(e, undefined)));
      let pos = insertAt;
      for (const part of [add, tail]) {
        for (let off = 0; off < part.length; ) {
          const n = await cb2p<number>((cb) => fs.write(f, part, off, part.length - off, pos, cb));
          off += n;
          pos += n;
        }
      }
      await cb2p<void>((cb) => fs.fchmod(f, MODE, (e) => cb(e, undefined))); // copyFile kept the old file's mode
      await cb2p<void>((cb) => fs.fsync(f, (e) => cb(e, undefined)));
      const st = await cb2p<fs.BigIntStats>((cb) => fs.fstat(f, { bigint: true }, cb));
      fd = null;
      await cb2p<void>((cb) => fs.close(f, (e) => cb(e, undefined)));
      await cb2p<void>((cb) => fs.rename(tmp, this.file, (e) => cb(e, undefined)));
      this.stamp = stampOf(st);
      this.layout = { insertAt: insertAt + add.length, tail };
    } catch (e) {
      if (fd !== null) fs.close(fd, () => undefined);
      await new Promise<void>((r) => fs.unlink(tmp, () => r()));
      throw e;
    }
    await fsyncPath(path.dirname(this.file));
  }
}
