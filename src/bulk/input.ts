/**
 * `client issue --from F`: reading the rows of a CSV or JSON file, streamed (a chunk at a time),
 * so that memory does not grow with the number of rows.
 *
 * CSV (RFC 4180): a header row naming the columns (`name` plus any of email, dns, uri, ip, subject,
 * key, days, and the NATS user's account, allow_pub, deny_pub, allow_sub, deny_sub, in any order),
 * then one row per client. Cells may be quoted ("..."), with "" for a
 * quote; quoted cells may hold commas, quotes and line breaks. CRLF or LF line endings; blank lines
 * and a UTF-8 byte order mark are ignored.
 * JSON: an array of objects with the same keys; SAN values are arrays of strings or `;`-separated
 * strings, `days` a number (or a string of digits).
 *
 * Damage to the file's syntax (an unterminated quote, malformed JSON, an unknown column) is an error
 * about the whole file, found before anything is issued; a bad value is an error about its row only.
 */
import * as fs from "node:fs";
import { StringDecoder } from "node:string_decoder";
import { inputError, MtlsError } from "../errors";

export const COLUMNS = ["name", "email", "dns", "uri", "ip", "subject", "key", "days", "account", "allow_pub", "deny_pub", "allow_sub", "deny_sub"] as const;
export type Column = (typeof COLUMNS)[number];
export const SAN_COLUMNS = ["email", "dns", "uri", "ip"] as const;
/** Columns that hold a list (`;`-separated in CSV, an array or a `;` string in JSON): SANs and NATS permissions. */
export const LIST_COLUMNS = [...SAN_COLUMNS, "allow_pub", "deny_pub", "allow_sub", "deny_sub"] as const;

/** One row as read: the 1-based line it starts on, and its values (absent when empty). */
export interface RawRow {
  line: number;
  values: Partial<Record<Column, string | string[] | number>>;
  /** Set when the row cannot be read as a row (wrong field count, not an object...). */
  error?: string;
}

export type InputFormat = "csv" | "json";

const CHUNK = 64 * 1024;

/** Reads a file chunk by chunk as text (UTF-8, BOM dropped). */
function* chunks(file: string): Generator<string> {
  let fd: number;
  try {
    fd = fs.openSync(file, "r");
    if (fs.fstatSync(fd).isDirectory()) {
      fs.closeSync(fd);
      throw inputError("is a directory, not a file", file);
    }
  } catch (e) {
    if (e instanceof MtlsError) throw e;
    throw inputError("cannot read the file", file);
  }
  const decoder = new StringDecoder("utf8");
  const buf = Buffer.allocUnsafe(CHUNK);
  let first = true;
  try {
    for (;;) {
      const n = fs.readSync(fd, buf, 0, CHUNK, null);
      if (n === 0) break;
      let s = decoder.write(buf.subarray(0, n));
      if (first && s.length) {
        if (s.charCodeAt(0) === 0xfeff) s = s.slice(1);
        first = false;
      }
      if (s) yield s;
    }
    const rest = decoder.end();
    if (rest) yield rest;
  } finally {
    fs.closeSync(fd);
  }
}

/** The format by extension, else by the first character that is not white space. */
export function detectFormat(file: string): InputFormat {
  if (/\.json$/i.test(file)) return "json";
  if (/\.csv$/i.test(file)) return "csv";
  for (const s of chunks(file)) {
    const m = s.match(/\S/);
    if (m) return m[0] === "[" ? "json" : "csv";
  }
  return "csv";
}

// ---------------------------------------------------------------- CSV

