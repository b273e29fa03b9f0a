/**
 * The read views of the CLI over any Store (issue 19): what `list` and `status` print, from the
 * Store interface (a database store; the file store answers the same through FileStoreApi). The
 * rows are made by the same functions as the file store's (listRows, nkeyRows, statusOf): the same
 * JSON from both stores.
 */
import { readCertificates } from "../pki/cert";
import { natsUserFor, type NatsUser } from "../nats/user";
import { spkiPin } from "../lifecycle/pins";
import { inputError } from "../errors";
import type { CertRecord, Inventory, Store as StoreApi } from "../store/types";
import { checkCsrRequest, checkServerRequest, crlJson, issuedJson, listRows, nkeyRows, packageVersion, type IssuedJson, type IssueOptions, type NatsConfigApiOptions, type ServerIssueOptions, type SignOptions } from "./store";
import { buildNatsConfig, type ConfigStore, type NatsConfig } from "../config/config-writer";
import type { ParsedCertificate } from "../pki/cert";
import * as fs from "node:fs";
import * as path from "node:path";
import { createPublicKey, type KeyObject } from "node:crypto";
import { checkSans } from "../pki/san";
import { buildCsr, csrPem, type ParsedCsr } from "../pki/csr";
import { describeKey, generateKey, isEncryptedKeyPem, isRsa, KEY_TYPES, loadPrivateKey, parseKeyType, privateKeyPem, spkiOf, type KeyType } from "../pki/keys";
import type { PgStore } from "../store/pg/pg-store";
import { writeFileAtomic } from "../store/atomic";
import { checkName } from "../store/store";
import { accessFromOptions } from "../config/access";
import { buildSubject, checkDays, DEFAULT_CA_DAYS, record, subjectFor } from "../ca";
import { buildCertificate, certificatePem, parseCertificate, profileExtensions } from "../pki/cert";
import { keySigner } from "../pki/signer";
import { LAYOUT } from "../store/layout";
import { crlInStore, issueInStore, revokeInStore, unlockStoreCa, type IssuedInStore } from "../issue-store";
import { parseReason } from "../lifecycle/crl";
import { planRevocation, type RevokeTarget } from "../lifecycle/revoke";
import { usageError } from "../errors";
import { checkNextUpdateDays } from "../lifecycle/crl";
import { statusOf, type StoreStatus } from "../lifecycle/status";
import type { LintCert } from "../lint/certs";

/** The whole inventory as one value, from the interface (header + records in inventory order). */
export async function inventoryOf(store: StoreApi): Promise<Inventory> {
  const [h, certificates] = await Promise.all([store.header(), store.list()]);
  return { ...h, certificates };
}

/** The rows of `list --json` (certificates, then NKey users), as the file store's list prints them. */
export async function listOf(store: StoreApi, expiringDays?: number) {
  // with --expiring, only the records in the window (a database answers from its index on not_after);
  // listRows applies the same filter again, so the rows are the file store's
  const [h, certificates] = await Promise.all([store.header(), store.list(expiringDays === undefined ? {} : { expiringDays })]);
  const inv: Inventory = { ...h, certificates };
  // the NATS user of each valid client comes from its certificate's bytes (as the file store's)
  const users = new Map<string, string | null>();
  const clients = inv.certificates.filter((c) => c.kind === "client" && c.status === "valid");
  const BATCH = 2000;
  for (let i = 0; i < clients.length; i += BATCH) {
    const batch = clients.slice(i, i + BATCH);
    const pems = store.certificatePems ? await store.certificatePems(batch.map((c) => c.serial)) : new Map<string, string>();
    for (const c of batch) {
      const pem = pems.get(c.serial.toLowerCase()) ?? (store.certificatePems ? undefined : await store.certificatePem(c.serial));
      if (pem === undefined) throw inputError(`the certificate of "${c.name}" (serial ${c.serial}) is missing from the store`, store.location);
      users.set(c.serial, natsUserFor(readCertificates(Buffer.from(pem), store.location)[0]).user);
    }
  }
  const rows = listRows(inv, (c: CertRecord) => users.get(c.serial) ?? null, expiringDays);
  return [...rows, ...nkeyRows(inv.nkeys ?? [], (rel) => rel, expiringDays)];
}

