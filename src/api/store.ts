/**
 * `openStore(dir)`: the CA and its inventory as a library object. Each method does what the
 * command of the same meaning does and returns the object that command prints with `--json`; the
 * CLI's commands call these (one code path). Secrets are options — a string, or a function the
 * library calls only once the request has passed every check that needs no secret (so a CLI can
 * prompt then) — and never come from a terminal or the environment here.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { createPublicKey, KeyObject } from "node:crypto";
import { writeFileAtomic } from "../store/atomic";
import { ExitCode, inputError, MtlsctlError, usageError } from "../errors";
import { buildSubject, fromCsr, initCa, issue, Issued, leafFiles, subjectFor } from "../ca";
import { initIntermediate } from "../hierarchy";
import { buildCsr, csrPem, ParsedCsr, readCsr } from "../pki/csr";
import { checkKeyFileMode, describeKey, generateKey, goAcceptsKey, KeyType, parseKeyType, privateKeyPem, spkiOf } from "../pki/keys";
import type { ParsedCertificate } from "../pki/cert";
import { checkSignerMatches, keySigner, Signer } from "../pki/signer";
import { pkcs11Signer } from "../pki/pkcs11";
import { parsePkcs11Uri } from "../pki/pkcs11-uri";
import { checkSans, hasSans, Sans, sansOf } from "../pki/san";
import { formatRfc4514 } from "../pki/name";
import { describeConstraints, NameConstraintsSpec, parseNameConstraints } from "../pki/constraints";
import { CertRecord, caOf, checkName, Store } from "../store/store";
import type { Inventory, NkeyRecord } from "../store/types";
import { natsUserFor, MapMode } from "../nats/user";
import { natsUserOfRecord, buildNatsConfig, NatsConfig, NatsConfigOptions } from "../config/config-writer";
import { accessFromOptions, AccessOptions } from "../config/access";
import { describePermissions, UserPermissions } from "../nats/permissions";
import { checkRevocation, revoke as revokeCerts } from "../lifecycle/revoke";
import { checkNextUpdateDays, writeCrl, type SignedCrl } from "../lifecycle/crl";

/** A secret: the value, or a function that supplies it when (and only when) it is needed. */
export type Secret = string | (() => string | Promise<string>);

const secretOf = async (s: Secret): Promise<string> => (typeof s === "function" ? await s() : s);

/** The CA, unlocked: its store, certificate, key, and the key behind the Signer seam (what everything signs with). */
export interface UnlockedCa {
  store: Store;
  caCert: ParsedCertificate;
  /** The CA key in this process; absent when it lives in a PKCS#11 token (then only `signer` signs). */
  caKey?: KeyObject;
  signer: Signer;
}

/**
 * Opens the store, refuses an existing name early (before the passphrase is asked for), checks the CA's
 * validity and key file, and unlocks the key with `passphrase` when it is encrypted.
 */
export async function unlockCa(dir: string, o: { passphrase?: Secret; force?: boolean; what?: string }, name?: string): Promise<UnlockedCa> {
  const store = Store.open(dir);
  if (name !== undefined) {
    checkName(name);
    const existing = store.currentOf(name); // the name's own records, not the whole inventory
    if (existing && !o.force) throw inputError(`"${name}" already exists (serial ${existing.serial}; use --force to replace it)`, store.path(existing.certFile));
    if ((store.readHeader().nkeys ?? []).some((k) => k.name === name)) throw inputError(`an NKey user is named "${name}": names are shared by certificates and NKeys`, store.inventoryFile);
  }
  const caCert = store.caCertificate();
  if (caCert.notAfter.getTime() <= Date.now()) throw inputError(`the ${o.what ?? "CA"} certificate expired on ${caCert.notAfter.toISOString()}`, store.caCertFile);
  const ref = store.caKeyRef();
  if (ref.kind === "pkcs11") {
    // the key stays in the token: a Signer over a session; the PIN from the URI's pin-source, else the passphrase option
    const uri = parsePkcs11Uri(ref.uri);
    let pin: string | undefined;
    if (uri.pinSource === undefined && uri.pinValue === undefined) {
      if (o.passphrase === undefined) throw new MtlsctlError(`the ${o.what ?? "CA"} key is in a PKCS#11 token whose URI names no pin-source: give the PIN`, { file: store.caPkcs11File, code: "passphrase" });
      pin = await secretOf(o.passphrase);
    }
    const signer = pkcs11Signer(uri, { pin });
    try {
      checkSignerMatches(signer, caCert.spki, store.caPkcs11File);
    } catch (e) {
      signer.close();
      throw e;
    }
    return { store, caCert, signer };
  }
  checkKeyFileMode(store.caKeyFile); // refused before any passphrase is asked for
  let passphrase: string | undefined;
  if (store.caKeyEncrypted()) {
    if (o.passphrase === undefined) throw new MtlsctlError(`the ${o.what ?? "CA"} key is encrypted: give the passphrase`, { file: store.caKeyFile, code: "passphrase" });
    passphrase = await secretOf(o.passphrase);
  }
  const caKey = store.caKey(passphrase, caCert);
  return { store, caCert, caKey, signer: keySigner(caKey) };
}

