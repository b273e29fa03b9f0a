/**
 * Output for scripts and people. Table-driven over every command of the tree (a command the table
 * does not cover fails the test): with --json, stdout parses as JSON (JSON Lines for verify),
 * errors included; without --json and without a terminal, nothing prints an ANSI escape (colour
 * is not even tried); on a real terminal colour appears only without NO_COLOR and --no-color.
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { BIN, mtls, mtlsOk, RunResult, tmpDir, tool } from "./helpers/cli";
import { buildProgram } from "../src/cli/main";
import type { Command } from "commander";

jest.setTimeout(180_000);

interface Row {
  /** The command path it covers ("client issue"). */
  cmd: string;
  args: string[];
  /** Expected exit code (default 0). */
  code?: number;
  /** verify: one JSON object per line. */
  lines?: boolean;
  /** Only with --json (a form whose human output is binary, or a JSON-only check). */
  jsonOnly?: boolean;
  /** Run before the row (in the run's directory). */
  before?: (cwd: string) => void;
  /** Checks on the parsed JSON. */
  check?: (j: any) => void; // eslint-disable-line @typescript-eslint/no-explicit-any
}

const ROWS: Row[] = [
  { cmd: "ca init", args: ["ca", "init", "--name", "Json CA"], check: (j) => expect(j.subject).toBe("CN=Json CA") },
  { cmd: "ca show", args: ["ca", "show"], check: (j) => expect(j.keyType).toBe("ec-p256") },
  { cmd: "ca set", args: ["ca", "set", "--ocsp-url", "http://127.0.0.1:8080/ocsp"], check: (j) => expect({ ocsp: j.ocspUrl, crl: j.crlUrl }).toEqual({ ocsp: "http://127.0.0.1:8080/ocsp", crl: null }) },
  { cmd: "server issue", args: ["server", "issue", "nats1", "--dns", "localhost", "--ip", "127.0.0.1"], check: (j) => expect(j.kind).toBe("server") },
  { cmd: "client issue", args: ["client", "issue", "alice", "--email", "alice@example.com"], check: (j) => expect(j.natsUser).toBe("alice@example.com") },
  { cmd: "client issue", args: ["client", "issue", "bob", "--uri", "spiffe://example.org/bob"] },
  { cmd: "client issue", args: ["client", "issue", "alice", "--email", "alice@example.com"], code: 3, check: (j) => expect(j.error).toMatch(/already exists/) },
  { cmd: "client csr", args: ["client", "csr", "carol", "--email", "carol@example.com", "--out-dir", "."], check: (j) => expect(j.csrFile).toMatch(/carol\.csr$/) },
  { cmd: "client sign", args: ["client", "sign", "carol.csr"], check: (j) => expect(j.name).toBe("carol") },
  { cmd: "list", args: ["list"], check: (j) => expect(j.map((e: { name: string }) => e.name)).toEqual(["ca", "nats1", "alice", "bob", "carol"]) },
  { cmd: "status", args: ["status"] },
  { cmd: "status", args: ["status", "--expiring", "400"], code: 1, check: (j) => expect(j.expiring.length).toBeGreaterThan(0) },
  { cmd: "nkey create", args: ["nkey", "create", "svc-nk"], check: (j) => expect(j.publicKey).toMatch(/^U/) },
  { cmd: "nkey list", args: ["nkey", "list"] },
  { cmd: "token create", args: ["token", "create", "dev1", "--email", "dev1@example.com"], check: (j) => expect({ name: j.name, token: typeof j.token }).toEqual({ name: "dev1", token: "string" }) },
  { cmd: "token list", args: ["token", "list"], check: (j) => expect(j.map((t: { name: string; state: string }) => [t.name, t.state])).toEqual([["dev1", "active"]]) },
  { cmd: "token revoke", args: ["token", "revoke", "dev1"], check: (j) => expect(j.revoked.map((t: { name: string }) => t.name)).toEqual(["dev1"]) },
  { cmd: "agent", args: ["agent", "--ca-url", "https://127.0.0.1:1", "--ca-file", "pki/ca.crt", "--cert", "a.crt", "--key", "a.key", "--once"], code: 3, check: (j) => expect(j.error).toMatch(/enrol first with --name NAME --token-file FILE/) }, // its events: test/agent.test.ts
  { cmd: "serve", args: ["serve", "--listen", "nonsense"], code: 3, check: (j) => expect(j.error).toMatch(/--listen: "nonsense" is not HOST:PORT/) }, // running: test/serve-*.test.ts
  { cmd: "store migrate", args: ["store", "migrate"], code: 2, check: (j) => expect(j.error).toMatch(/give --db/) }, // on a database: test/pg-store.test.ts
  { cmd: "store copy", args: ["store", "copy", "--from", "pki", "--to", "pki-copy"], code: 2, check: (j) => expect(j.error).toMatch(/both directories/) },
  { cmd: "client set", args: ["client", "set", "bob", "--account", "OPS", "--allow-pub", "ops.>"], check: (j) => expect({ account: j.account, permissions: j.permissions }).toEqual({ account: "OPS", permissions: { publish: { allow: ["ops.>"] } } }) },
  { cmd: "nkey set", args: ["nkey", "set", "svc-nk", "--account", "OPS"], check: (j) => expect(j.account).toBe("OPS") },
  {
    cmd: "config nats",
    args: ["config", "nats", "--out", "nats-mtls.conf"],
    before: (cwd) => fs.writeFileSync(path.join(cwd, "main.conf"), `listen: 127.0.0.1:4222\ninclude "nats-mtls.conf"\n`),
    check: (j) => expect(j.config).toContain("verify_and_map"),
  },
  { cmd: "config node", args: ["config", "node"], check: (j) => expect(j.snippet).toContain("requestCert") },
  { cmd: "config node", args: ["config", "node", "--out", "server.js"], check: (j) => expect(j.out).toMatch(/server\.js$/) },
  { cmd: "config curl", args: ["config", "curl", "alice"], check: (j) => expect(j.snippet).toContain("--cacert") },
  { cmd: "config java", args: ["config", "java"], check: (j) => expect(j.snippet).toContain("class") },
  { cmd: "config nkey-client", args: ["config", "nkey-client", "node", "svc-nk", "--cert", "alice"] },
  { cmd: "explain", args: ["explain", "pki/issued/alice.crt"], check: (j) => expect(j.identities[0].value).toBe("alice@example.com") },
  { cmd: "verify", args: ["verify", "pki/issued/alice.crt", "pki/issued/bob.crt", "--config", "main.conf"], lines: true, check: (j) => expect(j.accepted).toBe(true) },
  { cmd: "lint", args: ["lint", "main.conf"] },
  { cmd: "export", args: ["export", "alice", "--format", "pem"], check: (j) => expect(j.data).toContain("BEGIN CERTIFICATE") },
  { cmd: "export", args: ["export", "alice", "--format", "chain"] },
  { cmd: "export", args: ["export", "ca", "--format", "der"], jsonOnly: true, check: (j) => expect(j.encoding).toBe("base64") },
  { cmd: "export", args: ["export", "ca", "--format", "der", "--out", "ca.der"], check: (j) => expect(j.out).toMatch(/ca\.der$/) },
  { cmd: "export", args: ["export", "alice", "--format", "p12"], jsonOnly: true, check: (j) => expect(Buffer.from(j.data, "base64")[0]).toBe(0x30) },
  { cmd: "export", args: ["export", "alice", "--format", "p12", "--out", "alice.p12"] },
  { cmd: "export", args: ["export", "ca", "--format", "truststore", "--out", "truststore.p12"] },
  { cmd: "renew", args: ["renew", "alice"], check: (j) => expect(j.renews).toMatch(/^[0-9a-f]+$/) },
  { cmd: "revoke", args: ["revoke", "bob", "--reason", "keyCompromise"], check: (j) => expect(j.revoked[0].name).toBe("bob") },
  { cmd: "crl", args: ["crl"], check: (j) => expect(j.crl).toContain("BEGIN X509 CRL") },
  { cmd: "crl", args: ["crl", "--der", "--out", "crl.der"] },
  // issue 10: an intermediate signed by pki now, and one through a request (pending, ca sign, ca install)
  {
    cmd: "ca init",
    args: ["ca", "init", "--intermediate", "--root-dir", "pki", "--dir", "inter", "--name", "Json Inter", "--root-passphrase-file", "rootpw.txt", "--permit-dns", "example.com"],
    before: (cwd) => fs.writeFileSync(path.join(cwd, "rootpw.txt"), "test-pass\n"),
    check: (j) => expect(j.nameConstraints.permitted.dns).toEqual(["example.com"]),
  },
  { cmd: "ca init", args: ["ca", "init", "--intermediate", "--csr-out", "off.csr", "--dir", "off", "--name", "Json Off"], check: (j) => expect(j.pending).toBe(true) },
  { cmd: "ca sign", args: ["ca", "sign", "off.csr", "--out", "off.crt", "--path-len", "0"], check: (j) => expect(j.subject).toBe("CN=Json Off") },
  { cmd: "ca install", args: ["ca", "install", "off.crt", "--root", "pki/ca.crt", "--dir", "off"], check: (j) => expect(j.root).toBe("CN=Json CA") },
  {
    cmd: "ca import",
    args: ["--dir", "imported", "ca", "import", "pki/ca.crt", "pki/private/ca.key", "--key-passphrase-file", "pw.txt"],
    before: (cwd) => fs.writeFileSync(path.join(cwd, "pw.txt"), "test-pass\n"),
  },
  // CA care (after ca import, which reads the store's CA key with pw.txt's passphrase)
  { cmd: "ca passphrase", args: ["ca", "passphrase", "--passphrase-file", "pw.txt", "--new-passphrase-file", "pw.txt"], check: (j) => expect(j.encrypted).toBe(true) },
  { cmd: "ca rollover", args: ["ca", "rollover"], check: (j) => expect(j.roots.length).toBe(2) },
  { cmd: "ca retire", args: ["ca", "retire", "--all-previous"], check: (j) => expect(j.roots.length).toBe(1) },
  { cmd: "backup", args: ["backup", "--out", "store.mtlsbak", "--password-file", "pw.txt"], check: (j) => expect(j.files).toBeGreaterThan(5) },
  { cmd: "restore", args: ["--dir", "restored", "restore", "store.mtlsbak", "--password-file", "pw.txt"], check: (j) => expect(j.replaced).toBe(false) },
  { cmd: "completion", args: ["completion", "bash"], check: (j) => expect(j.script).toContain("complete -F _mtlsctl mtlsctl") },
  { cmd: "completion", args: ["completion", "zsh"] },
  { cmd: "init", args: ["init"], code: 2, check: (j) => expect(j.error).toMatch(/terminal/) }, // on a terminal: test/wizard.test.ts
];

