/**
 * The online CA's issuance (issue 17): EST enrolment with a one-time token and re-enrolment with the
 * current certificate, both through the one issuance pipeline (src/ca.ts issue(): planIssuance, the
 * serial, the files and the record's commit), from this one module, so that another store can swap the
 * call. Everything is checked before issue() is called, except what must be decided under the lock: the
 * token's claim and the mapping guard (which needs the certificate as built) run in issue()'s beforeWrite
 * hook, so that a refusal writes nothing and consumes no token.
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import { Refusal } from "./refusal";
import { buildSubject, issueBatch, leafFiles, type IssueRequest, type Issued } from "../ca";
import { readCertificates, signedBy, type ParsedCertificate } from "../pki/cert";
import { csrPem, ParsedCsr, readCsr } from "../pki/csr";
import { describeKey, goAcceptsKey } from "../pki/keys";
import { DAY, DEFAULT_LEAF_DAYS } from "../pki/plan";
import { formatRfc4514 } from "../pki/name";
import type { Sans } from "../pki/san";
import type { Signer } from "../pki/signer";
import type { CertRecord, FileStore } from "../store/store";
import { TokenFile, tokenMatches, tokenState } from "../store/tokens";
import { DeferredFileStore } from "../store/deferred";
import type { TokenRecord } from "../store/types";
import type { Guard } from "./guard";

export { Refusal };

export interface IssuerOptions {
  store: FileStore;
  signer: Signer;
  caCert: ParsedCertificate;
  guard?: Guard | null;
  requireRekey?: boolean;
  maxLifetimeMs?: number;
}

export interface Enrolled {
  cert: ParsedCertificate;
  record: CertRecord;
  /** "issued" (enrol), "renewed" (re-enrol), "reissued" (a retry with the same token and key: the same certificate). */
  outcome: "issued" | "renewed" | "reissued";
  name: string;
}

export const spkiSha256 = (spki: Buffer): string => createHash("sha256").update(spki).digest("hex");

const sanList = (s: Sans): string[] => [...s.email.map((v) => `email:${v}`), ...s.dns.map((v) => `dns:${v}`), ...s.uri.map((v) => `uri:${v}`), ...s.ip.map((v) => `ip:${v}`)];

/** The CSR's SANs against the identity's: empty or the same set; else the reason (naming the differences). */
export function sanMismatch(csr: ParsedCsr, want: Sans, whose: string): string | null {
  if (!csr.sans) return null;
  const got = sanList(csr.sans);
  if (!got.length && !csr.sans.other) return null;
  if (csr.sans.other) return `the request asks for ${csr.sans.other} SAN(s) of other kinds, which ${whose} does not have`;
  const w = new Set(sanList(want));
  const g = new Set(got);
  const extra = got.filter((x) => !w.has(x));
  const missing = [...w].filter((x) => !g.has(x));
  if (!extra.length && !missing.length) return null;
  return extra.length ? `the request asks for ${extra.join(", ")}, which ${whose} does not give` : `the request's SANs lack ${missing.join(", ")} of ${whose} (send them all, or none)`;
}

export function parseRequest(der: Buffer): ParsedCsr {
  let csr: ParsedCsr;
  try {
    csr = readCsr(der, "request");
  } catch (e) {
    throw new Refusal(400, `malformed certificate request: ${(e as Error).message.replace(/^request: /, "")}`);
  }
  if (!goAcceptsKey(csr.publicKey)) throw new Refusal(400, `the request's ${describeKey(csr.publicKey)} key cannot be used with nats-server (RSA, ECDSA P-256/P-384/P-521, Ed25519)`);
  return csr;
}

/** A re-enrolment's TLS client certificate (DER, as presented), checked against this CA and the clock (401, 403). */
export function presentedCertificate(clientDer: Buffer | null, ca: ParsedCertificate, now: number): ParsedCertificate {
  if (!clientDer) throw new Refusal(401, "re-enrolment needs the current certificate as the TLS client certificate");
  let cur: ParsedCertificate;
  try {
    cur = readCertificates(clientDer, "client certificate")[0];
  } catch {
    throw new Refusal(403, "the client certificate cannot be read");
  }
  if (!cur.issuerRaw.equals(ca.subjectRaw) || !signedBy(cur, ca.spki)) throw new Refusal(403, "the client certificate was not issued by this CA");
  if (cur.notAfter.getTime() <= now) throw new Refusal(403, `the client certificate expired on ${cur.notAfter.toISOString()}: enrol again with a token`);
  if (cur.notBefore.getTime() > now + 60_000) throw new Refusal(403, "the client certificate is not valid yet");
  return cur;
}

