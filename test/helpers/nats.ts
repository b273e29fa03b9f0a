/**
 * A real nats-server (the Debian 2.9.10 binary) for end-to-end proofs, and the current NATS client for
 * Node (`@nats-io/transport-node` 3.x; the deprecated `nats` 2.x is kept in test/nkeys.test.ts) to
 * connect to it with a certificate.
 *
 *  - startNatsServer(snippet): free ports, a main config that `include`s mtlsctl's snippet,
 *    `nats-server -t` (must exit 0), then the server itself, waiting for /varz;
 *  - server.connectAs(cert, key, ca): a TLS connection with that key pair under a unique client
 *    name, then /connz?auth=true tells which user the server mapped it to;
 *  - server.stop() / stopAllNatsServers(): kill and wait (call it from afterAll, always).
 *
 * A missing nats-server binary throws (tool()), so a test using this fails, never skips.
 */
import { spawn, spawnSync, ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as path from "node:path";
import * as crypto from "node:crypto";
import { connect, NatsConnection } from "@nats-io/transport-node";
import { tool, tmpDir } from "./cli";

export interface Mapped {
  ok: true;
  /** The client name we sent in CONNECT (unique per connection). */
  name: string;
  /** `authorized_user` from /connz?auth=true: the users[] entry the server mapped the certificate to. */
  user: string | null;
  /** `account` from /connz (absent there for the global account $G: then null). */
  account: string | null;
  /** `tls_peer_certs[0].subject` from /connz: Go's Subject.String() of the client certificate. */
  peerSubject: string | null;
  /**
   * The tier that matched, from the server's debug log (-D): "email", "dns", "uri", "dn" (the DN
   * stage), "subject-dc" or "subject" (Go's string); null when the log does not say.
   */
  via: MatchedBy | null;
}
export type MatchedBy = "email" | "dns" | "uri" | "dn" | "subject-dc" | "subject";

const TIERS: [RegExp, MatchedBy][] = [
  [/Using email found in cert for auth/, "email"],
  [/Using SAN found in cert for auth/, "dns"],
  [/Using URI found in cert for auth/, "uri"],
  [/Using DistinguishedNameMatch for auth/, "dn"],
  [/Using RDNSequence for auth/, "subject-dc"],
  [/Using certificate subject for auth/, "subject"],
];

/** The tier named in the debug log line of the connection whose client name is `name`. */
export function matchedByFromLog(log: string, name: string): MatchedBy | null {
  for (const line of log.split("\n")) {
    if (!line.includes(`:${name}"`) && !line.includes(`"${name}"`)) continue;
    for (const [re, tier] of TIERS) if (re.test(line)) return tier;
  }
  return null;
}
export interface Refused {
  ok: false;
  name: string;
  /** The client's error message, e.g. "Authorization Violation" or a TLS alert. */
  error: string;
  /** The NatsError code when there is one (e.g. "AUTHORIZATION_VIOLATION"). */
  code: string | null;
}
export type ConnectResult = Mapped | Refused;

export interface NatsServer {
  port: number;
  monitorPort: number;
  dir: string;
  configFile: string;
  /** Whether the server runs with -D (then the log names the tier that matched). */
  debug: boolean;
  /** Everything the server has logged so far (stdout and stderr). */
  log(): string;
  connectAs(certFile: string, keyFile: string, caFile: string): Promise<ConnectResult>;
  stop(): Promise<void>;
}

const running = new Set<NatsServer>(); // for stopAllNatsServers

/**
 * Ports this process has handed out: a port written into a config is free until its server starts,
 * so the kernel may offer it again (a cluster port then came back as the next server's client port).
 */
const handedOut = new Set<number>();

/**
 * Ports below the kernel's ephemeral range (net.ipv4.ip_local_port_range), one slice per jest worker.
 * A port the kernel chose (listen on 0) and we closed goes back to the ephemeral pool: any process's
 * next outgoing connection or listen-on-0 may take it before our server binds it (CI saw "address in
 * use" that way). Below the range the kernel never hands a port out by itself, and the worker slices
 * keep parallel test files apart.
 */
function portSlice(): { lo: number; size: number } {
  let ephemeralLo = 32768;
  try {
    ephemeralLo = Number(fs.readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/)[0]) || ephemeralLo;
  } catch {
    /* not Linux: the usual default */
  }
  const lo = 10000;
  const slices = 16;
  const size = Math.max(64, Math.floor((Math.max(ephemeralLo, lo + slices * 64) - lo) / slices));
  const worker = (Number(process.env.JEST_WORKER_ID) || 1) % slices;
  return { lo: lo + worker * size, size };
}
let nextOffset = -1;

/** Whether 127.0.0.1:port can be bound now (nobody listens on it). */
const bindable = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const srv = net.createServer();
    srv.unref();
    srv.once("error", () => resolve(false));
    srv.listen(port, "127.0.0.1", () => srv.close(() => resolve(true)));
  });

