#!/usr/bin/env node
/**
 * Fleet scale (issue 18): BENCH_FLEET_N agents' worth of renewals (default 1,000) against one
 * `mtlsctl serve`, run in this one process through the agent's own code path (dist/agent/agent.js:
 * Agent.checkOnce, the same as `mtlsctl agent --once`: cacerts, a new key, simplereenroll over mTLS,
 * the crash-safe swap), BENCH_FLEET_CONCURRENCY at a time (default 16). The certificates come from one
 * bulk issuance (issued at the same moment, as a fleet rolled out at once would be).
 * Prints renewals/s, failures (must be 0), and the spread of the renewal times the agents compute for
 * those certificates with and without jitter (percentiles, minutes after the earliest).
 *
 *   node scripts/bench-fleet.js        (npm run build first; scripts/bench.js calls it)
 */
"use strict";
const { spawn, execFileSync } = require("node:child_process");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");

const ROOT = path.resolve(__dirname, "..");
const BIN = path.join(ROOT, "bin", "mtlsctl");
const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] : NaN;
};

module.exports = async function benchFleet(o = {}) {
  const log = o.log ?? ((m) => process.stderr.write(m + "\n"));
  const { Agent, renewAt } = require(path.join(ROOT, "dist", "agent", "agent.js"));
  const { readCertificates } = require(path.join(ROOT, "dist", "pki", "cert.js"));
  const n = Number(process.env.BENCH_FLEET_N ?? 1000);
  const conc = Number(process.env.BENCH_FLEET_CONCURRENCY ?? 16);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "mtlsctl-bench-fleet-"));
  const dir = path.join(work, "pki");
  const env = { ...process.env, MTLSCTL_DIR: dir, NO_COLOR: "1" };
  delete env.MTLSCTL_PASSPHRASE;
  const cli = (args) => execFileSync(process.execPath, [BIN, ...args], { env, stdio: ["ignore", "pipe", "pipe"], maxBuffer: 1 << 26 }).toString();
  let svc = null;
  try {
    cli(["ca", "init", "--name", "Bench Fleet CA", "--no-encrypt"]);
    cli(["server", "issue", "srv", "--dns", "localhost", "--ip", "127.0.0.1"]);
    fs.writeFileSync(path.join(work, "fleet.csv"), "name,email\n" + Array.from({ length: n }, (_, i) => `host${i},host${i}@fleet.example`).join("\n") + "\n");
    cli(["client", "issue", "--from", path.join(work, "fleet.csv")]);
    // each agent's files: its certificate and key, as plain files (the first run takes them in)
    const agents = [];
    for (let i = 0; i < n; i++) {
      const d = path.join(work, "agents", `host${i}`);
      fs.mkdirSync(d, { recursive: true });
      fs.copyFileSync(path.join(dir, "issued", `host${i}.crt`), path.join(d, "app.crt"));
      fs.copyFileSync(path.join(dir, "private", `host${i}.key`), path.join(d, "app.key"));
      agents.push(d);
    }
    // the renewal times those certificates give, without and with the default jitter (10%)
    const certs = agents.map((d) => readCertificates(fs.readFileSync(path.join(d, "app.crt")), "app.crt")[0]);
    const spread = (jitter) => {
      const at = certs.map((c) => renewAt(c, { jitter }));
      const min = Math.min(...at);
      const mins = at.map((t) => (t - min) / 60_000);
      return { p0: pct(mins, 0), p10: pct(mins, 10), p50: pct(mins, 50), p90: pct(mins, 90), p100: pct(mins, 100) };
    };
    const noJitter = spread(0);
    const withJitter = spread(0.1);

    svc = spawn(process.execPath, [BIN, "serve", "--listen", "127.0.0.1:0", "--rate-limit", "0"], { env, stdio: ["ignore", "ignore", "pipe"] });
    let out = "";
    svc.stderr.on("data", (d) => (out += d));
    const port = await new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`serve did not start:\n${out}`)), 30_000);
      const iv = setInterval(() => {
        const m = /listening on https:\/\/[^\s]+:(\d+)/.exec(out);
        if (m) (clearInterval(iv), clearTimeout(t), resolve(Number(m[1])));
      }, 50);
    });
    const caFile = path.join(dir, "ca.crt");
    let failures = 0;
    const errors = new Map();
    const lat = [];
    const t0 = Date.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: conc }, async () => {
        while (next < agents.length) {
          const d = agents[next++];
          const a = new Agent(
            { caUrl: `https://127.0.0.1:${port}`, caFile, certFile: path.join(d, "app.crt"), keyFile: path.join(d, "app.key"), renewBefore: { fraction: 0.99999 }, retryForMs: 30_000 },
            { emit: () => undefined, log: () => undefined },
          );
          const s = Date.now();
          try {
            if ((await a.checkOnce()) !== "renewed") throw new Error("not renewed");
            lat.push(Date.now() - s);
          } catch (e) {
            failures++;
            errors.set(e.message, (errors.get(e.message) ?? 0) + 1);
          }
        }
      }),
    );
    const secs = (Date.now() - t0) / 1000;
    const row = {
      case: `${n} agents' renewals through Agent.checkOnce against one mtlsctl serve, ${conc} at a time`,
      renewalsPerSec: +(lat.length / secs).toFixed(1),
      failures,
      errors: Object.fromEntries(errors),
      latencyMs: { p50: pct(lat, 50), p99: pct(lat, 99) },
      renewalSpreadMinutes: { noJitter, jitter10: withJitter },
      goal: "failures 0",
      met: failures === 0,
    };
    log(`bench-fleet: ${row.renewalsPerSec} renewals/s, ${failures} failures; renewal-time spread over the fleet (minutes after the first): no jitter p50 ${noJitter.p50.toFixed(0)} p100 ${noJitter.p100.toFixed(0)}; 10% jitter p10 ${withJitter.p10.toFixed(0)} p50 ${withJitter.p50.toFixed(0)} p90 ${withJitter.p90.toFixed(0)} p100 ${withJitter.p100.toFixed(0)}`);
    return row;
  } finally {
    if (svc && svc.exitCode === null) svc.kill("SIGTERM");
    await new Promise((r) => setTimeout(r, 300));
    fs.rmSync(work, { recursive: true, force: true });
  }
};

if (require.main === module) module.exports().then((row) => console.log(JSON.stringify(row, null, 2)));
