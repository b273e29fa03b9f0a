/**
 * `lint <nats.conf> [--certs DIR | --store] [--server-version V] [--json]`: findings with a stable
 * code, file:line, severity, the versions they apply to, and a fix. Exit 1 on any error-level
 * finding; exit 3 only when the config cannot be read or lexed.
 */
import * as path from "node:path";
import { Ctx } from "./context";
import { usageError } from "../errors";
import { checkVersion, defaultServerVersion } from "../verify/versions";
import type { Finding } from "../lint/codes";
import { shortPath as shown } from "../lint/config";

export function run([configFile]: string[], o: Record<string, any>): void {
  const ctx = new Ctx(o);
  if (o.certs !== undefined && o.store) throw usageError("give --certs DIR or --store, not both");
  const { version, source } = o.serverVersion ? { version: checkVersion(o.serverVersion), source: "--server-version" } : defaultServerVersion();
  const serverCwd = path.resolve(o.serverCwd ?? process.cwd());
  const { lintFile } = require("../lint") as typeof import("../lint");
  const certsMod = require("../lint/certs") as typeof import("../lint/certs");

  let certs: import("../lint/certs").LintCert[] | undefined;
  let knownPins: Map<string, { name: string; status: string }[]> | undefined;
  const extra: Finding[] = [];
  if (o.certs !== undefined) {
    const r = certsMod.certsFromDir(path.resolve(o.certs));
    certs = r.certs;
    extra.push(...r.findings);
    knownPins = new Map();
    const { spkiPin } = require("../lifecycle/pins") as typeof import("../lifecycle/pins");
    for (const c of certs) knownPins.set(spkiPin(c.leaf), [{ name: path.basename(c.file), status: "valid" }]);
  } else if (o.store) {
    const { Store } = require("../store/store") as typeof import("../store/store");
    const r = certsMod.certsFromStore(Store.open(ctx.dir));
    certs = r.certs;
    knownPins = r.pins;
  }

  const res = lintFile(configFile, { version, serverCwd, certs, knownPins, extra });
  const findings = res.findings.map((f) => ({ ...f, file: shown(f.file) }));
  const count = (s: string) => findings.filter((f) => f.severity === s).length;
  const summary = { errors: count("error"), warnings: count("warning"), info: count("info") };
  ctx.result({ findings, summary, serverVersion: version, serverVersionSource: source, files: res.files.map(shown), certificates: certs?.length ?? null }, () => {
    const lines: string[] = [];
    for (const f of findings) {
      const ver = f.versions === ">=2.9.10" ? "" : ` [nats-server ${f.versions}]`;
      lines.push(`${f.file}${f.line ? `:${f.line}` : ""}: ${f.severity} ${f.code} ${f.message}${ver}`);
      lines.push(`    fix: ${f.fix}`);
    }
    const what = `${shown(res.file)}${certs ? `, ${certs.length} certificate${certs.length === 1 ? "" : "s"}` : ""}`;
    lines.push(
      findings.length
        ? `${what}: ${summary.errors} error(s), ${summary.warnings} warning(s), ${summary.info} info (modelled: nats-server ${version})`
        : `${what}: no findings (modelled: nats-server ${version})`,
    );
    return lines.join("\n");
  });
  if (summary.errors > 0) process.exitCode = 1;
}
