/**
 * The whole decision for one client connection, in the server's order (reference §0):
 * config -> TLS stage -> mapping -> the password of the mapped user.
 * Produces the `verify --json` object of design.md.
 */
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import type { ParsedCertificate } from "../pki/cert";
import { readCertificates } from "../pki/cert";
import { clientSignatureError, verifyClientChain, ChainResult } from "./chain";
import { mapCertificate, UserIndex } from "./mapping";
import { atLeast, goRules, goToolchain, ServerVersion, versionProof } from "./versions";
import { certSubjectViewsFor } from "../nats/subject";
import { nkeyVerdict } from "./nkey-stage";
import type { VerifierConfig, Verdict, OcspPeerVerdict } from "./types";
import { ocspPeerOutcome, ocspUrls } from "./ocsp-peer";

export type { VerifierConfig, Verdict } from "./types";

export interface VerifyOptions {
  version: ServerVersion;
  connectUser?: string;
  connectPassword?: string;
  /** The CONNECT's auth_token. */
  connectToken?: string;
  now?: Date;
  /** The server's working directory, against which it opens cert/key/ca files. */
  serverCwd: string;
  /** STANDARD (default), WEBSOCKET or MQTT. */
  connectionType?: string;
  /** The user public key (U...) of the NKey the client sends, signing the nonce with its seed (`verify --nkey-seed`). */
  nkey?: string;
  /** Map by exact strings only (the leafnodes users table; src/verify/leafnode.ts). */
  exactOnly?: boolean;
  /** With ocsp_peer: ask the certificate's OCSP responder as the server would (`verify --ocsp`). */
  ocsp?: boolean;
}

const BCRYPT = /^\$2[abxy]\$\d\d\$/;

/** ca_file contents by path: read once per process, as the server reads it once at start. */
const rootsCache = new Map<string, ParsedCertificate[]>();

/** One user index per config and version, so that many certificates cost hash look-ups each. */
const indexes = new WeakMap<VerifierConfig, UserIndex>();
function indexFor(cfg: VerifierConfig, version: ServerVersion): UserIndex {
  let ix = indexes.get(cfg);
  if (!ix || ix.version !== version) {
    ix = new UserIndex(cfg.users, version);
    indexes.set(cfg, ix);
  }
  return ix;
}

/** The server's password check: bcrypt when the stored value looks like one, else exact ("" must equal ""). */
export function passwordMatches(stored: string | undefined, sent: string | undefined): boolean {
  const s = stored ?? "";
  const p = sent ?? "";
  if (BCRYPT.test(s)) {
    const bcrypt = require("bcryptjs") as typeof import("bcryptjs");
    try {
      return bcrypt.compareSync(p, s.replace(/^\$2[xy]\$/, "$2b$"));
    } catch {
      return false;
    }
  }
  return s === p;
}

function systemRoots(): { file: string; certs: ParsedCertificate[] } | null {
  const candidates = [process.env.SSL_CERT_FILE, "/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt"].filter(Boolean) as string[];
  for (const f of candidates) {
    try {
      return { file: f, certs: readCertificates(fs.readFileSync(f), f) };
    } catch {
      /* next */
    }
  }
  return null;
}

