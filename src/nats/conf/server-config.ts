/**
 * What the verifier needs from a nats-server configuration, read the way nats-server v2.9.10 reads
 * it (`nats-server -t -c file`): the client `tls {}` block, every user (authorization and accounts),
 * `no_auth_user`, and the websocket, mqtt and leafnode listeners with their own tls blocks
 * (reference §1.1, §2.1, §3.3). Written from the server's rules; it is not the server's code.
 *
 * The server checks its options after parsing and refuses the file on the first problem it meets;
 * {@link readServerConfig} throws a {@link ConfigError} with the server's own reason text where it
 * would. The server visits map keys in Go's random map order: where that order changes the result
 * (`verify_and_map: true` with `verify: false`; `user` and `USER` in one entry), the outcome is
 * reported in `warnings` instead of guessed.
 *
 * The checks are split by block over one shared {@link CheckContext} (context.ts): top-level.ts,
 * tls.ts, users.ts, user-permissions.ts, accounts.ts, listeners.ts, leafnodes.ts, cross-checks.ts.
 * This file is the entry point; what it exports is the reader's whole interface.
 */
import { ConfigError, goTypeName, parseConfigFile, parseConfigText } from "./parser";
import type { ConfMap } from "./parser";
import { atLeast } from "../versions";
import type { ReadOptions, ServerConfig } from "./types";
import { CheckContext } from "./context";
import { checkConfig } from "./top-level";

export { ConfigError } from "./parser";
export type { ConfValue, ConfMap, ConfEntry, Pos } from "./parser";
export type {
  ConfigUser,
  TlsConfig,
  SimpleAuth,
  AuthorizationBlock,
  AccountBlock,
  ListenerBlock,
  LeafUser,
  LeafNodesBlock,
  ConfigWarning,
  StartupProblem,
  ServerConfig,
  ReadOptions,
  OcspPeerConfig,
  OcspCacheConfig,
} from "./types";
export { goQuote, parseGoDuration } from "./go-values";
export { isValidPublicNkey } from "./nkey";

/**
 * Reads a nats-server configuration file as the nats-server of `opts.serverVersion` would (default
 * 2.9.10; the differences of later versions are each observed on the matrix by test/conf-reader.test.ts),
 * and collects what the verifier needs. Throws a {@link ConfigError} (the server's reason text, with file, line and column) when the
 * server would refuse to load the file; the first problem is thrown, the others are in `others`.
 */
export function readServerConfig(file: string, env?: NodeJS.ProcessEnv, opts: ReadOptions = {}): ServerConfig {
  const parsed = opts.text !== undefined ? parseConfigText(opts.text, file, { env, serverVersion: opts.serverVersion }) : parseConfigFile(file, { env, serverVersion: opts.serverVersion });
  const v = opts.serverVersion ?? "2.9.10";
  if (atLeast(v, "2.11.0") && !atLeast(v, "2.12.6")) digestCleanup(parsed.root);
  const checker = new CheckContext(file, parsed.files, parsed.root, parsed.variables, opts);
  checkConfig(checker);
  if (opts.keepGoing) return { ...checker.result, errors: checker.errors };
  if (checker.errors.length > 0) {
    const [first, ...others] = checker.errors;
    throw new ConfigError(first.reason, { file: first.file, line: first.line, col: first.col }, first.serverMessage, others);
  }
  return checker.result;
}

/**
 * 2.11.0 to 2.12.5 (and every 2.11): before reading any option, the config digest's
 * cleanupUsedEnvVars walks the maps of the file (not arrays). It deletes every definition a
 * `$variable` referred to, also one that is a real option (`ping_interval: "1x"` then
 * `server_name: $ping_interval`: the bad ping_interval is never read; observed on 2.11.17), and it
 * asserts that each value is a parser token: a non-empty map that came from an environment variable
 * holds plain values, and the server panics (exit 2). The type in the message is the first value the
 * server visits: with several, Go's map order picks it. Fixed in 2.12.6 and 2.14.0
 * ("ParseFileWithChecksDigest deletes referenced config entries").
 */
function digestCleanup(m: ConfMap): void {
  for (const e of [...m.entries.values()]) {
    if (e.value.usedVariable) {
      m.entries.delete(e.key);
      continue;
    }
    if (e.value.kind !== "map") continue;
    if (e.value.fromEnv) {
      const first = e.value.entries.values().next();
      if (first.done) continue;
      const reason = `panic: interface conversion: interface {} is ${goTypeName(first.value.value)}, not *conf.token`;
      throw new ConfigError(reason, e.value.pos, reason);
    }
    digestCleanup(e.value);
  }
}
