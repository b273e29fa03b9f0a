/**
 * `mtlsctl agent` as a library (issue 18): enrol once with a one-time token, then renew the
 * certificate over EST before it expires, swap the files crash-safely (./swap.ts), and tell the
 * program that uses them (--exec or --signal). Everything the CLI does goes through here, so the
 * fleet bench runs this same code path in-process.
 *
 * - When: a certificate is due when the time left falls under renew-before (default a third of its
 *   lifetime), less a jitter offset (up to `jitter` of the lifetime) drawn from the certificate's
 *   serial: a fleet issued at once spreads out, and repeated `--once` runs (cron) agree on the time.
 * - How: a new key (generated here; it never leaves the machine), a CSR carrying the current
 *   certificate's subject and subjectAltName extension bytes unchanged (RFC 7030 §4.2.2: other EST
 *   servers compare them byte for byte), simplereenroll authenticated by the current pair.
 * - Failures: unreachable, 5xx or 429 → capped exponential backoff (Retry-After honoured), the files
 *   kept; 401/403 → refused: a new token is needed (exit 1); a certificate that expires meanwhile is
 *   reported on every attempt.
 */
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import { spawn } from "node:child_process";
import { MtlsctlError } from "../errors";
import * as der from "../asn1/der";
import { OID } from "../asn1/oids";
import { certificatePem, encodeExtensions, parseCertificate, readCertificates, type ParsedCertificate } from "../pki/cert";
import { generateKey, loadPrivateKey, privateKeyPem, spkiOf, type KeyType } from "../pki/keys";
import { keySigner } from "../pki/signer";
import { formatRfc4514 } from "../pki/name";
import { buildCsr } from "../pki/csr";
import { checkSans, emptySans, hasSans, type Sans } from "../pki/san";
import { buildSubject } from "../ca";
import { cacerts, EstHttpError, EstUnreachable, simpleenroll, simplereenroll, type EstEndpoint } from "../est/client";
import { readPair, repair, stateDir, swap, type Owner } from "./swap";
import * as path from "node:path";
import { writeFileAtomic } from "../store/atomic";
import { withoutSecrets } from "../secret-env";

export interface AgentOptions {
  caUrl: string;
  /** The trust anchor for reaching the CA (PEM); never written. */
  caFile: string;
  certFile: string;
  keyFile: string;
  /** Also one PEM file with the chain and the key (for a reader that must read the pair in one open). */
  bundleFile?: string;
  /** First enrolment: the EST username (the token's name) and the file holding the token. */
  name?: string;
  tokenFile?: string;
  keyType?: KeyType;
  /**
   * First enrolment: the identity the request asks for (another EST server copies it into the
   * certificate; mtlsctl serve takes the token's and accepts these only when empty or equal to it).
   */
  subject?: string;
  sans?: Sans;
  /** Renew when less than this is left: a fraction of the lifetime, or milliseconds. */
  renewBefore?: { fraction: number } | { ms: number };
  /** Up to this fraction of the lifetime earlier (default 0.1). */
  jitter?: number;
  exec?: string[];
  execTimeoutMs?: number;
  signal?: NodeJS.Signals;
  pidFile?: string;
  caOut?: string;
  owner?: Owner;
  /** --once: give up after this long unreachable (default 30 s). */
  retryForMs?: number;
  /** Backoff: first wait and cap (ms; defaults 1 s and 5 min). */
  backoffMs?: number;
  backoffCapMs?: number;
  requestTimeoutMs?: number;
}

export type AgentEvent =
  | { event: "enrolled"; name: string; serial: string; subject: string; notAfter: string; files: { cert: string; key: string; bundle?: string } }
  | { event: "renewed"; serial: string; previous: string; subject: string; notAfter: string; files: { cert: string; key: string; bundle?: string } }
  | { event: "next-check"; at: string; serial: string; notAfter: string }
  | { event: "not-due"; serial: string; renewAt: string; notAfter: string }
  | { event: "retry"; attempt: number; inMs: number; reason: string }
  | { event: "expired"; serial: string; notAfter: string }
  | { event: "hook"; hook: "exec" | "signal"; detail: string; ok: boolean; exitCode?: number | null }
  | { event: "ca-updated"; file: string; certificates: number }
  | { event: "refused"; status: number; reason: string }
  | { event: "error"; message: string };

