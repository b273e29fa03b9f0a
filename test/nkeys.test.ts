/**
 * NKey users (issue 6): `nkey create`, NKey users and permissions in `config nats`, `verify
 * --nkey-seed`, and the node/go client snippets, proved against the real nats-server 2.9.10 with
 * the deprecated npm `nats` 2.x client (nkeyAuthenticator; kept here on purpose, for users who still run it:
 * every other test connects with nats.js 3, `@nats-io/transport-node`) and nats.go built as a module.
 *
 * For every connection tried against a server, `mtlsctl verify` must agree with the server:
 * accepted or refused, and when accepted the same user (/connz?auth=true authorized_user) and
 * account. Missing tools (nats-server, go, nats.go's Debian sources) fail the tests, never skip.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as crypto from "node:crypto";
import { spawnSync } from "node:child_process";
import { connect, nkeyAuthenticator, ConnectionOptions, NatsConnection, StringCodec } from "nats";
import { goTool, hashTree, makeStore, mtls, mtlsOk, NATS_GO_VERSION, ROOT, run, tmpDir, tool, RunResult } from "./helpers/cli";
import { startNatsServer, stopAllNatsServers, NatsServer } from "./helpers/nats";
import { readInventory } from "./helpers/inventory";

jest.setTimeout(120_000);

// nkeys.js: the NATS project's NKey library (what mtlsctl uses), here only to check its output
// eslint-disable-next-line @typescript-eslint/no-require-imports
const nkeys = require("nkeys.js") as typeof import("nkeys.js");

type Store = ReturnType<typeof makeStore>;
const store: Store = makeStore({ name: "NKey Proof CA" });
const foreign: Store = makeStore({ name: "Foreign CA" });
const cli = (args: string[], s: Store = store) => mtlsOk(args, { cwd: s.cwd, env: s.env });
const cliRaw = (args: string[], s: Store = store) => mtls(args, { cwd: s.cwd, env: s.env });
const caFile = path.join(store.dir, "ca.crt");
const crt = (s: Store, name: string) => path.join(s.dir, "issued", `${name}.crt`);
const key = (s: Store, name: string) => path.join(s.dir, "private", `${name}.key`);
const seedOf = (name: string) => path.join(store.dir, "nkeys", `${name}.nk`);
const inventory = () => readInventory(store.dir);
const publicKeyOf = (name: string): string => inventory().nkeys.find((k: { name: string }) => k.name === name).publicKey;
const work = path.join(store.cwd, "work");
fs.mkdirSync(work);

// ---------------------------------------------------------------------------------------------
// the server side: connect with the npm client, read /connz?auth=true

interface Seen {
  ok: boolean;
  user: string | null;
  account: string | null;
  error: string | null;
  code: string | null;
}
interface Client {
  cert?: string; // client certificate presented at the TLS handshake
  key?: string;
  seed?: string; // NKey seed file: the client sends the nkey and signs the nonce
}

let seq = 0;
async function open(server: NatsServer, c: Client): Promise<{ nc: NatsConnection; name: string } | { error: string; code: string | null }> {
  const name = `nkeys-test-${process.pid}-${++seq}-${crypto.randomBytes(3).toString("hex")}`;
  const opts: ConnectionOptions = {
    servers: `127.0.0.1:${server.port}`,
    name,
    reconnect: false,
    maxReconnectAttempts: 0,
    timeout: 4000,
    tls: { caFile, ...(c.cert ? { certFile: c.cert, keyFile: c.key } : {}) },
  };
  if (c.seed) opts.authenticator = nkeyAuthenticator(new TextEncoder().encode(fs.readFileSync(c.seed, "utf8").trim()));
  try {
    return { nc: await connect(opts), name };
  } catch (e) {
    const err = e as { message?: string; code?: string };
    return { error: String(err?.message ?? e), code: err?.code ?? null };
  }
}

async function connz(server: NatsServer, name: string): Promise<any> {
  const res = await fetch(`http://127.0.0.1:${server.monitorPort}/connz?auth=true&limit=10000`);
  const conns: any[] = (await res.json()).connections ?? [];
  const c = conns.find((x) => x.name === name);
  if (!c) throw new Error(`connection ${name} not in /connz`);
  return c;
}

async function serverSays(server: NatsServer, c: Client): Promise<Seen> {
  const r = await open(server, c);
  if ("error" in r) return { ok: false, user: null, account: null, error: r.error, code: r.code };
  try {
    await r.nc.flush();
    const info = await connz(server, r.name);
    return { ok: true, user: info.authorized_user ?? null, account: info.account ?? null, error: null, code: null };
  } finally {
    await r.nc.close().catch(() => undefined);
  }
}

// the verifier's side
function verifySays(configFile: string, c: Client, extra: string[] = []): { r: RunResult; v: any } {
  const args = ["verify", ...(c.cert ? [c.cert] : []), ...(c.seed ? ["--nkey-seed", c.seed] : []), "--config", configFile, "--server-version", "2.9.10", "--json", ...extra];
  const r = cliRaw(args);
  let v: any = null;
  try {
    v = JSON.parse(r.stdout.trim().split("\n")[0]);
  } catch {
    /* no verdict (exit 2/3) */
  }
  return { r, v };
}