/**
 * `lint --store --db`: what certsFromStore (src/lint/certs.ts) reads of a file store, from any store:
 * every client certificate's SPKI pin (any status: a pinned_certs entry of a revoked one is found), and
 * the valid ones to lint against the config. A certificate's "file" is its record's path as the store
 * names it, with the store's location (a database has no file).
 */
export async function lintCertsOfStore(store: StoreApi): Promise<{ certs: LintCert[]; pins: Map<string, { name: string; status: string }[]> }> {
  const clients = await store.list({ kind: "client" });
  const certs: LintCert[] = [];
  const pins = new Map<string, { name: string; status: string }[]>();
  for (let i = 0; i < clients.length; i += 2000) {
    const batch = clients.slice(i, i + 2000);
    const pems = store.certificatePems ? await store.certificatePems(batch.map((c) => c.serial)) : null;
    for (const rec of batch) {
      const pem = pems ? pems.get(rec.serial.toLowerCase()) : await store.certificatePem(rec.serial);
      if (pem === undefined) continue; // as the file store's: a record whose bytes are gone
      const cert = readCertificates(Buffer.from(pem), store.location)[0];
      const pin = spkiPin(cert);
      pins.set(pin, [...(pins.get(pin) ?? []), { name: rec.name, status: rec.status }]);
      if (rec.status !== "valid") continue;
      certs.push({ file: `${rec.certFile} (${store.location})`, leaf: cert, intermediates: [], name: rec.name, intended: natsUserFor(cert).user });
    }
  }
  return { certs, pins };
}

/** A store that counts its records by status itself (a database: one aggregate over its status index). */
interface CountingStore {
  countByStatus(): Promise<StoreStatus["counts"]>;
}
const counting = (s: StoreApi): (StoreApi & CountingStore) | null => (typeof (s as Partial<CountingStore>).countByStatus === "function" ? (s as StoreApi & CountingStore) : null);

/**
 * What `status --json` prints, from any store. A store that counts in SQL (a database) is asked for the
 * valid records only (its status index) and the counts (an aggregate): a million rows of history are
 * never loaded. `inMemory` takes the whole inventory instead (what the test compares it with).
 */
export async function statusOfStore(store: StoreApi, o: { expiringDays?: number; now?: Date; inMemory?: boolean } = {}): Promise<StoreStatus> {
  const crlOf = (crl: string | undefined) => (crl === undefined ? null : { data: Buffer.from(crl), file: store.location + " (crl)" });
  const c = o.inMemory ? null : counting(store);
  if (c === null) {
    const [inv, crl] = await Promise.all([inventoryOf(store), store.crlPem()]);
    return statusOf(inv, crlOf(crl), o);
  }
  const [h, valid, counts, crl] = await Promise.all([store.header(), store.list({ status: "valid" }), c.countByStatus(), store.crlPem()]);
  return statusOf({ ...h, certificates: valid }, crlOf(crl), o, counts);
}

/** Where an issuance on a store that keeps no leaf key puts its files: refused when they exist (without force). */
function outFiles(outDir: string, name: string, o: { force?: boolean; key: boolean; replaceCert?: boolean }): { keyOut: string | null; certOut: string } {
  const keyOut = o.key ? path.resolve(outDir, `${name}.key`) : null;
  const certOut = path.resolve(outDir, `${name}.crt`);
  if (keyOut && !o.force && fs.existsSync(keyOut)) throw inputError("already exists (use --force to replace it)", keyOut);
  if (!o.force && !o.replaceCert && fs.existsSync(certOut)) throw inputError("already exists (use --force to replace it)", certOut);
  return { keyOut, certOut };
}

