/** `serve`: the online CA in the foreground (src/service/service.ts); stops cleanly on SIGTERM/SIGINT. */
import * as path from "node:path";
import { Ctx } from "./context";
import { passphraseFrom } from "./common";
import { writeErr } from "./out";
import { unlockCa } from "../api/store";
import { Store } from "../store/store";
import { usageError } from "../errors";
import { createService, parseHostPort, chooseServerCert } from "../service/service";
import { createOcspResponder } from "../service/ocsp";
import { openFileStore } from "../store/file-api";
import { parseDuration } from "../service/duration";

export async function run(_args: string[], o: Record<string, any>): Promise<void> {
  const ctx = new Ctx(o);
  const listen = parseHostPort(o.listen ?? "127.0.0.1:8443", "--listen");
  const httpListen = o.httpListen !== undefined ? parseHostPort(o.httpListen, "--http-listen") : undefined;
  const maxLifetimeMs = o.maxLifetime !== undefined ? parseDuration(o.maxLifetime, "--max-lifetime") : undefined;
  const headersTimeoutMs = parseDuration(o.headersTimeout ?? "10s", "--headers-timeout");
  const rate = Number(o.rateLimit ?? 20);
  if (!Number.isInteger(rate) || rate < 0) throw usageError(`--rate-limit must be a whole number (0: no limit), not "${o.rateLimit}"`);
  if (o.map !== undefined && o.map !== "auto" && o.natsConfig === undefined) throw usageError("--map needs --nats-config");
  chooseServerCert(Store.open(ctx.dir), o.server); // refused before the passphrase
  const ca = await unlockCa(ctx.dir, { passphrase: passphraseFrom(ctx, o.passphraseFile) });
  const log = (line: string) => writeErr(line + "\n");
  const svc = createService({
    store: ca.store,
    signer: ca.signer,
    caCert: ca.caCert,
    listen,
    httpListen,
    server: o.server,
    natsConfig: o.natsConfig !== undefined ? path.resolve(o.natsConfig) : undefined,
    map: o.map,
    requireRekey: !!o.requireRekey,
    maxLifetimeMs,
    auditLog: o.auditLog !== undefined ? path.resolve(o.auditLog) : undefined,
    rateLimit: rate,
    headersTimeoutMs,
    // OCSP (RFC 6960) on /ocsp of both listeners: answers from the store, signed by the CA
    ocsp: createOcspResponder({ store: openFileStore(ctx.dir), signer: ca.signer, caCert: ca.caCert }),
    log,
  });
  await svc.start();
  const a = svc.address();
  const host = a.host.includes(":") ? `[${a.host}]` : a.host;
  log(`mtlsctl serve: server certificate "${svc.serverCert.name}" (serial ${svc.serverCert.serial}), store ${ca.store.dir}`);
  const h = svc.httpAddress();
  if (h) log(`mtlsctl serve: plain HTTP (/crl) on http://${h.host.includes(":") ? `[${h.host}]` : h.host}:${h.port}`);
  log(`listening on https://${host}:${a.port}`);
  await new Promise<void>((resolve) => {
    let once = false;
    const stop = (sig: string) => {
      if (once) return;
      once = true;
      log(`mtlsctl serve: ${sig}: finishing in-flight requests`);
      svc.stop().then(resolve, resolve);
    };
    process.on("SIGTERM", () => stop("SIGTERM"));
    process.on("SIGINT", () => stop("SIGINT"));
  });
  log("mtlsctl serve: stopped");
}
