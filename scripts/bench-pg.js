#!/usr/bin/env node
/**
 * Enrolments per second through `mtlsctl serve` (issue 19): the file store, PostgreSQL with one
 * instance, and PostgreSQL with two instances on the same database. EST simpleenroll with one-time
 * tokens (made in-process beforehand through the library), CLIENTS concurrent keep-alive clients on
 * loopback for SECONDS (or until the tokens run out); the load generator shares the cores.
 *
 *   node scripts/bench-pg.js        BENCH_PG_SECONDS=6 BENCH_PG_CLIENTS=16 BENCH_PG_TOKENS=800
 *
 * With --rows: `list --json --expiring 30` and `status --json` on a database of BENCH_PG_ROWS
 * (default 1,000,000) certificate rows, made by one INSERT ... SELECT generate_series from one real
 * client row (not through issuance): BENCH_PG_NAMES (default 10,000) names, each name's newest row
 * valid (expiring over the next year), the older ones superseded (every 997th revoked) — a fleet's
 * renewal history. Then VACUUM ANALYZE (what autovacuum does after such a load). Each command runs
 * BENCH_PG_REPEAT (default 3) times; the row gives the median wall time of the whole CLI process.
 *
 *   node scripts/bench-pg.js --rows BENCH_PG_ROWS=1000000 BENCH_PG_NAMES=10000
 *
 * Needs scripts/postgres.sh (it runs it) and a build (npm run build).
 */
"use strict";
const { spawn, execFileSync } = require("node:child_process");
const fs = require("node:fs");
const https = require("node:https");
const os = require("node:os");
const path = require("node:path");
const crypto = require("node:crypto");

const ROOT = path.resolve(__dirname, "..");
const BIN = path.join(ROOT, "bin", "mtlsctl");
const SECONDS = Number(process.env.BENCH_PG_SECONDS ?? 6);
const CLIENTS = Number(process.env.BENCH_PG_CLIENTS ?? 16);
const TOKENS = Number(process.env.BENCH_PG_TOKENS ?? 800);

const [baseUrl, passfile] = execFileSync("bash", [path.join(ROOT, "scripts", "postgres.sh")], { encoding: "utf8" }).trim().split("\n").pop().split(" ");
process.env.PGPASSFILE = passfile;
const { createToken } = require(path.join(ROOT, "dist", "service", "tokens.js"));
const { openPgStore } = require(path.join(ROOT, "dist", "store", "pg", "pg-store.js"));

const env = { ...process.env, MTLSCTL_PASSPHRASE: "bench-pass", NO_COLOR: "1" };
delete env.MTLSCTL_DIR;
delete env.MTLSCTL_DB;
const cli = (args, e = {}) => execFileSync(process.execPath, [BIN, ...args], { env: { ...env, ...e }, encoding: "utf8" });

function serve(args, e) {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [BIN, "serve", "--listen", "127.0.0.1:0", "--rate-limit", "0", ...args], { env: { ...env, ...e }, stdio: ["ignore", "ignore", "pipe"] });
    let out = "";
    p.stderr.on("data", (d) => {
      out += d;
      const m = /listening on https:\/\/[^\s]+:(\d+)/.exec(out);
      if (m) resolve({ port: Number(m[1]), stop: () => new Promise((r) => (p.once("exit", r), p.kill("SIGTERM"))) });
    });
    p.once("exit", (c) => reject(new Error(`serve exited ${c}: ${out}`)));
  });
}

async function run(label, ports, tokens, caFile, csrBody) {
  const agents = ports.map(() => new https.Agent({ keepAlive: true, maxSockets: CLIENTS }));
  const ca = fs.readFileSync(caFile);
  let next = 0;
  let done = 0;
  let failed = 0;
  const lat = [];
  const end = Date.now() + SECONDS * 1000;
  const one = (i, t) =>
    new Promise((resolve) => {
      const t0 = process.hrtime.bigint();
      const req = https.request(
        { host: "127.0.0.1", port: ports[i % ports.length], agent: agents[i % ports.length], method: "POST", path: "/.well-known/est/simpleenroll", ca, headers: { "Content-Type": "application/pkcs10", Authorization: "Basic " + Buffer.from(`${t.name}:${t.token}`).toString("base64") } },
        (res) => {
          res.resume();
          res.on("end", () => {
            lat.push(Number(process.hrtime.bigint() - t0) / 1e6);
            if (res.statusCode === 200) done++;
            else failed++;
            resolve();
          });
        },
      );
      req.on("error", () => (failed++, resolve()));
      req.end(csrBody);
    });
  const t0 = Date.now();
  await Promise.all(
    Array.from({ length: CLIENTS }, async (_, c) => {
      while (Date.now() < end && next < tokens.length) await one(c, tokens[next++]);
    }),
  );
  const secs = (Date.now() - t0) / 1000;
  for (const a of agents) a.destroy();
  const s = [...lat].sort((a, b) => a - b);
  const p = (q) => s[Math.min(s.length - 1, Math.floor(q * s.length))].toFixed(1);
  const row = { label, enrolmentsPerSecond: Math.round(done / secs), ok: done, failed, p50ms: p(0.5), p99ms: p(0.99) };
  console.log(JSON.stringify(row));
  return row;
}