/** `leaf` is null for a client that presents no certificate (an NKey client, `verify --nkey-seed` alone). */
export function verifyConnection(leaf: ParsedCertificate | null, intermediates: ParsedCertificate[], cfg: VerifierConfig, o: VerifyOptions): Verdict {
  const notes: string[] = [];
  let ocspPeer: OcspPeerVerdict | undefined; // the verdict's ocspPeer, once the tls block has ocsp_peer
  const proof = versionProof(o.version);
  if (proof) notes.push(proof);
  // Every verdict is one object literal of a fixed shape: a spread with properties after it
  // (`{ ...base, accepted }`) made V8 promote each verdict to the old generation, so that bulk
  // verify's heap grew with the number of certificates (issue 9).
  const verdict = (accepted: boolean, stage: Verdict["stage"], reason: string, x: Partial<Verdict>): Verdict => ({
    accepted,
    user: x.user ?? null,
    account: x.account ?? null,
    matchedBy: x.matchedBy ?? null,
    stage,
    ambiguous: x.ambiguous ?? false,
    candidates: x.candidates ?? [],
    reason,
    serverVersion: o.version,
    tlsChecks: x.tlsChecks,
    notes,
    ocspPeer,
  });
  const refuse = (stage: Verdict["stage"], reason: string, extra: Partial<Verdict> = {}): Verdict => verdict(false, stage, reason, extra);

  const connType = o.connectionType ?? "STANDARD";
  const tls = connType === "STANDARD" ? cfg.tls : cfg.listeners?.[connType as "WEBSOCKET" | "MQTT" | "LEAFNODE"];
  const where = connType === "STANDARD" ? "the config has no tls {} block" : `the ${connType === "LEAFNODE" ? "leafnodes" : connType.toLowerCase()} block has no tls {}`;
  if (!tls && leaf) return refuse("tls", `${where}: the server does not offer TLS to these clients and never asks for a certificate`);
  if (!tls) notes.push(`${where}: the client connects without TLS`);
  const op = tls?.ocspPeer;
  if (o.ocsp && !op && leaf) notes.push("--ocsp: the config has no ocsp_peer, so the server asks no OCSP responder");
  if (op && leaf) ocspPeer = { required: op.verify && !op.warnOnly && ocspUrls(leaf).length > 0, responder: ocspUrls(leaf)[0] ?? null, status: "not-checked" };
  const requestsCert = !!tls && (tls.verify || tls.verifyAndMap);
  let tlsChecks: ChainResult["checks"] | undefined;
  if (tls?.mapVerifyConflict)
    notes.push("verify_and_map: true and verify: false are both set: the server resolves them in random order at each start; when verify wins, no certificate is requested and every mapping fails");

  if (requestsCert && !leaf) return refuse("tls", `the server asks for a client certificate (${tls!.verifyAndMap ? "verify_and_map" : "verify"}) and the client presents none: TLS handshake error`);
  if (requestsCert && tls && leaf) {
    let roots: ParsedCertificate[];
    if (tls.caFile) {
      const caPath = path.resolve(o.serverCwd, tls.caFile);
      if (!path.isAbsolute(tls.caFile)) notes.push(`ca_file "${tls.caFile}" is relative: resolved against ${o.serverCwd} (the server opens it relative to its working directory, not the config file)`);
      const cached = rootsCache.get(caPath);
      let data: Buffer | undefined;
      if (!cached)
        try {
          data = fs.readFileSync(caPath);
        } catch {
          return refuse("config", `ca_file ${caPath} cannot be read: the server would refuse to start`);
        }
      try {
        roots = cached ?? readCertificates(data!, caPath);
        rootsCache.set(caPath, roots); // the server loads ca_file once, at start
      } catch {
        return refuse("config", `failed to parse root ca certificate in ${caPath}: the server would refuse to start`);
      }
    } else {
      const sys = systemRoots();
      notes.push(`no ca_file: Go verifies client certificates against the system roots (${sys?.file ?? "none found"}), so every public CA's client certificates are trusted`);
      roots = sys?.certs ?? [];
    }
    const go = goRules(o.version);
    const chain = verifyClientChain(leaf, intermediates, roots, o.now ?? new Date(), go);
    tlsChecks = chain.checks;
    if (!chain.ok) return refuse("tls", `TLS handshake error: ${tlsErrorText(chain, leaf, intermediates, o.version, notes)}`, { tlsChecks });
    // in the handshake's order: the chain, ocsp_peer (crypto/tls's VerifyConnection), the client's
    // CertificateVerify signature, and once the handshake is done nats-server's pinned_certs check
    if (op) {
      const r = ocspPeerOutcome(op, chain.chain, { ask: !!o.ocsp, version: o.version, now: o.now ?? new Date() });
      ocspPeer = r.field;
      notes.push(...r.notes);
      if (r.refusal) return refuse("tls", r.refusal, { tlsChecks });
    }
    const sigError = clientSignatureError(leaf, go);
    if (sigError) {
      tlsChecks.push({ name: "signature", ok: false, detail: sigError });
      return refuse("tls", `TLS handshake error: ${sigError}`, { tlsChecks });
    }
    if (tls.pinnedCerts?.length) {
      const spkiHash = crypto.createHash("sha256").update(leaf.spki).digest("hex");
      if (!tls.pinnedCerts.some((p) => p.toLowerCase() === spkiHash)) return refuse("tls", `TLS handshake error: certificate not pinned (SPKI SHA-256 ${spkiHash} is not in pinned_certs)`, { tlsChecks });
    }
  } else if (leaf) notes.push("neither verify nor verify_and_map is set: the server asks for no client certificate, so the certificate plays no part");

  const anyAuth = cfg.users.length > 0 || cfg.nkeys.length > 0 || !!cfg.singleUser || !!cfg.token;
  if (!anyAuth) return verdict(true, null, "no users, nkeys, token or user/password are configured: the server requires no authentication", { tlsChecks });

  // nkey users exist and the client sends an nkey: the nkey decides alone (reference §2.1 step 4)
  if (o.nkey !== undefined && cfg.nkeys.length > 0)
    return nkeyVerdict(cfg, o.nkey, { connectionType: connType, connectUser: o.connectUser, connectPassword: o.connectPassword, certificate: !!leaf }, { serverVersion: o.version, notes, tlsChecks });
  if (o.nkey !== undefined) notes.push("the config has no nkey users: the server sends no nonce and ignores the nkey the client sends");

  if (leaf && tls?.verifyAndMap && !tls.mapVerifyConflict) {
    if (cfg.users.length === 0 && cfg.nkeys.length) return refuse("map", 'authentication error - Nkey "": only nkey users are configured, there is no user to map the certificate to', { tlsChecks });
    // A single authorization user or a token: the server has no users table (s.users is empty), so
    // verify_and_map never maps; CONNECT's token, or user and password, decide (server/auth.go, every
    // version 2.9.10 to 2.15.3: processClientOrLeafAuthentication's "simple auth" at its end).
    if (cfg.users.length === 0) return simpleAuth(cfg, o, notes, tlsChecks, verdict, refuse, true);
    if (o.connectUser) notes.push(`User ${JSON.stringify(o.connectUser)} found in connect proto, but user required from cert: the name sent is ignored`);
    if (cfg.noAuthUser) notes.push("no_auth_user is not consulted when verify_and_map is on");
    const m = mapCertificate(leaf, indexFor(cfg, o.version), o.version, connType, o.exactOnly);
    if (!m.candidates.length) return refuse("map", m.reason, { tlsChecks });
    const names = m.candidates.map((c) => c.user);
    const ambiguous = m.candidates.length > 1;
    const passing = m.candidates.filter((c) => passwordMatches(c.password, o.connectPassword));
    const common = { ambiguous, candidates: names, matchedBy: m.matchedBy, tlsChecks };
    if (ambiguous) notes.push(`${names.length} users match equally; the server picks one at random on every connection`);
    if (passing.length === 0) {
      const c = m.candidates[0];
      const why = c.password ? (o.connectPassword === undefined ? "has a password and the client sends none" : "has a password that the client's does not match") : "has no password but the client sends one";
      // the server's log line: before 2.12.0 authViolation names the client's nkey (none: "") whenever nkey
      // users exist, else the user; from 2.12.0 the connection's user (server/client.go authViolation)
      const who = cfg.nkeys.length && !atLeast(o.version, "2.12.0") ? `Nkey ${JSON.stringify(o.nkey ?? "")}` : `User ${JSON.stringify(ambiguous ? "" : c.user)}`;
      return refuse("auth", `${m.reason}, but the mapped user ${why}: authentication error - ${who}`, { ...common, user: ambiguous ? null : c.user, account: ambiguous ? null : c.account });
    }
    if (passing.length < m.candidates.length)
      return refuse("auth", `${m.reason}; whether the password matches depends on which of the ${names.length} users the server picks`, { ...common });
    const u = ambiguous ? null : m.candidates[0];
    return verdict(true, null, m.reason, { user: u?.user ?? null, account: u?.account ?? null, ambiguous, candidates: names, matchedBy: m.matchedBy, tlsChecks });
  }

  // No mapping: ordinary user/password (or token/no_auth_user) authentication.
  if (tls?.mapVerifyConflict) notes.push("modelled as the restarts where verify wins (no mapping)");
  const sent = o.connectUser;
  if (sent === undefined && (cfg.token || (cfg.singleUser && !cfg.users.length))) return simpleAuth(cfg, o, notes, tlsChecks, verdict, refuse, false);
  if (sent === undefined) {
    if (cfg.noAuthUser) {
      const u = cfg.users.find((x) => x.user === cfg.noAuthUser);
      if (u) return verdict(true, null, `no user sent: no_auth_user ${JSON.stringify(u.user)} applies`, { user: u.user, account: u.account, candidates: [u.user], tlsChecks });
    }
    return refuse("auth", "verify_and_map is off and the client sends no user name: authentication error", { tlsChecks });
  }
  if (cfg.singleUser || cfg.token) return simpleAuth(cfg, o, notes, tlsChecks, verdict, refuse, false);
  const u = cfg.users.find((x) => x.user === sent);
  if (!u || !passwordMatches(u.password, o.connectPassword)) return refuse("auth", `authentication error - User ${JSON.stringify(sent)}`, { tlsChecks });
  if (!u.password) notes.push(`user ${JSON.stringify(u.user)} has no password: any client the TLS stage accepts can claim it by name`);
  return verdict(true, null, `verify_and_map is off: the user name ${JSON.stringify(sent)} sent in CONNECT matches`, { user: u.user, account: u.account, candidates: [u.user], tlsChecks });
}