/** The store's record of the presented certificate: known (the same fingerprint) and not revoked. */
export function recordOfPresented(rec: CertRecord | undefined, cur: ParsedCertificate): CertRecord {
  if (!rec || rec.fingerprint !== cur.fingerprint) throw new Refusal(403, `the client certificate (serial ${cur.serialHex}) is not in this CA's store`);
  if (rec.status === "revoked") throw new Refusal(403, `the client certificate (serial ${rec.serial}, "${rec.name}") is revoked: enrol again with a token`);
  return rec;
}

/**
 * A superseded certificate re-enrolling: a lost answer must not strand the client, so a request with the
 * key of the renewal that replaced it gets that renewal's certificate again (`next`, still valid, and its
 * certificate); anything else is refused.
 */
export async function reissuedOrRefused(
  rec: CertRecord,
  next: CertRecord | undefined,
  certOf: (r: CertRecord) => ParsedCertificate | null | Promise<ParsedCertificate | null>,
  csr: ParsedCsr,
  now: number,
): Promise<Enrolled> {
  if (next && next.status !== "revoked" && new Date(next.notAfter).getTime() > now) {
    const nextCert = await certOf(next);
    if (nextCert && nextCert.spki.equals(csr.spki)) return { cert: nextCert, record: next, outcome: "reissued", name: rec.name };
  }
  throw new Refusal(403, `the client certificate (serial ${rec.serial}) was replaced by serial ${rec.renewedBy}: re-enrol with the current one (or retry with the key of that renewal)`);
}

/**
 * A token's enrolment request, once the token is known and not already used (both stores' issuers):
 * refused (403) when the token expired, expects a NATS user this service cannot check, or the request
 * asks for another subject or other SANs than the token gives. Returns the token's subject, DER.
 */
export function checkEnrolRequest(t: TokenRecord, state: string, csr: ParsedCsr, name: string, guarded: boolean): Buffer {
  if (state === "expired") throw new Refusal(403, `the token for "${name}" expired at ${t.expiresAt}: ask for a new one`);
  if (t.expectUser && !guarded) throw new Refusal(403, `the token expects NATS user ${JSON.stringify(t.expectUser)}, but this service runs without --nats-config and cannot check it`);
  const subjectDer = buildSubject(t.subject, []).der;
  if (csr.subjectRaw.length > 2 && !csr.subjectRaw.equals(subjectDer) && formatRfc4514(csr.subject) !== t.subject)
    throw new Refusal(403, `the request asks for subject "${formatRfc4514(csr.subject)}"; the token for "${name}" gives "${t.subject || "(empty)"}"`);
  const why = sanMismatch(csr, t.sans, `the token for "${name}"`);
  if (why) throw new Refusal(403, why);
  return subjectDer;
}

/** The renewal request against the certificate it renews (RFC 7030 §4.2.2: subject and SANs identical or empty), and --require-rekey. */
export function checkRenewalRequest(csr: ParsedCsr, cur: ParsedCertificate, requireRekey: boolean | undefined): Sans {
  // the same names in the same order; the string type may differ (Go writes PrintableString, mtlsctl UTF8String)
  if (csr.subjectRaw.length > 2 && !csr.subjectRaw.equals(cur.subjectRaw) && formatRfc4514(csr.subject) !== formatRfc4514(cur.subject))
    throw new Refusal(403, `the request's subject "${formatRfc4514(csr.subject)}" differs from the certificate's "${formatRfc4514(cur.subject) || "(empty)"}" (RFC 7030 §4.2.2: identical or empty)`);
  const sans: Sans = { email: cur.sans.email, dns: cur.sans.dns, uri: cur.sans.uri, ip: cur.sans.ip };
  const why = sanMismatch(csr, sans, "the current certificate");
  if (why) throw new Refusal(403, why + " (RFC 7030 §4.2.2: identical or empty)");
  if (requireRekey && csr.spki.equals(cur.spki)) throw new Refusal(403, "this service requires a new key on re-enrolment (--require-rekey): the request has the current certificate's key");
  return sans;
}

