#!/usr/bin/env node
/**
 * Fuzzing with fast-check (issue 8, item 5), against the built code in dist/ (`npm run build` first).
 *
 *   node scripts/fuzz.js                      every target, FUZZ_RUNS inputs each (default 100000)
 *   FUZZ_RUNS=2000 node scripts/fuzz.js pem   one target
 *   node scripts/fuzz.js --json ...           one JSON line per target (test/hardening-fuzz.test.ts)
 *   FUZZ_SEED=123 ...                         replay a seed (each failure prints its seed and path)
 *
 * Targets: the PEM reader, the DER certificate and CSR readers (random bytes and mutations of
 * valid ones), the RFC 4514 parser (src/pki/name.ts) with a round-trip property, the server's DN
 * parser (src/nats/ldapdn.ts), the NATS config reader (readServerConfig on random and mutated
 * configs), and the config writer's quoting (quoteConfString → readServerConfig reads back the
 * identical string). The only errors allowed are clean ones (MtlsError, ConfigError, DnParseError);
 * a TypeError, RangeError, any other exception, or one input taking longer than FUZZ_SLOW_MS
 * (default 2000 ms) fails the target. The exit code is 1 when any target fails.
 */
"use strict";
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const crypto = require("node:crypto");
const fc = require("fast-check");

const DIST = path.join(__dirname, "..", "dist");
const d = (m) => require(path.join(DIST, m));
const { MtlsError } = d("errors");
const { pemBlocks, readPemOrDer, toPem } = d("pki/pem");
const { readCertificates, buildCertificate, profileExtensions, randomSerial } = d("pki/cert");
const { readCsr, buildCsr } = d("pki/csr");
const { generateKey, signerFor, spkiOf, keyIdentifier } = d("pki/keys");
const { parseRfc4514, formatRfc4514, encodeName } = d("pki/name");
const { OID } = d("asn1/oids");
const { parseDn, DnParseError } = d("nats/ldapdn");
const { ConfigError, parseConfigText } = d("nats/conf/parser");
const { readServerConfig } = d("nats/conf/server-config");
const { quoteConfString } = d("nats/confstring");

const SLOW_MS = Number(process.env.FUZZ_SLOW_MS || 2000);

// ---------------------------------------------------------------- seeds

const caKey = generateKey("ec-p256");
const leafKey = generateKey("ec-p256");
const rsaKey = generateKey("rsa-2048");
const sans = { email: ["a@example.com"], dns: ["h.example.com"], uri: ["spiffe://example.org/a"], ip: ["127.0.0.1", "::1"] };
function makeCert(key, subject, s) {
  const spki = spkiOf(key);
  return buildCertificate(
    {
      serial: randomSerial(),
      issuer: encodeName(parseRfc4514("CN=Fuzz CA,O=Acme")),
      subject: encodeName(parseRfc4514(subject)),
      notBefore: new Date(Date.now() - 60_000),
      notAfter: new Date(Date.now() + 86_400_000),
      spki,
      extensions: profileExtensions("client", { spki, issuerKeyId: keyIdentifier(spkiOf(caKey)), rsa: key.asymmetricKeyType === "rsa", sans: s }),
    },
    signerFor(caKey),
  );
}
const CERTS = [makeCert(leafKey, "CN=alice,OU=eng,O=Acme", sans), makeCert(rsaKey, "CN=bob", { email: [], dns: [], uri: [], ip: [] }), makeCert(leafKey, "C=US,CN=Zoë 🎉", sans)];
const CSRS = [buildCsr(leafKey, encodeName(parseRfc4514("CN=alice,O=Acme")), sans), buildCsr(rsaKey, encodeName(parseRfc4514("CN=bob")), { email: ["b@example.com"], dns: [], uri: [], ip: [] })];
const CONF_DIR = path.join(__dirname, "..", "test", "fixtures", "conf");
const CONFS = (fs.existsSync(CONF_DIR) ? fs.readdirSync(CONF_DIR).filter((f) => f.endsWith(".conf")).map((f) => fs.readFileSync(path.join(CONF_DIR, f))) : []).concat([
  Buffer.from('listen: 127.0.0.1:4222\ntls { cert_file: "a.crt", key_file: "a.key", ca_file: "ca.crt", verify_and_map: true }\nauthorization { users = [ { user: "alice@example.com" }, { user: "CN=bob,O=Acme" } ] }\n'),
  Buffer.from('x = "a\\"b\\\\c\\n\\x41\\u00e9"\nv: $x\nm { a: [1, 2k, 3MB, true, 2006-01-02T15:04:05Z] }\n# c\n// c\ninclude "y.conf"\n'),
]);

