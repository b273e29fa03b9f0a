/**
 * A user's NATS account and permissions, as the store keeps them (issue 10): on the name's current
 * client certificate record or on its NKey record. `client issue/sign --account ...` and
 * `nkey create --account ...` set them at issue time; renew and issue --force keep them; `client set`
 * and `nkey set` change them later without reissuing (then regenerate `config nats`).
 */
import { inputError, usageError } from "../errors";
import type { CertRecord, NkeyRecord } from "../store/store";
import type { Store as StoreApi } from "../store/types";
import { checkAccountName, hasPermissionFlags, permissionsFromFlags, PermissionFlags, UserPermissions } from "../nats/permissions";

/** The CLI's options, as commander gives them (`--no-account` / `--no-permissions` give false). */
export interface AccessOptions extends PermissionFlags {
  account?: string | false;
  permissions?: boolean;
}

/** Account and permissions from issue-time flags: undefined where nothing is said (keep what a replaced record had). */
export function accessFromOptions(o: AccessOptions): { account?: string | null; permissions?: UserPermissions | null } {
  const out: { account?: string | null; permissions?: UserPermissions | null } = {};
  if (typeof o.account === "string") out.account = checkAccountName(o.account);
  else if (o.account === false) out.account = null;
  if (hasPermissionFlags(o)) out.permissions = permissionsFromFlags(o);
  else if (o.permissions === false) out.permissions = null;
  return out;
}

export interface AccessChange {
  name: string;
  kind: "client" | "nkey";
  before: { account: string | null; permissions: UserPermissions | null };
  after: { account: string | null; permissions: UserPermissions | null };
}

/**
 * `client set` / `nkey set`: sets or clears a name's account and/or permissions, through the Store
 * interface (issue 19): either store, one transaction (the file store: under its lock, the records'
 * segment or the header its commit point; a database: one SQL transaction).
 */
export async function setAccessInStore(store: StoreApi, name: string, kind: "client" | "nkey", o: AccessOptions): Promise<AccessChange> {
  const change = accessFromOptions(o);
  if (change.account === undefined && change.permissions === undefined)
    throw usageError("nothing to change: give --account NAME or --no-account, and/or --allow-pub/--deny-pub/--allow-sub/--deny-sub/--allow-responses or --no-permissions");
  if (o.permissions === false && hasPermissionFlags(o)) throw usageError("--no-permissions cannot be combined with permission flags");
  const where = store.location;
  return store.transaction(async (tx) => {
    const nkeys = (await tx.header()).nkeys ?? [];
    let rec: CertRecord | NkeyRecord | undefined;
    if (kind === "client") {
      rec = await tx.findByName(name);
      if (!rec || rec.kind !== "client") {
        const nk = nkeys.some((k) => k.name === name);
        throw inputError(`no client certificate named "${name}"${nk ? ` ("${name}" is an NKey: use nkey set)` : ""}`, where);
      }
    } else {
      rec = nkeys.find((k) => k.name === name);
      if (!rec) throw inputError(`no NKey named "${name}"${(await tx.findByName(name)) ? ` ("${name}" is a certificate: use client set)` : ""}`, where);
    }
    const before = { account: rec.account ?? null, permissions: rec.permissions ?? null };
    if (change.account !== undefined) {
      if (change.account === null) delete rec.account;
      else rec.account = change.account;
    }
    if (change.permissions !== undefined) {
      if (change.permissions === null) delete rec.permissions;
      else rec.permissions = change.permissions;
    }
    if (kind === "client") await tx.put([rec as CertRecord]);
    else await tx.putNkey(rec as NkeyRecord);
    return { name, kind, before, after: { account: rec.account ?? null, permissions: rec.permissions ?? null } };
  });
}
