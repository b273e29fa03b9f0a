/**
 * What the `config node|curl|java` snippets share: the server certificate to use, absolute store
 * paths, the default URL, and quoting for each language (a path lands in the snippet as a literal
 * that reads back exactly, or the snippet is refused).
 */
import * as path from "node:path";
import { inputError } from "../errors";
import { CertRecord, Inventory } from "../store/store";

/**
 * What the snippets read of a store: the file store (Store), or (issue 19) a database store's view,
 * whose `dir` is its URL without a password and `db` that URL (the export commands then name --db).
 */
export interface SnippetStore {
  readonly dir: string;
  readonly inventoryFile: string;
  readonly db?: string;
  findByName(inv: Inventory, name: string): CertRecord | undefined;
}

const isLive = (c: CertRecord, now: Date) => c.status === "valid" && new Date(c.notAfter) > now;

/** The named server certificate, else the newest valid one; null when the store has none. */
export function pickServer(store: SnippetStore, inv: Inventory, name?: string): CertRecord | null {
  const now = new Date();
  const servers = inv.certificates.filter((c) => c.kind === "server" && isLive(c, now));
  if (name !== undefined) {
    const s = servers.find((c) => c.name === name);
    if (!s) throw inputError(`no valid server certificate named "${name}"`, store.inventoryFile);
    return s;
  }
  return servers.sort((a, b) => b.notBefore.localeCompare(a.notBefore) || b.issuedAt.localeCompare(a.issuedAt))[0] ?? null;
}

export function requireServer(store: SnippetStore, inv: Inventory, name?: string): CertRecord & { keyFile: string } {
  const s = pickServer(store, inv, name);
  if (!s) throw inputError("no valid server certificate in the store (run `mtlsctl server issue NAME --dns HOST`)", store.inventoryFile);
  if (!s.keyFile) throw inputError(`server certificate "${s.name}" has no key in the store`, store.inventoryFile);
  return s as CertRecord & { keyFile: string };
}

/** A live certificate of that name (client or server), for the client side of a snippet. */
export function requireCert(store: SnippetStore, inv: Inventory, name: string): CertRecord {
  const rec = store.findByName(inv, name);
  if (!rec) throw inputError(`no certificate named "${name}" in the store`, store.inventoryFile);
  if (!isLive(rec, new Date())) throw inputError(`"${name}" is ${rec.status === "valid" ? "expired" : rec.status}`, store.inventoryFile);
  return rec;
}

/** https://<first DNS name, else first IP of the server certificate>:8443/ */
export function defaultUrl(server: CertRecord | null): string | null {
  if (!server) return null;
  const host = server.sans.dns[0] ?? (server.sans.ip[0] !== undefined ? (server.sans.ip[0].includes(":") ? `[${server.sans.ip[0]}]` : server.sans.ip[0]) : undefined);
  return host === undefined ? null : `https://${host}:8443/`;
}

export function checkUrl(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw inputError(`--url "${url}" is not a URL`);
  }
  if (u.protocol !== "https:") throw inputError(`--url must be an https:// URL (got ${u.protocol}//)`);
  return url;
}

function refuseControl(s: string): string {
  if (/[\u0000-\u001f\u007f]/.test(s)) throw inputError(`a control character in "${s.replace(/[\u0000-\u001f\u007f]/g, "?")}" cannot go into a snippet`);
  return s;
}

/** POSIX shell: single quotes, with ' written as '\'' . */
export function shellQuote(s: string): string {
  refuseControl(s);
  return /^[A-Za-z0-9_./:@%+=,-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** A JavaScript string literal. */
export function jsString(s: string): string {
  return JSON.stringify(refuseControl(s));
}

/** A Java string literal: ASCII only (\uXXXX for the rest), so any source encoding reads it back. */
export function javaString(s: string): string {
  refuseControl(s);
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '"' || ch === "\\") out += "\\" + ch;
    else if (c >= 0x20 && c < 0x7f) out += ch;
    else for (const unit of ch.split("")) out += "\\u" + unit.charCodeAt(0).toString(16).padStart(4, "0");
  }
  return out + '"';
}

/** The header values every template starts with. */
export function headerVars(store: SnippetStore): { version: string; date: string; store: string } {
  return { version: require("../../package.json").version, date: new Date().toISOString().slice(0, 10), store: store.dir };
}

/** The `mtlsctl export` command that writes a file the snippet loads (for a comment line). */
export function exportCommand(store: SnippetStore, name: string, format: "p12" | "truststore", out: string): string {
  return ["mtlsctl", ...(store.db !== undefined ? ["--db", shellQuote(store.db)] : ["--dir", shellQuote(store.dir)]), "export", shellQuote(name), "--format", format, "--out", shellQuote(path.resolve(out))].join(" ");
}
