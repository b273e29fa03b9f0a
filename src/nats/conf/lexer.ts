/**
 * Tokenizer for nats-server configuration files, following the rules of nats-server v2.9.10's
 * `conf` package (reference §3.1). Written from the rules; it is not the server's code.
 *
 * The input is taken as bytes and decoded rune by rune the way Go does (an invalid byte is one
 * U+FFFD of width 1), so that `\xHH` escapes and stray bytes survive exactly. Token values are
 * byte buffers for the same reason.
 *
 * Quirks reproduced on purpose (each one observed on the 2.9.10 binary or read from its rules):
 *  - `{` is skipped anywhere at the top level; a top-level `}` ends a value but is otherwise read
 *    as the start of a key;
 *  - a bare value ends at whitespace, newline, `,` `;` `]` `}` or `'` (which is swallowed);
 *    `#`, `{`, `[`, `:`, `=`, `"` are ordinary characters inside it;
 *  - a value that starts with a digit and turns out not to be a number continues as a bare string
 *    *including* the character that decided it, with no escape or quote handling for that
 *    character (`[1]` lexes as the string `1]`);
 *  - integer suffixes k m g t p e and kb/ki/kib...; any run of b/i letters is accepted by the
 *    lexer (the parser then ignores an unknown suffix);
 *  - `key (` ... `)` block strings end only at a `)` alone on its line; at end of file the `)`
 *    becomes part of the value;
 *  - a `/` that does not start `//`: at the start of a top-level key it is an error ("Unexpected
 *    EOF."), at the start of a map key it is dropped, at the start of an array element it is an
 *    error, after a value in a map or an array it separates like `,`, after a top-level value it
 *    is ignored;
 *  - a NUL byte reads as end of input in most places (as in the server);
 *  - an unterminated quoted string or quoted key with nothing after its opening quote (or after
 *    its last escape) ends the file silently, as the server does.
 */

export type TokenKind =
  | "key"
  | "string"
  | "bool"
  | "int"
  | "float"
  | "datetime"
  | "arrayStart"
  | "arrayEnd"
  | "mapStart"
  | "mapEnd"
  | "variable"
  | "include"
  | "eof"
  | "error";

export interface Token {
  kind: TokenKind;
  /** The value's bytes (escapes applied); for a variable, the name without `$`; for an error, the message. */
  bytes: Buffer;
  /** `bytes` as text (UTF-8; invalid bytes become U+FFFD). */
  text: string;
  /** Byte offset of the token's first character (for errors: of the offending character). */
  offset: number;
  /** 1-based line of `offset`. */
  line: number;
  /** 1-based column of `offset`, counted in runes. */
  col: number;
  /** The line number nats-server itself reports for this token or error (the line of its end). */
  serverLine: number;
}

/**
 * End of input. Like the server, a NUL byte in the input reads as the same rune (with width 1),
 * so it ends bare values and comments and is refused where the server refuses it.
 */
const EOF = 0;

/** Go's unicode.IsSpace. */
export function isGoSpace(r: number): boolean {
  if (r <= 0xff) return r === 0x20 || (r >= 0x09 && r <= 0x0d) || r === 0x85 || r === 0xa0;
  return (
    r === 0x1680 || (r >= 0x2000 && r <= 0x200a) || r === 0x2028 || r === 0x2029 || r === 0x202f || r === 0x205f || r === 0x3000
  );
}

const ND = /^\p{Nd}$/u;
/** Go's unicode.IsDigit. */
export function isGoDigit(r: number): boolean {
  if (r <= 0xff) return r >= 0x30 && r <= 0x39;
  return ND.test(String.fromCodePoint(r));
}

const isBlank = (r: number) => r === 0x20 || r === 0x09; // the lexer's own "whitespace"
const isNewline = (r: number) => r === 0x0a || r === 0x0d;
const isKeySep = (r: number) => r === 0x3d /* = */ || r === 0x3a; /* : */
const NUMBER_SUFFIX = new Set([..."kKmMgGtTpPeE"].map((c) => c.charCodeAt(0)));
const BOOL_WORDS = new Set(["true", "false", "yes", "no", "on", "off"]);

