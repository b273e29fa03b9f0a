/**
 * What `config nats` adds for NKeys and permissions:
 *  - the NKey users of the store (`{ nkey: "U..." }`), listed after the certificate users;
 *  - the config-wide default permissions (--allow-pub / --allow-sub / --deny-pub / --deny-sub),
 *    written for every listed user of either kind that has none of its own (src/nats/permissions.ts).
 * No nkeys.js here: the public keys come from the inventory (checked with the config reader's own
 * NKey check), so `config nats` does not load the NKey library.
 */
import { inputError } from "../errors";
import { isValidPublicNkey } from "../nats/conf/server-config";
import { quoteConfString } from "../nats/confstring";
import { checkStoredPermissions, permissionsFromFlags, PermissionFlags, UserPermissions } from "../nats/permissions";
import type { Inventory, NkeyRecord } from "../store/store";

export { isValidSubject, permissionsText } from "../nats/permissions";
export type { UserPermissions as Permissions } from "../nats/permissions";

/** Checks the config-wide --allow-pub / --allow-sub / --deny-pub / --deny-sub subjects (exit 3 on a bad one); null when none is given. */
export function permissionsFrom(f: PermissionFlags): UserPermissions | null {
  return permissionsFromFlags(f);
}

export interface NkeyUser {
  name: string;
  publicKey: string;
  createdAt: string;
  /** Its NATS account (accounts { NAME { users } }), or null for the global users list. */
  account: string | null;
  /** The permissions written for it: its own, else the config-wide default; null for none. */
  permissions: UserPermissions | null;
}

/** The store's NKey users to list, after --include / --exclude, in name order; `defaults` for those without their own permissions. */
export function nkeyUsersFor(inv: Inventory, o: { include?: string[]; exclude?: string[] }, file: string, defaults: UserPermissions | null = null): NkeyUser[] {
  const out: NkeyUser[] = [];
  for (const k of [...(inv.nkeys ?? [])].sort((a: NkeyRecord, b: NkeyRecord) => a.name.localeCompare(b.name))) {
    if (o.include?.length && !o.include.includes(k.name)) continue;
    if (o.exclude?.includes(k.name)) continue;
    if (!isValidPublicNkey(k.publicKey, 20 << 3)) throw inputError(`the NKey "${k.name}" has no valid user public key in the inventory`, file);
    const own = checkStoredPermissions(k.permissions, `the NKey "${k.name}"`, file);
    out.push({ name: k.name, publicKey: k.publicKey, createdAt: k.createdAt, account: typeof k.account === "string" ? k.account : null, permissions: own ?? defaults });
  }
  return out;
}

/** The users[] entry of an NKey user: its comment and `nkey: "U..."` (config-accounts.ts places it). */
export function nkeyUserEntry(u: NkeyUser): { name: string; comment: string; head: string; account: string | null; permissions: UserPermissions | null } {
  const c = (x: string) => x.replace(/[\u0000-\u001f\u007f]/g, "?");
  return {
    name: u.name,
    comment: `${c(u.name)}: NKey user, created ${c(u.createdAt)} (the client signs the server's nonce with the seed nkeys/${c(u.name)}.nk)`,
    head: `nkey: ${quoteConfString(u.publicKey, u.name)}`,
    account: u.account,
    permissions: u.permissions,
  };
}
