/**
 * Lint of one user string that is meant as a certificate subject: what the server's DN stage
 * (its ParseDN, reference §2.4) and its exact Go-string look-up (§2.5a) will actually compare,
 * and whether any certificate subject can match it at all.
 */
import { typeKey } from "../nats/mapping";
import { byteString, byteText, formatDn, rdnEqual, tryParseDn, parseDn, DnParseError, type LdapDn } from "../nats/ldapdn";
import type { Code } from "./codes";

/** The DN stage's ten attribute types, lower-case (the server compares types with EqualFold). */
const TABLE = ["CN", "SERIALNUMBER", "C", "L", "ST", "STREET", "O", "OU", "POSTALCODE", "DC"];
const TABLE_BY_FOLD = new Map(TABLE.map((t) => [t.toLowerCase(), t]));

/** The OIDs of the table, for suggesting the name of a dotted-OID type. */
const OID_NAMES: Record<string, string> = {
  "2.5.4.3": "CN",
  "2.5.4.5": "SERIALNUMBER",
  "2.5.4.6": "C",
  "2.5.4.7": "L",
  "2.5.4.8": "ST",
  "2.5.4.9": "STREET",
  "2.5.4.10": "O",
  "2.5.4.11": "OU",
  "2.5.4.17": "POSTALCODE",
  "0.9.2342.19200300.100.1.25": "DC",
};

/** Go's order of its string (printed last to first): SERIALNUMBER, CN, OU, O, POSTALCODE, STREET, L, ST, C. */
const GO_ORDER = ["SERIALNUMBER", "CN", "OU", "O", "POSTALCODE", "STREET", "L", "ST", "C"];
const GO_SINGLE = new Set(["SERIALNUMBER", "CN"]);
const GO_SPECIALS = ',+"\\<>;';

const TYPE_RE = /^\s*([A-Za-z][A-Za-z0-9-]*|\d+(?:\.\d+)+)\s*=/;
const OID_RE = /^\d+(?:\.\d+)+$/;

/**
 * The name of the table type an attribute type (byte string) folds to under Go's EqualFold, or
 * null when it folds to none (then no certificate attribute can ever equal it).
 */
export function tableType(type: string): string | null {
  const folded = typeKey(type);
  return folded === null ? null : (TABLE_BY_FOLD.get(folded) ?? null);
}

/** The user DN with every type replaced by its table name; null when a type is outside the table. */
export function canonicalDn(dn: LdapDn): LdapDn | null {
  const out: LdapDn = [];
  for (const rdn of dn) {
    const r = [];
    for (const a of rdn) {
      const t = tableType(a.type);
      if (t === null) return null;
      r.push({ type: t, value: a.value });
    }
    out.push(r);
  }
  return out;
}

/**
 * Whether a user string is meant as a subject DN: it starts with an attribute type and `=`
 * (`CN=`, `cn =`, `2.5.4.3=`, `E=`), or with `,DC=` (the DC string of a subject with no other
 * standard attribute). E-mail addresses, URIs, host names and plain names are not.
 */
export function isDnLike(user: string): boolean {
  if (user.startsWith(",DC=")) return true;
  const m = TYPE_RE.exec(user);
  if (!m) return false;
  // "bob=x@example.com" is more likely an e-mail address than a DN with an odd type
  return !(/^[^,+]*@[^,+]*$/.test(user) && tableType(byteString(m[1])) === null && !OID_RE.test(m[1]));
}

interface Segment {
  /** The raw text of one attribute (`type=value`), escapes kept. */
  text: string;
  /** Offset in the string. */
  start: number;
  /** The separator that ended it (`,` or `+`), or null at the end. */
  sep: "," | "+" | null;
  /** Offsets (in `text`) of the unescaped `=` signs. */
  eqs: number[];
  /** Offsets of the unescaped `;`. */
  semis: number[];
  /** The type as written: the text before the first unescaped `=`, trimmed. */
  type: string | null;
}

/** Splits at unescaped `,` and `+`, as the DN parser does (`\` takes the next character). */
function segments(s: string): Segment[] {
  const out: Segment[] = [];
  let cur: Segment = { text: "", start: 0, sep: null, eqs: [], semis: [], type: null };
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === "\\") {
      cur.text += c + (s[i + 1] ?? "");
      i++;
      continue;
    }
    if (c === "," || c === "+") {
      cur.sep = c;
      out.push(cur);
      cur = { text: "", start: i + 1, sep: null, eqs: [], semis: [], type: null };
      continue;
    }
    if (c === "=") cur.eqs.push(cur.text.length);
    if (c === ";") cur.semis.push(cur.text.length);
    cur.text += c;
  }
  out.push(cur);
  for (const g of out) g.type = g.eqs.length ? g.text.slice(0, g.eqs[0]).trim() : null;
  return out;
}

