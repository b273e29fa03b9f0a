/**
 * `tls { ocsp_peer }` on real servers (issue 20 §3): every server of the matrix that knows the key
 * (2.9.21 on; 2.9.10 refuses it) asks `mtlsctl serve`'s plain-HTTP responder — the URL `ca set
 * --ocsp-url` puts into each certificate's AIA — about each client certificate at the handshake.
 *
 * Per server: one nats-server per ocsp_peer mode (the short form `true`, and the map form with
 * `unknown_is_good`, `warn_only`, `allow_when_ca_unreachable`, `verify: false`), all with
 * `ocsp_cache: false` (the response cache off: every handshake asks again), plus one with the
 * default (local) cache. A good client connects (/connz?auth=true names its user); after `mtlsctl
 * revoke` the same client is refused at the handshake; a certificate the CA signed but the store does
 * not know gets "unknown"; then the responder goes down. Every cell is what the server did, and
 * `verify` with `ocsp: true` (the library; `mtlsctl verify --ocsp` prints the same) is checked
 * against each (with the default cache: against what a server that has not asked yet does).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { spawnSync } from "node:child_process";
import { makeStore, mtls, mtlsOk, ROOT, tool } from "./helpers/cli";
import { freePort, natsServerMatrix, startNatsServer, NatsServer, ConnectResult } from "./helpers/nats";
import { startServe, Served } from "./helpers/serve";

jest.setTimeout(240_000);
// eslint-disable-next-line @typescript-eslint/no-require-imports
const api = require(path.join(ROOT, "dist", "index.js")) as typeof import("../src/index");
/** OCSP_OBSERVE=1: print what each server does instead of asserting it (how the table below was made). */
const OBSERVE = !!process.env.OCSP_OBSERVE;

const store = makeStore({ name: "OCSP Peer CA" });
const cli = (args: string[]) => mtlsOk(args, { cwd: store.cwd, env: store.env });
const caFile = path.join(store.dir, "ca.crt");
const issued = (n: string) => path.join(store.dir, "issued", `${n}.crt`);
const keyOf = (n: string) => path.join(store.dir, "private", `${n}.key`);
let httpPort: number;
let svc: Served | null = null;
const startResponder = async () => {
  svc = await startServe(store.env, ["--http-listen", `127.0.0.1:${httpPort}`]);
};
const stopResponder = async () => {
  await svc?.stop();
  svc = null;
};

/** The ocsp_peer modes, as written into the tls block. */
const MODES: Record<string, { tls: string; cache?: string }> = {
  short: { tls: "ocsp_peer: true" },
  unknownIsGood: { tls: "ocsp_peer { verify: true, unknown_is_good: true }" },
  warnOnly: { tls: "ocsp_peer { verify: true, warn_only: true }" },
  allowUnreachable: { tls: "ocsp_peer { verify: true, allow_when_ca_unreachable: true }" },
  off: { tls: "ocsp_peer { verify: false }" },
  cached: { tls: "ocsp_peer: true", cache: "" }, // the default cache (local)
};

function snippet(mode: string, dir: string): string {
  const m = MODES[mode];
  const f = path.join(dir, `${mode}.conf`);
  fs.writeFileSync(
    f,
    [
      "tls {",
      `  cert_file: ${JSON.stringify(issued("srv"))}`,
      `  key_file: ${JSON.stringify(keyOf("srv"))}`,
      `  ca_file: ${JSON.stringify(caFile)}`,
      "  verify_and_map: true",
      `  ${m.tls}`,
      "}",
      m.cache ?? "ocsp_cache: false",
      "authorization { users = [",
      ...["alice", "carol", ...versions().map((v) => `bob-${v}`)].map((n) => `  { user: "${n}@example.com" }`),
      "] }",
      "",
    ].join("\n"),
  );
  return f;
}

let matrix: { version: string; bin: string }[] = [];
const versions = () => matrix.filter((s) => s.version !== "2.9.10").map((s) => s.version);

beforeAll(async () => {
  matrix = natsServerMatrix();
  httpPort = await freePort();
  cli(["ca", "set", "--ocsp-url", `http://127.0.0.1:${httpPort}/ocsp`]);
  cli(["server", "issue", "srv", "--dns", "localhost", "--ip", "127.0.0.1"]);
  cli(["client", "issue", "alice", "--email", "alice@example.com"]);
  for (const v of versions()) cli(["client", "issue", `bob-${v}`, "--email", `bob-${v}@example.com`]);
  // carol: signed by the same CA in a copy of the store, so that the store (and its responder) never heard of her
  const copy = path.join(store.cwd, "copy");
  fs.cpSync(store.dir, copy, { recursive: true });
  mtlsOk(["client", "issue", "carol", "--email", "carol@example.com"], { cwd: store.cwd, env: { ...store.env, MTLSCTL_DIR: copy } });
  fs.copyFileSync(path.join(copy, "issued", "carol.crt"), path.join(store.cwd, "carol.crt"));
  fs.copyFileSync(path.join(copy, "private", "carol.key"), path.join(store.cwd, "carol.key"));
  await startResponder();
});
afterAll(async () => {
  await stopResponder();
});

const user = (r: ConnectResult) => (r.ok ? r.user : `refused`);

