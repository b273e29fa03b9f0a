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
  if (!files.length && o.nkeySeed === undefined) throw usageError("missing required argument 'cert' (or --nkey-seed F for a client that presents none)");
  if (o.nkeySeed !== undefined && o.connectionType === "MQTT") throw usageError("--nkey-seed: MQTT clients cannot send an NKey (MQTT's CONNECT has only a user name and a password)");
  if (o.nkeySeed === "-" && o.connectPasswordFile === "-") throw usageError("only one secret can be read from standard input");
  // the NKey the client sends (nkey code path only): its public key; the seed is never printed
  const nkey = o.nkeySeed !== undefined ? (require("../nkeys/nkeys") as typeof import("../nkeys/nkeys")).readSeedFile(o.nkeySeed) : undefined;
  if (nkey?.looseMode !== undefined) ctx.warn(`${nkey.file}: the NKey seed file is readable by others (mode ${nkey.looseMode.toString(8).padStart(4, "0")}); chmod 600 it`);
  const { version } = o.serverVersion ? { version: checkVersion(o.serverVersion) } : defaultServerVersion();
  const serverCwd = path.resolve(o.serverCwd ?? process.cwd());
  const connectPassword = o.connectPasswordFile !== undefined ? readSecretFile(o.connectPasswordFile, "connect password") : undefined;
  let cfg;
  let lintNotes: string[] = [];
  try {
    const sc = loadConfig(o.config, serverCwd, version);
    cfg = toVerifierConfig(sc);
    lintNotes = (require("../lint") as typeof import("../lint")).lintNotes(sc, version); // `mtlsctl lint`'s findings, as notes
  } catch (e) {
    if (e instanceof ConfigError && ctx.json) {
      for (const _ of files.length ? files : [nkey!.file])
        process.stdout.write(JSON.stringify({ accepted: false, user: null, account: null, matchedBy: null, stage: "config", ambiguous: false, candidates: [], reason: e.message, serverVersion: version }) + "\n");
    }
    throw e;
  }
  if (!files.length) {
    // --nkey-seed alone: allowed only when the server asks this client for no certificate
    const { clientCertRequired } = require("../nkeys/verdict") as typeof import("../nkeys/verdict");
    const connType = o.connectionType ?? "STANDARD";
    const why = clientCertRequired(connType === "STANDARD" ? cfg.tls : (cfg.listeners?.[connType as "WEBSOCKET" | "MQTT"] ?? null));
    if (why)
      throw usageError(`missing required argument 'cert': ${o.config} asks every client for a certificate (${why}), NKey clients too; give the certificate the client presents with its seed`);
  }
  let allAccepted = true;
  for (const f of files.length ? files : [null]) {
    const chain = f === null ? null : readPresentedChain(f);
    const label = f ?? nkey!.file;
    const v = verifyConnection(chain?.leaf ?? null, chain?.intermediates ?? [], cfg, { version, connectUser: o.connectUser, connectPassword, serverCwd, connectionType: o.connectionType, nkey: nkey?.publicKey });
    v.notes.push(...lintNotes);
    if (!v.accepted) allAccepted = false;
    if (ctx.json) {
      process.stdout.write(JSON.stringify({ ...verdictJson(label, v), ...(nkey ? { nkey: nkey.publicKey } : {}) }) + "\n");
    } else if (!ctx.quiet) process.stdout.write(human(f === null ? label : nkey ? `${f} (with the NKey ${nkey.publicKey})` : f, v) + "\n");
  }
  if (!allAccepted) process.exitCode = 1;
}
