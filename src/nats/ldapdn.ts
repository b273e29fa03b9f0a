/**
 * The DN stage's own LDAP DN library, as nats-server carries it in internal/ldap (reference §2.4):
 * the forked `ParseDN` with every quirk, `Equal`, and `RDNsMatch` in its two generations.
 *
 * Written from the rules, byte for byte; nothing here is the server's code.
 *
 * VALUE REPRESENTATION. Go compares attribute values (and hands types to EqualFold) as byte strings.
 * Here every `type` and `value` of an {@link LdapDn} is a *byte string*: a JS string with one char
 * per byte, U+0000..U+00FF (what `Buffer#toString("latin1")` gives). So `CN=Jos\C3\A9` parses to the
 * value "Jos\u00c3\u00a9", which is exactly what a UTF8String "José" in a certificate becomes through
 * {@link byteString} (`Buffer.from("José", "utf8").toString("latin1")`), while a T61String holding the
 * raw byte 0xE9 becomes "Jos\u00e9" (U3) and stays different from both. Plain `===` on values is then
 * Go's byte comparison. Use {@link byteString} / {@link byteText} to cross between text and bytes, and
 * {@link formatDn} to write a DN back as a user string.
 */

/** One attribute of a DN: its type as written (e.g. "CN") and its value (a byte string, see above). */
export interface DnAttr {
  type: string;
  value: string;
}
/** RDNs in LDAP reading order (last DER RDN first). */
export type LdapDn = DnAttr[][];

/** ParseDN refused the string: the server then skips that user in the DN stage (reference §2.3). */
export class DnParseError extends Error {
  /** Byte offset in the UTF-8 input where the parser gave up (the input length for end-of-input errors). */
  readonly offset: number;
  constructor(message: string, offset: number) {
    // Refusals are expected and frequent (every e-mail or plain user name in a config is one):
    // build them without a stack trace, which costs more than the parse itself.
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(message);
    Error.stackTraceLimit = limit;
    this.name = "DnParseError";
    this.offset = offset;
  }
}

// ---------------------------------------------------------------------------------------------
// Byte strings

/** UTF-8 text → byte string (one char per byte). */
export function byteString(text: string): string {
  return Buffer.from(text, "utf8").toString("latin1");
}

/** Byte string → Buffer. */
export function byteBuffer(bytes: string): Buffer {
  return Buffer.from(bytes, "latin1");
}

/**
 * Go's UTF-8 decoding of a byte string into code points: every byte that does not start a valid,
 * shortest-form sequence (no surrogates, at most U+10FFFF) is one U+FFFD. This is how `for range`
 * and `utf8.DecodeRuneInString` see invalid bytes; it differs from WHATWG decoding (Node's
 * `toString("utf8")`), which may fold a truncated sequence into a single U+FFFD.
 */
export function goRunes(bytes: string): number[] {
  const out: number[] = [];
  for (let i = 0; i < bytes.length; ) {
    const [cp, width] = decodeRune(bytes, i);
    out.push(cp);
    i += width;
  }
  return out;
}

/** One rune at byte offset i: [code point, width, valid]; an invalid byte is [U+FFFD, 1, false]. */
function decodeRune(bytes: string, i: number): [number, number, boolean] {
  const b0 = bytes.charCodeAt(i);
  if (b0 < 0x80) return [b0, 1, true];
  let need = 0;
  let min = 0;
  let cp = 0;
  if (b0 >= 0xc2 && b0 <= 0xdf) [need, min, cp] = [1, 0x80, b0 & 0x1f];
  else if (b0 >= 0xe0 && b0 <= 0xef) [need, min, cp] = [2, 0x800, b0 & 0x0f];
  else if (b0 >= 0xf0 && b0 <= 0xf4) [need, min, cp] = [3, 0x10000, b0 & 0x07];
  if (need === 0 || i + need >= bytes.length) return [0xfffd, 1, false];
  for (let k = 1; k <= need; k++) {
    const b = bytes.charCodeAt(i + k);
    if ((b & 0xc0) !== 0x80) return [0xfffd, 1, false];
    cp = (cp << 6) | (b & 0x3f);
  }
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return [0xfffd, 1, false];
  return [cp, need + 1, true];
}

/** Byte string → text as Go would print it (invalid bytes become U+FFFD, one per byte). */
export function byteText(bytes: string): string {
  return goRunes(bytes)
    .map((cp) => String.fromCodePoint(cp))
    .join("");
}

// ---------------------------------------------------------------------------------------------
// ParseDN

const ESCAPABLE = new Set([..." \"#+,;<=>\\"].map((c) => c.charCodeAt(0)));
const SPACE = 0x20;

