/**
 * The oracle harness: a real nats-server (Debian's 2.9.10, or a binary of the matrix: `bin`) with a config written here,
 * the npm `nats` client connecting with a given certificate (and user/password), and
 * `mtlsctl verify --json` on the same certificate and config, so that the two can be compared.
 *
 *  - serverConfig(spec): the config text (listen, http, tls {}, authorization/accounts users);
 *  - startServer(dir, text): runs `nats-server -D -c`, waits for /varz;
 *  - probe(server, pair, connect): one connection; what the server decided (authorized_user and
 *    account from /connz?auth=true, or the refusal kind from the server's log: TLS handshake
 *    error vs Authorization Violation), with the log lines of that connection;
 *  - verifyCli(config, certs, opts): `mtlsctl verify <certs...> --config <file> --json`, one
 *    verdict per certificate (JSON Lines).
 *
 * Probes on one server run one at a time (the log since the probe began belongs to it); servers
 * run side by side. A missing nats-server binary throws (tool()), so a test never skips.
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import * as crypto from "node:crypto";
import { connect, NatsConnection } from "@nats-io/transport-node";
import { BIN, tool } from "./cli";
import { freePort, launchNatsServer, matchedByFromLog, MatchedBy } from "./nats";

// ------------------------------------------------------------------ config text

/** A double-quoted NATS config string (reference §3.2), byte by byte; a Buffer is written as raw bytes. */
export function confQuote(v: string | Buffer): string {
  const bytes = Buffer.isBuffer(v) ? v : Buffer.from(v, "utf8");
  let out = '"';
  for (const b of bytes) {
    if (b === 0x5c) out += "\\\\";
    else if (b === 0x22) out += '\\"';
    else if (b === 0x0a) out += "\\n";
    else if (b === 0x0d) out += "\\r";
    else if (b === 0x09) out += "\\t";
    else if (b < 0x20 || b === 0x7f || (Buffer.isBuffer(v) && b >= 0x80)) out += "\\x" + b.toString(16).padStart(2, "0");
    else out += String.fromCharCode(b);
  }
  // printable non-ASCII bytes of a string were appended as Latin-1 code units: back to UTF-8 text
  return Buffer.from(out + '"', "latin1").toString("utf8");
}

export interface UserSpec {
  /** The user string; a Buffer for bytes that are not UTF-8 (written as \xHH). */
  user?: string | Buffer;
  password?: string;
  nkey?: string;
  allowed?: string[];
}

export interface TlsSpec {
  /** verify_and_map (default true). */
  map?: boolean;
  verify?: boolean;
  /** ca_file as written in the config; null: no ca_file. */
  caFile: string | null;
  certFile: string;
  keyFile: string;
  pinned?: string[];
  /** More lines for the tls {} block, as written. */
  extraLines?: string[];
}

export interface ConfigSpec {
  tls: TlsSpec;
  users?: UserSpec[];
  accounts?: Record<string, UserSpec[]>;
  noAuthUser?: string;
  /** authorization { user, password } or { token }: a single user (no users list). */
  singleUser?: { user?: string; password?: string; token?: string };
  /** Config text appended as is (includes, variables, hand-written blocks). */
  extra?: string;
}

function userEntry(u: UserSpec): string {
  const parts: string[] = [];
  if (u.user !== undefined) parts.push(`user: ${confQuote(u.user)}`);
  if (u.password !== undefined) parts.push(`password: ${confQuote(u.password)}`);
  if (u.nkey !== undefined) parts.push(`nkey: ${confQuote(u.nkey)}`);
  if (u.allowed) parts.push(`allowed_connection_types: [${u.allowed.map(confQuote).join(", ")}]`);
  return `{ ${parts.join(", ")} }`;
}

