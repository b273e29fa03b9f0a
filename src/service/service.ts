/**
 * `mtlsctl serve` as a library (issue 17): an HTTPS listener (TLS 1.2+) speaking EST (RFC 7030 as
 * updated by RFC 8951) under /.well-known/est/, /health, /crl, and optionally a plain-HTTP listener for
 * /crl. It never prints: one line per request goes to the `log` callback; audit lines to --audit-log.
 * createService(opts) -> { start, stop, address }.
 */
import * as fs from "node:fs";
import * as http from "node:http";
import * as https from "node:https";
import type { AddressInfo } from "node:net";
import type { TLSSocket } from "node:tls";
import { inputError, MtlsctlError } from "../errors";
import { certificatePem, ParsedCertificate } from "../pki/cert";
import { certsOnly } from "../pki/cms";
import { fromPem } from "./pem";
import type { Signer } from "../pki/signer";
import type { CertRecord, FileStore } from "../store/store";
import { writeCrl } from "../lifecycle/crl";
import * as der from "../asn1/der";
import type { MapMode } from "../nats/user";
import { Enrolled, Issuer, Refusal } from "./issuer";
import { createGuard, type Guard } from "./guard";

export const MAX_BODY = 64 * 1024;
const EST = "/.well-known/est/";

export interface HostPort {
  host: string;
  port: number;
}

/**
 * The OCSP responder (src/service/ocsp.ts, the OCSP branch: createOcspResponder({ store, signer, caCert })):
 * mounted on POST /ocsp and GET /ocsp/<percent-encoded base64>, on both listeners, when given.
 */
export interface OcspResponderLike {
  respond(reqDer: Buffer, now?: Date): Promise<{ der: Buffer; status: string; serial?: string }>;
  invalidate(): void;
}

/**
 * What the service needs from its store (issue 19): the file store's (fileBackend) or a database
 * store's (serve --db: src/service/store-backend.ts). Everything that may wait on a database is async.
 */
export interface ServiceBackend {
  /** For messages: the store's directory or database URL (without a password). */
  location: string;
  serverCert: CertRecord;
  /** The TLS identity: the server key, and its certificate followed by the chain. */
  serverKeyPem: string;
  serverCertPem: string;
  chain: ParsedCertificate[];
  anchors: ParsedCertificate[];
  makeIssuer(guard: Guard | null): { enroll(name: string, password: string, csrDer: Buffer): Enrolled | Promise<Enrolled>; reenroll(clientDer: Buffer | null, csrDer: Buffer): Enrolled | Promise<Enrolled> };
  /** null when the store can be written, else why not. */
  available(): Promise<string | null>;
  /** The latest CRL (DER), signed anew when it is due within a minute. */
  crlDer(): Promise<Buffer>;
  crlNumber(): Promise<number>;
}

export interface ServiceOptions {
  /** The file store (or give `backend`). */
  store?: FileStore;
  backend?: ServiceBackend;
  signer: Signer;
  caCert: ParsedCertificate;
  listen: HostPort;
  /** Plain HTTP, /crl (and /ocsp once the responder is there) only. */
  httpListen?: HostPort;
  /** The server certificate's name (default: the newest valid server certificate with a key in the store). */
  server?: string;
  natsConfig?: string;
  map?: MapMode;
  requireRekey?: boolean;
  maxLifetimeMs?: number;
  auditLog?: string;
  /** Enrolment requests per second per client address (burst the same); 0: no limit. Default 20. */
  rateLimit?: number;
  headersTimeoutMs?: number;
  /** One line per request (and the service's notes). */
  log?: (line: string) => void;
  /** OCSP (RFC 6960) on /ocsp; invalidated whenever the store's CRL number changes (every revoke signs a CRL). */
  ocsp?: OcspResponderLike;
}

export interface Service {
  start(): Promise<void>;
  /** Stops accepting, lets in-flight requests finish, then resolves. */
  stop(): Promise<void>;
  address(): HostPort;
  httpAddress(): HostPort | null;
  /** The server certificate's record. */
  readonly serverCert: CertRecord;
}

/** "HOST:PORT" (IPv6 in brackets) -> HostPort. */
export function parseHostPort(v: string, what: string): HostPort {
  const m = /^(?:\[([^\]]+)\]|([^:\s]*)):(\d{1,5})$/.exec(v.trim());
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw inputError(`${what}: "${v}" is not HOST:PORT (e.g. 127.0.0.1:8443; port 0 picks a free one)`);
  return { host: m[1] ?? (m[2] || "0.0.0.0"), port };
}