/** After the commit (a refused issuance writes no file): the key (0600) and the certificate (with the chain, intermediate stores). */
function writeOutFiles(outDir: string, files: { keyOut: string | null; certOut: string }, key: KeyObject | null, issued: IssuedInStore): void {
  fs.mkdirSync(outDir, { recursive: true });
  if (files.keyOut && key) writeFileAtomic(files.keyOut, privateKeyPem(key), { mode: 0o600 });
  writeFileAtomic(files.certOut, issued.chainPem ?? issued.certPem, { mode: 0o644 });
}

const secretOf = (p: IssueOptions["passphrase"]) => async () => (p === undefined ? undefined : typeof p === "function" ? await p() : p);

/** The name's current record refused without force (before the CA is unlocked: no passphrase asked for). */
async function refuseExisting(store: StoreApi, name: string, force: boolean | undefined): Promise<void> {
  const existing = await store.findByName(name);
  if (existing && !force) throw inputError(`"${name}" already exists (serial ${existing.serial}; use --force to replace it)`, store.location);
  if ((await store.nkeys()).some((k) => k.name === name)) throw inputError(`an NKey user is named "${name}": names are shared by certificates and NKeys`, store.location);
}

/**
 * `client issue --db`: a key, a request and a client certificate on a store named by the interface
 * (a database). The key is never stored: it is written to `outDir`/<name>.key (0600, atomically; an
 * existing one only with force), and the certificate beside it as <name>.crt (the store keeps its
 * bytes too). The same checks and order as the file store's issueClient, the CA's passphrase asked for
 * only once the request has passed them.
 */
export async function issueClientInStore(store: StoreApi, name: string, o: IssueOptions & { outDir: string }): Promise<IssuedJson> {
  checkName(name);
  const keyType = parseKeyType((o.keyType ?? "ec-p256") as string);
  const warnings: string[] = [];
  const sans = checkSans({ email: o.email ?? [], dns: o.dns ?? [], uri: o.uri ?? [], ip: o.ip ?? [] }, warnings);
  const subjectDer = subjectFor({ name, subject: o.subject, sans }, warnings);
  const access = accessFromOptions(o);
  const files = outFiles(o.outDir, name, { force: o.force, key: true });
  await refuseExisting(store, name, o.force);
  const { caCert, signer } = await unlockStoreCa(store, secretOf(o.passphrase));
  const key = generateKey(keyType);
  const csrDer = buildCsr(key, subjectDer, sans);
  const issued = await issueInStore(store, signer, caCert, { profile: "client", name, subjectDer, spki: spkiOf(key), publicKey: createPublicKey(key), sans, days: o.days, force: o.force, keyType, csrPem: csrPem(csrDer), ...access }, warnings);
  writeOutFiles(o.outDir, files, key, issued);
  return issuedJson({ record: issued.record, cert: issued.cert, certFile: files.certOut, keyFile: files.keyOut, csrFile: null, chainFile: null, replaced: issued.replaced }, warnings);
}

/**
 * `server issue --db`: a server (or, with peer, serverAuth + clientAuth) certificate with DNS/IP SANs;
 * as issueClientInStore, its key goes to `outDir`/<name>.key and the certificate to <name>.crt, never
 * into the store. The checks of the file store's issueServer, in its order.
 */
export async function issueServerInStore(store: StoreApi, name: string, o: ServerIssueOptions & { outDir: string }): Promise<IssuedJson> {
  const { keyType, warnings, sans, subjectDer } = checkServerRequest(name, o);
  const files = outFiles(o.outDir, name, { force: o.force, key: true });
  await refuseExisting(store, name, o.force);
  const { caCert, signer } = await unlockStoreCa(store, secretOf(o.passphrase));
  const key = generateKey(keyType);
  const issued = await issueInStore(store, signer, caCert, { profile: o.peer ? "peer" : "server", name, subjectDer, spki: spkiOf(key), publicKey: createPublicKey(key), sans, days: o.days, force: o.force, keyType }, warnings);
  writeOutFiles(o.outDir, files, key, issued);
  return issuedJson({ record: issued.record, cert: issued.cert, certFile: files.certOut, keyFile: files.keyOut, csrFile: null, chainFile: null, replaced: issued.replaced }, warnings);
}

