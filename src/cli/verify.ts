import * as path from "node:path";
import { Ctx, readSecretFile } from "./context";
import { readPresentedChain } from "../verify/input";
import { verifyConnection, Verdict } from "../verify/verdict";
import { toVerifierConfig } from "../verify/from-config";
import { checkVersion, defaultServerVersion } from "../verify/versions";
import { readServerConfig, ConfigError } from "../nats/conf/server-config";
import { usageError } from "../errors";

/** Loads the config, mapping a refusal to exit 3 with file:line:col. */
export function loadConfig(file: string, cwd: string, serverVersion: string) {
  return readServerConfig(path.resolve(file), process.env, { cwd, serverVersion });
}

function human(file: string, v: Verdict): string {
  const lines: string[] = [];
  if (v.accepted) {
    if (v.ambiguous) lines.push(`${file}: ACCEPTED, but as one of ${v.candidates.length} users picked at random on every connection: ${v.candidates.map((c) => JSON.stringify(c)).join(", ")}`);
    else lines.push(`${file}: ACCEPTED as ${v.user === null ? "(no user: no authentication configured)" : JSON.stringify(v.user)}${v.account ? ` in account ${v.account}` : ""}${v.matchedBy ? ` (by ${v.matchedBy})` : ""}`);
  } else lines.push(`${file}: REFUSED at the ${v.stage} stage`);
  lines.push(`  why: ${v.reason}`);
  for (const n of v.notes) lines.push(`  note: ${n}`);
  lines.push(`  (modelled: nats-server ${v.serverVersion})`);
  return lines.join("\n");
}

/** The contract's field order (design.md), then the extras. */
export function verdictJson(file: string, v: Verdict) {
  return {
    accepted: v.accepted,
    user: v.user,
    account: v.account,
    matchedBy: v.matchedBy,
    stage: v.stage,
    ambiguous: v.ambiguous,
    candidates: v.candidates,
    reason: v.reason,
    serverVersion: v.serverVersion,
    file,
    notes: v.notes,
    tlsChecks: v.tlsChecks ?? [],
  };
}

/** `verify <cert>... --config nats.conf`: accepted or refused, and as which user, as the server decides. */
export function run(certFiles: string[] | string[][], o: Record<string, any>): void {
  const ctx = new Ctx(o);
  const files = (certFiles.flat() as string[]);
  if (!o.config) throw usageError("verify needs --config nats.conf");
  const { version } = o.serverVersion ? { version: checkVersion(o.serverVersion) } : defaultServerVersion();
  const serverCwd = path.resolve(o.serverCwd ?? process.cwd());
  const connectPassword = o.connectPasswordFile !== undefined ? readSecretFile(o.connectPasswordFile, "connect password") : undefined;
  let cfg;
  try {
    cfg = toVerifierConfig(loadConfig(o.config, serverCwd, version));
  } catch (e) {
    if (e instanceof ConfigError && ctx.json) {
      for (const _ of files)
        process.stdout.write(JSON.stringify({ accepted: false, user: null, account: null, matchedBy: null, stage: "config", ambiguous: false, candidates: [], reason: e.message, serverVersion: version }) + "\n");
    }
    throw e;
  }
  let allAccepted = true;
  for (const f of files) {
    const chain = readPresentedChain(f);
    const v = verifyConnection(chain.leaf, chain.intermediates, cfg, { version, connectUser: o.connectUser, connectPassword, serverCwd, connectionType: o.connectionType });
    if (!v.accepted) allAccepted = false;
    if (ctx.json) {
      process.stdout.write(JSON.stringify(verdictJson(f, v)) + "\n");
    } else if (!ctx.quiet) process.stdout.write(human(f, v) + "\n");
  }
  if (!allAccepted) process.exitCode = 1;
}