export interface AgentDeps {
  emit(e: AgentEvent): void;
  log(line: string): void;
  /** Aborted by SIGTERM/SIGINT: the agent stops between steps. */
  signal?: AbortSignal;
  now?: () => number;
}

export type Outcome = "not-due" | "enrolled" | "renewed";

/** The CA refused (401/403): renewing will not work again; a new token is needed. */
export class AgentRefused extends MtlsctlError {
  constructor(
    readonly status: number,
    readonly reason: string,
  ) {
    super(`the CA refused (${status}${reason ? `: ${reason}` : ""}): a new token is needed (mtlsctl token create NAME, then agent --name NAME --token-file FILE)`, { exitCode: 1 });
  }
}

class Stopped extends Error {}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new Stopped());
    const t = setTimeout(() => (signal?.removeEventListener("abort", onAbort), resolve()), Math.max(0, ms));
    const onAbort = () => (clearTimeout(t), reject(new Stopped()));
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** When `cert` is due for renewal (ms since the epoch). */
export function renewAt(cert: ParsedCertificate, o: Pick<AgentOptions, "renewBefore" | "jitter">): number {
  const nb = cert.notBefore.getTime();
  const na = cert.notAfter.getTime();
  const life = Math.max(0, na - nb);
  const before = o.renewBefore && "ms" in o.renewBefore ? o.renewBefore.ms : life * (o.renewBefore?.fraction ?? 1 / 3);
  // the jitter offset from the serial: stable for one certificate, spread across a fleet
  const u = crypto.createHash("sha256").update(cert.serialHex).digest().readUInt32BE(0) / 2 ** 32;
  return na - before - u * (o.jitter ?? 0.1) * life;
}

/** The request: `subject` and `sanExt` (the subjectAltName extension's value) as given, bytes unchanged. */
export function reenrolCsr(key: crypto.KeyObject, subject: Buffer, sanExt: { critical: boolean; value: Buffer } | null): Buffer {
  const attrs = sanExt ? [der.seq(der.oid(OID.extensionRequest), der.setOf(encodeExtensions([{ oid: OID.subjectAltName, critical: sanExt.critical, value: sanExt.value }])))] : [];
  const info = der.seq(der.smallInt(0), subject, spkiOf(key), der.implicit(0, Buffer.concat(attrs), true));
  const s = keySigner(key);
  return der.seq(info, s.algorithm, der.bitString(s.sign(info)));
}

/** The chain above `leaf` from the CA's certificates: the intermediates a TLS server must send (not the root). */
function intermediatesFor(leaf: ParsedCertificate, cas: ParsedCertificate[]): ParsedCertificate[] {
  const out: ParsedCertificate[] = [];
  let cur = leaf;
  for (let i = 0; i < 8; i++) {
    const up = cas.find((c) => c.subjectRaw.equals(cur.issuerRaw) && !out.includes(c));
    if (!up || up.subjectRaw.equals(up.issuerRaw)) break; // a root: the other side has it
    out.push(up);
    cur = up;
  }
  return out;
}

/** Splits a command line into words (quotes '...' and "...", backslash escapes); no shell. */
export function splitCommand(line: string): string[] {
  const out: string[] = [];
  let cur = "";
  let any = false;
  let q: string | null = null;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (q) {
      if (c === q) q = null;
      else if (c === "\\" && q === '"' && i + 1 < line.length) cur += line[++i];
      else cur += c;
    } else if (c === "'" || c === '"') (q = c), (any = true);
    else if (c === "\\" && i + 1 < line.length) (cur += line[++i]), (any = true);
    else if (/\s/.test(c)) {
      if (any || cur) out.push(cur);
      cur = "";
      any = false;
    } else cur += c;
  }
  if (q) throw new MtlsctlError(`--exec: unterminated ${q} quote`, { exitCode: 2, code: "usage" });
  if (any || cur) out.push(cur);
  return out;
}

