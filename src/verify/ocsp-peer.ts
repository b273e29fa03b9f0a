/**
 * `tls { ocsp_peer }` as nats-server decides it (server/ocsp_peer.go, certidp/, 2.9.21 on; the same
 * rules on 2.9.25 … 2.15.3, observed in test/ocsp-peer.test.ts): after Go's chain check, every link
 * of the verified chain but the root that names an http(s) OCSP responder in its AIA is asked (GET
 * <url>/<base64 request>, timeout ca_timeout); the link passes on a current, correctly signed
 * "good" answer ("unknown" too with unknown_is_good). Anything else refuses the handshake ("client
 * not OCSP valid"), except that warn_only lets every failure pass, and allow_when_ca_unreachable a
 * responder that cannot be reached. A chain of one certificate, or one whose links name no
 * responder, always passes.
 *
 * The verifier asks the responder itself only when told (`verify --ocsp`): synchronously, through a
 * worker thread, so that the verdict stays a plain function of its inputs.
 */
import * as der from "../asn1/der";
import { OID } from "../asn1/oids";
import type { ParsedCertificate } from "../pki/types";
import { parseCertificate } from "../pki/cert";
import { verifySignature } from "../pki/keys";
import { issuerHashes } from "../pki/ocsp";
import { atLeast, type ServerVersion } from "./versions";
import type { OcspPeerVerdict, VerifierOcspPeer } from "./types";

const AIA = "1.3.6.1.5.5.7.1.1";
const AD_OCSP = "1.3.6.1.5.5.7.48.1";
const BASIC = "1.3.6.1.5.5.7.48.1.1";
const EKU_OCSP_SIGNING = "1.3.6.1.5.5.7.3.9";

/** The certificate's AIA id-ad-ocsp URIs that Go keeps (url.ParseRequestURI, scheme http or https). */
export function ocspUrls(c: ParsedCertificate): string[] {
  const ext = c.extensions.find((e) => e.oid === AIA);
  if (!ext) return [];
  const out: string[] = [];
  try {
    for (const ad of der.children(der.parseOne(ext.value))) {
      const [method, name] = der.children(ad);
      if (der.readOid(method) !== AD_OCSP || name.tag !== 0x86) continue;
      const uri = name.content.toString("latin1");
      if (/^https?:\/\/[^\s]/i.test(uri)) out.push(uri);
    }
  } catch {
    return [];
  }
  return out;
}

/** Go's ocsp.CreateRequest: one CertID with SHA-1 hashes, no nonce, no extensions. */
export function ocspRequest(leaf: ParsedCertificate, issuer: ParsedCertificate): Buffer {
  const h = issuerHashes(issuer, "sha1");
  const certId = der.seq(der.seq(der.oid(OID.sha1), der.nul()), der.octets(h.name), der.octets(h.key), der.uint(Buffer.from(leaf.serialHex.length % 2 ? "0" + leaf.serialHex : leaf.serialHex, "hex")));
  return der.seq(der.seq(der.seq(der.seq(certId))));
}

export type Fetched = { ok: true; body: Buffer } | { ok: false; error: string };

/** The worker: one GET, the answer (or the error) written into the shared buffer, then a notify. */
const WORKER = `
const { workerData } = require("node:worker_threads");
const { sab, url, timeoutMs } = workerData;
const i32 = new Int32Array(sab, 0, 2);
const bytes = new Uint8Array(sab, 8);
const done = (state, buf) => {
  const n = Math.min(buf.length, bytes.length);
  bytes.set(buf.subarray(0, n));
  i32[1] = n;
  Atomics.store(i32, 0, state);
  Atomics.notify(i32, 0);
};
try {
  const mod = require(url.startsWith("https:") ? "node:https" : "node:http");
  const req = mod.get(url, { timeout: timeoutMs }, (res) => {
    const chunks = [];
    res.on("data", (d) => chunks.push(d));
    res.on("end", () => res.statusCode === 200 ? done(1, Buffer.concat(chunks)) : done(2, Buffer.from("bad OCSP responder http status: [" + res.statusCode + "]")));
    res.on("error", (e) => done(2, Buffer.from(String(e.message))));
  });
  req.on("timeout", () => req.destroy(new Error("timeout awaiting response headers (Client.Timeout exceeded)")));
  req.on("error", (e) => done(2, Buffer.from(String(e.message))));
} catch (e) { done(2, Buffer.from(String(e && e.message))); }
`;