/**
 * `client sign --db`: a client certificate for a request made elsewhere (the key stays where it was
 * made); the store keeps the certificate and the request, and the certificate is written to
 * `outDir`/<name>.crt for the client. The checks of the file store's signCsr (src/api/store.ts), in its order.
 */
export async function signCsrInStore(store: StoreApi, csr: ParsedCsr, o: SignOptions & { outDir: string }): Promise<IssuedJson> {
  const { name, subjectDer, sans, access, warnings } = checkCsrRequest(csr, o);
  checkName(name);
  const files = outFiles(o.outDir, name, { force: o.force, key: false });
  await refuseExisting(store, name, o.force);
  const { caCert, signer } = await unlockStoreCa(store, secretOf(o.passphrase));
  const issued = await issueInStore(store, signer, caCert, { profile: "client", name, subjectDer, spki: csr.spki, publicKey: csr.publicKey, sans, days: o.days, force: o.force, keyType: describeKey(csr.publicKey), csrPem: csrPem(csr.der), ...access }, warnings);
  writeOutFiles(o.outDir, files, null, issued);
  return issuedJson({ record: issued.record, cert: issued.cert, certFile: files.certOut, keyFile: null, csrFile: null, chainFile: null, replaced: issued.replaced }, warnings);
}

/** `crl --db`: the next CRL, signed and recorded in the store (issue-store.ts crlInStore); what `crl --json` prints. */
export async function crlOfStore(store: StoreApi, o: { nextUpdateDays?: number; format?: "pem" | "der"; passphrase?: IssueOptions["passphrase"] }) {
  checkNextUpdateDays(o.nextUpdateDays);
  const { caCert, signer } = await unlockStoreCa(store, async () => (o.passphrase === undefined ? undefined : typeof o.passphrase === "function" ? await o.passphrase() : o.passphrase));
  const warnings: string[] = [];
  const crl = await crlInStore(store, signer, caCert, { nextUpdateDays: o.nextUpdateDays }, warnings);
  return crlJson(crl, store.location, o.format, warnings);
}

/** `revoke --db`: what `revoke --json` prints (its CRL kept in the database). */
export async function revokeInDb(store: StoreApi, target: RevokeTarget, o: { reason?: string; nextUpdateDays?: number; passphrase?: IssueOptions["passphrase"] }) {
  // refused before the passphrase: the same checks as planRevocation's, on the records as they are now
  if ((target.name === undefined) === (target.serial === undefined)) throw usageError("give a name or --serial HEX (one of them)");
  parseReason(o.reason ?? "unspecified");
  checkNextUpdateDays(o.nextUpdateDays);
  const byName = (i: Inventory, n: string) => i.certificates.filter((c) => c.name === n && c.status !== "superseded" && !c.renewedBy).pop();
  planRevocation({ inventoryFile: store.location, findByName: byName }, await inventoryOf(store), target); // again in the transaction
  const { caCert, signer } = await unlockStoreCa(store, async () => (o.passphrase === undefined ? undefined : typeof o.passphrase === "function" ? await o.passphrase() : o.passphrase));
  const warnings: string[] = [];
  const r = await revokeInStore(store, signer, caCert, target, { reason: o.reason, nextUpdateDays: o.nextUpdateDays }, warnings);
  return {
    revoked: r.revoked.map((c) => ({ name: c.name, kind: c.kind, serial: c.serial, revokedAt: c.revokedAt, reason: c.revocationReason, renewedBy: c.renewedBy ?? null })),
    reason: r.reason,
    crl: { file: store.location, number: r.crl.number, thisUpdate: r.crl.thisUpdate.toISOString(), nextUpdate: r.crl.nextUpdate.toISOString(), revoked: r.crl.entries.length },
    warnings,
  };
}

