#!/usr/bin/env node
/**
 * Bench: `mtlsctl verify` over N certificates against a config with N users, in one process.
 * Certificates are made with mtlsctl's library (a quarter each mapped by email, DNS, URI and
 * subject DN); the config lists one user per certificate. Prints certificates/s and peak memory.
 */
"use strict";
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const crypto = require("node:crypto");
const { spawnSync } = require("node:child_process");

const ROOT = path.resolve(__dirname, "..");
const D = (m) => require(path.join(ROOT, "dist", m));
const { buildCertificate, profileExtensions, randomSerial, certificatePem } = D("pki/cert.js");
const { generateKey, signerFor, spkiOf } = D("pki/keys.js");
const { encodeName, parseRfc4514, canonicalOrder } = D("pki/name.js");
const { quoteConfString } = D("nats/confstring.js");

/** The certificates (c<i>.crt), CA and config for n users, written into `work`; returns the ms spent making certificates. */
function makeFixture(work, n) {
  const caKey = generateKey("ec-p256");
  const caSubject = encodeName(parseRfc4514("CN=Bench Verify CA"));
  const caSpki = spkiOf(caKey);
  const now = Date.now();
  const caDer = buildCertificate({ serial: randomSerial(), issuer: caSubject, subject: caSubject, notBefore: new Date(now - 60000), notAfter: new Date(now + 86400000 * 30), spki: caSpki, extensions: profileExtensions("ca", { spki: caSpki, rsa: false }) }, signerFor(caKey));
  fs.writeFileSync(path.join(work, "ca.crt"), certificatePem(caDer));
  const caSki = crypto.createHash("sha1").update(require(path.join(ROOT, "dist", "pki/keys.js")).subjectPublicKeyBits(caSpki)).digest();
  const signer = signerFor(caKey);
  const leafKey = generateKey("ec-p256"); // one key for all leaves: the bench measures verify, not keygen
  const leafSpki = spkiOf(leafKey);
  const users = [];
  const pems = [];
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    const kind = i % 4;
    const sans = { email: kind === 0 ? [`u${i}@example.com`] : [], dns: kind === 1 ? [`u${i}.example.com`] : [], uri: kind === 2 ? [`spiffe://example.org/u${i}`] : [], ip: [] };
    const subject = encodeName(canonicalOrder(parseRfc4514(`CN=u${i},OU=bench,O=Acme`)));
    const der = buildCertificate({ serial: randomSerial(), issuer: caSubject, subject, notBefore: new Date(now - 60000), notAfter: new Date(now + 86400000), spki: leafSpki, extensions: profileExtensions("client", { spki: leafSpki, issuerKeyId: caSki, rsa: false, sans, emptySubject: false }) }, signer);
    pems.push(certificatePem(der));
    users.push(kind === 0 ? `u${i}@example.com` : kind === 1 ? `u${i}.example.com` : kind === 2 ? `spiffe://example.org/u${i}` : `CN=u${i},OU=bench,O=Acme`);
  }
  const makeMs = Number(process.hrtime.bigint() - t0) / 1e6;
  // one file per certificate, as an operator would pass them
  pems.forEach((p, i) => fs.writeFileSync(path.join(work, `c${i}.crt`), p));
  fs.writeFileSync(path.join(work, "nats.conf"), `authorization {\n  users = [\n${users.map((u) => `    { user: ${quoteConfString(u)} }`).join("\n")}\n  ]\n}\ntls {\n  ca_file: "${path.join(work, "ca.crt")}"\n  verify_and_map: true\n}\n`);
  fs.writeFileSync(path.join(work, "n"), String(n)); // written last: the fixture is complete
  return makeMs;
}

/**
 * BENCH_VERIFY_DIR=D keeps the fixture in D and reuses it on the next run with the same N (so that
 * runs compare verify alone); BENCH_NODE_FLAGS="--cpu-prof ..." are passed to the verifying node.
 */
module.exports = function benchVerify(n = Number(process.env.BENCH_VERIFY_N || 10000)) {
  const keep = process.env.BENCH_VERIFY_DIR;
  const work = keep ? path.resolve(keep) : fs.mkdtempSync(path.join(os.tmpdir(), "mtlsctl-bench-verify-"));
  let makeMs = 0;
  if (!keep || !fs.existsSync(path.join(work, "n")) || fs.readFileSync(path.join(work, "n"), "utf8") !== String(n)) {
    if (keep) fs.rmSync(work, { recursive: true, force: true });
    fs.mkdirSync(work, { recursive: true });
    makeMs = makeFixture(work, n);
  }
  const files = Array.from({ length: n }, (_, i) => `c${i}.crt`);
  // the CLI in one process; peak RSS read at exit
  const driver = `const {runCli}=require(${JSON.stringify(path.join(ROOT, "dist/cli/run.js"))});const t=process.hrtime.bigint();runCli(process.argv).then((c)=>{const ms=Number(process.hrtime.bigint()-t)/1e6;process.stderr.write(JSON.stringify({code:c,ms,maxRssKb:process.resourceUsage().maxRSS})+"\\n");});`;
  // names relative to the work directory: 100,000 absolute paths would pass the kernel's argument limit (E2BIG)
  const flags = (process.env.BENCH_NODE_FLAGS || "").split(/\s+/).filter(Boolean);
  const argv = [...flags, "-e", driver, "mtlsctl", "--quiet", "verify", "--server-version", "2.9.10", "--config", path.join(work, "nats.conf"), ...files];
  const r = spawnSync(process.execPath, argv, { cwd: work, encoding: "utf8", maxBuffer: 1 << 28 });
  const stat = JSON.parse(r.stderr.trim().split("\n").pop());
  if (!keep) fs.rmSync(work, { recursive: true, force: true });
  if (stat.code !== 0) throw new Error(`verify exited ${stat.code}: ${r.stderr.slice(0, 2000)}`);
  return { n, makeMs, verifyMs: stat.ms, certsPerSec: n / (stat.ms / 1000), peakMb: stat.maxRssKb / 1024 };
};

if (require.main === module) {
  const r = module.exports();
  console.log(`verify: ${r.n} certificates against ${r.n} users in one process: ${r.verifyMs.toFixed(0)} ms, ${r.certsPerSec.toFixed(0)} certificates/s (goal >= 5000), peak RSS ${r.peakMb.toFixed(0)} MB`);
}