/** One HTTP GET, synchronously (a worker thread; this thread waits on a shared buffer). */
export function httpGetSync(url: string, timeoutSeconds: number): Fetched {
  const { Worker } = require("node:worker_threads") as typeof import("node:worker_threads");
  const timeoutMs = Math.max(1, Math.round(timeoutSeconds * 1000));
  const sab = new SharedArrayBuffer(8 + 256 * 1024);
  const i32 = new Int32Array(sab, 0, 2);
  const w = new Worker(WORKER, { eval: true, workerData: { sab, url, timeoutMs } });
  w.unref();
  // the worker's own start-up comes on top of the server's timeout
  Atomics.wait(i32, 0, 0, timeoutMs + 5000);
  const state = Atomics.load(i32, 0);
  const body = Buffer.from(new Uint8Array(sab, 8, i32[1]));
  void w.terminate();
  if (state === 1) return { ok: true, body };
  if (state === 2) return { ok: false, error: body.toString("utf8") };
  return { ok: false, error: `no answer within ${timeoutSeconds} s` };
}

/** What a responder's answer is worth to the server: a status, or why it cannot be used. */
export type Answer = { kind: "good" | "revoked" | "unknown"; thisUpdate: Date; nextUpdate?: Date; revokedAt?: Date } | { kind: "invalid"; why: string };

/**
 * Go's ocsp.ParseResponse(resp, issuer) (ParseResponseForCert after 2.14.5: the single response
 * for this serial), the delegation check and OCSPResponseCurrent, as the server applies them.
 */
