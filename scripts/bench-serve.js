#!/usr/bin/env node
/**
 * The online CA's speed (issue 17): EST re-enrolments with 16 concurrent mTLS clients on loopback,
 * against `mtlsctl serve` (a store already holding BENCH_SERVE_N certificates, default 100,000) and,
 * side by side in the same run, globalsign's estserver (scripts/est-tools.sh; its mock CA set to the
 * same CA). Each client re-enrols with the certificate the previous answer gave it (mtlsctl supersedes
 * the old one). Modes: a new TLS connection per request, keep-alive; then latency at a fixed 200 req/s.
 * Figures: requests/s, p50/p99 (ms), the server's peak RSS (VmHWM). The load generator shares the cores.
 *
 *   node scripts/bench-serve.js            BENCH_SERVE_N=100000 BENCH_SERVE_SECONDS=8 BENCH_SERVE_CLIENTS=16
 *
 * For profiling: BENCH_SERVE_NODE_ARGS="--cpu-prof --cpu-prof-dir=D" (node options for serve),
 * BENCH_SERVE_ONLY=mtlsctl (no estserver, no cfssl), BENCH_SERVE_STORE=DIR (the filled store kept in
 * DIR and reused by the next run with the same DIR: the clients re-enrol with their current certificates),
 * BENCH_SERVE_OCSP=0 (EST only: no OCSP, no cfssl; the row holds only mtlsctl's and estserver's figures).
 *
 * Called by scripts/bench.js (BENCH_SKIP_SERVE=1 leaves it out); returns its row.
 */
"use strict";
const { spawn, spawnSync, execFileSync } = require("node:child_process");
const fs = require("node:fs");
const https = require("node:https");
const os = require("node:os");
const path = require("node:path");

const ROOT = path.resolve(__dirname, "..");
const BIN = path.join(ROOT, "bin", "mtlsctl");

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] : NaN;
};

/** The first certificate of a certs-only CMS (base64 body), as PEM. */
function certFromCms(b64) {
  const d = Buffer.from(b64.replace(/\s+/g, ""), "base64");
  const tlv = (buf, off) => {
    let len = buf[off + 1];
    let hl = 2;
    if (len & 0x80) {
      const n = len & 0x7f;
      len = 0;
      for (let i = 0; i < n; i++) len = len * 256 + buf[off + 2 + i];
      hl = 2 + n;
    }
    return { tag: buf[off], start: off + hl, end: off + hl + len };
  };
  const ci = tlv(d, 0);
  const oid = tlv(d, ci.start);
  const ex = tlv(d, oid.end);
  const sd = tlv(d, ex.start);
  let p = sd.start;
  for (;;) {
    const e = tlv(d, p);
    if (e.tag === 0xa0) {
      const c = tlv(d, e.start);
      const der = d.subarray(e.start, c.end);
      return `-----BEGIN CERTIFICATE-----\n${der.toString("base64").replace(/(.{64})/g, "$1\n")}\n-----END CERTIFICATE-----\n`;
    }
    p = e.end;
    if (p >= sd.end) throw new Error("no certificate in the answer");
  }
}