function hexValue(b: number): number {
  if (b >= 0x30 && b <= 0x39) return b - 0x30;
  if (b >= 0x61 && b <= 0x66) return b - 0x61 + 10;
  if (b >= 0x41 && b <= 0x46) return b - 0x41 + 10;
  return -1;
}

/** A byte as Go's `%#U` prints it when read as a code point: `U+0067 'g'`, or just `U+0000` when not printable. */
function describeByte(b: number): string {
  const code = `U+${b.toString(16).toUpperCase().padStart(4, "0")}`;
  const printable = (b >= 0x20 && b < 0x7f) || (b >= 0xa1 && b !== 0xad);
  return printable ? `${code} '${String.fromCharCode(b)}'` : code;
}

/**
 * nats-server's `ldap.ParseDN` (reference §2.4), quirks included:
 *  - bytes, not characters: a string is taken as its UTF-8 encoding, a Buffer as is;
 *  - `\` + one of ` "#+,;<=>\` is that byte; `\` + two hex digits is one raw byte; `\` + anything
 *    else is an error, `\` + a single last byte is an error, but a `\` as the very last byte is
 *    silently dropped;
 *  - unescaped spaces are skipped while the current buffer is empty and trimmed when trailing;
 *  - every unescaped `=` ends the "type" (so `CN=a=b` is type `a`, value `b`), and `=` directly
 *    followed by `#` is an error (`=  #x` is not: the space is skipped and `#` kept);
 *  - `,` ends the RDN, `+` the attribute; either one without a type is an error; `;` is an
 *    ordinary byte, as are unescaped `"`, `<`, `>`;
 *  - at the end, the pending attribute and RDN are kept only when the value buffer is non-empty:
 *    a trailing `OU=` is dropped, a trailing `+` loses the whole last RDN, `CN=` is the empty DN;
 *    a non-empty buffer with no type (`CN=a,O`) is an error;
 *  - the type text is kept verbatim (`2.5.4.3`, `commonName`, ` cn ` → `cn`).
 * Types and values in the result are byte strings (see the file comment).
 * @throws DnParseError where the server's ParseDN returns an error.
 */
export function parseDn(s: string | Buffer): LdapDn {
  const input = typeof s === "string" ? Buffer.from(s, "utf8") : s;
  const n = input.length;
  const dn: LdapDn = [];
  let rdn: DnAttr[] = [];
  let type = "";
  let buf: number[] = [];
  let trailingSpaces = 0;
  let escaping = false;

  const take = (): string => {
    const bytes = buf.slice(0, buf.length - trailingSpaces);
    buf = [];
    trailingSpaces = 0;
    return Buffer.from(bytes).toString("latin1");
  };

  for (let i = 0; i < n; i++) {
    const c = input[i];
    if (escaping) {
      escaping = false;
      trailingSpaces = 0;
      if (ESCAPABLE.has(c)) {
        buf.push(c);
        continue;
      }
      if (i + 1 === n) throw new DnParseError("got corrupted escaped character", i);
      const hi = hexValue(c);
      if (hi < 0) throw new DnParseError(`failed to decode escaped character: invalid byte: ${describeByte(c)}`, i);
      const lo = hexValue(input[i + 1]);
      if (lo < 0) throw new DnParseError(`failed to decode escaped character: invalid byte: ${describeByte(input[i + 1])}`, i + 1);
      buf.push((hi << 4) | lo);
      i++;
    } else if (c === 0x5c /* \ */) {
      trailingSpaces = 0;
      escaping = true;
    } else if (c === 0x3d /* = */) {
      type = take();
      if (i + 1 < n && input[i + 1] === 0x23 /* # */) throw new DnParseError("unsupported BER encoding", i + 1);
    } else if (c === 0x2c /* , */ || c === 0x2b /* + */) {
      if (type.length === 0) throw new DnParseError("incomplete type, value pair", i);
      rdn.push({ type, value: take() });
      type = "";
      if (c === 0x2c) {
        dn.push(rdn);
        rdn = [];
      }
    } else if (c === SPACE && buf.length === 0) {
      continue;
    } else {
      trailingSpaces = c === SPACE ? trailingSpaces + 1 : 0;
      buf.push(c);
    }
  }
  if (buf.length > 0) {
    if (type.length === 0) throw new DnParseError("DN ended with incomplete type, value pair", n);
    rdn.push({ type, value: take() });
    dn.push(rdn);
  }
  return dn;
}

/** ParseDN without the exception: null where the server would skip the user. */
export function tryParseDn(s: string | Buffer): LdapDn | null {
  try {
    return parseDn(s);
  } catch (e) {
    if (e instanceof DnParseError) return null;
    throw e;
  }
}

