/**
 * The store seam (issue 16 §3): what the rest of mtlsctl needs from wherever the inventory lives.
 * The file store (src/store/store.ts, FileStore) is its first implementation; a PostgreSQL store
 * (issue 19) is the next. Everything here is Promise-based because node-postgres has no synchronous
 * API; the file store answers from synchronous file calls wrapped in promises.
 *
 * The record types are the inventory's (design.md "The store": the fields recorded per certificate).
 */
import type { ParsedCertificate } from "../pki/cert";
import type { Sans } from "../pki/san";
import type { UserPermissions } from "../model/permissions";

/**
 * Where the CA key lives (issue 19): a key file (PKCS#8 PEM, the file store's private/ca.key; a database
 * store's encrypted column), or a PKCS#11 token named by an RFC 7512 URI that carries no PIN
 * (pin-value is never stored; pin-source=file:… may be). The file store keeps the URI in
 * private/ca.pkcs11 and then writes no key file.
 */
export type CaKeyLocation = { kind: "file"; file?: string } | { kind: "pkcs11"; uri: string };

export type CertKind = "ca" | "client" | "server";
export type CertStatus = "valid" | "revoked" | "superseded";

export interface CertRecord {
  name: string;
  kind: CertKind;
  serial: string; // lower-case hex
  subject: string; // RFC 4514
  sans: Sans;
  profile: string;
  keyType: string;
  notBefore: string; // ISO 8601
  notAfter: string;
  status: CertStatus;
  revokedAt: string | null;
  revocationReason: string | null;
  fingerprint: string; // SHA-256 hex of the DER
  /** Paths relative to the store. */
  certFile: string;
  keyFile: string | null;
  csrFile: string | null;
  issuedAt: string;
  /** The serial of the certificate that replaced this one under the same name (renew, or issue --force). */
  renewedBy?: string | null;
  /** The serial of the certificate this one replaced. */
  renews?: string | null;
  /** The NATS account of its user (`config nats` lists it in accounts { NAME { users } }); absent: the global users list. */
  account?: string;
  /** The NATS permissions of its user (src/nats/permissions.ts); absent: `config nats`' defaults. */
  permissions?: UserPermissions;
  /** Intermediate stores (issue 10): issued/<name>.fullchain.pem, the certificate then chain.pem (a cert_file to present). */
  chainFile?: string | null;
  /** The CA (serial) that signed it when that is no longer the store's CA (stamped by `ca rollover`); absent: inv.ca. */
  caSerial?: string;
}

/** A CA replaced by `ca rollover`: trusted beside the new one (roots.pem) until `ca retire`. */
export interface PreviousCa extends CertRecord {
  /** overlap: still in roots.pem; retired: removed from it (its certificates are refused). */
  caStatus: "overlap" | "retired";
  replacedAt: string;
  replacedBy: string;
  retiredAt: string | null;
}

/** The latest CRL the store signed (`revoke`, `crl`). */
export interface CrlState {
  /** The CRL number of the latest CRL (monotonic; the next CRL gets number + 1). */
  number: number;
  thisUpdate: string; // ISO 8601
  nextUpdate: string;
}

/** An NKey user pair: the seed is in nkeys/<name>.nk (mode 0600), never in the inventory. */
export interface NkeyRecord {
  name: string;
  /** The user public key (U...): the string nats-server lists as `{ nkey: "U..." }`. */
  publicKey: string;
  createdAt: string; // ISO 8601
  /** The seed file, relative to the store. */
  seedFile: string;
  /** As CertRecord's: the user's NATS account and permissions. */
  account?: string;
  permissions?: UserPermissions;
}

/**
 * The whole inventory as one value (what the commands that look at everything use: list, status,
 * config nats, crl, rollover). The file store keeps it as a header plus a record log (store/log.ts);
 * `version` is the in-memory model's, not the file's.
 */
export interface Inventory {
  version: 1;
  ca: CertRecord;
  certificates: CertRecord[];
  /** Absent until the first CRL. */
  crl?: CrlState;
  /** NKey users (`nkey create`); absent until the first. Names share the certificates' name space. */
  nkeys?: NkeyRecord[];
  /** CAs replaced by `ca rollover` (previous/<serial>.crt, private/previous-<serial>.key); absent until the first. */
  previousCas?: PreviousCa[];
  /** `ca set --ocsp-url/--crl-url`: every later leaf carries them (AIA id-ad-ocsp, CRL distribution point); absent: none. */
  urls?: { ocsp?: string; crl?: string };
}

