/**
 * Accounts and permissions (issue 10): `client issue/sign --account --allow-pub ...`, `client set`,
 * `nkey create/set --account`, the bulk columns, `config nats` writing accounts {}, and
 * `explain`/`verify` reporting the account and permissions the server binds, with
 * `--publish`/`--subscribe` answers. Proved against real nats-servers with the nats.js 3
 * client (`@nats-io/transport-node`): each client lands in its account (/connz?auth=true), another account does not
 * see its messages, and every publish or subscribe `explain` calls denied is refused by the server
 * (and every one it calls allowed goes through). A table of subjects x permission sets checks the
 * subject matcher against the server in one run. Both server-backed blocks run in full on every
 * server of the matrix (Debian's 2.9.10 and scripts/nats-versions.txt), one server at a time, each
 * stopped after its version's block, `explain`/`verify` told that version (about 7 s a version on
 * 2 cores). Missing tools fail the tests, never skip.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as crypto from "node:crypto";
import { connect, ConnectionOptions, errors, NatsConnection, nkeyAuthenticator } from "@nats-io/transport-node";
import { spawnSync } from "node:child_process";
import { makeStore, mtls, mtlsOk, RunResult } from "./helpers/cli";
import { startNatsServer, stopAllNatsServers, NatsServer, natsServerMatrix } from "./helpers/nats";
import { readServerConfig } from "../src/nats/conf/server-config";
import { boundPermissions, checkPublish, checkSubscribe, subjectMatches, subjectIsSubset, BoundPermissions } from "../src/nats/permissions";
import { readInventory, inventoryText } from "./helpers/inventory";

jest.setTimeout(180_000);

type Store = ReturnType<typeof makeStore>;
const store: Store = makeStore({ name: "Accounts Proof CA" });
const cli = (args: string[]) => mtlsOk(args, { cwd: store.cwd, env: store.env });
const cliRaw = (args: string[]) => mtls(args, { cwd: store.cwd, env: store.env });
const caFile = path.join(store.dir, "ca.crt");
const crt = (name: string) => path.join(store.dir, "issued", `${name}.crt`);
const key = (name: string) => path.join(store.dir, "private", `${name}.key`);
const inventory = () => readInventory(store.dir);
const recordOf = (name: string) => inventory().certificates.filter((c: { name: string }) => c.name === name).pop();
const work = path.join(store.cwd, "work");
fs.mkdirSync(work);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const WEIRD = "A.b-c@x$y"; // an account name that must be quoted in the config

afterAll(async () => {
  await stopAllNatsServers();
});

// ---------------------------------------------------------------------------------------------
// connections

let seq = 0;
interface Conn {
  nc: NatsConnection;
  name: string;
  /** Async publish violations the server reported (nats.js status events). */
  violations: { operation: string; subject: string }[];
}
async function open(server: NatsServer, o: { cert?: string; key?: string; user?: string; pass?: string; tls?: boolean; seedFile?: string }): Promise<Conn> {
  const name = `acct-test-${process.pid}-${++seq}-${crypto.randomBytes(3).toString("hex")}`;
  const opts: ConnectionOptions = { servers: `127.0.0.1:${server.port}`, name, reconnect: false, maxReconnectAttempts: 0, timeout: 5000 };
  if (o.tls !== false) opts.tls = { caFile, ...(o.cert ? { certFile: o.cert, keyFile: o.key } : {}) };
  if (o.user !== undefined) Object.assign(opts, { user: o.user, pass: o.pass });
  if (o.seedFile) opts.authenticator = nkeyAuthenticator(new TextEncoder().encode(fs.readFileSync(o.seedFile, "utf8").trim()));
  const nc = await connect(opts);
  const violations: Conn["violations"] = [];
  (async () => {
    // nats.js 3: a refused PUB/SUB arrives as a status carrying a PermissionViolationError (operation, subject)
    for await (const s of nc.status()) if (s.type === "error" && s.error instanceof errors.PermissionViolationError) violations.push({ operation: s.error.operation, subject: s.error.subject });
  })().catch(() => undefined);
  return { nc, name, violations };
}
const asClient = (server: NatsServer, name: string) => open(server, { cert: crt(name), key: key(name) });

