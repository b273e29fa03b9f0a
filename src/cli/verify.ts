import * as path from "node:path";
import { Ctx, readSecretFile } from "./context";
import { readPresentedChain } from "../verify/input";
import { verifyConnection, Verdict } from "../verify/verdict";
import { toVerifierConfig } from "../verify/from-config";
import { checkVersion, defaultServerVersion } from "../verify/versions";
import { readServerConfig, ConfigError, ServerConfig, ConfigUser } from "../nats/conf/server-config";
import { usageError } from "../errors";
import { writeOut } from "./out";

/** Loads the config, mapping a refusal to exit 3 with file:line:col. */
export function loadConfig(file: string, cwd: string, serverVersion: string) {
  return readServerConfig(path.resolve(file), process.env, { cwd, serverVersion });
}

function human(file: string, v: Verdict, permissionLines: string[] = []): string {
  const lines: string[] = [];
  if (v.accepted) {
    if (v.ambiguous) lines.push(`${file}: ACCEPTED, but as one of ${v.candidates.length} users picked at random on every connection: ${v.candidates.map((c) => JSON.stringify(c)).join(", ")}`);
    else lines.push(`${file}: ACCEPTED as ${v.user === null ? "(no user: no authentication configured)" : JSON.stringify(v.user)}${v.account ? ` in account ${v.account}` : ""}${v.matchedBy ? ` (by ${v.matchedBy})` : ""}`);
  } else lines.push(`${file}: REFUSED at the ${v.stage} stage`);
  lines.push(`  why: ${v.reason}`);
  lines.push(...permissionLines);
  for (const n of v.notes) lines.push(`  note: ${n}`);
  lines.push(`  (modelled: nats-server ${v.serverVersion})`);
  return lines.join("\n");
}

type Perms = typeof import("../nats/permissions");

/**
 * perms.permissionsForVerdict for many certificates: the verdict's user is found by two hash
 * look-ups instead of a scan of every user per certificate, and only what the permissions need is
 * kept (not the parsed config tree) while the certificates are verified.
 */
function permissionsLookup(sc: ServerConfig, perms: Perms): (v: Verdict) => ReturnType<Perms["permissionsForVerdict"]> {
  // kind ("nkey" or user) -> account -> name -> the permissions of the first such user (permissionsForVerdict
  // takes the first). Only the permissions are kept, no object per user (issue 9): permissionsForVerdict
  // reads nkey or user, account and permissions of the user it finds, and the verdict gives the first two.
  type Permissions = ConfigUser["permissions"];
  const index = { nkey: new Map<string | null, Map<string, Permissions>>(), user: new Map<string | null, Map<string, Permissions>>() };
  const add = (kind: "nkey" | "user", name: string, u: ConfigUser) => {
    let m = index[kind].get(u.account);
    if (!m) index[kind].set(u.account, (m = new Map()));
    if (!m.has(name)) m.set(name, u.permissions);
  };
  for (const u of sc.users) {
    if (u.nkey !== undefined) add("nkey", u.nkey, u);
    if (!u.nkey && u.user !== undefined) add("user", u.user, u);
  }
  // only what permissionsForVerdict reads (PermissionSources): `sc` is not kept
  const accounts = sc.accounts.map((a) => ({ name: a.name, defaultPermissions: a.defaultPermissions }));
  const authorization = sc.authorization && { defaultPermissions: sc.authorization.defaultPermissions };
  return (v) => {
    const byNkey = v.matchedBy === "nkey";
    const m = v.user === null ? undefined : index[byNkey ? "nkey" : "user"].get(v.account);
    const account = v.account;
    const u = !m?.has(v.user!) ? undefined : byNkey ? { nkey: v.user!, account, permissions: m.get(v.user!) } : { user: v.user!, account, permissions: m.get(v.user!) };
    return perms.permissionsForVerdict({ users: u ? [u] : [], accounts, authorization }, v);
  };
}

/** The contract's field order (design.md), then the extras (with a config: the user's permissions and the --publish/--subscribe answers). */
export function verdictJson(file: string, v: Verdict, access?: { permissions: unknown; access: unknown[] }) {
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
    ...(access ?? {}),
    notes: v.notes,
    tlsChecks: v.tlsChecks ?? [],
  };
}

/**
 * The config, read and linted, as what verifying needs: the verifier's view, the lint notes and the
 * permissions lookup. In a function of its own so that the parsed config and its tree are garbage
 * once it returns (as a local of run() they stayed reachable from its frame during the whole loop
 * over the certificates; issue 9).
 */
