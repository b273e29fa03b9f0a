/**
 * The certificate authority: creating the root and issuing client and server certificates.
 * Works as a library: no printing, no prompts; warnings are returned.
 */
import type { UserPermissions } from "./nats/permissions";
import * as fs from "node:fs";
import * as path from "node:path";
import * as crypto from "node:crypto";
import { inputError } from "./errors";
import { OID, EXTENSION_NAMES } from "./asn1/oids";
import { buildCertificate, certificatePem, parseCertificate, ParsedCertificate, profileExtensions, randomSerial, Profile } from "./pki/cert";
import { buildCsr, csrPem, ParsedCsr } from "./pki/csr";
import { describeKey, generateKey, isRsa, KeyType, privateKeyPem, publicKeyOf, spkiOf } from "./pki/keys";
import { checkSignerMatches, keySigner, Signer } from "./pki/signer";
import { destroyPkcs11Key, generatePkcs11Key } from "./pki/pkcs11";
import { checkDays, chooseSerial, DAY, DEFAULT_CA_DAYS, PlanIssuer, planIssuance, tbsOf } from "./pki/plan";
import { canonicalOrder, encodeName, formatRfc4514, parseRfc4514, unpredictableReasons, DnDer, decodeName } from "./pki/name";
import { checkSans, emptySans, hasSans, Sans } from "./pki/san";
import { PendingFlush, writeFileAtomic } from "./store/atomic";
import { crashPoint } from "./store/crashpoints";
import { CertKind, CertRecord, checkName, Inventory, LAYOUT, Store } from "./store/store";
import { dnStageString, goSubjectString } from "./nats/subject";
import type { NameConstraintsSpec } from "./pki/constraints";
import { issuingChain, pemBundle } from "./pki/hierarchy";

// validity rules live in the planning step (pki/plan.ts); re-exported for the callers that name them here
export { checkDays, DEFAULT_CA_DAYS, DEFAULT_LEAF_DAYS } from "./pki/plan";

export interface CaInitOptions {
  dir: string;
  keyType: KeyType;
  /** RFC 4514 subject; or `name` for CN=<name>. */
  subject?: string;
  name?: string;
  days?: number;
  pathLen?: number;
  /** Name constraints (issue 10): `--permit-dns` etc. */
  nameConstraints?: NameConstraintsSpec;
  /** undefined: the key is written unencrypted. */
  passphrase?: string;
  force?: boolean;
  /** `ca init --pkcs11 URI`: the key is generated in that token (no key file); `pin` when the URI gives none. */
  pkcs11?: { uri: string; pin?: string };
}

export interface Result<T> {
  value: T;
  warnings: string[];
}

/** Builds a subject from an RFC 4514 string in canonical order, with warnings when it is not predictable. */
export function buildSubject(rfc4514: string, warnings: string[], what = "subject"): { der: Buffer; rdns: DnDer } {
  const rdns = canonicalOrder(parseRfc4514(rfc4514, what));
  const reasons = unpredictableReasons(rdns);
  if (reasons.length)
    warnings.push(`${what} "${rfc4514}" cannot be mapped predictably by nats-server: ${reasons.join("; ")}`);
  return { der: encodeName(rdns), rdns };
}

/** What an inventory record says about a certificate (from the parsed certificate, or from its plan). */
export interface RecordFields {
  serialHex: string;
  /** RFC 4514. */
  subject: string;
  sans: Sans;
  notBefore: Date;
  notAfter: Date;
  /** SHA-256 hex of the DER. */
  fingerprint: string;
}

/** What issuance adds to a record, in this order (the inventory's layout is stable). */
export interface RecordExtras {
  account?: string | null;
  permissions?: UserPermissions | null;
  renews?: string;
  chainFile?: string | null;
}

/**
 * The one inventory record builder: every path that issues (single, bulk, sub-CA, CA) makes its
 * record here, so records have the same keys in the same order.
 */
