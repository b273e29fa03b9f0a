/**
 * The OCSP responder (RFC 6960) over a store: good / revoked (time, reason) / unknown for the
 * store's CA, unauthorized for another issuer, malformedRequest for garbage; nonce echoed.
 *
 * Cache: a response for a nonce-less request (what nats-server and most clients send) is kept per
 * CertID until a quarter of its validity has passed. Every answer first reads the store's header
 * (O(1)) and drops the whole cache when its revocation state changed: every revocation, by this
 * process or by the CLI beside it, signs a CRL and so raises the header's CRL number; a CA change
 * (rollover) changes the CA serial. Correctness over speed: no cached "good" outlives a revocation.
 * Unknown answers are never cached (the serial may be issued a moment later).
 */
import { MtlsctlError } from "../errors";
import { REVOCATION_REASONS } from "../lifecycle/crl";
import type { ParsedCertificate } from "../pki/cert";
import { buildOcspResponse, issuerHashes, IssuerHashes, ocspErrorResponse, OcspRequest, parseOcspRequest, singleResponse, SingleStatus } from "../pki/ocsp";
import type { Signer } from "../pki/signer";
import type { CertRecord, InventoryHeader, Store } from "../store/types";

export type OcspAnswerStatus = "good" | "revoked" | "unknown" | "unauthorized" | "malformed";

export interface OcspAnswer {
  der: Buffer;
  status: OcspAnswerStatus;
  /** The (first) CertID's serial, lower-case hex, when the request could be read. */
  serial?: string;
}

export interface OcspResponder {
  respond(reqDer: Buffer, now?: Date): Promise<OcspAnswer>;
  /** Drops every cached response (the service calls it after a revocation it made). */
  invalidate(): void;
}

export interface OcspResponderOptions {
  /** The Store interface (src/store/types.ts); only header() and findBySerial() are used. */
  store: Pick<Store, "header" | "findBySerial">;
  /** The CA's signer: signs responses unless a delegated responder is given. */
  signer: Signer;
  caCert: ParsedCertificate;
  /** A delegated responder (id-kp-OCSPSigning certificate issued by the CA, and its signer). */
  responder?: { cert: ParsedCertificate; signer: Signer };
  /** How long a response is valid (nextUpdate - thisUpdate), seconds; default 3600. */
  validitySeconds?: number;
}

interface Cached {
  der: Buffer;
  status: "good" | "revoked";
  serial: string;
  /** Reused until then (ms since the epoch). */
  until: number;
}

const stateOf = (h: InventoryHeader): string => `${h.ca.serial}/${h.crl?.number ?? 0}`;

export function createOcspResponder(o: OcspResponderOptions): OcspResponder {
  const validityMs = (o.validitySeconds ?? 3600) * 1000;
  const signCert = o.responder?.cert ?? o.caCert;
  const signer = o.responder?.signer ?? o.signer;
  const hashes = new Map<string, IssuerHashes>();
  const hashesFor = (h: string): IssuerHashes => {
    let v = hashes.get(h);
    if (!v) hashes.set(h, (v = issuerHashes(o.caCert, h)));
    return v;
  };
  const cache = new Map<string, Cached>();
  let state: string | null = null;
  const CACHE_MAX = 100_000;

  function statusOf(rec: CertRecord | undefined, now: Date, caSerial: string): SingleStatus {
    if (!rec || rec.kind === "ca") return { status: "unknown" };
    if (rec.caSerial && rec.caSerial !== caSerial) return { status: "unknown" }; // signed by a previous CA
    if (rec.status === "revoked") {
      const code = rec.revocationReason ? REVOCATION_REASONS[rec.revocationReason as keyof typeof REVOCATION_REASONS] : undefined;
      return { status: "revoked", at: new Date(rec.revokedAt ?? rec.issuedAt), reasonCode: code === undefined || code === 0 ? null : code };
    }
    // valid or superseded (renewed): good until it expires (and after: good, as RFC 6960 §2.2 allows;
    // verifiers refuse an expired certificate on its own dates)
    return { status: "good" };
  }

  async function respond(reqDer: Buffer, now = new Date()): Promise<OcspAnswer> {
    let req: OcspRequest;
    try {
      req = parseOcspRequest(reqDer);
    } catch (e) {
      if (e instanceof MtlsctlError) return { der: ocspErrorResponse("malformedRequest"), status: "malformed" };
      throw e;
    }
    const header = await o.store.header();
    const s = stateOf(header);
    if (s !== state) {
      cache.clear();
      state = s;
    }
    const first = req.certIds[0];
    const key = req.nonce === undefined && req.certIds.length === 1 ? first.raw.toString("latin1") : null;
    const t = now.getTime();
    if (key !== null) {
      const hit = cache.get(key);
      if (hit && hit.until > t) return { der: hit.der, status: hit.status, serial: hit.serial };
    }
    const ours = req.certIds.map((id) => {
      if (id.hash === null) return false;
      const h = hashesFor(id.hash);
      return h.name.equals(id.issuerNameHash) && h.key.equals(id.issuerKeyHash);
    });
    if (!ours.some(Boolean)) return { der: ocspErrorResponse("unauthorized"), status: "unauthorized", serial: first.serialHex };
    const thisUpdate = new Date(Math.floor(t / 1000) * 1000);
    const nextUpdate = new Date(thisUpdate.getTime() + validityMs);
    const statuses: SingleStatus[] = [];
    for (let i = 0; i < req.certIds.length; i++) {
      statuses.push(ours[i] ? statusOf(await o.store.findBySerial(req.certIds[i].serialHex), now, header.ca.serial) : { status: "unknown" });
    }
    const responses = req.certIds.map((certId, i) => singleResponse({ certId, status: statuses[i], thisUpdate, nextUpdate }));
    const out = buildOcspResponse({ responderCert: signCert, signer, includeCert: o.responder !== undefined, producedAt: thisUpdate, responses, nonce: req.nonce });
    const status = statuses[0].status;
    if (key !== null && status !== "unknown") {
      if (cache.size >= CACHE_MAX) cache.clear();
      cache.set(key, { der: out, status, serial: first.serialHex, until: t + validityMs / 4 });
    }
    return { der: out, status, serial: first.serialHex };
  }

  return { respond, invalidate: () => cache.clear() };
}
