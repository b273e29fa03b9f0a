/**
 * From a row of `client issue --from` to a checked request, with the same rules and messages as
 * `client issue <name>` (names, SANs, subjects, key types, days).
 */
import * as der from "../asn1/der";
import { OID } from "../asn1/oids";
import { checkDays, DEFAULT_LEAF_DAYS, subjectFor } from "../ca";
import { inputError } from "../errors";
import { KeyType, parseKeyType } from "../pki/keys";
import { decodeName, formatRfc4514 } from "../pki/name";
import { checkSans, ipBytes, ipString, Sans } from "../pki/san";
import { checkName } from "../store/store";
import type { RawRow } from "./input";
import { checkAccountName, permissionsFromFlags, UserPermissions } from "../nats/permissions";

export interface BulkRequest {
  line: number;
  name: string;
  subjectDer: Buffer;
  /** RFC 4514, as the inventory records it (read back from the DER, like the general path). */
  subject: string;
  /** Checked, IPs in the form the inventory records (read back from their bytes). */
  sans: Sans;
  keyType: KeyType;
  days: number;
  /** Whether days came from the row or --days (for the "outlives the CA" warning). */
  daysGiven: boolean;
  /** Where the days came from, as the planning step's warnings name it: "days" (the row's column) or "--days". */
  daysOption: "days" | "--days";
  /** The subject's CN values when the subject is the default CN=<name> (else undefined: read from the DER). */
  commonNames?: string[];
  /** The NATS account and permissions of the user (the row's, else --account / the permission flags). */
  account?: string;
  permissions?: UserPermissions;
}

export interface RowDefaults {
  keyType: KeyType;
  days?: number;
  account?: string;
  permissions?: UserPermissions;
}

const PERM_COLUMNS = { allowPub: "allow_pub", denyPub: "deny_pub", allowSub: "allow_sub", denySub: "deny_sub" } as const;

/** The row's name, checked. Throws an input error (no file) for a missing or bad name. */
export function nameOf(row: RawRow): string {
  const v = row.values.name;
  if (v === undefined) throw inputError("the row has no name");
  if (typeof v !== "string") throw inputError("the name must be a string");
  return checkName(v);
}

function daysOf(v: string | string[] | number | undefined, dflt: number | undefined): number | undefined {
  if (v === undefined) return dflt;
  const s = String(v).trim();
  const n = typeof v === "number" ? v : /^\d+$/.test(s) ? Number(s) : NaN;
  if (!Number.isInteger(n) || n < 1 || n > 36500) throw inputError(`days must be a whole number from 1 to 36500 (got ${typeof v === "number" ? v : JSON.stringify(s)})`);
  return n;
}

const list = (v: string | string[] | number | undefined): string[] => (v === undefined ? [] : Array.isArray(v) ? v : [String(v)]);

/** Checks the rest of the row; `warnings` gets what `client issue` would warn about. */
export function requestOf(row: RawRow, name: string, d: RowDefaults, warnings: string[]): BulkRequest {
  const v = row.values;
  const sans = checkSans({ email: list(v.email), dns: list(v.dns), uri: list(v.uri), ip: list(v.ip) }, warnings);
  sans.ip = sans.ip.map((a) => ipString(ipBytes(a)));
  if (v.subject !== undefined && typeof v.subject !== "string") throw inputError("the subject must be a string");
  let subjectDer: Buffer;
  let subject: string;
  let commonNames: string[] | undefined;
  if (v.subject === undefined && name.length <= 64) {
    // the default subject, CN=<name>: what subjectFor() builds, without parsing it back (names need no escapes)
    subjectDer = der.seq(der.setOf(der.seq(der.oid(OID.CN), der.stringOf(der.Tag.UTF8String, name))));
    subject = `CN=${name}`;
    commonNames = [name];
  } else {
    subjectDer = subjectFor({ name, subject: v.subject as string | undefined, sans }, warnings);
    subject = formatRfc4514(decodeName(subjectDer));
  }
  let keyType = d.keyType;
  if (v.key !== undefined) keyType = parseKeyType(String(v.key));
  const given = daysOf(v.days, d.days);
  const days = checkDays(given, DEFAULT_LEAF_DAYS);
  const req: BulkRequest = { line: row.line, name, subjectDer, subject, sans, keyType, days, daysGiven: given !== undefined, daysOption: v.days !== undefined ? "days" : "--days", commonNames };
  // the NATS user's account and permissions: the row's, else the defaults
  if (v.account !== undefined) {
    if (typeof v.account !== "string") throw inputError("the account must be a string");
    req.account = checkAccountName(v.account, "account");
  } else if (d.account !== undefined) req.account = d.account;
  if (v.allow_pub !== undefined || v.deny_pub !== undefined || v.allow_sub !== undefined || v.deny_sub !== undefined) {
    const p = permissionsFromFlags({ allowPub: list(v.allow_pub), denyPub: list(v.deny_pub), allowSub: list(v.allow_sub), denySub: list(v.deny_sub) }, PERM_COLUMNS);
    if (p) req.permissions = p;
  } else if (d.permissions) req.permissions = d.permissions;
  return req;
}

/** One input row's outcome in a bulk run. */
export type RowResult =
  | { status: "issued"; line: number; name: string; serial: string; certFile: string; keyFile: string }
  | { status: "skipped"; line: number; name: string; reason: string }
  | { status: "failed"; line: number; name: string | null; error: string };

export interface Progress {
  rows: number;
  issued: number;
  skipped: number;
  failed: number;
}
