/**
 * Distinguished names: parse RFC 4514 strings, encode them in mtlsctl's canonical DER order,
 * decode raw DER subjects, and print them as RFC 4514.
 *
 * Canonical order (DER, most significant first): C, ST, L, STREET, POSTALCODE, O, OU, CN, SERIALNUMBER.
 * That is the order Go's pkix.Name.ToRDNSequence() rebuilds, so nats-server's three views of such a
 * subject coincide (reference §6).
 */
import * as der from "../asn1/der";
import { OID } from "../asn1/oids";
import { inputError } from "../errors";

export interface Attribute {
  type: string; // dotted OID
  value: string;
  /** DER string tag; chosen at encode time when absent. */
  tag?: number;
}
/** One RDN: usually a single attribute. */
export type Rdn = Attribute[];
/** RDNs in DER order (most significant first). */
export type DnDer = Rdn[];

export const SHORT_NAMES: Record<string, string> = {
  [OID.CN]: "CN",
  [OID.SERIALNUMBER]: "SERIALNUMBER",
  [OID.C]: "C",
  [OID.L]: "L",
  [OID.ST]: "ST",
  [OID.STREET]: "STREET",
  [OID.O]: "O",
  [OID.OU]: "OU",
  [OID.POSTALCODE]: "POSTALCODE",
  [OID.DC]: "DC",
  [OID.UID]: "UID",
  [OID.emailAddress]: "emailAddress",
};

const TYPE_BY_NAME: Record<string, string> = {
  CN: OID.CN,
  COMMONNAME: OID.CN,
  SERIALNUMBER: OID.SERIALNUMBER,
  C: OID.C,
  COUNTRYNAME: OID.C,
  L: OID.L,
  LOCALITYNAME: OID.L,
  ST: OID.ST,
  S: OID.ST,
  STATEORPROVINCENAME: OID.ST,
  STREET: OID.STREET,
  STREETADDRESS: OID.STREET,
  O: OID.O,
  ORGANIZATIONNAME: OID.O,
  OU: OID.OU,
  ORGANIZATIONALUNITNAME: OID.OU,
  POSTALCODE: OID.POSTALCODE,
  DC: OID.DC,
  DOMAINCOMPONENT: OID.DC,
  UID: OID.UID,
  USERID: OID.UID,
  EMAILADDRESS: OID.emailAddress,
  E: OID.emailAddress,
};

/** The canonical DER order of the nine types Go names. */
export const CANONICAL_ORDER = [OID.C, OID.ST, OID.L, OID.STREET, OID.POSTALCODE, OID.O, OID.OU, OID.CN, OID.SERIALNUMBER] as string[];

/** Upper bounds from RFC 5280 Appendix A. */
const MAX_LEN: Record<string, number> = {
  [OID.CN]: 64,
  [OID.SERIALNUMBER]: 64,
  [OID.C]: 2,
  [OID.L]: 128,
  [OID.ST]: 128,
  [OID.STREET]: 128,
  [OID.O]: 64,
  [OID.OU]: 64,
  [OID.POSTALCODE]: 40,
  [OID.DC]: 63,
  [OID.UID]: 256,
  [OID.emailAddress]: 255,
};

const HEX = /^[0-9a-fA-F]{2}/;

/**
 * Parses an RFC 4514 string (`CN=alice,OU=eng,O=Acme`) into RDNs in DER order
 * (the string lists the last RDN first). Strict: unknown types, `#hex` values, control
 * characters, empty values and over-long values are refused.
 */
