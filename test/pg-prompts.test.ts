/**
 * Issue 19: the terminal questions of `client issue`, `server issue` and `revoke` without a NAME on a
 * database store, as on a file store (test/wizard.test.ts): the store is read before any question (a
 * taken name is refused as it is typed), on a real pseudo-terminal (util-linux `script`) and a real
 * PostgreSQL. Without a terminal: exit 2 naming what is missing, nothing written.
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { execFileSync } from "node:child_process";
import { BIN, makeStore, mtls, mtlsOk, tmpDir, tool } from "./helpers/cli";
import { dropAll, freshDbUrl, pgBase } from "./helpers/pg";

jest.setTimeout(120_000);
beforeAll(() => pgBase());
afterAll(() => dropAll());

const ENTER = "\r";
const DOWN = "\x1b[B";
const BACKSPACE = "\x7f";
const stripAnsi = (s: string) => s.replace(/\x1b\[[0-9;?]*[ -/]*[@-~]/g, "").replace(/\x1b[()][0-9A-B]/g, "");
const psql = (url: string, sql: string): string => execFileSync("psql", [url, "-qAtc", sql], { encoding: "utf8", env: process.env }).trim();

/** Runs mtlsctl on a new pseudo-terminal, answering each prompt (expect) in turn (send). */
function onPty(argv: string[], steps: { expect: RegExp; send: string }[], o: { cwd: string; env: Record<string, string | undefined> }): Promise<{ code: number; text: string; missed: string | null }> {
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  const cmd = "stty cols 160 rows 50; exec " + [process.execPath, BIN, ...argv].map(q).join(" ");
  const env: Record<string, string | undefined> = { ...process.env, MTLSCTL_PASSPHRASE: "", MTLSCTL_DIR: undefined, NO_COLOR: undefined, TERM: "xterm", ...o.env };
  for (const k of Object.keys(env)) if (env[k] === undefined) delete env[k];
  return new Promise((resolve, reject) => {
    const child = spawn(tool("script"), ["-qec", cmd, "/dev/null"], { cwd: o.cwd, env: env as NodeJS.ProcessEnv, stdio: ["pipe", "pipe", "pipe"] });
    let out = "";
    let from = 0;
    let i = 0;
    let busy = false;
    const advance = () => {
      if (busy || i >= steps.length) return;
      const m = steps[i].expect.exec(stripAnsi(out).slice(from));
      if (!m) return;
      from += m.index + m[0].length;
      const send = steps[i++].send;
      busy = true;
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
      resolve({ code: code ?? -1, text: stripAnsi(out), missed: i < steps.length ? String(steps[i].expect) : null });
    });
  });
}

function dbStore() {
  const s = makeStore({ name: "Prompt CA" });
  mtlsOk(["client", "issue", "carol", "--email", "carol@example.com"], s);
  mtlsOk(["client", "issue", "frank", "--email", "frank@example.com"], s);
  const url = freshDbUrl();
  mtlsOk(["store", "copy", "--from", s.dir, "--to", url], s);
  const cwd = tmpDir();
  return { url, cwd, env: { MTLSCTL_DB: url, PGPASSFILE: process.env.PGPASSFILE } };
}
const row = (url: string, name: string) => psql(url, `SELECT record FROM certificates WHERE name = '${name}' ORDER BY seq DESC LIMIT 1`);

