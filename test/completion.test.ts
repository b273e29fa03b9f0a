/**
 * `mtlsctl completion bash|zsh`: made from the command tree at run time. Bash: the script installs
 * `complete -F _mtlsctl mtlsctl`, and `_mtlsctl` driven through COMP_WORDS/COMP_CWORD offers the
 * expected nouns, verbs, options, choices and store names. Zsh (required: scripts/test.sh installs
 * it): `zsh -n` parses the script, compinit registers it, and `_mtlsctl` offers the same words.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { BIN, makeStore, mtlsOk, run, tmpDir, tool } from "./helpers/cli";
import { buildProgram } from "../src/cli/main";
import type { Command } from "commander";

jest.setTimeout(60_000);

// `mtlsctl` on PATH, as a user has it
const shimDir = tmpDir("mtlsctl-shim-");
fs.writeFileSync(path.join(shimDir, "mtlsctl"), `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(BIN)} "$@"\n`, { mode: 0o755 });
const env = { ...process.env, PATH: `${shimDir}:${process.env.PATH}`, NO_COLOR: "1" } as NodeJS.ProcessEnv;
delete env.MTLSCTL_DIR;

const bashRun = mtlsOk(["completion", "bash"]);
const bashScript = bashRun.stdout;
const zshScript = mtlsOk(["completion", "zsh"]).stdout;
const scriptFile = (name: string, text: string) => {
  const f = path.join(tmpDir(), name);
  fs.writeFileSync(f, text);
  return f;
};

/** The words bash would offer for a command line; the last word is the one being completed. */
function bashComplete(words: string[], o: { cwd?: string; extraEnv?: Record<string, string> } = {}): string[] {
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  const script = [
    "source <(mtlsctl completion bash)",
    `COMP_WORDS=(${words.map(q).join(" ")})`,
    "COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))",
    'COMP_LINE="${COMP_WORDS[*]}"',
    "COMP_POINT=${#COMP_LINE}",
    "_mtlsctl",
    'printf "%s\\n" "${COMPREPLY[@]}"',
  ].join("\n");
  const r = run(tool("bash"), ["-c", script], { cwd: o.cwd, env: { ...env, ...o.extraEnv } });
  if (r.code !== 0) throw new Error(r.stdout + r.stderr);
  return r.stdout.split("\n").filter((l) => l !== "");
}

