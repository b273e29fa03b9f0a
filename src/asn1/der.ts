/**
 * A minimal DER encoder and reader: just what X.509 certificates, CSRs and names need.
 * The encoder builds Buffers bottom-up; the reader walks TLVs without copying.
 */

export const Tag = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  UTF8String: 0x0c,
  SEQUENCE: 0x30,
  SET: 0x31,
  NumericString: 0x12,
  PrintableString: 0x13,
  T61String: 0x14,
  IA5String: 0x16,
  UTCTime: 0x17,
  GeneralizedTime: 0x18,
  UniversalString: 0x1c,
  BMPString: 0x1e,
} as const;

export class DerError extends Error {}

// ---------------------------------------------------------------- encoding

/** The tag and length octets of a TLV whose content is `len` bytes long. */
export function header(tag: number, len: number): Buffer {
  if (len < 0x80) return Buffer.from([tag, len]);
  if (len < 0x100) return Buffer.from([tag, 0x81, len]);
  if (len < 0x10000) return Buffer.from([tag, 0x82, len >> 8, len & 0xff]);
  if (len < 0x1000000) return Buffer.from([tag, 0x83, (len >> 16) & 0xff, (len >> 8) & 0xff, len & 0xff]);
  return Buffer.from([tag, 0x84, (len >>> 24) & 0xff, (len >> 16) & 0xff, (len >> 8) & 0xff, len & 0xff]);
}

/**
 * A TLV of the given tag over the concatenation of `parts`, in one allocation: the writer every
 * encoder here uses (certificates one at a time and in bulk, CSRs, CRLs, names).
 */
export function tlvOf(tag: number, parts: readonly Buffer[]): Buffer {
  let len = 0;
  for (const p of parts) len += p.length;
  const h = header(tag, len);
  const out = Buffer.allocUnsafe(h.length + len);
  h.copy(out, 0);
  let off = h.length;
  for (const p of parts) off += p.copy(out, off);
  return out;
}

/** A TLV with the given tag byte and content. */
export function tlv(tag: number, content: Buffer): Buffer {
  return tlvOf(tag, [content]);
}

export const seq = (...items: Buffer[]): Buffer => tlvOf(Tag.SEQUENCE, items);

/** A SET OF: DER wants its members sorted by their encodings. */
export function setOf(...items: Buffer[]): Buffer {
  return tlvOf(Tag.SET, [...items].sort(Buffer.compare));
}

/** A context-specific tag: [n] EXPLICIT (constructed) or IMPLICIT primitive. */
export const explicit = (n: number, inner: Buffer): Buffer => tlv(0xa0 | n, inner);
export const implicit = (n: number, content: Buffer, constructed = false): Buffer =>
  tlv((constructed ? 0xa0 : 0x80) | n, content);

/** INTEGER from unsigned big-endian magnitude bytes. */
export function uint(bytes: Buffer): Buffer {
  let i = 0;
  while (i < bytes.length - 1 && bytes[i] === 0) i++;
  let b = bytes.subarray(i);
  if (b.length === 0) b = Buffer.from([0]);
  if (b[0] & 0x80) b = Buffer.concat([Buffer.from([0]), b]);
  return tlv(Tag.INTEGER, b);
}

export function smallInt(n: number): Buffer {
  if (!Number.isInteger(n) || n < 0) throw new DerError(`not a small non-negative integer: ${n}`);
  const bytes: number[] = [];
  do {
    bytes.unshift(n & 0xff);
    n = Math.floor(n / 256);
  } while (n > 0);
  return uint(Buffer.from(bytes));
}

export const bool = (v: boolean): Buffer => tlv(Tag.BOOLEAN, Buffer.from([v ? 0xff : 0x00]));
export const nul = (): Buffer => Buffer.from([Tag.NULL, 0]);
export const octets = (b: Buffer): Buffer => tlv(Tag.OCTET_STRING, b);
export const bitString = (b: Buffer, unusedBits = 0): Buffer => tlvOf(Tag.BIT_STRING, [Buffer.from([unusedBits]), b]);

