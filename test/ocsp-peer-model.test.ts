/**
 * ocsp_peer in the config model, the verdict, lint and `config nats --ocsp-peer` (issue 20 §3):
 *  - every matrix server's own `nats-server -t` decides which ocsp_peer / ocsp_cache values load, and
 *    mtlsctl's reader agrees (accepts the same, refuses the same with the server's reason);
 *  - the verdict's `ocspPeer` (not-checked without --ocsp; good / revoked / unreachable with it), the
 *    same JSON from the CLI and the library, explain's verdict too; no `ocspPeer` without ocsp_peer;
 *  - lint: NATS034–037, and 2.9.10's refusal (NATS000, unknown field);
 *  - `config nats --ocsp-peer`: every server that knows the key starts with the snippet, and a client
 *    revoked afterwards is refused by it.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { spawnSync } from "node:child_process";
import { makeStore, mtls, mtlsOk, ROOT } from "./helpers/cli";
import { freePort, natsServerMatrix, startNatsServer } from "./helpers/nats";
import { startServe, Served } from "./helpers/serve";

jest.setTimeout(180_000);
// eslint-disable-next-line @typescript-eslint/no-require-imports
const api = require(path.join(ROOT, "dist", "index.js")) as typeof import("../src/index");

const store = makeStore({ name: "OCSP Model CA" });
const cli = (args: string[]) => mtlsOk(args, { cwd: store.cwd, env: store.env });
const run = (args: string[]) => mtls(args, { cwd: store.cwd, env: store.env });
const caFile = path.join(store.dir, "ca.crt");
const issued = (n: string) => path.join(store.dir, "issued", `${n}.crt`);
let httpPort: number;
let svc: Served | null = null;
let matrix: { version: string; bin: string }[];

/** A whole config: the store's files, verify_and_map, the given tls lines and top-level lines. */
function conf(name: string, tlsLines: string[], top: string[] = ["ocsp_cache: false"]): string {
  const f = path.join(store.cwd, `${name}.conf`);
  fs.writeFileSync(
    f,
    [
      "tls {",
      `  cert_file: ${JSON.stringify(issued("srv"))}`,
      `  key_file: ${JSON.stringify(path.join(store.dir, "private", "srv.key"))}`,
      `  ca_file: ${JSON.stringify(caFile)}`,
      "  verify_and_map: true",
      ...tlsLines.map((l) => `  ${l}`),
      "}",
      ...top,
      'authorization { users = [ { user: "alice@example.com" }, { user: "old@example.com" }, { user: "eve@example.com" } ] }',
      "",
    ].join("\n"),
  );
  return f;
}

beforeAll(async () => {
  matrix = natsServerMatrix();
  // "old" is issued before the CA has an OCSP URL: it names no responder
  cli(["client", "issue", "old", "--email", "old@example.com"]);
  httpPort = await freePort();
  cli(["ca", "set", "--ocsp-url", `http://127.0.0.1:${httpPort}/ocsp`]);
  cli(["server", "issue", "srv", "--dns", "localhost", "--ip", "127.0.0.1"]);
  cli(["client", "issue", "alice", "--email", "alice@example.com"]);
  cli(["client", "issue", "eve", "--email", "eve@example.com"]);
  svc = await startServe(store.env, ["--http-listen", `127.0.0.1:${httpPort}`]);
});
afterAll(async () => {
  await svc?.stop();
});

const CASES: [string, string[], string[]?][] = [
  ["short-true", ["ocsp_peer: true"]],
  ["short-false", ["ocsp_peer: false"]],
  ["map", ["ocsp_peer { verify: true, ca_timeout: 0.5, allowed_clockskew: \"1m\", cache_ttl_when_next_update_unset: 60, warn_only: false, unknown_is_good: false, allow_when_ca_unreachable: false }"]],
  ["map-case", ["ocsp_peer { Verify: true, CA_Timeout: \"2s\" }"]],
  ["map-empty", ["ocsp_peer {}"]],
  ["bad-string", ['ocsp_peer: "yes"']],
  ["bad-field", ["ocsp_peer { verify: true, bogus: 1 }"]],
  ["bad-bool", ['ocsp_peer { verify: "true" }']],
  ["bad-duration", ['ocsp_peer { verify: true, ca_timeout: "soon" }']],
  ["cache-map", ["ocsp_peer: true"], ['ocsp_cache { type: "none" }']],
  ["cache-local", ["ocsp_peer: true"], ['ocsp_cache { type: "local", local_store: "_rc_", preserve_revoked: true, save_interval: "5m" }']],
  ["cache-bad-type", ["ocsp_peer: true"], ['ocsp_cache { type: "disk" }']],
  ["cache-bad-field", ["ocsp_peer: true"], ["ocsp_cache { size: 10 }"]],
];