/** What renewInStore returns: the parts of `renew --json` that differ in where they are (the CLI builds the rest). */
export interface StoreRenewal {
  record: CertRecord;
  old: CertRecord;
  /** The new certificate's file (outDir/<name>.crt). */
  certFile: string;
  /** Where the old certificate's bytes are, as recorded (renewed/<serial>.crt: where a copy to a directory puts them). */
  oldCertFile: string;
  /** The new key (rekey), else null: the holder keeps its key. */
  keyFile: string | null;
  rekey: boolean;
  keyChanged: boolean;
  natsUserBefore: NatsUser | null;
  natsUserAfter: NatsUser | null;
  pinAfter: string;
  warnings: string[];
}

/**
 * `renew --db`: a new certificate for the same identity (the old certificate's subject bytes and SANs)
 * through issueInStore (which supersedes the old one and links the two, in one transaction). Without
 * rekey the public key is the old certificate's own; with rekey a new key of the same type is written
 * to `outDir`/<name>.key (a database keeps no leaf key). The new certificate goes to `outDir`/<name>.crt.
 * The certificate replaces the file there (as renew replaces the file store's issued/<name>.crt); an
 * existing key file is replaced only with force (it may be a key the client made: client csr).
 * The checks of planRenewal (src/lifecycle/renew.ts), before the passphrase.
 */
export async function renewInStore(store: StoreApi, name: string, o: { rekey?: boolean; days?: number; outDir: string; force?: boolean; passphrase?: IssueOptions["passphrase"] }): Promise<StoreRenewal> {
  checkName(name);
  const current = await store.findByName(name);
  if (!current) throw inputError(`no certificate named "${name}" in the store`, store.location);
  if (current.status !== "valid") throw inputError(`"${name}" (serial ${current.serial}) is ${current.status}: it cannot be renewed (issue a new certificate with --force)`, store.location);
  if (current.kind !== "client" && current.kind !== "server") throw inputError(`"${name}" is a ${current.kind} certificate: only client and server certificates are renewed`, store.location);
  const pem = await store.certificatePem(current.serial);
  if (pem === undefined) throw inputError(`the certificate of "${name}" (serial ${current.serial}) is missing from the store`, store.location);
  const cert = readCertificates(Buffer.from(pem), store.location)[0];
  if (cert.serialHex !== current.serial) throw inputError(`the stored certificate has serial ${cert.serialHex}, the record says ${current.serial}`, store.location);
  const oldPub = createPublicKey({ key: cert.spki, format: "der", type: "spki" });
  const keyType = describeKey(oldPub);
  if (o.rekey && !(KEY_TYPES as readonly string[]).includes(keyType)) throw inputError(`"${name}" has a ${keyType} key, which mtlsctl does not generate: --rekey cannot make one of the same type`, store.location);
  const days = o.days ?? Math.max(1, Math.round((cert.notAfter.getTime() - cert.notBefore.getTime() - 60_000) / 86_400_000));
  const files = outFiles(o.outDir, name, { force: o.force, key: !!o.rekey, replaceCert: true });
  const { caCert, signer } = await unlockStoreCa(store, secretOf(o.passphrase));
  const warnings: string[] = [];
  const sans = checkSans({ email: cert.sans.email, dns: cert.sans.dns, uri: cert.sans.uri, ip: cert.sans.ip });
  if (cert.sans.other) warnings.push(`the old certificate has ${cert.sans.other} SAN(s) of other kinds: not carried over`);
  let spki = cert.spki;
  let publicKey = oldPub;
  let key: KeyObject | null = null;
  let csr: string | undefined;
  if (o.rekey) {
    key = generateKey(keyType as KeyType);
    spki = spkiOf(key);
    publicKey = createPublicKey(key);
    // a request true to the new key when there was one (as the file store's renew --rekey)
    if (current.csrFile) csr = csrPem(buildCsr(key, cert.subjectRaw, sans));
  } else if (current.csrFile) csr = (await store.artifacts(current.serial))?.csrPem;
  const profile = current.profile === "peer" ? "peer" : current.kind;
  const issued = await issueInStore(
    store,
    signer,
    caCert,
    { profile, name, subjectDer: cert.subjectRaw, spki, publicKey, sans, days, keyType: o.rekey ? keyType : current.keyType, renews: current.serial, ...(csr !== undefined ? { csrPem: csr } : {}) },
    warnings,
  );
  writeOutFiles(o.outDir, files, key, issued);
  const isClient = profile === "client";
  const old = issued.replaced ?? current;
  return {
    record: issued.record,
    old,
    certFile: files.certOut,
    oldCertFile: old.certFile,
    keyFile: files.keyOut,
    rekey: !!o.rekey,
    keyChanged: !spki.equals(cert.spki),
    natsUserBefore: isClient ? natsUserFor(cert) : null,
    natsUserAfter: isClient ? natsUserFor(issued.cert) : null,
    pinAfter: spkiPin(issued.cert),
    warnings,
  };
}

