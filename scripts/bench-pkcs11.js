#!/usr/bin/env node
/**
 * The CA key in SoftHSM2 beside the file key (issue 19, "Speed"): the same work on two stores, one made by
 * `ca init --no-encrypt` (the key in private/ca.key) and one by `ca init --pkcs11` (the key in a SoftHSM2
 * token in a temporary SOFTHSM2_CONF):
 *   - raw signatures/s through the Signer (dist/, one process, BENCH_P11_SIGNS, default 2000);
 *   - `client issue` as a process (median ms of BENCH_P11_RUNS, default 7, interleaved);
 *   - `client issue --from` of BENCH_P11_BULK rows (default 1000): issuances/s;
 *   - EST re-enrolments/s through `mtlsctl serve` (8 keep-alive mTLS clients, BENCH_P11_SECONDS, default 5).
 *
 *   node scripts/bench-pkcs11.js        (after npm run build; scripts/softhsm.sh installs SoftHSM2)
 *
 * Called by scripts/bench.js (BENCH_SKIP_PKCS11=1 leaves it out); returns its row.
 */
"use strict";
const { spawn, spawnSync, execFileSync } = require("node:child_process");
const fs = require("node:fs");
const https = require("node:https");
const os = require("node:os");
const path = require("node:path");

const { certFromCms } = require("./bench-serve.js");

const ROOT = path.resolve(__dirname, "..");
const BIN = path.join(ROOT, "bin", "mtlsctl");
const MODULE = ["/usr/lib/softhsm/libsofthsm2.so", "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so", "/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so"].find((m) => fs.existsSync(m));
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

function reenroll(port, c, agent) {
  return new Promise((resolve, reject) => {
    const req = https.request(
      { host: "127.0.0.1", port, method: "POST", path: "/.well-known/est/simplereenroll", ca: c.ca, cert: c.cert, key: c.key, servername: "localhost", agent, headers: { "Content-Type": "application/pkcs10", "Content-Length": c.csr.length } },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (d) => (text += d));
        res.on("end", () => {
          if (res.statusCode !== 200) return reject(new Error(`re-enrolment: ${res.statusCode} ${text}`));
          c.cert = certFromCms(text); // the next request presents the certificate just issued (the old one is superseded)
          if (agent) agent.options.cert = c.cert;
          resolve();
        });
      },
    );
    req.on("error", reject);
    req.end(c.csr);
  });
}

async function serveRate(env, dir, clients, seconds) {
  const proc = spawn(process.execPath, [BIN, "serve", "--listen", "127.0.0.1:0", "--rate-limit", "0"], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  proc.stdout.on("data", (d) => (out += d));
  proc.stderr.on("data", (d) => (out += d));
  try {
    const port = await new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`serve did not start:\n${out}`)), 20_000);
      proc.stderr.on("data", () => {
        const m = /listening on https:\/\/[^\s]+:(\d+)/.exec(out);
        if (m) (clearTimeout(t), resolve(Number(m[1])));
      });
      proc.on("exit", (code) => (clearTimeout(t), reject(new Error(`serve exited ${code}:\n${out}`))));
    });
    let n = 0;
    const deadline = Date.now() + seconds * 1000;
    await Promise.all(
      clients.map(async (c) => {
        const agent = new https.Agent({ keepAlive: true, maxSockets: 1, cert: c.cert, key: c.key, ca: c.ca });
        while (Date.now() < deadline) (await reenroll(port, c, agent), n++);
        agent.destroy();
      }),
    );
    return n / seconds;
  } finally {
    if (proc.exitCode === null) {
      const gone = new Promise((r) => proc.on("exit", r));
      proc.kill("SIGTERM");
      await gone;
    }
  }
}