export function recordOf(kind: CertKind, name: string, f: RecordFields, keyType: string, files: { cert: string; key: string | null; csr: string | null }, extras: RecordExtras = {}, issuedAt = new Date().toISOString()): CertRecord {
  const rec: CertRecord = {
    name,
    kind,
    serial: f.serialHex,
    subject: f.subject,
    sans: { email: f.sans.email, dns: f.sans.dns, uri: f.sans.uri, ip: f.sans.ip },
    profile: kind,
    keyType,
    notBefore: isoOf(f.notBefore),
    notAfter: isoOf(f.notAfter),
    status: "valid",
    revokedAt: null,
    revocationReason: null,
    fingerprint: f.fingerprint,
    certFile: files.cert,
    keyFile: files.key,
    csrFile: files.csr,
    issuedAt,
  };
  if (extras.account) rec.account = extras.account;
  if (extras.permissions) rec.permissions = extras.permissions;
  if (extras.renews !== undefined) rec.renews = extras.renews;
  if (extras.chainFile) rec.chainFile = extras.chainFile;
  return rec;
}

// bulk issuance records thousands of certificates with the same times: their ISO text, memoised
const isoMemo = new Map<number, string>();
function isoOf(d: Date): string {
  const t = d.getTime();
  let s = isoMemo.get(t);
  if (s === undefined) {
    if (isoMemo.size >= 16) isoMemo.clear();
    isoMemo.set(t, (s = d.toISOString()));
  }
  return s;
}

/** recordOf() for a parsed certificate. */
export function record(kind: CertKind, name: string, cert: ParsedCertificate, keyType: string, files: { cert: string; key: string | null; csr: string | null }, extras: RecordExtras = {}): CertRecord {
  return recordOf(kind, name, { serialHex: cert.serialHex, subject: formatRfc4514(cert.subject), sans: cert.sans, notBefore: cert.notBefore, notAfter: cert.notAfter, fingerprint: cert.fingerprint }, keyType, files, extras);
}

/**
 * Creates a root CA and a new store. The store is built in a staging directory and renamed into
 * place, so a crash or a refusal leaves no partial store behind.
 */
export function initCa(o: CaInitOptions): Result<{ store: Store; cert: ParsedCertificate }> {
  const warnings: string[] = [];
  const dir = path.resolve(o.dir);
  const days = checkDays(o.days, DEFAULT_CA_DAYS);
  if (o.pathLen !== undefined && (!Number.isInteger(o.pathLen) || o.pathLen < 0 || o.pathLen > 16)) throw inputError(`--path-len must be a whole number from 0 to 16`);
  if (o.subject !== undefined && o.name !== undefined) throw inputError("give --name or --subject, not both");
  const subjectStr = o.subject ?? `CN=${o.name ?? "mtlsctl CA"}`;
  const subject = buildSubject(subjectStr, [], "CA subject");

  const replacing = checkNewStoreDir(dir, o.force);

  if (o.pkcs11) {
    // the key pair is made inside the token (sensitive, not extractable); everything else as below
    const signer = generatePkcs11Key(o.pkcs11.uri, o.keyType, { pin: o.pkcs11.pin });
    try {
      const spki = signer.publicKey;
      const now = Date.now();
      const certDer = buildCertificate(
        { serial: randomSerial(), issuer: subject.der, subject: subject.der, notBefore: new Date(now - 60_000), notAfter: new Date(now + days * DAY), spki, extensions: profileExtensions("ca", { spki, rsa: signer.keyType.startsWith("rsa"), pathLen: o.pathLen, nameConstraints: o.nameConstraints }) },
        signer,
      );
      const cert = parseCertificate(certDer);
      const store = createStore(dir, { cert, pkcs11: { uri: o.pkcs11.uri, keyType: signer.keyType }, replacing }, warnings);
      return { value: { store, cert }, warnings };
    } catch (e) {
      // nothing left behind in the token either: the new key pair goes when the store could not be made
      signer.close();
      try {
        destroyPkcs11Key(signer.uri, { pin: o.pkcs11.pin });
      } catch {
        /* the token may be gone: the original error says what went wrong */
      }
      throw e;
    } finally {
      signer.close();
    }
  }

  const key = generateKey(o.keyType);
  const spki = spkiOf(key);
  const now = Date.now();
  const notBefore = new Date(now - 60_000); // a minute of slack for clocks behind ours
  const notAfter = new Date(now + days * DAY);
  const certDer = buildCertificate(
    { serial: randomSerial(), issuer: subject.der, subject: subject.der, notBefore, notAfter, spki, extensions: profileExtensions("ca", { spki, rsa: isRsa(key), pathLen: o.pathLen, nameConstraints: o.nameConstraints }) },
    keySigner(key),
  );
  const cert = parseCertificate(certDer);
  const store = createStore(dir, { cert, key, passphrase: o.passphrase, replacing }, warnings);
  return { value: { store, cert }, warnings };
}