/** Runs the client against the server and through `mtlsctl verify`; they must agree. */
async function agree(server: NatsServer, c: Client, label: string): Promise<{ seen: Seen; v: any }> {
  const seen = await serverSays(server, c);
  const { r, v } = verifySays(server.configFile, c);
  const ctx = `${label}: server ${JSON.stringify(seen)}; verify exit ${r.code}: ${r.stdout}${r.stderr}`;
  if (v === null) throw new Error(`no verdict for ${ctx}`);
  const same = v.accepted === seen.ok && r.code === (seen.ok ? 0 : 1) && (!seen.ok || (v.user === seen.user && v.account === seen.account));
  if (!same) throw new Error(`verify disagrees with the server: ${ctx}`);
  // a refusal after the handshake is the server's Authorization Violation
  if (!seen.ok && v.stage === "auth" && seen.code !== "AUTHORIZATION_VIOLATION") throw new Error(`expected an Authorization Violation: ${ctx}`);
  return { seen, v };
}

// ---------------------------------------------------------------------------------------------
// the store: a server certificate, certificate users, NKey users

let randomSeed: string; // a valid user seed that no config lists
let accountSeedFile: string; // an account seed (SA...): not a user seed

beforeAll(() => {
  tool("nats-server");
  cli(["server", "issue", "nats1", "--dns", "localhost", "--ip", "127.0.0.1"]);
  cli(["client", "issue", "alice", "--email", "alice@example.com"]);
  cli(["client", "issue", "bob", "--subject", "CN=bob,O=Acme"]);
  cli(["client", "issue", "mallory", "--email", "mallory@example.com"], foreign);
  cli(["nkey", "create", "svc"]);
  cli(["nkey", "create", "ghost"]); // created, but left out of the configs below
  cli(["nkey", "create", "acct"]);
  const kp = nkeys.createUser();
  randomSeed = path.join(work, "random.nk");
  fs.writeFileSync(randomSeed, new TextDecoder().decode(kp.getSeed()) + "\n", { mode: 0o600 });
  accountSeedFile = path.join(work, "account.nk");
  fs.writeFileSync(accountSeedFile, new TextDecoder().decode(nkeys.createAccount().getSeed()) + "\n", { mode: 0o600 });
});

afterAll(async () => {
  await stopAllNatsServers();
});