export class Agent {
  private readonly ep: EstEndpoint;
  private readonly now: () => number;
  constructor(
    readonly o: AgentOptions,
    private readonly d: AgentDeps,
  ) {
    let ca: Buffer;
    try {
      ca = fs.readFileSync(o.caFile);
    } catch (e) {
      throw new MtlsctlError(`--ca-file: cannot read it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, { exitCode: 3, file: o.caFile });
    }
    if (!/-----BEGIN CERTIFICATE-----/.test(ca.toString("latin1"))) throw new MtlsctlError("--ca-file: not a PEM certificate", { exitCode: 3, file: o.caFile });
    this.ep = { url: o.caUrl, ca, timeoutMs: o.requestTimeoutMs };
    this.now = d.now ?? Date.now;
    if (o.bundleFile) {
      // the bundle path is the agent's link, or nothing yet: never someone's file replaced
      const target = path.join(stateDir(this.layout()), "current", "bundle.pem");
      let st: fs.Stats | null = null;
      try {
        st = fs.lstatSync(o.bundleFile);
      } catch {
        /* not there yet */
      }
      if (st && !(st.isSymbolicLink() && fs.readlinkSync(o.bundleFile) === target))
        throw new MtlsctlError(`--bundle: ${o.bundleFile} exists and is not the agent's link (to ${target}): move it away or name another file`, { exitCode: 3, file: o.bundleFile });
    }
  }

  private layout() {
    return { certFile: this.o.certFile, keyFile: this.o.keyFile, bundleFile: this.o.bundleFile, owner: this.o.owner };
  }

  private files(): { cert: string; key: string; bundle?: string } {
    return { cert: this.o.certFile, key: this.o.keyFile, ...(this.o.bundleFile ? { bundle: this.o.bundleFile } : {}) };
  }

  /** The serial the CA refused to renew (revoked, expired), remembered so that a new token enrols anew. */
  private get refusedFile(): string {
    return path.join(stateDir(this.layout()), "refused");
  }
  private refusedSerial(): string | null {
    try {
      return fs.readFileSync(this.refusedFile, "utf8").trim() || null;
    } catch {
      return null;
    }
  }

  /**
   * The new key for a request, kept (0600) until its answer is installed: a crash or a lost answer
   * after the CA issued must not strand the agent. A retry for the same thing (`purpose`: renewing
   * that serial, or enrolling with that token) sends the same key, and the CA answers with the
   * certificate it made for it (mtlsctl serve does; another EST server issues anew).
   */
  private requestKey(purpose: string): crypto.KeyObject {
    const state = stateDir(this.layout());
    const keyFile = path.join(state, "pending.key");
    const forFile = path.join(state, "pending.for");
    try {
      if (fs.readFileSync(forFile, "utf8").trim() === purpose) return loadPrivateKey(fs.readFileSync(keyFile, "utf8"), keyFile);
    } catch {
      /* none, or for something else */
    }
    fs.mkdirSync(state, { recursive: true, mode: 0o755 });
    fs.rmSync(forFile, { force: true });
    const key = generateKey(this.o.keyType ?? "ec-p256");
    writeFileAtomic(keyFile, privateKeyPem(key), { mode: 0o600 });
    writeFileAtomic(forFile, purpose + "\n", { mode: 0o600 });
    return key;
  }

  private clearRequestKey(): void {
    const state = stateDir(this.layout());
    fs.rmSync(path.join(state, "pending.for"), { force: true });
    fs.rmSync(path.join(state, "pending.key"), { force: true });
  }

  /** The current pair, checked: the certificate (leaf first) and its key, which must match. Null when none yet. */
  current(): { cert: ParsedCertificate; certPem: string; keyPem: string } | null {
    repair(this.layout()); // a crash between the steps of a swap: finish it
    const pair = readPair(this.layout());
    if (!pair) {
      if (fs.existsSync(this.o.certFile) !== fs.existsSync(this.o.keyFile))
        throw new MtlsctlError(`only one of --cert and --key exists (${fs.existsSync(this.o.certFile) ? this.o.keyFile : this.o.certFile} is missing): restore it, or remove both and enrol again with a token`, { exitCode: 3 });
      return null;
    }
    const cert = readCertificates(Buffer.from(pair.certPem), this.o.certFile)[0];
    const key = loadPrivateKey(pair.keyPem, this.o.keyFile);
    if (!spkiOf(key).equals(cert.spki)) throw new MtlsctlError(`the key does not match the certificate (${this.o.certFile}): restore the pair, or remove both and enrol again with a token`, { exitCode: 3, file: this.o.keyFile });
    return { cert, ...pair };
  }

  /**
   * Whether the CA refused to renew this certificate before: then only a new token helps. With
   * --name/--token-file the agent enrols anew; without, it says so (exit 1) without asking the CA.
   */
  private wasRefused(cert: ParsedCertificate): boolean {
    if (this.refusedSerial() !== cert.serialHex) return false;
    if (this.o.name && this.o.tokenFile) return true;
    throw new AgentRefused(403, `serial ${cert.serialHex} was refused renewal before`);
  }

  /** One step with retries: transient failures back off (Retry-After honoured) until `deadline`. */
  private async withRetries<T>(what: string, fn: () => Promise<T>, deadline: number, expiry: { serial: string; at: number } | null): Promise<T> {
    let wait = this.o.backoffMs ?? 1000;
    const cap = this.o.backoffCapMs ?? 300_000;
    for (let attempt = 1; ; attempt++) {
      try {
        return await fn();
      } catch (e) {
        if (e instanceof EstHttpError && (e.status === 401 || e.status === 403)) {
          this.d.emit({ event: "refused", status: e.status, reason: e.reason });
          throw new AgentRefused(e.status, e.reason);
        }
        const transient = e instanceof EstUnreachable || (e instanceof EstHttpError && (e.status >= 500 || e.status === 429 || e.status === 408));
        if (!transient) throw e;
        const hinted = e instanceof EstHttpError && e.retryAfterMs !== null ? e.retryAfterMs : null;
        const inMs = Math.min(cap, hinted ?? wait * (0.75 + Math.random() / 2));
        const now = this.now();
        if (expiry !== null && now >= expiry.at) {
          this.d.emit({ event: "expired", serial: expiry.serial, notAfter: new Date(expiry.at).toISOString() });
          this.d.log(`mtlsctl agent: THE CERTIFICATE (serial ${expiry.serial}) EXPIRED at ${new Date(expiry.at).toISOString()} while the CA is unreachable: the program using it is refused from now on`);
        }
        if (now + inMs > deadline) throw e;
        this.d.emit({ event: "retry", attempt, inMs: Math.round(inMs), reason: (e as Error).message });
        this.d.log(`mtlsctl agent: ${what}: ${(e as Error).message}; retry ${attempt} in ${(inMs / 1000).toFixed(1)} s`);
        await sleep(inMs, this.d.signal);
        wait = Math.min(cap, wait * 2);
      }
    }
  }

  /** The CA's certificates, for the chain and --ca-out (written when they changed). */
  private async caCertificates(deadline: number): Promise<ParsedCertificate[]> {
    const ders = await this.withRetries("cacerts", () => cacerts(this.ep), deadline, null);
    const certs = ders.map((d) => parseCertificate(d, "the CA's certificates"));
    if (this.o.caOut) {
      const pem = certs.map((c) => certificatePem(c.der)).join("");
      let old: string | null = null;
      try {
        old = fs.readFileSync(this.o.caOut, "utf8");
      } catch {
        /* none yet */
      }
      if (old !== pem) {
        writeFileAtomic(this.o.caOut, pem, { mode: 0o644 });
        if (this.o.owner) fs.chownSync(this.o.caOut, this.o.owner.uid, this.o.owner.gid);
        this.d.emit({ event: "ca-updated", file: this.o.caOut, certificates: certs.length });
        this.d.log(`mtlsctl agent: ${this.o.caOut}: the CA bundle (${certs.length} certificate${certs.length === 1 ? "" : "s"}) written`);
      }
    }
    return certs;
  }

  private install(leafDer: Buffer, key: crypto.KeyObject, cas: ParsedCertificate[]): ParsedCertificate {
    const leaf = parseCertificate(leafDer, "the issued certificate");
    if (!leaf.spki.equals(spkiOf(key))) throw new MtlsctlError("the CA answered with a certificate for another key", { exitCode: 3 });
    const certPem = [leaf, ...intermediatesFor(leaf, cas)].map((c) => certificatePem(c.der)).join("");
    swap(this.layout(), { certPem, keyPem: privateKeyPem(key) });
    fs.rmSync(this.refusedFile, { force: true });
    this.clearRequestKey();
    return leaf;
  }

  /** The hook after a complete swap: --exec (no shell; timeout; exit status logged) or --signal to --pid-file. */
  private async hook(): Promise<void> {
    if (this.o.exec?.length) {
      const [cmd, ...args] = this.o.exec;
      const timeoutMs = this.o.execTimeoutMs ?? 60_000;
      const code = await new Promise<number | null>((resolve) => {
        // the user's own command, looked up by PATH on purpose (like a shell would); its environment is
        // this process's without the secret variables (src/secret-env.ts): PATH, HOME and the rest kept
        const child = spawn(cmd, args, { stdio: ["ignore", 2, 2], timeout: timeoutMs, killSignal: "SIGKILL", env: withoutSecrets(process.env) });
        child.on("error", (e) => (this.d.log(`mtlsctl agent: --exec ${cmd}: ${e.message}`), resolve(null)));
        child.on("exit", (c) => resolve(c));
      });
      this.d.emit({ event: "hook", hook: "exec", detail: this.o.exec.join(" "), ok: code === 0, exitCode: code });
      this.d.log(`mtlsctl agent: --exec ${this.o.exec.join(" ")}: ${code === null ? `failed or timed out (${timeoutMs} ms)` : `exit ${code}`}`);
    } else if (this.o.signal && this.o.pidFile) {
      let detail: string;
      let ok = false;
      try {
        const pid = Number(fs.readFileSync(this.o.pidFile, "utf8").trim().split(/\s+/)[0]);
        if (!Number.isInteger(pid) || pid <= 1) throw new Error(`no process id in ${this.o.pidFile}`);
        process.kill(pid, this.o.signal);
        detail = `${this.o.signal} to ${pid}`;
        ok = true;
      } catch (e) {
        detail = `${this.o.signal} via ${this.o.pidFile}: ${(e as Error).message}`;
      }
      this.d.emit({ event: "hook", hook: "signal", detail, ok });
      this.d.log(`mtlsctl agent: ${ok ? "sent " : ""}${detail}`);
    }
  }

  /** First enrolment with the token: a key made here, an empty request (the token fixes the identity). */
  private async enrol(deadline: number): Promise<ParsedCertificate> {
    if (!this.o.name || !this.o.tokenFile) throw new MtlsctlError(`no certificate at ${this.o.certFile} yet: enrol first with --name NAME --token-file FILE (mtlsctl token create NAME)`, { exitCode: 3 });
    let token: string;
    try {
      token = fs.readFileSync(this.o.tokenFile, "utf8").split(/\r?\n/)[0].trim();
    } catch (e) {
      throw new MtlsctlError(`--token-file: cannot read it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, { exitCode: 3, file: this.o.tokenFile });
    }
    if (!token) throw new MtlsctlError("--token-file: empty", { exitCode: 3, file: this.o.tokenFile });
    const cas = await this.caCertificates(deadline);
    const key = this.requestKey(`enrol ${this.o.name} ${crypto.createHash("sha256").update(token).digest("hex").slice(0, 16)}`);
    const csr = this.o.subject !== undefined || (this.o.sans && hasSans(this.o.sans)) ? buildCsr(key, this.o.subject !== undefined ? buildSubject(this.o.subject, []).der : der.seq(), checkSans(this.o.sans ?? emptySans())) : reenrolCsr(key, der.seq(), null);
    const [leafDer] = await this.withRetries("simpleenroll", () => simpleenroll(this.ep, csr, { user: this.o.name!, password: token }), deadline, null);
    const leaf = this.install(leafDer, key, cas);
    this.d.emit({ event: "enrolled", name: this.o.name, serial: leaf.serialHex, subject: formatRfc4514(leaf.subject), notAfter: leaf.notAfter.toISOString(), files: this.files() });
    this.d.log(`mtlsctl agent: enrolled "${this.o.name}": serial ${leaf.serialHex}, valid until ${leaf.notAfter.toISOString()}`);
    await this.hook();
    return leaf;
  }

  private async renew(cur: { cert: ParsedCertificate; certPem: string; keyPem: string }, deadline: number): Promise<ParsedCertificate> {
    const cas = await this.caCertificates(deadline);
    const key = this.requestKey(`renew ${cur.cert.serialHex}`);
    const san = cur.cert.extensions.find((e) => e.oid === OID.subjectAltName) ?? null;
    const csr = reenrolCsr(key, cur.cert.subjectRaw, san);
    let leafDer: Buffer;
    try {
      [leafDer] = await this.withRetries("simplereenroll", () => simplereenroll(this.ep, csr, { cert: cur.certPem, key: cur.keyPem }), deadline, { serial: cur.cert.serialHex, at: cur.cert.notAfter.getTime() });
    } catch (e) {
      if (e instanceof AgentRefused) writeFileAtomic(this.refusedFile, cur.cert.serialHex + "\n", { mode: 0o644 });
      throw e;
    }
    const leaf = this.install(leafDer, key, cas);
    this.d.emit({ event: "renewed", serial: leaf.serialHex, previous: cur.cert.serialHex, subject: formatRfc4514(leaf.subject), notAfter: leaf.notAfter.toISOString(), files: this.files() });
    this.d.log(`mtlsctl agent: renewed serial ${cur.cert.serialHex} -> ${leaf.serialHex}, valid until ${leaf.notAfter.toISOString()}`);
    await this.hook();
    return leaf;
  }

  /** One check (`--once`): enrol when there is nothing yet, renew when due, else nothing. */
  async checkOnce(retryForMs = this.o.retryForMs ?? 30_000): Promise<Outcome> {
    const deadline = this.now() + retryForMs;
    const cur = this.current();
    if (!cur || this.wasRefused(cur.cert)) return (await this.enrol(deadline), "enrolled");
    const at = renewAt(cur.cert, this.o);
    if (this.now() < at) {
      this.d.emit({ event: "not-due", serial: cur.cert.serialHex, renewAt: new Date(at).toISOString(), notAfter: cur.cert.notAfter.toISOString() });
      this.d.log(`mtlsctl agent: serial ${cur.cert.serialHex} is not due: renewal at ${new Date(at).toISOString()} (valid until ${cur.cert.notAfter.toISOString()})`);
      return "not-due";
    }
    await this.renew(cur, deadline);
    return "renewed";
  }

  /** The daemon: enrol if needed, then sleep until due and renew, for ever (until the signal or a refusal). */
  async run(): Promise<void> {
    try {
      for (;;) {
        let cur = this.current();
        if (!cur || this.wasRefused(cur.cert)) {
          await this.enrol(Number.POSITIVE_INFINITY);
          cur = this.current()!;
        }
        const at = renewAt(cur.cert, this.o);
        this.d.emit({ event: "next-check", at: new Date(at).toISOString(), serial: cur.cert.serialHex, notAfter: cur.cert.notAfter.toISOString() });
        this.d.log(`mtlsctl agent: serial ${cur.cert.serialHex} valid until ${cur.cert.notAfter.toISOString()}; renewal at ${new Date(at).toISOString()}`);
        // sleep in steps: a suspended machine or a changed clock is noticed within a minute
        while (this.now() < at) await sleep(Math.min(60_000, at - this.now()), this.d.signal);
        await this.renew(cur, Number.POSITIVE_INFINITY);
      }
    } catch (e) {
      if (e instanceof Stopped) return;
      throw e;
    }
  }
}