/** The URI as the store keeps it: without any pin-value. */
export function storedPkcs11Uri(uri: string): string {
  const q = uri.indexOf("?");
  if (q < 0) return uri;
  const query = uri.slice(q + 1).split("&").filter((a) => a !== "" && !/^pin-value=/i.test(a));
  return uri.slice(0, q) + (query.length ? "?" + query.join("&") : "");
}

/**
 * Where a new store goes (`ca init`, `ca import`): an absent or empty directory, or an existing
 * store with `force`. Returns whether an existing store is being replaced.
 */
export function checkNewStoreDir(dir: string, force?: boolean): boolean {
  if (fs.existsSync(dir)) {
    if (!fs.statSync(dir).isDirectory()) throw inputError("exists and is not a directory", dir);
    if (Store.exists(dir)) {
      if (!force) throw inputError("a CA already exists here (use --force to replace it)", path.join(dir, "ca.crt"));
      return true;
    } else if (fs.readdirSync(dir).length > 0) throw inputError("the directory is not empty and holds no store", dir);
  }
  return false;
}

/**
 * Writes a new store holding this CA certificate and key (`ca init`, `ca import`). The store is
 * built in a staging directory beside `dir` and renamed into place (replacing the old store when
 * `replacing`), so a crash or a refusal leaves no partial store behind. The key is encrypted with
 * `passphrase` (PBES2, AES-256) unless it is undefined.
 */
export function createStore(
  dir: string,
  o: { cert: ParsedCertificate; key?: crypto.KeyObject; pkcs11?: { uri: string; keyType: string }; passphrase?: string; replacing: boolean; chain?: ParsedCertificate[]; roots?: ParsedCertificate[] },
  warnings: string[],
): Store {
  const parent = path.dirname(dir);
  fs.mkdirSync(parent, { recursive: true });
  const staging = path.join(parent, `.${path.basename(dir)}.init-${process.pid}-${crypto.randomBytes(4).toString("hex")}`);
  try {
    fs.mkdirSync(staging, { mode: 0o755 });
    Store.createLayout(staging);
    crashPoint(`staging directory created: ${staging}`);
    const st = new Store(staging);
    writeFileAtomic(st.caCertFile, certificatePem(o.cert.der));
    // a token-held key: only its URI, never a PIN (pin-value is dropped; pin-source names a file)
    if (o.pkcs11) writeFileAtomic(st.caPkcs11File, storedPkcs11Uri(o.pkcs11.uri) + "\n", { mode: 0o600 });
    else if (o.key) writeFileAtomic(st.caKeyFile, privateKeyPem(o.key, o.passphrase), { mode: 0o600 });
    else throw new Error("createStore needs a key or a PKCS#11 URI");
    if (o.chain?.length) writeFileAtomic(st.chainFile, pemBundle(o.chain)); // an intermediate store (issue 10)
    if (o.roots?.length) writeFileAtomic(st.rootsFile, pemBundle(o.roots));
    const keyType = o.pkcs11 ? o.pkcs11.keyType : describeKey(o.key!);
    const inv: Inventory = { version: 1, ca: record("ca", "ca", o.cert, keyType, { cert: LAYOUT.caCertRel, key: o.pkcs11 ? LAYOUT.caPkcs11Rel : LAYOUT.caKeyRel, csr: null }), certificates: [] };
    st.writeInventory(inv);
    placeStore(staging, dir, o.replacing);
  } catch (e) {
    abandonStaging(staging, dir, e);
  }
  if (o.pkcs11 && /[?&]pin-value=/i.test(o.pkcs11.uri)) warnings.push("the PIN (pin-value) is not kept in the store: later commands need pin-source=file:… in the URI, or the PIN from --passphrase-file / MTLSCTL_PASSPHRASE");
  else if (!o.pkcs11 && o.passphrase === undefined) warnings.push("the CA key is NOT encrypted (--no-encrypt): protect " + new Store(dir).caKeyFile);
  return new Store(dir);
}

