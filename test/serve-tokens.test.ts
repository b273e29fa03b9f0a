/**
 * `token create|list|revoke` (issue 17) and the lifetimes `serve` gives: the token alone on stdout, only
 * its hash stored (mode 0600), bad input refused with one line and nothing written; a token's
 * --lifetime, capped by serve --max-lifetime, notBefore one minute back.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { execFileSync } from "node:child_process";
import { hashTree, makeStore, mtls, mtlsOk, openssl } from "./helpers/cli";
import { basic, request, startServe } from "./helpers/serve";

const store = makeStore({ name: "Token CA" });
const cli = (args: string[]) => mtlsOk(args, { cwd: store.cwd, env: store.env });

test("token create: the token alone on stdout, details on stderr, --json {name, token, expires}; only a hash stored", () => {
  const r = cli(["token", "create", "dev1", "--email", "dev1@example.com", "--ttl", "90s"]);
  expect(r.stdout).toMatch(/^[A-Za-z0-9_-]{43}\n$/);
  expect(r.stderr).toContain("dev1");
  expect(r.stderr).toContain("email:dev1@example.com");
  const j = JSON.parse(cli(["token", "create", "dev2", "--json"]).stdout);
  expect(Object.keys(j)).toEqual(["name", "token", "expires"]);
  expect(j.name).toBe("dev2");
  const left = new Date(j.expires).getTime() - Date.now();
  expect(left).toBeGreaterThan(14 * 60_000);
  expect(left).toBeLessThanOrEqual(15 * 60_000);
  const file = path.join(store.dir, "tokens.json");
  expect(fs.statSync(file).mode & 0o777).toBe(0o600);
  for (const [f] of Object.entries(hashTree(store.dir))) {
    if (f.endsWith("/")) continue;
    const text = fs.readFileSync(path.join(store.dir, f), "latin1");
    expect(text.includes(r.stdout.trim()) || text.includes(j.token)).toBe(false);
  }
  const list = JSON.parse(cli(["token", "list", "--json"]).stdout) as { name: string; state: string }[];
  expect(list.map((t) => [t.name, t.state])).toEqual([
    ["dev1", "active"],
    ["dev2", "active"],
  ]);
  expect(cli(["token", "list"]).stdout).toMatch(/^ID\s+NAME\s+KIND\s+STATE/);
  cli(["token", "revoke", "dev2"]);
  expect((JSON.parse(cli(["token", "list", "--json"]).stdout) as { name: string; state: string }[]).find((t) => t.name === "dev2")?.state).toBe("revoked");
});

test.each([
  [["token", "create", "x", "--ttl", "5q"], 3, /--ttl: "5q" is not a duration/],
  [["token", "create", "x", "--ttl", "0s"], 3, /more than zero/],
  [["token", "create", "x", "--lifetime", "1y"], 3, /--lifetime/],
  [["token", "create", "-bad name"], 2, /unknown option|name/],
  [["token", "create", "a/b"], 3, /name/],
  [["token", "create", "x", "--email", "not-an-email"], 3, /email/],
  [["token", "create", "x", "--kind", "server"], 2, /--dns or --ip/],
  [["token", "create", "x", "--kind", "ca"], 2, /choices|Allowed/],
  [["token", "revoke", "nobody"], 3, /no token/],
])("bad input %j: exit %i, one line, nothing written", (args, code, msg) => {
  const before = hashTree(store.dir);
  const r = mtls(args as string[], { cwd: store.cwd, env: store.env });
  expect(r.code).toBe(code);
  expect(r.stderr.trim().split("\n")).toHaveLength(1);
  expect(r.stderr).toMatch(msg);
  expect(r.stdout).toBe("");
  expect(hashTree(store.dir)).toEqual(before);
});

test("no store: token create exits 3", () => {
  const r = mtls(["token", "create", "x"], { cwd: store.cwd, env: { ...store.env, MTLSCTL_DIR: path.join(store.cwd, "nothing") } });
  expect(r.code).toBe(3);
  expect(r.stderr).toMatch(/no store/);
});

test("lifetimes: the token's --lifetime, capped by serve --max-lifetime; notBefore one minute back", async () => {
  cli(["server", "issue", "srv", "--dns", "localhost", "--ip", "127.0.0.1"]);
  const svc = await startServe(store.env, ["--max-lifetime", "1h"]);
  try {
    const caFile = path.join(store.dir, "ca.crt");
    const key = path.join(store.cwd, "k.pem");
    openssl(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", key]);
    const body = execFileSync("openssl", ["req", "-new", "-key", key, "-subj", "/", "-outform", "DER"]).toString("base64");
    const span = async (name: string, lifetime: string) => {
      const t = cli(["token", "create", name, "--lifetime", lifetime]).stdout.trim();
      const r = await request(svc.port, { path: "/.well-known/est/simpleenroll", caFile, body, headers: { "Content-Type": "application/pkcs10", Authorization: basic(name, t) } });
      expect(r.status).toBe(200);
      const rec = (JSON.parse(cli(["list", "--json"]).stdout) as { name: string; notBefore: string; notAfter: string }[]).find((c) => c.name === name)!;
      const now = Date.now();
      expect(now - new Date(rec.notBefore).getTime()).toBeGreaterThanOrEqual(59_000);
      expect(now - new Date(rec.notBefore).getTime()).toBeLessThan(70_000);
      return (new Date(rec.notAfter).getTime() - new Date(rec.notBefore).getTime()) / 1000;
    };
    expect(Math.abs((await span("short", "30m")) - (30 * 60 + 60))).toBeLessThanOrEqual(2);
    expect(Math.abs((await span("capped", "30d")) - (3600 + 60))).toBeLessThanOrEqual(2);
  } finally {
    await svc.stop();
  }
});

test("tokens travel in backup/restore: the restored store enrols with an unspent token once, and knows the spent one", async () => {
  const s = makeStore({ name: "Backup Token CA" });
  const run = (args: string[], env: Record<string, string> = s.env) => mtlsOk(args, { cwd: s.cwd, env });
  run(["server", "issue", "srv", "--dns", "localhost", "--ip", "127.0.0.1"]);
  const spent = run(["token", "create", "spent1"]).stdout.trim();
  const fresh = run(["token", "create", "fresh1", "--email", "fresh1@example.com"]).stdout.trim();
  const key = path.join(s.cwd, "k.pem");
  openssl(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", key]);
  const body = execFileSync("openssl", ["req", "-new", "-key", key, "-subj", "/", "-outform", "DER"]).toString("base64");
  const enrol = async (port: number, caFile: string, name: string, t: string) =>
    (await request(port, { path: "/.well-known/est/simpleenroll", caFile, body, headers: { "Content-Type": "application/pkcs10", Authorization: basic(name, t) } })).status;
  let svc = await startServe(s.env);
  try {
    expect(await enrol(svc.port, path.join(s.dir, "ca.crt"), "spent1", spent)).toBe(200);
  } finally {
    await svc.stop();
  }
  const archive = path.join(s.cwd, "s.mtlsbak");
  const pw = { MTLSCTL_BACKUP_PASSWORD: "backup-pw" };
  run(["backup", "--out", archive], { ...s.env, ...pw });
  const dir2 = path.join(s.cwd, "restored");
  const env2 = { ...s.env, ...pw, MTLSCTL_DIR: dir2 };
  run(["restore", archive], env2);
  expect(fs.statSync(path.join(dir2, "tokens.json")).mode & 0o777).toBe(0o600);
  const states = (JSON.parse(run(["token", "list", "--json"], env2).stdout) as { name: string; state: string }[]).map((t) => [t.name, t.state]);
  expect(states).toEqual([
    ["spent1", "claimed"],
    ["fresh1", "active"],
  ]);
  svc = await startServe(env2);
  try {
    const caFile = path.join(dir2, "ca.crt");
    expect(await enrol(svc.port, caFile, "fresh1", fresh)).toBe(200);
    // the restored store knows the spent token as spent (the same key would get its certificate back; a new key is refused)
    openssl(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", key]);
    const other = execFileSync("openssl", ["req", "-new", "-key", key, "-subj", "/", "-outform", "DER"]).toString("base64");
    const r = await request(svc.port, { path: "/.well-known/est/simpleenroll", caFile, body: other, headers: { "Content-Type": "application/pkcs10", Authorization: basic("spent1", spent) } });
    expect(r.status).toBe(403);
    expect(r.body.toString()).toMatch(/already used/);
  } finally {
    await svc.stop();
  }
});

describe("the Store seam's tokens (what a PostgreSQL store implements too)", () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { openFileStore } = require("../src/store/file-api") as typeof import("../src/store/file-api");
  const rec = (id: string, name: string) => ({
    id,
    name,
    hash: "00".repeat(32),
    kind: "client" as const,
    subject: `CN=${name}`,
    sans: { email: [], dns: [], uri: [], ip: [] },
    lifetimeSeconds: null,
    expectUser: null,
    createdAt: new Date().toISOString(),
    expiresAt: new Date(Date.now() + 60_000).toISOString(),
    revokedAt: null,
    claim: null,
  });

  test("putToken, findToken (by id, else the newest of the name), claimToken; tokens(); a thrown transaction leaves them as they were", async () => {
    const s = makeStore({ name: "Seam CA" });
    const st = openFileStore(s.dir);
    await st.transaction(async (tx) => {
      await tx.putToken(rec("aa01", "one"));
      await tx.putToken(rec("aa02", "one"));
      expect((await tx.findToken("one"))?.id).toBe("aa02");
      expect((await tx.findToken("aa01"))?.name).toBe("one");
    });
    expect((await st.tokens()).map((t) => t.id)).toEqual(["aa01", "aa02"]);
    const before = fs.readFileSync(path.join(s.dir, "tokens.json"), "utf8");
    await expect(
      st.transaction(async (tx) => {
        await tx.claimToken("aa01", "0123", "ff".repeat(32));
        throw new Error("refused");
      }),
    ).rejects.toThrow("refused");
    expect(fs.readFileSync(path.join(s.dir, "tokens.json"), "utf8")).toBe(before);
    await st.transaction(async (tx) => {
      const t = await tx.claimToken("aa01", "0123", "ff".repeat(32));
      expect(t.claim).toMatchObject({ serial: "0123", spkiSha256: "ff".repeat(32) });
    });
    expect((await st.tokens()).find((t) => t.id === "aa01")?.claim?.serial).toBe("0123");
    await expect(st.transaction((tx) => tx.claimToken("nope", "01", "00"))).rejects.toThrow(/no token/);
  });
});
