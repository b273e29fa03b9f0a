/**
 * `serve --db` (issue 19): the service's backend on any Store (a database store), beside
 * service.ts's fileBackend. The TLS identity comes from files (--tls-cert, --tls-key): a database
 * store keeps no leaf key. Enrolments go through StoreIssuer; /crl reads the CRL the store keeps and
 * signs a new one (crlInStore) when it is due; /health asks the database.
 */
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import { inputError } from "../errors";
import { record } from "../ca";
import { crlInStore } from "../issue-store";
import { certificatePem, readCertificates, type ParsedCertificate } from "../pki/cert";
import { describeKey, loadPrivateKey } from "../pki/keys";
import type { Signer } from "../pki/signer";
import type { Store } from "../store/types";
import { fromPem } from "./pem";
import type { ServiceBackend } from "./service";
import { StoreIssuer } from "./store-issuer";

export interface StoreBackendOptions {
  signer: Signer;
  caCert: ParsedCertificate;
  requireRekey?: boolean;
  maxLifetimeMs?: number;
  /** PEM: the server certificate, optionally followed by its chain; and its key (unencrypted). */
  tlsCertFile: string;
  tlsKeyFile: string;
}

export async function storeBackend(store: Store, o: StoreBackendOptions): Promise<ServiceBackend> {
  let certPem: string;
  let keyPem: string;
  try {
    certPem = fs.readFileSync(o.tlsCertFile, "utf8");
  } catch {
    throw inputError("cannot read the server certificate", o.tlsCertFile);
  }
  try {
    keyPem = fs.readFileSync(o.tlsKeyFile, "utf8");
  } catch {
    throw inputError("cannot read the server key", o.tlsKeyFile);
  }
  const certs = readCertificates(Buffer.from(certPem), o.tlsCertFile);
  const key = loadPrivateKey(keyPem, o.tlsKeyFile);
  if (!crypto.createPublicKey(key).export({ type: "spki", format: "der" }).equals(certs[0].spki)) throw inputError("the key does not match the server certificate", o.tlsKeyFile);
  if (certs[0].notAfter.getTime() <= Date.now()) throw inputError(`the server certificate expired on ${certs[0].notAfter.toISOString()}`, o.tlsCertFile);
  const [chain, anchors] = await Promise.all([store.presentedChain(), store.trustAnchors()]);
  // its record: the store's when the store issued it, else one made from the file (named by its serial)
  const serverCert = (await store.findBySerial(certs[0].serialHex)) ?? record("server", certs[0].serialHex, certs[0], describeKey(key), { cert: o.tlsCertFile, key: o.tlsKeyFile, csr: null });
  // the file's chain when it has one, else the store's (an intermediate store's chain.pem)
  const chainPem = certs.length > 1 ? "" : chain.map((c) => certificatePem(c.der)).join("");
  return {
    location: store.location,
    serverCert,
    serverKeyPem: keyPem,
    serverCertPem: certPem.endsWith("\n") ? certPem + chainPem : certPem + "\n" + chainPem,
    chain,
    anchors,
    makeIssuer: (guard) => new StoreIssuer({ store, signer: o.signer, caCert: o.caCert, guard, requireRekey: o.requireRekey, maxLifetimeMs: o.maxLifetimeMs }),
    async available() {
      try {
        await store.header();
        return null;
      } catch (e) {
        return (e as Error).message;
      }
    },
    async crlDer() {
      const h = await store.header();
      const pem = h.crl && new Date(h.crl.nextUpdate).getTime() > Date.now() + 60_000 ? await store.crlPem() : undefined;
      if (pem !== undefined) return fromPem(pem, "X509 CRL");
      return (await crlInStore(store, o.signer, o.caCert, {}, [])).der;
    },
    async crlNumber() {
      return (await store.header()).crl?.number ?? 0;
    },
  };
}