// ---------------------------------------------------------------------------------------------
// Equality

const foldCache = new Map<string, boolean>();

/**
 * Code points whose case pairing is newer than Go 1.19's Unicode 13 tables (Unicode 14 to 17, as
 * Node's ICU knows them): Go folds each only to itself. Found by comparing every unicode.SimpleFold
 * orbit of Go 1.19.8 with this implementation on Node 20 (Unicode 17); a Node with a newer Unicode
 * may need more entries.
 */
const NEWER_FOLDING: [number, number][] = [
  [0x019b, 0x019b], [0x0264, 0x0264], [0x1c89, 0x1c8a], [0x2c2f, 0x2c2f], [0x2c5f, 0x2c5f],
  [0xa7c0, 0xa7c1], [0xa7cb, 0xa7dc], [0x10570, 0x105bc], [0x10d50, 0x10d85], [0x16ea0, 0x16ed3],
];
const newerFolding = (cp: number) => NEWER_FOLDING.some(([lo, hi]) => cp >= lo && cp <= hi);

/** Whether two different non-ASCII code points are in the same simple-case-folding orbit of Go 1.19. */
function sameFoldOrbit(a: number, b: number): boolean {
  if (newerFolding(a) || newerFolding(b)) return false;
  const key = a < b ? `${a}:${b}` : `${b}:${a}`;
  let r = foldCache.get(key);
  if (r === undefined) {
    // ES `iu` regular expressions compare by Unicode simple case folding, the relation Go's
    // unicode.SimpleFold orbits describe. Lone surrogates cannot come out of goRunes.
    const esc = (cp: number) => `\\u{${cp.toString(16)}}`;
    r = new RegExp(`^${esc(a)}$`, "iu").test(String.fromCodePoint(b));
    foldCache.set(key, r);
  }
  return r;
}

/**
 * Go's `strings.EqualFold` on two byte strings: rune by rune (invalid bytes are U+FFFD each, so
 * any two invalid bytes fold equal), ASCII letters fold only to each other, other runes by
 * simple case folding (`k` = U+212A KELVIN SIGN, `s` = U+017F LONG S).
 */
export function equalFold(a: string, b: string): boolean {
  if (a === b) return true;
  const ra = goRunes(a);
  const rb = goRunes(b);
  if (ra.length !== rb.length) return false;
  for (let i = 0; i < ra.length; i++) {
    let sr = ra[i];
    let tr = rb[i];
    if (sr === tr) continue;
    if (tr < sr) [sr, tr] = [tr, sr];
    if (tr < 0x80) {
      if (sr >= 0x41 && sr <= 0x5a && tr === sr + 0x20) continue;
      return false;
    }
    if (!sameFoldOrbit(sr, tr)) return false;
  }
  return true;
}

/** AttributeTypeAndValue.Equal: type by EqualFold, value by exact bytes. */
export function attrEqual(a: DnAttr, b: DnAttr): boolean {
  return a.value === b.value && equalFold(a.type, b.type);
}

function containsAll(rdn: DnAttr[], attrs: DnAttr[]): boolean {
  return attrs.every((x) => rdn.some((y) => attrEqual(y, x)));
}

/** RelativeDN.Equal: same attribute count and each contains every attribute of the other (set-style). */
export function rdnEqual(a: DnAttr[], b: DnAttr[]): boolean {
  return a.length === b.length && containsAll(a, b) && containsAll(b, a);
}

/** DN.Equal: same RDN count, RDN-equal position by position. */
export function dnEqual(a: LdapDn, b: LdapDn): boolean {
  return a.length === b.length && a.every((rdn, i) => rdnEqual(rdn, b[i]));
}

// ---------------------------------------------------------------------------------------------
// RDNsMatch and its version gate

/** A nats-server version as [major, minor, patch]; a leading `v` and any `-RC.n` style suffix are ignored. */
export function parseServerVersion(version: string): [number, number, number] {
  const m = /^v?(\d+)\.(\d+)\.(\d+)(?:[-+].*)?$/.exec(version.trim());
  if (!m) throw new Error(`not a nats-server version: "${version}" (expected e.g. 2.9.10)`);
  return [Number(m[1]), Number(m[2]), Number(m[3])];
}

/**
 * Whether RDNsMatch consumes each cert RDN at most once (commit d9271c24, "LDAP: Improved RDN
 * matching with duplicates when count equal"). Read from the tags in the server's history: it
 * first shipped on 2026-03-24 as a backport in v2.11.15 and v2.12.6, then in v2.14.0-RC.1 and
 * every v2.14.x. Every v2.9.x, v2.10.x, v2.11.0–14 and v2.12.0–5 has the set-style match. There
 * is no v2.13 tag; a 2.13.x is treated as fixed, as it would postdate the 2.12.6 backport.
 */
