/**
 * A TLS probe for nats-server, speaking the protocol as NATS clients do: connect over TCP, read the
 * server's plaintext `INFO {...}` line, then upgrade that same socket to TLS (tls.connect({ socket }))
 * with a client certificate, and report the certificate the server presented (its serial and SHA-256
 * fingerprint). `openssl s_client` cannot do this: it starts the handshake before the INFO line.
 *
 * With `connect: true` it also sends `CONNECT {...}` and `PING` and waits for the server's answer:
 * `PONG` (accepted) or `-ERR '...'` (refused, e.g. 'Authorization Violation'). A handshake the server
 * refuses (unknown client CA, no client certificate) comes back as `handshakeError`, never a throw;
 * a server that does not answer at all within `timeoutMs` rejects.
 */
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as net from "node:net";
import * as tls from "node:tls";

export interface ProbeResult {
  /** The parsed plaintext INFO the server sent first. */
  info: Record<string, unknown>;
  /** The server's leaf, as Node reads it (lower-case hex, as `certSerial()` gives for a file); null when the handshake failed. */
  serverSerial: string | null;
  /** SHA-256 of the server leaf's DER, lower-case hex, no colons; null when the handshake failed. */
  serverFingerprint: string | null;
  /** The TLS handshake's error (e.g. an alert from the server), or null when it completed. */
  handshakeError: string | null;
  /** With `connect`: true on PONG, false on -ERR (or the connection closed); null when not asked or no handshake. */
  accepted: boolean | null;
  /** With `connect`: the server's -ERR text ("Authorization Violation"), or why the connection ended. */
  error: string | null;
}

export interface ProbeOptions {
  port: number;
  host?: string;
  /** Client certificate (PEM; leaf then intermediates) and key files. Omit both to present none. */
  certFile?: string;
  keyFile?: string;
  /** The trust anchor for the server certificate. */
  caFile: string;
  /** The name checked against the server certificate (default "localhost", as nats.js does for 127.0.0.1). */
  servername?: string;
  /** Send CONNECT + PING and wait for PONG or -ERR. */
  connect?: boolean;
  /** The client name sent in CONNECT (so that /connz can find the connection). */
  name?: string;
  timeoutMs?: number;
}

/** The serial of a PEM certificate file (its first certificate) as the probe reports serials. */
export function certSerial(file: string): string {
  return normSerial(new crypto.X509Certificate(fs.readFileSync(file)).serialNumber);
}

/** SHA-256 of a PEM certificate file's first certificate's DER, lower-case hex (as /connz `cert_sha256`). */
export function certFingerprint(file: string): string {
  return crypto.createHash("sha256").update(new crypto.X509Certificate(fs.readFileSync(file)).raw).digest("hex");
}

const normSerial = (s: string) => s.toLowerCase().replace(/:/g, "").replace(/^(00)+(?=.)/, "");

export function probeNats(o: ProbeOptions): Promise<ProbeResult> {
  const timeoutMs = o.timeoutMs ?? 5000;
  return new Promise<ProbeResult>((resolve, reject) => {
    const raw = net.connect({ host: o.host ?? "127.0.0.1", port: o.port });
    let sec: tls.TLSSocket | undefined;
    let done = false;
    const finish = (err: Error | null, r?: ProbeResult) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sec?.destroy();
      raw.destroy();
      if (err) reject(err);
      else resolve(r!);
    };
    const timer = setTimeout(() => finish(new Error(`probe of 127.0.0.1:${o.port}: no answer within ${timeoutMs} ms`)), timeoutMs);
    raw.on("error", (e) => finish(new Error(`probe of 127.0.0.1:${o.port}: ${e.message}`)));

    let plain = Buffer.alloc(0);
    const onPlain = (d: Buffer) => {
      plain = Buffer.concat([plain, d]);
      const nl = plain.indexOf("\r\n");
      if (nl < 0) return;
      raw.off("data", onPlain);
      raw.pause();
      const line = plain.subarray(0, nl).toString("utf8");
      const m = /^INFO\s+(\{.*\})\s*$/.exec(line); // nats-server writes "INFO {...} \r\n"
      if (!m) return finish(new Error(`probe: expected the server's INFO line, got ${JSON.stringify(line.slice(0, 200))}`));
      let info: Record<string, unknown>;
      try {
        info = JSON.parse(m[1]);
      } catch (e) {
        return finish(new Error(`probe: INFO is not JSON: ${String(e)}`));
      }
      const result: ProbeResult = { info, serverSerial: null, serverFingerprint: null, handshakeError: null, accepted: null, error: null };
      sec = tls.connect({
        socket: raw,
        servername: o.servername ?? "localhost",
        ca: fs.readFileSync(o.caFile),
        // the same file for both (an agent's --bundle) is read once: one generation's pair
        ...((cert) => ({ cert, key: o.keyFile === o.certFile ? cert : o.keyFile ? fs.readFileSync(o.keyFile) : undefined }))(o.certFile ? fs.readFileSync(o.certFile) : undefined),
      });
      let inbound = "";
      sec.on("error", (e) => {
        if (result.serverSerial === null) {
          result.handshakeError = e.message;
          return finish(null, result);
        }
        // after the handshake: TLS 1.3 reports a refused client certificate here, as an alert
        if (o.connect && result.accepted === null) {
          result.accepted = false;
          result.error = e.message;
        }
        finish(null, result);
      });
      sec.on("secureConnect", () => {
        const peer = sec!.getPeerCertificate(false);
        result.serverSerial = normSerial(peer.serialNumber);
        result.serverFingerprint = crypto.createHash("sha256").update(peer.raw).digest("hex");
        if (!o.connect) return finish(null, result);
        const connect = { verbose: false, pedantic: false, tls_required: true, name: o.name ?? "mtlsctl-probe", lang: "node-probe", version: "1.0.0", protocol: 1, echo: true, headers: false, no_responders: false };
        sec!.write(`CONNECT ${JSON.stringify(connect)}\r\nPING\r\n`);
      });
      sec.on("data", (d: Buffer) => {
        inbound += d.toString("utf8");
        for (;;) {
          const i = inbound.indexOf("\r\n");
          if (i < 0) break;
          const l = inbound.slice(0, i);
          inbound = inbound.slice(i + 2);
          if (l === "PONG") {
            result.accepted = true;
            return finish(null, result);
          }
          if (l.startsWith("-ERR")) {
            result.accepted = false;
            result.error = l.replace(/^-ERR\s*/, "").replace(/^'(.*)'$/, "$1");
            return finish(null, result);
          }
          if (l === "PING") sec!.write("PONG\r\n");
          // INFO updates and +OK are ignored
        }
      });
      sec.on("close", () => {
        if (result.serverSerial === null && result.handshakeError === null) result.handshakeError = "connection closed during the TLS handshake";
        else if (o.connect && result.accepted === null) {
          result.accepted = false;
          result.error = result.error ?? "connection closed before PONG";
        }
        finish(null, result);
      });
      // bytes after INFO that arrived with it (there are none before the client's handshake) are not replayed
    };
    raw.on("data", onPlain);
  });
}
