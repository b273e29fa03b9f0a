/**
 * What {@link readServerConfig} returns (src/nats/conf/server-config.ts): the blocks the verifier
 * needs, as the server reads them, and the options of the reader.
 */
import type { ConfigError, ConfMap, ConfValue, Pos, VariableRef } from "./parser";

export interface ConfigUser {
  /** The user string exactly as configured (UTF-8 text). */
  user?: string;
  /** Its exact bytes (differs from `user` only for strings that are not valid UTF-8). */
  userBytes?: Buffer;
  password?: string;
  nkey?: string;
  /** The account named in `accounts {}`; null for `authorization { users }` (the global account). */
  account: string | null;
  /** Upper-cased, as the server stores them; absent when not configured (every type allowed). */
  allowedConnectionTypes?: string[];
  /** `permissions` as written (not interpreted). */
  permissions?: ConfValue;
  /** Where the entry is (its `{`). */
  pos: Pos;
  /** Fields whose value the server picks at random (the same field given twice in different case). */
  randomFields?: string[];
}

export interface TlsConfig {
  pos: Pos;
  certFile?: string;
  keyFile?: string;
  caFile?: string;
  /** Whether client certificates are requested and verified (see `verifyUncertain`). */
  verify: boolean;
  /** `verify_and_map`: certificates are mapped to users. */
  map: boolean;
  /** Both `verify` and `verify_and_map` appear in the block. */
  verifyAndVerifyAndMap: boolean;
  /**
   * `verify` depends on the server's random key order (`verify_and_map: true` with `verify: false`,
   * or a key repeated in different case): it changes from restart to restart (reference §1.1).
   */
  verifyUncertain: boolean;
  insecure: boolean;
  /** Handshake timeout in seconds, when configured. */
  timeout?: number;
  pinnedCerts?: string[];
  cipherSuites?: string[];
  curvePreferences?: string[];
  connectionRateLimit?: number;
  verifyCertAndCheckKnownUrls: boolean;
  /** The keys as written, in order. */
  keys: string[];
  /** Keys accepted only because the modelled server is newer than 2.9.10 (e.g. handshake_first). */
  laterKeys?: string[];
  /** `ocsp_peer` (2.9.21 on), as the server reads it (src/nats/conf/ocsp-peer.ts). */
  ocspPeer?: OcspPeerConfig;
}

/** `tls { ocsp_peer }`: `verify` false means the server asks no responder. Durations in seconds. */
export interface OcspPeerConfig {
  pos: Pos;
  /** `ocsp_peer: true|false`, or the map form. */
  form: "bool" | "map";
  verify: boolean;
  caTimeout: number;
  allowedClockskew: number;
  warnOnly: boolean;
  unknownIsGood: boolean;
  allowWhenCaUnreachable: boolean;
  ttlUnsetNextUpdate: number;
}

/** The top-level `ocsp_cache` (absent: the server's default, a local cache). */
export interface OcspCacheConfig {
  pos: Pos;
  type: "none" | "local";
  preserveRevoked: boolean;
}

export interface SimpleAuth {
  pos: Pos;
  user?: string;
  password?: string;
  token?: string;
  timeout?: number;
}

export interface AuthorizationBlock extends SimpleAuth {
  /** A `users` array is present (even empty). */
  hasUsers: boolean;
  defaultPermissions?: ConfValue;
}

export interface AccountBlock {
  name: string;
  pos: Pos;
  nkey?: string;
  users: ConfigUser[];
  /** `default_permissions` as written: the permissions of its users that have none of their own. */
  defaultPermissions?: ConfValue;
}

export interface ListenerBlock {
  pos: Pos;
  tls?: TlsConfig;
  noTls?: boolean;
  authorization?: SimpleAuth;
  noAuthUser?: string;
}

export interface LeafUser {
  user?: string;
  password?: string;
  account?: string;
  pos: Pos;
}

export interface LeafNodesBlock {
  pos: Pos;
  tls?: TlsConfig;
  authorization?: SimpleAuth & { account?: string; users?: LeafUser[] };
}

export interface ConfigWarning {
  pos: Pos;
  message: string;
  /**
   * "server": a warning nats-server itself prints (it starts, but `nats-server -t` exits 1);
   * "random": the result depends on the server's random map order.
   */
  kind: "server" | "random";
}

/** A problem `nats-server -t` does not notice but that stops the server from starting. */
export interface StartupProblem {
  kind: "no_auth_user" | "leafnode account";
  /** The server's words. */
  message: string;
  pos: Pos;
  /** What to do about it. */
  fix: string;
}

export interface ServerConfig {
  file: string;
  /** The main file, then every included file. */
  files: string[];
  tree: ConfMap;
  variables: VariableRef[];
  tls?: TlsConfig;
  authorization?: AuthorizationBlock;
  accounts: AccountBlock[];
  /** Every user of the one table the server builds: authorization users, then account users. */
  users: ConfigUser[];
  noAuthUser?: string;
  websocket?: ListenerBlock;
  mqtt?: ListenerBlock;
  leafnodes?: LeafNodesBlock;
  warnings: ConfigWarning[];
  /** Problems the server reports only when it starts (not under `-t`), in its words. */
  startupProblems: StartupProblem[];
  /** The top-level `ocsp_cache` (2.9.21 on), when set. */
  ocspCache?: OcspCacheConfig;
  /** Top-level keys that are valid but whose contents this reader does not check. */
  unchecked: string[];
  /** With `keepGoing`: every option error the server would refuse the file for (else thrown). */
  errors?: ConfigError[];
}

export interface ReadOptions {
  /** The nats-server version whose configuration language to accept (default 2.9.10). */
  serverVersion?: string;
  /** Where the server runs: `cert_file`, `key_file` and `ca_file` are opened relative to it. Default: process.cwd(). */
  cwd?: string;
  /** Load the certificate, key and CA files as the server does (default true). */
  checkFiles?: boolean;
  /**
   * Return what could be read even when the server would refuse the file's options (not its
   * syntax): the refusals are then in `errors` instead of thrown (for `lint`).
   */
  keepGoing?: boolean;
  /** The configuration's text, read instead of `file` (which then only names it and anchors its includes). */
  text?: string | Buffer;
}
