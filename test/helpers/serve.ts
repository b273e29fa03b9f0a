/** `mtlsctl serve` as the tests run it: the built CLI in a child process, ready when it prints its URL. */
import { spawn, ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as https from "node:https";
import { BIN } from "./cli";

export interface Served {
  port: number;
  proc: ChildProcess;
  log(): string;
  /** SIGTERM, then the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  exited: Promise<number | null>;
}

const running = new Set<ChildProcess>();
process.once("exit", () => {
  for (const p of running) if (p.exitCode === null) p.kill("SIGKILL");
});

export async function startServe(env: Record<string, string>, args: string[] = [], timeoutMs = 15_000): Promise<Served> {
  const proc = spawn(process.execPath, [BIN, "serve", "--listen", "127.0.0.1:0", ...args], { env: { ...process.env, NO_COLOR: "1", ...env }, stdio: ["ignore", "pipe", "pipe"] });
  running.add(proc);
  let out = "";
  proc.stdout!.on("data", (d) => (out += d));
  proc.stderr!.on("data", (d) => (out += d));
  // close, not exit: the log is complete then (exit can come before the pipes are read)
  const exited = new Promise<number | null>((resolve) => proc.on("close", (code) => (running.delete(proc), resolve(code))));
  const port = await new Promise<number>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`serve did not start within ${timeoutMs} ms:\n${out}`)), timeoutMs);
    const check = () => {
      const m = /listening on https:\/\/[^\s]+:(\d+)/.exec(out);
      if (m) {
        clearTimeout(t);
        resolve(Number(m[1]));
      }
    };
    proc.stderr!.on("data", check);
    exited.then((code) => {
      clearTimeout(t);
      reject(new Error(`serve exited ${code} before it was ready:\n${out}`));
    });
  });
  return {
    port,
    proc,
    log: () => out,
    exited,
    async stop(signal = "SIGTERM") {
      if (proc.exitCode === null) proc.kill(signal);
      return exited;
    },
  };
}

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One HTTPS request to the service (a new connection each time; the CA file as the only trust anchor). */
export function request(port: number, o: { method?: string; path: string; caFile: string; headers?: Record<string, string>; body?: string | Buffer; cert?: string; key?: string }): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host: "127.0.0.1",
        port,
        method: o.method ?? (o.body !== undefined ? "POST" : "GET"),
        path: o.path,
        ca: fs.readFileSync(o.caFile),
        cert: o.cert ? fs.readFileSync(o.cert) : undefined,
        key: o.key ? fs.readFileSync(o.key) : undefined,
        headers: o.headers,
        agent: false,
        servername: "localhost",
      },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (d) => (body += d));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on("error", reject);
    req.setTimeout(15_000, () => req.destroy(new Error("request timed out")));
    if (o.body !== undefined) req.end(o.body);
    else req.end();
  });
}

export const basic = (user: string, pass: string) => "Basic " + Buffer.from(`${user}:${pass}`).toString("base64");