/** Decodes one Go-string value (escapes kept in `raw`) and checks Go would print exactly that. */
function goValueOk(raw: string): boolean {
  const chars: { c: string; esc: boolean }[] = [];
  for (let i = 0; i < raw.length; i++) {
    if (raw[i] === "\\") {
      if (i + 1 >= raw.length) return false;
      // a whole code point after the backslash
      const cp = raw.codePointAt(i + 1)!;
      const ch = String.fromCodePoint(cp);
      chars.push({ c: ch, esc: true });
      i += ch.length;
    } else {
      const cp = raw.codePointAt(i)!;
      const ch = String.fromCodePoint(cp);
      chars.push({ c: ch, esc: false });
      i += ch.length - 1;
    }
  }
  const last = chars.length - 1;
  return chars.every(({ c, esc }, k) => {
    const edgeSpace = c === " " && (k === 0 || k === last);
    const leadHash = c === "#" && k === 0;
    const special = GO_SPECIALS.includes(c);
    return esc ? special || edgeSpace || leadHash : !special && !edgeSpace && !leadHash;
  });
}

/**
 * Whether `s` can be Go's `ToRDNSequence().String()` of some certificate subject (reference
 * §2.5a): upper-case short names, RDNs in the order SERIALNUMBER, CN, OU, O, POSTALCODE,
 * STREET, L, ST, C (each at most once; repeated values of the multi-valued types joined by `+`),
 * a non-empty CN and SERIALNUMBER, and Go's exact escaping (`,+"\<>;` always, a space only at
 * either end, `#` only first, `=` never).
 */
export function possibleGoString(s: string): boolean {
  if (s === "") return false;
  const segs = segments(s);
  const rdns: { type: string; value: string }[][] = [[]];
  for (const g of segs) {
    const eq = g.text.indexOf("=");
    if (eq < 0) return false;
    const type = g.text.slice(0, eq);
    if (!GO_ORDER.includes(type)) return false;
    const value = g.text.slice(eq + 1);
    if (!goValueOk(value)) return false;
    rdns[rdns.length - 1].push({ type, value });
    if (g.sep === ",") rdns.push([]);
  }
  let prev = -1;
  for (const rdn of rdns) {
    if (rdn.length === 0) return false;
    const t = rdn[0].type;
    if (rdn.some((a) => a.type !== t)) return false;
    if (GO_SINGLE.has(t) && (rdn.length > 1 || rdn[0].value === "")) return false;
    const idx = GO_ORDER.indexOf(t);
    if (idx <= prev) return false;
    prev = idx;
  }
  return true;
}

/** Whether `s` can be the DC string (Go's string, `,`, then `DC=v` per DC value, unescaped). */
export function possibleDcString(s: string): boolean {
  for (let i = s.indexOf(",DC="); i >= 0; i = s.indexOf(",DC=", i + 1)) if (i === 0 || possibleGoString(s.slice(0, i))) return true;
  return false;
}

export interface DnIssue {
  code: Code;
  message: string;
  fix: string;
}

const q = (s: string) => JSON.stringify(s);

/** What the DN stage reads, for messages. */
function describeParsed(dn: LdapDn | null, err: DnParseError | null): string {
  if (!dn) return `the DN stage's parser refuses it (${err?.message ?? "error"}), so that stage skips this user`;
  if (dn.length === 0) return "the DN stage reads it as the empty DN";
  return `the DN stage reads it as ${q(formatDn(dn))}`;
}

function escapeExtraEquals(s: string): string {
  return segments(s)
    .map((g) => {
      let t = g.text;
      for (const off of [...g.eqs.slice(1)].reverse()) t = t.slice(0, off) + "\\" + t.slice(off);
      return t + (g.sep ?? "");
    })
    .join("");
}

/**
 * The problems of one DN-like user string. `bytes` are the user's exact bytes when they are not
 * UTF-8. Never more than one "can never match" issue; the others can come together.
 */