function startProc(cmd, args, env, ready) {
  const proc = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  proc.stdout.on("data", (d) => (out += d));
  proc.stderr.on("data", (d) => (out += d));
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${cmd} did not start:\n${out}`)), 20_000);
    const iv = setInterval(async () => {
      const port = await ready(out);
      if (port) {
        clearInterval(iv);
        clearTimeout(t);
        resolve({ proc, port, log: () => out });
      }
    }, 50);
    proc.on("exit", (c) => (clearInterval(iv), clearTimeout(t), reject(new Error(`${cmd} exited ${c}:\n${out}`))));
  });
}

const peakMb = (pid) => {
  const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) / 1024 : NaN;
};

function post(port, client, agent, body) {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const req = https.request(
      { host: "127.0.0.1", port, method: "POST", path: "/.well-known/est/simplereenroll", ca: client.ca, cert: client.cert, key: client.key, servername: "localhost", agent, headers: { "Content-Type": "application/pkcs10", "Content-Transfer-Encoding": "base64", "Content-Length": body.length } },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (c) => (text += c));
        res.on("end", () => resolve({ status: res.statusCode, text, ms: Number(process.hrtime.bigint() - t0) / 1e6 }));
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

/** One client's re-enrolment: the answer's certificate becomes its TLS certificate. */
async function reenrollOnce(port, c, agent) {
  const r = await post(port, c, agent, c.csr);
  if (r.status !== 200) throw new Error(`re-enrolment: ${r.status} ${r.text}`);
  c.cert = certFromCms(r.text);
  if (agent) agent.options.cert = c.cert; // a kept-alive socket keeps its handshake's certificate: fine for both servers
  return r.ms;
}

async function closedLoop(port, clients, seconds, keepAlive) {
  const lat = [];
  const deadline = Date.now() + seconds * 1000;
  await Promise.all(
    clients.map(async (c) => {
      const agent = keepAlive ? new https.Agent({ keepAlive: true, maxSockets: 1, cert: c.cert, key: c.key, ca: c.ca }) : false;
      while (Date.now() < deadline) lat.push(await reenrollOnce(port, c, agent));
      if (agent) agent.destroy();
    }),
  );
  return { perSec: lat.length / seconds, p50: pct(lat, 50), p99: pct(lat, 99), n: lat.length };
}

async function openLoop(port, clients, seconds, rate) {
  const lat = [];
  const agents = clients.map((c) => new https.Agent({ keepAlive: true, maxSockets: 1, cert: c.cert, key: c.key, ca: c.ca }));
  const busy = new Array(clients.length).fill(false);
  const t0 = Date.now();
  const pending = [];
  let late = 0;
  for (let i = 0; i < seconds * rate; i++) {
    const at = t0 + (i * 1000) / rate;
    const wait = at - Date.now();
    if (wait > 0) await sleep(wait);
    const k = busy.indexOf(false);
    if (k < 0) {
      late++;
      continue;
    }
    busy[k] = true;
    pending.push(reenrollOnce(port, clients[k], agents[k]).then((ms) => (lat.push(ms), (busy[k] = false))));
  }
  await Promise.all(pending);
  for (const a of agents) a.destroy();
  return { rate, p50: pct(lat, 50), p99: pct(lat, 99), n: lat.length, dropped: late };
}

const http = require("node:http");

/** A plain-HTTP POST (OCSP to serve's --http-listen, cfssl's JSON API); `agent` false: a new connection each time. */
function httpPost(port, pathName, type, body, agent) {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const req = http.request({ host: "127.0.0.1", port, method: "POST", path: pathName, agent, headers: { "Content-Type": type, "Content-Length": body.length } }, (res) => {
      const parts = [];
      res.on("data", (c) => parts.push(c));
      res.on("end", () => resolve({ status: res.statusCode, body: Buffer.concat(parts), ms: Number(process.hrtime.bigint() - t0) / 1e6 }));
    });
    req.on("error", reject);
    req.end(body);
  });
}

/** `clients` concurrent plain-HTTP callers for `seconds`; `check` throws on a wrong answer (every answer is checked). */
async function httpLoop(port, pathName, type, body, clients, seconds, keepAlive, check) {
  const lat = [];
  const deadline = Date.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: clients }, async () => {
      const agent = keepAlive ? new http.Agent({ keepAlive: true, maxSockets: 1 }) : false;
      while (Date.now() < deadline) {
        const r = await httpPost(port, pathName, type, body, agent);
        check(r);
        lat.push(r.ms);
      }
      if (agent) agent.destroy();
    }),
  );
  return { perSec: lat.length / seconds, p50: pct(lat, 50), p99: pct(lat, 99), n: lat.length };
}

/** An OCSP response whose responseStatus is successful (0) and whose single answer is "good" ([0] NULL, 80 00). */
function checkOcspGood(r) {
  if (r.status !== 200) throw new Error(`OCSP: HTTP ${r.status} ${r.body.toString().slice(0, 200)}`);
  if (r.body[0] !== 0x30 || !r.body.includes(Buffer.from([0x0a, 0x01, 0x00]))) throw new Error("OCSP: not a successful response");
  if (!r.body.includes(Buffer.from([0x80, 0x00]))) throw new Error("OCSP: the answer is not good");
}

module.exports = async function benchServe(o = {}) {
  const log = o.log ?? ((m) => process.stderr.write(m + "\n"));
  const n = Number(process.env.BENCH_SERVE_N ?? 100_000);
  const seconds = Number(process.env.BENCH_SERVE_SECONDS ?? 8);
  const nClients = Number(process.env.BENCH_SERVE_CLIENTS ?? 16);
  const kept = process.env.BENCH_SERVE_STORE ? path.resolve(process.env.BENCH_SERVE_STORE) : null;
  const onlyMtlsctl = process.env.BENCH_SERVE_ONLY === "mtlsctl";
  const nodeArgs = (process.env.BENCH_SERVE_NODE_ARGS ?? "").split(/\s+/).filter(Boolean);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "mtlsctl-bench-serve-"));
  const dir = kept ?? path.join(work, "pki");
  const reuse = kept !== null && fs.existsSync(path.join(dir, "inventory.json"));
  const env = { MTLSCTL_DIR: dir, NO_COLOR: "1" };
  const cli = (args) => execFileSync(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"], maxBuffer: 1 << 26 }).toString();
  const procs = [];
  try {
    if (!reuse) cli(["ca", "init", "--name", "Bench Serve CA", "--no-encrypt"]);
    if (!reuse) cli(["server", "issue", "srv", "--dns", "localhost", "--ip", "127.0.0.1"]);
    if (n > 0 && !reuse) {
      fs.writeFileSync(path.join(work, "fill.csv"), "name\n" + Array.from({ length: n }, (_, i) => `fill${i}`).join("\n") + "\n");
      const t = Date.now();
      cli(["client", "issue", "--from", path.join(work, "fill.csv")]);
      log(`bench-serve: ${n} certificates in the store (${((Date.now() - t) / 1000).toFixed(1)} s)`);
    }
    const ca = fs.readFileSync(path.join(dir, "ca.crt"));
    const clients = [];
    for (let i = 0; i < nClients; i++) {
      const name = `b${i}`;
      if (!reuse) cli(["client", "issue", name]);
      const keyFile = path.join(dir, "private", `${name}.key`);
      const csrDer = execFileSync("openssl", ["req", "-new", "-key", keyFile, "-subj", `/CN=${name}`, "-outform", "DER"]);
      clients.push({ name, ca, key: fs.readFileSync(keyFile), cert: fs.readFileSync(path.join(dir, "issued", `${name}.crt`), "utf8"), csr: Buffer.from(csrDer.toString("base64") + "\n") });
    }
    const first = clients.map((c) => c.cert);

    const results = {};
    // mtlsctl serve
    const svc = await startProc(process.execPath, [...nodeArgs, BIN, "serve", "--listen", "127.0.0.1:0", "--http-listen", "127.0.0.1:0", "--rate-limit", "0"], env, (out) => Number(/listening on https:\/\/[^\s]+:(\d+)/.exec(out)?.[1] ?? 0));
    procs.push(svc.proc);
    const httpPort = Number(/on http:\/\/[^\s]+:(\d+)/.exec(svc.log())?.[1] ?? 0);
    // estserver: its mock CA is the same CA (key unencrypted PKCS#8), its TLS certificate the same server certificate
    const { estserver } = JSON.parse(
      JSON.stringify(Object.fromEntries(execFileSync("bash", [path.join(__dirname, "est-tools.sh"), "--check"]).toString().trim().split("\n").map((l) => l.split(" ")))),
    );
    const port2 = await new Promise((r) => {
      const s = require("node:net").createServer().listen(0, "127.0.0.1", () => {
        const p = s.address().port;
        s.close(() => r(p));
      });
    });
    const cfg = {
      mock_ca: { certificates: path.join(dir, "ca.crt"), private_key: path.join(dir, "private", "ca.key") },
      tls: { listen_address: `127.0.0.1:${port2}`, certificates: path.join(dir, "issued", "srv.crt"), private_key: path.join(dir, "private", "srv.key"), client_cas: [path.join(dir, "ca.crt")] },
      allowed_hosts: ["localhost", "127.0.0.1"],
      rate_limit: 0,
      timeout: 30,
    };
    fs.writeFileSync(path.join(work, "estserver.json"), JSON.stringify(cfg));
    const est = onlyMtlsctl ? null : await startProc(estserver, ["-config", path.join(work, "estserver.json")], {}, async () => {
      const ok = await new Promise((r) => {
        const s = require("node:net").connect(port2, "127.0.0.1", () => (s.destroy(), r(true)));
        s.on("error", () => r(false));
      });
      return ok ? port2 : 0;
    });
    if (est) procs.push(est.proc);

    for (const [label, port, pid] of [["mtlsctl serve", svc.port, svc.proc.pid], ...(est ? [["globalsign estserver", est.port, est.proc.pid]] : [])]) {
      clients.forEach((c, i) => (c.cert = first[i]));
      if (label !== "mtlsctl serve") clients.forEach((c) => (c.cert = first[clients.indexOf(c)]));
      // mtlsctl supersedes each certificate it renews: start each run from the current one
      if (label === "mtlsctl serve" && results.current) clients.forEach((c, i) => (c.cert = results.current[i]));
      await closedLoop(port, clients, 1, true); // warm-up
      const fresh = await closedLoop(port, clients, seconds, false);
      const kept = await closedLoop(port, clients, seconds, true);
      const open = await openLoop(port, clients, Math.max(3, Math.round(seconds / 2)), 200);
      results[label] = { newConnection: fresh, keepAlive: kept, at200: open, rssMb: peakMb(pid) };
      log(`bench-serve: ${label}: ${fresh.perSec.toFixed(0)}/s new connection, ${kept.perSec.toFixed(0)}/s keep-alive; at 200/s p50 ${open.p50.toFixed(1)} ms p99 ${open.p99.toFixed(1)} ms; RSS ${results[label].rssMb.toFixed(0)} MB`);
    }
    if (process.env.BENCH_SERVE_OCSP === "0") return { case: "EST only (BENCH_SERVE_OCSP=0)", mtlsctl: results["mtlsctl serve"], estserver: results["globalsign estserver"] ?? null };
    // OCSP: openssl's request (SHA-1 CertID, no nonce: cacheable) for one client, over plain HTTP
    execFileSync("openssl", ["ocsp", "-issuer", path.join(dir, "ca.crt"), "-cert", path.join(dir, "issued", "b0.crt"), "-no_nonce", "-reqout", path.join(work, "ocsp.req")], { stdio: "ignore" });
    const ocspReq = fs.readFileSync(path.join(work, "ocsp.req"));
    const ocspKept = await httpLoop(httpPort, "/ocsp", "application/ocsp-request", ocspReq, nClients, seconds, true, checkOcspGood);
    const ocspFresh = await httpLoop(httpPort, "/ocsp", "application/ocsp-request", ocspReq, nClients, Math.max(2, Math.round(seconds / 2)), false, checkOcspGood);
    log(`bench-serve: mtlsctl serve OCSP: ${ocspKept.perSec.toFixed(0)}/s keep-alive (p99 ${ocspKept.p99.toFixed(1)} ms), ${ocspFresh.perSec.toFixed(0)}/s new connection`);

    // cfssl serve (Debian golang-cfssl): /api/v1/cfssl/sign with the same CA, plain HTTP, no database
    let cfssl = null;
    const cfsslBin = onlyMtlsctl ? undefined : ["/usr/bin/cfssl", "/usr/local/bin/cfssl"].find((f) => fs.existsSync(f));
    if (cfsslBin) {
      const cport = await new Promise((r) => {
        const s = require("node:net").createServer().listen(0, "127.0.0.1", () => {
          const p = s.address().port;
          s.close(() => r(p));
        });
      });
      const cf = await startProc(cfsslBin, ["serve", "-address", "127.0.0.1", "-port", String(cport), "-ca", path.join(dir, "ca.crt"), "-ca-key", path.join(dir, "private", "ca.key")], {}, (out) => (/Now listening|listening on/i.test(out) ? cport : 0));
      procs.push(cf.proc);
      const csrPem = execFileSync("openssl", ["req", "-new", "-key", path.join(dir, "private", "b0.key"), "-subj", "/CN=b0"]).toString();
      const signBody = Buffer.from(JSON.stringify({ certificate_request: csrPem }));
      const checkSigned = (r) => {
        const j = r.status === 200 ? JSON.parse(r.body.toString()) : null;
        if (!j || !j.success || !/BEGIN CERTIFICATE/.test(j.result?.certificate ?? "")) throw new Error(`cfssl sign: HTTP ${r.status} ${r.body.toString().slice(0, 200)}`);
      };
      const cKept = await httpLoop(cport, "/api/v1/cfssl/sign", "application/json", signBody, nClients, seconds, true, checkSigned);
      const cFresh = await httpLoop(cport, "/api/v1/cfssl/sign", "application/json", signBody, nClients, seconds, false, checkSigned);
      cfssl = { newConnection: cFresh, keepAlive: cKept, rssMb: peakMb(cf.proc.pid) };
      log(`bench-serve: cfssl serve (plain HTTP, no mTLS, no store): ${cFresh.perSec.toFixed(0)}/s new connection, ${cKept.perSec.toFixed(0)}/s keep-alive; RSS ${cfssl.rssMb.toFixed(0)} MB`);
    } else log("bench-serve: cfssl: not installed (apt-get install golang-cfssl; scripts/bench-setup.sh)");

    const m = results["mtlsctl serve"];
    const e = results["globalsign estserver"] ?? { newConnection: { perSec: NaN }, keepAlive: { perSec: NaN }, at200: {}, rssMb: NaN };
    const row = {
      case: `EST re-enrolments, ${nClients} concurrent mTLS clients, store of ${n}`,
      mtlsctl: m,
      estserver: e,
      ratioNewConnection: +(m.newConnection.perSec / e.newConnection.perSec).toFixed(2),
      ratioKeepAlive: +(m.keepAlive.perSec / e.keepAlive.perSec).toFixed(2),
      cfssl: cfssl ?? "not installed (apt-get install golang-cfssl)",
      ratioCfsslKeepAlive: cfssl ? +(m.keepAlive.perSec / cfssl.keepAlive.perSec).toFixed(2) : null,
      ocsp: { keepAlive: ocspKept, newConnection: ocspFresh },
      goal: ">= estserver's rate; p99 <= 50 ms at 200/s; RSS <= 200 MB; OCSP >= 5,000/s",
    };
    row.met = row.ratioKeepAlive >= 1 && row.ratioNewConnection >= 1 && m.at200.p99 <= 50 && m.rssMb <= 200 && ocspKept.perSec >= 5000;
    return row;
  } finally {
    for (const p of procs) if (p.exitCode === null) p.kill("SIGTERM");
    await Promise.all(procs.map((p) => (p.exitCode === null ? new Promise((r) => (p.once("exit", r), setTimeout(r, 5000))) : null))); // serve writes its --cpu-prof on exit
    await sleep(300);
    fs.rmSync(work, { recursive: true, force: true });
  }
};

module.exports.certFromCms = certFromCms; // scripts/bench-pkcs11.js

if (require.main === module)
  module.exports().then((row) => {
    const f = (x) => (typeof x === "number" ? x.toFixed(1) : x);
    console.log(row.case);
    if (!row.ocsp) return console.log(JSON.stringify({ mtlsctl: row.mtlsctl, estserver: row.estserver }));
    console.log(["", "new conn/s", "keep-alive/s", "p50@200/s ms", "p99@200/s ms", "RSS MB"].join("\t"));
    for (const [k, v] of [["mtlsctl serve", row.mtlsctl], ["estserver", row.estserver]]) console.log([k, f(v.newConnection.perSec), f(v.keepAlive.perSec), f(v.at200.p50), f(v.at200.p99), f(v.rssMb)].join("\t"));
    if (typeof row.cfssl === "object") console.log(["cfssl serve", f(row.cfssl.newConnection.perSec), f(row.cfssl.keepAlive.perSec), "-", "-", f(row.cfssl.rssMb)].join("\t"));
    console.log(`OCSP (mtlsctl serve, plain HTTP): ${f(row.ocsp.keepAlive.perSec)}/s keep-alive (p50 ${f(row.ocsp.keepAlive.p50)} ms, p99 ${f(row.ocsp.keepAlive.p99)} ms), ${f(row.ocsp.newConnection.perSec)}/s new connection`);
    console.log(`ratios mtlsctl/estserver: new connection ${row.ratioNewConnection}x, keep-alive ${row.ratioKeepAlive}x; goal ${row.goal}: ${row.met ? "met" : "NOT met"}`);
  });