/** Every runnable command path of the tree ("ca init", "list", ...). */
function leafCommands(cmd: Command, prefix = ""): string[] {
  const subs = cmd.commands.filter((c) => !(c as unknown as { _hidden?: boolean })._hidden);
  if (!subs.length) return [prefix];
  return subs.flatMap((c) => leafCommands(c, prefix ? `${prefix} ${c.name()}` : c.name()));
}

function runAll(json: boolean): { row: Row; r: RunResult }[] {
  const cwd = tmpDir(json ? "mtlsctl-json-" : "mtlsctl-human-");
  const env = { MTLSCTL_DIR: path.join(cwd, "pki"), MTLSCTL_PASSPHRASE: "test-pass", MTLSCTL_P12_PASSWORD: "p12-pass", NO_COLOR: undefined, FORCE_COLOR: undefined };
  const out: { row: Row; r: RunResult }[] = [];
  for (const row of ROWS) {
    if (row.jsonOnly && !json) continue;
    row.before?.(cwd);
    out.push({ row, r: mtls(json ? [...row.args, "--json"] : row.args, { cwd, env }) });
  }
  return out;
}

test("the table covers every command of the tree", () => {
  const covered = new Set(ROWS.map((r) => r.cmd));
  const missing = leafCommands(buildProgram()).filter((c) => !covered.has(c));
  expect(missing).toEqual([]);
});