// ---------------------------------------------------------------- arbitraries

const TOKENS = ["-----BEGIN CERTIFICATE-----", "-----END CERTIFICATE-----", "-----BEGIN CERTIFICATE REQUEST-----", "-----END CERTIFICATE REQUEST-----", "-----BEGIN ", "-----", "Proc-Type: 4,ENCRYPTED\n", "\n", "\r\n", "\n\n", "=", "==", "MII", "\u0000", "\u00ff", "é", "🎉", "\ud800",
  "{", "}", "[", "]", ":", "=", ",", ";", "\"", "'", "\\", "\\u", "\\x", "\\U0001F389", "$", "${", "$x", "#", "//", "/*", "include ", "include \"", "1MB", "1e999", "-9223372036854775809", "0x", "2006-01-02T15:04:05Z", "true", "NO", "users", "user", "password", "nkey", "tls", "authorization", "accounts", "verify_and_map", "cert_file", "\t", " ", "+", "<", ">", "CN=", "\\2C", "\\#", "#04"];

/** Byte-level mutations of a seed: flips, overwrites, deletions, insertions, truncation, duplication, tokens. */
const mutations = fc.array(
  fc.record({ op: fc.integer({ min: 0, max: 6 }), pos: fc.nat(), len: fc.integer({ min: 1, max: 24 }), byte: fc.integer({ min: 0, max: 255 }), bytes: fc.uint8Array({ maxLength: 12 }), token: fc.constantFrom(...TOKENS) }),
  { minLength: 1, maxLength: 6 },
);
function mutate(seed, ops) {
  let b = Buffer.from(seed);
  for (const m of ops) {
    const at = b.length ? m.pos % (b.length + 1) : 0;
    switch (m.op) {
      case 0: if (b.length) b[at % b.length] ^= 1 << m.byte % 8; break;
      case 1: if (b.length) b[at % b.length] = m.byte; break;
      case 2: b = Buffer.concat([b.subarray(0, at), b.subarray(at + m.len)]); break;
      case 3: b = Buffer.concat([b.subarray(0, at), Buffer.from(m.bytes), b.subarray(at)]); break;
      case 4: b = b.subarray(0, at); break;
      case 5: b = Buffer.concat([b.subarray(0, at), b.subarray(at, at + m.len), b.subarray(at)]); break;
      case 6: b = Buffer.concat([b.subarray(0, at), Buffer.from(m.token, "utf8"), b.subarray(at)]); break;
    }
  }
  return b;
}
const mutated = (seeds) => fc.tuple(fc.nat({ max: seeds.length - 1 }), mutations).map(([i, ops]) => mutate(seeds[i], ops));
const tokenText = fc.array(fc.oneof(fc.constantFrom(...TOKENS), fc.string({ maxLength: 6 }), fc.string({ unit: "binary", maxLength: 4 })), { maxLength: 30 }).map((a) => a.join(""));
const anyBytes = fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a));
const derish = fc.array(fc.oneof(fc.constantFrom(0x30, 0x31, 0x02, 0x03, 0x04, 0x05, 0x06, 0x0c, 0x13, 0x16, 0x17, 0x18, 0x1e, 0x1c, 0x80, 0x81, 0x82, 0x84, 0xa0, 0xa3, 0x00, 0xff, 0x7f), fc.integer({ min: 0, max: 255 })), { maxLength: 200 }).map((a) => Buffer.from(a));
const pemOf = (label) => (b) => toPem(label, b);

// ---------------------------------------------------------------- the clean-error check

const counts = () => ({ accepted: 0, refused: 0 });
function clean(stats, allowed, fn) {
  const t0 = process.hrtime.bigint();
  try {
    const v = fn();
    stats.accepted++;
    return v;
  } catch (e) {
    if (!allowed.some((C) => e instanceof C)) {
      const err = new Error(`unclean error: ${e && e.name}: ${e && e.message}`);
      err.stack += `\n--- original: ${e && e.stack}`;
      throw err;
    }
    stats.refused++;
    return undefined;
  } finally {
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (ms > SLOW_MS) throw new Error(`one input took ${ms.toFixed(0)} ms (more than ${SLOW_MS} ms)`);
  }
}