function loadForVerify(file: string, serverCwd: string, version: string, perms: Perms) {
  const sc = loadConfig(file, serverCwd, version);
  const lintNotes = (require("../lint") as typeof import("../lint")).lintNotes(sc, version); // `mtlsctl lint`'s findings, as notes
  // built after lint, so that lint's working memory and these do not add up
  const cfg = toVerifierConfig(sc);
  const permissionsOf = permissionsLookup(sc, perms);
  return { cfg, permissionsOf, lintNotes };
}

/** `verify <cert>... --config nats.conf`: accepted or refused, and as which user, as the server decides. */
export function run(certFiles: string[] | string[][], o: Record<string, any>): void {
  const ctx = new Ctx(o);
  const files = (certFiles.flat() as string[]);
  if (!o.config) throw usageError("verify needs --config nats.conf");
  if (!files.length && o.nkeySeed === undefined) throw usageError("missing required argument 'cert' (or --nkey-seed F for a client that presents none)");
  if (o.nkeySeed !== undefined && o.connectionType === "LEAFNODE") throw usageError("--nkey-seed: not modelled for leafnode connections (give the certificate the leafnode presents)");
  if (o.nkeySeed !== undefined && o.connectionType === "MQTT") throw usageError("--nkey-seed: MQTT clients cannot send an NKey (MQTT's CONNECT has only a user name and a password)");
  if (o.nkeySeed === "-" && o.connectPasswordFile === "-") throw usageError("only one secret can be read from standard input");
  // the NKey the client sends (nkey code path only): its public key; the seed is never printed
  const nkey = o.nkeySeed !== undefined ? (require("../nkeys/nkeys") as typeof import("../nkeys/nkeys")).readSeedFile(o.nkeySeed) : undefined;
  if (nkey?.looseMode !== undefined) ctx.warn(`${nkey.file}: the NKey seed file is readable by others (mode ${nkey.looseMode.toString(8).padStart(4, "0")}); chmod 600 it`);
  const { version } = o.serverVersion ? { version: checkVersion(o.serverVersion) } : defaultServerVersion();
  const serverCwd = path.resolve(o.serverCwd ?? process.cwd());
  const connectPassword = o.connectPasswordFile !== undefined ? readSecretFile(o.connectPasswordFile, "connect password") : undefined;
  // --publish / --subscribe: what the mapped user may do (issue 10)
  const perms = require("../nats/permissions") as typeof import("../nats/permissions");
  const questions = perms.accessQuestions(o.publish, o.subscribe);
  let denied = false;
  let loaded: ReturnType<typeof loadForVerify>;
  try {
    loaded = loadForVerify(o.config, serverCwd, version, perms);
  } catch (e) {
    if (e instanceof ConfigError && ctx.json) {
      for (const _ of files.length ? files : [nkey!.file])
        writeOut(JSON.stringify({ accepted: false, user: null, account: null, matchedBy: null, stage: "config", ambiguous: false, candidates: [], reason: e.message, serverVersion: version }) + "\n");
    }
    throw e;
  }
  const { cfg, permissionsOf, lintNotes } = loaded;
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
    const chain = f === null ? null : readPresentedChain(f, o.p12Password); // settled by the preAction hook (cli/p12-password.ts)
    const label = f ?? nkey!.file;
    const decide = o.connectionType === "LEAFNODE" ? (require("../verify/leafnode") as typeof import("../verify/leafnode")).verifyLeafnode : verifyConnection;
    const v = decide(chain?.leaf ?? null, chain?.intermediates ?? [], cfg, { version, connectUser: o.connectUser, connectPassword, serverCwd, connectionType: o.connectionType, nkey: nkey?.publicKey });
    v.notes.push(...lintNotes);
    if (!v.accepted) allAccepted = false;
    const bound = o.connectionType === "LEAFNODE" ? null : permissionsOf(v);
    const { answers, note } = perms.answerQuestions(questions, bound, v);
    if (note) v.notes.push(note);
    if (answers.some((a) => !a.allowed)) denied = true;
    const access = { permissions: perms.boundJson(bound), access: answers };
    if (ctx.json) {
      writeOut(JSON.stringify({ ...verdictJson(label, v, access), ...(nkey ? { nkey: nkey.publicKey } : {}) }) + "\n");
    } else if (!ctx.quiet) writeOut(human(f === null ? label : nkey ? `${f} (with the NKey ${nkey.publicKey})` : f, v, perms.permissionLines(bound, answers, v.accepted && !v.ambiguous)) + "\n");
  }
  if (!allAccepted || denied) process.exitCode = 1;
}
