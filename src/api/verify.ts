/**
 * `verify`: which user the server makes of a certificate, under a config, as the `verify --json`
 * object. The CLI prints exactly what this returns (one code path): `createVerifier` reads the
 * config once for many certificates, `verify` is the one-certificate form.
 */
import * as path from "node:path";
import { usageError } from "../errors";
import { Verdict, verifyConnection } from "../verify/verdict";
import { toVerifierConfig } from "../verify/from-config";
import { verifyLeafnode } from "../verify/leafnode";
import { checkVersion, defaultServerVersion } from "../verify/versions";
import { ConfigUser, ServerConfig } from "../nats/conf/server-config";
import * as perms from "../nats/permissions";
import { lintNotes } from "../lint";
import { clientCertRequired } from "../verify/nkey-stage";
import { seedPublicKey } from "../nkeys/nkeys";
import { CertificateInput, certificateLabel, presentedChainOf, readConfig } from "./inputs";

/** The kinds of connection the server maps (`STANDARD`: a client on the client port). */
export type ConnectionType = "STANDARD" | "WEBSOCKET" | "MQTT" | "LEAFNODE";

export interface VerifierOptions {
  /** The nats-server config: a path, or the config's text. */
  config: string;
  /** The nats-server version to model (any patch of a modelled minor); default: the nats-server on PATH, else the newest modelled. */
  serverVersion?: string;
  /** The CONNECT's user and password, as the client sends them. */
  connectUser?: string;
  connectPassword?: string;
  /** The CONNECT's auth_token, as the client sends it. */
  connectToken?: string;
  /** The client's NKey seed (SU...), as text: the client signs the server's nonce with it. Never returned. */
  nkeySeed?: string;
  connectionType?: ConnectionType;
  /** Subjects to ask about: may the mapped user publish / subscribe to them? (`access` in the result) */
  publish?: string[];
  subscribe?: string[];
  /** The server's working directory (cert_file, ca_file are relative to it); default the process's. */
  serverCwd?: string;
  /** The server's environment, for `$VAR` in the config; default process.env. */
  env?: NodeJS.ProcessEnv;
  /** The password of a PKCS#12 certificate input (none: only a file made without a password opens). */
  p12Password?: string;
  /** With `tls { ocsp_peer }`: ask the certificate's OCSP responder (its AIA) as the server does, and refuse as it would. */
  ocsp?: boolean;
}

export interface VerifyOptions extends VerifierOptions {
  /** The certificate the client presents: a path, PEM text, or bytes (a leaf then its intermediates). Omit only with `nkeySeed`. */
  certificate?: CertificateInput;
}

/** The `verify --json` object (design.md), with the extras the CLI prints. */
export interface VerifyResult {
  accepted: boolean;
  user: string | null;
  account: string | null;
  matchedBy: Verdict["matchedBy"];
  stage: Verdict["stage"];
  ambiguous: boolean;
  candidates: string[];
  reason: string;
  serverVersion: string;
  /** With ocsp_peer in the config (design.md). */
  ocspPeer?: Verdict["ocspPeer"];
  file: string;
  permissions?: unknown;
  access?: perms.AccessAnswer[];
  notes: string[];
  tlsChecks: NonNullable<Verdict["tlsChecks"]>;
  /** The client's NKey public key, when it sent one. */
  nkey?: string;
}

/** The contract's field order (design.md), then the extras (with a config: the user's permissions and the --publish/--subscribe answers). */
export function verdictJson(file: string, v: Verdict, access?: { permissions: unknown; access: perms.AccessAnswer[] }): VerifyResult {
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
    ...(v.ocspPeer ? { ocspPeer: v.ocspPeer } : {}),
    file,
    ...(access ?? {}),
    notes: v.notes,
    tlsChecks: v.tlsChecks ?? [],
  };
}

type PermissionsOf = (v: Verdict) => ReturnType<typeof perms.permissionsForVerdict>;

/**
 * perms.permissionsForVerdict for many certificates: the verdict's user is found by two hash
 * look-ups instead of a scan of every user per certificate, and only what the permissions need is
 * kept (not the parsed config tree) while the certificates are verified.
 */