// ---------------------------------------------------------------- targets

let tmp = null;
const tmpDir = () => (tmp ??= fs.mkdtempSync(path.join(os.tmpdir(), "mtlsctl-fuzz-")));

const TARGETS = {
  /** pemBlocks + readPemOrDer on PEM-like text, mutated PEM and raw bytes. */
  pem: (stats) =>
    fc.property(fc.oneof(tokenText.map((s) => Buffer.from(s, "utf8")), mutated(CERTS.map(pemOf("CERTIFICATE")).concat(CSRS.map(pemOf("CERTIFICATE REQUEST")))), anyBytes), (buf) => {
      clean(stats, [MtlsError], () => pemBlocks(buf.toString("latin1"), "f.pem"));
      clean(stats, [MtlsError], () => readPemOrDer(buf, "f.pem", ["CERTIFICATE"], "certificate"));
      clean(stats, [MtlsError], () => readPemOrDer(buf, "f.pem", ["CERTIFICATE REQUEST"], "certificate request", false));
    }),

  /** readCertificates (DER and PEM): mutated certificates, DER-shaped noise, random bytes. */
  der: (stats) =>
    fc.property(fc.oneof(mutated(CERTS), mutated(CERTS).map(pemOf("CERTIFICATE")), derish, anyBytes), (buf) => {
      clean(stats, [MtlsError], () => readCertificates(buf, "f.crt"));
    }),

  /** readCsr: mutated requests (DER and PEM), noise; a request that parses must carry a valid signature. */
  csr: (stats) =>
    fc.property(fc.oneof(mutated(CSRS), mutated(CSRS).map(pemOf("CERTIFICATE REQUEST")), derish, anyBytes), (buf) => {
      clean(stats, [MtlsError], () => readCsr(buf, "f.csr"));
    }),

  /** parseRfc4514 on DN-like text; and a round trip: format then parse gives back the value. */
  rfc4514: (stats) =>
    fc.property(
      fc.oneof(tokenText, fc.string({ unit: "binary", maxLength: 40 }), fc.array(fc.constantFrom("CN", "O", "OU", "C", "DC", "UID", "2.5.4.3", "1.2", "cn ", "E", "x", "=", ",", "+", ";", "\\", "\\2", "\\ZZ", "\\FF", "\\C3\\A9", "#", "\"", " ", "a", "é", "🎉", "\ud83c", "\u0000"), { maxLength: 24 }).map((a) => a.join(""))),
      fc.string({ unit: "grapheme", maxLength: 70 }),
      (s, value) => {
        clean(stats, [MtlsError], () => parseRfc4514(s));
        // round trip of one CN value (every Unicode grapheme; control characters are refused)
        const text = formatRfc4514([[{ type: OID.CN, value }]]);
        const back = clean(stats, [MtlsError], () => parseRfc4514(text));
        const refusable = value === "" || [...value].length > 64 || /[\u0000-\u001f\u007f]/.test(value);
        if (back === undefined) {
          if (!refusable) throw new Error(`refused a valid CN value ${JSON.stringify(value)} (as ${JSON.stringify(text)})`);
        } else if (back.length !== 1 || back[0].length !== 1 || back[0][0].value !== value) throw new Error(`CN ${JSON.stringify(value)} came back as ${JSON.stringify(back)}`);
      },
    ),

  /** The server's ParseDN model on strings and raw bytes. */
  ldapdn: (stats) =>
    fc.property(
      fc.oneof(tokenText, fc.string({ unit: "binary", maxLength: 40 }), anyBytes, fc.array(fc.constantFrom("CN", "cn", "2.5.4.3", "=", ",", "+", ";", "\\", "\\2c", "\\g", "#", "#0c03616263", "#zz", "\"", " ", "a", "é", "\u0000", "\u00ff"), { maxLength: 24 }).map((a) => a.join(""))),
      (s) => {
        clean(stats, [DnParseError], () => parseDn(s));
      },
    ),

  /** readServerConfig (lexer, parser and the server's checks) on random and mutated configs. */
  config: (stats) => {
    const file = path.join(tmpDir(), "s.conf");
    fs.writeFileSync(path.join(tmpDir(), "y.conf"), 'included = "yes"\n');
    return fc.property(fc.oneof(mutated(CONFS), tokenText.map((s) => Buffer.from(s, "utf8")), anyBytes), (buf) => {
      fs.writeFileSync(file, buf);
      clean(stats, [ConfigError], () => parseConfigText(buf, file, { env: {} }));
      clean(stats, [ConfigError], () => readServerConfig(file, {}, { cwd: tmpDir(), checkFiles: false }));
    });
  },

  /** quoteConfString: refuses only "", NUL and lone surrogates; anything else reads back identical. */
  quote: (stats) => {
    const file = path.join(tmpDir(), "q.conf");
    const hostile = fc.array(fc.constantFrom(...TOKENS, "\u2028", "\u0085", "\u001b[31m", "\x7f", "\u{10ffff}", "\ufeff", "\ud800", "\udc00", "a"), { maxLength: 12 }).map((a) => a.join(""));
    return fc.property(fc.oneof(fc.string({ unit: "binary", maxLength: 30 }), fc.string({ unit: "grapheme", maxLength: 30 }), hostile), (value) => {
      const q = clean(stats, [MtlsError], () => quoteConfString(value, "user"));
      const loneSurrogate = /[\uD800-\uDFFF]/.test(value.replace(/[\uD800-\uDBFF][\uDC00-\uDFFF]/g, ""));
      const refusable = value === "" || value.includes("\u0000") || loneSurrogate;
      if (q === undefined) {
        if (!refusable) throw new Error(`refused ${JSON.stringify(value)}`);
        return;
      }
      if (refusable) throw new Error(`accepted ${JSON.stringify(value)} as ${q}`);
      if (/[\r\n]/.test(q)) throw new Error(`the quoted form is not one line: ${JSON.stringify(q)}`);
      fs.writeFileSync(file, `authorization {\n  users = [\n    { user: ${q} }\n  ]\n}\n`);
      const conf = readServerConfig(file, {}, { cwd: tmpDir(), checkFiles: false });
      const users = conf.users.map((u) => u.user);
      if (users.length !== 1 || users[0] !== value) throw new Error(`${JSON.stringify(value)} was written as ${q} and read back as ${JSON.stringify(users)}`);
    });
  },
};