describe("nkey create", () => {
  test("writes the seed alone on one line, mode 0600, records the public key, and never prints the seed", () => {
    const r = cli(["nkey", "create", "printer"]);
    const file = seedOf("printer");
    const text = fs.readFileSync(file, "utf8");
    expect(text).toMatch(/^SU[A-Z2-7]{56}\n$/);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    const seed = text.trim();
    const pub = nkeys.fromSeed(new TextEncoder().encode(seed)).getPublicKey();
    expect(pub).toMatch(/^U[A-Z2-7]{55}$/);
    const rec = inventory().nkeys.find((k: any) => k.name === "printer");
    expect(rec).toEqual({ name: "printer", publicKey: pub, createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/), seedFile: "nkeys/printer.nk" });
    expect(r.stdout).toContain(pub);
    expect(r.stdout + r.stderr).not.toContain(seed);
    // no temporary file left beside it
    expect(fs.readdirSync(path.dirname(file)).filter((f) => f.startsWith("."))).toEqual([]);
  });

  test("--json has no seed unless --show-seed", () => {
    const a = JSON.parse(cli(["nkey", "create", "j1", "--json"]).stdout);
    expect(a).toMatchObject({ name: "j1", kind: "nkey", publicKey: expect.stringMatching(/^U/) });
    expect(a.seed).toBeUndefined();
    const b = JSON.parse(cli(["nkey", "create", "j2", "--json", "--show-seed"]).stdout);
    expect(b.seed).toBe(fs.readFileSync(seedOf("j2"), "utf8").trim());
    const human = cli(["nkey", "create", "j3", "--show-seed"]).stdout;
    expect(human).toContain(fs.readFileSync(seedOf("j3"), "utf8").trim());
  });

  test("refusals: an existing NKey, a certificate's name, a bad name (exit 3, store unchanged)", () => {
    const before = hashTree(store.dir);
    for (const [args, re] of [
      [["nkey", "create", "svc"], /already exists/],
      [["nkey", "create", "alice"], /certificate is named "alice"/],
      [["nkey", "create", "nats1"], /server certificate is named "nats1"/],
      [["nkey", "create", ".hidden"], /not allowed/],
      [["nkey", "create", "a/b"], /not allowed/],
    ] as [string[], RegExp][]) {
      const r = cliRaw(args);
      expect({ args, code: r.code }).toEqual({ args, code: 3 });
      expect(r.stderr).toMatch(re);
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
    }
    expect(hashTree(store.dir)).toEqual(before);
  });

  test("--force replaces the pair", () => {
    cli(["nkey", "create", "rot"]);
    const old = publicKeyOf("rot");
    const r = cli(["nkey", "create", "rot", "--force"]);
    expect(r.stderr).toMatch(/replaced the NKey "rot"/);
    expect(publicKeyOf("rot")).not.toBe(old);
    expect(inventory().nkeys.filter((k: any) => k.name === "rot")).toHaveLength(1);
  });

  test("list and nkey list show NKeys (kind nkey); list --expiring leaves them out", () => {
    const rows = JSON.parse(cli(["list", "--json"]).stdout);
    const svc = rows.find((r: any) => r.name === "svc");
    expect(svc).toMatchObject({ kind: "nkey", natsUser: publicKeyOf("svc"), publicKey: publicKeyOf("svc"), status: "valid" });
    expect(rows.find((r: any) => r.name === "alice").kind).toBe("client");
    expect(cli(["list"]).stdout).toMatch(new RegExp(`svc\\s+nkey\\s+valid.*"${publicKeyOf("svc")}"`));
    const nk = JSON.parse(cli(["nkey", "list", "--json"]).stdout);
    expect(nk.map((r: any) => r.name)).toEqual(expect.arrayContaining(["svc", "ghost", "acct"]));
    expect(nk.every((r: any) => r.kind === "nkey" && /^U/.test(r.publicKey))).toBe(true);
    const exp = JSON.parse(cli(["list", "--json", "--expiring", "10000"]).stdout);
    expect(exp.some((r: any) => r.kind === "nkey")).toBe(false);
  });

  test("nkeys.js is loaded only on nkey code paths", () => {
    const probe = (args: string[]) => {
      const code = `require(${JSON.stringify(path.join(ROOT, "dist/cli/run.js"))}).runCli(["node","mtlsctl",...${JSON.stringify(args)}]).then((c) => { process.stdout.write("\\n@@" + c + " " + Object.keys(require.cache).some((k) => k.includes("nkeys.js"))); });`;
      const r = spawnSync(process.execPath, ["-e", code], { cwd: store.cwd, env: { ...process.env, ...store.env }, encoding: "utf8" });
      return r.stdout.split("@@").pop();
    };
    expect(probe(["list"])).toBe("0 false");
    expect(probe(["config", "nats"])).toBe("0 false");
    expect(probe(["nkey", "create", "lazy"])).toBe("0 true");
  });
});