describe("--json: stdout is JSON for every command", () => {
  const results = runAll(true);
  test.each(results.map(({ row, r }) => ({ name: row.args.join(" "), row, r })))("mtlsctl $name --json", ({ row, r }) => {
    if (r.code !== (row.code ?? 0)) throw new Error(`exit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
    expect(r.stdout.trim()).not.toBe("");
    const docs = row.lines ? r.stdout.trim().split("\n").map((l) => JSON.parse(l)) : [JSON.parse(r.stdout)];
    if (row.lines) expect(docs.length).toBe(row.args.filter((a) => a.endsWith(".crt")).length);
    for (const d of docs) {
      expect(typeof d).toBe("object");
      expect(d).not.toBeNull();
      if ((row.code ?? 0) === 0) expect(d.error).toBeUndefined();
      row.check?.(d);
    }
  });
});

describe("without a terminal: no ANSI escapes anywhere (NO_COLOR unset)", () => {
  const results = runAll(false);
  test.each(results.map(({ row, r }) => ({ name: row.args.join(" "), row, r })))("mtlsctl $name", ({ row, r }) => {
    if (r.code !== (row.code ?? 0)) throw new Error(`exit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
    expect(r.stdout).not.toContain("\x1b");
    expect(r.stderr).not.toContain("\x1b");
  });
});

describe("human output is aligned", () => {
  test("list and status: every column starts at the same place on every line", () => {
    const cwd = tmpDir();
    const env = { MTLSCTL_DIR: path.join(cwd, "pki"), MTLSCTL_PASSPHRASE: "test-pass" };
    mtlsOk(["ca", "init", "--name", "Align CA"], { cwd, env });
    mtlsOk(["server", "issue", "a-much-longer-server-name", "--dns", "localhost"], { cwd, env });
    mtlsOk(["client", "issue", "x", "--email", "x@example.com"], { cwd, env });
    for (const cmd of [["list"], ["status"]]) {
      const lines = mtlsOk(cmd, { cwd, env }).stdout.split("\n");
      const header = lines[0];
      const starts = [...header.matchAll(/(?<=^|\s\s)(\S)/g)].map((m) => m.index!);
      const body = lines.slice(1, 4);
      expect(body.length).toBe(3);
      // each header column begins where a cell (or its right-aligned end) is on every row
      for (const l of body) for (const s of starts.slice(1)) expect(l[s - 1]).toBe(" ");
    }
  });
});

/** On a real terminal (script -qec), merged output. */
function onPty(argv: string[], o: { cwd: string; env: Record<string, string | undefined> }): Promise<{ code: number; out: string }> {
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  const env: Record<string, string | undefined> = { ...process.env, TERM: "xterm", NO_COLOR: undefined, FORCE_COLOR: undefined, ...o.env };
  for (const k of Object.keys(env)) if (env[k] === undefined) delete env[k];
  return new Promise((resolve, reject) => {
    const child = spawn(tool("script"), ["-qec", [process.execPath, BIN, ...argv].map(q).join(" "), "/dev/null"], { cwd: o.cwd, env: env as NodeJS.ProcessEnv });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString("utf8")));
    child.stderr.on("data", (d: Buffer) => (out += d.toString("utf8")));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code: code ?? -1, out }));
  });
}

