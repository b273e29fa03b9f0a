/**
 * `lint`: the findings for a nats-server config (and optionally the certificates of a directory or a
 * store), as the `lint --json` object, which the CLI prints as is.
 */
import * as path from "node:path";
import { usageError } from "../errors";
import { lintFile } from "../lint";
import type { Finding } from "../lint/codes";
import { shortPath as shown } from "../lint/config";
import { certsFromDir, certsFromStore, LintCert } from "../lint/certs";
import { spkiPin } from "../lifecycle/pins";
import { Store } from "../store/store";
import { resolveServerVersion } from "./verify";

export interface LintOptions {
  serverVersion?: string;
  /** Also lint the certificates of this store directory against the config (`lint --store`). */
  store?: string;
  /** @internal A store's certificates read beforehand (`lint --store --db`: a database's, src/api/db-store.ts lintCertsOfStore), instead of `store`. */
  storeCerts?: { certs: LintCert[]; pins: Map<string, { name: string; status: string }[]> };
  /** Also lint every certificate file in this directory (`lint --certs DIR`). */
  certs?: string;
  serverCwd?: string;
  env?: NodeJS.ProcessEnv;
}

export interface LintReport {
  findings: Finding[];
  summary: { errors: number; warnings: number; info: number };
  serverVersion: string;
  serverVersionSource: string;
  files: string[];
  certificates: number | null;
}

/** @internal `lint` with the config file's shown name, for the CLI's summary line. */
export function lintDetailed(configPath: string, o: LintOptions = {}): { report: LintReport; file: string } {
  if (o.certs !== undefined && (o.store !== undefined || o.storeCerts !== undefined)) throw usageError("give --certs DIR or --store, not both");
  const { version, source } = resolveServerVersion(o.serverVersion);
  const serverCwd = path.resolve(o.serverCwd ?? process.cwd());
  let certs: LintCert[] | undefined;
  let knownPins: Map<string, { name: string; status: string }[]> | undefined;
  const extra: Finding[] = [];
  if (o.certs !== undefined) {
    const r = certsFromDir(path.resolve(o.certs));
    certs = r.certs;
    extra.push(...r.findings);
    knownPins = new Map();
    for (const c of certs) knownPins.set(spkiPin(c.leaf), [{ name: path.basename(c.file), status: "valid" }]);
  } else if (o.storeCerts !== undefined) {
    certs = o.storeCerts.certs;
    knownPins = o.storeCerts.pins;
  } else if (o.store !== undefined) {
    const r = certsFromStore(Store.open(path.resolve(o.store)));
    certs = r.certs;
    knownPins = r.pins;
  }
  const res = lintFile(configPath, { version, serverCwd, env: o.env, certs, knownPins, extra });
  const findings = res.findings.map((f) => ({ ...f, file: shown(f.file) }));
  const count = (s: string) => findings.filter((f) => f.severity === s).length;
  const summary = { errors: count("error"), warnings: count("warning"), info: count("info") };
  return {
    report: { findings, summary, serverVersion: version, serverVersionSource: source, files: res.files.map(shown), certificates: certs?.length ?? null },
    file: shown(res.file),
  };
}

/** The `lint --json` object for a config file. Throws (code "input"/"config") only when the file cannot be read or lexed. */
export function lint(configPath: string, o: LintOptions = {}): LintReport {
  return lintDetailed(configPath, o).report;
}