describe("config nats: NKey users and permissions", () => {
  test("lists { nkey } entries after the certificate users, with per-user permissions for both kinds", () => {
    const r = cli(["config", "nats", "--exclude", "ghost", "--allow-pub", "foo", "--allow-pub", "orders.>", "--allow-sub", "_INBOX.>"]);
    const text = r.stdout;
    const perms = `permissions: { publish: { allow: ["foo", "orders.>"] }, subscribe: { allow: ["_INBOX.>"] } }`;
    expect(text).toContain(`{ user: "alice@example.com", ${perms} }`);
    expect(text).toContain(`{ nkey: "${publicKeyOf("svc")}", ${perms} }`);
    expect(text).not.toContain(publicKeyOf("ghost"));
    expect(text.indexOf("alice@example.com")).toBeLessThan(text.indexOf(publicKeyOf("svc")));
    for (const k of inventory().nkeys) expect(text).not.toContain(fs.readFileSync(path.join(store.dir, k.seedFile), "utf8").trim());
    const j = JSON.parse(cli(["config", "nats", "--json", "--include", "svc", "--include", "alice"]).stdout);
    expect(j.nkeys).toEqual([{ name: "svc", publicKey: publicKeyOf("svc"), createdAt: expect.any(String), account: null, permissions: null }]);
    expect(j.users.map((u: any) => u.user)).toEqual(["alice@example.com"]);
  });

  test("bad subjects are refused (exit 3) and nothing is written", () => {
    // ("a b" is a subject with a queue group, which the server accepts in subscribe permissions)
    for (const s of ["a b c", "a..b", "a.>.b", "", ".a", "a.", "x\ny"]) {
      const out = path.join(work, "bad.conf");
      const r = cliRaw(["config", "nats", "--allow-sub", s, "--out", out]);
      expect({ s, code: r.code }).toEqual({ s, code: 3 });
      expect(fs.existsSync(out)).toBe(false);
    }
  });
});