/** SANs as the API takes them: any of the four kinds, each a list. */
export interface SanOptions {
  email?: string[];
  dns?: string[];
  uri?: string[];
  ip?: string[];
}


/** What `client issue`, `client sign` and `server issue` print with --json. */
export interface IssuedJson {
  name: string;
  kind: CertRecord["kind"];
  serial: string;
  subject: string;
  sans: Sans;
  notBefore: string;
  notAfter: string;
  fingerprint: string;
  certFile: string;
  keyFile: string | null;
  csrFile: string | null;
  natsUser: string | null;
  /** What the server maps it by: "email", "dns", "uri", "dn" (null when it cannot be mapped). */
  natsUserBy: string | null;
  account?: string | null;
  permissions?: UserPermissions | null;
  warnings: string[];
}

/** What `crl --json` prints of a signed CRL, on either store (`file`: where it is kept). */
export function crlJson(crl: SignedCrl, file: string, format: "pem" | "der" | undefined, warnings: string[]) {
  const der = format === "der";
  return {
    number: crl.number,
    thisUpdate: crl.thisUpdate.toISOString(),
    nextUpdate: crl.nextUpdate.toISOString(),
    revoked: crl.entries.map((e) => ({ serial: e.serial, revokedAt: e.revokedAt.toISOString(), reason: e.reason })),
    file,
    out: null as string | null,
    format: der ? "der" : "pem",
    crl: der ? crl.der.toString("base64") : crl.pem,
    warnings,
  };
}

/** The JSON of an issuance; `warnings` are the issuance's, then the mapping's notes for a client. */
export function issuedJson(issued: Issued, warnings: string[]): IssuedJson {
  const rec = issued.record;
  const nats = rec.kind === "client" ? natsUserFor(issued.cert) : null;
  return {
    name: rec.name,
    kind: rec.kind,
    serial: rec.serial,
    subject: rec.subject,
    sans: rec.sans,
    notBefore: rec.notBefore,
    notAfter: rec.notAfter,
    fingerprint: rec.fingerprint,
    certFile: issued.certFile,
    keyFile: issued.keyFile,
    csrFile: issued.csrFile,
    natsUser: nats?.user ?? null,
    natsUserBy: nats?.user ? nats.kind : null,
    ...(rec.kind === "client" ? { account: rec.account ?? null, permissions: rec.permissions ?? null } : {}),
    warnings: [...warnings, ...(nats?.notes ?? [])],
  };
}

/** The human summary of an issuance (the CLI's text), from its JSON. */
export function issuedText(what: string, j: IssuedJson, bold: (s: string) => string = (s) => s): string {
  const rel = (f: string | null) => (f ? path.relative(process.cwd(), f) || f : null);
  return [
    `${what} ${bold(j.name)}: serial ${j.serial}, valid until ${j.notAfter}`,
    `  subject      ${j.subject || "(empty)"}`,
    `  certificate  ${rel(j.certFile)}`,
    ...(j.keyFile ? [`  key          ${rel(j.keyFile)}`] : []),
    ...(j.kind === "client" ? [`  NATS user    ${j.natsUser === null ? "(none: this certificate cannot be mapped)" : JSON.stringify(j.natsUser) + ` (by ${j.natsUserBy})`}`] : []),
    ...(j.account ? [`  account      ${j.account}`] : []),
    ...(j.permissions ? [`  permissions  ${describePermissions(j.permissions)}`] : []),
  ].join("\n");
}