export function parseRfc4514(s: string, what = "subject"): DnDer {
  const fail = (msg: string) => inputError(`${what} "${s}": ${msg}`);
  if (s.trim() === "") throw fail("is empty");
  const rdns: DnDer = [];
  let i = 0;
  let rdn: Rdn = [];
  while (i <= s.length) {
    // type
    while (s[i] === " ") i++;
    let type = "";
    while (i < s.length && s[i] !== "=") {
      if (s[i] === "," || s[i] === "+" || s[i] === ";") throw fail(`expected "type=value" before "${s[i]}"`);
      type += s[i++];
    }
    if (i >= s.length) throw fail(`"${type.trim()}" has no "=value"`);
    i++; // '='
    type = type.trim();
    const oidStr = /^\d+(\.\d+)+$/.test(type) ? type : TYPE_BY_NAME[type.toUpperCase()];
    if (!oidStr) throw fail(`unknown attribute type "${type}"`);
    // value
    if (s[i] === "#") throw fail(`"#" hex (BER) values are not supported; escape a leading "#" as "\\#"`);
    const bytes: number[] = [];
    let lastEscaped = -1;
    let started = false;
    while (i < s.length && s[i] !== "," && s[i] !== "+") {
      const c = s[i];
      if (c === ";") throw fail(`";" is not a separator in RFC 4514 (use ","), or escape it as "\\;"`);
      if (c === "\\") {
        const rest = s.slice(i + 1);
        if (HEX.test(rest)) {
          bytes.push(parseInt(rest.slice(0, 2), 16));
          i += 3;
        } else if (rest.length > 0 && ` "#+,;<=>\\`.includes(rest[0])) {
          bytes.push(rest.charCodeAt(0));
          i += 2;
        } else throw fail(`bad escape "\\${rest[0] ?? ""}"`);
        lastEscaped = bytes.length;
        started = true;
        continue;
      }
      if (!started && c === " ") {
        i++;
        continue;
      }
      started = true;
      // a whole code point: characters outside the BMP are two UTF-16 units (surrogate pair)
      const cp = s.codePointAt(i)!;
      if (cp >= 0xd800 && cp <= 0xdfff) throw fail("a value is not valid Unicode (a lone surrogate)");
      const ch = String.fromCodePoint(cp);
      bytes.push(...Buffer.from(ch, "utf8"));
      i += ch.length;
    }
    // trim unescaped trailing spaces
    while (bytes.length > lastEscaped && bytes.length > 0 && bytes[bytes.length - 1] === 0x20) bytes.pop();
    const buf = Buffer.from(bytes);
    const value = buf.toString("utf8");
    if (!Buffer.from(value, "utf8").equals(buf)) throw fail("a value is not valid UTF-8");
    checkValue(oidStr, value, (m) => fail(m));
    rdn.push({ type: oidStr, value });
    if (i >= s.length || s[i] === ",") {
      rdns.push(rdn);
      rdn = [];
      if (i >= s.length) break;
      i++;
      if (i >= s.length) throw fail("ends with a separator");
    } else {
      i++; // '+'
      if (i >= s.length) throw fail("ends with a separator");
    }
  }
  return rdns.reverse();
}

function checkValue(type: string, value: string, fail: (m: string) => Error): void {
  const name = SHORT_NAMES[type] ?? type;
  if (value === "") throw fail(`${name} is empty`);
  if (/[\u0000-\u001f\u007f]/.test(value)) throw fail(`${name} contains a control character`);
  const max = MAX_LEN[type] ?? 256;
  if ([...value].length > max) throw fail(`${name} is longer than ${max} characters`);
  if (type === OID.C && !/^[A-Z]{2}$/.test(value)) throw fail(`C must be a two-letter country code`);
  if ((type === OID.DC || type === OID.emailAddress) && !/^[\x20-\x7e]+$/.test(value)) throw fail(`${name} must be ASCII`);
}

/** Reorders RDNs into the canonical order; non-canonical RDNs keep their relative order, DC first, others last. */
export function canonicalOrder(rdns: DnDer): DnDer {
  const rank = (r: Rdn): number => {
    if (r.length !== 1) return 100;
    if (r[0].type === OID.DC) return -1;
    const k = CANONICAL_ORDER.indexOf(r[0].type);
    return k < 0 ? 100 : k;
  };
  return rdns.map((r, i) => ({ r, i })).sort((a, b) => rank(a.r) - rank(b.r) || a.i - b.i).map((x) => x.r);
}

/**
 * Reasons why nats-server's views of a subject would differ (empty when they coincide):
 * the DN stage, Go's RDN-sequence string and the display string then all say the same thing.
 */