function permissionsLookup(sc: ServerConfig): PermissionsOf {
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

/**
 * The config, read and linted, as what verifying needs: the verifier's view, the lint notes and the
 * permissions lookup. In a function of its own so that the parsed config and its tree are garbage
 * once it returns (kept reachable during the loop over the certificates, it cost memory; issue 9).
 */
function loadForVerify(config: string, o: { serverVersion: string; serverCwd: string; env?: NodeJS.ProcessEnv }) {
  const sc = readConfig(config, o);
  const notes = lintNotes(sc, o.serverVersion); // `mtlsctl lint`'s findings, as notes
  // built after lint, so that lint's working memory and these do not add up
  const cfg = toVerifierConfig(sc);
  const permissionsOf = permissionsLookup(sc);
  return { cfg, permissionsOf, notes };
}

/** A verifier bound to one config: `verify(cert)` gives the `verify --json` object of each certificate. */
export interface Verifier {
  /** The version modelled, and where it came from (`--server-version`, the nats-server on PATH, ...). */
  readonly serverVersion: string;
  readonly serverVersionSource: string;
  /** The NKey public key of `nkeySeed`, when given. */
  readonly nkey: string | null;
  /** `certificate` null: a client that presents none (with `nkeySeed` only). `label`: the `file` of a non-path input. */
  verify(certificate: CertificateInput | null, label?: string): VerifyResult;
  /** @internal The same, with the bound permissions the CLI's human output describes. */
  verifyWithPermissions(certificate: CertificateInput | null, label?: string): { result: VerifyResult; bound: perms.BoundPermissions | null };
}

/** Refuses an NKey for a connection type that cannot send one (usage error). */
export function checkNkeyConnection(connectionType: string | undefined): void {
  if (connectionType === "LEAFNODE") throw usageError("--nkey-seed: not modelled for leafnode connections (give the certificate the leafnode presents)");
  if (connectionType === "MQTT") throw usageError("--nkey-seed: MQTT clients cannot send an NKey (MQTT's CONNECT has only a user name and a password)");
}

/** The serverVersion option resolved: checked, or the default (nats-server on PATH, else the newest modelled). */
export function resolveServerVersion(v: string | undefined): { version: string; source: string } {
  return v ? { version: checkVersion(v), source: "--server-version" } : defaultServerVersion();
}

/**
 * Reads and checks `o.config` once. Throws MtlsctlError: code "usage" for contradictory options,
 * "config" for a config the server refuses to load (ConfigError, with file/line/col), "input" for
 * an unreadable or malformed input.
 */
export function createVerifier(o: VerifierOptions): Verifier {
  if (o.nkeySeed !== undefined) checkNkeyConnection(o.connectionType);
  const nkey = o.nkeySeed !== undefined ? seedPublicKey(o.nkeySeed).publicKey : null;
  const { version, source } = resolveServerVersion(o.serverVersion);
  const serverCwd = path.resolve(o.serverCwd ?? process.cwd());
  const questions = perms.accessQuestions(o.publish, o.subscribe);
  const { cfg, permissionsOf, notes } = loadForVerify(o.config, { serverVersion: version, serverCwd, env: o.env });
  const connType = o.connectionType ?? "STANDARD";
  const decide = connType === "LEAFNODE" ? verifyLeafnode : verifyConnection;
  const verifier: Verifier = {
    serverVersion: version,
    serverVersionSource: source,
    nkey,
    verify: (certificate, label) => verifier.verifyWithPermissions(certificate, label).result,
    verifyWithPermissions(certificate, label) {
      if (certificate === null) {
        if (nkey === null) throw usageError("missing required argument 'cert' (or --nkey-seed F for a client that presents none)");
        // an NKey alone: allowed only when the server asks this client for no certificate
        const why = clientCertRequired(connType === "STANDARD" ? cfg.tls : (cfg.listeners?.[connType as "WEBSOCKET" | "MQTT"] ?? null));
        if (why) throw usageError(`missing required argument 'cert': ${o.config.includes("\n") ? "the config" : o.config} asks every client for a certificate (${why}), NKey clients too; give the certificate the client presents with its seed`);
      }
      const chain = certificate === null ? null : presentedChainOf(certificate, label, o.p12Password);
      const v = decide(chain?.leaf ?? null, chain?.intermediates ?? [], cfg, { version, connectUser: o.connectUser, connectPassword: o.connectPassword, connectToken: o.connectToken, serverCwd, connectionType: o.connectionType, nkey: nkey ?? undefined, ocsp: o.ocsp });
      v.notes.push(...notes);
      const bound = connType === "LEAFNODE" ? null : permissionsOf(v);
      const { answers, note } = perms.answerQuestions(questions, bound, v);
      if (note) v.notes.push(note);
      const file = certificate === null ? (label ?? "<nkey>") : certificateLabel(certificate, label);
      return { result: { ...verdictJson(file, v, { permissions: perms.boundJson(bound), access: answers }), ...(nkey ? { nkey } : {}) }, bound };
    },
  };
  return verifier;
}

/** The `verify --json` object for one certificate (or, with `nkeySeed` and no certificate, a client presenting none). */
export function verify(o: VerifyOptions): VerifyResult {
  return createVerifier(o).verify(o.certificate ?? null);
}

/** Whether a result is a yes in every respect: accepted, and every asked publish/subscribe allowed (the CLI's exit 0). */
export const allowed = (r: VerifyResult): boolean => r.accepted && !(r.access ?? []).some((a) => !a.allowed);
