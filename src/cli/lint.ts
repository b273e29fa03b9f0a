/**
 * `lint <nats.conf> [--certs DIR | --store] [--server-version V] [--json]`: findings with a stable
 * code, file:line, severity, the versions they apply to, and a fix (src/api/lint.ts). Exit 1 on any
 * error-level finding; exit 3 only when the config cannot be read or lexed.
 */
import { Ctx } from "./context";
import { lintDetailed } from "../api/lint";
import { lintCertsOfStore } from "../api/db-store";
import { withDb } from "./store/open";
import { usageError } from "../errors";

export async function run([configFile]: string[], o: Record<string, any>): Promise<void> {
  const ctx = new Ctx(o);
  // a database store (issue 19): its client certificates, read from its rows beforehand
  if (o.store && o.certs !== undefined) throw usageError("give --certs DIR or --store, not both");
  const storeCerts = o.store && ctx.db !== undefined ? await withDb(ctx, (db) => lintCertsOfStore(db)) : undefined;
  const { report, file } = lintDetailed(configFile, { serverVersion: o.serverVersion, certs: o.certs, store: o.store && ctx.db === undefined ? ctx.dir : undefined, storeCerts, serverCwd: o.serverCwd });
  const { findings, summary } = report;
  ctx.result(report, () => {
    const lines: string[] = [];
    for (const f of findings) {
      const ver = f.versions === ">=2.9.10" ? "" : ` [nats-server ${f.versions}]`;
      lines.push(`${f.file}${f.line ? `:${f.line}` : ""}: ${f.severity} ${f.code} ${f.message}${ver}`);
      lines.push(`    fix: ${f.fix}`);
    }
    const what = `${file}${report.certificates !== null ? `, ${report.certificates} certificate${report.certificates === 1 ? "" : "s"}` : ""}`;
    lines.push(
      findings.length
        ? `${what}: ${summary.errors} error(s), ${summary.warnings} warning(s), ${summary.info} info (modelled: nats-server ${report.serverVersion})`
        : `${what}: no findings (modelled: nats-server ${report.serverVersion})`,
    );
    return lines.join("\n");
  });
  if (summary.errors > 0) process.exitCode = 1;
}
