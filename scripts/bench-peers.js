/**
 * mtlsctl against its peers (mkcert, easy-rsa, cfssl, the openssl CLI) and the hardware, for
 * `npm run bench` (scripts/bench.js calls in here; this file also runs alone: node scripts/bench-peers.js).
 *
 * - peerCases(): one client certificate per process, ec-p256 and rsa-2048, for each peer (each with
 *   its own CA made once, outside the timed loop) plus `mtlsctl explain cert.pem`; bench.js runs them
 *   in its interleaved loop beside `node -e 0`, so every row has its reference in the same run.
 * - thousand(): 1,000 client certificates: one `mtlsctl client issue --from users.csv` against 1,000
 *   invocations of each peer (the way those tools are scripted), interleaved round-robin.
 * - rsa(): RSA-2048 / RSA-4096 key generation, mtlsctl's own generateKey against `openssl genpkey`.
 * - scale(): the 100,000-certificate memory runs (BENCH_SCALE=100000; off by default).
 * - report(): the one table (printed) and bench/results.json.
 *
 * A peer that is not installed is never skipped silently: its row says "not installed (apt-get install X)".
 * `npm run bench:setup` (scripts/bench-setup.sh) installs them.
 */
"use strict";
const { spawnSync } = require("node:child_process");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");

const ROOT = path.resolve(__dirname, "..");
const BIN = path.join(ROOT, "bin", "mtlsctl");
const RSS = path.join(__dirname, "bench-rss.js"); // preload: writes the process's peak RSS at exit
const EASYRSA = process.env.EASYRSA_BIN || "/usr/share/easy-rsa/easyrsa";