const oidCache = new Map<string, Buffer>();
export function oid(dotted: string): Buffer {
  const hit = oidCache.get(dotted);
  if (hit) return hit;
  const parts = dotted.split(".").map((p) => {
    if (!/^\d+$/.test(p)) throw new DerError(`bad OID ${dotted}`);
    return BigInt(p);
  });
  if (parts.length < 2) throw new DerError(`bad OID ${dotted}`);
  const arcs = [parts[0] * 40n + parts[1], ...parts.slice(2)];
  const out: number[] = [];
  for (let arc of arcs) {
    const group: number[] = [Number(arc & 0x7fn)];
    arc >>= 7n;
    while (arc > 0n) {
      group.unshift(Number(arc & 0x7fn) | 0x80);
      arc >>= 7n;
    }
    out.push(...group);
  }
  const enc = tlv(Tag.OID, Buffer.from(out));
  oidCache.set(dotted, enc);
  return enc;
}

/** Named-bit BIT STRING (e.g. keyUsage): bit 0 is the most significant bit of the first byte. */
export function namedBits(bits: number[]): Buffer {
  if (bits.length === 0) return bitString(Buffer.alloc(0), 0);
  const max = Math.max(...bits);
  const bytes = Buffer.alloc(Math.floor(max / 8) + 1);
  for (const b of bits) bytes[b >> 3] |= 0x80 >> (b & 7);
  return bitString(bytes, 7 - (max & 7));
}

/** RFC 5280 Time: UTCTime through 2049, GeneralizedTime after. Seconds precision, always Z. */
export function time(d: Date): Buffer {
  const iso = d.toISOString(); // YYYY-MM-DDTHH:MM:SS.sssZ
  const y = d.getUTCFullYear();
  const body = iso.slice(5, 7) + iso.slice(8, 10) + iso.slice(11, 13) + iso.slice(14, 16) + iso.slice(17, 19) + "Z";
  if (y >= 1950 && y < 2050) return tlv(Tag.UTCTime, Buffer.from(String(y).slice(2) + body, "latin1"));
  return tlv(Tag.GeneralizedTime, Buffer.from(String(y).padStart(4, "0") + body, "latin1"));
}

export const stringOf = (tag: number, s: string): Buffer =>
  tlv(tag, tag === Tag.BMPString ? Buffer.from(s, "utf16le").swap16() : Buffer.from(s, tag === Tag.UTF8String ? "utf8" : "latin1"));

// ---------------------------------------------------------------- reading

export interface Node {
  /** The tag byte (class, constructed bit and number; only low tag numbers are supported). */
  tag: number;
  /** The whole TLV. */
  raw: Buffer;
  /** The content octets. */
  content: Buffer;
}

export function readNode(buf: Buffer, offset = 0): Node {
  if (offset + 2 > buf.length) throw new DerError("truncated DER");
  const tag = buf[offset];
  if ((tag & 0x1f) === 0x1f) throw new DerError("high tag numbers are not supported");
  let len = buf[offset + 1];
  let hdr = 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0) throw new DerError("indefinite length is not DER");
    if (n > 4 || offset + 2 + n > buf.length) throw new DerError("bad DER length");
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[offset + 2 + i];
    if (len < 0x80 || (n > 1 && buf[offset + 2] === 0)) throw new DerError("non-minimal DER length");
    hdr += n;
  }
  const end = offset + hdr + len;
  if (end > buf.length) throw new DerError("truncated DER");
  return { tag, raw: buf.subarray(offset, end), content: buf.subarray(offset + hdr, end) };
}

/** Reads exactly one TLV spanning the whole buffer. */
export function parseOne(buf: Buffer): Node {
  const n = readNode(buf, 0);
  if (n.raw.length !== buf.length) throw new DerError("trailing bytes after DER value");
  return n;
}

export function children(node: Node): Node[] {
  if (!(node.tag & 0x20)) throw new DerError(`tag 0x${node.tag.toString(16)} is not constructed`);
  const out: Node[] = [];
  let off = 0;
  while (off < node.content.length) {
    const c = readNode(node.content, off);
    out.push(c);
    off += c.raw.length;
  }
  return out;
}

export function expect(node: Node | undefined, tag: number, what: string): Node {
  if (node === undefined) throw new DerError(`${what}: missing (the structure ends too early)`);
  if (node.tag !== tag) throw new DerError(`${what}: expected tag 0x${tag.toString(16)}, got 0x${node.tag.toString(16)}`);
  return node;
}