export function analyzeUserDn(user: string, bytes?: Buffer): DnIssue[] {
  const input = bytes ?? Buffer.from(user, "utf8");
  let parsed: LdapDn | null = null;
  let err: DnParseError | null = null;
  try {
    parsed = parseDn(input);
  } catch (e) {
    if (!(e instanceof DnParseError)) throw e;
    err = e;
  }
  const text = bytes ? byteText(bytes.toString("latin1")) : user;
  const validUtf8 = !bytes || Buffer.from(text, "utf8").equals(bytes);

  const dnStageOk = parsed !== null && canonicalDn(parsed) !== null;
  const goOk = validUtf8 && (possibleGoString(text) || possibleDcString(text));
  const segs = segments(text);
  const seen = describeParsed(parsed, err);
  const issues: DnIssue[] = [];

  if (!dnStageOk && !goOk) {
    const lock = "No certificate subject can match it, so no certificate maps to this user (unless a SAN holds this exact text).";
    const semi = segs.some((g) => g.semis.some((off) => TYPE_RE.test(g.text.slice(off + 1))));
    if (semi) {
      const fixed = text.replace(/(^|[^\\])((?:\\\\)*);(\s*(?:[A-Za-z][A-Za-z0-9-]*|\d+(?:\.\d+)+)\s*=)/g, "$1$2,$3");
      return [{ code: "NATS003", message: `user ${q(user)}: ';' is not an RDN separator for nats-server (only ',' is): ${seen}, and Go's subject string always escapes ';'. ${lock}`, fix: `separate RDNs with ',': ${q(fixed)}` }];
    }
    if (err && err.message === "unsupported BER encoding") {
      const fixed = text.replace(/=#/g, "=\\#");
      return [{ code: "NATS004", message: `user ${q(user)}: a value starting with an unescaped '#' is read as a BER-encoded value: ${seen}; and Go's subject string escapes a leading '#'. ${lock}`, fix: `escape the '#': ${q(fixed)}` }];
    }
    const eqSeg = segs.find((g) => g.eqs.length > 1);
    if (eqSeg) {
      return [{ code: "NATS007", message: `user ${q(user)}: an unescaped '=' inside a value ends the attribute type again (${seen}), and the string is not in the exact form of Go's subject string either (wrong order, case or escaping). ${lock}`, fix: `escape '=' inside values as '\\=': ${q(escapeExtraEquals(text))} (or copy the subject from \`mtlsctl explain CERT\`)` }];
    }
    const types = segs.map((g) => g.type).filter((t): t is string => t !== null && t !== "");
    const oids = types.filter((t) => OID_RE.test(t));
    if (oids.length) {
      const named = oids.filter((o) => OID_NAMES[o]);
      let fixed = text;
      for (const o of named) fixed = fixed.split(`${o}=`).join(`${OID_NAMES[o]}=`);
      const others = oids.filter((o) => !OID_NAMES[o]);
      return [
        {
          code: "NATS005",
          message: `user ${q(user)}: attribute types written as dotted OIDs (${oids.join(", ")}) never equal a certificate's: the DN stage compares type names as text (${seen}), and Go's subject string names its types. ${lock}`,
          fix: others.length
            ? `the server cannot match ${others.join(", ")} at all: drop ${others.length > 1 ? "them" : "it"} and map by a SAN or by the remaining attributes${named.length ? `, and write ${named.map((o) => `${o} as ${OID_NAMES[o]}`).join(", ")}` : ""}`
            : `write the names: ${q(fixed)}`,
        },
      ];
    }
    const unknown = [...new Set(types.filter((t) => tableType(byteString(t)) === null))];
    if (unknown.length) {
      const hint = unknown.some((t) => /^(e|email|emailaddress|mail)$/i.test(t))
        ? "the server never compares the subject's emailAddress: put the address in an email SAN and use it as the user string, and drop it from the DN"
        : unknown.some((t) => /^commonname$/i.test(t))
          ? "write commonName as CN"
          : `drop ${unknown.map(q).join(", ")} from the user string and issue subjects with only CN, SERIALNUMBER, C, L, ST, STREET, O, OU, POSTALCODE and DC (or map by a SAN)`;
      return [
        {
          code: "NATS006",
          message: `user ${q(user)}: ${unknown.map(q).join(", ")} ${unknown.length > 1 ? "are" : "is"} not among the server's attribute types (CN, SERIALNUMBER, C, L, ST, STREET, O, OU, POSTALCODE, DC): a certificate with such an attribute skips the DN stage (${seen}), and Go's subject string drops it. ${lock}`,
          fix: hint,
        },
      ];
    }
    return [{ code: "NATS007", message: `user ${q(user)}: ${seen}, and it is not in the exact form of Go's subject string either. ${lock}`, fix: "copy the user string from `mtlsctl explain CERT` (its \"dn\" identity) or `mtlsctl config nats`" }];
  }

  // Matchable: the quirks that make it match something else than written.
  if (parsed && parsed.length === 0) {
    issues.push({
      code: "NATS011",
      message: `user ${q(user)} parses to the empty DN (every attribute value is empty or dropped): it equals the subject of any certificate whose subject is empty and whose email or URI SANs name no user, so such a certificate logs in as this user`,
      fix: "give the intended subject in full, or remove the entry",
    });
    return issues;
  }
  const trimmed = text.replace(/(?<!\\)\s+$/, "");
  const lastSeg = segments(trimmed);
  const endsWithSep = lastSeg.length > 1 && lastSeg[lastSeg.length - 1].text === "" ? lastSeg[lastSeg.length - 2].sep : null;
  if (parsed && endsWithSep === "+") {
    issues.push({
      code: "NATS009",
      message: `user ${q(user)} ends with '+': the server's parser drops the whole last RDN, so ${seen}, which also matches certificates without the dropped attributes`,
      fix: `remove the trailing '+' (or escape it as '\\+' if it belongs to the value): ${q(trimmed.slice(0, -1))}`,
    });
  } else if (parsed && endsWithSep === ",") {
    issues.push({ code: "NATS010", message: `user ${q(user)} ends with ',': the server ignores it (${seen})`, fix: `remove the trailing ',': ${q(trimmed.slice(0, -1))}` });
  } else if (parsed) {
    const plus = tryParseDn(Buffer.concat([input, Buffer.from("\\00")]));
    if (plus && plus.length > parsed.length) {
      const dropped = plus[plus.length - 1];
      const shown = dropped.map((a) => `${byteText(a.type)}=${byteText(a.value.replace(/\0$/, ""))}`).join("+");
      if (dropped.length > 1)
        issues.push({
          code: "NATS009",
          message: `user ${q(user)}: the last value is empty, so the server's parser drops the whole last RDN (${q(shown)}): ${seen}, which also matches certificates without those attributes`,
          fix: `give the last value, or remove the empty attribute: ${q(formatDn([...parsed, dropped.slice(0, -1)]))}`,
        });
      else
        issues.push({
          code: "NATS010",
          message: `user ${q(user)}: the trailing attribute with an empty value (${q(shown)}) is dropped by the server's parser: ${seen}, and a certificate that has that attribute does not match`,
          fix: `remove the empty attribute: ${q(formatDn(parsed))}`,
        });
    }
  }
  if (parsed) {
    const dup = parsed.findIndex((r, i) => parsed!.some((o, j) => j < i && rdnEqual(o, r)));
    if (dup >= 0) {
      const rdn = formatDn([parsed[dup]]);
      issues.push({
        code: "NATS012",
        message: `user ${q(user)} repeats the RDN ${q(rdn)}: the order-insensitive match of these servers reuses a certificate's RDN, so any certificate with ${parsed.length} RDNs that contains ${q(rdn)} maps to this user (e.g. a certificate whose subject reads ${q(formatDn(parsed.map((r, i) => (i === dup ? [{ type: "OU", value: "anything else" }] : r))))})`,
        fix: "write each RDN once, as in the certificate's subject; nats-server 2.11.15, 2.12.6 and 2.14.0 on match each certificate RDN once",
      });
    }
  }
  const empty = parsed?.flat().find((a) => a.value === "");
  if (empty)
    issues.push({
      code: "NATS013",
      message: `user ${q(user)}: ${byteText(empty.type)}= has an empty value, which the server keeps: ${seen}, which only a certificate with an empty ${byteText(empty.type)} attribute matches (one without that attribute does not)`,
      fix: `remove the empty attribute: ${q(formatDn(parsed!.map((r) => r.filter((a) => a !== empty)).filter((r) => r.length > 0)))}`,
    });
  if (!dnStageOk && goOk && segs.some((g) => g.eqs.length > 1)) {
    issues.push({
      code: "NATS008",
      message: `user ${q(user)}: an unescaped '=' inside a value ends the attribute type again (${seen}), so the DN stage never matches it; it matches only by Go's exact subject string, which must then be written in Go's order and escaping`,
      fix: `escape '=' inside values: ${q(escapeExtraEquals(text))} (the DN stage then matches it in any RDN order)`,
    });
  }
  return issues;
}
