#!/usr/bin/env node
/**
 * The store's per-certificate cost (issue 16 §3): one `client issue` into a store of 100
 * certificates and into one of 100,000 (made by `client issue --from`), interleaved, medians of wall
 * time and of peak RSS (GNU time's %M). Goal: the big store within 1.5x of the small one.
 *
 *   node scripts/bench-store.js                       this checkout
 *   BENCH_STORE_BIN=/other/bin/mtlsctl node ...        another build (before/after)
 *   BENCH_STORE_N=100000 BENCH_STORE_RUNS=7            sizes and repeats
 *
 * Called by scripts/bench.js (BENCH_SKIP_STORE=1 leaves it out); returns its row.
 */
"use strict";
const { spawnSync } = require("node:child_process");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");

const ROOT = path.resolve(__dirname, "..");

function run(bin, args, env, withTime) {
  const argv = withTime && fs.existsSync("/usr/bin/time") ? ["/usr/bin/time", ["-f", "%M", process.execPath, bin, ...args]] : [process.execPath, [bin, ...args]];
  const t0 = process.hrtime.bigint();
  const r = spawnSync(argv[0], argv[1], { env: { ...process.env, ...env }, stdio: ["ignore", "ignore", "pipe"], maxBuffer: 1 << 26 });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${args.join(" ")} failed: ${r.stderr}`);
  const kb = withTime ? Number(String(r.stderr).trim().split("\n").pop()) : NaN;
  return { ms, mb: kb / 1024 };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

function makeStore(bin, work, label, n, log) {
  const dir = path.join(work, label);
  const env = { MTLSCTL_DIR: dir, NO_COLOR: "1" };
  run(bin, ["ca", "init", "--name", `Bench ${label}`, "--no-encrypt"], env);
  const csv = path.join(work, `${label}.csv`);
  const lines = ["name"];
  for (let i = 0; i < n; i++) lines.push(`u${i}`);
  fs.writeFileSync(csv, lines.join("\n") + "\n");
  const t = run(bin, ["client", "issue", "--from", csv], env);
  log(`bench-store: ${label}: ${n} certificates by client issue --from in ${(t.ms / 1000).toFixed(1)} s`);
  return env;
}

module.exports = function benchStore(o = {}) {
  const bin = o.bin ?? process.env.BENCH_STORE_BIN ?? path.join(ROOT, "bin", "mtlsctl");
  const big = Number(o.n ?? process.env.BENCH_STORE_N ?? 100_000);
  const small = 100;
  const runs = Number(o.runs ?? process.env.BENCH_STORE_RUNS ?? 7);
  const log = o.log ?? ((m) => process.stderr.write(m + "\n"));
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "mtlsctl-bench-store-"));
  try {
    const envs = { small: makeStore(bin, work, "small", small, log), big: makeStore(bin, work, "big", big, log) };
    const s = { small: [], big: [] };
    for (let i = 0; i < runs + 1; i++)
      for (const k of i % 2 ? ["big", "small"] : ["small", "big"]) {
        const r = run(bin, ["client", "issue", `single${i}`, "--email", `single${i}@example.com`], envs[k], true);
        if (i > 0) s[k].push(r); // the first round warms the file cache
      }
    const m = (k, f) => median(s[k].map((r) => r[f]));
    const row = {
      case: `client issue into ${small} vs ${big} certificates`,
      bin: path.relative(ROOT, bin) || bin,
      smallMs: +m("small", "ms").toFixed(1),
      bigMs: +m("big", "ms").toFixed(1),
      ratio: +(m("big", "ms") / m("small", "ms")).toFixed(2),
      smallMb: +m("small", "mb").toFixed(0),
      bigMb: +m("big", "mb").toFixed(0),
      goal: "<= 1.5x",
    };
    row.met = row.ratio <= 1.5;
    return row;
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
};

if (require.main === module) {
  const row = module.exports();
  console.log(
    `${row.case} (${row.bin}): ${row.smallMs} ms / ${row.bigMs} ms = ${row.ratio}x (goal ${row.goal}: ${row.met ? "met" : "NOT met"}); peak RSS ${row.smallMb} MB / ${row.bigMb} MB`,
  );
}