export function serverConfig(spec: ConfigSpec, port: number, monitorPort: number): string {
  const t = spec.tls;
  const lines = [`listen: "127.0.0.1:${port}"`, `http: "127.0.0.1:${monitorPort}"`, "tls {", `  cert_file: ${confQuote(t.certFile)}`, `  key_file: ${confQuote(t.keyFile)}`];
  if (t.caFile !== null) lines.push(`  ca_file: ${confQuote(t.caFile)}`);
  if (t.map ?? true) lines.push("  verify_and_map: true");
  if (t.verify !== undefined) lines.push(`  verify: ${t.verify}`);
  if (t.pinned) lines.push(`  pinned_certs: [${t.pinned.map(confQuote).join(", ")}]`);
  for (const l of t.extraLines ?? []) lines.push(`  ${l}`);
  lines.push("  timeout: 5", "}");
  if (spec.users?.length) lines.push("authorization {", "  users = [", ...spec.users.map((u) => `    ${userEntry(u)}`), "  ]", "}");
  if (spec.singleUser) {
    const s = spec.singleUser;
    lines.push("authorization {", ...(s.user !== undefined ? [`  user: ${confQuote(s.user)}`] : []), ...(s.password !== undefined ? [`  password: ${confQuote(s.password)}`] : []), ...(s.token !== undefined ? [`  token: ${confQuote(s.token)}`] : []), "}");
  }
  if (spec.accounts) {
    lines.push("accounts {");
    for (const [name, users] of Object.entries(spec.accounts)) lines.push(`  ${name} {`, "    users = [", ...users.map((u) => `      ${userEntry(u)}`), "    ]", "  }");
    lines.push("}");
  }
  if (spec.noAuthUser !== undefined) lines.push(`no_auth_user: ${confQuote(spec.noAuthUser)}`);
  if (spec.extra) lines.push(spec.extra);
  return lines.join("\n") + "\n";
}

// ------------------------------------------------------------------ the server

export interface Server {
  port: number;
  monitorPort: number;
  dir: string;
  configFile: string;
  log(): string;
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));


async function getJson(url: string, timeoutMs = 5000): Promise<any> {
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  return res.json();
}

const taken = new Set<number>();
async function newPort(): Promise<number> {
  for (;;) {
    const p = await freePort();
    if (!taken.has(p)) {
      taken.add(p);
      return p;
    }
  }
}

/**
 * Writes `<dir>/<name>.conf` from `spec` (with two free ports) and runs `nats-server -D -c` in
 * `dir` (its working directory, against which it opens relative cert/key/ca paths).
 */
export async function startServer(dir: string, name: string, spec: ConfigSpec, o: { env?: Record<string, string>; bin?: string } = {}): Promise<Server> {
  // another process may take a free port before the server binds it: then try new ports
  for (let attempt = 1; ; attempt++) {
    try {
      return await startServerOnce(dir, name, spec, o);
    } catch (e) {
      if (attempt >= 3 || !/address already in use/.test(String(e))) throw e;
    }
  }
}

async function startServerOnce(dir: string, name: string, spec: ConfigSpec, o: { env?: Record<string, string>; bin?: string }): Promise<Server> {
  const port = await newPort();
  const monitorPort = await newPort();
  const configFile = path.join(dir, `${name}.conf`);
  fs.writeFileSync(configFile, serverConfig(spec, port, monitorPort));
  const launched = await launchNatsServer({ configFile, dir, port, monitorPort, env: { ...process.env, ...o.env }, debug: true, startTimeoutMs: 15_000, pollMs: 20, bin: o.bin });
  return { port, monitorPort, dir, configFile, log: launched.log, stop: launched.stop };
}

