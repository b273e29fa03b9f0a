/**
 * A `tls {}` block (the client one, and the listeners' and leafnodes' own): the server's parseTLS
 * for its keys, then GenTLSConfig for the certificate, key and CA files it names.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { X509Certificate, createPrivateKey, KeyObject } from "node:crypto";
import type { ConfEntry, ConfValue, Pos } from "./parser";
import { goFileError, goTypeName } from "./parser";
import type { TlsConfig } from "./types";
import { CheckContext, optionError, want } from "./context";
import { goQuote, parseGoDuration } from "./go-values";
import { atLeast } from "../versions";
import { parseOcspPeer } from "./ocsp-peer";

/**
 * TLS keys that servers after 2.9.10 accept (reference §4), with the first release that has each.
 * None of them changes which user a certificate maps to; ocsp_peer can refuse certificates at the
 * handshake (src/nats/conf/ocsp-peer.ts reads it; the verdict's `ocspPeer` models it). Observed with
 * `nats-server -t` on every server of the matrix (test/conf-reader.test.ts, "later tls keys"): the
 * certificate-store keys came to 2.9 in 2.9.20 (2.9.25 knows them), `certs` in 2.10.8,
 * `ca_certs_match` and `cert_match_skip_invalid` in 2.10.23 (2.10.27 knows them; 2.11.0 on too).
 */
const LATER_TLS_KEYS: Record<string, { since: string; kinds: string[] }> = {
  ocsp_peer: { since: "2.9.21", kinds: ["bool", "map"] },
  handshake_first: { since: "2.10.0", kinds: ["bool", "string"] },
  first: { since: "2.10.0", kinds: ["bool", "string"] },
  immediate: { since: "2.10.0", kinds: ["bool", "string"] },
  cert_store: { since: "2.9.20", kinds: ["string"] },
  cert_match_by: { since: "2.9.20", kinds: ["string"] },
  cert_match: { since: "2.9.20", kinds: ["string"] },
  min_version: { since: "2.10.21", kinds: ["string"] },
  certs: { since: "2.10.8", kinds: ["array"] },
  certificates: { since: "2.10.8", kinds: ["array"] },
  ca_certs_match: { since: "2.10.23", kinds: ["array", "string"] },
  cert_match_skip_invalid: { since: "2.10.23", kinds: ["bool"] },
  allow_insecure_cipher_suites: { since: "2.12.0", kinds: ["bool"] },
};

/** Go's %v of a scalar config value (for messages that print it). */
function goValueV(v: ConfValue): string {
  switch (v.kind) {
    case "int":
    case "float":
    case "bool":
      return String(v.value);
    case "string":
      return v.value;
    default:
      return goTypeName(v);
  }
}

/**
 * The certificate-store keys' own checks (server/certstore): the stores are Windows' only, so on the
 * Linux or macOS server modelled here a known store is refused too.
 */
function certStoreKey(k: string, v: ConfValue): string | undefined {
  const str = v.kind === "string" ? v.value : "";
  switch (k) {
    case "cert_store":
      if (str === "") return "expected 'cert_store' to be a valid non-empty string";
      if (!["windowscurrentuser", "windowslocalmachine"].includes(str.toLowerCase())) return "cert store type not implemented";
      return "cert_store not compatible with current operating system";
    case "cert_match_by":
      if (str === "") return "expected 'cert_match_by' to be a valid non-empty string";
      if (!["issuer", "subject", "thumbprint"].includes(str.toLowerCase())) return "cert match by type not implemented";
      return undefined;
    case "cert_match":
      return str === "" ? "expected 'cert_match' to be a valid non-empty string" : undefined;
    case "cert_match_skip_invalid":
      return v.kind === "bool" ? undefined : "expected 'cert_match_skip_invalid' to be a boolean";
  }
  return undefined;
}