export interface InitCaOptions {
  /** CN of the CA (default "mtlsctl CA"), or a whole RFC 4514 subject. */
  name?: string;
  subject?: string;
  keyType?: KeyType | string;
  days?: number;
  pathLen?: number;
  nameConstraints?: NameConstraintsSpec;
  /** The new CA key's passphrase; `null` writes it unencrypted (`--no-encrypt`). Required otherwise. */
  passphrase: Secret | null;
  force?: boolean;
  /** An intermediate CA signed by the root store in this directory (`ca init --intermediate --root-dir`). */
  root?: { dir: string; passphrase?: Secret };
  /**
   * `ca init --pkcs11 URI`: the key is generated in that PKCS#11 token and the store keeps only the URI
   * (private/ca.pkcs11); `passphrase` is then the token's PIN, asked for only when the URI gives none.
   */
  pkcs11?: string;
}

/**
 * `initCa` on a database store (src/api/db-init.ts), as on a directory but never `force` (it needs an empty
 * database): with `root` an intermediate signed now by the root store in that directory; with `pkcs11` the
 * database keeps only the token's URI.
 */
export type DbInitCaOptions = Omit<InitCaOptions, "force">;

export interface IssueOptions extends SanOptions, AccessOptions {
  /** RFC 4514; default CN=<name>. */
  subject?: string;
  keyType?: KeyType | string;
  days?: number;
  force?: boolean;
  /** The CA key's passphrase, when it is encrypted. */
  passphrase?: Secret;
  /**
   * `client issue --no-keep-key`: the new key is written to this file (0600, atomically; an existing one only
   * with `force`) and never kept in the store, which records no key file.
   */
  keyOut?: string;
}

export interface ServerIssueOptions extends Omit<IssueOptions, "email" | "uri" | keyof AccessOptions> {
  /** serverAuth + clientAuth, for cluster routes, gateways and leafnodes (`server issue --peer`). */
  peer?: boolean;
}

export interface SignOptions extends SanOptions, AccessOptions {
  /** The record's name (default: none — required for a CSR given as text). */
  name: string;
  /** Replace the CSR's subject (RFC 4514). */
  subject?: string;
  days?: number;
  force?: boolean;
  passphrase?: Secret;
  /** Names the CSR in errors (default "<csr>"). */
  file?: string;
}

export interface ListOptions {
  /** Only valid certificates expiring within this many days (NKeys, which do not expire, are left out). */
  expiringDays?: number;
}

export interface RevokeOptions {
  /** RFC 5280 reason name (default unspecified). */
  reason?: string;
  nextUpdateDays?: number;
  passphrase?: Secret;
}

export interface CrlOptions {
  nextUpdateDays?: number;
  passphrase?: Secret;
  /** "pem" (default) or "der": the form of `crl` in the result. */
  format?: "pem" | "der";
}

/** The store's operations, each returning the object its command prints with --json. */
export class CaStore {
  /** The store directory (absolute). */
  readonly dir: string;
  constructor(dir: string) {
    this.dir = path.resolve(dir);
  }

  /** Whether a CA exists here. */
  exists(): boolean {
    return Store.exists(this.dir);
  }

  /** The underlying store (inventory, files): for the CLI and advanced use. */
  store(): Store {
    return Store.open(this.dir);
  }