/** `nats-server -t -c <file>` in `dir`: whether the server accepts the config, and what it says. */
export function checkConfig(dir: string, name: string, spec: ConfigSpec, o: { env?: Record<string, string>; bin?: string } = {}): Promise<{ ok: boolean; output: string; configFile: string }> {
  const bin = o.bin ?? tool("nats-server");
  const configFile = path.join(dir, `${name}.conf`);
  fs.writeFileSync(configFile, serverConfig(spec, 4222, 8222));
  return new Promise((resolve, reject) => {
    const child = spawn(bin, ["-t", "-c", configFile], { cwd: dir, env: { ...process.env, ...o.env }, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.setEncoding("utf8").on("data", (d) => (output += d));
    child.stderr.setEncoding("utf8").on("data", (d) => (output += d));
    child.on("error", reject);
    child.on("close", (code) => resolve({ ok: code === 0, output, configFile }));
  });
}

/** Stops every server this module started (for afterAll). */
export async function stopAll(servers: Iterable<Server>): Promise<void> {
  await Promise.all([...servers].map((s) => s.stop()));
}


// ------------------------------------------------------------------ one connection

export interface Observed {
  connected: boolean;
  /** authorized_user from /connz?auth=true (connected only). */
  user: string | null;
  /** account from /connz (absent there for $G: null). */
  account: string | null;
  /** The tier the debug log names for this connection (also when a password check refused it after mapping). */
  via: MatchedBy | null;
  /** tls_peer_certs[0].subject from /connz. */
  peerSubject: string | null;
  /** For a refused connection: "tls" (TLS handshake error) or "auth" (Authorization Violation). */
  refusal: "tls" | "auth" | null;
  /** For an Authorization Violation: whether the log shows the certificate was mapped to a user first. */
  mappedBeforeRefusal: boolean;
  /** The server's log lines written during this probe. */
  logLines: string[];
  clientError: string | null;
}

export interface ConnectAs {
  user?: string;
  pass?: string;
  /** CONNECT auth_token (verify: --connect-token-file). */
  token?: string;
}

let seq = 0;

/**
 * The tier the log names for this probe's connection. 2.9.x writes the client's name on the line;
 * later servers write only `cid:N` (the name is not known yet when the certificate is mapped), so
 * the probe's own slice of the log is read: probes on one server run one at a time.
 */
function tierOf(delta: string, name: string): MatchedBy | null {
  const named = matchedByFromLog(delta, name);
  if (named !== null) return named;
  const own = delta.split("\n").find((l) => MAPPED_RE.test(l));
  if (!own) return null;
  const cid = own.match(/ - cid:(\d+) - /)?.[1];
  return cid === undefined ? null : matchedByFromLog(delta.split("\n").filter((l) => l.includes(` - cid:${cid} - `)).map((l) => l.replace(/ - cid:\d+ - /, ` - cid:${cid} - "${name}" - `)).join("\n"), name);
}

const MAPPED_RE = /Using (email found in cert|SAN found in cert|URI found in cert|DistinguishedNameMatch|RDNSequence|certificate subject) for auth/;

/**
 * Connects to `server` with the key pair (cert file: leaf then any intermediates) and the
 * optional CONNECT user/password; the client trusts `trust` for the server's certificate.
 */
export async function probe(server: Server, pair: { cert: string; key: string; weak?: boolean }, trust: string, as: ConnectAs = {}): Promise<Observed> {
  const name = `oracle-${process.pid}-${++seq}-${crypto.randomBytes(3).toString("hex")}`;
  const logStart = server.log().length;
  const delta = () => server.log().slice(logStart);
  let nc: NatsConnection | null = null;
  let clientError: string | null = null;
  try {
    nc = await connect({
      servers: `127.0.0.1:${server.port}`,
      // a weak certificate (an RSA key under 1024 bits, a SHA-1 signature): OpenSSL's security level 0,
      // or the client's TLS library refuses to load it and never presents it
      tls: { certFile: pair.cert, keyFile: pair.key, caFile: trust, ...(pair.weak ? { ciphers: "DEFAULT:@SECLEVEL=0" } : {}) },
      name,
      reconnect: false,
      maxReconnectAttempts: 0,
      timeout: 10_000,
      // an authenticator of our own: the client's user/pass options drop a password sent without a user
      ...(as.user !== undefined || as.pass !== undefined || as.token !== undefined
        ? { authenticator: (() => ({ ...(as.user !== undefined ? { user: as.user } : {}), ...(as.pass !== undefined ? { pass: as.pass } : {}), ...(as.token !== undefined ? { auth_token: as.token } : {}) })) as any }
        : {}),
    });
    await nc.flush();
  } catch (e) {
    const err = e as { message?: string; code?: string };
    clientError = `${err?.code ?? ""} ${String(err?.message ?? e)}`.trim();
    if (nc) await nc.close().catch(() => undefined);
    nc = null;
  }
  if (nc) {
    try {
      const connz = await getJson(`http://127.0.0.1:${server.monitorPort}/connz?auth=true&limit=10000`);
      const c = (connz.connections ?? []).find((x: any) => x.name === name);
      if (!c) throw new Error(`connection ${name} not in /connz?auth=true of ${server.configFile}`);
      let via = tierOf(delta(), name);
      for (let i = 0; via === null && i < 40; i++) {
        await sleep(25);
        via = tierOf(delta(), name);
      }
      return {
        connected: true,
        user: c.authorized_user ?? null,
        account: c.account ?? null,
        via,
        peerSubject: c.tls_peer_certs?.[0]?.subject ?? null,
        refusal: null,
        mappedBeforeRefusal: false,
        logLines: delta().split("\n").filter(Boolean),
        clientError: null,
      };
    } finally {
      await nc.close().catch(() => undefined);
    }
  }
  // Refused: the server's log says how (poll: the client may see the close before the log is flushed).
  let refusal: Observed["refusal"] = null;
  for (let i = 0; i < 100 && refusal === null; i++) {
    const d = delta();
    if (/TLS handshake error/.test(d)) refusal = "tls";
    else if (/authentication error|Authorization Violation/.test(d)) refusal = "auth";
    else await sleep(20);
  }
  const d = delta();
  // "EOF": the client hung up in the handshake; its TLS library would not present this certificate
  if (/TLS handshake error: EOF/.test(d)) throw new Error(`the client could not present ${pair.cert} (its TLS library refused it: ${clientError}); this certificate cannot be an oracle case`);
  if (refusal === null) throw new Error(`connection refused (${clientError}) but the server log names no TLS or authorization error:\n${d}`);
  return {
    connected: false,
    user: null,
    account: null,
    via: tierOf(d, name),
    peerSubject: null,
    refusal,
    mappedBeforeRefusal: MAPPED_RE.test(d),
    logLines: d.split("\n").filter(Boolean),
    clientError,
  };
}

// ------------------------------------------------------------------ the verifier

export interface VerdictJson {
  accepted: boolean;
  user: string | null;
  account: string | null;
  matchedBy: string | null;
  stage: "config" | "tls" | "map" | "auth" | null;
  ambiguous: boolean;
  candidates: string[];
  reason: string;
  serverVersion: string;
  notes: string[];
  [k: string]: unknown;
}

export interface VerifyOptions {
  connectUser?: string;
  /** Written to a file for --connect-password-file. */
  connectPassword?: string;
  /** Written to a file for --connect-token-file. */
  connectToken?: string;
  serverCwd?: string;
  serverVersion?: string;
  env?: Record<string, string>;
  /** Where the password file goes. */
  dir: string;
  /** Exit 3 (a config the server would refuse) is expected: resolve with its JSON lines too. */
  configError?: boolean;
}

let pwSeq = 0;

/** `mtlsctl verify <certs...> --config <config> --json`: one verdict per certificate, in order. */
export function verifyCli(config: string, certs: string[], o: VerifyOptions): Promise<VerdictJson[]> {
  const args = [BIN, "verify", ...certs, "--config", config, "--json"];
  if (o.serverVersion) args.push("--server-version", o.serverVersion);
  if (o.serverCwd) args.push("--server-cwd", o.serverCwd);
  if (o.connectUser !== undefined) args.push("--connect-user", o.connectUser);
  if (o.connectPassword !== undefined) {
    const f = path.join(o.dir, `connect-password-${++pwSeq}.txt`);
    fs.writeFileSync(f, o.connectPassword + "\n", { mode: 0o600 });
    args.push("--connect-password-file", f);
  }
  if (o.connectToken !== undefined) {
    const f = path.join(o.dir, `connect-token-${++pwSeq}.txt`);
    fs.writeFileSync(f, o.connectToken + "\n", { mode: 0o600 });
    args.push("--connect-token-file", f);
  }
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { env: { ...process.env, NO_COLOR: "1", ...o.env }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code) => {
      const cmd = `mtlsctl ${args.slice(2).join(" ")}`;
      if (o.configError) {
        if (code !== 3) return reject(new Error(`${cmd} exited ${code}, expected 3 (a config the server refuses)\nstdout: ${stdout}\nstderr: ${stderr}`));
        try {
          return resolve(stdout.split("\n").filter((l) => l.trim() !== "").map((l) => ({ ...JSON.parse(l), stderr }) as VerdictJson));
        } catch (e) {
          return reject(new Error(`${cmd}: output is not JSON Lines (${String(e)})\n${stdout}`));
        }
      }
      if (code !== 0 && code !== 1) return reject(new Error(`${cmd} exited ${code}\nstdout: ${stdout}\nstderr: ${stderr}\n--- ${config}\n${fs.readFileSync(config, "utf8")}`));
      const lines = stdout.split("\n").filter((l) => l.trim() !== "");
      if (lines.length !== certs.length) return reject(new Error(`${cmd}: ${lines.length} verdicts for ${certs.length} certificates\nstdout: ${stdout}\nstderr: ${stderr}`));
      try {
        const verdicts = lines.map((l) => JSON.parse(l) as VerdictJson);
        const anyRefused = verdicts.some((v) => !v.accepted);
        if ((code === 1) !== anyRefused) return reject(new Error(`${cmd} exited ${code} but ${anyRefused ? "refuses" : "accepts"} every certificate\n${stdout}`));
        resolve(verdicts);
      } catch (e) {
        reject(new Error(`${cmd}: output is not JSON Lines (${String(e)})\n${stdout}`));
      }
    });
  });
}

// ------------------------------------------------------------------ a small pool

/**
 * Runs the tasks with at most `limit` at once; results in order. A failing task does not stop the
 * others (they run to the end, so nothing is left half-done); then the first error is thrown.
 */
export async function pool<T>(limit: number, tasks: (() => Promise<T>)[]): Promise<T[]> {
  const out: T[] = new Array(tasks.length);
  const errors: unknown[] = [];
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) {
      const i = next++;
      try {
        out[i] = await tasks[i]();
      } catch (e) {
        errors.push(e);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker));
  if (errors.length) throw errors[0];
  return out;
}