export function readAnswer(body: Buffer, leaf: ParsedCertificate, issuer: ParsedCertificate, o: { version: ServerVersion; now: Date; cfg: VerifierOcspPeer }): Answer {
  const bad = (why: string): Answer => ({ kind: "invalid", why });
  let single: der.Node | undefined;
  try {
    const [status, bytes] = der.children(der.expect(der.parseOne(body), der.Tag.SEQUENCE, "OCSPResponse"));
    if (status.tag !== 0x0a) return bad("not an OCSP response");
    const code = status.content[0];
    if (code !== 0) return bad(`the responder answered ${["successful", "malformedRequest", "internalError", "tryLater", "", "sigRequired", "unauthorized"][code] ?? `status ${code}`}`);
    if (!bytes || bytes.tag !== 0xa0) return bad("the response has no responseBytes");
    const [type, octets] = der.children(der.children(bytes)[0]);
    if (der.readOid(type) !== BASIC) return bad("not a basic OCSP response");
    const [tbs, sigAlg, sig, certs] = der.children(der.parseOne(der.expect(octets, der.Tag.OCTET_STRING, "response").content));
    let signer = issuer;
    if (certs && certs.tag === 0xa0) {
      const list = der.children(der.children(certs)[0]);
      if (list.length) {
        const rc = parseCertificate(Buffer.from(list[0].raw), "OCSP responder certificate");
        if (!rc.der.equals(issuer.der)) {
          if (!verifySignature(rc.signatureAlgorithm, issuer.spki, rc.tbs, rc.signature)) return bad("bad signature on embedded certificate");
          if (!(rc.extKeyUsage ?? []).includes(EKU_OCSP_SIGNING)) return bad("the responder's certificate is not the issuer's and has no id-kp-OCSPSigning (invalid delegation)");
        }
        signer = rc;
      }
    }
    if (!verifySignature(sigAlg.raw, signer.spki, tbs.raw, der.readBitString(sig).bytes)) return bad("the response's signature is not the issuer's (crypto/rsa/ecdsa verification error)");
    const parts = der.children(tbs).filter((n) => n.tag !== 0xa0);
    const responses = der.children(der.expect(parts[2], der.Tag.SEQUENCE, "responses"));
    const serialOf = (n: der.Node) => der.children(der.children(n)[0])[3].content.toString("hex").replace(/^(00)+(?=[0-9a-f])/, "") || "0";
    if (atLeast(o.version, "2.14.6")) {
      single = responses.find((r) => serialOf(r) === leaf.serialHex.toLowerCase());
      if (!single) return bad("no response matching the supplied certificate");
    } else {
      if (responses.length !== 1) return bad("OCSP response contains bad number of responses");
      single = responses[0];
    }
  } catch (e) {
    return bad(`the response cannot be parsed (${(e as Error).message})`);
  }
  const [, certStatus, thisUpd, ...rest] = der.children(single);
  const kind = certStatus.tag === 0x80 ? "good" : certStatus.tag === 0xa1 ? "revoked" : certStatus.tag === 0x82 ? "unknown" : null;
  if (!kind) return bad("bad certStatus");
  const thisUpdate = der.readTime(thisUpd);
  const nu = rest.find((n) => n.tag === 0xa0);
  const nextUpdate = nu ? der.readTime(der.children(nu)[0]) : undefined;
  // OCSPResponseCurrent
  const skew = o.cfg.allowedClockskew * 1000;
  const now = o.now.getTime();
  const expiry = nextUpdate ? nextUpdate.getTime() : thisUpdate.getTime() + o.cfg.ttlUnsetNextUpdate * 1000;
  if (expiry < now - skew) return bad(`the answer is no longer current (${nextUpdate ? "nextUpdate" : "thisUpdate + cache_ttl_when_next_update_unset"} ${new Date(expiry).toISOString()})`);
  if (thisUpdate.getTime() > now + skew) return bad(`the answer is future-dated (thisUpdate ${thisUpdate.toISOString()})`);
  return { kind, thisUpdate, nextUpdate, revokedAt: kind === "revoked" ? der.readTime(der.children(certStatus)[0]) : undefined };
}

export interface OcspPeerOutcome {
  field: OcspPeerVerdict;
  /** Why the server refuses the handshake (null: it passes). */
  refusal: string | null;
  notes: string[];
}

/**
 * What ocsp_peer does to this verified chain (leaf first, root last). `ask`: query the responders
 * (verify --ocsp); otherwise the status is "not-checked" and nothing is refused.
 */
