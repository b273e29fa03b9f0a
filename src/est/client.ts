/**
 * An EST client (RFC 7030, as updated by RFC 8951) over Node's https: `cacerts`, `simpleenroll` with
 * HTTP Basic (mtlsctl's one-time tokens: username = name, password = token) and `simplereenroll`
 * authenticated by the current certificate over mutual TLS. Bodies are the base64 of DER, with or
 * without line breaks; Content-Transfer-Encoding is neither needed nor trusted (RFC 8951). The CA is
 * reached only through the given trust anchor (never the system's roots, never without a check).
 *
 * Errors are typed: EstHttpError carries the status, the server's reason (its body, one line) and
 * Retry-After in milliseconds; EstUnreachable is a connection that failed (refused, reset, timed
 * out, a TLS failure), for the caller's retry policy.
 */
import * as https from "node:https";
import { certsFromCms } from "../pki/cms";
import { MtlsctlError } from "../errors";

export interface EstEndpoint {
  /** https://HOST:PORT (a path prefix before /.well-known/est is kept; an EST label is not used). */
  url: string;
  /** The trust anchor(s) for the CA's TLS certificate, PEM. */
  ca: string | Buffer;
  /** Per-request timeout (ms; default 30 s). */
  timeoutMs?: number;
}

/** The server answered with a status other than 200. */
export class EstHttpError extends MtlsctlError {
  constructor(
    readonly status: number,
    readonly reason: string,
    readonly retryAfterMs: number | null,
  ) {
    super(`the CA answered ${status}${reason ? `: ${reason}` : ""}`, { exitCode: 3 });
  }
}

/** No answer: the connection failed (refused, reset, timed out, TLS). */
export class EstUnreachable extends MtlsctlError {
  constructor(message: string) {
    super(`the CA is unreachable: ${message}`, { exitCode: 3, code: "unavailable" });
  }
}

/** Retry-After: delta-seconds or an HTTP date (RFC 9110 §10.2.3), as milliseconds from now. */
export function retryAfterMs(v: string | undefined, now = Date.now()): number | null {
  if (!v) return null;
  if (/^\d+$/.test(v.trim())) return Number(v.trim()) * 1000;
  const t = Date.parse(v);
  return Number.isNaN(t) ? null : Math.max(0, t - now);
}

function base(url: string): URL {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new MtlsctlError(`--ca-url: "${url}" is not a URL (https://HOST:PORT)`, { exitCode: 3 });
  }
  if (u.protocol !== "https:") throw new MtlsctlError(`--ca-url: "${url}" must be https:// (EST runs over TLS)`, { exitCode: 3 });
  return u;
}

interface Call {
  op: "cacerts" | "simpleenroll" | "simplereenroll";
  body?: Buffer;
  auth?: { user: string; password: string };
  client?: { cert: string | Buffer; key: string | Buffer };
}

function call(ep: EstEndpoint, c: Call): Promise<Buffer> {
  const u = base(ep.url);
  const prefix = u.pathname.replace(/\/+$/, "");
  const body = c.body ? Buffer.from(c.body.toString("base64").replace(/(.{64})/g, "$1\n") + "\n") : undefined;
  const headers: Record<string, string | number> = { Accept: "application/pkcs7-mime" };
  // RFC 8951 has receivers ignore Content-Transfer-Encoding, but servers written to RFC 7030 alone
  // (globalsign's estserver: 415 without it) still ask for it: always sent
  if (body) Object.assign(headers, { "Content-Type": "application/pkcs10", "Content-Transfer-Encoding": "base64", "Content-Length": body.length });
  if (c.auth) headers.Authorization = "Basic " + Buffer.from(`${c.auth.user}:${c.auth.password}`).toString("base64");
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host: u.hostname.replace(/^\[|\]$/g, ""),
        port: u.port || 443,
        servername: /^[\d.]+$|:/.test(u.hostname) ? undefined : u.hostname,
        method: body ? "POST" : "GET",
        path: `${prefix}/.well-known/est/${c.op}`,
        ca: ep.ca,
        ...(c.client ? { cert: c.client.cert, key: c.client.key } : {}),
        headers,
        agent: false,
        timeout: ep.timeoutMs ?? 30_000,
      },
      (res) => {
        const parts: Buffer[] = [];
        res.on("data", (d: Buffer) => parts.push(d));
        res.on("end", () => {
          const data = Buffer.concat(parts);
          if (res.statusCode !== 200) {
            const reason = data.toString("utf8").replace(/\s+/g, " ").trim().slice(0, 300);
            reject(new EstHttpError(res.statusCode ?? 0, reason, retryAfterMs(res.headers["retry-after"] as string | undefined)));
            return;
          }
          resolve(data);
        });
        res.on("error", (e) => reject(new EstUnreachable(e.message)));
      },
    );
    req.on("timeout", () => req.destroy(new Error(`no answer within ${ep.timeoutMs ?? 30_000} ms`)));
    req.on("error", (e: NodeJS.ErrnoException) => reject(new EstUnreachable(e.code && !e.message.includes(e.code) ? `${e.code}: ${e.message}` : e.message)));
    req.end(body);
  });
}

/** The certificates of a certs-only answer (base64 of a degenerate CMS SignedData), DER, in the server's order. */
function certsOf(answer: Buffer, what: string): Buffer[] {
  const text = answer.toString("latin1").replace(/[\r\n\t ]+/g, "");
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(text)) throw new EstHttpError(200, `the ${what} answer is not base64`, null);
  return certsFromCms(Buffer.from(text, "base64"), `the ${what} answer`);
}

/** GET cacerts: the CA's certificates (DER). */
export async function cacerts(ep: EstEndpoint): Promise<Buffer[]> {
  return certsOf(await call(ep, { op: "cacerts" }), "cacerts");
}

/** POST simpleenroll with HTTP Basic: the issued certificate (DER; an answer holds only it, RFC 7030 §4.2.3). */
export async function simpleenroll(ep: EstEndpoint, csrDer: Buffer, auth: { user: string; password: string }): Promise<Buffer[]> {
  return certsOf(await call(ep, { op: "simpleenroll", body: csrDer, auth }), "simpleenroll");
}

/** POST simplereenroll with the current certificate and key as the TLS client identity. */
export async function simplereenroll(ep: EstEndpoint, csrDer: Buffer, client: { cert: string | Buffer; key: string | Buffer }): Promise<Buffer[]> {
  return certsOf(await call(ep, { op: "simplereenroll", body: csrDer, client }), "simplereenroll");
}