/**
 * `config nats --db`: the snippet from a store without files (a database), by the file store's own
 * buildNatsConfig over a view of it: the inventory and the unexpired certificates read beforehand
 * (one query per batch), every record's key file cleared (a database keeps no leaf key, so the
 * server's and a peer's files must be named: --cert-file/--key-file), and the ca_file the server reads
 * named by `caFile` (a database has no file for it: `export ca --out FILE` writes one).
 */
export async function natsConfigOfStore(store: StoreApi, o: NatsConfigApiOptions & { caFile?: string }): Promise<NatsConfig> {
  if (o.caFile === undefined) throw usageError("config nats --db needs --ca-file FILE: the file nats-server reads the CA certificate from (write it with `mtlsctl export ca --out FILE`)");
  const now = o.now ?? new Date();
  const [h, records, presented] = await Promise.all([store.header(), store.list(), store.presentedChain()]);
  const inv: Inventory = { ...h, certificates: records.map((r) => ({ ...r, keyFile: null })) };
  const wanted = inv.certificates.filter((c) => c.kind !== "ca" && new Date(c.notAfter) > now).map((c) => c.serial);
  const pems = new Map<string, string>();
  for (let i = 0; i < wanted.length; i += 2000) {
    const batch = wanted.slice(i, i + 2000);
    if (store.certificatePems) for (const [k, v] of await store.certificatePems(batch)) pems.set(k.toLowerCase(), v);
    else for (const s of batch) {
      const pem = await store.certificatePem(s);
      if (pem !== undefined) pems.set(s.toLowerCase(), pem);
    }
  }
  const parsed = new Map<string, ParsedCertificate>();
  const view: ConfigStore = {
    dir: store.location,
    inventoryFile: store.location,
    trustFile: path.resolve(o.caFile),
    chainFile: "the CA's chain (mtlsctl export NAME --format chain)",
    readInventory: () => inv,
    presentedChain: () => presented,
    // only the files the caller named reach it (every record's key file is cleared): absolute already
    path: (...rel: string[]) => path.resolve(...rel),
    certOf: (rec) => {
      const s = rec.serial.toLowerCase();
      let c = parsed.get(s);
      if (c) return c;
      const pem = pems.get(s);
      if (pem === undefined) throw inputError(`the certificate of "${rec.name}" (serial ${rec.serial}) is missing from the store`, store.location);
      c = readCertificates(Buffer.from(pem), store.location)[0];
      parsed.set(s, c);
      return c;
    },
  };
  return buildNatsConfig(view, { ...o, version: o.version ?? packageVersion() });
}