const CIPHERS = new Set([
  "TLS_RSA_WITH_RC4_128_SHA",
  "TLS_RSA_WITH_3DES_EDE_CBC_SHA",
  "TLS_RSA_WITH_AES_128_CBC_SHA",
  "TLS_RSA_WITH_AES_128_CBC_SHA256",
  "TLS_RSA_WITH_AES_256_CBC_SHA",
  "TLS_RSA_WITH_AES_256_GCM_SHA384",
  "TLS_ECDHE_ECDSA_WITH_RC4_128_SHA",
  "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA",
  "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA",
  "TLS_ECDHE_RSA_WITH_RC4_128_SHA",
  "TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA",
  "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
  "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256",
  "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256",
  "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
  "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
  "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
  "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
  "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
  "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305",
  "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305",
  "TLS_AES_128_GCM_SHA256",
  "TLS_AES_256_GCM_SHA384",
  "TLS_CHACHA20_POLY1305_SHA256",
]);
const CURVES = new Set(["X25519", "CurveP256", "CurveP384", "CurveP521"]);

interface PemBlock {
  type: string;
  headers: boolean;
  der: Buffer;
}
function pemBlocks(data: Buffer): PemBlock[] {
  const text = data.toString("latin1");
  const out: PemBlock[] = [];
  const re = /-----BEGIN ([^\n-]*)-----\r?\n([\s\S]*?)-----END \1-----/g;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const body = m[2];
    const headers = /^[^\n]*:/.test(body);
    out.push({ type: m[1], headers, der: Buffer.from(body.replace(/^[^\n]*:[^\n]*\r?\n/gm, "").replace(/\s+/g, ""), "base64") });
  }
  return out;
}

/** A tls block, then (with `checkFiles`) its files loaded as the server loads them; a block whose files fail counts as absent. */
export function tlsWithFiles(ctx: CheckContext, e: ConfEntry): TlsConfig | undefined {
  const tc = tls(ctx, e);
  if (tc && ctx.checkFiles) {
    const why = loadTlsFiles(ctx, tc);
    if (why) {
      ctx.error(why, e.keyPos);
      return undefined;
    }
  }
  return tc;
}