/** Decodes one rune at `i` as Go's utf8.DecodeRune does: [rune, width]; [EOF, 0] at the end. */
export function decodeRune(b: Buffer, i: number): [number, number] {
  if (i >= b.length) return [EOF, 0];
  const b0 = b[i];
  if (b0 < 0x80) return [b0, 1];
  let need: number;
  let min: number;
  let cp: number;
  if (b0 >= 0xc2 && b0 <= 0xdf) [need, min, cp] = [1, 0x80, b0 & 0x1f];
  else if (b0 >= 0xe0 && b0 <= 0xef) [need, min, cp] = [2, 0x800, b0 & 0x0f];
  else if (b0 >= 0xf0 && b0 <= 0xf4) [need, min, cp] = [3, 0x10000, b0 & 0x07];
  else return [0xfffd, 1];
  if (i + need >= b.length) return [0xfffd, 1];
  for (let k = 1; k <= need; k++) {
    const c = b[i + k];
    if ((c & 0xc0) !== 0x80) return [0xfffd, 1];
    cp = (cp << 6) | (c & 0x3f);
  }
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return [0xfffd, 1];
  return [cp, need + 1];
}

/** How the server prints a rune inside its messages: a newline as `\n`, end of input as NUL. */
function show(r: number): string {
  if (r === 0x0a) return "\\n";
  return String.fromCodePoint(r);
}

class LexError {
  constructor(
    readonly message: string,
    readonly at: number,
    readonly pos: number,
  ) {}
}
/** The end of input inside a value: the server emits its EOF item there, `pending` bytes (the escapes already read) before the cursor. */
class LexStop {
  constructor(readonly pending = 0) {}
}

class Lexer {
  private pos = 0;
  /** Width of the rune the last next() read (0 at the end of input). */
  private width = 0;
  private readonly out: Token[] = [];
  private readonly nl: number[] = [];

  /** `sink`: each token is handed to it as soon as it is read (and not kept), else collected for run()'s result. */
  constructor(
    private readonly src: Buffer,
    private readonly sink?: (t: Token) => void,
    private readonly opts: LexOptions = {},
  ) {
    for (let i = src.indexOf(0x0a); i !== -1; i = src.indexOf(0x0a, i + 1)) this.nl.push(i);
  }

  run(): Token[] {
    try {
      this.document();
      this.emit("eof", this.pos, Buffer.alloc(0));
    } catch (e) {
      // the server's EOF item is placed len(val) bytes before the cursor (its emit), val being the string parts read so far
      if (e instanceof LexStop) this.emit("eof", this.pos - e.pending, Buffer.alloc(0));
      else if (e instanceof LexError) {
        const t = this.token("error", e.at, Buffer.from(e.message, "utf8"));
        t.serverLine = this.lineAt(e.pos);
        this.push(t);
      } else throw e;
    }
    return this.out;
  }

  // ----- positions -------------------------------------------------------------------------