export function unpredictableReasons(rdns: DnDer): string[] {
  const reasons: string[] = [];
  const seen = new Set<string>();
  let lastRank = -1;
  for (const r of rdns) {
    if (r.length > 1) reasons.push("a multi-valued RDN (Go flattens it)");
    for (const a of r) {
      const k = CANONICAL_ORDER.indexOf(a.type);
      const name = SHORT_NAMES[a.type] ?? a.type;
      if (k < 0) reasons.push(`${name} (Go's subject string drops it${a.type === OID.DC ? "" : "; the server's DN stage is skipped"})`);
      else {
        if (seen.has(a.type)) reasons.push(`repeated ${name} (Go ${a.type === OID.CN || a.type === OID.SERIALNUMBER ? "keeps only the last" : "merges them into one RDN"})`);
        if (k < lastRank) reasons.push(`${name} out of the order C, ST, L, STREET, POSTALCODE, O, OU, CN, SERIALNUMBER`);
        lastRank = Math.max(lastRank, k);
      }
      seen.add(a.type);
    }
  }
  return [...new Set(reasons)];
}

const PRINTABLE = /^[A-Za-z0-9 '()+,\-./:=?]*$/;

function stringTag(a: Attribute): number {
  if (a.tag) return a.tag;
  if (a.type === OID.C) return der.Tag.PrintableString;
  if (a.type === OID.DC || a.type === OID.emailAddress) return der.Tag.IA5String;
  if (a.type === OID.SERIALNUMBER && PRINTABLE.test(a.value)) return der.Tag.PrintableString;
  return der.Tag.UTF8String;
}

export function encodeName(rdns: DnDer): Buffer {
  return der.seq(...rdns.map((rdn) => der.setOf(...rdn.map((a) => der.seq(der.oid(a.type), der.stringOf(stringTag(a), a.value))))));
}

/** Decodes a raw Name. Values that are not strings keep their DER in `raw`. */
export interface DecodedAttribute extends Attribute {
  tag: number;
  raw: Buffer;
  bytes: Buffer;
}
export function decodeName(raw: Buffer): DecodedAttribute[][] {
  const name = der.expect(der.parseOne(raw), der.Tag.SEQUENCE, "Name");
  return der.children(name).map((set) => {
    der.expect(set, der.Tag.SET, "RDN");
    return der.children(set).map((atv) => {
      const [t, v] = der.children(der.expect(atv, der.Tag.SEQUENCE, "AttributeTypeAndValue"));
      if (v === undefined) throw new der.DerError("AttributeTypeAndValue: the value is missing");
      let value: string;
      try {
        value = der.readString(v);
      } catch {
        value = "#" + v.raw.toString("hex");
      }
      return { type: der.readOid(t), value, tag: v.tag, raw: v.raw, bytes: v.content };
    });
  });
}

function escape4514(v: string): string {
  let out = "";
  for (let i = 0; i < v.length; i++) {
    const c = v[i];
    if (`,+"\\<>;`.includes(c) || (i === 0 && (c === "#" || c === " ")) || (i === v.length - 1 && c === " ")) out += "\\" + c;
    else if (c === "\u0000") out += "\\00";
    else out += c;
  }
  return out;
}

/** RFC 4514 string (last RDN first). Unknown types print as dotted OIDs with #hex values. */
export function formatRfc4514(rdns: (Attribute & { raw?: Buffer })[][]): string {
  return [...rdns]
    .reverse()
    .map((rdn) =>
      rdn
        .map((a) => {
          const short = SHORT_NAMES[a.type];
          if (short) return `${short}=${escape4514(a.value)}`;
          return `${a.type}=${a.raw ? "#" + a.raw.toString("hex") : escape4514(a.value)}`;
        })
        .join("+"),
    )
    .join(",");
}

export function commonName(rdns: Attribute[][]): string | undefined {
  let cn: string | undefined;
  for (const r of rdns) for (const a of r) if (a.type === OID.CN) cn = a.value;
  return cn;
}