/**
 * Renames a store built in `staging` (`.<dir>.init-<pid>-<hex>` beside it) into place, replacing
 * the store at `dir` when `replacing`. A crash between the renames leaves the old store aside as
 * `.<dir>.replaced-<pid>-<hex>`: Store.open/exists put it back (recoverInterruptedInit).
 */
export function placeStore(staging: string, dir: string, replacing: boolean): void {
  crashPoint(`before the staging directory is renamed into place: ${dir}`);
  if (replacing) {
    const old = path.join(path.dirname(dir), `.${path.basename(dir)}.replaced-${process.pid}-${crypto.randomBytes(4).toString("hex")}`);
    fs.renameSync(dir, old);
    crashPoint(`old store moved aside, new one not yet in place: ${old}`);
    fs.renameSync(staging, dir);
    crashPoint(`after the staging directory is renamed into place, old store not yet removed: ${dir}`);
    fs.rmSync(old, { recursive: true, force: true });
  } else {
    if (fs.existsSync(dir)) fs.rmdirSync(dir); // empty, checked by checkNewStoreDir
    fs.renameSync(staging, dir);
    crashPoint(`after the staging directory is renamed into place: ${dir}`);
  }
}

/** A new store failed before it took its place: its staging directory goes, the error says why. */
export function abandonStaging(staging: string, dir: string, e: unknown): never {
  fs.rmSync(staging, { recursive: true, force: true });
  const code = (e as NodeJS.ErrnoException).code;
  if (code === "EACCES" || code === "EPERM" || code === "EROFS") throw inputError("cannot create the store (permission denied or read-only)", dir);
  if (code === "ENOTEMPTY" || code === "EEXIST") throw inputError("a store appeared here meanwhile (another mtlsctl?)", dir);
  throw e;
}

/** The staging directory name for a new store at `dir` (see placeStore, recoverInterruptedInit). */
export const stagingDirFor = (dir: string): string => path.join(path.dirname(dir), `.${path.basename(dir)}.init-${process.pid}-${crypto.randomBytes(4).toString("hex")}`);

// ---------------------------------------------------------------- issuance

export interface IssueRequest {
  /** "ca": a sub-CA (`ca init --intermediate`, `ca sign`), with `pathLen` and `nameConstraints`. */
  profile: Profile;
  pathLen?: number;
  nameConstraints?: NameConstraintsSpec;
  name: string;
  subjectDer: Buffer;
  spki: Buffer;
  /** The key of spki, when the caller has it (else read from spki). */
  publicKey?: crypto.KeyObject;
  sans: Sans;
  days?: number;
  /** Files to publish with the certificate (relative to the store). */
  extraFiles?: { rel: string; data: string | Buffer; mode: number }[];
  force?: boolean;
  keyType?: string;
  csrRel?: string | null;
  keyRel?: string | null;
  /**
   * Renewal: the serial of the name's current certificate, which this one replaces. It must still be
   * current and valid when the lock is held (implies force for that one certificate).
   */
  renews?: string;
  /**
   * NATS account and permissions of the user (`client issue --account/--allow-pub ...`; issue 10).
   * Undefined: keep the replaced certificate's (renew, --force); null: none.
   */
  account?: string | null;
  permissions?: UserPermissions | null;
  /** The latest notAfter, finer than days (the online CA's token lifetime and --max-lifetime; issue 17). */
  notAfterCap?: Date;
  /**
   * Runs holding the lock once the certificate is built, before anything is written (issue 17: the
   * service's mapping guard and token claim). A throw refuses the certificate: nothing is published.
   */
  beforeWrite?: (cert: ParsedCertificate, replaced: CertRecord | undefined) => void;
}

/**
 * The files that go with a leaf in the store (design.md's layout): its key, private/<name>.key
 * (mode 0600), and its request, reqs/<name>.csr, when there is one; as issue() takes them.
 */