async function connzOf(server: NatsServer, name: string): Promise<{ authorized_user?: string; account?: string }> {
  const res = await fetch(`http://127.0.0.1:${server.monitorPort}/connz?auth=true&limit=10000`);
  const c = ((await res.json()).connections ?? []).find((x: { name: string }) => x.name === name);
  if (!c) throw new Error(`connection ${name} not in /connz`);
  return c;
}

/** Publishes each subject, then reports which ones the server refused (async errors). */
async function publishes(c: Conn, subjects: string[]): Promise<Record<string, boolean>> {
  const before = c.violations.length;
  for (const s of subjects) c.nc.publish(s, s);
  await c.nc.flush();
  await c.nc.flush(); // the -ERR of a refused PUB precedes the PONG; a second round trip for margin
  await sleep(50);
  const refused = new Set(c.violations.slice(before).filter((v) => v.operation === "publish").map((v) => v.subject));
  return Object.fromEntries(subjects.map((s) => [s, !refused.has(s)]));
}

/** Subscribes (optionally in a queue group) and reports whether the server refused it. */
async function subscribes(c: Conn, subject: string, queue: string | null = null): Promise<boolean> {
  const err = new Promise<string>((resolve) => {
    c.nc.subscribe(subject, { ...(queue ? { queue } : {}), callback: (e) => resolve(e ? (e instanceof errors.PermissionViolationError ? "PERMISSIONS_VIOLATION" : String(e)) : "message") });
  });
  await c.nc.flush();
  await c.nc.flush();
  const r = await Promise.race([err, sleep(150).then(() => "none")]);
  if (r !== "none" && r !== "PERMISSIONS_VIOLATION") throw new Error(`subscribe ${subject}: unexpected ${r}`);
  return r !== "PERMISSIONS_VIOLATION";
}

// ---------------------------------------------------------------------------------------------
// the store and the snippet

const MATRIX = natsServerMatrix();

function explain(name: string, configFile: string, version: string, extra: string[]): { r: RunResult; j: any } {
  const r = cliRaw(["explain", crt(name), "--config", configFile, "--server-version", version, "--json", ...extra]);
  let j: any = null;
  try {
    j = JSON.parse(r.stdout);
  } catch {
    /* no JSON */
  }
  return { r, j };
}

