/**
 * What `config nats` adds for NKeys and permissions:
 *  - the NKey users of the store (`{ nkey: "U..." }`), listed after the certificate users;
 *  - per-user `permissions { publish { allow: [...] }, subscribe { allow: [...] } }` from
 *    --allow-pub / --allow-sub, applied to every listed user of either kind. Subjects are checked
 *    with the server's own rule (IsValidSubject, v2.9.10) and written with quoteConfString.
 * No nkeys.js here: the public keys come from the inventory (checked with the config reader's own
 * NKey check), so `config nats` does not load the NKey library.
 */
import { inputError } from "../errors";
import { isValidPublicNkey } from "../nats/conf/server-config";
import { quoteConfString } from "../nats/confstring";
import type { Inventory, NkeyRecord } from "../store/store";

/** The server's IsValidSubject (v2.9.10): non-empty tokens, `>` only last, no whitespace. */
export function isValidSubject(s: string): boolean {
  if (s === "") return false;
  let sawFwc = false;
  for (const t of s.split(".")) {
    if (t.length === 0 || sawFwc) return false;
    if (/[\t\n\f\r ]/.test(t)) return false;
    if (t === ">") sawFwc = true;
  }
  return true;
}

export interface Permissions {
  publish: string[];
  subscribe: string[];
}

/** Checks --allow-pub / --allow-sub subjects (exit 3 on a bad one); null when none is given. */
export function permissionsFrom(allowPub: string[] | undefined, allowSub: string[] | undefined): Permissions | null {
  const check = (flag: string, list: string[] | undefined) => {
    const out: string[] = [];
    for (const s of list ?? []) {
      if (/[\u0000-\u001f\u007f]/.test(s) || !isValidSubject(s))
        throw inputError(`${flag} "${s.replace(/[\u0000-\u001f\u007f]/g, "?")}" is not a valid NATS subject (dot-separated non-empty tokens, no spaces; * matches one token, > the rest and only at the end)`);
      quoteConfString(s, `${flag} "${s}"`);
      if (!out.includes(s)) out.push(s);
    }
    return out;
  };
  const p = { publish: check("--allow-pub", allowPub), subscribe: check("--allow-sub", allowSub) };
  return p.publish.length || p.subscribe.length ? p : null;
}

/** ` permissions: { publish: { allow: [...] }, subscribe: { allow: [...] } }` for a user entry, or "". */
export function permissionsText(p: Permissions | null): string {
  if (!p) return "";
  const list = (xs: string[]) => `[${xs.map((s) => quoteConfString(s, "subject")).join(", ")}]`;
  const parts: string[] = [];
  if (p.publish.length) parts.push(`publish: { allow: ${list(p.publish)} }`);
  if (p.subscribe.length) parts.push(`subscribe: { allow: ${list(p.subscribe)} }`);
  return `, permissions: { ${parts.join(", ")} }`;
}

export interface NkeyUser {
  name: string;
  publicKey: string;
  createdAt: string;
}

/** The store's NKey users to list, after --include / --exclude, in name order. */
export function nkeyUsersFor(inv: Inventory, o: { include?: string[]; exclude?: string[] }, file: string): NkeyUser[] {
  const out: NkeyUser[] = [];
  for (const k of [...(inv.nkeys ?? [])].sort((a: NkeyRecord, b: NkeyRecord) => a.name.localeCompare(b.name))) {
    if (o.include?.length && !o.include.includes(k.name)) continue;
    if (o.exclude?.includes(k.name)) continue;
    if (!isValidPublicNkey(k.publicKey, 20 << 3)) throw inputError(`the NKey "${k.name}" has no valid user public key in the inventory`, file);
    out.push({ name: k.name, publicKey: k.publicKey, createdAt: k.createdAt });
  }
  return out;
}

/** The users[] lines of the NKey users. */
export function nkeyUsersText(users: NkeyUser[], perms: Permissions | null): string {
  const c = (x: string) => x.replace(/[\u0000-\u001f\u007f]/g, "?");
  return users
    .map((u) => `    # ${c(u.name)}: NKey user, created ${c(u.createdAt)} (the client signs the server's nonce with the seed nkeys/${c(u.name)}.nk)\n    { nkey: ${quoteConfString(u.publicKey, u.name)}${permissionsText(perms)} }`)
    .join("\n");
}