/** The inventory without its certificates: small, read in O(1) (the CA, CRL state, NKeys, previous CAs). */
export type InventoryHeader = Omit<Inventory, "certificates">;

/** Filters of Store.list (all optional; AND-ed). */
export interface RecordFilter {
  status?: CertStatus | CertStatus[];
  kind?: CertKind | CertKind[];
  name?: string;
  /** Valid certificates whose notAfter is within this many days of `now` (or already past). */
  expiringDays?: number;
  /** Only each name's current record (what findByName answers), not the history. */
  currentOnly?: boolean;
  now?: Date;
}

/**
 * An audit event: one line of the file store's audit.log (JSON Lines), one row of a database's audit
 * table. Never a secret in it (no key, passphrase, token or seed: serials, names and fingerprints only).
 */
export interface AuditEvent {
  /** ISO 8601; set by the store when absent. */
  at?: string;
  /** What happened: "issue", "bulk-issue", "revoke", "crl", ... */
  action: string;
  name?: string;
  serial?: string;
  /** Anything else worth keeping: plain values only. */
  detail?: Record<string, string | number | boolean | null | string[]>;
}

// ---- tokens (issue 17: `token create`, EST simpleenroll) -------------------------------------------
/** A one-time enrolment token: only its SHA-256 hash is stored (src/store/tokens.ts). */
export interface TokenRecord {
  /** Short random hex: `token list` shows it, `token revoke` takes it beside the name. */
  id: string;
  /** The certificate's name in the store, and the EST (HTTP Basic) username. */
  name: string;
  /** SHA-256 hex of the token. */
  hash: string;
  kind: "client" | "server";
  /** RFC 4514; the certificate's subject (CN=<name> when the token was made without --subject). */
  subject: string;
  sans: Sans;
  /** The certificate's lifetime in seconds (null: the CA's default for the kind). */
  lifetimeSeconds: number | null;
  /** The NATS user the certificate must map to (the service checks it with --nats-config). */
  expectUser: string | null;
  createdAt: string; // ISO 8601
  expiresAt: string;
  revokedAt: string | null;
  /** Set by the enrolment that spent it: the serial issued and the SHA-256 hex of the CSR key's SPKI. */
  claim: { serial: string; spkiSha256: string; at: string } | null;
}
// ---- end of tokens ----------------------------------------------------------------------------------

/**
 * A certificate's bytes (issue 19): what the file store keeps as issued/<name>.crt (certPem),
 * issued/<name>.fullchain.pem (chainPem: the certificate then chain.pem, intermediate stores) and
 * reqs/<name>.csr (csrPem), and a database store in the certificate's row. Never a private key: leaf
 * keys are files beside the store (the file store's private/, or --out-dir), never in a database.
 */
export interface Artifacts {
  certPem: string;
  chainPem?: string;
  csrPem?: string;
}

/**
 * The CA's private key as a store holds it (issue 19): an encrypted (or, with --no-encrypt, plain)
 * PKCS#8 PEM — the file store's private/ca.key, a database's ca row — or an RFC 7512 PKCS#11 URI when
 * the key lives in a token (the Signer loads it; the key is then in no file and no row).
 */
export type CaKeyRef = { pem: string; pkcs11Uri?: undefined } | { pkcs11Uri: string; pem?: undefined };

/**
 * What a transaction can do: consistent reads, then updates that become visible together when the
 * function returns (the file store: under its lock, committed by one rename; a database: one SQL
 * transaction). A thrown error discards the updates.
 */