/** RFC 4180 records: each with the line it starts on. Throws (file:line) on a quoting error. */
export function* csvRecords(file: string): Generator<{ line: number; fields: string[] }> {
  let line = 1;
  let fields: string[] = [];
  let field = "";
  let start = 1; // line of the record being read
  let quoteLine = 1; // line of the last opening quote
  let inQuotes = false;
  let quoteSeen = false; // just read a quote inside a quoted field: a closing quote or the first of ""
  let afterClose = false; // the field was quoted and closed: only a separator may follow
  let started = false; // the record has a character (blank lines are skipped)
  const fail = (msg: string) => inputError(msg, `${file}:${line}`);
  const endRecord = function* () {
    fields.push(field);
    const rec = { line: start, fields };
    fields = [];
    field = "";
    afterClose = false;
    started = false;
    yield rec;
  };
  for (const s of chunks(file)) {
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (inQuotes) {
        if (quoteSeen) {
          quoteSeen = false;
          if (c === 0x22) {
            field += '"';
            continue;
          }
          inQuotes = false;
          afterClose = true;
          // fall through: this character follows the closing quote
        } else {
          if (c === 0x22) quoteSeen = true;
          else {
            if (c === 0x0a) line++;
            field += s[i];
          }
          continue;
        }
      }
      if (c === 0x2c /* , */) {
        started = true;
        fields.push(field);
        field = "";
        afterClose = false;
      } else if (c === 0x0a /* \n */) {
        if (started || fields.length || field.trim() !== "") yield* endRecord();
        else field = ""; // a blank line
        line++;
        start = line;
      } else if (c === 0x0d /* \r */) {
        // part of a line ending: dropped
      } else if (c === 0x22 /* " */) {
        if (afterClose) throw fail('a quote in the middle of a quoted cell must be doubled ("")');
        if (field.trim() !== "") throw fail('a quote inside an unquoted cell (quote the whole cell and double the quote: "a""b")');
        field = "";
        inQuotes = true;
        quoteLine = line;
        started = true;
      } else {
        if (afterClose) {
          if (c === 0x20 || c === 0x09) continue; // blanks after a closing quote
          throw fail("text after a closing quote (a cell is either quoted as a whole or not at all)");
        }
        if (!started) {
          if (c === 0x20 || c === 0x09) {
            field += s[i];
            continue;
          }
          started = true;
        }
        field += s[i];
      }
    }
  }
  if (inQuotes && !quoteSeen) throw inputError("a quoted cell starts here and is never closed (a missing quote?)", `${file}:${quoteLine}`);
  if (started || field.trim() !== "" || fields.length) yield* endRecord();
}

/** Splits a `;`-separated cell into its values (blanks around them and empty values dropped). */
export function splitList(cell: string): string[] {
  return cell
    .split(";")
    .map((v) => v.trim())
    .filter((v) => v !== "");
}

function headerOf(file: string, line: number, fields: string[]): Column[] {
  const cols = fields.map((f) => f.trim().toLowerCase());
  const seen = new Set<string>();
  for (const c of cols) {
    if (c === "") throw inputError(`the header row has an empty column name (expected ${COLUMNS.join(", ")})`, `${file}:${line}`);
    if (!(COLUMNS as readonly string[]).includes(c)) throw inputError(`unknown column "${c}" in the header row (expected name plus any of ${COLUMNS.slice(1).join(", ")})`, `${file}:${line}`);
    if (seen.has(c)) throw inputError(`column "${c}" appears twice in the header row`, `${file}:${line}`);
    seen.add(c);
  }
  if (!seen.has("name")) throw inputError(`the header row has no "name" column (the first row must name the columns: name plus any of ${COLUMNS.slice(1).join(", ")})`, `${file}:${line}`);
  return cols as Column[];
}

export function* csvRows(file: string): Generator<RawRow> {
  let header: Column[] | null = null;
  for (const rec of csvRecords(file)) {
    if (!header) {
      header = headerOf(file, rec.line, rec.fields);
      continue;
    }
    if (rec.fields.length !== header.length) {
      yield { line: rec.line, values: {}, error: `the row has ${rec.fields.length} cell${rec.fields.length === 1 ? "" : "s"}, the header has ${header.length}` };
      continue;
    }
    const values: RawRow["values"] = {};
    header.forEach((col, k) => {
      const cell = rec.fields[k].trim();
      if (cell === "") return;
      values[col] = (LIST_COLUMNS as readonly string[]).includes(col) ? splitList(cell) : cell;
    });
    yield { line: rec.line, values };
  }
  if (!header) throw inputError(`the file is empty (expected a header row: name plus any of ${COLUMNS.slice(1).join(", ")})`, file);
}

// ---------------------------------------------------------------- JSON

/**
 * The elements of a top-level JSON array, each parsed on its own, with the line it starts on.
 * Throws (file:line) when the file is not a well-formed JSON array.
 */