/** The server's parseTLS for a client-side block; the first problem aborts it. */
function tls(ctx: CheckContext, e: ConfEntry): TlsConfig | undefined {
  let out: TlsConfig | undefined;
  ctx.guarded(() => {
    const m = want(e.value, "map", e.keyPos);
    const tc: TlsConfig = {
      pos: e.keyPos,
      verify: false,
      map: false,
      verifyAndVerifyAndMap: false,
      verifyUncertain: false,
      insecure: false,
      verifyCertAndCheckKnownUrls: false,
      keys: [...m.entries.keys()],
    };
    const fail = (reason: string, pos: Pos): never => {
      throw optionError(reason, pos);
    };
    let verifyVal: boolean | undefined;
    let mapVal: boolean | undefined;
    const seen = new Map<string, number>();
    for (const f of m.entries.values()) {
      const k = f.key.toLowerCase();
      seen.set(k, (seen.get(k) ?? 0) + 1);
      const v = f.value;
      const p = f.keyPos;
      const boolOf = (name: string) => {
        if (v.kind !== "bool") fail(`error parsing tls config, expected '${name}' to be a boolean`, p);
        return (v as { value: boolean }).value;
      };
      const fileOf = (name: string) => {
        if (v.kind !== "string") fail(`error parsing tls config, expected '${name}' to be filename`, p);
        return (v as { value: string }).value;
      };
      switch (k) {
        case "cert_file":
          tc.certFile = fileOf("cert_file");
          break;
        case "key_file":
          tc.keyFile = fileOf("key_file");
          break;
        case "ca_file":
          tc.caFile = fileOf("ca_file");
          break;
        case "insecure":
          tc.insecure = boolOf("insecure");
          break;
        case "verify":
          verifyVal = boolOf("verify");
          break;
        case "verify_and_map":
          mapVal = boolOf("verify_and_map");
          break;
        case "verify_cert_and_check_known_urls":
          tc.verifyCertAndCheckKnownUrls = boolOf("verify_cert_and_check_known_urls");
          if (tc.verifyCertAndCheckKnownUrls) fail("verify_cert_and_check_known_urls not supported in this context", p);
          break;
        case "cipher_suites":
        case "curve_preferences": {
          const arr = want(v, "array", p);
          if (arr.items.length === 0) fail(`error parsing tls config, '${k}' cannot be empty`, p);
          const names = arr.items.map((it) => want(it, "string", it.pos).value);
          arr.items.forEach((it, i) => {
            const known = k === "cipher_suites" ? CIPHERS : CURVES;
            if (!known.has(names[i])) fail(k === "cipher_suites" ? `unrecognized cipher ${names[i]}` : `unrecognized curve preference ${names[i]}`, it.pos);
          });
          if (k === "cipher_suites") tc.cipherSuites = names;
          else tc.curvePreferences = names;
          break;
        }
        case "timeout":
          if (v.kind === "int" || v.kind === "float") tc.timeout = v.value;
          else if (v.kind === "string") {
            const d = parseGoDuration(v.value);
            if (typeof d === "string") fail(`error parsing tls config, 'timeout' ${d}`, p);
            tc.timeout = d as number;
          } else fail("error parsing tls config, 'timeout' wrong type", p);
          break;
        case "connection_rate_limit":
          if (v.kind !== "int") fail("error parsing tls config, 'connection_rate_limit' wrong type", p);
          tc.connectionRateLimit = (v as { value: number }).value;
          break;
        case "pinned_certs": {
          if (v.kind !== "array") fail("error parsing tls config, expected 'pinned_certs' to be a list of hex-encoded sha256 of DER encoded SubjectPublicKeyInfo", p);
          const pins: string[] = [];
          for (const it of (v as { items: ConfValue[] }).items) {
            const entry = want(it, "string", it.pos).value.toLowerCase();
            if (!/^[a-f0-9]{64}$/.test(entry)) {
              fail(`error parsing tls config, 'pinned_certs' key ${entry} does not look like hex-encoded sha256 of DER encoded SubjectPublicKeyInfo`, it.pos);
            }
            pins.push(entry);
          }
          if (pins.length) tc.pinnedCerts = pins;
          break;
        }
        default: {
          // keys later servers added (reference §4): accepted when the modelled version has them
          const gate = LATER_TLS_KEYS[k];
          if (gate && atLeast(ctx.serverVersion, gate.since)) {
            const storeProblem = certStoreKey(k, v);
            if (storeProblem) fail(storeProblem, p);
            // parseTLSVersion: anything but a string is refused with its value (%v)
            if (k === "min_version" && v.kind !== "string") fail(`error parsing tls config: 'min_version' wrong type: ${goValueV(v)}`, p);
            if (k === "ocsp_peer") tc.ocspPeer = parseOcspPeer(v, p);
            else if (!gate.kinds.includes(v.kind)) fail(`error parsing tls config, '${k}' wrong type`, p);
            (tc.laterKeys ??= []).push(k);
            break;
          }
          // 2.10.8 on (with tls.certs) the key is quoted without the brackets (observed on 2.10.27)
          fail(atLeast(ctx.serverVersion, "2.10.8") ? `error parsing tls config, unknown field ${goQuote(f.key)}` : `error parsing tls config, unknown field [${goQuote(f.key)}]`, p);
        }
      }
    }
    // 2.10.8 on: a certs list and cert_file are exclusive (reported at the tls block)
    if (tc.certFile && tc.laterKeys?.some((k) => k === "certs" || k === "certificates") && m.entries.size > 0) {
      const list = [...m.entries.values()].find((f) => ["certs", "certificates"].includes(f.key.toLowerCase()));
      if (list && list.value.kind === "array" && list.value.items.length > 0) fail("error parsing tls config, cannot combine 'cert_file' option with 'certs' option", e.keyPos);
    }
    // verify: `verify` sets it, `verify_and_map: true` sets it too; the last one visited wins
    tc.map = mapVal ?? false;
    tc.verifyAndVerifyAndMap = verifyVal !== undefined && mapVal !== undefined;
    if (verifyVal === undefined) tc.verify = mapVal === true;
    else if (mapVal === true && verifyVal === false) {
      tc.verify = true;
      tc.verifyUncertain = true;
    } else tc.verify = verifyVal;
    const repeated = [...seen.entries()].filter(([, n]) => n > 1).map(([k]) => k);
    const random = ctx.randomKeys(m, repeated.map((k) => [k]));
    if (random.some((k) => k === "verify" || k === "verify_and_map")) tc.verifyUncertain = true;
    if (tc.verifyUncertain) {
      ctx.warnings.push({
        pos: e.keyPos,
        kind: "random",
        message: "whether client certificates are verified depends on the server's random key order (verify_and_map: true with verify: false): it changes from restart to restart",
      });
    }
    out = tc;
  });
  return out;
}