export function leafFiles(name: string, o: { keyPem?: string; csrPem?: string }): Required<Pick<IssueRequest, "extraFiles" | "keyRel" | "csrRel">> {
  const keyRel = o.keyPem === undefined ? null : LAYOUT.keyRel(name);
  const csrRel = o.csrPem === undefined ? null : LAYOUT.csrRel(name);
  const extraFiles: NonNullable<IssueRequest["extraFiles"]> = [];
  if (keyRel) extraFiles.push({ rel: keyRel, data: o.keyPem!, mode: 0o600 });
  if (csrRel) extraFiles.push({ rel: csrRel, data: o.csrPem!, mode: 0o644 });
  return { extraFiles, keyRel, csrRel };
}

export interface Issued {
  record: CertRecord;
  cert: ParsedCertificate;
  certFile: string;
  keyFile: string | null;
  csrFile: string | null;
  /** Intermediate stores: the certificate followed by chain.pem (issued/<name>.fullchain.pem). */
  chainFile: string | null;
  /** The certificate this one replaced (renew or --force), as now recorded: superseded, or still revoked. */
  replaced: CertRecord | null;
}

/** The issuer that planIssuance() sees for a store's CA: its certificate and every CA above it. */
export function storeIssuer(store: Store, caCert: ParsedCertificate): PlanIssuer {
  return { cert: caCert, chain: issuingChain(store, caCert), file: store.caCertFile, urls: store.readHeader().urls };
}

/** A request checked and planned, ready for the lock: its plan and the chain published with it. */
interface Prepared {
  req: IssueRequest;
  plan: ReturnType<typeof planIssuance>;
  chainPem: string;
}

function prepare(store: Store, signer: Signer, caCert: ParsedCertificate, req: IssueRequest, warnings: string[]): Prepared {
  checkName(req.name);
  checkSignerMatches(signer, caCert.spki, store.caCertFile);
  const plan = planIssuance(
    { profile: req.profile, subjectDer: req.subjectDer, spki: req.spki, sans: req.sans, days: req.days, pathLen: req.pathLen, nameConstraints: req.nameConstraints },
    storeIssuer(store, caCert),
  );
  warnings.push(...plan.warnings);
  if (req.notAfterCap && plan.notAfter.getTime() > req.notAfterCap.getTime()) plan.notAfter = new Date(Math.floor(req.notAfterCap.getTime() / 1000) * 1000);
  if (req.notAfterCap && plan.notBefore.getTime() < caCert.notBefore.getTime()) plan.notBefore = caCert.notBefore; // the backdating never before the CA's
  const chainPem = req.profile === "ca" ? "" : store.presentedChain().map((c) => certificatePem(c.der)).join("");
  return { req, plan, chainPem };
}

/**
 * Signs and publishes a certificate under the store lock; the inventory is written last. The rules
 * (validity, subject/SAN, key type, name constraints, sub-CA path lengths) are planIssuance()'s,
 * the same as bulk issuance's; the serial is chosen under the lock.
 */
export function issue(store: Store, signer: Signer, caCert: ParsedCertificate, req: IssueRequest, warnings: string[]): Issued {
  const [r] = issueBatch(store, signer, caCert, [{ req, warnings }]);
  if (r instanceof Error) throw r;
  return r;
}

/**
 * issue() for several certificates of distinct names under one lock, as one group commit (the
 * online CA batches the requests that arrive together): the replaced certificates' files are kept
 * aside and that move committed (one segment for the batch), the new files are written and flushed
 * together, then one segment records them all (the commit point) and one audit append tells it.
 * Each item's answer is its Issued, or the error that refused it before anything of it was written
 * (its checks, its plan, the name's state under the lock, its beforeWrite hook); a failure while
 * publishing throws for the whole batch, which then has committed nothing.
 */
