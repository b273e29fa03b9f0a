#!/usr/bin/env node
/**
 * Bench: `mtlsctl client issue --from users.csv` (bulk issuance in one process).
 *  - 10,000 ec-p256 clients from CSV into a fresh store: certificates/s (median of BENCH_BULK_RUNS
 *    runs, 3 by default), peak RSS, and the ratio to `openssl speed -seconds 1 ecdsap256`'s sign rate
 *    measured just before and after each run (one core's worth of ECDSA signing on this machine now);
 *  - 1,000 clients: one bulk run against 1,000 `mtlsctl client issue NAME` invocations (BENCH_SINGLE_N
 *    to run fewer and scale up).
 *  - the floor (issue 16): after each 10,000 run, the same number of files of the same sizes in the same
 *    layout (issued/<name>.crt, private/<name>.key, each written beside its name and renamed, the
 *    directories flushed) created by a process that does nothing else; printed as bulk/floor (goal
 *    <= 1.3x). Bulk is bound by file creation on some machines: this is its floor. No syncfs: a
 *    whole-file-system flush costs what every other process on the machine has left dirty (bulk
 *    overlaps its flushes with the next batch's work), which would make the floor noise.
 * Each run gets a fresh store that stays until the end: deleting thousands of files just before a run
 * slows ext4's inode allocation for a minute (it skips recently deleted inodes), which would be
 * measured instead of mtlsctl.
 */
"use strict";
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const { spawnSync } = require("node:child_process");

const ROOT = path.resolve(__dirname, "..");
const BIN = path.join(ROOT, "bin", "mtlsctl");
const PASS = "bench-passphrase";

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** ECDSA P-256 signs per second by openssl on one core, now. */
function opensslSignRate() {
  const r = spawnSync("openssl", ["speed", "-seconds", "1", "ecdsap256"], { encoding: "utf8" });
  const m = /nistp256\)\s+\S+\s+\S+\s+([\d.]+)\s+([\d.]+)/.exec(r.stdout || "");
  if (r.status !== 0 || !m) throw new Error(`openssl speed failed: ${r.stderr}`);
  return Number(m[1]);
}

function newStore(work, label) {
  const dir = fs.mkdtempSync(path.join(work, `${label}-`));
  const env = { ...process.env, MTLSCTL_DIR: path.join(dir, "pki"), MTLSCTL_PASSPHRASE: PASS, NO_COLOR: "1" };
  const r = spawnSync(process.execPath, [BIN, "ca", "init", "--name", "Bench Bulk CA"], { env, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`ca init failed: ${r.stderr}`);
  return { dir, env };
}

function writeCsv(dir, n, prefix) {
  const file = path.join(dir, `users-${n}.csv`);
  let text = "name,email\n";
  for (let i = 0; i < n; i++) text += `${prefix}${i},${prefix}${i}@example.com\n`;
  fs.writeFileSync(file, text);
  return file;
}

/** One bulk run in a new process: ms from the CLI's start to its end, peak RSS, exit code. */
function bulkRun(store, csv) {
  const driver = `const {runCli}=require(${JSON.stringify(path.join(ROOT, "dist/cli/run.js"))});const t=process.hrtime.bigint();runCli(process.argv).then((c)=>{const ms=Number(process.hrtime.bigint()-t)/1e6;process.stderr.write("\\n"+JSON.stringify({code:c,ms,maxRssKb:process.resourceUsage().maxRSS,cpuMs:(process.resourceUsage().userCPUTime+process.resourceUsage().systemCPUTime)/1000})+"\\n");});`;
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, ["-e", driver, "mtlsctl", "--quiet", "client", "issue", "--from", csv], { env: store.env, encoding: "utf8", maxBuffer: 1 << 26 });
  const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
  const stat = JSON.parse(r.stderr.trim().split("\n").pop());
  if (stat.code !== 0) throw new Error(`bulk issue exited ${stat.code}: ${r.stderr.slice(0, 2000)}`);
  return { ms: stat.ms, wallMs, peakMb: stat.maxRssKb / 1024, cpuMs: stat.cpuMs };
}

/**
 * The floor under a bulk run: the files that `store` holds under issued/ and private/ (names and sizes),
 * created afresh in an empty directory of the same layout, each written to .<file>.tmp-<pid>-<hex> and
 * renamed (as bulk does), then the two directories flushed; nothing else. Time inside the process (like
 * bulkRun: from its start, without Node's start-up).
 */