describe("issue, bulk, set: the account and permissions are stored with the user", () => {
  beforeAll(() => {
    cli(["server", "issue", "nats1", "--dns", "localhost", "--ip", "127.0.0.1"]);
    cli(["client", "issue", "alice", "--email", "alice@example.com", "--account", "ORDERS", "--allow-pub", "orders.>", "--deny-pub", "orders.admin", "--allow-sub", "orders.>", "--allow-sub", "_INBOX.>", "--deny-sub", "orders.secret"]);
    cli(["client", "issue", "dave", "--account", "ORDERS"]);
    cli(["client", "issue", "bob", "--email", "bob@example.com", "--account", "BILLING"]);
    cli(["client", "issue", "carol"]);
    // bulk: an account column and permission columns; --account is the default for rows without one
    fs.writeFileSync(path.join(work, "users.csv"), "name,account,allow_pub,deny_sub\nerin,,erin.>;shared.x,\nfrank,BILLING,,billing.secret\n");
    cli(["client", "issue", "--from", path.join(work, "users.csv"), "--account", "ORDERS"]);
    // a CSR signed on the CA with an account
    cli(["client", "csr", "gina", "--out-dir", work]);
    cli(["client", "sign", path.join(work, "gina.csr"), "--account", WEIRD, "--allow-responses", "--allow-sub", "svc.>"]);
  });

  test("the inventory records them; bulk records match the general path's layout", () => {
    expect(recordOf("alice")).toMatchObject({ account: "ORDERS", permissions: { publish: { allow: ["orders.>"], deny: ["orders.admin"] }, subscribe: { allow: ["orders.>", "_INBOX.>"], deny: ["orders.secret"] } } });
    expect(recordOf("carol").account).toBeUndefined();
    expect(recordOf("erin")).toMatchObject({ account: "ORDERS", permissions: { publish: { allow: ["erin.>", "shared.x"] } } });
    expect(recordOf("frank")).toMatchObject({ account: "BILLING", permissions: { subscribe: { deny: ["billing.secret"] } } });
    expect(recordOf("gina")).toMatchObject({ account: WEIRD, permissions: { subscribe: { allow: ["svc.>"] }, allowResponses: true } });
    // list --json shows them too
    const list = JSON.parse(cli(["list", "--json"]).stdout);
    expect(list.find((c: any) => c.name === "alice")).toMatchObject({ account: "ORDERS", permissions: { publish: { deny: ["orders.admin"] } } });
    expect(list.find((c: any) => c.name === "carol")).toMatchObject({ account: null, permissions: null });
    // the inventory is still exactly JSON.stringify's layout (bulk appends text)
    const text = inventoryText(store.dir);
    expect(text).toBe(JSON.stringify(JSON.parse(text), null, 2) + "\n");
  });

  test("renew keeps them; client set changes them without reissuing; --no-account / --no-permissions clear them", () => {
    const serial = recordOf("dave").serial;
    cli(["renew", "dave"]);
    expect(recordOf("dave")).toMatchObject({ account: "ORDERS" });
    expect(recordOf("dave").serial).not.toBe(serial);
    cli(["client", "issue", "dave", "--force"]); // a reissue without --account keeps it
    expect(recordOf("dave")).toMatchObject({ account: "ORDERS" });
    const r = JSON.parse(cli(["client", "set", "carol", "--account", "TMP", "--allow-pub", "x", "--json"]).stdout);
    expect(r).toMatchObject({ name: "carol", account: "TMP", permissions: { publish: { allow: ["x"] } }, before: { account: null, permissions: null } });
    cli(["client", "set", "carol", "--no-account", "--no-permissions"]);
    expect(recordOf("carol").account).toBeUndefined();
    expect(recordOf("carol").permissions).toBeUndefined();
  });

  test("bad input: exit 3 with one line, nothing changed; usage errors exit 2", () => {
    const before = inventoryText(store.dir);
    for (const [args, msg] of [
      [["client", "set", "alice", "--account", "$G"], /global account/],
      [["client", "set", "alice", "--account", "$SYS"], /system account/],
      [["client", "set", "alice", "--account", "a b"], /not an account name/],
      [["client", "set", "alice", "--allow-pub", "a..b"], /--allow-pub "a\.\.b" is not a valid NATS subject/],
      [["client", "set", "alice", "--deny-sub", "a.>.b"], /not a valid NATS subject/],
      [["client", "set", "nobody", "--account", "X"], /no client certificate named "nobody"/],
      [["client", "issue", "zed", "--account", "bad\"name"], /not an account name/],
      [["explain", crt("alice"), "--config", "nope.conf", "--publish", "a..b"], /--publish "a\.\.b"/],
    ] as [string[], RegExp][]) {
      const r = cliRaw(args);
      expect({ args, code: r.code }).toEqual({ args, code: 3 });
      expect(r.stderr).toMatch(/^mtlsctl: /);
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
      expect(r.stderr).toMatch(msg);
    }
    const u = cliRaw(["client", "set", "alice"]);
    expect(u.code).toBe(2);
    expect(u.stderr).toMatch(/nothing to change/);
    expect(cliRaw(["explain", crt("alice"), "--publish", "x"]).code).toBe(2);
    expect(inventoryText(store.dir)).toBe(before);
    expect(fs.existsSync(crt("zed"))).toBe(false);
  });
});