/** At most this many issuances share one lock and one commit. */
const MAX_BATCH = 64;

interface Waiting {
  req: IssueRequest;
  resolve: (issued: Issued) => void;
  reject: (e: unknown) => void;
}

export class Issuer {
  readonly tokens: TokenFile;
  private queue: Waiting[] = [];
  private scheduled = false;
  /** The batches' store: their writes done by drain(), the event loop free while the disk flushes. */
  private readonly writer: DeferredFileStore;
  /** Sections that take the store's lock in this process (a CRL due): run between batches. */
  private exclusives: Array<() => void> = [];
  constructor(readonly o: IssuerOptions) {
    this.tokens = new TokenFile(o.store.dir);
    this.writer = new DeferredFileStore(o.store.dir);
  }

  /**
   * The group commit: requests checked while the previous batch was being written (or in the same
   * turn of the event loop, when none was) are issued under one lock, their files flushed together
   * and recorded by one segment (issueBatch), one name at most once per batch; each answer waits for
   * that commit. The batch's writes are drained asynchronously (src/store/deferred.ts): while they
   * flush, the next requests are read and checked, and form the next batch.
   */
  private submit(req: IssueRequest): Promise<Issued> {
    return new Promise((resolve, reject) => {
      this.queue.push({ req, resolve, reject });
      this.schedule();
    });
  }