function floorRun(work, store) {
  const pki = store.env.MTLSCTL_DIR;
  const files = [];
  for (const sub of ["private", "issued"]) for (const f of fs.readdirSync(path.join(pki, sub))) if (!f.startsWith(".") && f !== "ca.key") files.push([sub, f, fs.statSync(path.join(pki, sub, f)).size]);
  const list = path.join(work, `floor-${process.hrtime.bigint()}.json`);
  fs.writeFileSync(list, JSON.stringify(files));
  const dir = fs.mkdtempSync(path.join(work, "floor-"));
  const code = `
const fs=require("node:fs"),path=require("node:path"),{spawnSync}=require("node:child_process");
const [list,dir]=process.argv.slice(1);const files=JSON.parse(fs.readFileSync(list,"utf8"));
const t=process.hrtime.bigint();
fs.mkdirSync(path.join(dir,"issued"),{mode:0o755});fs.mkdirSync(path.join(dir,"private"),{mode:0o700});
const bufs=new Map();const pairs=[];let seq=0;
for(const [sub,f,size] of files){let b=bufs.get(size);if(!b){b=Buffer.alloc(size,65);bufs.set(size,b);}
const tmp=path.join(dir,sub,"."+f+".tmp-"+process.pid+"-"+(seq++).toString(16).padStart(8,"0"));
const fd=fs.openSync(tmp,"wx",sub==="private"?0o600:0o644);fs.writeSync(fd,b);fs.closeSync(fd);pairs.push([tmp,path.join(dir,sub,f)]);}
for(const [a,b] of pairs) fs.renameSync(a,b);
for(const sub of ["issued","private"]){const fd=fs.openSync(path.join(dir,sub),"r");fs.fsyncSync(fd);fs.closeSync(fd);}
process.stdout.write(JSON.stringify({ms:Number(process.hrtime.bigint()-t)/1e6,files:files.length}));`;
  const r = spawnSync(process.execPath, ["-e", code, list, dir], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`floor run failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

module.exports = function benchBulk(o = {}) {
  const n = o.n ?? Number(process.env.BENCH_BULK_N || 10000);
  const runs = o.runs ?? Number(process.env.BENCH_BULK_RUNS || 3);
  const singleN = o.singleN ?? Number(process.env.BENCH_SINGLE_N || 1000);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "mtlsctl-bench-bulk-"));
  try {
    const csvBig = writeCsv(work, n, "u");
    const csv1k = writeCsv(work, 1000, "k");

    // 10,000 from CSV, with openssl's sign rate measured around each run
    const big = [];
    for (let i = 0; i < runs; i++) {
      const store = newStore(work, "big");
      const before = opensslSignRate();
      const r = bulkRun(store, csvBig);
      const after = opensslSignRate();
      const sign = (before + after) / 2;
      const floor = floorRun(work, store);
      big.push({ ...r, certsPerSec: n / (r.ms / 1000), opensslSignPerSec: sign, ratio: n / (r.ms / 1000) / sign, floorMs: floor.ms, floorFiles: floor.files });
    }
    const mid = big.find((x) => x.certsPerSec === median(big.map((b) => b.certsPerSec))) ?? big[0];

    // 1,000: one bulk run, then 1,000 single invocations into another fresh store
    const small = newStore(work, "small");
    const bulk1k = bulkRun(small, csv1k);
    const singles = newStore(work, "singles");
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < singleN; i++) {
      const r = spawnSync(process.execPath, [BIN, "--quiet", "client", "issue", `s${i}`, "--email", `s${i}@example.com`], { env: singles.env, stdio: ["ignore", "ignore", "pipe"] });
      if (r.status !== 0) throw new Error(`client issue exited ${r.status}: ${r.stderr}`);
    }
    const singlesMs = (Number(process.hrtime.bigint() - t0) / 1e6) * (1000 / singleN);

    return {
      n,
      runs: big.map((b) => ({ ms: +b.ms.toFixed(0), wallMs: +b.wallMs.toFixed(0), certsPerSec: Math.round(b.certsPerSec), peakMb: Math.round(b.peakMb), opensslSignPerSec: Math.round(b.opensslSignPerSec), ratio: +b.ratio.toFixed(3), floorMs: +b.floorMs.toFixed(0), overFloor: +(b.ms / b.floorMs).toFixed(2) })),
      certsPerSec: mid.certsPerSec,
      peakMb: mid.peakMb,
      opensslSignPerSec: mid.opensslSignPerSec,
      ratioToOpensslSign: mid.ratio,
      // the floor: the same files alone (median of the runs' floors), and bulk over it (goal <= 1.3x)
      floorMs: median(big.map((b) => b.floorMs)),
      floorFiles: mid.floorFiles,
      overFloor: mid.ms / median(big.map((b) => b.floorMs)),
      bulk1kMs: bulk1k.ms,
      bulk1kPeakMb: bulk1k.peakMb,
      singles1kMs: singlesMs,
      singlesMeasured: singleN,
      singlesOverBulk: singlesMs / bulk1k.ms,
    };
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
};

if (require.main === module) {
  const r = module.exports();
  console.log(JSON.stringify(r, null, 2));
}

// the pieces, for drivers that interleave runs of two builds (before/after a change)
Object.assign(module.exports, { newStore, writeCsv, bulkRun, floorRun });