test("which ocsp_peer and ocsp_cache values load: each matrix server's nats-server -t, and mtlsctl's reader, agree", () => {
  const table: Record<string, Record<string, string>> = {};
  for (const { version, bin } of matrix) {
    for (const [name, tlsLines, top] of CASES) {
      const f = conf(name, tlsLines, top);
      const t = spawnSync(bin, ["-t", "-c", f], { cwd: store.cwd, encoding: "utf8" });
      const serverOk = t.status === 0;
      const v = run(["verify", issued("alice"), "--config", f, "--server-version", version, "--json"]);
      const ours = v.code !== 3;
      (table[name] ??= {})[version] = serverOk ? "loads" : "refused";
      expect({ version, name, ours }).toEqual({ version, name, ours: serverOk });
      if (!serverOk) {
        // mtlsctl's one-line reason is one of the server's (it prints every error, in its random map order)
        const reason = v.stderr.trim().replace(/^.*?line \d+, column \d+: /, "");
        expect({ version, name, reason: (t.stdout + t.stderr).includes(reason) }).toEqual({ version, name, reason: true });
      }
    }
  }
  // 2.9.10 refuses the key and ocsp_cache; 2.9.25 on read them as above
  expect(table["short-true"]["2.9.10"]).toBe("refused");
  for (const v of ["2.9.25", "2.15.3"]) {
    expect(table["short-true"][v]).toBe("loads");
    expect(table["map-empty"][v]).toBe("loads");
    expect(table["bad-field"][v]).toBe("refused");
    expect(table["cache-bad-type"][v]).toBe("refused");
  }
});

test("the verdict's ocspPeer: not-checked without --ocsp, good / revoked / no responder with it; CLI and library agree", () => {
  const f = conf("verdict", ["ocsp_peer: true"]);
  const cliJson = (cert: string, extra: string[] = []) => JSON.parse(run(["verify", cert, "--config", f, "--server-version", "2.15.3", "--json", ...extra]).stdout);
  const lib = (cert: string, ocsp?: boolean) => api.verify({ config: f, certificate: cert, serverVersion: "2.15.3", serverCwd: store.cwd, ...(ocsp ? { ocsp } : {}) });
  const url = `http://127.0.0.1:${httpPort}/ocsp`;

  const plain = cliJson(issued("alice"));
  expect(plain).toMatchObject({ accepted: true, user: "alice@example.com", ocspPeer: { required: true, responder: url, status: "not-checked" } });
  expect(lib(issued("alice"))).toEqual({ ...plain, file: plain.file });

  const good = cliJson(issued("alice"), ["--ocsp"]);
  expect(good).toMatchObject({ accepted: true, user: "alice@example.com", ocspPeer: { required: true, responder: url, status: "good" } });
  expect(lib(issued("alice"), true)).toEqual(good);

  // no responder in the certificate: the server lets it in without asking
  const old = cliJson(issued("old"), ["--ocsp"]);
  expect(old).toMatchObject({ accepted: true, user: "old@example.com", ocspPeer: { required: false, responder: null, status: "not-checked" } });

  cli(["revoke", "eve", "--reason", "keyCompromise"]);
  const revoked = cliJson(issued("eve"), ["--ocsp"]);
  expect(revoked).toMatchObject({ accepted: false, stage: "tls", user: null, ocspPeer: { required: true, responder: url, status: "revoked" } });
  expect(revoked.reason).toMatch(/^TLS handshake error: client not OCSP valid/);
  expect(lib(issued("eve"), true)).toEqual(revoked);
  // without --ocsp the verdict stays the mapping's
  expect(cliJson(issued("eve"))).toMatchObject({ accepted: true, user: "eve@example.com", ocspPeer: { status: "not-checked" } });
  // explain --ocsp carries the same verdict
  const ex = JSON.parse(run(["explain", issued("eve"), "--config", f, "--server-version", "2.15.3", "--ocsp", "--json"]).stdout);
  expect(ex.verdict).toEqual({ ...revoked, file: ex.verdict.file });
  expect(api.explain(issued("eve"), { config: f, serverVersion: "2.15.3", ocsp: true, serverCwd: store.cwd }).verdict).toEqual(ex.verdict);
  // no ocsp_peer: no ocspPeer field at all (every existing verdict unchanged)
  const none = JSON.parse(run(["verify", issued("alice"), "--config", conf("none", [], []), "--server-version", "2.15.3", "--json", "--ocsp"]).stdout);
  expect(none).not.toHaveProperty("ocspPeer");
  expect(none.accepted).toBe(true);
});