/** The server certificate: --server NAME, else the newest valid server certificate with a key. */
export function chooseServerCert(store: FileStore, name?: string): CertRecord {
  const now = Date.now();
  const live = (c: CertRecord) => c.status === "valid" && !c.renewedBy && new Date(c.notAfter).getTime() > now && !!c.keyFile;
  if (name !== undefined) {
    const c = store.currentOf(name);
    if (!c || (c.kind !== "server" && c.profile !== "peer")) throw inputError(`no server certificate named "${name}" in the store (mtlsctl server issue ${name} --dns HOST)`, store.inventoryFile);
    if (!live(c)) throw inputError(`server certificate "${name}" (serial ${c.serial}) is ${c.status !== "valid" ? c.status : !c.keyFile ? "without a key in the store" : "expired"}`, store.inventoryFile);
    return c;
  }
  const servers = store
    .recordsWhere((c) => c.kind === "server", '"server"') // not the whole inventory in memory: a store of 100,000 clients
    .filter(live)
    .sort((a, b) => b.notBefore.localeCompare(a.notBefore) || b.issuedAt.localeCompare(a.issuedAt));
  if (!servers.length) throw inputError("no valid server certificate with a key in the store: run `mtlsctl server issue NAME --dns HOST --ip ADDR` (or give --server NAME)", store.inventoryFile);
  return servers[0];
}

class TokenBuckets {
  private readonly b = new Map<string, { n: number; at: number }>();
  constructor(private readonly rate: number) {}
  take(key: string): boolean {
    if (this.rate <= 0) return true;
    const now = Date.now();
    const e = this.b.get(key) ?? { n: this.rate, at: now };
    e.n = Math.min(this.rate, e.n + ((now - e.at) / 1000) * this.rate);
    e.at = now;
    this.b.set(key, e);
    if (this.b.size > 10_000) for (const [k, v] of this.b) if (now - v.at > 60_000) this.b.delete(k);
    if (e.n < 1) return false;
    e.n -= 1;
    return true;
  }
}

/** base64 with line breaks every 64 characters (RFC 8951: receivers take it with or without). */
const b64lines = (d: Buffer): string => d.toString("base64").replace(/(.{64})/g, "$1\n").replace(/\n?$/, "\n");

/** An EST body: base64, whitespace anywhere; anything else is a 400. */
export function decodeBase64Body(body: Buffer): Buffer {
  const text = body.toString("latin1").replace(/[\r\n\t ]+/g, "");
  if (!text) throw new Refusal(400, "empty body: send the base64 of a DER certificate request");
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(text) || text.length % 4 === 1) throw new Refusal(400, "the body is not base64 (RFC 7030: the base64 of the DER request)");
  const out = Buffer.from(text, "base64");
  if (!out.length || out[0] !== 0x30) throw new Refusal(400, "the body's base64 does not hold a DER certificate request");
  return out;
}

const PKCS7 = "application/pkcs7-mime; smime-type=certs-only";

/** The file store's backend (what the service always did). */
export function fileBackend(store: FileStore, o: Pick<ServiceOptions, "server" | "signer" | "caCert" | "requireRekey" | "maxLifetimeMs">): ServiceBackend {
  const serverRec = chooseServerCert(store, o.server);
  const chain = store.presentedChain();
  let issuer: Issuer | null = null;
  return {
    location: store.dir,
    serverCert: serverRec,
    serverKeyPem: fs.readFileSync(store.path(serverRec.keyFile!), "utf8"),
    serverCertPem: fs.readFileSync(store.path(serverRec.certFile), "utf8") + chain.map((c) => certificatePem(c.der)).join(""),
    chain,
    anchors: store.trustAnchors(),
    makeIssuer: (guard) => (issuer = new Issuer({ store, signer: o.signer, caCert: o.caCert, guard, requireRekey: o.requireRekey, maxLifetimeMs: o.maxLifetimeMs })),
    async available() {
      try {
        fs.accessSync(store.dir, fs.constants.W_OK);
        store.readHeaderCached(); // a stat while nothing changed
        return null;
      } catch (e) {
        return (e as Error).message;
      }
    },
    async crlDer() {
      const h = store.readHeader();
      const fresh = h.crl && new Date(h.crl.nextUpdate).getTime() > Date.now() + 60_000 && fs.existsSync(store.crlFile);
      // between the issuer's batches (one holds the store's lock while its writes drain)
      if (!fresh) await (issuer ? issuer.exclusive(() => writeCrl(store, o.signer, o.caCert, {}, [])) : writeCrl(store, o.signer, o.caCert, {}, []));
      return fromPem(fs.readFileSync(store.crlFile, "utf8"), "X509 CRL");
    },
    async crlNumber() {
      return store.readHeaderCached().crl?.number ?? 0; // asked on every OCSP request: a stat while nothing changed
    },
  };
}