describe("verify --nkey-seed: input errors", () => {
  let conf: string;
  beforeAll(() => {
    conf = path.join(work, "plain-mixed.conf");
    cli(["config", "nats", "--out", conf, "--exclude", "ghost"]);
  });

  test("an invalid seed file is exit 3 naming the file, and the seed is never echoed", () => {
    // one data character changed: the CRC-16 no longer matches
    const corrupt = (seed: string) => seed.slice(0, 10) + (seed[10] === "A" ? "B" : "A") + seed.slice(11);
    const cases: [string, string | null][] = [
      ["empty.nk", ""],
      ["garbage.nk", "hello world\n"],
      ["checksum.nk", corrupt(fs.readFileSync(seedOf("svc"), "utf8").trim()) + "\n"],
      ["two.nk", fs.readFileSync(seedOf("svc"), "utf8") + fs.readFileSync(seedOf("acct"), "utf8")],
      ["public.nk", publicKeyOf("svc") + "\n"],
      ["missing.nk", null],
    ];
    for (const [name, content] of cases) {
      const f = path.join(work, name);
      if (content !== null) fs.writeFileSync(f, content, { mode: 0o600 });
      const r = cliRaw(["verify", crt(store, "alice"), "--nkey-seed", f, "--config", conf]);
      expect({ name, code: r.code }).toEqual({ name, code: 3 });
      expect(r.stderr).toMatch(new RegExp(`^mtlsctl: ${f.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}: `));
      expect(r.stderr).not.toContain(fs.readFileSync(seedOf("svc"), "utf8").trim());
    }
    const r = cliRaw(["verify", crt(store, "alice"), "--nkey-seed", accountSeedFile, "--config", conf]);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/account seed .*not a user seed/);
  });

  test("no certificate while the config asks for one: exit 2 naming the missing cert", () => {
    const r = cliRaw(["verify", "--nkey-seed", seedOf("svc"), "--config", conf]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/missing required argument 'cert'.*verify_and_map/);
    expect(cliRaw(["verify", "--config", conf]).code).toBe(2);
    expect(cliRaw(["verify", crt(store, "alice"), "--nkey-seed", seedOf("svc"), "--config", conf, "--connection-type", "MQTT"]).code).toBe(2);
  });

  test("allowed_connection_types applies to nkey users; a seed readable by others is warned about", () => {
    const f = path.join(work, "ws-only.conf");
    fs.writeFileSync(f, `authorization { users = [ { nkey: "${publicKeyOf("svc")}", allowed_connection_types: ["WEBSOCKET"] } ] }\n`);
    const { r, v } = verifySays(f, { seed: seedOf("svc") });
    expect(r.code).toBe(1);
    expect(v).toMatchObject({ accepted: false, stage: "auth", nkey: publicKeyOf("svc") });
    expect(v.reason).toMatch(/only on WEBSOCKET/);
    const loose = path.join(work, "loose.nk");
    fs.copyFileSync(seedOf("svc"), loose);
    fs.chmodSync(loose, 0o644);
    const l = cliRaw(["verify", "--nkey-seed", loose, "--config", f]);
    expect(l.stderr).toMatch(/readable by others/);
  });
});