export function issueBatch(store: Store, signer: Signer, caCert: ParsedCertificate, items: { req: IssueRequest; warnings: string[] }[]): Array<Issued | Error> {
  if (new Set(items.map((it) => it.req.name)).size !== items.length) throw new Error("issueBatch: the names of a batch must be distinct");
  const results: Array<Issued | Error> = items.map(() => new Error("not issued"));
  const prepared: Array<Prepared | null> = items.map((it, i) => {
    try {
      return prepare(store, signer, caCert, it.req, it.warnings);
    } catch (e) {
      results[i] = e as Error;
      return null;
    }
  });
  if (prepared.every((p) => p === null)) return results;

  return store.withLock(() => {
    // 1. each certificate built and checked (nothing written yet): a refusal is that item's answer
    const serials = new Set<string>();
    const staged: { i: number; p: Prepared; certDer: Buffer; cert: ParsedCertificate; existing: CertRecord | undefined }[] = [];
    prepared.forEach((p, i) => {
      if (!p) return;
      const req = p.req;
      try {
        // one name's records and the serial index: nothing here reads the whole inventory (src/store/log.ts)
        const existing = store.currentOf(req.name);
        if (req.renews !== undefined) {
          if (!existing || existing.serial !== req.renews)
            throw inputError(`"${req.name}" changed while renewing (its current certificate is ${existing ? `serial ${existing.serial}` : "gone"}): run renew again`, store.inventoryFile);
          if (existing.status !== "valid") throw inputError(`"${req.name}" (serial ${existing.serial}) is ${existing.status}: it cannot be renewed`, store.inventoryFile);
        } else if (existing && !req.force) throw inputError(`"${req.name}" already exists (serial ${existing.serial}; use --force to replace it)`, store.path(existing.certFile));
        const certDer = buildCertificate(tbsOf(p.plan, chooseSerial((hex) => serials.has(hex) || store.serialTaken(hex))), signer);
        const cert = parseCertificate(certDer);
        req.beforeWrite?.(cert, existing);
        serials.add(cert.serialHex);
        staged.push({ i, p, certDer, cert, existing });
      } catch (e) {
        results[i] = e as Error;
      }
    });
    if (!staged.length) return results;

    // 2. renew or --force: the old certificate is kept, its file under renewed/, linked to the new one;
    // a valid one becomes superseded (still valid until it expires), a revoked one stays revoked.
    // Crash safety: the old files that the new ones will overwrite (certificate, request, key) are
    // first kept under renewed/<serial>.{crt,csr,key} (hard links) and that move committed, so a crash
    // before the final commit leaves the old certificates whole; the new files are then unlisted and
    // removed by the next command that takes the lock (Store.withLock).
    const aside: Array<{ from: string; to: string; mode: number }> = [];
    const moved: CertRecord[] = [];
    for (const { p, existing } of staged) {
      if (!existing) continue;
      const rewritten = new Set([store.certRel(p.req.name), ...(p.req.extraFiles ?? []).map((f) => f.rel)]);
      const moveAside = (rel: string | null, ext: string, mode: number): string | null => {
        if (!rel || (ext !== "crt" && !rewritten.has(rel))) return rel;
        const to = store.renewedRel(existing.serial, ext);
        if (!fs.existsSync(store.path(rel))) return ext === "crt" ? to : null;
        aside.push({ from: rel, to, mode });
        return to;
      };
      existing.certFile = moveAside(existing.certFile, "crt", 0o644)!;
      existing.csrFile = moveAside(existing.csrFile, "csr", 0o644);
      existing.keyFile = moveAside(existing.keyFile, "key", 0o600);
      if (existing.chainFile) existing.chainFile = null; // rewritten below; superseded certificates keep only their .crt
      moved.push(existing);
    }
    if (aside.length) store.keepAside(aside); // hard links: the old bytes stay where they are, under their new names too
    if (moved.length) store.commitRecords(moved);

    // 3. the new files, flushed together before the commit that names them
    const pending = new PendingFlush();
    const records: CertRecord[] = [];
    const events: Parameters<Store["audit"]>[0] = [];
    for (const { i, p, certDer, cert, existing } of staged) {
      const req = p.req;
      if (existing) {
        if (existing.status === "valid") existing.status = "superseded";
        existing.renewedBy = cert.serialHex;
      }
      const certRel = store.certRel(req.name);
      for (const f of req.extraFiles ?? []) store.write(f.rel, f.data, f.mode, pending);
      const chainRel = p.chainPem ? store.fullchainRel(req.name) : null;
      if (chainRel) store.write(chainRel, certificatePem(certDer) + p.chainPem, 0o644, pending);
      store.write(certRel, certificatePem(certDer), 0o644, pending);
      const rec = record(req.profile === "peer" ? "server" : req.profile, req.name, cert, req.keyType ?? describeKey(req.publicKey ?? publicKeyOf(req.spki)), { cert: certRel, key: req.keyRel ?? null, csr: req.csrRel ?? null }, {
        account: req.account !== undefined ? req.account : existing?.account,
        permissions: req.permissions !== undefined ? req.permissions : existing?.permissions,
        renews: existing?.serial,
        chainFile: chainRel,
      });
      rec.profile = req.profile === "ca" ? "sub-ca" : req.profile; // "peer": kind server, serverAuth + clientAuth; "sub-ca": a CA this one signed
      records.push(...(existing ? [existing, rec] : [rec]));
      events.push({ action: "issue", name: rec.name, serial: rec.serial, detail: { kind: rec.kind, profile: rec.profile, fingerprint: rec.fingerprint, ...(existing ? { replaces: existing.serial } : {}) } });
      results[i] = {
        record: rec,
        cert,
        certFile: store.path(certRel),
        keyFile: req.keyRel ? store.path(req.keyRel) : null,
        csrFile: req.csrRel ? store.path(req.csrRel) : null,
        chainFile: chainRel ? store.path(chainRel) : null,
        replaced: existing ?? null,
      };
    }
    pending.flush();
    // 4. the commit point: one segment with the replaced records and the new ones
    store.commitRecords(records);
    store.audit(events);
    return results;
  });
}