/** The generated rows: copies of the row of client `tmpl`, each with its own serial, name, status and notAfter. */
const SEED_SQL = `
INSERT INTO certificates (serial, name, kind, subject, sans, profile, key_type, not_before, not_after, status, revoked_at, revocation_reason, fingerprint, issued_at, renewed_by, record, cert_pem)
SELECT s.serial, s.name, t.kind, t.subject, t.sans, t.profile, t.key_type, t.not_before, s.not_after, s.status, s.revoked_at, s.reason, t.fingerprint, t.issued_at, s.renewed_by,
  (t.record::jsonb || jsonb_build_object('serial', s.serial, 'name', s.name, 'status', s.status, 'renewedBy', s.renewed_by, 'revocationReason', s.reason,
     'notAfter', to_char(s.not_after AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), 'revokedAt', to_char(s.revoked_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')))::json,
  t.cert_pem
FROM (SELECT * FROM certificates WHERE name = 'tmpl') t,
LATERAL (
  SELECT '7' || lpad(to_hex(i), 31, '0') AS serial, 'dev' || (i % $2) AS name,
    CASE WHEN i > $1 - $2 THEN 'valid' WHEN i % 997 = 0 THEN 'revoked' ELSE 'superseded' END AS status,
    now() + make_interval(days => ((i::bigint * 7919) % 365)::int, secs => i % 86400) AS not_after,
    CASE WHEN i % 997 = 0 AND i <= $1 - $2 THEN now() - interval '1 day' END AS revoked_at,
    CASE WHEN i % 997 = 0 AND i <= $1 - $2 THEN 'keyCompromise' END AS reason,
    CASE WHEN i <= $1 - $2 AND i % 997 <> 0 THEN '7' || lpad(to_hex(i + $2), 31, '0') END AS renewed_by
  FROM generate_series(1, $1) AS i) s`;

async function rowsBench() {
  const ROWS = Number(process.env.BENCH_PG_ROWS ?? 1_000_000);
  const NAMES = Number(process.env.BENCH_PG_NAMES ?? 10_000);
  const REPEAT = Number(process.env.BENCH_PG_REPEAT ?? 3);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "mtlsctl-bench-pg-"));
  const dir = path.join(work, "pki");
  cli(["--dir", dir, "ca", "init", "--name", "Bench PG CA"]);
  cli(["--dir", dir, "client", "issue", "tmpl", "--email", "tmpl@example.com"]);
  const db = `mtlsctl_bench_${crypto.randomBytes(4).toString("hex")}`;
  execFileSync("psql", [baseUrl, "-qAtc", `CREATE DATABASE ${db}`]);
  const u = new URL(baseUrl);
  u.pathname = "/" + db;
  const url = u.toString();
  const rows = [];
  try {
    cli(["store", "copy", "--from", dir, "--to", url]);
    const store = openPgStore(url);
    const t0 = Date.now();
    await store.pool.query(SEED_SQL, [ROWS, NAMES]);
    const seedSeconds = (Date.now() - t0) / 1000;
    await store.pool.query("VACUUM ANALYZE certificates");
    const counts = (await store.pool.query("SELECT status, count(*)::int AS n FROM certificates GROUP BY status ORDER BY status")).rows.map((r) => `${r.status} ${r.n}`).join(", ");
    await store.close();
    console.error(`seeded ${ROWS} rows in ${seedSeconds.toFixed(1)} s (${counts})`);
    for (const args of [["list", "--json", "--expiring", "30"], ["status", "--json"]]) {
      const times = [];
      let bytes = 0;
      for (let i = 0; i < REPEAT; i++) {
        const s0 = process.hrtime.bigint();
        // status exits 1 when something expires within the window: that is its answer, not a failure
        const r = require("node:child_process").spawnSync(process.execPath, [BIN, ...args], { env: { ...env, MTLSCTL_DB: url }, encoding: "utf8", maxBuffer: 1 << 30 });
        times.push(Number(process.hrtime.bigint() - s0) / 1e6);
        if (r.status !== 0 && !(args[0] === "status" && r.status === 1)) throw new Error(`${args.join(" ")} exited ${r.status}: ${r.stderr}`);
        bytes = r.stdout.length;
        if (i === 0) JSON.parse(r.stdout);
      }
      times.sort((a, b) => a - b);
      const row = { label: `${args.join(" ")} on ${ROWS} rows`, medianMs: Math.round(times[Math.floor(times.length / 2)]), minMs: Math.round(times[0]), stdoutBytes: bytes, rows: counts };
      console.log(JSON.stringify(row));
      rows.push(row);
    }
  } finally {
    execFileSync("psql", [baseUrl, "-qAtc", `DROP DATABASE IF EXISTS ${db} WITH (FORCE)`]);
    fs.rmSync(work, { recursive: true, force: true });
  }
  return rows;
}