describe.each(MATRIX)("real nats-server $version: accounts and permissions from `config nats`", ({ version, bin }) => {
  let server: NatsServer;
  let snippet: string;
  beforeAll(async () => {
    // the store is shared by every version's block: the NKey user is made once
    if (!fs.existsSync(path.join(store.dir, "nkeys", "svc.nk"))) cli(["nkey", "create", "svc", "--account", "ORDERS", "--allow-sub", "orders.>"]);
    snippet = path.join(work, `mtls-${version}.conf`);
    cli(["config", "nats", "--out", snippet]);
    server = await startNatsServer(snippet, { bin });
  });
  afterAll(async () => {
    await server?.stop(); // one server at a time
  });

  test("the snippet: global users in authorization, the others in quoted accounts {}, each user once", () => {
    const text = fs.readFileSync(snippet, "utf8");
    expect(text).toMatch(/authorization \{\n {2}users = \[\n[^\]]*\{ user: "CN=carol" \}/);
    expect(text).toContain(`  "${WEIRD}" {\n    users = [`);
    expect(text).toMatch(/"ORDERS" \{\n {4}users = \[[\s\S]*\{ user: "alice@example.com", permissions: \{ publish: \{ allow: \["orders.>"\], deny: \["orders.admin"\] \}, subscribe: \{ allow: \["orders.>", "_INBOX.>"\], deny: \["orders.secret"\] \} \} \}/);
    expect(text).toContain('permissions: { subscribe: { allow: ["svc.>"] }, allow_responses: true } }');
    const j = JSON.parse(cli(["config", "nats", "--json"]).stdout);
    expect(j.accounts.map((a: { name: string }) => a.name)).toEqual([WEIRD, "BILLING", "ORDERS"]);
    expect(j.accounts.find((a: { name: string }) => a.name === "ORDERS").users).toEqual(["alice", "dave", "erin", "svc"]);
    expect(j.users.find((u: { name: string }) => u.name === "carol")).toMatchObject({ account: null, permissions: null });
  });

  test("every client lands in its account (/connz?auth=true), as verify --json says", async () => {
    const expected: Record<string, string | null> = { alice: "ORDERS", dave: "ORDERS", erin: "ORDERS", bob: "BILLING", frank: "BILLING", gina: WEIRD, carol: null };
    for (const [name, account] of Object.entries(expected)) {
      const c = name === "gina" ? await open(server, { cert: crt(name), key: path.join(work, "gina.key") }) : await asClient(server, name);
      try {
        await c.nc.flush();
        const seen = await connzOf(server, c.name);
        const v = JSON.parse(cli(["verify", crt(name), "--config", server.configFile, "--server-version", version, "--json"]).stdout);
        // /connz names the global account "$G" (or leaves it out); the verdict's contract says null
        const seenAccount = seen.account === undefined || seen.account === "$G" ? null : seen.account;
        expect({ name, server: { user: seen.authorized_user, account: seenAccount } }).toEqual({ name, server: { user: v.user, account } });
        expect(v.account).toBe(account);
      } finally {
        await c.nc.close();
      }
    }
  });

  test("accounts are isolated: dave (ORDERS) reaches alice, bob (BILLING) and carol (global) do not", async () => {
    const alice = await asClient(server, "alice");
    const got: string[] = [];
    alice.nc.subscribe("orders.new", { callback: (_e, m) => void got.push(m.string()) });
    await alice.nc.flush();
    try {
      for (const name of ["dave", "bob", "carol"]) {
        const c = await asClient(server, name);
        c.nc.publish("orders.new", `from ${name}`);
        await c.nc.flush();
        await c.nc.close();
      }
      await sleep(300);
      await alice.nc.flush();
      expect(got).toEqual(["from dave"]);
    } finally {
      await alice.nc.close();
    }
  });

  test("publish: the server refuses exactly what explain --publish calls denied", async () => {
    const subjects = ["orders.new", "orders.admin", "orders", "billing.x", "orders.a.b", "_INBOX.x"];
    const { r, j } = explain("alice", server.configFile, version, subjects.flatMap((s) => ["--publish", s]));
    expect(r.code).toBe(1); // some are denied
    expect(j.verdict.permissions).toMatchObject({ source: "user", publish: { allow: ["orders.>"], deny: ["orders.admin"] } });
    const predicted = Object.fromEntries(j.verdict.access.map((a: { subject: string; allowed: boolean }) => [a.subject, a.allowed]));
    expect(predicted).toEqual({ "orders.new": true, "orders.admin": false, orders: false, "billing.x": false, "orders.a.b": true, "_INBOX.x": false });
    expect(j.verdict.access.find((a: { subject: string }) => a.subject === "orders.admin").rule).toMatch(/denied by publish deny "orders.admin"/);
    const c = await asClient(server, "alice");
    try {
      expect(await publishes(c, subjects)).toEqual(predicted);
    } finally {
      await c.nc.close();
    }
    // a permitted publish goes through to a subscriber in the same account
    const dave = await asClient(server, "dave");
    const a2 = await asClient(server, "alice");
    try {
      const got = new Promise<string>((resolve) => dave.nc.subscribe("orders.a.b", { max: 1, callback: (_e, m) => resolve(m.string()) }));
      await dave.nc.flush();
      a2.nc.publish("orders.a.b", "hello");
      expect(await Promise.race([got, sleep(3000).then(() => "timeout")])).toBe("hello");
    } finally {
      await dave.nc.close();
      await a2.nc.close();
    }
    // all allowed: exit 0; the human output names the rule
    const ok = cliRaw(["explain", crt("alice"), "--config", server.configFile, "--server-version", version, "--publish", "orders.new"]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/publish "orders\.new": ALLOWED — allowed by publish allow "orders\.>"/);
  });

  test("subscribe: likewise, including the deny filter on a wildcard subscription", async () => {
    const questions: [string, string | null][] = [
      ["orders.secret", null],
      ["orders.>", null],
      ["orders.*", null],
      ["billing.x", null],
      ["_INBOX.abc", null],
      ["orders.x", "workers"],
    ];
    const { j } = explain("alice", server.configFile, version, questions.flatMap(([s, q]) => ["--subscribe", q ? `${s} ${q}` : s]));
    const predicted = j.verdict.access.map((a: { allowed: boolean }) => a.allowed);
    expect(predicted).toEqual([false, true, true, false, true, true]);
    expect(j.verdict.access[1].notes.join(" ")).toMatch(/messages on "orders.secret" are not delivered/);
    const c = await asClient(server, "alice");
    try {
      const seen: boolean[] = [];
      for (const [s, q] of questions) seen.push(await subscribes(c, s, q));
      expect(seen).toEqual(predicted);
    } finally {
      await c.nc.close();
    }
  });

  test("the NKey user lands in its account with its permissions, as verify --nkey-seed says", async () => {
    const seed = path.join(store.dir, "nkeys", "svc.nk");
    const pub = inventory().nkeys.find((k: { name: string }) => k.name === "svc").publicKey;
    const r = cliRaw(["verify", crt("carol"), "--nkey-seed", seed, "--config", server.configFile, "--server-version", version, "--subscribe", "billing.x", "--subscribe", "orders.x", "--json"]);
    expect(r.code).toBe(1); // billing.x is denied
    const v = JSON.parse(r.stdout.trim().split("\n")[0]);
    expect(v).toMatchObject({ accepted: true, user: pub, account: "ORDERS", matchedBy: "nkey", permissions: { subscribe: { allow: ["orders.>"], deny: [] }, source: "user" } });
    expect(v.access.map((a: { allowed: boolean }) => a.allowed)).toEqual([false, true]);
    const c = await open(server, { cert: crt("carol"), key: key("carol"), seedFile: seed });
    try {
      await c.nc.flush();
      const seen = await connzOf(server, c.name);
      expect({ user: seen.authorized_user, account: seen.account }).toEqual({ user: pub, account: "ORDERS" });
      expect([await subscribes(c, "billing.x"), await subscribes(c, "orders.x")]).toEqual([false, true]);
    } finally {
      await c.nc.close();
    }
  });
});

// ---------------------------------------------------------------------------------------------
// the matcher against the server: many subjects x permission sets, one server run

const SETS: Record<string, string> = {
  p1: `permissions: { publish: { allow: ["foo.*"] } }`,
  p2: `permissions: { publish: { allow: ["foo.>"], deny: ["foo.secret", "foo.*.baz"] } }`,
  p3: `permissions: { publish: "foo" }`,
  p4: `permissions: { publish: { allow: ["*.bar", "a.>"], deny: "a.b.c" } }`,
  p5: `permissions: { publish: { deny: [">"] } }`,
  p6: `permissions: { allow_responses: true }`,
  p7: `permissions: { pub: { allow: ["*"] }, sub: { allow: [">"], deny: ["*.secret"] } }`,
  s1: `permissions: { subscribe: { allow: ["foo.*"] } }`,
  s2: `permissions: { subscribe: { allow: ["foo.>"], deny: ["foo.secret"] } }`,
  s3: `permissions: { subscribe: { allow: ["foo q1", "bar"] } }`,
  s4: `permissions: { subscribe: { deny: ["foo.*", "bar q2"] } }`,
  s5: `permissions: { subscribe: { allow: [] } }`,
  d0: ``, // authorization default_permissions
  a0: ``, // its account's default_permissions
  a1: `permissions: { publish: "x" }`, // own permissions replace the account default
};
const PUB_SUBJECTS = ["foo", "foo.bar", "foo.secret", "foo.x.baz", "foo.bar.baz", "bar", "x.bar", "a", "a.b", "a.b.c", "a.b.c.d", "dflt.x", "acct.x", "x", "_GR_.x", "z"];
const SUB_SUBJECTS: [string, string | null][] = [
  ["foo", null],
  ["foo.bar", null],
  ["foo.secret", null],
  ["foo.*", null],
  ["foo.>", null],
  ["foo.a.b", null],
  [">", null],
  ["x.secret", null],
  ["bar", null],
  ["foo", "q1"],
  ["foo", "q2"],
  ["bar", "q2"],
  ["bar", "q3"],
  ["dflt.sub", null],
  ["acct.y", null],
];

describe.each(MATRIX)("real nats-server $version: the subject matcher, subjects x permission sets", ({ version, bin }) => {
  let server: NatsServer;
  let bound: Record<string, BoundPermissions | null>;
  beforeAll(async () => {
    const users = Object.entries(SETS).filter(([u]) => !u.startsWith("a"));
    const conf = [
      `authorization {`,
      `  default_permissions: { publish: { allow: "dflt.>" }, subscribe: { allow: ["dflt.>"] } }`,
      `  users = [`,
      ...users.map(([u, p]) => `    { user: ${u}, password: pw${p ? `, ${p}` : ""} }`),
      `  ]`,
      `}`,
      `accounts {`,
      `  ACC {`,
      `    default_permissions: { publish: "acct.>", subscribe: { deny: ["foo.>"] } }`,
      `    users = [ { user: a0, password: pw }, { user: a1, password: pw, ${SETS.a1} } ]`,
      `  }`,
      `}`,
      ``,
    ].join("\n");
    const file = path.join(work, `matrix-${version}.conf`);
    fs.writeFileSync(file, conf);
    server = await startNatsServer(file, { bin });
    const cfg = readServerConfig(server.configFile, process.env, { cwd: server.dir, serverVersion: version });
    bound = {};
    for (const u of Object.keys(SETS)) {
      const cu = cfg.users.find((x) => x.user === u)!;
      const acc = cfg.accounts.find((a) => a.name === cu.account);
      bound[u] = boundPermissions(cu.permissions, acc?.defaultPermissions, cfg.authorization?.defaultPermissions, cu.account !== null);
    }
  });
  afterAll(async () => {
    await server?.stop(); // one server at a time
  });

  test("publish: every (user, subject) as the server decides", async () => {
    const mismatches: string[] = [];
    let denied = 0;
    for (const u of Object.keys(SETS)) {
      const c = await open(server, { user: u, pass: "pw", tls: false });
      try {
        const seen = await publishes(c, PUB_SUBJECTS);
        for (const s of PUB_SUBJECTS) {
          const p = checkPublish(bound[u], s);
          if (!p.allowed) denied++;
          if (p.allowed !== seen[s]) mismatches.push(`${u} publish ${s}: predicted ${p.allowed} (${p.rule}), server ${seen[s]}`);
        }
      } finally {
        await c.nc.close();
      }
    }
    expect(mismatches).toEqual([]);
    expect(denied).toBeGreaterThan(50); // the table exercises refusals, not only passes
  });

  test("subscribe: every (user, subject, queue) as the server decides", async () => {
    const mismatches: string[] = [];
    let denied = 0;
    // one connection per user, all at once; on each, one subscription at a time
    await Promise.all(
      Object.keys(SETS).map(async (u) => {
        const c = await open(server, { user: u, pass: "pw", tls: false });
        try {
          for (const [s, q] of SUB_SUBJECTS) {
            const p = checkSubscribe(bound[u], s, q);
            if (!p.allowed) denied++;
            const seen = await subscribes(c, s, q);
            if (p.allowed !== seen) mismatches.push(`${u} subscribe ${s}${q ? ` ${q}` : ""}: predicted ${p.allowed} (${p.rule}), server ${seen}`);
          }
        } finally {
          await c.nc.close();
        }
      }),
    );
    expect(mismatches).toEqual([]);
    expect(denied).toBeGreaterThan(40);
  });

  test("sources: own, account default, authorization default (never merged)", () => {
    expect(bound.d0?.source).toBe("authorization default_permissions");
    expect(bound.a0?.source).toBe("account default_permissions");
    expect(bound.a1).toMatchObject({ source: "user", subscribe: null });
    expect(bound.p6?.publish).toEqual({ allow: [], deny: [] }); // allow_responses closes publishing
    expect(bound.s5).toMatchObject({ subscribe: null }); // allow: [] is no list at all
  });
});

describe("the matcher's own rules (sublist semantics)", () => {
  test.each([
    ["foo.*", "foo.bar", true],
    ["foo.*", "foo.bar.baz", false],
    ["foo.>", "foo", false],
    ["foo.>", "foo.a.b", true],
    [">", "a", true],
    ["*", "a.b", false],
    ["foo.*", "foo.>", true], // the subject's ">" is one literal token to a "*"
    ["foo.bar", "foo.*", false],
    ["*.*", "a.b", true],
  ])("%s matches %s: %s", (p, s, want) => expect(subjectMatches(p, s)).toBe(want));
  test.each([
    ["foo.secret", "foo.>", true],
    ["foo.secret", "foo.*", true],
    ["foo.*", "foo.>", true],
    ["foo.>", "foo.*", false],
    ["bar", "foo.>", false],
  ])("%s is within %s: %s", (a, b, want) => expect(subjectIsSubset(a, b)).toBe(want));
});

describe("config nats: a user string claimed by two clients in different accounts", () => {
  test("is listed once, with the first client's account, a warning, and a config every server of the matrix accepts", () => {
    const s = makeStore({ name: "Dup CA" });
    const run = (args: string[]) => mtlsOk(args, { cwd: s.cwd, env: s.env });
    run(["server", "issue", "n1", "--dns", "localhost"]);
    run(["client", "issue", "a1", "--email", "ops@example.com", "--account", "ONE"]);
    run(["client", "issue", "a2", "--email", "ops@example.com", "--account", "TWO"]);
    const out = path.join(s.cwd, "dup.conf");
    const r = run(["config", "nats", "--out", out]);
    expect(r.stderr).toMatch(/a2 maps to the same user as a1 \("ops@example.com"\): listed once, with a1's account and permissions/);
    const text = fs.readFileSync(out, "utf8");
    expect(text.split('{ user: "ops@example.com"').length - 1).toBe(1);
    expect(text).toContain('"ONE" {');
    expect(text).not.toContain('"TWO" {');
    fs.writeFileSync(path.join(s.cwd, "main.conf"), `listen: 127.0.0.1:4222\ninclude "dup.conf"\n`);
    for (const { version, bin } of MATRIX) {
      const t = spawnSync(bin, ["-t", "-c", path.join(s.cwd, "main.conf")], { encoding: "utf8" });
      expect({ version, code: t.status, out: t.stdout + t.stderr }).toEqual({ version, code: 0, out: expect.stringContaining("is valid") });
    }
  });
});