/** OIDs already decoded, by their content bytes: a certificate repeats a few dozen OIDs (issue 9: bulk verify). */
const oidMemo = new Map<string, string>();

export function readOid(node: Node): string {
  expect(node, Tag.OID, "OID");
  const b = node.content;
  const memoKey = b.length <= 32 ? b.toString("latin1") : null;
  const known = memoKey === null ? undefined : oidMemo.get(memoKey);
  if (known !== undefined) return known;
  const oid = decodeOid(b);
  if (memoKey !== null && oidMemo.size < 4096) oidMemo.set(memoKey, oid);
  return oid;
}

function decodeOid(b: Buffer): string {
  if (b.length === 0) throw new DerError("empty OID");
  const arcs: bigint[] = [];
  let v = 0n;
  for (let i = 0; i < b.length; i++) {
    v = (v << 7n) | BigInt(b[i] & 0x7f);
    if (!(b[i] & 0x80)) {
      arcs.push(v);
      v = 0n;
    } else if (i === b.length - 1) throw new DerError("truncated OID");
  }
  const first = arcs[0] < 80n ? arcs[0] / 40n : 2n;
  const second = arcs[0] - first * 40n;
  return [first, second, ...arcs.slice(1)].join(".");
}

export function readBool(node: Node): boolean {
  expect(node, Tag.BOOLEAN, "BOOLEAN");
  if (node.content.length !== 1) throw new DerError("bad BOOLEAN");
  return node.content[0] !== 0;
}

/** INTEGER as a non-negative number (small values only). */
export function readSmallInt(node: Node): number {
  expect(node, Tag.INTEGER, "INTEGER");
  if (node.content.length > 6 || node.content[0] & 0x80) throw new DerError("INTEGER out of range");
  return node.content.reduce((a, b) => a * 256 + b, 0);
}

/** BIT STRING content without the unused-bits byte. */
export function readBitString(node: Node): { bytes: Buffer; unused: number } {
  expect(node, Tag.BIT_STRING, "BIT STRING");
  if (node.content.length === 0) throw new DerError("empty BIT STRING");
  return { unused: node.content[0], bytes: node.content.subarray(1) };
}

export function readNamedBits(node: Node): number[] {
  const { bytes } = readBitString(node);
  const out: number[] = [];
  for (let i = 0; i < bytes.length * 8; i++) if (bytes[i >> 3] & (0x80 >> (i & 7))) out.push(i);
  return out;
}

export function readTime(node: Node): Date {
  if (node === undefined) throw new DerError("time: missing (the structure ends too early)");
  const s = node.content.toString("latin1");
  let m: RegExpMatchArray | null;
  if (node.tag === Tag.UTCTime && (m = s.match(/^(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)Z$/))) {
    const yy = Number(m[1]);
    return new Date(Date.UTC(yy < 50 ? 2000 + yy : 1900 + yy, +m[2] - 1, +m[3], +m[4], +m[5], +m[6]));
  }
  if (node.tag === Tag.GeneralizedTime && (m = s.match(/^(\d{4})(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)(?:\.\d+)?Z$/))) {
    return new Date(Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]));
  }
  throw new DerError(`bad time value ${JSON.stringify(s)}`);
}

/** Decodes a directory string the way Go's x509 parser does (T61 as raw bytes, i.e. Latin-1 here). */
export function readString(node: Node): string {
  if (node === undefined) throw new DerError("string: missing (the structure ends too early)");
  switch (node.tag) {
    case Tag.UTF8String:
      return node.content.toString("utf8");
    case Tag.PrintableString:
    case Tag.IA5String:
    case Tag.NumericString:
    case Tag.T61String:
      return node.content.toString("latin1");
    case Tag.BMPString: {
      if (node.content.length % 2) throw new DerError("odd-length BMPString");
      return Buffer.from(node.content).swap16().toString("utf16le");
    }
    case Tag.UniversalString: {
      if (node.content.length % 4) throw new DerError("bad UniversalString");
      let s = "";
      for (let i = 0; i < node.content.length; i += 4) s += String.fromCodePoint(node.content.readUInt32BE(i));
      return s;
    }
    default:
      throw new DerError(`tag 0x${node.tag.toString(16)} is not a string`);
  }
}
