#!/usr/bin/env node
/**
 * `npm run bench`: mtlsctl against Node's own start-up, measured in the same run (medians of
 * interleaved repeated runs; ratios, since absolute times vary between machines).
 * Prints a table and writes bench/results.json.
 */
"use strict";
const { spawnSync } = require("node:child_process");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");

const ROOT = path.resolve(__dirname, "..");
const BIN = path.join(ROOT, "bin", "mtlsctl");
const RUNS = Number(process.env.BENCH_RUNS || 21);

function time(cmd, args, env) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { env: { ...process.env, ...env }, stdio: ["ignore", "ignore", "pipe"] });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed: ${r.stderr}`);
  return ms;
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const work = fs.mkdtempSync(path.join(os.tmpdir(), "mtlsctl-bench-"));
const env = { MTLSCTL_DIR: path.join(work, "pki"), MTLSCTL_PASSPHRASE: "bench-passphrase", NO_COLOR: "1" };
time(process.execPath, [BIN, "ca", "init", "--name", "Bench CA"], env);

const cases = {
  "node -e 0": () => time(process.execPath, ["-e", "0"], env),
  "mtlsctl --help": () => time(process.execPath, [BIN, "--help"], env),
  "mtlsctl client issue (ec-p256)": (i) => time(process.execPath, [BIN, "client", "issue", `c${i}`, "--email", `c${i}@example.com`], env),
};
// issue 9 (scripts/bench-peers.js): explain, client issue rsa-2048 and each peer, in this same interleaved loop
const peers = require("./bench-peers.js");
Object.assign(cases, peers.peerCases(work, env, time));
const samples = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
for (let w = 0; w < 3; w++) for (const k of Object.keys(cases)) cases[k](`warm${w}`); // warm the file cache
for (let i = 0; i < RUNS; i++) peers.sampleRound(cases, samples, i);
fs.rmSync(work, { recursive: true, force: true });

const base = median(samples["node -e 0"]);
const goals = { "mtlsctl --help": 1.3, "mtlsctl explain cert.pem": 1.3, "mtlsctl client issue (ec-p256)": 2, "mtlsctl client issue (rsa-2048)": 2 };
const rows = Object.keys(cases).map((k) => {
  const m = median(samples[k]);
  const ratio = m / base;
  const goal = goals[k];
  return { case: k, medianMs: +m.toFixed(1), ratioToNode: +ratio.toFixed(2), goal: goal ? `<= ${goal}x` : "", met: goal ? ratio <= goal : null };
});

// verify throughput: N certificates against N users in one process
let verifyRow = null;
if (process.env.BENCH_SKIP_VERIFY !== "1") {
  const v = require("./bench-verify.js")();
  verifyRow = { case: `mtlsctl verify: ${v.n} certs x ${v.n} users, one process`, certsPerSec: Math.round(v.certsPerSec), peakMb: Math.round(v.peakMb), goal: ">= 5000/s", met: v.certsPerSec >= 5000 };
}

// the bulk-issuance row (scripts/bench-bulk.js): { n, certsPerSec, opensslSignPerSec, peakMb, bulk1kMs, singles1kMs, ... }
let bulkRow = null;
if (process.env.BENCH_SKIP_BULK !== "1" && fs.existsSync(path.join(__dirname, "bench-bulk.js"))) bulkRow = require("./bench-bulk.js")();
// issue 9: 1,000 certificates vs the peers, RSA key generation, the optional 100,000 memory runs
const log = (m) => process.stderr.write(m + "\n");
const thousandRow = peers.thousand({ log });
// issue 21 (scripts/bench-unlock.js): opening private/ca.key with its passphrase (PBKDF2 600,000), goal < 1 s
const unlockRow = process.env.BENCH_SKIP_UNLOCK === "1" ? null : require("./bench-unlock.js")({ log });
const rsaRow = peers.rsa();
const scaleRow = peers.scale({ log });

// issue 16 §3 (scripts/bench-store.js): one client issue into 100 vs 100,000 certificates (goal <= 1.5x)
let storeRow = null;
if (process.env.BENCH_SKIP_STORE !== "1") {
  storeRow = require("./bench-store.js")({ log });
  console.log(`${storeRow.case}: ${storeRow.smallMs} ms / ${storeRow.bigMs} ms = ${storeRow.ratio}x (goal ${storeRow.goal}: ${storeRow.met ? "met" : "NOT met"}); peak RSS ${storeRow.smallMb} MB / ${storeRow.bigMb} MB`);
}

const machine = `${os.cpus().length} x ${os.cpus()[0].model.trim()}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${os.platform()} ${os.release()}`;
const report = peers.report({ rows, samples, runs: RUNS, machine, bulk: bulkRow, verify: verifyRow, thousand: thousandRow, rsa: rsaRow, scale: scaleRow, unlock: unlockRow });
fs.mkdirSync(path.join(ROOT, "bench"), { recursive: true });
fs.writeFileSync(path.join(ROOT, "bench", "results.json"), JSON.stringify({ date: new Date().toISOString(), machine, runs: RUNS, table: report.table, rows, verify: verifyRow, bulk: bulkRow, thousand: thousandRow, rsa: rsaRow, scale: scaleRow, store: storeRow, unlock: unlockRow }, null, 2) + "\n");
console.log("\nwritten: bench/results.json");

// issue 17 (scripts/bench-serve.js): EST re-enrolments, mtlsctl serve beside globalsign's estserver (BENCH_SKIP_SERVE=1 leaves it out)
const serving = (process.env.BENCH_SKIP_SERVE !== "1" ? require("./bench-serve.js")({ log }) : Promise.resolve(null))
  .then((serveRow) => {
    if (!serveRow) return;
    const f = (v) => `${v.newConnection.perSec.toFixed(0)}/s new connection, ${v.keepAlive.perSec.toFixed(0)}/s keep-alive, p50/p99 at 200/s ${v.at200.p50.toFixed(1)}/${v.at200.p99.toFixed(1)} ms, RSS ${v.rssMb.toFixed(0)} MB`;
    console.log(`${serveRow.case}:\n  mtlsctl serve  ${f(serveRow.mtlsctl)}\n  estserver      ${f(serveRow.estserver)}\n  ratio ${serveRow.ratioNewConnection}x / ${serveRow.ratioKeepAlive}x (goal ${serveRow.goal}: ${serveRow.met ? "met" : "NOT met"})`);
    const c = serveRow.cfssl;
    console.log(typeof c === "object" ? `  cfssl serve    ${c.newConnection.perSec.toFixed(0)}/s new connection, ${c.keepAlive.perSec.toFixed(0)}/s keep-alive (plain HTTP, no mTLS, no store), RSS ${c.rssMb.toFixed(0)} MB` : `  cfssl serve    ${c}`);
    console.log(`  OCSP (serve, plain HTTP): ${serveRow.ocsp.keepAlive.perSec.toFixed(0)}/s keep-alive (p99 ${serveRow.ocsp.keepAlive.p99.toFixed(1)} ms), ${serveRow.ocsp.newConnection.perSec.toFixed(0)}/s new connection`);
    const file = path.join(ROOT, "bench", "results.json");
    fs.writeFileSync(file, JSON.stringify({ ...JSON.parse(fs.readFileSync(file, "utf8")), serve: serveRow }, null, 2) + "\n");
  })
  // issue 18 (scripts/bench-fleet.js): 1,000 agents' renewals through the agent's code path (BENCH_SKIP_FLEET=1 leaves it out)
  .then(() => (process.env.BENCH_SKIP_FLEET === "1" ? null : require("./bench-fleet.js")({ log })))
  .then((fleetRow) => {
    if (!fleetRow) return;
    const sp = fleetRow.renewalSpreadMinutes;
    console.log(`${fleetRow.case}:\n  ${fleetRow.renewalsPerSec} renewals/s, ${fleetRow.failures} failures, p50/p99 ${fleetRow.latencyMs.p50}/${fleetRow.latencyMs.p99} ms`);
    console.log(`  renewal times across the fleet, minutes after the first: no jitter p50 ${sp.noJitter.p50.toFixed(0)}, p100 ${sp.noJitter.p100.toFixed(0)}; --jitter 10% p10 ${sp.jitter10.p10.toFixed(0)}, p50 ${sp.jitter10.p50.toFixed(0)}, p90 ${sp.jitter10.p90.toFixed(0)}, p100 ${sp.jitter10.p100.toFixed(0)}`);
    const file = path.join(ROOT, "bench", "results.json");
    fs.writeFileSync(file, JSON.stringify({ ...JSON.parse(fs.readFileSync(file, "utf8")), fleet: fleetRow }, null, 2) + "\n");
  });

// issue 19 (scripts/bench-pkcs11.js): the CA key in SoftHSM2 beside the file key (BENCH_SKIP_PKCS11=1 leaves it out)
const hsm =
  process.env.BENCH_SKIP_PKCS11 === "1"
    ? serving
    : serving
        .then(() => require("./bench-pkcs11.js")({ log }))
        .then((row) => {
          const f = (v) => `${v.signsPerSec} signs/s, client issue ${v.clientIssueMs} ms, --from ${v.bulkPerSec}/s, serve ${v.serveEnrolPerSec} re-enrolments/s`;
          console.log(`${row.case}:\n  file key  ${f(row.file)}\n  SoftHSM2  ${f(row.softhsm2)}`);
          const file = path.join(ROOT, "bench", "results.json");
          fs.writeFileSync(file, JSON.stringify({ ...JSON.parse(fs.readFileSync(file, "utf8")), pkcs11: row }, null, 2) + "\n");
        });

// issue 19 (scripts/bench-pg.js): serve on PostgreSQL with one and two instances beside the file store; list/status on 1M rows (BENCH_SKIP_PG=1 leaves it out)
if (process.env.BENCH_SKIP_PG !== "1")
  hsm
    .then(() => require("./bench-pg.js")())
    .then((row) => {
      console.log(`${row.case}:`);
      for (const e of row.enrol) console.log(`  ${e.label.padEnd(28)} ${e.enrolmentsPerSecond} enrolments/s (p50/p99 ${e.p50ms}/${e.p99ms} ms, ${e.failed} failed)`);
      for (const r of row.rows) console.log(`  ${r.label.padEnd(44)} ${r.medianMs} ms median (goal <= 1000 ms: ${r.medianMs <= 1000 ? "met" : "NOT met"})`);
      const file = path.join(ROOT, "bench", "results.json");
      fs.writeFileSync(file, JSON.stringify({ ...JSON.parse(fs.readFileSync(file, "utf8")), pg: row }, null, 2) + "\n");
    });