/** Runs one target; returns { target, runs, ok, ms, accepted, refused, error?, seed? }. */
function runTarget(name, runs, seed) {
  const stats = counts();
  const t0 = Date.now();
  const params = { numRuns: runs, endOnFailure: true };
  if (seed !== undefined) params.seed = seed;
  const details = fc.check(TARGETS[name](stats), params);
  const out = { target: name, runs: details.numRuns, ok: !details.failed, ms: Date.now() - t0, accepted: stats.accepted, refused: stats.refused };
  if (details.failed) {
    out.seed = details.seed;
    out.path = details.counterexamplePath;
    out.counterexample = JSON.stringify(details.counterexample, (k, v) => (v && v.type === "Buffer" ? Buffer.from(v.data).toString("base64") : v)).slice(0, 2000);
    out.error = String(details.errorInstance && details.errorInstance.stack ? details.errorInstance.stack : details.error).slice(0, 4000);
  }
  return out;
}

module.exports = { TARGETS, runTarget };

if (require.main === module) {
  const args = process.argv.slice(2);
  const json = args.includes("--json");
  const names = args.filter((a) => !a.startsWith("--"));
  for (const n of names) if (!TARGETS[n]) {
    console.error(`fuzz: unknown target ${n} (targets: ${Object.keys(TARGETS).join(", ")})`);
    process.exit(2);
  }
  const runs = Number(process.env.FUZZ_RUNS || 100000);
  const seed = process.env.FUZZ_SEED === undefined ? undefined : Number(process.env.FUZZ_SEED);
  let failed = false;
  for (const name of names.length ? names : Object.keys(TARGETS)) {
    const r = runTarget(name, runs, seed);
    failed ||= !r.ok;
    if (json) console.log(JSON.stringify(r));
    else console.log(`${r.ok ? "ok  " : "FAIL"} ${name.padEnd(8)} ${r.runs} inputs in ${(r.ms / 1000).toFixed(1)} s (${r.accepted} accepted, ${r.refused} refused cleanly)${r.ok ? "" : `\n  seed ${r.seed} path ${r.path}\n  counterexample ${r.counterexample}\n  ${r.error}`}`);
  }
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  process.exit(failed ? 1 : 0);
}