export function ocspPeerOutcome(cfg: VerifierOcspPeer, chain: ParsedCertificate[], o: { ask: boolean; version: ServerVersion; now: Date; fetch?: (url: string, timeout: number) => Fetched }): OcspPeerOutcome {
  const notes: string[] = [];
  const leafUrls = chain.length ? ocspUrls(chain[0]) : [];
  const links = chain.length > 1 ? chain.slice(0, -1).map((c, i) => ({ cert: c, issuer: chain[i + 1], urls: ocspUrls(c) })).filter((l) => l.urls.length) : [];
  const responder = leafUrls[0] ?? null;
  const field: OcspPeerVerdict = { required: cfg.verify && !cfg.warnOnly && links.length > 0, responder, status: "not-checked" };
  const out = (refusal: string | null): OcspPeerOutcome => ({ field, refusal, notes });
  if (!cfg.verify) {
    notes.push(`ocsp_peer ${cfg.form === "bool" ? "is false" : "has no verify: true"}: the server asks no OCSP responder`);
    return out(null);
  }
  if (chain.length === 1) {
    notes.push("ocsp_peer: the certificate is itself a root of ca_file (a chain of one): the server asks no responder");
    return out(null);
  }
  if (!links.length) {
    notes.push("ocsp_peer: no certificate of the chain names an OCSP responder (AIA id-ad-ocsp, http or https): the server passes it without asking");
    return out(null);
  }
  const modes = [cfg.warnOnly && "warn_only: every failure is only logged", cfg.unknownIsGood && "unknown_is_good: an unknown answer passes", cfg.allowWhenCaUnreachable && "allow_when_ca_unreachable: an unreachable responder passes unless a cached answer said revoked"].filter(Boolean);
  if (cfg.cache === "local")
    notes.push("ocsp_cache is local (the default): a good answer is reused until it is no longer current (its nextUpdate), so a certificate revoked meanwhile still connects; ocsp_cache: false asks at every handshake");
  if (!o.ask) {
    notes.push(`ocsp_peer: the server asks ${links.map((l) => l.urls.join(", ")).join("; ")} at the handshake (timeout ${cfg.caTimeout} s) and refuses a revoked${cfg.unknownIsGood ? "" : " or unknown"} answer or an unreachable responder${modes.length ? ` (${modes.join("; ")})` : ""}; not asked here (--ocsp asks)`);
    return out(null);
  }
  const fetch = o.fetch ?? httpGetSync;
  for (const [i, link] of links.entries()) {
    const who = i === 0 && link.cert === chain[0] ? "the certificate" : "an intermediate";
    let fetched: Fetched = { ok: false, error: "no responder" };
    let used = link.urls[0];
    for (const u of link.urls) {
      // GET <url>/<base64>: raw base64 to 2.11.8, query-escaped from 2.11.9; the responder reads both
      const b64 = ocspRequest(link.cert, link.issuer).toString("base64");
      const enc = atLeast(o.version, "2.11.9") ? encodeURIComponent(b64) : b64;
      used = u;
      fetched = fetch(`${u.replace(/\/$/, "")}/${enc}`, cfg.caTimeout);
      if (fetched.ok) break;
    }
    const set = (s: OcspPeerVerdict["status"]) => {
      if (link.cert === chain[0]) field.status = s;
      else if (field.status === "not-checked" || field.status === "good") field.status = s === "good" ? field.status : s;
    };
    if (!fetched.ok) {
      set("unreachable");
      notes.push(`ocsp_peer: the responder ${used} for ${who} cannot be reached: ${fetched.error}`);
      if (cfg.warnOnly) notes.push("warn_only: the server logs it and lets the client in");
      else if (cfg.allowWhenCaUnreachable) notes.push("allow_when_ca_unreachable: the server lets the client in (unless its cache holds a revoked answer for it)");
      else return out(`TLS handshake error: client not OCSP valid (Failed OCSP response fetch: the responder ${used} for ${who} cannot be reached)`);
      continue;
    }
    const a = readAnswer(fetched.body, link.cert, link.issuer, { version: o.version, now: o.now, cfg });
    if (a.kind === "invalid") {
      set("unknown");
      notes.push(`ocsp_peer: the answer of ${used} for ${who} cannot be used: ${a.why}`);
      if (cfg.warnOnly) notes.push("warn_only: the server logs it and lets the client in");
      else return out(`TLS handshake error: client not OCSP valid (the answer of ${used} for ${who} cannot be used: ${a.why})`);
      continue;
    }
    set(a.kind);
    if (a.kind === "good" || (a.kind === "unknown" && cfg.unknownIsGood)) {
      if (a.kind === "unknown") notes.push(`ocsp_peer: ${used} does not know ${who}; unknown_is_good lets it pass`);
      continue;
    }
    const what = a.kind === "revoked" ? `revoked${a.revokedAt ? ` (at ${a.revokedAt.toISOString()})` : ""}` : "unknown";
    notes.push(`ocsp_peer: ${used} says ${who} is ${what}`);
    if (cfg.warnOnly) {
      notes.push("warn_only: the server logs it and lets the client in");
      continue;
    }
    return out(`TLS handshake error: client not OCSP valid (Invalid OCSP response status: ${a.kind}: ${used} says ${who} is ${what})`);
  }
  return out(null);
}