describe("bash", () => {
  test("source <(mtlsctl completion bash) registers _mtlsctl for mtlsctl", () => {
    const r = run(tool("bash"), ["-c", "source <(mtlsctl completion bash); complete -p mtlsctl"], { env });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe("complete -F _mtlsctl mtlsctl");
  });

  test("bash -n parses it, and it is printed on stdout alone", () => {
    expect(bashRun.stderr).toBe("");
    const r = run(tool("bash"), ["-n", scriptFile("mtlsctl.bash", bashScript)]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe("");
  });

  test("mtlsctl cl<TAB> -> client", () => {
    expect(bashComplete(["mtlsctl", "cl"])).toEqual(["client"]);
  });

  test("mtlsctl client <TAB> -> its verbs", () => {
    expect(bashComplete(["mtlsctl", "client", ""])).toEqual(["csr", "sign", "issue", "set"]);
  });

  test("mtlsctl client issue --k<TAB> -> --key", () => {
    expect(bashComplete(["mtlsctl", "client", "issue", "--k"])).toEqual(["--key"]);
  });

  test("mtlsctl <TAB> -> every top-level command of the tree", () => {
    const top = buildProgram().commands.map((c) => c.name());
    expect(top).toEqual(expect.arrayContaining(["init", "ca", "client", "server", "completion"]));
    expect(bashComplete(["mtlsctl", ""]).sort()).toEqual([...top].sort());
  });

  test("options of a verb include the global ones, after global options and their values", () => {
    const words = bashComplete(["mtlsctl", "--dir", "somewhere", "server", "issue", "--"]);
    expect(words).toEqual(expect.arrayContaining(["--dns", "--ip", "--key", "--days", "--force", "--help", "--json", "--dir", "--yes", "--no-color", "--quiet"]));
    expect(words).not.toContain("--email");
  });

  test.each([
    [["mtlsctl", "client", "issue", "--key", ""], ["ec-p256", "ec-p384", "rsa-2048", "rsa-3072", "rsa-4096", "ed25519"]],
    [["mtlsctl", "client", "issue", "alice", "--key", "e"], ["ec-p256", "ec-p384", "ed25519"]],
    [["mtlsctl", "server", "issue", "--key", "=", "rsa"], ["rsa-2048", "rsa-3072", "rsa-4096"]], // --key=rsa (bash splits at =)
    [["mtlsctl", "export", "alice", "--format", ""], ["pem", "chain", "der", "p12", "truststore", "roots"]],
    [["mtlsctl", "config", "nats", "--map", ""], ["email", "dns", "uri", "dn"]],
    [["mtlsctl", "revoke", "alice", "--reason", "key"], ["keyCompromise"]],
    [["mtlsctl", "completion", ""], ["bash", "zsh"]],
  ])("choices: %j -> %j", (words, expected) => {
    expect(bashComplete(words)).toEqual(expected);
  });

  test("store names for export, renew, revoke and --include, from --dir or MTLSCTL_DIR", () => {
    const s = makeStore({ noEncrypt: true });
    for (const n of ["alice", "bob"]) mtlsOk(["client", "issue", n, "--email", `${n}@example.com`], { cwd: s.cwd, env: s.env });
    expect(bashComplete(["mtlsctl", "--dir", s.dir, "export", ""])).toEqual(["alice", "bob", "ca"]);
    expect(bashComplete(["mtlsctl", "renew", "a"], { extraEnv: { MTLSCTL_DIR: s.dir } })).toEqual(["alice"]);
    expect(bashComplete(["mtlsctl", "revoke", ""], { cwd: s.cwd })).toEqual(["alice", "bob"]); // ./pki
    expect(bashComplete(["mtlsctl", "config", "nats", "--dir", s.dir, "--exclude", "b"])).toEqual(["bob"]);
    // a new name is not completed
    expect(bashComplete(["mtlsctl", "--dir", s.dir, "client", "issue", ""])).toEqual([]);
  });

  test("file arguments complete paths", () => {
    const d = tmpDir();
    fs.writeFileSync(path.join(d, "alice.crt"), "");
    fs.writeFileSync(path.join(d, "alice.key"), "");
    expect(bashComplete(["mtlsctl", "explain", "ali"], { cwd: d }).sort()).toEqual(["alice.crt", "alice.key"]);
    expect(bashComplete(["mtlsctl", "verify", "--config", "alice.k"], { cwd: d })).toEqual(["alice.key"]);
  });

  test("a command added to the tree appears in the script (it is generated, not written by hand)", () => {
    const program = buildProgram();
    program.command("frobnicate").option("--wibble <file>").description("test only");
    const { bashScript: make } = require("../src/cli/completion") as typeof import("../src/cli/completion");
    const text = make(program);
    expect(text).toContain("'frobnicate'");
    expect(text).toContain("'frobnicate|--wibble') REPLY='f'");
  });
});

describe("zsh", () => {
  const zsh = () => tool("zsh"); // missing zsh fails here (scripts/test.sh installs it), never a skip

  test("zsh -n parses it", () => {
    const r = run(zsh(), ["-n", scriptFile("_mtlsctl", zshScript)]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
  });

  test("after compinit, sourcing it registers _mtlsctl for mtlsctl", () => {
    const home = tmpDir();
    const r = run(zsh(), ["-f", "-c", "autoload -U compinit && compinit -u -D && source <(mtlsctl completion zsh) && print -r -- $_comps[mtlsctl]"], { env: { ...env, HOME: home, ZDOTDIR: home } });
    expect(r.stderr).toBe("");
    expect(r.stdout.trim()).toBe("_mtlsctl");
  });

  test("saved as _mtlsctl in $fpath, compinit autoloads it (first and later calls)", () => {
    const d = tmpDir();
    fs.writeFileSync(path.join(d, "_mtlsctl"), zshScript);
    const script = [
      `fpath=(${d} $fpath)`,
      "autoload -U compinit && compinit -u -D",
      "print -r -- comps=$_comps[mtlsctl]",
      "_describe() { local a=${@[-1]}; print -rl -- ${${(@P)a}%%:*}; }",
      "words=(mtlsctl client ''); CURRENT=3",
      "_mtlsctl; _mtlsctl",
    ].join("\n");
    const r = run(zsh(), ["-f", "-c", script], { env: { ...env, HOME: d } });
    expect(r.stderr).toBe("");
    expect(r.stdout.split("\n").filter(Boolean)).toEqual(["comps=_mtlsctl", "csr", "sign", "issue", "set", "csr", "sign", "issue", "set"]);
  });

  /** What _mtlsctl hands to zsh's completion functions (stubbed to print their words). */
  function zshComplete(words: string[]): string[] {
    const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
    const script = [
      "compdef() { :; }",
      "source <(mtlsctl completion zsh)",
      "_describe() { local a=${@[-1]}; print -rl -- ${${(@P)a}%%:*}; }",
      "compadd() { while [[ $1 != -- ]]; do shift; done; shift; print -rl -- $@; }",
      "_files() { print -r -- _files $@; }",
      "compset() { :; }",
      `words=(${words.map(q).join(" ")})`,
      "CURRENT=${#words}",
      "_mtlsctl",
    ].join("\n");
    const r = run(zsh(), ["-f", "-c", script], { env });
    if (r.code !== 0 || r.stderr) throw new Error(r.stdout + r.stderr);
    return r.stdout.split("\n").filter((l) => l !== "");
  }

  test("_mtlsctl offers the verbs, options and choices (zsh filters by prefix itself)", () => {
    expect(zshComplete(["mtlsctl", "cl"])).toEqual(expect.arrayContaining(["client", "ca", "config"]));
    expect(zshComplete(["mtlsctl", "client", ""])).toEqual(["csr", "sign", "issue", "set"]);
    expect(zshComplete(["mtlsctl", "client", "issue", "--k"])).toEqual(expect.arrayContaining(["--key", "--email", "--json"]));
    expect(zshComplete(["mtlsctl", "client", "issue", "--key", ""])).toEqual(["ec-p256", "ec-p384", "rsa-2048", "rsa-3072", "rsa-4096", "ed25519"]);
    expect(zshComplete(["mtlsctl", "export", "x", "--format", ""])).toEqual(["pem", "chain", "der", "p12", "truststore", "roots"]);
    expect(zshComplete(["mtlsctl", "ca", "import", ""])).toEqual(["_files"]);
  });
});

describe("start-up: buildProgram(argv) builds only what the invocation needs (issue 9)", () => {
  const argv = (...a: string[]) => ["node", "mtlsctl", ...a];
  const names = (c: Command): string[] => c.commands.flatMap((s) => [s.name(), ...names(s).map((n) => `${s.name()} ${n}`)]);

  test.each([[[] as string[]], [["--help"]], [["--version"]], [["--dir", "/tmp", "--json", "--help"]], [["-h", "ca"]]])("no operand, or the program's help before it (%j): the top level only, and the same program help as the whole tree", (a) => {
    const shallow = buildProgram(argv(...a));
    const whole = buildProgram();
    expect(shallow.commands.map((c) => c.name())).toEqual(whole.commands.map((c) => c.name()));
    expect(shallow.commands.every((c) => c.commands.length === 0)).toBe(true); // no group's subcommands
    expect(whole.commands.find((c) => c.name() === "ca")!.commands.length).toBeGreaterThan(3); // the control
    expect(shallow.helpInformation()).toBe(whole.helpInformation());
  });

  test("one operand: that command's subtree, whole; the others are not built", () => {
    const p = buildProgram(argv("ca", "init", "--help"));
    const whole = buildProgram();
    expect(p.commands.map((c) => c.name())).toEqual(["ca"]);
    expect(names(p)).toEqual(names(whole).filter((n) => n === "ca" || n.startsWith("ca ")));
  });

  test.each([["help"], ["completion"], ["no-such-command"]])("%s: the whole tree", (op) => {
    expect(names(buildProgram(argv(op)))).toEqual(names(buildProgram()));
  });
});