/**
 * The handshake error as the server logs it. Go 1.19 (2.9.10) writes "tls: failed to verify client
 * certificate: …"; Go 1.20 on "tls: failed to verify certificate: …" (a CertificateVerificationError),
 * and "x509: unhandled critical extension" without naming it (the OID goes to a note). From 2.11.4
 * nats-server appends each certificate the client sent: " (<Go subject> SHA-256: <hex of the DER>; …)".
 */
function tlsErrorText(chain: ChainResult, leaf: ParsedCertificate, intermediates: ParsedCertificate[], version: ServerVersion, notes: string[]): string {
  if (chain.phase === "parse") return `tls: failed to parse client certificate: ${chain.error}`;
  if (chain.phase === "key") return chain.error ?? "";
  if (goToolchain(version) === "go1.19") return `tls: failed to verify client certificate: ${chain.error}`;
  let err = chain.error ?? "";
  const oid = err.match(/^x509: unhandled critical extension \(([\d.]+)\)$/);
  if (oid) {
    err = "x509: unhandled critical extension";
    notes.push(`the unhandled critical extension is ${oid[1]}`);
  }
  let detail = "";
  if (atLeast(version, "2.11.4"))
    detail = ` (${[leaf, ...intermediates].map((c) => `${certSubjectViewsFor(c, true).goSubjectString} SHA-256: ${crypto.createHash("sha256").update(c.der).digest("hex")}`).join("; ")})`;
  return `tls: failed to verify certificate: ${err}${detail}`;
}