describe("real nats-server 2.9.10: certificate users and NKey users from `config nats`", () => {
  let server: NatsServer;
  let snippet: string;
  beforeAll(async () => {
    snippet = path.join(work, "mixed.conf");
    cli(["config", "nats", "--exclude", "ghost", "--exclude", "acct", "--allow-pub", "foo", "--allow-sub", "foo", "--allow-sub", "_INBOX.>", "--out", snippet]);
    server = await startNatsServer(snippet);
  });
  afterAll(async () => {
    await server?.stop();
  });

  test("N1: certificate users still map when NKey users are configured", async () => {
    const a = await agree(server, { cert: crt(store, "alice"), key: key(store, "alice") }, "alice cert");
    expect(a.seen.user).toBe("alice@example.com");
    expect(a.v.matchedBy).toBe("email");
    const b = await agree(server, { cert: crt(store, "bob"), key: key(store, "bob") }, "bob cert");
    expect(b.seen.user).toBe("CN=bob,O=Acme");
  });

  test("a client sending the NKey is accepted as the NKey user (authorized_user = the public key); the certificate is not mapped", async () => {
    const r = await agree(server, { cert: crt(store, "alice"), key: key(store, "alice"), seed: seedOf("svc") }, "alice cert + svc seed");
    expect(r.seen).toMatchObject({ ok: true, user: publicKeyOf("svc"), account: null });
    expect(r.v).toMatchObject({ accepted: true, user: publicKeyOf("svc"), matchedBy: "nkey", stage: null, account: null });
    const b = await agree(server, { cert: crt(store, "bob"), key: key(store, "bob"), seed: seedOf("svc") }, "bob cert + svc seed");
    expect(b.seen.user).toBe(publicKeyOf("svc"));
  });

  test("a wrong seed is refused, with no fallback to the certificate", async () => {
    for (const [label, seed] of [
      ["ghost (in the store, not in the config)", seedOf("ghost")],
      ["a random user seed", randomSeed],
    ]) {
      const r = await agree(server, { cert: crt(store, "alice"), key: key(store, "alice"), seed }, `alice cert + ${label}`);
      expect(r.seen.ok).toBe(false);
      expect(r.seen.code).toBe("AUTHORIZATION_VIOLATION");
      expect(r.v).toMatchObject({ accepted: false, stage: "auth" });
      expect(r.v.reason).toMatch(/no fallback/);
    }
  });

  test("the TLS stage still applies: a certificate from another CA is refused even with a good seed", async () => {
    const r = await agree(server, { cert: crt(foreign, "mallory"), key: key(foreign, "mallory"), seed: seedOf("svc") }, "foreign cert + svc seed");
    expect(r.seen.ok).toBe(false);
    expect(r.v.stage).toBe("tls");
  });

  test("an NKey client without a certificate: the server refuses the handshake, verify exits 2 naming the missing cert", async () => {
    const seen = await serverSays(server, { seed: seedOf("svc") });
    expect(seen.ok).toBe(false);
    const { r } = verifySays(server.configFile, { seed: seedOf("svc") });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/missing required argument 'cert'/);
  });

  test("permissions: --allow-pub foo lets the NKey user and the certificate user publish to foo but not bar", async () => {
    for (const [label, c] of [
      ["nkey user", { cert: crt(store, "alice"), key: key(store, "alice"), seed: seedOf("svc") }],
      ["certificate user", { cert: crt(store, "alice"), key: key(store, "alice") }],
    ] as [string, Client][]) {
      const o = await open(server, c);
      if ("error" in o) throw new Error(`${label}: ${o.error}`);
      const nc = o.nc;
      try {
        const violations: { operation: string; subject: string }[] = [];
        (async () => {
          for await (const s of nc.status()) if (s.type === "error" && s.data === "PERMISSIONS_VIOLATION" && s.permissionContext) violations.push(s.permissionContext);
        })().catch(() => undefined);
        const sc = StringCodec();
        const got = new Promise<string>((resolve, reject) => {
          const t = setTimeout(() => reject(new Error(`${label}: no message on foo`)), 5000);
          nc.subscribe("foo", {
            max: 1,
            callback: (err, m) => {
              clearTimeout(t);
              if (err) reject(err);
              else resolve(sc.decode(m.data));
            },
          });
        });
        await nc.flush();
        nc.publish("foo", sc.encode("allowed"));
        expect(await got).toBe("allowed");
        nc.publish("bar", sc.encode("denied"));
        await nc.flush();
        for (let i = 0; i < 50 && !violations.length; i++) await new Promise((r) => setTimeout(r, 20));
        expect({ label, violations }).toEqual({ label, violations: [{ operation: "publish", subject: "bar" }] });
        // a subscription outside --allow-sub is refused too
        const subErr = new Promise<string>((resolve) => {
          nc.subscribe("bar", { callback: (err) => resolve(err ? String(err.code) : "no error") });
        });
        await nc.flush();
        expect(await Promise.race([subErr, new Promise<string>((r) => setTimeout(() => r("timeout"), 3000))])).toBe("PERMISSIONS_VIOLATION");
      } finally {
        await nc.close().catch(() => undefined);
      }
    }
  });

  test("the node snippet connects as the NKey user (npm nats, nkeyAuthenticator); with a wrong seed it is refused", () => {
    const url = `nats://127.0.0.1:${server.port}`;
    const file = path.join(work, "nkey-client.js");
    cli(["config", "nkey-client", "node", "svc", "--cert", "alice", "--url", url, "--out", file]);
    const text = fs.readFileSync(file, "utf8");
    expect(text).toContain("nkeyAuthenticator");
    expect(text).not.toContain(fs.readFileSync(seedOf("svc"), "utf8").trim());
    const env = { ...process.env, NODE_PATH: path.join(ROOT, "node_modules") };
    const ok = run(process.execPath, [file], { cwd: work, env });
    expect({ code: ok.code, out: ok.stdout + ok.stderr }).toEqual({ code: 0, out: expect.stringContaining(`as the NKey user ${publicKeyOf("svc")}`) });
    const bad = path.join(work, "nkey-client-ghost.js");
    cli(["config", "nkey-client", "node", "ghost", "--cert", "alice", "--url", url, "--out", bad]);
    const refused = run(process.execPath, [bad], { cwd: work, env });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/Authorization Violation/i);
  });

  test("the Go snippet builds with nats.go (modules, pinned) and connects as the NKey user; with a wrong seed it is refused", () => {
    // the machine's Go and the module proxy; the module and build caches live outside the repository
    const go = goTool();
    const goEnv = { ...process.env, GO111MODULE: "on", GOFLAGS: "-mod=mod", CGO_ENABLED: "0" };
    const url = `nats://127.0.0.1:${server.port}`;
    const built: string[] = [];
    try {
      for (const [name, expectOk] of [
        ["svc", true],
        ["ghost", false],
      ] as [string, boolean][]) {
        const dir = path.join(work, `go-${name}`);
        fs.mkdirSync(dir, { recursive: true });
        built.push(dir);
        cli(["config", "nkey-client", "go", name, "--cert", "alice", "--out", path.join(dir, "main.go")]);
        fs.writeFileSync(path.join(dir, "go.mod"), `module nkeyclient\n\ngo 1.22\n\nrequire github.com/nats-io/nats.go ${NATS_GO_VERSION}\n`);
        const gofmt = run(path.join(path.dirname(go), "gofmt"), ["-l", "main.go"], { cwd: dir });
        expect({ gofmt: gofmt.stdout + gofmt.stderr }).toEqual({ gofmt: "" });
        const b = run(go, ["build", "-o", "nkey-client", "main.go"], { cwd: dir, env: goEnv });
        if (b.code !== 0) throw new Error(`go build failed (${b.code}):\n${b.stdout}${b.stderr}`);
        const r = run(path.join(dir, "nkey-client"), [], { cwd: dir, env: { ...process.env, NATS_URL: url } });
        if (expectOk) expect({ code: r.code, out: r.stdout + r.stderr }).toEqual({ code: 0, out: `connected to ${url} as the NKey user ${publicKeyOf("svc")}\n` });
        else {
          expect(r.code).toBe(1);
          expect(r.stderr).toMatch(/authorization violation/i);
        }
      }
    } finally {
      // the build cache and the binaries are large
      for (const d of built) fs.rmSync(d, { recursive: true, force: true });
    }
  });
});

