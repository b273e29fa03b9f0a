/**
 * Writing strings into a nats-server config (reference §3.2): always double-quoted, escaped byte by
 * byte so that the server's lexer reads back exactly the intended value.
 */
import { inputError } from "../errors";

export function quoteConfString(value: string, what = "value"): string {
  if (value === "") throw inputError(`${what}: an empty string cannot be used in a NATS config`);
  if (/[\uD800-\uDFFF]/.test(value.replace(/[\uD800-\uDBFF][\uDC00-\uDFFF]/g, "")))
    throw inputError(`${what}: not valid Unicode, cannot be expressed in a NATS config`);
  if (value.includes("\u0000")) throw inputError(`${what}: contains a NUL byte, cannot be expressed safely in a NATS config`);
  let out = '"';
  for (const b of Buffer.from(value, "utf8")) {
    if (b === 0x5c) out += "\\\\";
    else if (b === 0x22) out += '\\"';
    else if (b === 0x0a) out += "\\n";
    else if (b === 0x0d) out += "\\r";
    else if (b === 0x09) out += "\\t";
    else if (b < 0x20 || b === 0x7f) out += "\\x" + b.toString(16).padStart(2, "0");
    else out += String.fromCharCode(b);
  }
  // non-ASCII bytes were appended one by one as Latin-1 code units: turn them back into UTF-8 text
  return Buffer.from(out + '"', "latin1").toString("utf8");
}