if (require.main === module)
  (process.argv.includes("--rows") ? rowsBench() : enrolBench()).catch((e) => {
    console.error(e);
    process.exit(1);
  });
// from scripts/bench.js (npm run bench): both parts, one after the other
else module.exports = async () => ({ case: "issue 19: serve enrolments on the file store and PostgreSQL (1 and 2 instances); list --expiring 30 and status on 1M rows (goal <= 1 s each)", enrol: await enrolBench(), rows: await rowsBench() });

async function enrolBench() {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "mtlsctl-bench-pg-"));
  const dir = path.join(work, "pki");
  cli(["--dir", dir, "ca", "init", "--name", "Bench PG CA"]);
  cli(["--dir", dir, "server", "issue", "srv", "--dns", "localhost", "--ip", "127.0.0.1"]);
  const caFile = path.join(dir, "ca.crt");
  const key = crypto.generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey.export({ type: "pkcs8", format: "pem" });
  fs.writeFileSync(path.join(work, "k.key"), key, { mode: 0o600 });
  const csrBody = execFileSync("openssl", ["req", "-new", "-key", path.join(work, "k.key"), "-subj", "/", "-outform", "DER"]).toString("base64");
  const makeTokens = async (store, prefix) => {
    const out = [];
    for (let i = 0; i < TOKENS; i++) {
      const t = await createToken(store, `${prefix}${i}`, { sans: { email: [], dns: [], uri: [], ip: [] }, ttl: "1h" });
      out.push({ name: t.name, token: t.token });
    }
    return out;
  };
  const rows = [];
  // the file store
  {
    const toks = await makeTokens(dir, "f");
    const s = await serve(["--server", "srv"], { MTLSCTL_DIR: dir });
    rows.push(await run("file store, 1 instance", [s.port], toks, caFile, csrBody));
    await s.stop();
  }
  const tls = ["--tls-cert", path.join(dir, "issued", "srv.crt"), "--tls-key", path.join(dir, "private", "srv.key")];
  for (const n of [1, 2]) {
    const db = `mtlsctl_bench_${crypto.randomBytes(4).toString("hex")}`;
    execFileSync("psql", [baseUrl, "-qAtc", `CREATE DATABASE ${db}`]);
    const u = new URL(baseUrl);
    u.pathname = "/" + db;
    const url = u.toString();
    try {
      cli(["store", "copy", "--from", dir, "--to", url]);
      const store = openPgStore(url);
      const toks = await makeTokens(store, "p");
      await store.close();
      const svcs = [];
      for (let i = 0; i < n; i++) svcs.push(await serve(tls, { MTLSCTL_DB: url }));
      rows.push(await run(`PostgreSQL, ${n} instance(s)`, svcs.map((s) => s.port), toks, caFile, csrBody));
      for (const s of svcs) await s.stop();
    } finally {
      execFileSync("psql", [baseUrl, "-qAtc", `DROP DATABASE IF EXISTS ${db} WITH (FORCE)`]);
    }
  }
  fs.rmSync(work, { recursive: true, force: true });
  return rows;
}
