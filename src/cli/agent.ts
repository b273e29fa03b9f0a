/** `agent`: enrol, renew before expiry, swap the files crash-safely, reload what uses them (src/agent/agent.ts). */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { execFileSync } from "node:child_process";
import { Ctx } from "./context";
import { writeErr, writeOut } from "./out";
import { inputError, usageError } from "../errors";
import { Agent, AgentEvent, AgentOptions, splitCommand } from "../agent/agent";
import type { Owner } from "../agent/swap";
import { parseDuration } from "../service/duration";
import { parseKeyType } from "../pki/keys";
import { sansOf } from "../pki/san";

function percent(v: string, what: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*%\s*$/.exec(v);
  if (!m || Number(m[1]) >= 100) throw inputError(`${what}: "${v}" is not a percentage under 100 (e.g. 33%)`);
  return Number(m[1]) / 100;
}

/** USER:GROUP (names or numbers) as ids; names through id(1) and getent(1), by absolute path, with no secrets in their environment. */
function owner(v: string): Owner {
  const m = /^([^:\s]+):([^:\s]+)$/.exec(v);
  if (!m) throw usageError(`--owner: "${v}" is not USER:GROUP`);
  const look = (file: string, args: string[], what: string): number => {
    try {
      return Number(execFileSync(file, args, { env: { PATH: "/usr/bin:/bin" }, stdio: ["ignore", "pipe", "ignore"] }).toString().trim().split(":")[2] ?? NaN);
    } catch {
      throw inputError(`--owner: no ${what} "${args[args.length - 1]}" on this machine`);
    }
  };
  const uid = /^\d+$/.test(m[1]) ? Number(m[1]) : look("/usr/bin/getent", ["passwd", m[1]], "user");
  const gid = /^\d+$/.test(m[2]) ? Number(m[2]) : look("/usr/bin/getent", ["group", m[2]], "group");
  if (!Number.isInteger(uid) || !Number.isInteger(gid)) throw inputError(`--owner: "${v}" does not name a user and a group`);
  return { uid, gid };
}

function signalName(v: string): NodeJS.Signals {
  const s = (v.toUpperCase().startsWith("SIG") ? v.toUpperCase() : `SIG${v.toUpperCase()}`) as NodeJS.Signals;
  if (!(s in os.constants.signals)) throw usageError(`--signal: "${v}" is not a signal (e.g. HUP, USR1)`);
  return s;
}

export async function run(_args: string[], o: Record<string, any>): Promise<void> {
  const ctx = new Ctx(o);
  for (const f of ["caUrl", "caFile", "cert", "key"]) if (o[f] === undefined) throw usageError(`agent needs --${f.replace(/[A-Z]/g, (c) => "-" + c.toLowerCase())}`);
  if ((o.name === undefined) !== (o.tokenFile === undefined)) throw usageError("--name and --token-file go together (the first enrolment: the token's name and the file holding it)");
  if (o.exec !== undefined && (o.signal !== undefined || o.pidFile !== undefined)) throw usageError("--exec or --signal/--pid-file, not both");
  if ((o.signal === undefined) !== (o.pidFile === undefined)) throw usageError("--signal and --pid-file go together (e.g. --signal HUP --pid-file /var/run/nats-server.pid)");
  const rb = String(o.renewBefore ?? "33.333%");
  const opts: AgentOptions = {
    caUrl: o.caUrl,
    caFile: path.resolve(o.caFile),
    certFile: path.resolve(o.cert),
    keyFile: path.resolve(o.key),
    bundleFile: o.bundle === undefined ? undefined : path.resolve(o.bundle),
    name: o.name,
    tokenFile: o.tokenFile === undefined ? undefined : path.resolve(o.tokenFile),
    keyType: o.keyType === undefined ? undefined : parseKeyType(o.keyType),
    subject: o.subject,
    sans: sansOf(o),
    renewBefore: rb.includes("%") ? { fraction: percent(rb, "--renew-before") } : { ms: parseDuration(rb, "--renew-before") },
    jitter: percent(String(o.jitter ?? "10%"), "--jitter"),
    exec: o.exec === undefined ? undefined : splitCommand(o.exec),
    signal: o.signal === undefined ? undefined : signalName(o.signal),
    pidFile: o.pidFile === undefined ? undefined : path.resolve(o.pidFile),
    caOut: o.caOut === undefined ? undefined : path.resolve(o.caOut),
    owner: o.owner === undefined ? undefined : owner(o.owner),
    retryForMs: parseDuration(String(o.retryFor ?? "30s"), "--retry-for"),
  };
  if (opts.exec && !opts.exec.length) throw usageError("--exec: an empty command");
  if (opts.caOut && opts.caOut === opts.caFile) throw usageError("--ca-out must not be --ca-file: the trust anchor for reaching the CA is never written");
  const files = [
    [opts.certFile, "--cert"],
    [opts.keyFile, "--key"],
    ...(opts.bundleFile ? [[opts.bundleFile, "--bundle"]] : []),
  ] as const;
  for (const [f, what] of files) if (!fs.existsSync(path.dirname(f))) throw inputError(`${what}: the directory ${path.dirname(f)} does not exist`);
  if (new Set(files.map(([f]) => f)).size !== files.length) throw usageError(`${files.map(([, w]) => w).join(", ")} must be different files`);

  const stop = new AbortController();
  const onSignal = (sig: string) => {
    if (!stop.signal.aborted) writeErr(`mtlsctl agent: ${sig}: stopping\n`);
    stop.abort();
  };
  process.once("SIGTERM", () => onSignal("SIGTERM"));
  process.once("SIGINT", () => onSignal("SIGINT"));
  const agent = new Agent(opts, {
    emit: (e: AgentEvent) => {
      if (ctx.json) writeOut(JSON.stringify({ time: new Date().toISOString(), ...e }) + "\n");
    },
    log: (line) => writeErr(line + "\n"),
    signal: stop.signal,
  });
  if (o.once) {
    try {
      await agent.checkOnce();
    } catch (e) {
      if (stop.signal.aborted) return; // stopped between steps: the files are as they were, or the new pair
      throw e;
    }
    return;
  }
  await agent.run();
}
