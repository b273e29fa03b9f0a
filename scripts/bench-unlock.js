#!/usr/bin/env node
/**
 * The CA key's unlock time (issue 21 §2): opening private/ca.key with its passphrase, PBES2 with
 * PBKDF2-HMAC-SHA256 at KEY_KDF's iterations (600,000) and a 16-byte salt, as every command that signs
 * does it (Store.caKey: read, mode check, decrypt, match the certificate), in this process, after a
 * store made by the real CLI. Medians of BENCH_UNLOCK_RUNS (15) per key type. Goal: under one second.
 * Beside it, `openssl pkey` opening the same file (a whole process: OpenSSL's own PBKDF2).
 *
 *   node scripts/bench-unlock.js        (after npm run build)
 * Called by scripts/bench.js (BENCH_SKIP_UNLOCK=1 leaves it out); returns its row.
 */
"use strict";
const { spawnSync } = require("node:child_process");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");

const ROOT = path.resolve(__dirname, "..");
const BIN = path.join(ROOT, "bin", "mtlsctl");
const PASS = "bench-unlock-passphrase";

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

function wall(fn) {
  const t0 = process.hrtime.bigint();
  const v = fn();
  return { ms: Number(process.hrtime.bigint() - t0) / 1e6, v };
}

module.exports = function benchUnlock(o = {}) {
  const log = o.log || (() => {});
  const runs = Number(process.env.BENCH_UNLOCK_RUNS || 15);
  const { Store } = require(path.join(ROOT, "dist", "store", "store.js"));
  const { KEY_KDF } = require(path.join(ROOT, "dist", "pki", "keys.js"));
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "mtlsctl-bench-unlock-"));
  const openssl = spawnSync("openssl", ["version"], { encoding: "utf8" }).status === 0;
  const row = { case: `the CA key's unlock: private/ca.key, PBKDF2-HMAC-SHA256 × ${KEY_KDF.iterations.toLocaleString("en-US")}, ${KEY_KDF.saltBytes}-byte salt (Store.caKey, in process)`, iterations: KEY_KDF.iterations, saltBytes: KEY_KDF.saltBytes, runs, goal: "< 1000 ms", keys: {} };
  try {
    for (const kt of ["ec-p256", "rsa-4096"]) {
      const dir = path.join(work, kt);
      const r = spawnSync(process.execPath, [BIN, "ca", "init", "--name", `Unlock ${kt}`, "--key", kt], { env: { ...process.env, MTLSCTL_DIR: dir, MTLSCTL_PASSPHRASE: PASS }, encoding: "utf8" });
      if (r.status !== 0) throw new Error(`ca init --key ${kt} failed: ${r.stderr}`);
      const store = new Store(dir);
      const caCert = store.caCertificate();
      store.caKey(PASS, caCert); // warm: the file cache, the first use of the KDF
      const ms = [];
      for (let i = 0; i < runs; i++) ms.push(wall(() => new Store(dir).caKey(PASS, caCert)).ms);
      const k = { medianMs: +median(ms).toFixed(1), minMs: +Math.min(...ms).toFixed(1), maxMs: +Math.max(...ms).toFixed(1) };
      if (openssl) {
        const os_ = [];
        for (let i = 0; i < Math.min(runs, 7); i++) os_.push(wall(() => spawnSync("openssl", ["pkey", "-in", store.caKeyFile, "-passin", `pass:${PASS}`, "-noout"])).ms);
        const start = [];
        for (let i = 0; i < Math.min(runs, 7); i++) start.push(wall(() => spawnSync("openssl", ["version"])).ms);
        k.opensslPkeyMs = +median(os_).toFixed(1);
        k.opensslStartMs = +median(start).toFixed(1);
      }
      row.keys[kt] = k;
      log(`bench-unlock: ${kt}: median ${k.medianMs} ms`);
    }
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
  row.medianMs = Math.max(...Object.values(row.keys).map((k) => k.medianMs));
  row.met = row.medianMs < 1000;
  return row;
};

if (require.main === module) {
  const row = module.exports({ log: (m) => process.stderr.write(m + "\n") });
  for (const [kt, k] of Object.entries(row.keys))
    console.log(`${row.case}, ${kt}: ${k.medianMs} ms median of ${row.runs} (min ${k.minMs}, max ${k.maxMs})${k.opensslPkeyMs !== undefined ? `; openssl pkey ${k.opensslPkeyMs} ms whole (start-up ${k.opensslStartMs} ms)` : ""}; goal ${row.goal}: ${row.met ? "met" : "NOT met"}`);
}
