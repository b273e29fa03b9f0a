/**
 * The inventory, as bulk issuance updates it: once per batch, one segment of the store's record log
 * (src/store/log.ts), without holding the whole inventory in memory and without serializing it
 * again per batch. A batch's records are their text as JSON.stringify(inventory, null, 2) writes
 * them inside an array (recordText: what the single-file inventory held, so that the lean writer's
 * text can be checked against JSON.stringify); the segment is that text between "[" and "]".
 *
 * Between two reads, the inventory is recognised by the header's and the log directory's stamps
 * (inode, size, modification time: a new segment changes the directory's): when they are still the
 * ones this process left, nobody else changed it, and it is not read again.
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

const stampOf = (st: fs.BigIntStats | undefined) => (st ? `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}` : "-");
const statOr = (f: string) => fs.statSync(f, { bigint: true, throwIfNoEntry: false });

export class InventoryAppender {
  /** The header's, the log directory's and the journal's stamps as this process last read or wrote them. */
  private stamp: string | null = null;

  constructor(
    private readonly store: Store,
    /** Kept for the callers' signature: segments name their own temporary files. */
    _tempId?: () => number,
  ) {}

  private stampNow(): string {
    return [this.store.inventoryFile, this.store.log.logDir, this.store.log.journalFile].map((f) => stampOf(statOr(f))).join("/");
  }

  /** Reads the inventory unless it is still the one this process last read or wrote; returns it when read. */
  refresh(): Inventory | null {
    if (this.stamp !== null && this.stampNow() === this.stamp) return null;
    const inv = this.store.readInventory();
    this.stamp = this.stampNow();
    return inv;
  }

  /**
   * Adds records to the inventory: the commit point of a batch (one new segment). `add` is their
   * text as it goes after the previous record: for each, ",\n    " and recordText(record); `keys`
   * their names and serials (the index lines).
   */
  async commit(add: Buffer, count: number, keys: { name: string; serial: string }[]): Promise<void> {
    if (count === 0) return;
    const before = this.stampNow();
    const text = Buffer.concat([Buffer.from("["), add.subarray(1), Buffer.from("\n]\n")]);
    await this.store.log.appendAsync(keys, text, count);
    // still ours when nobody wrote between our last read and this commit (we hold the lock)
    if (before === this.stamp) this.stamp = this.stampNow();
  }
}

const J = JSON.stringify;
const list = (a: string[]) => (a.length ? "[\n          " + a.map((v) => J(v)).join(",\n          ") + "\n        ]" : "[]");

/**
 * recordText(rec) (JSON.stringify's layout inside the inventory's certificates array) for the
 * records this file makes, written directly: a third of the time. The tests check that both agree.
 */
/** The keys of recordOf()'s records before the optional account, permissions, chainFile (the tests check the layout against JSON.stringify). */
const LAYOUT_KEYS = 17;

export function clientRecordText(r: CertRecord): string {
  // a record of another shape (recordOf() grew a field) is written by the general serializer
  if (Object.keys(r).length !== LAYOUT_KEYS + (r.account !== undefined ? 1 : 0) + (r.permissions !== undefined ? 1 : 0) + (r.chainFile !== undefined ? 1 : 0)) return recordText(r);
  return (
    `{\n      "name": ${J(r.name)},\n      "kind": ${J(r.kind)},\n      "serial": ${J(r.serial)},\n      "subject": ${J(r.subject)},\n      "sans": {\n` +
    `        "email": ${list(r.sans.email)},\n        "dns": ${list(r.sans.dns)},\n        "uri": ${list(r.sans.uri)},\n        "ip": ${list(r.sans.ip)}\n      },\n` +
    `      "profile": ${J(r.profile)},\n      "keyType": ${J(r.keyType)},\n      "notBefore": ${J(r.notBefore)},\n      "notAfter": ${J(r.notAfter)},\n` +
    `      "status": ${J(r.status)},\n      "revokedAt": ${J(r.revokedAt)},\n      "revocationReason": ${J(r.revocationReason)},\n      "fingerprint": ${J(r.fingerprint)},\n` +
    `      "certFile": ${J(r.certFile)},\n      "keyFile": ${J(r.keyFile)},\n      "csrFile": ${J(r.csrFile)},\n      "issuedAt": ${J(r.issuedAt)}` +
    (r.account !== undefined ? `,\n      "account": ${J(r.account)}` : "") +
    (r.permissions !== undefined ? `,\n      "permissions": ${JSON.stringify(r.permissions, null, 2).replace(/\n/g, "\n      ")}` : "") +
    (r.chainFile ? `,\n      "chainFile": ${J(r.chainFile)}` : "") +
    `\n    }`
  );
}