  /** `ca init`: creates the CA (a root, or with `root` an intermediate signed by that store). */
  async initCa(o: InitCaOptions) {
    const keyType = parseKeyType((o.keyType ?? "ec-p256") as string);
    if (Store.exists(this.dir) && !o.force) throw inputError("a CA already exists here (use --force to replace it)", path.join(this.dir, "ca.crt"));
    let root: { store: Store; cert: ParsedCertificate; signer: Signer } | undefined;
    if (o.root !== undefined) {
      const r = await unlockCa(path.resolve(o.root.dir), { passphrase: o.root.passphrase, what: "root CA" });
      root = { store: r.store, cert: r.caCert, signer: r.signer };
    }
    let pkcs11: { uri: string; pin?: string } | undefined;
    if (o.pkcs11 !== undefined) {
      if (root) throw usageError("--pkcs11 makes a root CA here: an intermediate's key in a token is not supported yet");
      const u = parsePkcs11Uri(o.pkcs11); // a malformed URI is refused before any PIN is asked for
      const pin = u.pinSource === undefined && u.pinValue === undefined ? (typeof o.passphrase === "string" || typeof o.passphrase === "function" ? await secretOf(o.passphrase) : undefined) : undefined;
      pkcs11 = { uri: o.pkcs11, ...(pin !== undefined ? { pin } : {}) };
    } else if (o.passphrase === undefined) throw usageError("initCa needs `passphrase` (a string or a function), or null for an unencrypted key");
    const passphrase = pkcs11 || o.passphrase === null || o.passphrase === undefined ? undefined : await secretOf(o.passphrase);
    const common = { dir: this.dir, keyType, name: o.name, subject: o.subject, days: o.days, pathLen: o.pathLen, nameConstraints: o.nameConstraints, passphrase, force: o.force, pkcs11 };
    let c: ParsedCertificate;
    let store: Store;
    let warnings: string[];
    let recorded: string | null = null;
    if (root) {
      const r = initIntermediate({ ...common, root });
      ({ warnings } = r);
      c = r.value.cert;
      store = r.value.store;
      recorded = r.value.issued.record.name;
    } else {
      const r = initCa(common);
      ({ warnings } = r);
      c = r.value.cert;
      store = r.value.store;
    }
    const nc = parseNameConstraints(c).nc;
    return {
      dir: this.dir,
      subject: formatRfc4514(c.subject),
      keyType,
      serial: c.serialHex,
      notBefore: c.notBefore.toISOString(),
      notAfter: c.notAfter.toISOString(),
      fingerprint: c.fingerprint,
      certFile: store.caCertFile,
      keyFile: pkcs11 ? null : store.caKeyFile,
      pkcs11: pkcs11 ? store.caKeyRef().kind === "pkcs11" && (store.caKeyRef() as { uri: string }).uri : null,
      pkcs11File: pkcs11 ? store.caPkcs11File : null,
      encrypted: passphrase !== undefined,
      intermediate: !!root,
      issuer: root ? formatRfc4514(root.cert.subject) : null,
      rootDir: root ? root.store.dir : null,
      recordedAs: recorded,
      chainFile: root ? store.chainFile : null,
      rootsFile: root ? store.rootsFile : null,
      pathLen: c.basicConstraints?.pathLen ?? null,
      nameConstraints: nc ? describeConstraints(nc) : null,
      warnings,
    };
  }

  /** `client issue`: a key, a request and a client certificate, kept in the store. */
  async issueClient(name: string, o: IssueOptions = {}): Promise<IssuedJson> {
    checkName(name);
    const keyType = parseKeyType((o.keyType ?? "ec-p256") as string);
    const warnings: string[] = [];
    const sans = checkSans(sansOf(o), warnings);
    const subjectDer = subjectFor({ name, subject: o.subject, sans }, warnings);
    const access = accessFromOptions(o); // account and permissions, checked before the passphrase
    const keyOut = o.keyOut === undefined ? undefined : path.resolve(o.keyOut);
    if (keyOut && !o.force && fs.existsSync(keyOut)) throw inputError("already exists (use --force to replace it)", keyOut);
    const ca = await unlockCa(this.dir, { passphrase: o.passphrase, force: o.force }, name);
    const key = generateKey(keyType);
    const csrDer = buildCsr(key, subjectDer, sans);
    if (keyOut) {
      const issuedNoKey = issue(
        ca.store,
        ca.signer,
        ca.caCert,
        { profile: "client", name, subjectDer, spki: spkiOf(key), publicKey: createPublicKey(key), sans, days: o.days, force: o.force, keyType, ...leafFiles(name, { csrPem: csrPem(csrDer) }), ...access },
        warnings,
      );
      writeFileAtomic(keyOut, privateKeyPem(key), { mode: 0o600 });
      return issuedJson({ ...issuedNoKey, keyFile: keyOut }, warnings);
    }
    const issued = issue(
      ca.store,
      ca.signer,
      ca.caCert,
      { profile: "client", name, subjectDer, spki: spkiOf(key), publicKey: createPublicKey(key), sans, days: o.days, force: o.force, keyType, ...leafFiles(name, { keyPem: privateKeyPem(key), csrPem: csrPem(csrDer) }), ...access },
      warnings,
    );
    return issuedJson(issued, warnings);
  }