describe("the terminal questions on a database store", () => {
  test("client issue --db with no NAME: a taken name is refused as it is typed, then the key type, the SAN, the passphrase; key and certificate to --out-dir", async () => {
    const { url, cwd, env } = dbStore();
    const r = await onPty(
      ["client", "issue", "--out-dir", cwd],
      [
        { expect: /Client name/, send: "carol" + ENTER },
        { expect: /already exists/, send: BACKSPACE.repeat(5) + "bob" + ENTER },
        { expect: /Key type[\s\S]*ed25519/, send: DOWN.repeat(5) + ENTER }, // ed25519
        { expect: /How should nats-server know "bob"\?/, send: DOWN + ENTER }, // uri
        { expect: /URI\(s\) for bob:/, send: "spiffe://example.org/bob" + ENTER },
        { expect: /CA passphrase:/, send: "test-pass" + ENTER },
      ],
      { cwd, env },
    );
    expect(r.missed).toBeNull();
    expect(r.code).toBe(0);
    const bob = JSON.parse(row(url, "bob"));
    expect(bob).toMatchObject({ kind: "client", keyType: "ed25519", sans: { email: [], dns: [], uri: ["spiffe://example.org/bob"], ip: [] } });
    expect(fs.existsSync(path.join(cwd, "bob.key")) && fs.existsSync(path.join(cwd, "bob.crt"))).toBe(true);
  });

  test("server issue --db with no NAME and no --dns/--ip: the name, DNS names and IP addresses asked for", async () => {
    const { url, cwd, env } = dbStore();
    const r = await onPty(
      ["server", "issue", "--out-dir", cwd],
      [
        { expect: /Server name/, send: "nats1" + ENTER },
        { expect: /DNS names/, send: "nats1.example.com" + ENTER },
        { expect: /IP addresses/, send: "10.0.0.7" + ENTER },
      ],
      { cwd, env: { ...env, MTLSCTL_PASSPHRASE: "test-pass" } },
    );
    expect(r.missed).toBeNull();
    expect(r.code).toBe(0);
    expect(JSON.parse(row(url, "nats1")).sans).toEqual({ email: [], dns: ["nats1.example.com"], uri: [], ip: ["10.0.0.7"] });
  });

  test("revoke --db with no NAME: choose among the valid certificates, the reason, confirm; answering no changes nothing", async () => {
    const { url, cwd, env } = dbStore();
    const no = await onPty(["revoke", "--reason", "superseded"], [{ expect: /Revoke which certificate\?/, send: ENTER }, { expect: /Revoke "carol" \(superseded\)\?/, send: "n" + ENTER }], { cwd, env: { ...env, MTLSCTL_PASSPHRASE: "test-pass" } });
    expect(no.missed).toBeNull();
    expect(no.code).toBe(2);
    expect(psql(url, "SELECT count(*) FROM certificates WHERE status = 'revoked'")).toBe("0");
    const r = await onPty(
      ["revoke"],
      [
        { expect: /Revoke which certificate\?[\s\S]*frank/, send: DOWN + ENTER }, // frank
        { expect: /Reason/, send: DOWN + ENTER }, // keyCompromise
        { expect: /Revoke "frank" \(keyCompromise\)\?/, send: "y" + ENTER },
      ],
      { cwd, env: { ...env, MTLSCTL_PASSPHRASE: "test-pass" } },
    );
    expect(r.missed).toBeNull();
    expect(r.code).toBe(0);
    expect(JSON.parse(row(url, "frank"))).toMatchObject({ status: "revoked", revocationReason: "keyCompromise" });
    expect(JSON.parse(row(url, "carol")).status).toBe("valid");
  });

  test("without a terminal: exit 2 naming what is missing, one line, nothing written (the file store's messages)", () => {
    const { url, cwd, env } = dbStore();
    const before = psql(url, "SELECT count(*) || ' ' || (SELECT count(*) FROM audit_events) FROM certificates");
    for (const [args, msg] of [
      [["client", "issue"], /missing required argument 'name': give client issue NAME/],
      [["server", "issue"], /missing required argument 'name': give server issue NAME/],
      [["server", "issue", "nats9"], /--dns or --ip/],
      [["revoke"], /a name or --serial HEX/],
    ] as [string[], RegExp][]) {
      const r = mtls(args, { cwd, env: { ...env, MTLSCTL_PASSPHRASE: undefined } });
      expect([args.join(" "), r.code]).toEqual([args.join(" "), 2]);
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
      expect(r.stderr).toMatch(msg);
    }
    expect(psql(url, "SELECT count(*) || ' ' || (SELECT count(*) FROM audit_events) FROM certificates")).toBe(before);
    expect(fs.readdirSync(cwd)).toEqual([]);
  });
});