test("2.9.10 refuses to load ocsp_peer (unknown field), as mtlsctl verify says", () => {
  const dir = fs.mkdtempSync(path.join(store.cwd, "v2910-"));
  const f = snippet("short", dir);
  const r = spawnSync(tool("nats-server"), ["-t", "-c", f], { encoding: "utf8" });
  expect(r.status).not.toBe(0);
  expect(r.stdout + r.stderr).toContain('unknown field ["ocsp_peer"]');
  const v = mtls(["verify", issued("alice"), "--config", f, "--server-version", "2.9.10", "--json"], { cwd: store.cwd, env: store.env });
  expect(v.code).toBe(3);
  expect(JSON.parse(v.stdout.split("\n")[0]).stage).toBe("config");
});

/** What each mode did, per version: observed, then the same table for every version. */
const observed: Record<string, Record<string, string | null>> = {};

describe.each(["2.9.25", "2.10.27", "2.11.17", "2.12.15", "2.14.10", "2.15.3"])("nats-server %s", (version) => {
  test("good, revoked, unknown and an unreachable responder, in each ocsp_peer mode", async () => {
    const bin = matrix.find((s) => s.version === version)!.bin;
    const bob = `bob-${version}`;
    const dir = fs.mkdtempSync(path.join(store.cwd, `v${version}-`));
    const servers: Record<string, NatsServer> = {};
    const row: Record<string, string | null> = {};
    try {
      for (const mode of Object.keys(MODES)) servers[mode] = await startNatsServer(snippet(mode, dir), { bin, debug: false, dir: path.join(dir, mode) });
      const as = async (mode: string, who: string) => {
        const cert = who === "carol" ? path.join(store.cwd, "carol.crt") : issued(who);
        const key = who === "carol" ? path.join(store.cwd, "carol.key") : keyOf(who);
        return user(await servers[mode].connectAs(cert, key, caFile));
      };
      const verifyOcsp = (mode: string, who: string) => {
        const cert = who === "carol" ? path.join(store.cwd, "carol.crt") : issued(who);
        // the library (dist/index.js; the CLI prints the same object: test/ocsp-peer-model.test.ts), in-process: 216 verdicts
        const j = api.verify({ config: servers[mode].configFile, certificate: cert, serverVersion: version, ocsp: true, serverCwd: servers[mode].dir });
        return j.accepted ? j.user : "refused";
      };
      const check = async (phase: string, mode: string, who: string) => {
        const got = await as(mode, who);
        row[`${phase} ${mode} ${who === bob ? "bob" : who}`] = got;
        // the verifier asks as a server with an empty cache does: for the default cache, that is the short form's answer
        const want = mode === "cached" ? row[`${phase} short ${who === bob ? "bob" : who}`] : got;
        if (!OBSERVE) expect({ phase, mode, who, verify: verifyOcsp(mode, who) }).toEqual({ phase, mode, who, verify: want });
        return got;
      };
      // 1. responder up, nothing revoked: everyone the CA knows connects as their user
      for (const mode of Object.keys(MODES)) {
        expect(await check("good", mode, "alice")).toBe("alice@example.com");
        expect(await check("good", mode, bob)).toBe(`${bob}@example.com`);
      }
      // 2. revoke bob beside the running responder: the next handshake asks again (no cache) and is refused
      cli(["revoke", bob, "--reason", "keyCompromise"]);
      for (const mode of Object.keys(MODES)) await check("revoked", mode, bob);
      for (const mode of Object.keys(MODES)) await check("unknown", mode, "carol");
      // 3. the responder down
      await stopResponder();
      for (const mode of Object.keys(MODES)) {
        await check("down", mode, "alice");
        await check("down", mode, bob);
      }
      observed[version] = row;
      // as observed on every version (asserted after the fact)
      if (OBSERVE) console.log(version, JSON.stringify(row, null, 1), servers.short.log().split("\n").filter((l) => /OCSP|ocsp/.test(l)).slice(-5).join("\n"));
      else expect(row).toEqual(EXPECTED(bob));
    } finally {
      await Promise.all(Object.values(servers).map((s) => s.stop()));
      if (!svc) await startResponder();
    }
  });
});

/** Observed on 2.9.25 … 2.15.3 (the same on each). */
function EXPECTED(bob: string): Record<string, string | null> {
  const b = `${bob}@example.com`;
  const out: Record<string, string | null> = {};
  for (const m of Object.keys(MODES)) {
    out[`good ${m} alice`] = "alice@example.com";
    out[`good ${m} bob`] = b;
  }
  Object.assign(out, {
    "revoked short bob": "refused",
    "revoked unknownIsGood bob": "refused",
    "revoked warnOnly bob": b,
    "revoked allowUnreachable bob": "refused",
    "revoked off bob": b,
    "revoked cached bob": b,
    "unknown short carol": "refused",
    "unknown unknownIsGood carol": "carol@example.com",
    "unknown warnOnly carol": "carol@example.com",
    "unknown allowUnreachable carol": "refused",
    "unknown off carol": "carol@example.com",
    "unknown cached carol": "refused",
    "down short alice": "refused",
    "down short bob": "refused",
    "down unknownIsGood alice": "refused",
    "down unknownIsGood bob": "refused",
    "down warnOnly alice": "alice@example.com",
    "down warnOnly bob": b,
    "down allowUnreachable alice": "alice@example.com",
    "down allowUnreachable bob": b,
    "down off alice": "alice@example.com",
    "down off bob": b,
    "down cached alice": "alice@example.com",
    "down cached bob": b,
  });
  return out;
}

afterAll(() => {
  if (Object.keys(observed).length) fs.writeFileSync(path.join(require("node:os").tmpdir(), "ocsp-peer-observed.json"), JSON.stringify(observed, null, 2));
});
