/**
 * The config reader finds the same users as every real nats-server of the matrix (Debian's 2.9.10
 * and scripts/nats-versions.txt), told that version: for a corpus of configs
 * (every string form and escape, includes, variables, environment variables, accounts, last-wins
 * keys, bcrypt), each user the reader reports logs in on the server with its password and is
 * reported by /connz as that user in that account; a name the reader does not report is refused.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { connect } from "@nats-io/transport-node";
import { tmpDir } from "./helpers/cli";
import { startNatsServer, stopAllNatsServers, NatsServer, natsServerMatrix } from "./helpers/nats";
import { spawnSync } from "node:child_process";
import { readServerConfig, ConfigError } from "../src/nats/conf/server-config";
import { atLeast } from "../src/nats/versions";

// bcrypt of "s3cret" (cost 4), made with bcryptjs for this test
const BCRYPT = "$2b$04$klDCS2SGRrTWinBuS/3LBOLA0gEyk3kRN3M/cMs2ShSNDSn1dxTlK";

interface Corpus {
  name: string;
  files: Record<string, string>; // main.conf plus any includes
  env?: Record<string, string>;
  /** user -> password the client sends (the plain one for bcrypt) */
  passwords: Record<string, string>;
  /** The server's words where it refuses the file (observed), else null: there the reader must refuse it too, in those words. */
  refusedBy?: (v: string) => string | null;
}

const CORPUS: Corpus[] = [
  {
    name: "string forms",
    files: { "main.conf": 'authorization {\n  users = [\n    { user: bare, password: p1 }\n    { user: "dq \\"quoted\\" \\\\ \\t tab", password: "p\\x41" }\n    { user: \'sq raw \\n $HOME\', password: \'p3\' }\n    { user = "eq-sep", password = p4 }\n    { user "ws-sep", password "p5" }\n  ]\n}\n' },
    passwords: { bare: "p1", 'dq "quoted" \\ \t tab': "pA", "sq raw \\n $HOME": "p3", "eq-sep": "p4", "ws-sep": "p5" },
  },
  {
    name: "hostile strings",
    files: { "main.conf": 'authorization { users = [\n  { user: "#not-a-comment // nor this", password: "}{][" }\n  { user: "true", password: "1MB" }\n  { user: "José ünïcode", password: "$2b$ not bcrypt" }\n] }\n' },
    passwords: { "#not-a-comment // nor this": "}{][", true: "1MB", "José ünïcode": "$2b$ not bcrypt" },
  },
  {
    name: "include relative to the including file",
    files: { "main.conf": "include 'sub/users.conf'\n", "sub/users.conf": "authorization {\n  include more.conf\n}\n", "sub/more.conf": "users = [ { user: inc1, password: i1 }, { user: inc2, password: i2 } ]\n" },
    passwords: { inc1: "i1", inc2: "i2" },
  },
  {
    name: "variables, scopes and the environment",
    files: { "main.conf": "PW = outer\nauthorization {\n  PW2 = inner\n  users = [ { user: v1, password: $PW }, { user: v2, password: $PW2 }, { user: $NAME_FROM_ENV, password: $PASS_FROM_ENV } ]\n}\n" },
    env: { NAME_FROM_ENV: "envuser", PASS_FROM_ENV: '"env pass"' },
    passwords: { v1: "outer", v2: "inner", envuser: "env pass" },
  },
  {
    name: "accounts and authorization share one table",
    files: { "main.conf": "authorization { users = [ { user: g1, password: a } ] }\naccounts {\n  A { users = [ { user: a1, password: b } ] }\n  B { users: [ { USER: b1, PassWord: c } ] }\n}\n" },
    passwords: { g1: "a", a1: "b", b1: "c" },
  },
  {
    name: "last wins, bcrypt, block string",
    files: { "main.conf": `authorization { users = [\n  { user: first, user: second, password: x }\n  { user: hashed, password: "${BCRYPT}" }\n  { user: blk, password: (\nmulti\n)\n  }\n] }\n` },
    passwords: { second: "x", hashed: "s3cret", blk: "\nmulti\n" },
  },
  {
    // a users list inside a map from the environment: the server hands parseUsers the entry's token,
    // which a value parsed from the environment does not have, and finds no list (every version);
    // 2.11.0 to 2.12.5 (every 2.11) panic in the config digest before that (fixed in 2.12.6, 2.14.0)
    name: "a users list inside an environment map: refused",
    files: { "main.conf": "authorization: $AUTH_BLOCK\n" },
    env: { AUTH_BLOCK: "{ users = [ { user: envblock, password: eb } ] }" },
    passwords: {},
    refusedBy: (v) => (atLeast(v, "2.11.0") && !atLeast(v, "2.12.6") ? "panic: interface conversion: interface {} is []interface {}, not *conf.token" : "Expected users field to be an array, got <nil>"),
  },
  {
    // the same users as a list from the environment: a token of the file, read as usual
    name: "a users list from the environment",
    files: { "main.conf": "authorization { users: $USER_LIST }\n" },
    env: { USER_LIST: "[ { user: envlist1, password: el1 }, { user: \"env list 2\", password: el2 } ]" },
    passwords: { envlist1: "el1", "env list 2": "el2" },
  },
];