export interface StoreTransaction {
  header(): Promise<InventoryHeader>;
  /** The name's current record (newest, not replaced; it may be revoked). */
  findByName(name: string): Promise<CertRecord | undefined>;
  /** Every record of the name, oldest first. */
  history(name: string): Promise<CertRecord[]>;
  findBySerial(serial: string): Promise<CertRecord | undefined>;
  /**
   * A serial that no record of this store has, and that no other reservation returned: random,
   * positive, `bytes` bytes (default 16, at least 8: >= 64 bits of entropy), as DER wants it (no
   * leading 0x00 but when the top bit is set). A reservation that is never used stays taken.
   */
  reserveSerial(bytes?: number): Promise<Buffer>;
  /** Inserts records, or replaces those whose serial exists (renew, --force, revoke, client set). */
  put(records: CertRecord[]): Promise<void>;
  /** Marks a certificate revoked (at, reason) and returns the record as now stored. */
  revoke(serial: string, at: Date, reason: string | null): Promise<CertRecord>;
  /** Marks `oldSerial` replaced by `newSerial` (superseded when it was valid). */
  supersede(oldSerial: string, newSerial: string): Promise<CertRecord>;
  /** The next CRL number: greater than every number it returned before (gaps allowed). */
  nextCrlNumber(): Promise<number>;
  /** Records the CRL just signed (its number, thisUpdate, nextUpdate), and its PEM when given (the file store: crl.pem, written after the inventory; a database: the crl_state row). */
  setCrl(state: CrlState, pem?: string): Promise<void>;
  putNkey(rec: NkeyRecord): Promise<void>;
  /** Replaces the URLs every later leaf carries (`ca set`; {} for none). */
  setUrls(urls: { ocsp?: string; crl?: string }): Promise<void>;
  /**
   * Stores the bytes of the certificate `serial` (whose record this transaction put, or the store has),
   * committed with the records: the file store writes them (atomically, before the inventory, its
   * commit point) to the record's certFile, chainFile and csrFile; a database into the row.
   */
  putArtifacts(serial: string, artifacts: Artifacts): Promise<void>;
  /** Appended when the transaction commits, in the same commit where the store can. */
  audit(event: AuditEvent): Promise<void>;
  // tokens (issue 17)
  /** Adds or replaces (by id) a token. */
  putToken(rec: TokenRecord): Promise<void>;
  /** A token by id, else the newest of that name. */
  findToken(nameOrId: string): Promise<TokenRecord | undefined>;
  /** Records that the token was spent on `serial` for the key whose SPKI hashes to `spkiSha256` (committed with the certificate's record). */
  claimToken(id: string, serial: string, spkiSha256: string): Promise<TokenRecord>;
}

export interface Store {
  /** Where it is: the file store's directory, a database URL without its password. */
  readonly location: string;
  /** The CA's certificate, the chain a leaf presents after itself, and the trust anchors (roots). */
  caCertificate(): Promise<ParsedCertificate>;
  presentedChain(): Promise<ParsedCertificate[]>;
  trustAnchors(): Promise<ParsedCertificate[]>;
  header(): Promise<InventoryHeader>;
  findByName(name: string): Promise<CertRecord | undefined>;
  history(name: string): Promise<CertRecord[]>;
  findBySerial(serial: string): Promise<CertRecord | undefined>;
  /** Records in inventory order (the order `list` prints), filtered. */
  list(filter?: RecordFilter): Promise<CertRecord[]>;
  nkeys(): Promise<NkeyRecord[]>;
  previousCas(): Promise<PreviousCa[]>;
  /** The exclusive section: one writer at a time (the file store waits up to 30 s for its lock). */
  transaction<T>(fn: (tx: StoreTransaction) => Promise<T>): Promise<T>;
  /** Audit events, oldest first (for `audit` views and tests). */
  auditEvents(): Promise<AuditEvent[]>;
  /** The certificate's PEM (issued/<name>.crt, or the row's), undefined when the store has no bytes for it. */
  certificatePem(serial: string): Promise<string | undefined>;
  /** Optional: many certificates' PEMs at once (serial -> PEM; absent ones left out), for views over many rows (a database: one query per batch). */
  certificatePems?(serials: string[]): Promise<Map<string, string>>;
  /** All of its bytes (see Artifacts), undefined as certificatePem. */
  artifacts(serial: string): Promise<Artifacts | undefined>;
  /** Releases what the store holds open (a database's connections); the file store holds nothing. */
  close(): Promise<void>;
  /** Every token (tokens, issue 17), oldest first. */
  tokens(): Promise<TokenRecord[]>;
  /** The tokens of one name, oldest first (what an enrolment looks up; a database answers from its index). */
  tokensNamed(name: string): Promise<TokenRecord[]>;
  /** The latest CRL's PEM (the file store's crl.pem), undefined before the first. */
  crlPem(): Promise<string | undefined>;
  /** The CA's key (see CaKeyRef): what a signer loads; the file store reads private/ca.key. */
  caKey(): Promise<CaKeyRef>;
  /** The certificate of a CA replaced by `ca rollover` (the file store's previous/<serial>.crt), undefined when the store has none of that serial. */
  previousCaPem(serial: string): Promise<string | undefined>;
  /**
   * Where this store keeps a leaf's private key: the file store's private/<name>.key (absolute), or why
   * it has none (the certificate was signed from a request; a database never keeps a leaf key).
   */
  leafKey(rec: CertRecord): { file: string } | { why: string };
}