/** A TCP port nobody listens on right now, outside the ephemeral range, not handed out before in this process. */
export async function freePort(): Promise<number> {
  const { lo, size } = portSlice();
  if (nextOffset < 0) nextOffset = crypto.randomInt(size); // a random start: a re-run does not reuse the last run's ports
  for (let tried = 0; tried < size; tried++) {
    const port = lo + (nextOffset++ % size);
    if (handedOut.has(port)) continue;
    if (await bindable(port)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error(`freePort: no free port in ${lo}..${lo + size - 1}`);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function getJson(url: string, timeoutMs = 5000): Promise<any> {
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  return res.json();
}

function exited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

function waitExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (exited(child)) return Promise.resolve(true);
  return new Promise((resolve) => {
    const t = setTimeout(() => {
      child.off("exit", onExit);
      resolve(false);
    }, ms);
    const onExit = () => {
      clearTimeout(t);
      resolve(true);
    };
    child.once("exit", onExit);
  });
}

/** Every nats-server child started by this module (oracle.ts's too), killed if the test process exits first. */
const children = new Set<ChildProcess>();

export interface Launched {
  child: ChildProcess;
  /** The server's log so far (`<configFile without .conf>.log`). */
  log(): string;
  /** SIGTERM, then SIGKILL after 5 s. */
  stop(): Promise<void>;
}

/**
 * Runs `nats-server [-D] -c configFile` in `dir` (its working directory, against which it opens
 * relative paths), logging to a file beside the config, and resolves once its /varz on
 * `monitorPort` reports `port`; fails, with the log and the config, when it exits or misses the deadline.
 */
export async function launchNatsServer(o: { configFile: string; dir: string; port: number; monitorPort: number; env?: NodeJS.ProcessEnv; debug: boolean; startTimeoutMs: number; pollMs: number; bin?: string }): Promise<Launched> {
  const logFile = o.configFile.replace(/\.conf$/, "") + ".log";
  const out = fs.openSync(logFile, "w");
  const child = spawn(o.bin ?? tool("nats-server"), [...(o.debug ? ["-D"] : []), "-c", o.configFile], { cwd: o.dir, stdio: ["ignore", out, out], env: o.env ?? process.env });
  fs.closeSync(out);
  children.add(child);
  const log = () => {
    try {
      return fs.readFileSync(logFile, "utf8");
    } catch {
      return "";
    }
  };
  const stop = async () => {
    if (!exited(child)) {
      child.kill("SIGTERM");
      if (!(await waitExit(child, 5000))) {
        child.kill("SIGKILL");
        await waitExit(child, 5000);
      }
    }
    children.delete(child);
  };
  const config = () => `\n--- ${o.configFile}\n${fs.readFileSync(o.configFile, "utf8")}`;
  const deadline = Date.now() + o.startTimeoutMs;
  let lastErr: unknown = null;
  for (;;) {
    if (exited(child)) {
      await stop();
      throw new Error(`nats-server exited early (code ${child.exitCode}, signal ${child.signalCode}) with ${o.configFile}:\n${log()}${config()}`);
    }
    try {
      const varz = await getJson(`http://127.0.0.1:${o.monitorPort}/varz`, 1000);
      if (varz && varz.port === o.port) break;
      lastErr = new Error(`/varz reports port ${varz?.port}, expected ${o.port}`);
    } catch (e) {
      lastErr = e;
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`nats-server did not answer on http://127.0.0.1:${o.monitorPort}/varz within ${o.startTimeoutMs} ms (${String(lastErr)}):\n${log()}${config()}`);
    }
    await sleep(o.pollMs);
  }
  return { child, log, stop };
}

/**
 * Starts nats-server with a main config that sets listen and http and includes `snippetFile`
 * (written by `mtlsctl config nats --out`). The include is written relative to the main config's
 * directory: nats-server 2.9.10 joins every include path onto that directory, even an absolute one.
 */
export async function startNatsServer(snippetFile: string, o: { debug?: boolean; dir?: string; startTimeoutMs?: number; env?: Record<string, string>; bin?: string } = {}): Promise<NatsServer> {
  const env = { ...process.env, ...o.env };
  const bin = o.bin ?? tool("nats-server");
  const ownDir = o.dir === undefined;
  const dir = o.dir ?? tmpDir("mtlsctl-nats-");
  fs.mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const monitorPort = await freePort(); // never the same as port (freePort hands each out once)
  const configFile = path.join(dir, `nats-${port}.conf`);
  const include = path.relative(dir, path.resolve(snippetFile)).split(path.sep).join("/");
  fs.writeFileSync(configFile, [`listen: 127.0.0.1:${port}`, `http: 127.0.0.1:${monitorPort}`, `include ${JSON.stringify(include)}`, ""].join("\n"));

  // 1. the server must accept the configuration (-t): exit code 0
  const check = spawnSync(bin, ["-t", "-c", configFile], { cwd: dir, encoding: "utf8", timeout: 15_000, env });
  if (check.error) throw check.error;
  if (check.status !== 0)
    throw new Error(`nats-server -t -c ${configFile} exited ${check.status}:\n${check.stdout}${check.stderr}\n--- ${configFile}\n${fs.readFileSync(configFile, "utf8")}\n--- ${snippetFile}\n${fs.readFileSync(snippetFile, "utf8")}`);

  // 2. run it, 3. until the monitoring port answers (and the client port with it)
  const launched = await launchNatsServer({ configFile, dir, port, monitorPort, env, debug: o.debug !== false, startTimeoutMs: o.startTimeoutMs ?? 10_000, pollMs: 50, bin });
  let stopped = false;
  const server: NatsServer = {
    port,
    monitorPort,
    dir,
    configFile,
    debug: o.debug !== false,
    log: launched.log,
    async stop() {
      if (stopped) return;
      stopped = true;
      running.delete(server);
      await launched.stop();
      // our own temporary directory (config and log) goes; set MTLSCTL_KEEP_NATS=1 to keep it
      if (ownDir && !process.env.MTLSCTL_KEEP_NATS) fs.rmSync(dir, { recursive: true, force: true });
    },
    connectAs: (certFile, keyFile, caFile) => connectAs(server, certFile, keyFile, caFile),
  };
  running.add(server);
  return server;
}

let seq = 0;

/**
 * Connects with the npm nats client using this key pair; on success reads /connz?auth=true and
 * returns the connection's authorized_user and account, then closes. A refused connection
 * (TLS alert, Authorization Violation, timeout) returns the client's error instead.
 */
export async function connectAs(server: NatsServer, certFile: string, keyFile: string, caFile: string): Promise<ConnectResult> {
  for (const f of [certFile, keyFile, caFile]) if (!fs.existsSync(f)) throw new Error(`connectAs: no such file ${f}`);
  const name = `mtlsctl-test-${process.pid}-${++seq}-${crypto.randomBytes(4).toString("hex")}`;
  let nc: NatsConnection;
  try {
    nc = await connect({
      servers: `127.0.0.1:${server.port}`,
      // one file for both (an agent's --bundle): read once, so that the pair is from one generation
      tls: certFile === keyFile ? ((pem) => ({ cert: pem, key: pem, caFile }))(fs.readFileSync(certFile, "utf8")) : { certFile, keyFile, caFile },
      name,
      reconnect: false,
      maxReconnectAttempts: 0,
      timeout: 5000,
    });
  } catch (e) {
    // nats.js 3 throws error classes without the 2.x codes: AuthorizationError is the server's -ERR 'Authorization Violation'
    const err = e as { message?: string; code?: string; name?: string };
    const code = err?.code ?? (err?.name === "AuthorizationError" ? "AUTHORIZATION_VIOLATION" : (err?.name ?? null));
    return { ok: false, name, error: String(err?.message ?? e), code };
  }
  try {
    await nc.flush(); // the server has processed CONNECT and answered PING
    const connz = await getJson(`http://127.0.0.1:${server.monitorPort}/connz?auth=true&limit=10000`);
    const conns: any[] = connz.connections ?? [];
    const c = conns.find((x) => x.name === name);
    if (!c) throw new Error(`connection "${name}" not found in /connz?auth=true (${conns.length} connections: ${conns.map((x) => x.name).join(", ")})`);
    let via = matchedByFromLog(server.log(), name);
    for (let i = 0; via === null && server.debug && i < 20; i++) {
      await sleep(25); // the log line is written before the server answers PING; allow for buffering
      via = matchedByFromLog(server.log(), name);
    }
    return {
      ok: true,
      name,
      via,
      user: c.authorized_user ?? null,
      account: c.account ?? null,
      peerSubject: c.tls_peer_certs?.[0]?.subject ?? null,
    };
  } finally {
    await nc.close().catch(() => undefined);
  }
}

/** Stops every server started by this module that is still running (for afterAll). */
export async function stopAllNatsServers(): Promise<void> {
  await Promise.all([...running].map((s) => s.stop()));
}

// Last resort: never leave a server behind when the test process goes away without afterAll.
process.once("exit", () => {
  for (const child of children) if (!exited(child)) child.kill("SIGKILL");
});

/**
 * The nats-server matrix (scripts/nats-versions.txt) as built by scripts/nats-servers.sh, which
 * scripts/test.sh runs first: Debian's 2.9.10 (on PATH), then each pinned version. A version that is
 * not built fails the caller (never a skip): run scripts/nats-servers.sh.
 */
export function natsServerMatrix(): { version: string; bin: string }[] {
  const root = path.resolve(__dirname, "..", "..");
  const cache = path.join(process.env.MTLSCTL_CACHE ?? path.join(require("node:os").homedir(), ".cache", "mtlsctl"), "nats-server");
  const pinned = fs.readFileSync(path.join(root, "scripts", "nats-versions.txt"), "utf8").split("\n").map((l) => l.trim()).filter((l) => l && !l.startsWith("#"));
  const out = [{ version: "2.9.10", bin: tool("nats-server") }];
  for (const v of pinned) {
    const bin = path.join(cache, v, "nats-server");
    if (!fs.existsSync(bin)) throw new Error(`nats-server ${v} is not built (${bin}): run scripts/nats-servers.sh (scripts/test.sh does)`);
    out.push({ version: v.replace(/^v/, ""), bin });
  }
  return out;
}
