/**
 * The PostgreSQL store's schema (issue 19), as versioned migrations: migration N takes a database at
 * schema version N-1 to N, in one transaction, under the store's advisory lock. `schema_version`
 * holds the one number; a database whose number is above SCHEMA_VERSION was made by a newer mtlsctl
 * and is refused (never written to), with a message saying so.
 *
 * Tables:
 *   certificates  one row per certificate: the fields `list --json` shows as columns (indexed by serial
 *                 (unique), name, status, not_after), the whole record as json (what the Store
 *                 interface returns; json, not jsonb, keeps the keys' order: the same JSON as the file store), and the certificate's PEM (cert_pem), its chain file (chain_pem)
 *                 and its CSR (csr_pem) when the store has them. seq is the inventory order (first
 *                 insertion). Never a private key.
 *   ca            one row: the CA's record, certificate, the chain a leaf presents after itself, the
 *                 trust anchors, and its key: encrypted PKCS#8 PEM (key_pem) or a PKCS#11 URI (key_uri);
 *                 from version 2 also the URLs every later leaf carries (`ca set`: urls, json, null for none).
 *   crl_state     one row: the latest CRL's number, thisUpdate, nextUpdate (and its PEM).
 *   nkeys         NKey users (their public keys; the seeds stay in files, never in the database).
 *   previous_cas  CAs replaced by `ca rollover`: record, certificate, key (encrypted) or URI.
 *   tokens        enrolment tokens (issue 17): their SHA-256 hashes, never a token; claimed_serial is set
 *                 in the same SQL transaction as the certificate's row (a refused request claims nothing).
 *   audit_events  the audit log, one row an event (never a secret).
 *   pending_ca    from version 3: at most one row, an intermediate CA waiting for its certificate (`ca init
 *                 --db --intermediate --csr-out`): its encrypted key and its request, until `ca install --db`
 *                 makes it the `ca` row (in the same transaction that removes this one).
 *   schema_version  one row: the schema's version (made by migrate() before migration 1).
 */
export const SCHEMA_VERSION = 3;

/** The SQL of migration N (index N-1). */
export const MIGRATIONS: string[] = [
  `
  CREATE TABLE certificates (
    seq bigserial PRIMARY KEY,
    serial text NOT NULL,
    name text NOT NULL,
    kind text NOT NULL CHECK (kind IN ('ca', 'client', 'server')),
    subject text NOT NULL,
    sans jsonb NOT NULL,
    profile text NOT NULL,
    key_type text NOT NULL,
    not_before timestamptz NOT NULL,
    not_after timestamptz NOT NULL,
    status text NOT NULL CHECK (status IN ('valid', 'revoked', 'superseded')),
    revoked_at timestamptz,
    revocation_reason text,
    fingerprint text NOT NULL,
    issued_at timestamptz NOT NULL,
    renewed_by text,
    record json NOT NULL,
    cert_pem text,
    chain_pem text,
    csr_pem text,
    CONSTRAINT certificates_serial_unique UNIQUE (serial)
  );
  CREATE INDEX certificates_name ON certificates (name, seq);
  CREATE INDEX certificates_status ON certificates (status);
  CREATE INDEX certificates_not_after ON certificates (not_after);
  CREATE TABLE ca (
    id int PRIMARY KEY CHECK (id = 1),
    record json NOT NULL,
    cert_pem text NOT NULL,
    chain_pem text,
    roots_pem text,
    key_pem text,
    key_uri text,
    CHECK ((key_pem IS NULL) <> (key_uri IS NULL))
  );
  CREATE TABLE crl_state (
    id int PRIMARY KEY CHECK (id = 1),
    number bigint NOT NULL,
    this_update text NOT NULL,
    next_update text NOT NULL,
    crl_pem text
  );
  CREATE TABLE nkeys (
    seq bigserial PRIMARY KEY,
    name text NOT NULL UNIQUE,
    record json NOT NULL
  );
  CREATE TABLE previous_cas (
    seq bigserial PRIMARY KEY,
    serial text NOT NULL UNIQUE,
    record json NOT NULL,
    cert_pem text NOT NULL,
    key_pem text,
    key_uri text
  );
  CREATE TABLE audit_events (
    id bigserial PRIMARY KEY,
    at timestamptz NOT NULL,
    action text NOT NULL,
    name text,
    serial text,
    event json NOT NULL
  );
  CREATE INDEX audit_events_serial ON audit_events (serial);
  CREATE TABLE tokens (
    seq bigserial PRIMARY KEY,
    id text NOT NULL UNIQUE,
    name text NOT NULL,
    hash text NOT NULL,
    claimed_serial text,
    record json NOT NULL
  );
  CREATE INDEX tokens_name ON tokens (name, seq);
  `,
  // 2: the CA's OCSP and CRL URLs (`ca set`; the file store's inventory header `urls`)
  `
  ALTER TABLE ca ADD COLUMN urls json;
  `,
  // 3: a pending intermediate CA (the file store's private/ca.key + reqs/ca.csr without an inventory)
  `
  CREATE TABLE pending_ca (
    id int PRIMARY KEY CHECK (id = 1),
    key_pem text NOT NULL,
    csr_pem text NOT NULL
  );
  `,
];