  /** `server issue`: a serverAuth (or, with `peer`, serverAuth + clientAuth) certificate with DNS/IP SANs. */
  async issueServer(name: string, o: ServerIssueOptions = {}): Promise<IssuedJson> {
    const { keyType, warnings, sans, subjectDer } = checkServerRequest(name, o);
    const ca = await unlockCa(this.dir, { passphrase: o.passphrase, force: o.force }, name);
    const key = generateKey(keyType);
    const issued = issue(
      ca.store,
      ca.signer,
      ca.caCert,
      { profile: o.peer ? "peer" : "server", name, subjectDer, spki: spkiOf(key), publicKey: createPublicKey(key), sans, days: o.days, force: o.force, keyType, ...leafFiles(name, { keyPem: privateKeyPem(key) }) },
      warnings,
    );
    return issuedJson(issued, warnings);
  }

  /** `client sign`: a client certificate for a CSR (PEM or DER) made elsewhere; the key stays where it was made. */
  async signCsr(csr: string | Buffer | ParsedCsr, o: SignOptions): Promise<IssuedJson> {
    const parsed = typeof csr === "string" || Buffer.isBuffer(csr) ? readCsr(typeof csr === "string" ? Buffer.from(csr, "utf8") : csr, o.file ?? "<csr>") : csr;
    const { name, subjectDer, sans, access, warnings } = checkCsrRequest(parsed, o);
    const ca = await unlockCa(this.dir, { passphrase: o.passphrase, force: o.force }, name);
    const issued = issue(
      ca.store,
      ca.signer,
      ca.caCert,
      { profile: "client", name, subjectDer, spki: parsed.spki, publicKey: parsed.publicKey, sans, days: o.days, force: o.force, keyType: describeKey(parsed.publicKey), ...leafFiles(name, { csrPem: csrPem(parsed.der) }), ...access },
      warnings,
    );
    return issuedJson(issued, warnings);
  }

  /** `list --json`: every certificate (the CA first), then the NKey users. */
  async list(o: ListOptions = {}) {
    const store = Store.open(this.dir);
    return [...listEntries(store, o.expiringDays), ...nkeyEntries(store, o.expiringDays)];
  }

  /** `revoke`: a name (every valid certificate of it) or a serial; then a fresh CRL. */
  async revoke(nameOrSerial: string | { name?: string; serial?: string }, o: RevokeOptions = {}) {
    const store = Store.open(this.dir);
    // a string is a name when the store has one so called, else a serial when it is hex
    const isSerial = (s: string) => /^(0x)?[0-9a-fA-F:]+$/.test(s) && !store.findByName(store.readInventory(), s);
    const target = typeof nameOrSerial === "string" ? (isSerial(nameOrSerial) ? { serial: nameOrSerial } : { name: nameOrSerial }) : nameOrSerial;
    const opts = { reason: o.reason, nextUpdateDays: o.nextUpdateDays };
    checkRevocation(store, target, opts); // refused before the passphrase
    const ca = await unlockCa(this.dir, { passphrase: o.passphrase });
    const warnings: string[] = [];
    const r = revokeCerts(ca.store, ca.signer, ca.caCert, target, opts, warnings);
    return {
      revoked: r.revoked.map((c) => ({ name: c.name, kind: c.kind, serial: c.serial, revokedAt: c.revokedAt, reason: c.revocationReason, renewedBy: c.renewedBy ?? null })),
      reason: r.reason,
      crl: { file: r.crlFile, number: r.crl.number, thisUpdate: r.crl.thisUpdate.toISOString(), nextUpdate: r.crl.nextUpdate.toISOString(), revoked: r.crl.entries.length },
      warnings,
    };
  }