/** The server's GenTLSConfig: the key pair and the CA file; the reason text when it fails. */
function loadTlsFiles(ctx: CheckContext, tc: TlsConfig): string | undefined {
  const open = (f: string): Buffer | string => {
    try {
      return fs.readFileSync(path.resolve(ctx.cwd, f));
    } catch (e) {
      return goFileError(e, f);
    }
  };
  if (tc.certFile && !tc.keyFile) return "missing 'key_file' in TLS configuration";
  if (!tc.certFile && tc.keyFile) return "missing 'cert_file' in TLS configuration";
  if (tc.certFile && tc.keyFile) {
    const pair = (why: string) => `error parsing X509 certificate/key pair: ${why}`;
    const certData = open(tc.certFile);
    if (typeof certData === "string") return pair(certData);
    const keyData = open(tc.keyFile);
    if (typeof keyData === "string") return pair(keyData);
    const certBlocks = pemBlocks(certData);
    const certs = certBlocks.filter((b) => b.type === "CERTIFICATE");
    if (certs.length === 0) {
      if (certBlocks.length === 0) return pair("tls: failed to find any PEM data in certificate input");
      if (certBlocks.length === 1 && certBlocks[0].type.endsWith("PRIVATE KEY")) {
        return pair("tls: failed to find certificate PEM data in certificate input, but did find a private key; PEM inputs may have been switched");
      }
      return pair(`tls: failed to find "CERTIFICATE" PEM block in certificate input after skipping PEM blocks of the following types: [${certBlocks.map((b) => b.type).join(" ")}]`);
    }
    const keyBlocks = pemBlocks(keyData);
    const keyBlock = keyBlocks.find((b) => b.type === "PRIVATE KEY" || b.type.endsWith(" PRIVATE KEY"));
    if (!keyBlock) {
      if (keyBlocks.length === 0) return pair("tls: failed to find any PEM data in key input");
      if (keyBlocks.length === 1 && keyBlocks[0].type === "CERTIFICATE") return pair("tls: found a certificate rather than a key in the PEM for the private key");
      return pair(`tls: failed to find PEM block with type ending in "PRIVATE KEY" in key input after skipping PEM blocks of the following types: [${keyBlocks.map((b) => b.type).join(" ")}]`);
    }
    let cert: X509Certificate;
    try {
      cert = new X509Certificate(certs[0].der);
    } catch {
      return pair("x509: malformed certificate");
    }
    let key: KeyObject | undefined;
    for (const type of ["pkcs1", "pkcs8", "sec1"] as const) {
      try {
        key = createPrivateKey({ key: keyBlock.der, format: "der", type });
        break;
      } catch {
        /* try the next form */
      }
    }
    if (!key) return pair("tls: failed to parse private key");
    let matches = false;
    try {
      matches = cert.checkPrivateKey(key);
    } catch {
      matches = false;
    }
    if (!matches) return pair("tls: private key does not match public key");
  }
  if (tc.caFile) {
    const data = open(tc.caFile);
    if (typeof data === "string") return data;
    const ok = pemBlocks(data).some((b) => {
      if (b.type !== "CERTIFICATE" || b.headers) return false;
      try {
        new X509Certificate(b.der);
        return true;
      } catch {
        return false;
      }
    });
    if (!ok) return "failed to parse root ca certificate";
  }
  return undefined;
}