/** What `ca passphrase --db` did. */
export interface DbPassphraseChange {
  encrypted: boolean;
  /** The rows re-encrypted: "ca", then "previous CA <serial>" for each previous CA key. */
  rows: string[];
}

/**
 * `ca passphrase --db`: the CA key row (and each previous CA's key row) re-encrypted under the new
 * passphrase (PKCS#8, PBES2 AES-256, the store's KDF: privateKeyPem), or written unencrypted when `next`
 * is undefined; one transaction. `checkOld` first (before the new passphrase is asked for): a wrong old
 * passphrase, a key of another CA or a key in a PKCS#11 token changes nothing (exit 3). A previous CA key
 * that opens with neither passphrase is left as it is, with a warning (as the file store's changePassphrase).
 */
export async function checkDbCaPassphrase(store: PgStore, old: string | undefined): Promise<void> {
  const [caCert, ref] = await Promise.all([store.caCertificate(), store.caKey()]);
  if (ref.pkcs11Uri !== undefined) throw inputError("the CA key is in a PKCS#11 token: its PIN is the token's (change it with the token's tools), there is no key to re-encrypt", store.location);
  const key = loadPrivateKey(ref.pem, `${store.location} (CA key)`, isEncryptedKeyPem(ref.pem) ? old : undefined);
  if (!spkiOf(key).equals(caCert.spki)) throw inputError("the CA key in the database does not match the CA certificate", store.location);
}

export async function caKeyEncryptedInDb(store: PgStore): Promise<boolean> {
  const ref = await store.caKey();
  return ref.pem !== undefined && isEncryptedKeyPem(ref.pem);
}

export async function changeDbCaPassphrase(store: PgStore, old: string | undefined, next: string | undefined, warnings: string[]): Promise<DbPassphraseChange> {
  const caCert = await store.caCertificate();
  const rows: string[] = [];
  await store.rewrapCaKeys(
    (caPem, previous) => {
      if (caPem === null) throw inputError("the CA key is in a PKCS#11 token: there is no key to re-encrypt", store.location);
      const key = loadPrivateKey(caPem, `${store.location} (CA key)`, isEncryptedKeyPem(caPem) ? old : undefined);
      if (!spkiOf(key).equals(caCert.spki)) throw inputError("the CA key in the database does not match the CA certificate", store.location);
      rows.length = 0;
      rows.push("ca");
      const out: { serial: string; pem: string }[] = [];
      for (const p of previous) {
        const enc = isEncryptedKeyPem(p.pem);
        let k: KeyObject | null = null;
        for (const pass of enc ? [old, next] : [undefined]) {
          if (enc && pass === undefined) continue;
          try {
            k = loadPrivateKey(p.pem, `${store.location} (previous CA ${p.serial})`, pass);
            break;
          } catch {
            /* the next passphrase */
          }
        }
        if (k) {
          out.push({ serial: p.serial, pem: privateKeyPem(k, next) });
          rows.push(`previous CA ${p.serial}`);
        } else warnings.push(`${store.location}: the previous CA key (serial ${p.serial}) opens with neither passphrase: left as it is`);
      }
      return { ca: privateKeyPem(key, next), previous: out };
    },
    { action: "ca-passphrase", serial: caCert.serialHex, detail: { encrypted: next !== undefined } },
  );
  if (next === undefined) warnings.push(`the CA key is NOT encrypted (--no-encrypt): anyone who can read the database's ca table can sign as the CA`);
  return { encrypted: next !== undefined, rows };
}

/**
 * `ca rollover --db`: a new root key and certificate become the database's CA, the previous one stays
 * trusted beside it (overlap) until `ca retire` — the file store's rollover (src/lifecycle/rollover.ts:
 * the same checks, key type, subject, extensions and records), its commit one SQL transaction
 * (PgStore.rolloverCa). The new key is encrypted with the current passphrase (plain when the current
 * one is). A root CA whose key is in the database only: an intermediate, or a key in a PKCS#11 token, is refused.
 */