export function* jsonElements(file: string): Generator<{ line: number; value: unknown }> {
  let line = 1;
  let state: "before" | "expect-element" | "element" | "after-element" | "done" = "before";
  let text = "";
  let elemLine = 1;
  let depth = 0;
  let inString = false;
  let escaped = false;
  let sawElement = false; // for "[1,]" and "[,"
  const fail = (msg: string, at = line) => inputError(msg, `${file}:${at}`);
  const finish = () => {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (e) {
      throw fail(`not valid JSON (${(e as Error).message.replace(/ in JSON at position \d+.*$/, "")})`, elemLine);
    }
    text = "";
    return { line: elemLine, value };
  };
  const ws = (c: number) => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
  for (const s of chunks(file)) {
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (state === "element") {
        if (inString) {
          text += s[i];
          if (escaped) escaped = false;
          else if (c === 0x5c) escaped = true;
          else if (c === 0x22) inString = false;
          else if (c === 0x0a) throw fail("a line break inside a JSON string");
          continue;
        }
        if (depth === 0 && (c === 0x2c || c === 0x5d || ws(c))) {
          // the end of a scalar element
          const el = finish();
          state = "after-element";
          yield el;
          // reprocess this character in the new state
        } else {
          if (c === 0x22) inString = true;
          else if (c === 0x7b || c === 0x5b) depth++;
          else if (c === 0x7d || c === 0x5d) {
            depth--;
            if (depth < 0) throw fail(`unexpected "${s[i]}"`);
          }
          if (c === 0x0a) line++;
          text += s[i];
          if (depth === 0 && (c === 0x7d || c === 0x5d)) {
            const el = finish();
            state = "after-element";
            yield el;
          }
          continue;
        }
      }
      if (c === 0x0a) line++;
      if (ws(c)) continue;
      switch (state) {
        case "before":
          if (c !== 0x5b) throw fail("expected a JSON array of objects ([ { \"name\": ... }, ... ])");
          state = "expect-element";
          break;
        case "expect-element":
          if (c === 0x5d) {
            if (sawElement) throw fail('a "," before "]" (trailing commas are not JSON)');
            state = "done";
            break;
          }
          if (c === 0x2c) throw fail('unexpected ","');
          state = "element";
          elemLine = line;
          depth = 0;
          text = "";
          i--; // read the element's first character in the element state
          break;
        case "after-element":
          if (c === 0x2c) {
            state = "expect-element";
            sawElement = true;
          } else if (c === 0x5d) state = "done";
          else throw fail(`expected "," or "]" after an element, found "${s[i]}"`);
          break;
        case "done":
          throw fail("text after the end of the array");
      }
    }
  }
  if (state === "element" && depth === 0 && !inString && text !== "") {
    yield finish();
    state = "after-element";
  }
  if (state === "before") throw inputError("the file is empty (expected a JSON array of objects)", file);
  if (state !== "done") throw fail("the JSON array is not closed (missing \"]\")");
}

function jsonRow(line: number, v: unknown): RawRow {
  if (v === null || typeof v !== "object" || Array.isArray(v)) return { line, values: {}, error: `expected an object ({ "name": ... }), found ${v === null ? "null" : Array.isArray(v) ? "an array" : typeof v}` };
  const values: RawRow["values"] = {};
  for (const [k, raw] of Object.entries(v as Record<string, unknown>)) {
    const key = k.toLowerCase();
    if (!(COLUMNS as readonly string[]).includes(key)) return { line, values, error: `unknown key "${k}" (expected name plus any of ${COLUMNS.slice(1).join(", ")})` };
    if (raw === null || raw === undefined) continue;
    const col = key as Column;
    if ((LIST_COLUMNS as readonly string[]).includes(col)) {
      if (typeof raw === "string") values[col] = splitList(raw);
      else if (Array.isArray(raw) && raw.every((x) => typeof x === "string")) values[col] = (raw as string[]).flatMap(splitList);
      else return { line, values, error: `"${k}" must be a string or an array of strings` };
    } else if (col === "days") {
      if (typeof raw === "number" || (typeof raw === "string" && raw.trim() !== "")) values.days = typeof raw === "string" ? raw.trim() : raw;
      else return { line, values, error: `"days" must be a whole number` };
    } else {
      if (typeof raw !== "string") return { line, values, error: `"${k}" must be a string` };
      if (raw.trim() !== "") values[col] = raw.trim();
    }
  }
  return { line, values };
}

export function* jsonRows(file: string): Generator<RawRow> {
  for (const el of jsonElements(file)) yield jsonRow(el.line, el.value);
}

export function rowsOf(file: string, format: InputFormat = detectFormat(file)): Generator<RawRow> {
  return format === "json" ? jsonRows(file) : csvRows(file);
}

/**
 * Reads the whole file once without keeping the rows, to count them and to find damage to its
 * syntax before anything is issued.
 */
export function countRows(file: string, format: InputFormat = detectFormat(file)): number {
  let n = 0;
  for (const _ of rowsOf(file, format)) n++;
  return n;
}
