/**
 * mtlsctl as a library: the same answers as the CLI's `--json`, from one code path.
 *
 *   const { verify, explain, lint, openStore } = require("mtlsctl");
 *
 * `openStore(dir)` is the file store; `openStore("postgres://USER@HOST/DB", { dbPassword })` a database
 * store (src/api/pg-open.ts; node-postgres is loaded only then). Nothing here prints, exits or
 * prompts. Errors are MtlsctlError with a stable `code` (see ErrorCode) and the `file` they concern.
 * Secrets (the CA passphrase, the database password) are options: the passphrase a string, or a
 * function called only once every other check has passed.
 */
export { verify, createVerifier, allowed } from "./api/verify";
export type { VerifyOptions, VerifierOptions, Verifier, VerifyResult, ConnectionType } from "./api/verify";
export { explain } from "./api/explain";
export type { ExplainOptions, ExplainResult } from "./api/explain";
export { lint } from "./api/lint";
export type { LintOptions, LintReport } from "./api/lint";
export { CaStore } from "./api/store";
export { openStore, DbCaStore } from "./api/pg-open";
export type { PostgresUrl, DbStoreOptions, OutDirOption, DbInitCaOptions, DbIssueOptions, DbServerIssueOptions, DbSignOptions, DbNatsConfigOptions } from "./api/pg-open";
export type { Secret, SanOptions, InitCaOptions, IssueOptions, ServerIssueOptions, SignOptions, ListOptions, RevokeOptions, CrlOptions, NatsConfigApiOptions, IssuedJson } from "./api/store";
export type { CertificateInput } from "./api/inputs";
export type { Finding } from "./lint/codes";
export type { AccessAnswer, UserPermissions } from "./nats/permissions";
export type { MapMode } from "./nats/user";
export type { KeyType } from "./pki/keys";
export { KEY_TYPES } from "./pki/keys";
export type { Store, StoreTransaction, CertRecord, NkeyRecord, InventoryHeader, RecordFilter, AuditEvent, CertKind, CertStatus } from "./store/types";
export { openFileStore } from "./store/file-api";
export type { Signer } from "./pki/signer";
export { keySigner } from "./pki/signer";
export { MtlsctlError, ExitCode } from "./errors";
export type { ErrorCode } from "./errors";
export { ConfigError } from "./nats/conf/parser";