/** Options shared by CSR creation and issuance. */
export interface SubjectOptions {
  name: string;
  subject?: string;
  sans: Sans;
}

export function subjectFor(o: SubjectOptions, warnings: string[]): Buffer {
  return buildSubject(o.subject ?? `CN=${o.name}`, warnings).der;
}

/** `client csr`: a key and a CSR, on the client's machine (no store). */
export function makeCsr(o: SubjectOptions & { keyType: KeyType }, warnings: string[]): { key: crypto.KeyObject; keyPem: string; csrDer: Buffer; csrPem: string } {
  checkName(o.name);
  const sans = checkSans(o.sans, warnings);
  const subject = subjectFor(o, warnings);
  if (subject.length <= 2 && !hasSans(sans)) throw inputError("a request needs a subject or at least one SAN");
  const key = generateKey(o.keyType);
  const csrDer = buildCsr(key, subject, sans);
  return { key, keyPem: privateKeyPem(key), csrDer, csrPem: csrPem(csrDer) };
}

/**
 * `client sign`: what to take from a CSR. The subject bytes are kept unless overridden; SANs come
 * from the CSR unless any SAN flag is given; every other requested extension is ignored, with a warning.
 */
export function fromCsr(csr: ParsedCsr, o: { subject?: string; sans?: Sans }, warnings: string[]): { subjectDer: Buffer; sans: Sans } {
  for (const e of csr.extensions) {
    if (e.oid === OID.subjectAltName) continue;
    const name = EXTENSION_NAMES[e.oid] ?? e.oid;
    let detail = "";
    if (e.oid === OID.basicConstraints && e.value.includes(Buffer.from([0x01, 0x01, 0xff]))) detail = " (CA:TRUE)";
    if (e.oid === OID.extKeyUsage && e.value.toString("hex").includes("2b06010505070301")) detail = " (serverAuth)";
    warnings.push(`the request asks for ${name}${detail}: ignored, the client profile decides`);
  }
  if (csr.sans?.other) warnings.push(`the request has ${csr.sans.other} SAN(s) of other kinds: ignored`);
  let subjectDer: Buffer;
  if (o.subject !== undefined) subjectDer = buildSubject(o.subject, warnings).der;
  else {
    subjectDer = csr.subjectRaw;
    const goStr = goSubjectString(subjectDer);
    const rdns = decodeName(subjectDer);
    if (rdns.length && dnStageString(subjectDer) !== goStr)
      warnings.push(`the request's subject "${formatRfc4514(rdns)}" is seen differently by nats-server's DN stage and Go's subject string ("${goStr}"); pass --subject to re-encode it in canonical order`);
  }
  const overridden = o.sans && hasSans(o.sans);
  const sans = overridden ? checkSans(o.sans!, warnings) : csr.sans ? checkSans({ email: csr.sans.email, dns: csr.sans.dns, uri: csr.sans.uri, ip: csr.sans.ip }, warnings) : emptySans();
  return { subjectDer, sans };
}
