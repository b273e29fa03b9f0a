/**
 * A command on a real pseudo-terminal (util-linux `script -qec`), answering each prompt in turn: the
 * tests of the terminal questions (test/wizard.test.ts, test/pg-prompts.test.ts).
 */
import { spawn } from "node:child_process";
import { BIN, tool } from "./cli";

export const ENTER = "\r";
export const DOWN = "\x1b[B";
export const BACKSPACE = "\x7f";
export const stripAnsi = (s: string) => s.replace(/\x1b\[[0-9;?]*[ -/]*[@-~]/g, "").replace(/\x1b[()][0-9A-B]/g, "");

export interface Step {
  /** Waits until this appears (ANSI codes stripped) after what the previous step matched... */
  expect: RegExp;
  /** ...then types this. */
  send: string;
}

export interface PtyResult {
  code: number;
  out: string; // with ANSI codes
  text: string; // without
  missed: string | null; // the step that never matched
}

/** Runs a command on a new pseudo-terminal (script -qec), answering each step's prompt in turn. */
export function onPty(argv: string[], steps: Step[], o: { cwd?: string; env?: Record<string, string | undefined>; stdoutTo?: string } = {}): Promise<PtyResult> {
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  // a terminal of a known size (script's own has none), so that prompts are not wrapped
  const cmd = "stty cols 160 rows 50; exec " + [process.execPath, BIN, ...argv].map(q).join(" ") + (o.stdoutTo ? ` > ${q(o.stdoutTo)}` : "");
  const env: Record<string, string | undefined> = { ...process.env, MTLSCTL_PASSPHRASE: "", MTLSCTL_DIR: undefined, NO_COLOR: undefined, TERM: "xterm", ...o.env };
  for (const k of Object.keys(env)) if (env[k] === undefined) delete env[k];
  return new Promise((resolve, reject) => {
    const child = spawn(tool("script"), ["-qec", cmd, "/dev/null"], { cwd: o.cwd, env: env as NodeJS.ProcessEnv, stdio: ["pipe", "pipe", "pipe"] });
    let out = "";
    let from = 0; // where the next step's match may start (in the stripped text)
    let i = 0;
    let busy = false;
    const advance = () => {
      if (busy || i >= steps.length) return;
      const text = stripAnsi(out);
      const m = steps[i].expect.exec(text.slice(from));
      if (!m) return;
      from += m.index + m[0].length;
      const send = steps[i++].send;
      busy = true;
      // a moment for the prompt to switch the terminal to raw mode before typing
      setTimeout(() => {
        child.stdin.write(send);
        busy = false;
        advance();
      }, 120);
    };
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString("utf8");
      advance();
    });
    child.stderr.on("data", (d: Buffer) => (out += d.toString("utf8")));
    const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, out, text: stripAnsi(out), missed: i < steps.length ? String(steps[i].expect) : null });
    });
  });
}