  /** `crl --json`: signs a fresh CRL (also <dir>/crl.pem) and returns it. */
  async crl(o: CrlOptions = {}) {
    checkNextUpdateDays(o.nextUpdateDays);
    const ca = await unlockCa(this.dir, { passphrase: o.passphrase });
    const warnings: string[] = [];
    const crl = writeCrl(ca.store, ca.signer, ca.caCert, { nextUpdateDays: o.nextUpdateDays }, warnings);
    return crlJson(crl, ca.store.crlFile, o.format, warnings);
  }

  /** `config nats`: the snippet's text (tls {}, authorization {}, accounts {}) for this store's users. */
  async natsConfig(o: NatsConfigApiOptions = {}): Promise<string> {
    return (await this.natsConfigDetailed(o)).text;
  }

  /** `config nats` with everything its --json prints (users, accounts, pins, notes, warnings). */
  async natsConfigDetailed(o: NatsConfigApiOptions = {}): Promise<NatsConfig> {
    return buildNatsConfig(Store.open(this.dir), { ...o, version: o.version ?? packageVersion() });
  }
}

/**
 * `client sign`'s checks of a request and the options, before any passphrase (both stores): a key Go
 * accepts, the flags' SANs and subject, the access options, then the request's own subject and SANs.
 */
/** `server issue`'s checks, in their order, before any passphrase (the file and the database store's). */
export function checkServerRequest(name: string, o: ServerIssueOptions) {
  checkName(name);
  const keyType = parseKeyType((o.keyType ?? "ec-p256") as string);
  if (o.subject !== undefined) buildSubject(o.subject, []);
  const warnings: string[] = [];
  const sans = checkSans({ email: [], uri: [], dns: o.dns ?? [], ip: o.ip ?? [] }, warnings);
  if (sans.dns.length + sans.ip.length === 0) throw usageError("a server certificate needs at least one --dns or --ip");
  const subjectDer = buildSubject(o.subject ?? `CN=${name}`, []).der;
  return { keyType, warnings, sans, subjectDer };
}

export function checkCsrRequest(parsed: ParsedCsr, o: SignOptions) {
  const file = o.file ?? "<csr>";
  // refused here, naming the file and before the passphrase (issue() checks it again)
  if (!goAcceptsKey(parsed.publicKey))
    throw inputError(`the request's ${describeKey(parsed.publicKey)} key cannot be used with nats-server (Go accepts RSA, ECDSA P-256/P-384/P-521 and Ed25519)`, file);
  if (o.name === undefined) throw usageError("signCsr needs `name`");
  const name = o.name;
  const warnings: string[] = [];
  // the options' own values first, so that an error left from fromCsr is about the request's contents and can name it
  const flagSans = checkSans(sansOf(o), warnings);
  if (o.subject !== undefined) buildSubject(o.subject, []);
  const access = accessFromOptions(o);
  let taken: ReturnType<typeof fromCsr>;
  try {
    taken = fromCsr(parsed, { subject: o.subject, sans: flagSans }, warnings);
  } catch (e) {
    if (e instanceof MtlsctlError && e.file === undefined && e.exitCode === ExitCode.INPUT) throw inputError(`the request's subject alternative names: ${e.message}`, file);
    throw e;
  }
  const { subjectDer, sans } = taken;
  if (subjectDer.length <= 2 && !hasSans(sans)) throw inputError("the request has an empty subject and no SAN (give --subject or a SAN flag)", file);
  return { name, subjectDer, sans, access, warnings };
}

export type NatsConfigApiOptions = Omit<NatsConfigOptions, "version"> & { version?: string; map?: MapMode };