test("an unreachable responder: refused, or accepted with warn_only / allow_when_ca_unreachable, within ca_timeout", async () => {
  const deadPort = await freePort(); // nobody listens: the certificates' own URL is fine, so point a copy of the store elsewhere
  const other = path.join(store.cwd, "dead");
  fs.cpSync(store.dir, other, { recursive: true });
  const env = { ...store.env, MTLSCTL_DIR: other };
  mtlsOk(["ca", "set", "--ocsp-url", `http://127.0.0.1:${deadPort}/ocsp`], { cwd: store.cwd, env });
  mtlsOk(["client", "issue", "zed", "--email", "alice@example.com"], { cwd: store.cwd, env });
  const zed = path.join(other, "issued", "zed.crt");
  const verdict = (tls: string) => JSON.parse(run(["verify", zed, "--config", conf(`dead-${tls.length}`, [tls]), "--server-version", "2.12.15", "--json", "--ocsp"]).stdout);
  const t0 = Date.now();
  const refused = verdict("ocsp_peer { verify: true, ca_timeout: 0.5 }");
  expect(Date.now() - t0).toBeLessThan(10_000);
  expect(refused).toMatchObject({ accepted: false, stage: "tls", ocspPeer: { status: "unreachable", required: true } });
  expect(verdict("ocsp_peer { verify: true, warn_only: true }")).toMatchObject({ accepted: true, ocspPeer: { status: "unreachable", required: false } });
  expect(verdict("ocsp_peer { verify: true, allow_when_ca_unreachable: true }")).toMatchObject({ accepted: true, ocspPeer: { status: "unreachable" } });
});

test("lint: NATS034–037 for ocsp_peer, NATS000 (unknown field) on 2.9.10", () => {
  const lint = (f: string, v: string, extra: string[] = []) => JSON.parse(run(["lint", f, "--server-version", v, "--json", ...extra]).stdout).findings as { code: string; message: string }[];
  const codes = (f: string, v: string, extra: string[] = []) => lint(f, v, extra).map((x) => x.code);
  expect(codes(conf("l-empty", ["ocsp_peer { ca_timeout: 5 }"]), "2.15.3")).toContain("NATS034");
  const cached = codes(conf("l-cached", ["ocsp_peer: true"], []), "2.12.15");
  expect(cached).toContain("NATS035");
  expect(codes(conf("l-nocache", ["ocsp_peer: true"]), "2.12.15")).not.toContain("NATS035");
  expect(codes(conf("l-warn", ["ocsp_peer { verify: true, warn_only: true }"]), "2.10.27")).toContain("NATS036");
  const withStore = lint(conf("l-store", ["ocsp_peer: true"]), "2.15.3", ["--store"]);
  const n37 = withStore.filter((x) => x.code === "NATS037");
  expect(n37).toHaveLength(1);
  expect(n37[0].message).toMatch(/^old names no OCSP responder/);
  const old = lint(conf("l-2910", ["ocsp_peer: true"]), "2.9.10");
  // as the server reports both: the tls key and the top-level ocsp_cache
  expect(old.map((x) => x.code)).toEqual(["NATS000", "NATS000"]);
  expect(old[0].message).toContain('unknown field ["ocsp_peer"]');
  expect(old[1].message).toContain('unknown field "ocsp_cache"');
});

test("config nats --ocsp-peer: every server that knows ocsp_peer starts with it, and refuses a client revoked afterwards", async () => {
  const out = path.join(store.cwd, "ocsp-snippet.conf");
  const r = cli(["config", "nats", "--ocsp-peer", "--out", out, "--force"]);
  expect(r.stderr).toMatch(/--ocsp-peer: 1 listed certificate\(s\) name no OCSP responder \(old\)/);
  const text = fs.readFileSync(out, "utf8");
  expect(text).toMatch(/ocsp_peer \{\n\s+verify: true\n\s+ca_timeout: 2\n\s+\}/);
  // the snippet alone, with the cache off in the main config (as its comment says), on every version that knows the key
  const withCache = path.join(store.cwd, "ocsp-main.conf");
  fs.writeFileSync(withCache, `include "ocsp-snippet.conf"\nocsp_cache: false\n`);
  cli(["client", "issue", "frank", "--email", "frank@example.com"]);
  cli(["config", "nats", "--ocsp-peer", "--out", out, "--force"]);
  for (const { version, bin } of matrix.filter((m) => m.version !== "2.9.10")) {
    const s = await startNatsServer(withCache, { bin, debug: false });
    try {
      const r1 = await s.connectAs(issued("frank"), path.join(store.dir, "private", "frank.key"), caFile);
      expect({ version, user: r1.ok ? r1.user : r1.error }).toEqual({ version, user: "frank@example.com" });
    } finally {
      await s.stop();
    }
  }
  cli(["revoke", "frank"]);
  for (const { version, bin } of matrix.filter((m) => m.version !== "2.9.10")) {
    const s = await startNatsServer(withCache, { bin, debug: false });
    try {
      const r2 = await s.connectAs(issued("frank"), path.join(store.dir, "private", "frank.key"), caFile);
      // the snippet (not regenerated) still lists frank: ocsp_peer alone refuses him, at the handshake
      expect({ version, ok: r2.ok }).toEqual({ version, ok: false });
      expect(s.log()).toContain("client not OCSP valid");
    } finally {
      await s.stop();
    }
  }
  // 2.9.10 refuses the snippet (unknown field)
  const t = spawnSync(matrix[0].bin, ["-t", "-c", out], { encoding: "utf8" });
  expect(t.status).not.toBe(0);
  expect(t.stdout + t.stderr).toContain('unknown field ["ocsp_peer"]');
});