describe("real nats-server 2.9.10: NKey users only, and a server that asks for no client certificate", () => {
  test("N2: only NKey users under verify_and_map: a certificate alone is refused, the NKey is accepted", async () => {
    const snippet = path.join(work, "nkeys-only.conf");
    const r = cli(["config", "nats", "--include", "svc", "--out", snippet]);
    expect(r.stderr).toMatch(/only NKey users/);
    const server = await startNatsServer(snippet);
    try {
      const a = await agree(server, { cert: crt(store, "alice"), key: key(store, "alice") }, "N2 alice cert");
      expect(a.seen.ok).toBe(false);
      expect(a.v.reason).toMatch(/Nkey ""/);
      const b = await agree(server, { cert: crt(store, "alice"), key: key(store, "alice"), seed: seedOf("svc") }, "N2 alice cert + svc seed");
      expect(b.seen.user).toBe(publicKeyOf("svc"));
    } finally {
      await server.stop();
    }
  });

  test("no verify: the NKey alone is enough (verify needs no cert), account users too", async () => {
    const snippet = path.join(work, "no-verify.conf");
    const q = JSON.stringify;
    fs.writeFileSync(
      snippet,
      [
        `tls { cert_file: ${q(crt(store, "nats1"))}, key_file: ${q(key(store, "nats1"))}, ca_file: ${q(caFile)} }`,
        `authorization { users = [ { nkey: ${q(publicKeyOf("svc"))} }, { user: "alice@example.com" } ] }`,
        `accounts { A { users = [ { nkey: ${q(publicKeyOf("acct"))} } ] } }`,
        "",
      ].join("\n"),
    );
    const server = await startNatsServer(snippet);
    try {
      const a = await agree(server, { seed: seedOf("svc") }, "svc seed, no cert");
      expect(a.seen).toMatchObject({ ok: true, user: publicKeyOf("svc"), account: null });
      expect(a.v).toMatchObject({ file: seedOf("svc"), matchedBy: "nkey", nkey: publicKeyOf("svc") });
      const b = await agree(server, { seed: seedOf("acct") }, "acct seed, no cert");
      expect(b.seen).toMatchObject({ ok: true, user: publicKeyOf("acct"), account: "A" });
      const c = await agree(server, { seed: seedOf("ghost") }, "ghost seed, no cert");
      expect(c.seen.ok).toBe(false);
      const d = await agree(server, { seed: randomSeed }, "random seed, no cert");
      expect(d.seen.ok).toBe(false);
      // a certificate and no nkey: nothing maps it (no verify_and_map) and no user is sent
      const e = await agree(server, { cert: crt(store, "alice"), key: key(store, "alice") }, "alice cert, no nkey");
      expect(e.seen.ok).toBe(false);

      // the node snippet without --cert connects here
      const file = path.join(work, "nkey-client-nocert.js");
      const s = cliRaw(["config", "nkey-client", "node", "svc", "--url", `nats://127.0.0.1:${server.port}`, "--out", file]);
      expect(s.code).toBe(0);
      expect(s.stderr).toMatch(/no --cert/);
      const r = run(process.execPath, [file], { cwd: work, env: { ...process.env, NODE_PATH: path.join(ROOT, "node_modules") } });
      expect({ code: r.code, out: r.stdout + r.stderr }).toEqual({ code: 0, out: expect.stringContaining(`as the NKey user ${publicKeyOf("svc")}`) });
    } finally {
      await server.stop();
    }
  });
});