export function rdnsMatchConsumesOnce(version: string): boolean {
  const [major, minor, patch] = parseServerVersion(version);
  if (major !== 2) return major > 2;
  if (minor === 11) return patch >= 15;
  if (minor === 12) return patch >= 6;
  return minor >= 13;
}

/**
 * DN.RDNsMatch(user, cert): the order-insensitive second tier of the DN stage (reference §2.3, §2.4).
 * Both need the same RDN count; then every user RDN must equal some cert RDN.
 *  - set-style (versions without the fix, e.g. 2.9.10): cert RDNs can be reused, so
 *    `CN=alice,CN=alice` matches the cert `O=Acme/CN=alice` (D20, D45);
 *  - consume-once ({@link rdnsMatchConsumesOnce}): the first unused equal cert RDN is taken.
 * RDN equality is an equivalence relation, so the first-fit choice is a true multiset match.
 * @param version the nats-server version, default the pinned 2.9.10.
 */
export function rdnsMatch(user: LdapDn, cert: LdapDn, version = "2.9.10"): boolean {
  if (user.length !== cert.length) return false;
  if (!rdnsMatchConsumesOnce(version)) return user.every((u) => cert.some((c) => rdnEqual(u, c)));
  const used = new Array<boolean>(cert.length).fill(false);
  for (const u of user) {
    const j = cert.findIndex((c, k) => !used[k] && rdnEqual(u, c));
    if (j < 0) return false;
    used[j] = true;
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// The DN stage's two tiers

/** The outcome of the DN stage for one certificate (reference §2.3). */
export interface DnStageResult {
  /** The tier that matched, or null when no user matched. */
  tier: "Equal" | "RDNsMatch" | null;
  /** Every user of that tier, in the order given: the server picks one of them at random per connection. */
  users: string[];
  /** Users whose name ParseDN refuses; the server skips them silently. */
  unparsed: { user: string; error: DnParseError }[];
}

/**
 * The DN-stage callback over user names already filtered for the connection type: every `Equal`
 * user beats every `RDNsMatch` user; several users in the winning tier mean a random winner.
 * Skip this stage entirely when the certificate's DN is null (a type outside the ten-name table).
 */
export function dnStageCandidates(userNames: readonly string[], cert: LdapDn, version = "2.9.10"): DnStageResult {
  const parsed: { user: string; dn: LdapDn }[] = [];
  const unparsed: DnStageResult["unparsed"] = [];
  for (const user of userNames) {
    try {
      parsed.push({ user, dn: parseDn(user) });
    } catch (e) {
      if (!(e instanceof DnParseError)) throw e;
      unparsed.push({ user, error: e });
    }
  }
  const equal = parsed.filter((p) => dnEqual(p.dn, cert)).map((p) => p.user);
  if (equal.length) return { tier: "Equal", users: equal, unparsed };
  const reordered = parsed.filter((p) => rdnsMatch(p.dn, cert, version)).map((p) => p.user);
  return { tier: reordered.length ? "RDNsMatch" : null, users: reordered, unparsed };
}

// ---------------------------------------------------------------------------------------------
// Writing a DN back

/**
 * A value (byte string) written so that {@link parseDn} reads back exactly these bytes: the
 * RFC 4514 specials `, + " \ < > ;` and `=` escaped with `\`, a leading `#` and edge spaces
 * escaped, control bytes and bytes that are not part of valid UTF-8 as `\hh`; valid UTF-8 text
 * stays literal. For valid UTF-8 this is the same text as subject.ts's `parseDnEscape`.
 */
export function escapeDnValue(value: string): string {
  let out = "";
  const n = value.length;
  let i = 0;
  while (i < n) {
    const b = value.charCodeAt(i);
    if (b >= 0x80) {
      const [cp, width, valid] = decodeRune(value, i);
      out += valid ? String.fromCodePoint(cp) : "\\" + b.toString(16).padStart(2, "0");
      i += width;
      continue;
    }
    const c = String.fromCharCode(b);
    if (`,+"\\<>;=`.includes(c) || (i === 0 && c === "#") || (c === " " && (i === 0 || i === n - 1))) out += "\\" + c;
    else if (b < 0x20 || b === 0x7f) out += "\\" + b.toString(16).padStart(2, "0");
    else out += c;
    i++;
  }
  return out;
}

/** A DN written as a user string that {@link parseDn} reads back to an equal DN (types written as text). */
export function formatDn(dn: LdapDn): string {
  return dn.map((rdn) => rdn.map((a) => `${byteText(a.type)}=${escapeDnValue(a.value)}`).join("+")).join(",");
}