  /**
   * Runs `fn` (which may take the store's lock) between two batches: a batch holds the lock while its
   * writes drain, and a second taker in this process would wait for it with the event loop stopped.
   */
  exclusive<T>(fn: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.exclusives.push(() => {
        try {
          resolve(fn());
        } catch (e) {
          reject(e);
        }
      });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || (!this.queue.length && !this.exclusives.length)) return;
    this.scheduled = true;
    setImmediate(() => {
      const ex = this.exclusives;
      this.exclusives = [];
      for (const f of ex) f();
      this.flush().finally(() => {
        this.scheduled = false;
        this.schedule();
      });
    });
  }

  private async flush(): Promise<void> {
    if (!this.queue.length) return;
    const batch: Waiting[] = [];
    const rest: Waiting[] = [];
    const names = new Set<string>();
    for (const w of this.queue) {
      if (batch.length < MAX_BATCH && !names.has(w.req.name)) {
        names.add(w.req.name);
        batch.push(w);
      } else rest.push(w);
    }
    this.queue = rest;
    let results: Array<Issued | Error>;
    try {
      results = issueBatch(this.writer, this.o.signer, this.o.caCert, batch.map((w) => ({ req: w.req, warnings: [] })));
      await this.writer.drain(); // every answer waits for the commit
    } catch (e) {
      for (const w of batch) w.reject(e);
      return;
    }
    results.forEach((r, k) => (r instanceof Error ? batch[k].reject(r) : batch[k].resolve(r)));
  }

  private serialExists = (serial: string): boolean => !!this.o.store.recordOfSerial(serial);

  /** The lifetime in ms: `wanted` (else the default for leaves), capped by --max-lifetime; issue() caps it by the CA. */
  private lifetime(wanted: number | null): { days: number; notAfterCap: Date } {
    let ms = wanted ?? DEFAULT_LEAF_DAYS * DAY;
    if (this.o.maxLifetimeMs !== undefined) ms = Math.min(ms, this.o.maxLifetimeMs);
    return { days: Math.min(36500, Math.max(1, Math.ceil(ms / DAY))), notAfterCap: new Date(Date.now() + ms) };
  }

  /** The token of `name` whose secret is `password`, else 401. */
  private tokenFor(name: string, password: string): TokenRecord {
    const t = this.tokens
      .read()
      .filter((x) => x.name === name && tokenMatches(x, password))
      .pop();
    if (!t) throw new Refusal(401, "unknown name or token");
    return t;
  }

  /** POST simpleenroll: HTTP Basic name + token, a CSR (DER). */
  async enroll(name: string, password: string, csrDer: Buffer): Promise<Enrolled> {
    const t = this.tokenFor(name, password);
    const now = new Date();
    const state = tokenState(t, now, this.serialExists);
    const csr = parseRequest(csrDer);
    if (state === "revoked") throw new Refusal(403, `the token for "${name}" was revoked (${t.revokedAt}): ask for a new one`);
    if (state === "claimed") {
      // a lost response must not burn the token: the same key within the TTL gets the same certificate
      const rec = this.o.store.recordOfSerial(t.claim!.serial)!;
      if (t.claim!.spkiSha256 === spkiSha256(csr.spki) && new Date(t.expiresAt) > now && rec.status !== "revoked") {
        const cert = readCertificates(fs.readFileSync(this.o.store.path(rec.certFile)), rec.certFile)[0];
        return { cert, record: rec, outcome: "reissued", name };
      }
      throw new Refusal(403, `the token for "${name}" was already used (serial ${t.claim!.serial}): ask for a new one`);
    }
    const subjectDer = checkEnrolRequest(t, state, csr, name, !!this.o.guard);
    const { days, notAfterCap } = this.lifetime(t.lifetimeSeconds === null ? null : t.lifetimeSeconds * 1000);
    const keyHash = spkiSha256(csr.spki);
    const issued = await this.submit({
        profile: t.kind,
        name,
        subjectDer,
        spki: csr.spki,
        publicKey: csr.publicKey,
        sans: t.sans,
        days,
        notAfterCap,
        force: true,
        keyType: describeKey(csr.publicKey),
        ...leafFiles(name, { csrPem: csrPem(csr.der) }),
        beforeWrite: (cert) => {
          if (t.kind === "client") this.o.guard?.check(cert, t.expectUser);
          // under the lock: the token as it is now (another request or `token revoke` may have spent it)
          const all = this.tokens.read();
          const cur = all.find((x) => x.id === t.id);
          const st = cur ? tokenState(cur, new Date(), this.serialExists) : "revoked";
          if (st !== "active") throw new Refusal(403, `the token for "${name}" is ${st === "claimed" ? "already used" : st}: ask for a new one`);
          cur!.claim = { serial: cert.serialHex, spkiSha256: keyHash, at: new Date().toISOString() };
          this.tokens.write(all); // before the record's commit: a claim without its record counts as none
        },
    });
    return { cert: issued.cert, record: issued.record, outcome: "issued", name };
  }

  /** POST simplereenroll: the TLS client certificate (DER, as presented) and a CSR (DER). */
  async reenroll(clientDer: Buffer | null, csrDer: Buffer): Promise<Enrolled> {
    const now = Date.now();
    const cur = presentedCertificate(clientDer, this.o.caCert, now);
    const rec = recordOfPresented(this.o.store.recordOfSerial(cur.serialHex), cur);
    if (rec.renewedBy) {
      const csr = parseRequest(csrDer);
      return reissuedOrRefused(rec, this.o.store.recordOfSerial(rec.renewedBy), (n) => readCertificates(fs.readFileSync(this.o.store.path(n.certFile)), n.certFile)[0], csr, now);
    }
    const csr = parseRequest(csrDer);
    const sans = checkRenewalRequest(csr, cur, this.o.requireRekey);
    const { days, notAfterCap } = this.lifetime(cur.notAfter.getTime() - cur.notBefore.getTime() - 60_000);
    const profile = rec.profile === "peer" ? "peer" : rec.kind === "server" ? "server" : "client";
    const issued = await this.submit({
        profile,
        name: rec.name,
        subjectDer: cur.subjectRaw,
        spki: csr.spki,
        publicKey: csr.publicKey,
        sans,
        days,
        notAfterCap,
        renews: rec.serial,
        keyType: describeKey(csr.publicKey),
        ...leafFiles(rec.name, { csrPem: csrPem(csr.der) }),
        beforeWrite: (cert) => {
          if (profile === "client") this.o.guard?.check(cert, null);
        },
    });
    return { cert: issued.cert, record: issued.record, outcome: "renewed", name: rec.name };
  }
}