/**
 * authorization's single user or token (no users list): a token is compared first (the user name is
 * then ignored), else the user name must be the configured one and the password match. The user the
 * server reports is the name the client sent (with a token: none).
 */
function simpleAuth(
  cfg: VerifierConfig,
  o: VerifyOptions,
  notes: string[],
  tlsChecks: ChainResult["checks"] | undefined,
  verdict: (accepted: boolean, stage: Verdict["stage"], reason: string, x: Partial<Verdict>) => Verdict,
  refuse: (stage: Verdict["stage"], reason: string, extra?: Partial<Verdict>) => Verdict,
  mapOn: boolean,
): Verdict {
  if (mapOn) notes.push("verify_and_map is on, but the config has a single user or a token and no users list: the server maps no certificate and checks the credentials the client sends in CONNECT");
  if (cfg.tokenValue !== undefined || cfg.token) {
    if (o.connectToken !== undefined && cfg.tokenValue !== undefined && passwordMatches(cfg.tokenValue, o.connectToken))
      return verdict(true, null, "the token sent in CONNECT matches authorization's token", { tlsChecks });
    return refuse("auth", `authorization's token ${o.connectToken === undefined ? "is required and the client sends none" : "does not match the one the client sends"}: authentication error`, { tlsChecks });
  }
  const su = cfg.singleUser!;
  const sent = o.connectUser;
  if (sent === undefined) return refuse("auth", `authorization's single user ${JSON.stringify(su.user)} needs its name${su.password !== undefined ? " and password" : ""} in CONNECT, and the client sends no user: authentication error`, { tlsChecks });
  if (sent !== su.user) return refuse("auth", `the user sent in CONNECT (${JSON.stringify(sent)}) is not authorization's single user ${JSON.stringify(su.user)}: authentication error - User ${JSON.stringify(sent)}`, { tlsChecks });
  if (!passwordMatches(su.password, o.connectPassword))
    return refuse("auth", `the password sent for ${JSON.stringify(sent)} ${o.connectPassword === undefined ? "is missing" : "does not match"}: authentication error - User ${JSON.stringify(sent)}`, { tlsChecks });
  return verdict(true, null, `the user and password sent in CONNECT match authorization's single user ${JSON.stringify(su.user)}${mapOn ? " (the certificate is not mapped)" : ""}`, { user: sent, candidates: [sent], tlsChecks });
}
