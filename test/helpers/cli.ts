/** Test helpers: run the real CLI (bin/mtlsctl over dist/), temp dirs, tools, tree hashes. */
import { spawnSync, execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as crypto from "node:crypto";

export const ROOT = path.resolve(__dirname, "..", "..");
export const BIN = path.join(ROOT, "bin", "mtlsctl");

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `mtlsctl args` as a user would: a new process, no TTY, CI-like environment. */
export function mtls(args: string[], o: { cwd?: string; env?: Record<string, string | undefined>; input?: string | Buffer } = {}): RunResult {
  const env: Record<string, string | undefined> = { ...process.env, NO_COLOR: "1", ...o.env };
  for (const k of Object.keys(env)) if (env[k] === undefined) delete env[k];
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: o.cwd, env: env as NodeJS.ProcessEnv, input: o.input ?? "", encoding: "utf8", timeout: 120_000 });
  if (r.error) throw r.error;
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** Like mtls() but fails the test with the output when the exit code is not 0. */
export function mtlsOk(args: string[], o: Parameters<typeof mtls>[1] = {}): RunResult {
  const r = mtls(args, o);
  if (r.code !== 0) throw new Error(`mtlsctl ${args.join(" ")} exited ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return r;
}

export function tmpDir(prefix = "mtlsctl-test-"): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** The absolute path of a required system tool; a missing tool fails the test (never a skip). */
export function tool(name: string): string {
  for (const dir of (process.env.PATH ?? "").split(":").concat(["/usr/sbin", "/usr/bin", "/sbin"])) {
    const p = path.join(dir, name);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch {
      /* next */
    }
  }
  throw new Error(`required tool "${name}" is not installed (scripts/test.sh installs it)`);
}

/** Runs a tool; returns its exit code and output (stderr merged) without throwing. */
export function run(cmd: string, args: string[], o: { cwd?: string; input?: string; env?: NodeJS.ProcessEnv } = {}): RunResult {
  const r = spawnSync(cmd, args, { cwd: o.cwd, input: o.input ?? "", encoding: "utf8", env: o.env ?? process.env, timeout: 120_000 });
  if (r.error) throw r.error;
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

export function openssl(args: string[], o: { cwd?: string; input?: string } = {}): RunResult {
  return run(tool("openssl"), args, o);
}

/** SHA-256 of every file under dir (relative path -> hash), plus each file's mode. */
export function hashTree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) {
        out[path.relative(dir, p) + "/"] = "dir";
        walk(p);
      } else out[path.relative(dir, p)] = crypto.createHash("sha256").update(fs.readFileSync(p)).digest("hex") + " " + (fs.statSync(p).mode & 0o777).toString(8);
    }
  };
  if (fs.existsSync(dir)) walk(dir);
  return out;
}

/** A store with a CA, made through the CLI. Passphrase "test-pass" unless noEncrypt. */
export function makeStore(o: { key?: string; noEncrypt?: boolean; name?: string } = {}): { dir: string; cwd: string; env: Record<string, string> } {
  const cwd = tmpDir();
  const dir = path.join(cwd, "pki");
  const env = { MTLSCTL_PASSPHRASE: "test-pass", MTLSCTL_DIR: dir };
  mtlsOk(["ca", "init", "--name", o.name ?? "Test CA", "--key", o.key ?? "ec-p256", ...(o.noEncrypt ? ["--no-encrypt"] : [])], { cwd, env });
  return { dir, cwd, env };
}

export function which(name: string): string | null {
  try {
    return execFileSync("sh", ["-c", `command -v ${name}`], { encoding: "utf8" }).trim() || null;
  } catch {
    return null;
  }
}

/** The nats.go version Go programs under test build against (pinned; the module proxy serves it). */
export const NATS_GO_VERSION = "v1.56.0";

/**
 * The machine's Go toolchain: MTLSCTL_GO, else /usr/local/go/bin/go (these machines'), else `go` on
 * PATH. One Go everywhere: an older distribution go cannot build current modules.
 */
export function goTool(): string {
  for (const g of [process.env.MTLSCTL_GO, "/usr/local/go/bin/go"]) if (g && fs.existsSync(g)) return g;
  return tool("go");
}