describe("on a terminal, colour only without NO_COLOR and --no-color", () => {
  const cwd = tmpDir();
  const env = { MTLSCTL_DIR: path.join(cwd, "pki"), MTLSCTL_PASSPHRASE: "test-pass" };
  beforeAll(() => {
    mtlsOk(["ca", "init", "--name", "Colour CA"], { cwd, env });
    mtlsOk(["server", "issue", "nats1", "--dns", "localhost"], { cwd, env });
    mtlsOk(["client", "issue", "alice", "--email", "alice@example.com"], { cwd, env });
  });
  const commands = [["explain", "pki/issued/alice.crt"], ["ca", "show"], ["list"], ["status"], ["client", "issue", "zed", "--email", "zed@example.com"]];

  test("a terminal and nothing said: bold headings (the control)", async () => {
    const r = await onPty(["explain", "pki/issued/alice.crt"], { cwd, env });
    expect(r.code).toBe(0);
    expect(r.out).toContain("\x1b[1mCertificate\x1b[0m");
  });

  test.each(commands.map((c) => ({ name: c.join(" "), c })))("NO_COLOR=1: no escape from mtlsctl $name", async ({ c }) => {
    const r = await onPty([...c, ...(c[0] === "client" ? ["--force"] : [])], { cwd, env: { ...env, NO_COLOR: "1" } });
    expect(r.code).toBe(0);
    expect(r.out).not.toContain("\x1b");
  });

  test.each(commands.map((c) => ({ name: c.join(" "), c })))("--no-color: no escape from mtlsctl $name", async ({ c }) => {
    const r = await onPty(["--no-color", ...c, ...(c[0] === "client" ? ["--force"] : [])], { cwd, env });
    expect(r.code).toBe(0);
    expect(r.out).not.toContain("\x1b");
  });

  test("--no-color: prompts draw without colour (only cursor movement)", async () => {
    // client issue with no name asks; ^C at the first prompt ends it (exit 2, "cancelled")
    const child = spawn(tool("script"), ["-qec", `${process.execPath} ${BIN} --no-color client issue`, "/dev/null"], {
      cwd,
      env: { ...process.env, ...env, TERM: "xterm", NO_COLOR: "" } as NodeJS.ProcessEnv,
    });
    let out = "";
    const code = await new Promise<number>((resolve) => {
      child.stdout.on("data", (d: Buffer) => {
        out += d.toString("utf8");
        if (/Client name/.test(out)) setTimeout(() => child.stdin.write("\x03"), 150);
      });
      child.on("close", (c) => resolve(c ?? -1));
    });
    expect(out).toMatch(/Client name/);
    expect(code).toBe(2);
    expect(out).not.toMatch(/\x1b\[[0-9;]*m/); // no SGR (colour, bold, dim)
  });
});

describe("a reader that is gone (`mtlsctl ... | true`)", () => {
  // the output is written with fs.writeSync: EPIPE ends the write quietly, not with a stream error trace
  test.each([["--help"], ["list"], ["list", "--json"], ["ca", "show"]])("mtlsctl %s | true: exit 0, nothing on stderr", (...args) => {
    const s = tmpDir();
    const env = { ...process.env, MTLSCTL_PASSPHRASE: "pw", MTLSCTL_DIR: path.join(s, "pki") };
    expect(require("node:child_process").spawnSync(process.execPath, [BIN, "ca", "init"], { env }).status).toBe(0);
    const quoted = [BIN, ...args].map((a) => `'${a}'`).join(" ");
    // `true` exits before node has started, so every write meets a closed pipe; pipefail reports mtlsctl's status
    const r = require("node:child_process").spawnSync("bash", ["-c", `set -o pipefail; '${process.execPath}' ${quoted} | true`], { env, encoding: "utf8" });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
  });
});

describe("isatty without node:tty (start-up, issue 9)", () => {
  const { linuxMajor } = require("../src/cli/out") as typeof import("../src/cli/out");
  test("linuxMajor reads glibc's device numbers (bits 8-19 and 32-43)", () => {
    expect(linuxMajor(0x103)).toBe(1); // /dev/null (1:3)
    expect(linuxMajor(0x8800)).toBe(136); // /dev/pts/0 (136:0)
    expect(linuxMajor(0x401)).toBe(4); // /dev/tty1 (4:1)
    expect(linuxMajor(0x500 + 0x1000 * 2 ** 32)).toBe(0x1005); // a major above 4095
    expect(linuxMajor(fs.statSync("/dev/null").rdev)).toBe(1);
  });

  test.each([["/dev/null"], ["/dev/zero"], ["a pipe"], ["a file"]])("stdout to %s: not a terminal, and node:tty (node:net) never loaded", (target) => {
    const out = path.resolve(__dirname, "..", "dist", "cli", "out.js");
    const script = `const {isatty}=require(${JSON.stringify(out)});const a=isatty(1);require("fs").writeSync(2,JSON.stringify({a,tty:process.moduleLoadList.includes("NativeModule tty")}))`;
    const file = path.join(tmpDir(), "out.txt");
    const stdout = target === "a pipe" ? "pipe" : fs.openSync(target === "a file" ? file : target, "w");
    const r = require("node:child_process").spawnSync(process.execPath, ["-e", script], { stdio: ["ignore", stdout, "pipe"], encoding: "utf8" });
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stderr)).toEqual({ a: false, tty: false });
  });
});
