/** What the `init` wizard's two forms (a directory, a database) share: paths shown short, the SAN flags of a command line. */
import * as fs from "node:fs";
import * as path from "node:path";
import { shellQuote } from "../export/snippets";
import type { Sans } from "../pki/san";

export const rel = (f: string) => {
  const r = path.relative(process.cwd(), f);
  return r === "" ? "." : r.startsWith("..") ? f : r;
};

export function checkConfigPath(v: string): void {
  if (v === "") throw new Error("give a file name");
  const f = path.resolve(v);
  if (fs.existsSync(f)) throw new Error(`${f} already exists: choose another name (or remove it first)`);
  const dir = path.dirname(f);
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new Error(`the directory ${dir} does not exist`);
}

/** The SAN flags of a command line, in the order the SANs were given. */
export function sanFlags(s: Sans): string[] {
  return [...s.email.map((v) => `--email ${shellQuote(v)}`), ...s.dns.map((v) => `--dns ${shellQuote(v)}`), ...s.uri.map((v) => `--uri ${shellQuote(v)}`), ...s.ip.map((v) => `--ip ${shellQuote(v)}`)];
}