const servers: NatsServer[] = [];
afterAll(async () => {
  await stopAllNatsServers();
});

async function login(server: NatsServer, user: string, pass: string): Promise<{ ok: boolean; user?: string; account?: string | null }> {
  const name = `conf-users-${Math.random().toString(36).slice(2)}`;
  try {
    const nc = await connect({ servers: `127.0.0.1:${server.port}`, name, reconnect: false, timeout: 5000, authenticator: (() => ({ user, pass })) as never });
    await nc.flush();
    const connz = await (await fetch(`http://127.0.0.1:${server.monitorPort}/connz?auth=true`)).json();
    const c = connz.connections.find((x: { name: string }) => x.name === name);
    await nc.close();
    return { ok: true, user: c?.authorized_user, account: c?.account ?? null };
  } catch {
    return { ok: false };
  }
}

// one server at a time: each corpus entry on each version, stopped before the next starts
describe.each(natsServerMatrix())("nats-server $version", ({ version, bin }) => {
  test.each(CORPUS.map((c) => [c.name, c] as const))("%s: the reader's users are the server's", async (_n, c) => {
    // the bcrypt fixture must really be bcrypt("s3cret")
    expect(require("bcryptjs").compareSync("s3cret", BCRYPT)).toBe(true);
    const dir = tmpDir("mtlsctl-conf-users-");
    for (const [f, text] of Object.entries(c.files)) {
      fs.mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
      fs.writeFileSync(path.join(dir, f), text);
    }
    const says = c.refusedBy?.(version) ?? null;
    if (says !== null) {
      // the server refuses the file, and the reader says so in the server's words
      const main = path.join(dir, "main.conf");
      const t = spawnSync(bin, ["-t", "-c", main], { cwd: dir, env: { PATH: process.env.PATH ?? "", ...c.env }, encoding: "utf8", timeout: 15_000 });
      expect({ version, status: t.status === 0 ? "accepted" : "refused", stderr: t.stderr.includes(says) ? says : t.stderr }).toEqual({ version, status: "refused", stderr: says });
      let reason = "";
      try {
        readServerConfig(main, { ...process.env, ...c.env }, { cwd: dir, serverVersion: version });
      } catch (e) {
        if (!(e instanceof ConfigError)) throw e;
        reason = e.reason;
      }
      expect({ version, reason }).toEqual({ version, reason: says });
      return;
    }
    const cfg = readServerConfig(path.join(dir, "main.conf"), { ...process.env, ...c.env }, { cwd: dir, serverVersion: version });
    const found = cfg.users.map((u) => [u.user, u.password, u.account] as const);
    expect(found.map((f) => f[0]).sort()).toEqual(Object.keys(c.passwords).sort());

    const server = await startNatsServer(path.join(dir, "main.conf"), { dir, env: c.env, bin });
    servers.push(server);
    try {
      for (const [user, , account] of found) {
        const r = await login(server, user!, c.passwords[user!]);
        expect({ version, user, r }).toEqual({ version, user, r: { ok: true, user, account: account ?? null } });
      }
      // a user the reader does not report, and a wrong password, are refused
      expect((await login(server, "nobody-" + Date.now(), "x")).ok).toBe(false);
      expect((await login(server, found[0][0]!, "wrong-password")).ok).toBe(false);
    } finally {
      await server.stop();
    }
  }, 30_000);
});