const median = (xs) => {
  const s = xs.filter((x) => typeof x === "number").sort((a, b) => a - b);
  if (!s.length) return NaN;
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

function which(cmd) {
  for (const d of (process.env.PATH || "").split(":")) {
    const f = path.join(d || ".", cmd);
    try {
      fs.accessSync(f, fs.constants.X_OK);
      return f;
    } catch {
      /* next */
    }
  }
  return null;
}

/** Runs one command (or a list of them, one after another, like `a && b && c`); returns wall ms. */
function timeSteps(steps) {
  const t0 = process.hrtime.bigint();
  for (const s of steps) {
    const r = spawnSync(s.cmd, s.args, { env: { ...process.env, ...(s.env || {}) }, cwd: s.cwd, stdio: ["ignore", "ignore", "pipe"], maxBuffer: 1 << 26 });
    if (r.status !== 0) throw new Error(`${s.cmd} ${s.args.join(" ")} failed (${r.status ?? r.signal}): ${String(r.stderr).slice(-2000)}`);
  }
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

const run = (cmd, args, opts = {}) => {
  const r = spawnSync(cmd, args, { encoding: "utf8", ...opts, env: { ...process.env, ...(opts.env || {}) } });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed: ${r.stderr}`);
  return r.stdout;
};

const sq = (s) => `'${String(s).replace(/'/g, `'\\''`)}'`;

// ---------------------------------------------------------------------------------------------
// The peers. setup(dir) makes the peer's CA (outside any timed loop) and returns
// steps(name, keyType) -> the commands that issue one client certificate with an email SAN.

const PEERS = [
  {
    id: "mkcert",
    label: { "ec-p256": "mkcert -client -ecdsa", "rsa-2048": "mkcert -client (rsa-2048)" },
    apt: "mkcert",
    found: () => which("mkcert"),
    setup(dir) {
      const caroot = path.join(dir, "caroot");
      fs.mkdirSync(caroot, { recursive: true });
      const out = path.join(dir, "out");
      fs.mkdirSync(out);
      // the first run creates mkcert's CA in CAROOT (never -install: no trust store is touched)
      run("mkcert", ["-client", "-ecdsa", "-cert-file", path.join(out, "setup.crt"), "-key-file", path.join(out, "setup.key"), "setup@example.com"], { env: { CAROOT: caroot } });
      return (name, keyType) => [
        { cmd: "mkcert", args: ["-client", ...(keyType === "ec-p256" ? ["-ecdsa"] : []), "-cert-file", path.join(out, `${name}.crt`), "-key-file", path.join(out, `${name}.key`), `${name}@example.com`], env: { CAROOT: caroot } },
      ];
    },
  },
  {
    id: "easyrsa",
    label: { "ec-p256": "easy-rsa build-client-full nopass", "rsa-2048": "easy-rsa build-client-full nopass (rsa-2048)" },
    apt: "easy-rsa",
    found: () => (fs.existsSync(EASYRSA) ? EASYRSA : which("easyrsa")),
    setup(dir) {
      const bin = this.found();
      const base = { EASYRSA_PKI: path.join(dir, "pki"), EASYRSA_BATCH: "1" };
      const ec = { ...base, EASYRSA_ALGO: "ec", EASYRSA_CURVE: "prime256v1" };
      run(bin, ["init-pki"], { env: base, cwd: dir });
      run(bin, ["build-ca", "nopass"], { env: { ...ec, EASYRSA_REQ_CN: "Bench easy-rsa CA" }, cwd: dir });
      const env = { "ec-p256": ec, "rsa-2048": { ...base, EASYRSA_ALGO: "rsa", EASYRSA_KEY_SIZE: "2048" } };
      return (name, keyType) => [{ cmd: bin, args: [`--subject-alt-name=email:${name}@example.com`, "build-client-full", name, "nopass"], env: env[keyType], cwd: dir }];
    },
  },
  {
    id: "cfssl",
    label: { "ec-p256": "cfssl gencert | cfssljson -bare", "rsa-2048": "cfssl gencert | cfssljson -bare (rsa-2048)" },
    apt: "golang-cfssl",
    found: () => which("cfssl") && which("cfssljson"),
    setup(dir) {
      fs.writeFileSync(path.join(dir, "ca-csr.json"), JSON.stringify({ CN: "Bench cfssl CA", key: { algo: "ecdsa", size: 256 } }));
      fs.writeFileSync(path.join(dir, "config.json"), JSON.stringify({ signing: { default: { expiry: "8760h" }, profiles: { client: { expiry: "8760h", usages: ["digital signature", "client auth"] } } } }));
      run("sh", ["-c", "cfssl gencert -initca ca-csr.json | cfssljson -bare ca"], { cwd: dir });
      const key = { "ec-p256": { algo: "ecdsa", size: 256 }, "rsa-2048": { algo: "rsa", size: 2048 } };
      fs.mkdirSync(path.join(dir, "out"));
      return (name, keyType) => {
        const csr = JSON.stringify({ CN: name, hosts: [`${name}@example.com`], key: key[keyType] });
        return [{ cmd: "sh", args: ["-c", `echo ${sq(csr)} | cfssl gencert -ca ca.pem -ca-key ca-key.pem -config config.json -profile client - | cfssljson -bare out/${name}`], cwd: dir }];
      };
    },
  },
  {
    id: "openssl",
    label: { "ec-p256": "openssl genpkey + req + x509 -req", "rsa-2048": "openssl genpkey + req + x509 -req (rsa-2048)" },
    apt: "openssl",
    found: () => which("openssl"),
    setup(dir) {
      run("openssl", ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", "ca.key"], { cwd: dir });
      run("openssl", ["req", "-x509", "-new", "-key", "ca.key", "-subj", "/CN=Bench openssl CA", "-days", "3650", "-out", "ca.crt", "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"], { cwd: dir });
      fs.writeFileSync(path.join(dir, "client.ext"), "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\nsubjectAltName=email:$ENV::BENCH_EMAIL\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n");
      fs.mkdirSync(path.join(dir, "out"));
      const gen = { "ec-p256": ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"], "rsa-2048": ["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"] };
      return (name, keyType) => {
        const o = (ext) => `out/${name}.${ext}`;
        return [
          { cmd: "openssl", args: ["genpkey", ...gen[keyType], "-out", o("key")], cwd: dir },
          { cmd: "openssl", args: ["req", "-new", "-key", o("key"), "-subj", `/CN=${name}`, "-out", o("csr")], cwd: dir },
          // no serial file: openssl 3 then picks a random serial
          { cmd: "openssl", args: ["x509", "-req", "-in", o("csr"), "-CA", "ca.crt", "-CAkey", "ca.key", "-days", "365", "-extfile", "client.ext", "-out", o("crt")], env: { BENCH_EMAIL: `${name}@example.com` }, cwd: dir },
        ];
      };
    },
  },
];

const notInstalled = (p) => `not installed (apt-get install ${p.apt}; or npm run bench:setup)`;

// keys of bench.js's `cases` (the interleaved per-process loop)
const K = {
  node: "node -e 0",
  help: "mtlsctl --help",
  explain: "mtlsctl explain cert.pem",
  issue: { "ec-p256": "mtlsctl client issue (ec-p256)", "rsa-2048": "mtlsctl client issue (rsa-2048)" },
  peer: (p, kt) => `${p.id} (${kt})`,
  keygen: "rsa-2048 key, in process (mtlsctl's generateKey)",
  // the same start-ups without NODE_EXTRA_CA_CERTS, when it is set (Node parses that bundle at every start)
  clean: { node: "node -e 0 (no NODE_EXTRA_CA_CERTS)", help: "mtlsctl --help (no NODE_EXTRA_CA_CERTS)", explain: "mtlsctl explain cert.pem (no NODE_EXTRA_CA_CERTS)", floor: "floor: explain in 5 lines (no NODE_EXTRA_CA_CERTS)" },
  // what no Node CLI can go under: node:crypto + parse + verify (scripts/bench-floor.js); node + one rsa-2048 key
  floor: { explain: "floor: explain in 5 lines", rsa: "floor: node + one rsa-2048 key" },
};

/**
 * The per-process cases to add to bench.js's interleaved loop: `mtlsctl explain cert.pem`,
 * `mtlsctl client issue --key rsa-2048`, and each installed peer for ec-p256 and rsa-2048.
 * `env` is bench.js's mtlsctl environment (its store already has a CA).
 */
const RSA_REPS = Math.max(1, Number(process.env.BENCH_RSA_REPS || 3));

/** One round of the interleaved loop: each case once (RSA_REPS times for the rsa-2048 rows), in order. */
function sampleRound(cases, samples, i) {
  for (const k of Object.keys(cases)) for (let r = 0; r < (cases[k].reps || 1); r++) samples[k].push(cases[k](r ? `${i}x${r}` : i));
}

function peerCases(work, env, time) {
  const cases = {};
  // a certificate to explain (inside the store, so explain also checks its chain against the CA)
  time(process.execPath, [BIN, "client", "issue", "explain-me", "--email", "explain-me@example.com"], env);
  const cert = path.join(env.MTLSCTL_DIR, "issued", "explain-me.crt");
  cases[K.explain] = () => time(process.execPath, [BIN, "explain", cert], env);
  const floorArgs = [path.join(__dirname, "bench-floor.js"), cert, path.join(env.MTLSCTL_DIR, "ca.crt")];
  cases[K.floor.explain] = () => time(process.execPath, floorArgs, env);
  if (process.env.NODE_EXTRA_CA_CERTS) {
    const clean = { ...env, NODE_EXTRA_CA_CERTS: undefined }; // spawn leaves out undefined variables
    cases[K.clean.node] = () => time(process.execPath, ["-e", "0"], clean);
    cases[K.clean.help] = () => time(process.execPath, [BIN, "--help"], clean);
    cases[K.clean.explain] = () => time(process.execPath, [BIN, "explain", cert], clean);
    cases[K.clean.floor] = () => time(process.execPath, floorArgs, clean);
  }
  cases[K.floor.rsa] = () => time(process.execPath, ["-e", "require('node:crypto').generateKeyPairSync('rsa', { modulusLength: 2048 })"], env);
  cases[K.issue["rsa-2048"]] = (i) => time(process.execPath, [BIN, "client", "issue", `r${i}`, "--key", "rsa-2048", "--email", `r${i}@example.com`], env);
  // the key alone, in this loop (same moment as the command): how much of `client issue --key rsa-2048` is the prime search
  const { generateKey } = require(path.join(ROOT, "dist", "pki", "keys.js"));
  cases[K.keygen] = () => {
    const t0 = process.hrtime.bigint();
    generateKey("rsa-2048");
    return Number(process.hrtime.bigint() - t0) / 1e6;
  };
  // a prime search's time is luck: the rows that make an rsa-2048 key take RSA_REPS samples per round
  for (const k of [K.issue["rsa-2048"], K.keygen, K.floor.rsa]) cases[k].reps = RSA_REPS;

  for (const p of PEERS) {
    if (!p.found()) continue;
    const dir = path.join(work, "peer-" + p.id);
    fs.mkdirSync(dir, { recursive: true });
    const steps = p.setup(dir);
    for (const kt of ["ec-p256", "rsa-2048"]) cases[K.peer(p, kt)] = (i) => timeSteps(steps(`${kt === "ec-p256" ? "e" : "r"}${i}`, kt));
  }
  return cases;
}

function hasBulk(env) {
  const r = spawnSync(process.execPath, [BIN, "client", "issue", "--help"], { encoding: "utf8", env: { ...process.env, ...env } });
  return /--from\b/.test(r.stdout || "");
}

/** Runs mtlsctl with the peak-RSS preload; returns { ms, peakMb }. */
function timeMtlsctl(args, env) {
  const out = path.join(os.tmpdir(), `mtlsctl-bench-rss-${process.pid}-${Date.now()}`);
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, ["-r", RSS, BIN, ...args], { env: { ...process.env, ...env, BENCH_RSS_OUT: out }, stdio: ["ignore", "ignore", "pipe"], maxBuffer: 1 << 28 });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`mtlsctl ${args.join(" ")} failed (${r.status}): ${String(r.stderr).slice(-2000)}`);
  let peakMb = NaN;
  try {
    peakMb = Number(fs.readFileSync(out, "utf8")) / 1024;
    fs.rmSync(out, { force: true });
  } catch {
    /* no figure */
  }
  return { ms, peakMb };
}

/** A fresh mtlsctl store (encrypted ec-p256 CA, as `ca init` makes by default) and a CSV of n users. */
function bulkStore(dir, n, env0) {
  const env = { ...env0, MTLSCTL_DIR: path.join(dir, "pki") };
  run(process.execPath, [BIN, "ca", "init", "--name", "Bench bulk CA"], { env });
  const csv = path.join(dir, "users.csv");
  const lines = ["name,email"];
  for (let i = 0; i < n; i++) lines.push(`u${i},u${i}@example.com`);
  fs.writeFileSync(csv, lines.join("\n") + "\n");
  return { env, csv, issuedDir: path.join(dir, "pki", "issued") };
}

const countCrt = (d) => (fs.existsSync(d) ? fs.readdirSync(d).filter((f) => f.endsWith(".crt")).length : 0);

/**
 * 1,000 client certificates (ec-p256): `mtlsctl client issue --from users.csv` (one process, `reps`
 * times, each into a fresh store) against `n` invocations of each installed peer, interleaved
 * round-robin (peer A cert i, peer B cert i, ...; an mtlsctl bulk run every n/reps rounds).
 */
function thousand({ n = Number(process.env.BENCH_PEER_N ?? 1000), reps = Number(process.env.BENCH_BULK_REPS || 5), env: env0, log = () => {} } = {}) {
  const res = { n, reps, bulk: null, bulkMissing: false, peers: {} };
  if (!n) return res;
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "mtlsctl-bench-1k-"));
  try {
    const env = { MTLSCTL_PASSPHRASE: "bench-passphrase", NO_COLOR: "1", ...env0 };
    res.bulkMissing = !hasBulk(env);
    const stores = res.bulkMissing ? [] : Array.from({ length: reps }, (_, r) => bulkStore(path.join(work, `mtlsctl-${r}`), n, env));
    const active = [];
    for (const p of PEERS) {
      if (!p.found()) {
        res.peers[p.id] = { missing: notInstalled(p) };
        continue;
      }
      const dir = path.join(work, "peer-" + p.id);
      fs.mkdirSync(dir, { recursive: true });
      active.push({ p, steps: p.setup(dir), samples: [] });
    }
    const bulk = [];
    const every = Math.max(1, Math.ceil(n / Math.max(1, stores.length)));
    const t0 = Date.now();
    for (let i = 0; i < n; i++) {
      if (i % every === 0 && stores[i / every] && !res.bulkError) {
        const s = stores[i / every];
        try {
          const r = timeMtlsctl(["--quiet", "client", "issue", "--from", s.csv], s.env);
          const issued = countCrt(s.issuedDir);
          if (issued < n) throw new Error(`mtlsctl client issue --from issued ${issued} of ${n} certificates`);
          bulk.push(r);
        } catch (e) {
          res.bulkError = String(e.message || e).split("\n").slice(0, 2).join(" ").slice(0, 300); // the row says so; the peers go on
          log(`  1,000-client row: mtlsctl failed: ${res.bulkError}`);
        }
      }
      for (const a of active) a.samples.push(timeSteps(a.steps(`k${i}`, "ec-p256")));
      if ((i + 1) % 100 === 0) log(`  1,000-client row: ${i + 1}/${n} rounds (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
    }
    if (bulk.length) res.bulk = { runs: bulk.length, ms: median(bulk.map((b) => b.ms)), allMs: bulk.map((b) => Math.round(b.ms)), peakMb: Math.max(...bulk.map((b) => b.peakMb)) };
    for (const a of active) {
      const total = a.samples.reduce((s, x) => s + x, 0);
      res.peers[a.p.id] = { totalMs: total, medianMs: median(a.samples) };
    }
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
  return res;
}

/**
 * RSA key generation: mtlsctl's own generateKey (dist/pki/keys.js: crypto.generateKeyPairSync, i.e.
 * OpenSSL in-process) against `openssl genpkey` for the same key, net of openssl's start-up (an
 * ed25519 genpkey, measured in the same loop); and `mtlsctl ca init --key rsa-4096` against
 * `openssl genpkey` + `openssl req -x509`, whole processes. Interleaved; medians (primes are random).
 */
function rsa({ runs = (process.env.BENCH_RSA_RUNS || "30,25").split(",").map(Number), env: env0 } = {}) {
  const { generateKey } = require(path.join(ROOT, "dist", "pki", "keys.js"));
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "mtlsctl-bench-rsa-"));
  const out = {};
  try {
    const haveOpenssl = !!which("openssl");
    for (const [bits, n] of [
      [2048, runs[0]],
      [4096, runs[1]],
    ]) {
      const s = { node: [], openssl: [], start: [], caInit: [], opensslCa: [] };
      const kt = `rsa-${bits}`;
      for (let i = 0; i < n; i++) {
        let t0 = process.hrtime.bigint();
        generateKey(kt);
        s.node.push(Number(process.hrtime.bigint() - t0) / 1e6);
        if (haveOpenssl) {
          s.openssl.push(timeSteps([{ cmd: "openssl", args: ["genpkey", "-algorithm", "RSA", "-pkeyopt", `rsa_keygen_bits:${bits}`, "-out", path.join(work, "k.pem")] }]));
          s.start.push(timeSteps([{ cmd: "openssl", args: ["genpkey", "-algorithm", "ED25519", "-out", path.join(work, "e.pem")] }]));
        }
        if (bits === 4096) {
          const d = path.join(work, `ca${i}`);
          const env = { MTLSCTL_PASSPHRASE: "bench-passphrase", NO_COLOR: "1", ...env0, MTLSCTL_DIR: path.join(d, "pki") };
          s.caInit.push(timeSteps([{ cmd: process.execPath, args: [BIN, "ca", "init", "--key", "rsa-4096", "--name", "Bench RSA CA"], env }]));
          if (haveOpenssl) {
            fs.mkdirSync(d, { recursive: true });
            s.opensslCa.push(
              timeSteps([
                { cmd: "openssl", args: ["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:4096", "-out", "ca.key"], cwd: d },
                { cmd: "openssl", args: ["req", "-x509", "-new", "-key", "ca.key", "-subj", "/CN=Bench RSA CA", "-days", "3650", "-out", "ca.crt"], cwd: d },
              ]),
            );
          }
        }
      }
      const net = haveOpenssl ? Math.max(0.001, median(s.openssl) - median(s.start)) : NaN;
      out[kt] = { runs: n, nodeMs: median(s.node), opensslMs: median(s.openssl), opensslStartMs: median(s.start), opensslNetMs: net, ratio: median(s.node) / net, haveOpenssl };
      if (bits === 4096) Object.assign(out[kt], { caInitMs: median(s.caInit), opensslCaMs: median(s.opensslCa), caRatio: median(s.caInit) / median(s.opensslCa) });
    }
  } catch (e) {
    out.error = String(e.message || e).split("\n")[0].slice(0, 300); // the section says so
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
  return out;
}

/**
 * The 100,000-certificate memory runs (BENCH_SCALE=100000): bulk `client issue --from` of N users,
 * then `verify` of N certificates against N users (scripts/bench-verify.js). Writes bench/scale-N.json.
 */
const SCALE_FILE = (n) => path.join(ROOT, "bench", `scale-${n}.json`);
function scale({ n = Number(process.env.BENCH_SCALE || 0), env: env0, log = () => {} } = {}) {
  if (!n) return null;
  const res = { n, date: new Date().toISOString(), issue: null, verify: null };
  const env = { MTLSCTL_PASSPHRASE: "bench-passphrase", NO_COLOR: "1", ...env0 };
  if (hasBulk(env)) {
    const work = fs.mkdtempSync(path.join(os.tmpdir(), "mtlsctl-bench-scale-"));
    try {
      const s = bulkStore(work, n, env);
      log(`  scale: client issue --from ${n} users ...`);
      const r = timeMtlsctl(["--quiet", "client", "issue", "--from", s.csv], s.env);
      res.issue = { ms: r.ms, certsPerSec: n / (r.ms / 1000), peakMb: r.peakMb, issued: countCrt(s.issuedDir) };
    } finally {
      fs.rmSync(work, { recursive: true, force: true });
    }
  }
  log(`  scale: verify ${n} certificates x ${n} users ...`);
  try {
    const v = require("./bench-verify.js")(n);
    res.verify = { ms: v.verifyMs, certsPerSec: v.certsPerSec, peakMb: v.peakMb };
  } catch (e) {
    res.verify = { error: String(e.message || e).slice(0, 300) };
  }
  fs.mkdirSync(path.dirname(SCALE_FILE(n)), { recursive: true });
  fs.writeFileSync(SCALE_FILE(n), JSON.stringify(res, null, 2) + "\n");
  return res;
}

function lastScale(n = 100000) {
  try {
    return JSON.parse(fs.readFileSync(SCALE_FILE(n), "utf8"));
  } catch {
    return null;
  }
}

// ---------------------------------------------------------------------------------------------
// The one table.

const fmtMs = (ms) => (!Number.isFinite(ms) ? "" : ms >= 10000 ? `${(ms / 1000).toFixed(1)} s` : ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(1)} ms`);
const fmtX = (x) => (!Number.isFinite(x) ? "" : x >= 100 ? `${x.toFixed(0)}×` : x >= 10 ? `${x.toFixed(1)}×` : `${x.toFixed(2)}×`);
const fmtN = (x) => (Number.isFinite(x) ? Math.round(x).toLocaleString("en-US") : "");

/**
 * Builds, prints and returns the table. `o`:
 *  rows     bench.js's rows of the interleaved loop ({case, medianMs, ratioToNode, ...})
 *  runs     runs per case;  machine  the machine line
 *  bulk     the bulk-issuance row (bench-bulk.js): {n, certsPerSec, opensslSignPerSec?, peakMb?, ...} or null
 *  verify   bench-verify's row ({certsPerSec, peakMb, ...}) or null
 *  thousand thousand()'s result;  rsa  rsa()'s result;  scale  scale()'s result or null
 */
function report(o) {
  const byCase = Object.fromEntries((o.rows || []).map((r) => [r.case, r]));
  const node = byCase[K.node];
  const base = node ? node.medianMs : NaN;
  const T = []; // {section, case, value, unit, measured, ratio, goal, met, note}
  let section = "";
  const sec = (s) => (section = s);
  const add = (r) => T.push({ section, goal: "", met: null, note: "", ...r });
  const proc = (key, label, goal) => {
    const r = byCase[key];
    if (!r) return add({ case: label, measured: "not measured", ratio: "" });
    const x = r.medianMs / base;
    // the fastest run against node's fastest: noise only adds, so on a busy machine this is the steadier figure
    const s = o.samples?.[key], s0 = o.samples?.[K.node];
    const minX = s && s0 ? Math.min(...s) / Math.min(...s0) : NaN;
    add({ case: label, value: r.medianMs, unit: "ms", measured: fmtMs(r.medianMs), ratio: `${fmtX(x)} node`, ratioValue: +x.toFixed(3), minRatio: Number.isFinite(minX) ? +minX.toFixed(3) : null, goal: goal ? `≤ ${goal}×` : "", met: goal ? x <= goal : null, note: key !== K.node && Number.isFinite(minX) ? `fastest runs ${fmtX(minX)}` : "" });
    return r;
  };

  sec(`cold start (${o.runs} interleaved runs, medians)`);
  proc(K.node, "`node -e 0` (the reference)");
  proc(K.help, "`mtlsctl --help`", 1.3);
  proc(K.explain, "`mtlsctl explain cert.pem`", 1.3);
  proc(K.floor.explain, "floor: node:crypto + parse and verify the certificate, no CLI (scripts/bench-floor.js)");
  const cn = byCase[K.clean.node];
  if (cn) {
    // the reference above includes Node parsing NODE_EXTRA_CA_CERTS; here the same commands without it, against node without it
    sec(`cold start without NODE_EXTRA_CA_CERTS (set here to ${process.env.NODE_EXTRA_CA_CERTS}: Node parses it at every start, ${fmtMs(base - cn.medianMs)} of \`node -e 0\` above)`);
    for (const [key, label] of [[K.clean.node, "`node -e 0`"], [K.clean.help, "`mtlsctl --help`"], [K.clean.explain, "`mtlsctl explain cert.pem`"], [K.clean.floor, "floor: scripts/bench-floor.js"]]) {
      const r = byCase[key];
      if (r) add({ case: label, value: r.medianMs, unit: "ms", measured: fmtMs(r.medianMs), ratio: `${fmtX(r.medianMs / cn.medianMs)} node`, ratioValue: +(r.medianMs / cn.medianMs).toFixed(3) });
    }
  }

  for (const kt of ["ec-p256", "rsa-2048"]) {
    sec(`one client certificate, ${kt}, whole process (same loop)`);
    const m = proc(K.issue[kt], `\`mtlsctl client issue --email\`${kt === "rsa-2048" ? " --key rsa-2048" : ""} (encrypted CA key)`, 2);
    const kg = kt === "rsa-2048" ? byCase[K.keygen] : null;
    if (m && kg) T[T.length - 1].note += `; of which the key's generation (native, measured in the same loop) ≈ ${fmtMs(kg.medianMs)}: the rest is ${fmtX((m.medianMs - kg.medianMs) / base)} node`;
    if (kt === "rsa-2048") proc(K.floor.rsa, "floor: `node -e` generating one rsa-2048 key (no certificate, no CLI)");
    for (const p of PEERS) {
      const r = byCase[K.peer(p, kt)];
      if (!r) {
        add({ case: `\`${p.label[kt]}\``, measured: notInstalled(p), ratio: "" });
        continue;
      }
      const x = r.medianMs / base;
      add({ case: `\`${p.label[kt]}\``, value: r.medianMs, unit: "ms", measured: fmtMs(r.medianMs), ratio: `${fmtX(x)} node, ${m ? fmtX(r.medianMs / m.medianMs) : "?"} mtlsctl`, ratioValue: +x.toFixed(3) });
    }
  }

  const th = o.thousand;
  sec(`${fmtN(th?.n || 1000)} client certificates, ec-p256 (peers: one invocation each, as scripted; interleaved round-robin)`);
  if (!th || !th.n) add({ case: "1,000-certificate row", measured: "skipped (BENCH_PEER_N=0)", ratio: "" });
  else {
    const b = th.bulk;
    if (!b) add({ case: "`mtlsctl client issue --from users.csv` (one process)", measured: th.bulkMissing ? "not there yet (no --from in `mtlsctl client issue --help`)" : th.bulkError ? `failed: ${th.bulkError}` : "not measured", ratio: "" });
    else add({ case: `\`mtlsctl client issue --from users.csv\` (one process, median of ${b.runs})`, value: b.ms, unit: "ms", measured: fmtMs(b.ms), ratio: "1.00 (headline ref.)", note: `${fmtN(th.n / (b.ms / 1000))} certificates/s; peak RSS ${fmtN(b.peakMb)} MB; runs ${b.allMs.join(", ")} ms` });
    for (const p of PEERS) {
      const r = th.peers[p.id];
      if (!r) continue;
      if (r.missing) add({ case: `\`${p.label["ec-p256"]}\` × ${fmtN(th.n)}`, measured: r.missing, ratio: "" });
      else add({ case: `\`${p.label["ec-p256"]}\` × ${fmtN(th.n)}`, value: r.totalMs, unit: "ms", measured: fmtMs(r.totalMs), ratio: b ? `${fmtX(r.totalMs / b.ms)} mtlsctl's time` : "", ratioValue: b ? +(r.totalMs / b.ms).toFixed(2) : null, note: `median ${fmtMs(r.medianMs)} per certificate` });
    }
  }

  const bu = o.bulk;
  if (bu && Number.isFinite(bu.singles1kMs) && Number.isFinite(bu.bulk1kMs))
    add({ case: `\`mtlsctl client issue NAME\` × 1,000 (scripts/bench-bulk.js, against its own bulk run of ${fmtMs(bu.bulk1kMs)})`, value: bu.singles1kMs, unit: "ms", measured: fmtMs(bu.singles1kMs), ratio: `${fmtX(bu.singles1kMs / bu.bulk1kMs)} bulk's time`, ratioValue: +(bu.singles1kMs / bu.bulk1kMs).toFixed(2), note: bu.singlesMeasured && bu.singlesMeasured < 1000 ? `${bu.singlesMeasured} measured, scaled to 1,000` : "" });

  sec("bulk, one process");
  if (!bu) add({ case: "bulk issue of 10,000 ec-p256 clients", measured: process.env.BENCH_SKIP_BULK === "1" ? "skipped (BENCH_SKIP_BULK=1)" : "not measured", ratio: "", goal: "≥ 5,000/s" });
  else {
    const rate = bu.certsPerSec;
    const ref = bu.opensslSignPerSec;
    add({ case: bu.case || `bulk issue of ${fmtN(bu.n)} ec-p256 clients`, value: rate, unit: "certs/s", measured: `${fmtN(rate)} /s`, ratio: ref ? `${fmtX(rate / ref)} openssl speed ecdsap256 sign (${fmtN(ref)} /s)` : bu.ratio || "", goal: "≥ 5,000/s", met: rate >= 5000, note: bu.note || `scripts/bench-bulk.js: time from the CLI's start to its end, median of ${bu.runs?.length ?? "?"} runs; openssl speed measured around each run` });
    // issue 16: the floor under bulk, the same files (sizes, layout, temporary names, renames, one flush) created alone in the same run
    if (Number.isFinite(bu.floorMs)) {
      const bulkMs = bu.n / (rate / 1000);
      add({ case: `the floor: ${fmtN(bu.floorFiles)} small files created, written, renamed alone (the bulk run's own files)`, value: bu.floorMs, unit: "ms", measured: fmtMs(bu.floorMs), ratio: `bulk ${fmtMs(bulkMs)} = ${fmtX(bulkMs / bu.floorMs)} the floor`, ratioValue: +(bulkMs / bu.floorMs).toFixed(2), goal: "bulk ≤ 1.3×", met: bulkMs / bu.floorMs <= 1.3, note: "scripts/bench-bulk.js floorRun: median of one floor per bulk run" });
    }
  }
  const v = o.verify;
  if (!v) add({ case: "bulk verify of 10,000 certificates against 10,000 users", measured: "skipped (BENCH_SKIP_VERIFY=1)", ratio: "", goal: "≥ 5,000/s" });
  else add({ case: v.case || "bulk verify", value: v.certsPerSec, unit: "certs/s", measured: `${fmtN(v.certsPerSec)} /s`, ratio: "", goal: "≥ 5,000/s", met: v.certsPerSec >= 5000 });

  sec("peak memory (RSS) of the bulk runs");
  const mem = [];
  if (bu && Number.isFinite(bu.peakMb)) mem.push([`bulk issue, ${fmtN(bu.n)}`, bu.peakMb]);
  if (th?.bulk && Number.isFinite(th.bulk.peakMb)) mem.push([`\`client issue --from\`, ${fmtN(th.n)}`, th.bulk.peakMb]);
  const vn = fmtN(Number(process.env.BENCH_VERIFY_N || 10000));
  if (v && Number.isFinite(v.peakMb)) mem.push([`verify, ${vn} × ${vn}`, v.peakMb]);
  for (const [c, mb] of mem) add({ case: c, value: mb, unit: "MB", measured: `${fmtN(mb)} MB`, ratio: "", goal: "< 300 MB", met: mb < 300 });
  const sc = o.scale || lastScale();
  const how = "BENCH_SCALE=100000 npm run bench";
  if (!sc) add({ case: "100,000 (issue and verify)", measured: `not measured yet: ${how}`, ratio: "", goal: "flat, < 300 MB" });
  else {
    const when = o.scale ? "this run" : `last measured ${sc.date.slice(0, 10)}; ${how} to measure again`;
    if (sc.issue) add({ case: `\`client issue --from\`, ${fmtN(sc.n)}`, value: sc.issue.peakMb, unit: "MB", measured: `${fmtN(sc.issue.peakMb)} MB`, ratio: "", goal: "flat, < 300 MB", met: sc.issue.peakMb < 300, note: `${when}; ${fmtN(sc.issue.certsPerSec)} certificates/s` });
    else add({ case: `\`client issue --from\`, ${fmtN(sc.n)}`, measured: "not measured (no --from then)", ratio: "", goal: "flat, < 300 MB", note: when });
    if (sc.verify && !sc.verify.error) add({ case: `verify, ${fmtN(sc.n)} × ${fmtN(sc.n)}`, value: sc.verify.peakMb, unit: "MB", measured: `${fmtN(sc.verify.peakMb)} MB`, ratio: "", goal: "flat, < 300 MB", met: sc.verify.peakMb < 300, note: `${when}; ${fmtN(sc.verify.certsPerSec)} certificates/s` });
    else add({ case: `verify, ${fmtN(sc.n)} × ${fmtN(sc.n)}`, measured: `failed: ${sc.verify?.error || "?"}`, ratio: "", goal: "flat, < 300 MB", note: when });
  }

  // issue 21: the CA key's unlock (scripts/bench-unlock.js)
  const ul = o.unlock;
  sec("the CA key's unlock (what every signing command pays once)");
  if (!ul) add({ case: "opening private/ca.key with its passphrase", measured: process.env.BENCH_SKIP_UNLOCK === "1" ? "skipped (BENCH_SKIP_UNLOCK=1)" : "not measured", ratio: "", goal: "< 1 s" });
  else
    for (const [kt, k] of Object.entries(ul.keys))
      add({ case: `${ul.case}, ${kt}`, value: k.medianMs, unit: "ms", measured: fmtMs(k.medianMs), ratio: k.opensslPkeyMs !== undefined ? `${fmtX(k.medianMs / Math.max(1e-9, k.opensslPkeyMs - k.opensslStartMs))} \`openssl pkey\` (net of start-up)` : "", goal: "< 1 s", met: k.medianMs < 1000, note: `median of ${ul.runs}, min ${fmtMs(k.minMs)}, max ${fmtMs(k.maxMs)}${k.opensslPkeyMs !== undefined ? `; openssl pkey ${fmtMs(k.opensslPkeyMs)} whole` : ""}` });

  const rs = o.rsa;
  if (rs) {
    sec("RSA key generation: mtlsctl (native generateKeyPairSync, in process) vs `openssl genpkey` (net of its start-up)");
    if (rs.error) add({ case: "RSA rows", measured: `failed: ${rs.error}`, ratio: "" });
    for (const kt of ["rsa-2048", "rsa-4096"]) {
      const r = rs[kt];
      if (!r) continue;
      if (!r.haveOpenssl) add({ case: `${kt} key, ${r.runs} runs`, measured: fmtMs(r.nodeMs), ratio: notInstalled(PEERS[3]) });
      else add({ case: `${kt} key (${r.runs} runs each)`, value: r.nodeMs, unit: "ms", measured: `${fmtMs(r.nodeMs)} vs ${fmtMs(r.opensslNetMs)}`, ratio: `${fmtX(r.ratio)} openssl`, ratioValue: +r.ratio.toFixed(3), goal: "≈ 1× (≤ 1.25×)", met: r.ratio <= 1.25, note: `openssl genpkey ${fmtMs(r.opensslMs)} whole, start-up ${fmtMs(r.opensslStartMs)}` });
      if (kt === "rsa-4096" && Number.isFinite(r.caInitMs))
        add({ case: `\`mtlsctl ca init --key rsa-4096\` vs \`openssl genpkey\` + \`req -x509\` (whole processes)`, value: r.caInitMs, unit: "ms", measured: `${fmtMs(r.caInitMs)} vs ${fmtMs(r.opensslCaMs)}`, ratio: `${fmtX(r.caRatio)} openssl`, ratioValue: +r.caRatio.toFixed(3), note: "includes Node start-up and the CA key's encryption" });
    }
  }

  // print
  const head = ["case", "measured", "ratio", "goal", "met"];
  const lines = [];
  lines.push(`mtlsctl bench: ${o.machine}`);
  lines.push(`(${o.runs} interleaved runs per process row, ${RSA_REPS} samples per run for the rows that make an rsa-2048 key; medians; ratios are to the reference measured in the same run)`);
  lines.push("");
  lines.push("| " + head.join(" | ") + " |");
  lines.push("|" + head.map(() => "---").join("|") + "|");
  let last = null;
  for (const r of T) {
    if (r.section !== last) {
      lines.push(`| **${r.section}** | | | | |`);
      last = r.section;
    }
    const cell = (x) => String(x ?? "").replace(/\|/g, "\\|");
    const c = r.note ? `${r.case} — ${r.note}` : r.case;
    lines.push(`| ${[c, r.measured, r.ratio, r.goal, r.met === null ? "" : r.met ? "yes" : "**NO**"].map(cell).join(" | ")} |`);
  }
  lines.push("");
  lines.push("Peers: `npm run bench:setup` installs mkcert, easy-rsa, golang-cfssl and openssl (Debian). Each peer has its own ec-p256 CA made once outside the timed loop;");
  lines.push("mtlsctl's CA key is encrypted (MTLSCTL_PASSPHRASE), the peers' are not. Knobs: BENCH_RUNS (21), BENCH_PEER_N (1000; 0 skips), BENCH_BULK_REPS (5),");
  lines.push(`BENCH_RSA_RUNS (30,25), BENCH_RSA_REPS (3), BENCH_SCALE=100000 (the 100,000 memory runs, long), BENCH_SKIP_VERIFY=1, BENCH_SKIP_BULK=1, BENCH_SKIP_UNLOCK=1 (BENCH_UNLOCK_RUNS, 15) (and scripts/bench-bulk.js: BENCH_BULK_N, BENCH_BULK_RUNS, BENCH_SINGLE_N).`);
  const text = lines.join("\n");
  console.log(text);
  return { table: T, text };
}

module.exports = { PEERS, K, peerCases, sampleRound, thousand, rsa, scale, lastScale, report, median, timeSteps, which, hasBulk };

// alone: the peers' rows only (no bench.js loop)
if (require.main === module) {
  const runs = Number(process.env.BENCH_RUNS || 11);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "mtlsctl-bench-peers-"));
  const env = { MTLSCTL_DIR: path.join(work, "pki"), MTLSCTL_PASSPHRASE: "bench-passphrase", NO_COLOR: "1" };
  const time = (cmd, args, e) => timeSteps([{ cmd, args, env: e }]);
  time(process.execPath, [BIN, "ca", "init", "--name", "Bench CA"], env);
  const cases = { [K.node]: () => time(process.execPath, ["-e", "0"], env), [K.help]: () => time(process.execPath, [BIN, "--help"], env), [K.issue["ec-p256"]]: (i) => time(process.execPath, [BIN, "client", "issue", `c${i}`, "--email", `c${i}@example.com`], env), ...peerCases(work, env, time) };
  const samples = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
  for (let w = 0; w < 2; w++) for (const k of Object.keys(cases)) cases[k](`warm${w}`);
  for (let i = 0; i < runs; i++) sampleRound(cases, samples, i);
  fs.rmSync(work, { recursive: true, force: true });
  const rows = Object.keys(cases).map((k) => ({ case: k, medianMs: median(samples[k]) }));
  const th = process.env.BENCH_PEER_N === undefined ? thousand({ n: 0 }) : thousand({ log: (s) => process.stderr.write(s + "\n") });
  const machine = `${os.cpus().length} × ${os.cpus()[0].model.trim()}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
  report({ rows, runs, machine, thousand: th, rsa: process.env.BENCH_RSA_RUNS ? rsa() : null });
}