let versionMemo: string | undefined;
/** This package's version (the snippet's header names it). */
export function packageVersion(): string {
  // a require, so that the CLI bundle inlines it (dist/api/ and the bundle's dist/ differ in depth)
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (versionMemo ??= require("../../package.json").version as string);
}

/** The rows of `list --json` for the certificates (the CA, previous CAs, then the issued ones). */
export function listEntries(store: Store, expiringDays?: number) {
  return listRows(store.readInventory(), (c) => natsUserOfRecord(store, c).user, expiringDays);
}

/**
 * listEntries over an inventory from any store (issue 19: a database's, src/api/db-store.ts);
 * `natsUserOf` answers for the valid client certificates (it reads the certificate's bytes).
 */
export function listRows(inv: Inventory, natsUserOf: (c: CertRecord) => string | null, expiringDays?: number) {
  const now = Date.now();
  const rows = [inv.ca, ...(inv.previousCas ?? []), ...inv.certificates].filter((c) => expiringDays === undefined || (c.status === "valid" && new Date(c.notAfter).getTime() - now <= expiringDays * 86_400_000));
  return rows.map((c: CertRecord) => ({
    name: c.name,
    kind: c.kind as string,
    serial: c.serial,
    subject: c.subject,
    sans: c.sans,
    notBefore: c.notBefore,
    notAfter: c.notAfter,
    daysLeft: Math.floor((new Date(c.notAfter).getTime() - now) / 86_400_000),
    status: c.status,
    fingerprint: c.fingerprint,
    keyType: c.keyType,
    natsUser: c.kind === "client" && c.status === "valid" ? natsUserOf(c) : null,
    revokedAt: c.revokedAt,
    revocationReason: c.revocationReason,
    renewedBy: c.renewedBy ?? null,
    renews: c.renews ?? null,
    // ca rollover: the CA that signed it, and whether the store still trusts that CA
    caSerial: caOf(inv, c).serial,
    caStatus: caOf(inv, c).status,
    // issue 10: "peer" (route/gateway/leafnode), "sub-ca"...; the NATS account and own permissions
    profile: c.profile,
    account: c.account ?? null,
    permissions: c.permissions ?? null,
  }));
}

/** The NKey users, as list rows of kind "nkey" (they do not expire, so --expiring leaves them out). */
export function nkeyEntries(store: Store, expiringDays?: number) {
  return nkeyRows(store.readInventory().nkeys ?? [], (rel) => store.path(rel), expiringDays);
}

/** nkeyEntries over any store's NKey records; `seedPath` places a seed file (a database store: relative, as recorded). */
export function nkeyRows(nkeys: NkeyRecord[], seedPath: (rel: string) => string, expiringDays?: number) {
  if (expiringDays !== undefined) return [];
  return nkeys.map((k) => ({
    name: k.name,
    kind: "nkey" as const,
    serial: null,
    subject: null,
    sans: null,
    notBefore: k.createdAt,
    notAfter: null,
    daysLeft: null,
    status: "valid" as const,
    fingerprint: null,
    keyType: "nkey-ed25519",
    natsUser: k.publicKey,
    publicKey: k.publicKey,
    seedFile: seedPath(k.seedFile),
    revokedAt: null,
    revocationReason: null,
    renewedBy: null,
    renews: null,
    profile: "nkey",
    account: k.account ?? null,
    permissions: k.permissions ?? null,
  }));
}

/**
 * The file store by its directory (the CLI's commands on --dir). The package's openStore
 * (src/api/pg-open.ts, what src/index.ts exports) also opens a `postgres://` URL as a database store;
 * this one, which cannot import the database code (it imports this module), refuses any URL
 * (code "unsupported"). The directory need not exist: `initCa` creates it.
 */
export function openStore(dirOrUrl: string): CaStore {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(dirOrUrl)) throw new MtlsctlError(`a file store is a directory, not a URL (${dirOrUrl.split("://")[0]}://): open a database store with the package's openStore`, { code: "unsupported" });
  return new CaStore(dirOrUrl);
}
