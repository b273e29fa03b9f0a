/** `serve`: the online CA in the foreground (src/service/service.ts); stops cleanly on SIGTERM/SIGINT. */
import * as path from "node:path";
import { Ctx } from "./context";
import { passphraseFrom } from "./common";
import { writeErr } from "./out";
import { unlockCa } from "../api/store";
import { Store } from "../store/store";
import { usageError } from "../errors";
import { createService, parseHostPort, chooseServerCert, type ServiceOptions } from "../service/service";
import { storeBackend } from "../service/store-backend";
import { unlockStoreCa } from "../issue-store";
import { getSecret } from "./context";
import { openDb } from "./store/open";
import type { PgStore } from "../store/pg/pg-store";
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
  const log = (line: string) => writeErr(line + "\n");
  let db: PgStore | null = null;
  let where: string;
  let base: Pick<ServiceOptions, "store" | "backend" | "signer" | "caCert" | "ocsp">;
  if (ctx.db !== undefined) {
    // a database store (issue 19): several instances may serve one database; the TLS identity from files
    if (o.tlsCert === undefined || o.tlsKey === undefined) throw usageError("serve --db needs --tls-cert FILE and --tls-key FILE: a database store keeps no server key");
    if (o.server !== undefined) throw usageError("--server names a certificate of a file store; with --db give --tls-cert and --tls-key");
    db = openDb(ctx);
    try {
      const { caCert, signer } = await unlockStoreCa(db, async () => getSecret(ctx, { what: "CA passphrase", file: o.passphraseFile, fileFlag: "--passphrase-file", env: "MTLSCTL_PASSPHRASE" }));
      const backend = await storeBackend(db, { signer, caCert, requireRekey: !!o.requireRekey, maxLifetimeMs, tlsCertFile: path.resolve(o.tlsCert), tlsKeyFile: path.resolve(o.tlsKey) });
      base = { backend, signer, caCert, ocsp: createOcspResponder({ store: db, signer, caCert }) };
    } catch (e) {
      await db.close().catch(() => undefined);
      throw e;
    }
    where = db.location;
  } else {
    if (o.tlsCert !== undefined || o.tlsKey !== undefined) throw usageError("--tls-cert and --tls-key are for serve --db (a file store presents --server NAME's certificate and key)");
    chooseServerCert(Store.open(ctx.dir), o.server); // refused before the passphrase
    const ca = await unlockCa(ctx.dir, { passphrase: passphraseFrom(ctx, o.passphraseFile) });
    base = { store: ca.store, signer: ca.signer, caCert: ca.caCert, ocsp: createOcspResponder({ store: openFileStore(ctx.dir), signer: ca.signer, caCert: ca.caCert }) };
    where = ca.store.dir;
  }
  const svc = createService({
    ...base,
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
    // OCSP (RFC 6960) on /ocsp of both listeners: answers from the store, signed by the CA (in base)
    log,
  });
  await svc.start();
  const a = svc.address();
  const host = a.host.includes(":") ? `[${a.host}]` : a.host;
  log(`mtlsctl serve: server certificate "${svc.serverCert.name}" (serial ${svc.serverCert.serial}), store ${where}`);
  const h = svc.httpAddress();
  if (h) log(`mtlsctl serve: plain HTTP (/ocsp, /crl) on http://${h.host.includes(":") ? `[${h.host}]` : h.host}:${h.port}`);
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
  await db?.close().catch(() => undefined);
  log("mtlsctl serve: stopped");
}