module.exports = async function benchPkcs11(o = {}) {
  const log = o.log ?? ((m) => process.stderr.write(m + "\n"));
  if (!MODULE) throw new Error("bench-pkcs11: SoftHSM2 is not installed (bash scripts/softhsm.sh)");
  const signs = Number(process.env.BENCH_P11_SIGNS ?? 2000);
  const runs = Number(process.env.BENCH_P11_RUNS ?? 7);
  const bulk = Number(process.env.BENCH_P11_BULK ?? 1000);
  const seconds = Number(process.env.BENCH_P11_SECONDS ?? 5);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "mtlsctl-bench-p11-"));
  const conf = path.join(work, "softhsm2.conf");
  fs.mkdirSync(path.join(work, "tokens"));
  fs.writeFileSync(conf, `directories.tokendir = ${path.join(work, "tokens")}\nobjectstore.backend = file\n`);
  fs.writeFileSync(path.join(work, "pin"), "1234\n", { mode: 0o600 });
  const base = { SOFTHSM2_CONF: conf, NO_COLOR: "1" };
  execFileSync("softhsm2-util", ["--init-token", "--free", "--label", "bench", "--pin", "1234", "--so-pin", "5678"], { env: { ...process.env, ...base }, stdio: "pipe" });
  const uri = `pkcs11:token=bench;object=ca?module-path=${MODULE}&pin-source=file:${path.join(work, "pin")}`;
  const kinds = {
    file: { dir: path.join(work, "pki-file"), init: ["--no-encrypt"] },
    softhsm2: { dir: path.join(work, "pki-p11"), init: ["--pkcs11", uri] },
  };
  const cli = (k, args) => execFileSync(process.execPath, [BIN, ...args], { env: { ...process.env, ...base, MTLSCTL_DIR: kinds[k].dir }, stdio: ["ignore", "pipe", "pipe"], maxBuffer: 1 << 26 }).toString();
  try {
    const row = { case: "CA key in SoftHSM2 vs in a file (ec-p256)", file: {}, softhsm2: {} };
    for (const k of Object.keys(kinds)) {
      cli(k, ["ca", "init", "--name", `Bench ${k} CA`, ...kinds[k].init]);
      cli(k, ["server", "issue", "srv", "--dns", "localhost", "--ip", "127.0.0.1"]);
    }
    // raw signatures through the Signer, in a child with SOFTHSM2_CONF in its real environment
    for (const k of Object.keys(kinds)) {
      const script = `
        const { unlockCa } = require(${JSON.stringify(path.join(ROOT, "dist", "api", "store.js"))});
        unlockCa(${JSON.stringify(kinds[k].dir)}, {}).then(({ signer }) => {
          const tbs = Buffer.alloc(400, 7); const t0 = process.hrtime.bigint();
          for (let i = 0; i < ${signs}; i++) signer.sign(tbs);
          process.stdout.write(String(${signs} / (Number(process.hrtime.bigint() - t0) / 1e9)));
        });`;
      const r = spawnSync(process.execPath, ["-e", script], { env: { ...process.env, ...base }, encoding: "utf8" });
      if (r.status !== 0) throw new Error(`signs/s (${k}): ${r.stderr}`);
      row[k].signsPerSec = Math.round(Number(r.stdout));
    }
    // client issue, one process each, interleaved
    const ms = { file: [], softhsm2: [] };
    for (let i = 0; i < runs; i++)
      for (const k of Object.keys(kinds)) {
        const t0 = process.hrtime.bigint();
        cli(k, ["client", "issue", `c${i}`, "--email", `c${i}@example.com`]);
        ms[k].push(Number(process.hrtime.bigint() - t0) / 1e6);
      }
    for (const k of Object.keys(kinds)) row[k].clientIssueMs = +median(ms[k]).toFixed(1);
    // bulk
    fs.writeFileSync(path.join(work, "bulk.csv"), "name\n" + Array.from({ length: bulk }, (_, i) => `bulk${i}`).join("\n") + "\n");
    for (const k of Object.keys(kinds)) {
      const t0 = process.hrtime.bigint();
      cli(k, ["client", "issue", "--from", path.join(work, "bulk.csv")]);
      row[k].bulkPerSec = Math.round(bulk / (Number(process.hrtime.bigint() - t0) / 1e9));
    }
    // serve: EST re-enrolments, 8 keep-alive mTLS clients re-enrolling their own key
    for (const k of Object.keys(kinds)) {
      const dir = kinds[k].dir;
      const ca = fs.readFileSync(path.join(dir, "ca.crt"));
      const clients = [];
      for (let i = 0; i < 8; i++) {
        const name = `e${i}`;
        cli(k, ["client", "issue", name]);
        const keyFile = path.join(dir, "private", `${name}.key`);
        const csr = execFileSync("openssl", ["req", "-new", "-key", keyFile, "-subj", `/CN=${name}`, "-outform", "DER"]);
        clients.push({ ca, key: fs.readFileSync(keyFile), cert: fs.readFileSync(path.join(dir, "issued", `${name}.crt`)), csr: Buffer.from(csr.toString("base64") + "\n") });
      }
      row[k].serveEnrolPerSec = Math.round(await serveRate({ ...base, MTLSCTL_DIR: dir }, dir, clients, seconds));
    }
    row.ratio = {
      signs: +(row.softhsm2.signsPerSec / row.file.signsPerSec).toFixed(2),
      clientIssue: +(row.softhsm2.clientIssueMs / row.file.clientIssueMs).toFixed(2),
      bulk: +(row.softhsm2.bulkPerSec / row.file.bulkPerSec).toFixed(2),
      serve: +(row.softhsm2.serveEnrolPerSec / row.file.serveEnrolPerSec).toFixed(2),
    };
    log(`bench-pkcs11: ${JSON.stringify(row)}`);
    return row;
  } finally {
    fs.rmSync(work, { recursive: true, force: true, maxRetries: 5 });
  }
};

if (require.main === module)
  module.exports().then((row) => {
    const f = (v) => `${v.signsPerSec} signs/s, client issue ${v.clientIssueMs} ms, --from ${v.bulkPerSec}/s, serve ${v.serveEnrolPerSec} re-enrolments/s`;
    console.log(`${row.case}:\n  file key  ${f(row.file)}\n  SoftHSM2  ${f(row.softhsm2)}`);
  });