export function createService(o: ServiceOptions): Service {
  const log = o.log ?? (() => undefined);
  if (!o.backend && !o.store) throw new Error("createService needs a store or a backend");
  const b = o.backend ?? fileBackend(o.store!, o);
  const serverRec = b.serverCert;
  const { serverKeyPem, serverCertPem, chain, anchors } = b;
  const guard = o.natsConfig ? createGuard({ configFile: o.natsConfig, map: o.map, chain }) : null;
  const issuer = b.makeIssuer(guard);
  const buckets = new TokenBuckets(o.rateLimit ?? 20);
  const auditFd = o.auditLog ? fs.openSync(o.auditLog, "a", 0o640) : null;
  // cacerts: the CA, the CAs above it, the trust anchors; each once
  const seen = new Set<string>();
  const caCerts = [o.caCert, ...chain, ...anchors].filter((c) => !seen.has(c.fingerprint) && seen.add(c.fingerprint));
  const cacertsBody = b64lines(certsOnly(caCerts.map((c) => c.der)));
  // csrattrs: CsrAttrs ::= SEQUENCE OF AttrOrOID; the signature the CA signs with (a hint, RFC 7030 §4.5)
  const csrattrsBody = b64lines(der.seq(der.oid(o.caCert.signatureAlgorithm.length ? sigOid(o.caCert) : "1.2.840.10045.4.3.2")));
  let stopping = false;
  let lastCrlNumber = -1;

  const audit = (e: Record<string, unknown>) => {
    if (auditFd === null) return;
    try {
      fs.writeSync(auditFd, JSON.stringify({ time: new Date().toISOString(), ...e }) + "\n");
    } catch (err) {
      log(`audit log write failed: ${(err as Error).message}`);
    }
  };

  const storeAvailable = () => b.available();

  function send(res: http.ServerResponse, status: number, type: string, body: string | Buffer, extra: Record<string, string> = {}) {
    if (stopping) res.setHeader("Connection", "close");
    res.writeHead(status, { "Content-Type": type, "Content-Length": Buffer.byteLength(body), ...extra });
    res.end(body);
  }
  const text = (res: http.ServerResponse, status: number, msg: string, extra: Record<string, string> = {}) => send(res, status, "text/plain; charset=utf-8", msg + "\n", extra);

  function readBody(req: http.IncomingMessage): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let n = 0;
      let over = false;
      req.on("data", (c: Buffer) => {
        if (over) return;
        n += c.length;
        if (n > MAX_BODY) {
          over = true;
          reject(new Refusal(413, `the body is over ${MAX_BODY} bytes`));
          return;
        }
        chunks.push(c);
      });
      req.on("end", () => !over && resolve(Buffer.concat(chunks)));
      req.on("error", reject);
    });
  }

  const crlDer = () => b.crlDer();

  async function handle(req: http.IncomingMessage, res: http.ServerResponse, tls: boolean): Promise<string> {
    const url = (req.url ?? "/").split("?")[0];
    const method = req.method ?? "GET";
    const client = req.socket.remoteAddress ?? "?";
    if (o.ocsp && (url === "/ocsp" || url.startsWith("/ocsp/"))) {
      let reqDer: Buffer;
      if (method === "POST" && url === "/ocsp") {
        const len = req.headers["content-length"];
        if (len !== undefined && Number(len) > MAX_BODY) return text(res, 413, `the body is over ${MAX_BODY} bytes`, { Connection: "close" }), "";
        try {
          reqDer = await readBody(req);
        } catch (e) {
          if (e instanceof Refusal) return text(res, e.status, e.message, { Connection: "close" }), e.message;
          throw e;
        }
      } else if (method === "GET" && url.startsWith("/ocsp/")) {
        let b64: string;
        try {
          b64 = decodeURIComponent((req.url ?? "").split("?")[0].slice("/ocsp/".length));
        } catch {
          return text(res, 400, "the path is not percent-encoded base64"), "";
        }
        reqDer = Buffer.from(b64, "base64");
      } else return text(res, 405, "POST /ocsp or GET /ocsp/<base64>", { Allow: "GET, POST" }), "";
      // a revocation anywhere (this service, or the CLI in another process) signs a new CRL: drop what the responder holds
      const crlNumber = await b.crlNumber();
      if (crlNumber !== lastCrlNumber) {
        o.ocsp.invalidate();
        lastCrlNumber = crlNumber;
      }
      const a = await o.ocsp.respond(reqDer);
      send(res, 200, "application/ocsp-response", a.der);
      audit({ client: req.socket.remoteAddress ?? "?", endpoint: "ocsp", name: null, serial: a.serial ?? null, outcome: a.status, status: 200, reason: null });
      return `ocsp ${a.status}${a.serial ? " serial " + a.serial : ""}`;
    }
    if (url === "/crl") {
      if (method !== "GET") return text(res, 405, "GET only", { Allow: "GET" }), "";
      let crl: Buffer;
      try {
        crl = await crlDer();
      } catch (e) {
        if (e instanceof MtlsctlError && e.code === "unavailable") return text(res, 503, `the store is unavailable: ${e.message}`), e.message;
        throw e;
      }
      send(res, 200, "application/pkix-crl", crl);
      return "";
    }
    if (!tls) return text(res, 404, "this listener serves only /crl and /ocsp"), "";
    if (url === "/health") {
      const why = await storeAvailable();
      send(res, why ? 503 : 200, "application/json", JSON.stringify(why ? { status: "unavailable", reason: why } : { status: "ok" }) + "\n");
      return why ?? "";
    }
    if (!url.startsWith(EST)) return text(res, 404, "not found"), "";
    const op = url.slice(EST.length);
    if (op === "cacerts" || op === "csrattrs") {
      if (method !== "GET") return text(res, 405, "GET only", { Allow: "GET" }), "";
      if (op === "cacerts") send(res, 200, PKCS7, cacertsBody, { "Content-Transfer-Encoding": "base64" });
      else send(res, 200, "application/csrattrs", csrattrsBody, { "Content-Transfer-Encoding": "base64" });
      return "";
    }
    if (op !== "simpleenroll" && op !== "simplereenroll") return text(res, 404, "not found (cacerts, simpleenroll, simplereenroll, csrattrs)"), "";
    const endpoint = op;
    let name: string | undefined;
    try {
      if (method !== "POST") throw new Refusal(405, "POST only");
      if (!buckets.take(client)) throw new Refusal(429, "too many requests from this address: slow down");
      const len = req.headers["content-length"];
      if (len !== undefined && Number(len) > MAX_BODY) throw new Refusal(413, `the body is over ${MAX_BODY} bytes (Content-Length ${len})`);
      const ct = (req.headers["content-type"] ?? "").split(";")[0].trim().toLowerCase();
      if (ct !== "application/pkcs10") throw new Refusal(415, `Content-Type must be application/pkcs10, not ${ct ? JSON.stringify(ct) : "none"}`);
      let user: string | null = null;
      let password = "";
      if (endpoint === "simpleenroll") {
        const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(req.headers.authorization ?? "");
        const cred = m ? Buffer.from(m[1], "base64").toString("utf8") : "";
        const i = cred.indexOf(":");
        if (i <= 0) throw new Refusal(401, "simpleenroll needs HTTP Basic credentials: the token's name and the token");
        user = cred.slice(0, i);
        password = cred.slice(i + 1);
        name = user;
      }
      const body = await readBody(req);
      const csrDer = decodeBase64Body(body);
      const why = await storeAvailable();
      if (why) throw new Refusal(503, `the store is unavailable: ${why}`);
      let r: Enrolled;
      if (endpoint === "simpleenroll") r = await issuer.enroll(user!, password, csrDer);
      else {
        const peer = (req.socket as TLSSocket).getPeerCertificate?.(false);
        r = await issuer.reenroll(peer && peer.raw ? peer.raw : null, csrDer);
      }
      name = r.name;
      // a re-enrolment replaced the certificate this connection was opened with: the client's next
      // requests come with the new one, on a new connection; this one is closed, not kept idle
      const close: Record<string, string> = endpoint === "simplereenroll" ? { Connection: "close" } : {};
      send(res, 200, PKCS7, b64lines(certsOnly([r.cert.der])), { "Content-Transfer-Encoding": "base64", ...close });
      audit({ client, endpoint, name, serial: r.cert.serialHex, outcome: r.outcome, status: 200, reason: null, ...(r.record.renews ? { renews: r.record.renews } : {}) });
      return `${r.outcome} ${name} serial ${r.cert.serialHex}`;
    } catch (e) {
      let status = 500;
      let reason = "internal error";
      if (e instanceof Refusal) ({ status, message: reason } = e);
      else if (e instanceof MtlsctlError) {
        status = e.code === "locked" || e.code === "no-store" || e.code === "unavailable" ? 503 : 403;
        reason = e.message;
      } else {
        const code = (e as NodeJS.ErrnoException).code;
        if (code && /^E(NOENT|ACCES|PERM|ROFS|IO|NOSPC|DQUOT)$/.test(code)) ((status = 503), (reason = `the store is unavailable (${code})`));
        else log(`internal error: ${(e as Error)?.stack ?? e}`);
      }
      const extra: Record<string, string> = status === 401 ? { "WWW-Authenticate": 'Basic realm="mtlsctl"' } : status === 429 ? { "Retry-After": "1" } : {};
      if (status === 413) extra.Connection = "close";
      if (!res.headersSent) text(res, status, reason, extra);
      if (status === 413) res.on("finish", () => req.socket.destroy());
      audit({ client, endpoint, name: name ?? null, serial: null, outcome: "refused", status, reason });
      return reason;
    }
  }

  const onRequest = (tls: boolean) => (req: http.IncomingMessage, res: http.ServerResponse) => {
    const t0 = process.hrtime.bigint();
    const client = req.socket.remoteAddress ?? "?";
    handle(req, res, tls)
      .catch((e) => {
        log(`internal error: ${(e as Error)?.stack ?? e}`);
        if (!res.headersSent) text(res, 500, "internal error");
        return "internal error";
      })
      .then((detail) => {
        const ms = Number(process.hrtime.bigint() - t0) / 1e6;
        res.on("finish", () => undefined);
        log(`${new Date().toISOString()} ${client} ${req.method} ${req.url} ${res.statusCode} ${ms.toFixed(1)}ms${detail ? " " + detail.replace(/[\r\n]+/g, " ") : ""}`);
      });
  };

  const timeouts = { headersTimeout: o.headersTimeoutMs ?? 10_000, requestTimeout: Math.max(30_000, (o.headersTimeoutMs ?? 10_000) + 1000), connectionsCheckingInterval: Math.min(1000, o.headersTimeoutMs ?? 1000), keepAliveTimeout: 5_000 };
  const server = https.createServer(
    { key: serverKeyPem, cert: serverCertPem, ca: anchors.map((c) => certificatePem(c.der)), requestCert: true, rejectUnauthorized: false, minVersion: "TLSv1.2", ...timeouts },
    onRequest(true),
  );
  server.on("tlsClientError", () => undefined);
  const plain = o.httpListen ? http.createServer({ ...timeouts }, onRequest(false)) : null;

  const listen = (s: http.Server, hp: HostPort) =>
    new Promise<void>((resolve, reject) => {
      s.once("error", (e: NodeJS.ErrnoException) => reject(inputError(`cannot listen on ${hp.host}:${hp.port}: ${e.code === "EADDRINUSE" ? "the address is in use" : e.code === "EACCES" ? "permission denied" : e.message}`)));
      s.listen(hp.port, hp.host, () => resolve());
    });
  const addr = (s: http.Server): HostPort => {
    const a = s.address() as AddressInfo;
    return { host: a.address, port: a.port };
  };
  const close = (s: http.Server) =>
    new Promise<void>((resolve) => {
      const force = setTimeout(() => s.closeAllConnections(), 15_000);
      force.unref();
      s.close(() => (clearTimeout(force), resolve()));
      s.closeIdleConnections();
    });

  return {
    serverCert: serverRec,
    async start() {
      await listen(server, o.listen);
      if (plain) await listen(plain, o.httpListen!);
    },
    async stop() {
      stopping = true;
      await Promise.all([close(server), plain ? close(plain) : Promise.resolve()]);
      if (auditFd !== null) fs.closeSync(auditFd);
    },
    address: () => addr(server),
    httpAddress: () => (plain ? addr(plain) : null),
  };
}

/** The OID of a certificate's signature algorithm (the first element of its AlgorithmIdentifier). */
function sigOid(c: ParsedCertificate): string {
  try {
    return der.readOid(der.children(der.parseOne(c.signatureAlgorithm))[0]);
  } catch {
    return "1.2.840.10045.4.3.2";
  }
}
