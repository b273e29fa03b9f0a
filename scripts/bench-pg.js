#!/usr/bin/env node
/**
 * Enrolments per second through `mtlsctl serve` (issue 19): the file store, PostgreSQL with one
 * instance, and PostgreSQL with two instances on the same database. EST simpleenroll with one-time
 * tokens (made in-process beforehand through the library), CLIENTS concurrent keep-alive clients on
 * loopback for SECONDS (or until the tokens run out); the load generator shares the cores.
 *
 *   node scripts/bench-pg.js        BENCH_PG_SECONDS=6 BENCH_PG_CLIENTS=16 BENCH_PG_TOKENS=800
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

(async () => {
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
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