  /** 1 + the number of newlines before byte offset `p`. */
  lineAt(p: number): number {
    let lo = 0;
    let hi = this.nl.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.nl[mid] < p) lo = mid + 1;
      else hi = mid;
    }
    return lo + 1;
  }

  /** The last column computed: tokens come mostly in order, so counting resumes from here. */
  private colCache = { line: 0, at: 0, col: 1 };

  private token(kind: TokenKind, at: number, bytes: Buffer): Token {
    const line = this.lineAt(at);
    let i = line === 1 ? 0 : this.nl[line - 2] + 1;
    let col = 1;
    if (this.colCache.line === line && this.colCache.at <= at) ({ at: i, col } = this.colCache);
    while (i < at && i < this.src.length) {
      i += decodeRune(this.src, i)[1];
      col++;
    }
    this.colCache = { line, at: i, col };
    return { kind, bytes, text: bytes.toString("utf8"), offset: at, line, col, serverLine: this.lineAt(this.pos) };
  }

  private emit(kind: TokenKind, at: number, bytes: Buffer): void {
    this.push(this.token(kind, at, bytes));
  }
  private push(t: Token): void {
    if (this.sink) this.sink(t);
    else this.out.push(t);
  }

  // ----- cursor ----------------------------------------------------------------------------

  private peek(): number {
    return decodeRune(this.src, this.pos)[0];
  }
  private next(): number {
    const [r, w] = decodeRune(this.src, this.pos);
    this.pos += w;
    this.width = w;
    return r;
  }
  /** Steps back over the rune that starts at `p` (which must be where the last next() began). */
  private back(p: number): void {
    this.pos = p;
  }
  private fail(message: string, at = this.pos): never {
    throw new LexError(message, Math.min(at, this.src.length), this.pos);
  }
  private slice(a: number, b: number): Buffer {
    return Buffer.from(this.src.subarray(a, b));
  }

  /** Skips a comment body, leaving the newline (or end) that ends it. */
  private comment(): void {
    for (;;) {
      const r = this.peek();
      if (r === EOF || isNewline(r)) return;
      this.next();
    }
  }

  /** After a `/`: true (and the comment skipped) when it was `//`; else the cursor is just after the first `/`. */
  private slashComment(): boolean {
    const p = this.pos;
    if (this.next() === 0x2f) {
      this.comment();
      return true;
    }
    this.back(p);
    return false;
  }

  // ----- the top level ---------------------------------------------------------------------

  private document(): void {
    for (;;) {
      const start = this.pos;
      const r = this.next();
      if (r === EOF) {
        if (this.width > 0) this.fail("Unexpected EOF.", start); // a NUL byte
        return;
      }
      if (isGoSpace(r) || r === 0x7b /* { */) continue;
      if (r === 0x23 /* # */) {
        this.comment();
        continue;
      }
      if (r === 0x2f /* / */) {
        if (this.slashComment()) continue;
        this.fail("Unexpected EOF.", start);
      }
      this.back(start);
      this.topEntry();
      this.topValueEnd();
    }
  }

  private topEntry(): void {
    const r = this.peek();
    if (isKeySep(r)) this.fail(`Unexpected key separator '${show(r)}'`);
    if (r === 0x22 || r === 0x27) {
      this.next();
      this.quotedKey(r, "top");
    } else {
      const start = this.pos;
      this.next();
      for (;;) {
        const c = this.peek();
        if (isGoSpace(c)) {
          if (this.slice(start, this.pos).toString("latin1").toLowerCase() === "include") {
            this.include();
            return;
          }
          break;
        }
        if (isKeySep(c) || c === EOF) break;
        this.next();
      }
      this.emit("key", start, this.slice(start, this.pos));
    }
    // after the key: any spaces (newlines too), an optional separator, then the value
    for (;;) {
      const p = this.pos;
      const c = this.next();
      if (isGoSpace(c)) continue;
      if (isKeySep(c)) break;
      if (c === EOF) throw new LexStop();
      this.back(p);
      break;
    }
    this.value();
  }

  private topValueEnd(): void {
    for (;;) {
      const at = this.pos;
      const r = this.next();
      if (r === 0x23) {
        this.comment();
        return;
      }
      if (r === 0x2f) {
        if (this.slashComment()) return;
        continue; // a lone '/' is skipped
      }
      if (isBlank(r)) continue;
      if (isNewline(r) || r === EOF || r === 0x3b || r === 0x2c || r === 0x7d) return;
      this.fail(`Expected a top-level value to end with a new line, comment or EOF, but got '${show(r)}' instead.`, at);
    }
  }

  // ----- keys --------------------------------------------------------------------------------

  /** A quoted key (no escapes); the opening quote is consumed. */
  private quotedKey(q: number, where: "top" | "map"): void {
    const start = this.pos;
    for (;;) {
      const r = this.peek();
      if (r === q) break;
      if (r === EOF) {
        if (where === "map") this.fail(q === 0x22 ? "Unexpected EOF processing double quoted map key." : "Unexpected EOF processing quoted map key.");
        if (this.pos > start) this.fail("Unexpected EOF.");
        throw new LexStop();
      }
      this.next();
    }
    this.emit("key", start, this.slice(start, this.pos));
    this.next();
  }

  /** `include` followed by a space: the path, then back to the caller's value end. */
  private include(): void {
    for (;;) {
      const p = this.pos;
      const r = this.next();
      if (isBlank(r)) continue;
      this.back(p);
      break;
    }
    const at = this.pos;
    const r = this.next();
    if (r === 0x27 || r === 0x22) {
      const start = this.pos;
      for (;;) {
        const c = this.next();
        if (c === r) break;
        if (c === EOF) this.fail(r === 0x27 ? "Unexpected EOF in quoted include" : "Unexpected EOF in double quoted include");
      }
      this.emit("include", start, this.slice(start, this.pos - 1));
      return;
    }
    if (r === 0x5b) this.fail("Expected include value but found start of an array", at);
    if (r === 0x7b) this.fail("Expected include value but found start of a map", at);
    if (r === 0x28) this.fail("Expected include value but found start of a block", at);
    if (isGoDigit(r) || r === 0x2d) this.fail("Expected include value but found start of a number", at);
    if (r === 0x5c) this.fail("Expected include value but found escape sequence", at);
    if (isNewline(r)) this.fail("Expected include value but found new line", at);
    this.back(at);
    const start = this.pos;
    for (;;) {
      const p = this.pos;
      const c = this.next();
      if (isNewline(c) || c === EOF || c === 0x3b || c === 0x7d || isBlank(c)) {
        this.back(p);
        this.emit("include", start, this.slice(start, p));
        return;
      }
      if (c === 0x27) {
        this.emit("include", start, this.slice(start, p));
        return;
      }
    }
  }

  // ----- maps --------------------------------------------------------------------------------

  /** The body of a map whose `{` was consumed; returns after its `}`. */
  private mapBody(): void {
    for (;;) {
      // a key, or the end of the map
      let keyStart = -1;
      for (;;) {
        const r = this.peek();
        if (isKeySep(r)) this.fail(`Unexpected key separator '${show(r)}'.`);
        if (r === 0x5d) this.fail(`Unexpected array end '${show(r)}' processing map.`);
        if (isGoSpace(r)) {
          this.next();
          continue;
        }
        if (r === 0x7d) {
          const at = this.pos;
          this.next();
          this.emit("mapEnd", at, Buffer.alloc(0));
          return;
        }
        if (r === 0x23) {
          this.next();
          this.comment();
          continue;
        }
        if (r === 0x2f) {
          this.next();
          if (this.slashComment()) continue;
          // the '/' is dropped; the key starts with whatever follows it
        } else if (r === 0x27 || r === 0x22) {
          this.next();
          this.quotedKey(r, "map");
          break;
        } else if (r === EOF) {
          this.fail("Unexpected EOF processing map.");
        }
        keyStart = this.pos;
        this.next();
        break;
      }
      if (keyStart >= 0) {
        let isInclude = false;
        for (;;) {
          const c = this.peek();
          if (c === EOF) this.fail("Unexpected EOF processing map key.");
          if (isGoSpace(c)) {
            isInclude = this.slice(keyStart, this.pos).toString("latin1").toLowerCase() === "include";
            break;
          }
          if (isKeySep(c)) break;
          this.next();
        }
        if (isInclude) {
          this.include();
          if (this.mapValueEnd()) return;
          continue;
        }
        this.emit("key", keyStart, this.slice(keyStart, this.pos));
      }
      // after the key: spaces, an optional separator, then more spaces (newlines too)
      for (;;) {
        const p = this.pos;
        const c = this.next();
        if (isGoSpace(c)) continue;
        if (!isKeySep(c)) this.back(p);
        break;
      }
      for (;;) {
        const p = this.pos;
        const c = this.next();
        if (isGoSpace(c)) continue;
        if (c === 0x2c) this.fail('Unexpected map value terminator ",".', p);
        if (c === 0x7d) {
          // a key with no value: the map simply ends
          this.emit("mapEnd", p, Buffer.alloc(0));
          return;
        }
        this.back(p);
        break;
      }
      this.value();
      if (this.mapValueEnd()) return;
    }
  }

  /** Between map entries; true when the map ended. */
  private mapValueEnd(): boolean {
    return this.valueEnd(0x7d, "mapEnd", "a map", true);
  }

  /**
   * After a value of a map or an array: blanks and comments, then a separator (',', a newline, a
   * lone '/', and in a map ';') or the closer (true: emitted as `end`); anything else is an error
   * worded as the server's lexer words it.
   */
  private valueEnd(close: number, end: TokenKind, what: "a map" | "an array", semicolon: boolean): boolean {
    for (;;) {
      const at = this.pos;
      const r = this.next();
      if (isBlank(r)) continue;
      if (r === 0x23) {
        this.comment();
        continue;
      }
      if (r === 0x2f) {
        if (this.slashComment()) continue;
        return false; // a lone '/' separates like ','
      }
      if ((semicolon && r === 0x3b) || r === 0x2c || isNewline(r)) return false;
      if (r === close) {
        this.emit(end, at, Buffer.alloc(0));
        return true;
      }
      this.fail(`Expected ${what} value terminator "," or ${what} terminator "${String.fromCharCode(close)}", but got '${show(r)}' instead.`, at);
    }
  }

  // ----- arrays ------------------------------------------------------------------------------

  private arrayBody(): void {
    for (;;) {
      for (;;) {
        const at = this.pos;
        const r = this.next();
        if (isGoSpace(r)) continue;
        if (r === 0x23) {
          this.comment();
          continue;
        }
        if (r === 0x2f && this.slashComment()) continue;
        if (r === 0x2f || r === 0x2c) this.fail("Unexpected array value terminator ','.", at);
        if (r === 0x5d) {
          this.emit("arrayEnd", at, Buffer.alloc(0));
          return;
        }
        this.back(at);
        break;
      }
      this.value();
      if (this.valueEnd(0x5d, "arrayEnd", "an array", false)) return;
    }
  }

  // ----- values ------------------------------------------------------------------------------

  private value(): void {
    for (;;) {
      const at = this.pos;
      const r = this.next();
      if (isBlank(r)) continue;
      switch (r) {
        case 0x5b: // [
          this.emit("arrayStart", at, Buffer.alloc(0));
          this.arrayBody();
          return;
        case 0x7b: // {
          this.emit("mapStart", at, Buffer.alloc(0));
          this.mapBody();
          return;
        case 0x27: // '
          this.singleQuoted();
          return;
        case 0x22: // "
          this.doubleQuoted();
          return;
        case 0x2d: // -
          this.negativeNumber(at);
          return;
        case 0x28: // (
          this.block();
          return;
        case 0x2e: // .
          this.fail("Floats must start with a digit", at);
      }
      if (isGoDigit(r)) {
        this.number(at);
        return;
      }
      if (isNewline(r)) this.fail("Expected value but found new line", at);
      this.back(at);
      this.bare(at, []);
      return;
    }
  }

  private singleQuoted(): void {
    const start = this.pos;
    for (;;) {
      const r = this.next();
      if (r === 0x27) break;
      if (r === EOF) {
        if (this.pos > start) this.fail("Unexpected EOF.");
        throw new LexStop();
      }
    }
    this.emit("string", start, this.slice(start, this.pos - 1));
  }

  /**
   * One escape; the backslash is consumed. Returns the bytes it stands for.
   */
  private escape(): Buffer {
    const at = this.pos;
    const r = this.next();
    switch (r) {
      case 0x74:
        return Buffer.from("\t");
      case 0x6e:
        return Buffer.from("\n");
      case 0x72:
        return Buffer.from("\r");
      case 0x22:
        return Buffer.from('"');
      case 0x5c:
        return Buffer.from("\\");
      case 0x78: {
        // two runes are read, then the two bytes before the cursor must be hex digits
        for (let i = 0; i < 2; i++) {
          if (isNewline(this.next())) this.fail("Expected two hexadecimal digits after '\\x', but hit end of line");
        }
        const two = this.src.subarray(Math.max(0, this.pos - 2), this.pos);
        const txt = two.toString("latin1");
        if (!/^[0-9A-Fa-f]{2}$/.test(txt)) this.fail(`Expected two hexadecimal digits after '\\x', but got '${two.toString("utf8")}'`);
        return Buffer.from([parseInt(txt, 16)]);
      }
    }
    this.fail(`Invalid escape character '${show(r)}'. Only the following escape characters are allowed: \\xXX, \\t, \\n, \\r, \\", \\\\.`, at);
  }

  private doubleQuoted(): void {
    const start = this.pos;
    const parts: Buffer[] = [];
    let seg = this.pos;
    for (;;) {
      const p = this.pos;
      const r = this.next();
      if (r === 0x5c) {
        parts.push(this.slice(seg, p));
        parts.push(this.escape());
        seg = this.pos;
        continue;
      }
      if (r === 0x22) {
        parts.push(this.slice(seg, p));
        this.emit("string", start, Buffer.concat(parts));
        return;
      }
      if (r === EOF) {
        if (this.pos > seg) this.fail("Unexpected EOF.");
        throw new LexStop(parts.reduce((n, b) => n + b.length, 0));
      }
    }
  }

  /**
   * A bare value from `start`; `parts` holds escaped pieces already read (none for a plain start).
   * `seg` defaults to the cursor. Decides between string, bool and variable at its end.
   */
  private bare(start: number, parts: Buffer[], seg = this.pos): void {
    for (;;) {
      const p = this.pos;
      const r = this.next();
      if (r === 0x5c) {
        parts.push(this.slice(seg, p));
        parts.push(this.escape());
        seg = this.pos;
        continue;
      }
      if (isNewline(r) || r === EOF || r === 0x3b || r === 0x2c || r === 0x5d || r === 0x7d || isBlank(r)) {
        this.back(p);
        if (parts.length > 0) {
          parts.push(this.slice(seg, p));
          this.emit("string", start, Buffer.concat(parts));
          return;
        }
        const raw = this.slice(seg, p);
        const word = raw.toString("latin1");
        if (BOOL_WORDS.has(word.toLowerCase())) this.emit("bool", start, raw);
        else if (raw.length > 0 && raw[0] === 0x24 /* $ */) this.emit("variable", start, raw.subarray(1));
        else this.emit("string", start, raw);
        return;
      }
      if (r === 0x27) {
        // a quote ends the value and is swallowed; no bool or variable check here
        parts.push(this.slice(seg, p));
        this.emit("string", start, Buffer.concat(parts));
        return;
      }
    }
  }

  /** The characters after which a number (or a suffixed number) is complete. */
  private static endsNumber(r: number): boolean {
    return isNewline(r) || r === EOF || r === 0x7d || r === 0x3b || r === 0x2c || isBlank(r) || isGoDigit(r);
  }

  /** A value that starts with a digit (already consumed, at `start`). */
  private number(start: number): void {
    for (;;) {
      const p = this.pos;
      const r = this.next();
      if (r === 0x2d) {
        if (this.pos - start !== 5) this.fail("All ISO8601 dates must be in full Zulu form.");
        this.datetime(start);
        return;
      }
      if (isGoDigit(r)) continue;
      if (r === 0x2e) {
        this.fraction(start);
        return;
      }
      if (NUMBER_SUFFIX.has(r)) {
        this.suffix(start);
        return;
      }
      if (!Lexer.endsNumber(r)) {
        // not a number after all: a bare string that already holds this character
        this.bare(start, [], start);
        return;
      }
      this.back(p);
      this.emit("int", start, this.slice(start, p));
      return;
    }
  }

  private negativeNumber(start: number): void {
    const r = this.next();
    if (!isGoDigit(r)) {
      if (r === 0x2e) this.fail("Floats must start with a digit, not '.'.");
      this.fail(`Expected a digit but got '${show(r)}'.`);
    }
    for (;;) {
      const p = this.pos;
      const c = this.next();
      if (isGoDigit(c)) continue;
      if (c === 0x2e) {
        this.fraction(start);
        return;
      }
      if (NUMBER_SUFFIX.has(c)) {
        this.suffix(start);
        return;
      }
      this.back(p);
      this.emit("int", start, this.slice(start, p));
      return;
    }
  }

  /** After a size suffix letter: any b/i letters, then the number must end, else it is a bare string. */
  private suffix(start: number): void {
    for (;;) {
      const p = this.pos;
      const r = this.next();
      if (r === 0x62 || r === 0x42 || r === 0x69 || r === 0x49) continue;
      this.back(p);
      // a digit after the suffix ends the number (`1e3`: the int 1e, then '3'), until the server reads the whole token as a string
      if (Lexer.endsNumber(r) && !(this.opts.digitAfterSuffixIsString && isGoDigit(r))) this.emit("int", start, this.slice(start, p));
      else this.bare(start, [], start);
      return;
    }
  }

  /** After `digits.`: at least one digit, then a float, or an address-like string. */
  private fraction(start: number): void {
    const r = this.next();
    if (!isGoDigit(r)) this.fail(`Floats must have a digit after the '.', but got '${show(r)}' instead.`);
    for (;;) {
      const p = this.pos;
      const c = this.next();
      if (isGoDigit(c)) continue;
      if (c === 0x2e) {
        // a second dot: an IP address (with optional :port and dashes), kept as a string
        for (;;) {
          const q = this.pos;
          const d = this.next();
          if (isGoDigit(d) || d === 0x2e || d === 0x3a || d === 0x2d) continue;
          this.back(q);
          this.emit("string", start, this.slice(start, q));
          return;
        }
      }
      this.back(p);
      this.emit("float", start, this.slice(start, p));
      return;
    }
  }

  /** `YYYY-` has been read; the rest must be `MM-DDTHH:MM:SSZ` exactly. */
  private datetime(start: number): void {
    for (const f of "00-00T00:00:00Z") {
      const r = this.next();
      if (f === "0") {
        if (!isGoDigit(r)) this.fail(`Expected digit in ISO8601 datetime, but found '${show(r)}' instead.`);
      } else if (r !== f.charCodeAt(0)) {
        this.fail(`Expected '${f}' in ISO8601 datetime, but found '${show(r)}' instead.`);
      }
    }
    this.emit("datetime", start, this.slice(start, this.pos));
  }

  /** `(` has been read: everything up to a `)` alone on its line. */
  private block(): void {
    const start = this.pos;
    for (;;) {
      const r = this.next();
      if (r === EOF) this.fail("Unexpected EOF processing block.");
      if (r !== 0x29) continue;
      const close = this.pos - 1;
      if (close - 1 < 0 || this.src[close - 1] !== 0x0a) continue;
      const p = this.pos;
      const after = this.next();
      if (after === 0x0a || after === EOF) {
        if (this.width === 0) {
          // at the very end of the file the ')' stays in the value
          this.emit("string", start, this.slice(start, p));
          return;
        }
        this.emit("string", start, this.slice(start, close));
        this.back(p); // the character after ')' ends the value
        return;
      }
      this.back(p);
    }
  }
}

/** Where the lexer follows a later server's. */
export interface LexOptions {
  /**
   * `1e3`, `0K1abc`: a digit after a size suffix makes the whole token a bare string (observed on
   * 2.14.10 and 2.15.3; 2.14.5's source and 2.12.15 still end the number before the digit).
   */
  digitAfterSuffixIsString?: boolean;
}

/** Tokenizes a whole configuration text. The list ends with an `eof` or an `error` token. */
export function lexConfig(src: Buffer | string, opts: LexOptions = {}): Token[] {
  return new Lexer(typeof src === "string" ? Buffer.from(src, "utf8") : src, undefined, opts).run();
}

/**
 * The same tokens, handed to `sink` one by one as they are read, so that a large file's tokens are
 * never all in memory at once. An exception thrown by `sink` stops the lexer and propagates.
 */
export function lexConfigTo(src: Buffer, sink: (t: Token) => void, opts: LexOptions = {}): void {
  new Lexer(src, sink, opts).run();
}
