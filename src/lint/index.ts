/**
 * `mtlsctl lint`: everything in a nats-server config (and, optionally, a set of certificates)
 * that makes the server refuse the config, pick a user at random, lock a user out, let one user
 * in as another, or behave otherwise than the config reads. See ./codes.ts for the findings.
 */
import * as path from "node:path";
import { readServerConfig, ConfigError, type ServerConfig } from "../nats/conf/server-config";
import { toVerifierConfig } from "../verify/from-config";
import { mapCertificate, UserIndex } from "../nats/mapping";
import { CODES, Finding, inRange, SEVERITY_RANK } from "./codes";
import { lintConfig, lintUsers, TreeIndex, finding, shortPath } from "./config";
import { lintCerts, type LintCert } from "./certs";
import { lintOcspPeer } from "./ocsp-peer";

export type { Finding } from "./codes";
export { CODES } from "./codes";

export interface LintOptions {
  version: string;
  /** The server's working directory (it opens cert_file, key_file and ca_file relative to it). */
  serverCwd: string;
  env?: NodeJS.ProcessEnv;
  certs?: LintCert[];
  /** Key pins of every certificate known (store: all statuses), for pinned_certs. */
  knownPins?: Map<string, { name: string; status: string }[]>;
  /** Findings gathered before (e.g. unreadable files in --certs). */
  extra?: Finding[];
  now?: Date;
}

export interface LintResult {
  file: string;
  files: string[];
  serverVersion: string;
  findings: Finding[];
}

/** A lexer error (or an unreadable main file): `lint` exits 3 on it instead of reporting a finding. */
function unlexable(e: ConfigError): boolean {
  return e.line === 0 || /Parse error on line/.test(e.serverMessage);
}

function sortFindings(fs: Finding[]): Finding[] {
  return fs.sort((a, b) => a.file.localeCompare(b.file) || (a.line ?? 0) - (b.line ?? 0) || (a.col ?? 0) - (b.col ?? 0) || SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity] || a.code.localeCompare(b.code));
}

/** Keeps the findings that apply to `version`, each once. */
function applicable(fs: Finding[], version: string): Finding[] {
  const seen = new Set<string>();
  return fs.filter((f) => {
    if (!inRange(f.versions, version)) return false;
    const k = JSON.stringify([f.code, f.file, f.line, f.col, f.message]);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/** Lints a config file. Throws an input error (exit 3) only when the file cannot be read or lexed. */
export function lintFile(file: string, o: LintOptions): LintResult {
  const abs = path.resolve(file);
  let sc: ServerConfig;
  try {
    sc = readServerConfig(abs, o.env ?? process.env, { cwd: o.serverCwd, serverVersion: o.version, keepGoing: true });
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    if (unlexable(e)) throw e;
    // the parser stopped (a bad number, a missing variable or include): no tree to lint further
    const fs = [e, ...e.others].map((x) => finding("NATS000", { file: x.file, line: x.line || null, col: x.col || undefined }, `nats-server refuses to load the config: ${x.reason}`, "correct it; `nats-server -t -c FILE` must exit 0"));
    return { file: abs, files: [abs], serverVersion: o.version, findings: sortFindings(applicable([...fs, ...(o.extra ?? [])], o.version)) };
  }
  return { file: abs, files: sc.files, serverVersion: o.version, findings: lintServerConfig(sc, o) };
}

/** Lints a config the reader has read (with `keepGoing` or without errors). */
export function lintServerConfig(sc: ServerConfig, o: LintOptions): Finding[] {
  // the verifier's view of the users is needed only with certificates (not built otherwise: memory, issue 9)
  const cfg = o.certs?.length ? toVerifierConfig(sc) : undefined;
  let certFindings: Finding[] = [];
  if (o.certs?.length && cfg) {
    const userWhere = new Map(lintUsers(sc, new TreeIndex(sc.tree)).map((u) => [u.user, `${shortPath(u.pos.file)}:${u.pos.line}`]));
    certFindings = lintCerts(o.certs, cfg, { version: o.version, serverCwd: o.serverCwd, now: o.now, userWhere });
  }
  // users that the given certificates map to are certificate users, whatever they look like
  const certificateUsers = new Set<string>();
  if (o.certs?.length && cfg) {
    const index = new UserIndex(cfg.users, o.version);
    for (const c of o.certs) for (const u of mapCertificate(c.leaf, index, o.version).candidates) certificateUsers.add(u.user);
  }
  const configFindings = lintConfig(sc, { version: o.version, certificateUsers, knownPins: o.knownPins });
  const ocspFindings = lintOcspPeer(sc, o.certs);
  return sortFindings(applicable([...configFindings, ...certFindings, ...ocspFindings, ...(o.extra ?? [])], o.version));
}

/**
 * The config's findings as notes for `verify` and `explain` (warnings and errors; those the
 * verdict already explains are left out), at most `max` of them.
 */
export function lintNotes(sc: ServerConfig, version: string, max = 8): string[] {
  let fs: Finding[];
  try {
    fs = lintServerConfig(sc, { version, serverCwd: process.cwd() });
  } catch {
    return [];
  }
  fs = fs.filter((f) => f.severity !== "info" && f.code !== "NATS023" && f.code !== "NATS030" && f.code !== "NATS035");
  const notes = fs.slice(0, max).map((f) => `lint ${f.code} (${f.severity}) ${shortPath(f.file)}${f.line ? `:${f.line}` : ""}: ${f.message}`);
  if (fs.length > max) notes.push(`lint: ${fs.length - max} more finding(s): run \`mtlsctl lint ${shortPath(sc.file)}\``);
  return notes;
}

/** The codes, for `--help` and the README. */
export const codeTable = () => Object.entries(CODES).map(([code, c]) => ({ code, ...c }));