describe("config nkey-client: refusals", () => {
  test("unknown NKey, unknown language, a non-NATS URL, a server certificate as --cert", () => {
    const dirBefore = hashTree(store.dir);
    const cases: [string[], number, RegExp][] = [
      [["config", "nkey-client", "node", "nobody"], 3, /no NKey named "nobody"/],
      [["config", "nkey-client", "python", "svc"], 2, /node or go/],
      [["config", "nkey-client", "go", "svc", "--url", "https://x:1"], 3, /nats:\/\/ or tls:\/\//],
      [["config", "nkey-client", "go", "svc", "--url", "nats://u:p@x:1"], 3, /user or password/],
      [["config", "nkey-client", "go", "svc", "--cert", "nats1"], 3, /not a client certificate/],
      [["config", "nkey-client", "go", "svc", "--cert", "nobody"], 3, /no certificate named "nobody"/],
    ];
    for (const [args, code, re] of cases) {
      const r = cliRaw(args);
      expect({ args, code: r.code }).toEqual({ args, code });
      expect(r.stderr).toMatch(re);
    }
    expect(hashTree(store.dir)).toEqual(dirBefore);
  });

  test("paths go into the snippets as literals that read back exactly", () => {
    const { goString } = require("../src/cli/config/nkey-client") as typeof import("../src/cli/config/nkey-client");
    expect(goString('/a b/"q"\\x/é')).toBe('"/a b/\\"q\\"\\\\x/é"');
    expect(() => goString("a\nb")).toThrow(/control character/);
  });
});