export async function rolloverInDb(store: PgStore, o: { keyType?: KeyType; subject?: string; name?: string; days?: number; passphrase?: string; now?: Date }, warnings: string[]) {
  const days = checkDays(o.days, DEFAULT_CA_DAYS);
  if (o.subject !== undefined && o.name !== undefined) throw inputError("give --name or --subject, not both");
  const [oldCert, ref, chain] = await Promise.all([store.caCertificate(), store.caKey(), store.presentedChain()]);
  if (chain.length || !oldCert.issuerRaw.equals(oldCert.subjectRaw))
    throw inputError("ca rollover is for root stores: this store's CA is an intermediate (roll it over by issuing a new intermediate from its root's store)", store.location);
  if (ref.pkcs11Uri !== undefined) throw inputError("ca rollover --db makes a new key in the database: this CA's key is in a PKCS#11 token (make the new CA in a directory with ca init --pkcs11)", store.location);
  const encrypted = isEncryptedKeyPem(ref.pem);
  const oldKey = loadPrivateKey(ref.pem, `${store.location} (CA key)`, encrypted ? o.passphrase : undefined); // proves the caller holds the CA, before a key is made
  if (!spkiOf(oldKey).equals(oldCert.spki)) throw inputError("the CA key in the database does not match the CA certificate", store.location);
  const keyType: KeyType = o.keyType ?? ((KEY_TYPES as readonly string[]).includes(describeKey(oldKey)) ? (describeKey(oldKey) as KeyType) : "ec-p256");
  const subjectDer = o.subject !== undefined || o.name !== undefined ? buildSubject(o.subject ?? `CN=${o.name}`, warnings, "CA subject").der : oldCert.subjectRaw;
  const key = generateKey(keyType);
  const spki = spkiOf(key);
  const now = o.now ?? new Date();
  const notAfter = new Date(now.getTime() + days * 86_400_000);
  let cert!: ParsedCertificate;
  const r = await store.rolloverCa(oldCert.serialHex, (serial) => {
    const der = buildCertificate(
      { serial, issuer: subjectDer, subject: subjectDer, notBefore: new Date(now.getTime() - 60_000), notAfter, spki, extensions: profileExtensions("ca", { spki, rsa: isRsa(key), pathLen: oldCert.basicConstraints?.pathLen }) },
      keySigner(key),
    );
    cert = parseCertificate(der);
    const old = oldCert.serialHex;
    return {
      record: { ...record("ca", "ca", cert, describeKey(key), { cert: LAYOUT.caCertRel, key: LAYOUT.caKeyRel, csr: null }), renews: old },
      certPem: certificatePem(der),
      keyPem: privateKeyPem(key, encrypted ? o.passphrase : undefined),
      previous: (current) => ({ ...current, certFile: LAYOUT.previousCertRel(old), keyFile: LAYOUT.previousKeyRel(old), status: "superseded", renewedBy: cert.serialHex, caStatus: "overlap", replacedAt: now.toISOString(), replacedBy: cert.serialHex, retiredAt: null }),
    };
  });
  if (!encrypted) warnings.push(`the new CA key is NOT encrypted (the previous one was not either): protect the database's ca table`);
  const live = await store.list({ status: "valid" });
  const stillOld = live.filter((c) => new Date(c.notAfter) > now); // as the file store counts them: every valid one
  if (stillOld.length) warnings.push(`${stillOld.length} valid certificate(s) of the previous CA (${oldCert.serialHex}) keep working while it is in roots.pem: renew them (mtlsctl renew NAME) before mtlsctl ca retire`);
  return { cert, keyType: describeKey(key), previous: r.previous, roots: r.roots, encrypted };
}
