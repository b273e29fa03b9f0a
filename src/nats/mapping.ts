/**
 * The mapping stage of `verify_and_map` (reference §0, §2.2, §2.3): which configured user a
 * certificate becomes. Where the server picks at random (Go map iteration), every candidate of the
 * winning tier is returned and the result is marked ambiguous.
 *
 * A model of the server like the rest of src/nats (it needs only the subject views, the DN library
 * and gourl), so that the config writer can check what it writes without importing the verifier;
 * src/verify/mapping.ts re-exports it.
 */
import type { ParsedCertificate } from "../pki/cert";
import { certSubjectViewsFor } from "./subject";
import { tryParseDn, goRunes, rdnsMatchConsumesOnce, type LdapDn } from "./ldapdn";
import { goX509UriString } from "./gourl";
import { dnsOnlyMapped, goToolchain, ServerVersion } from "./versions";

export interface MapUser {
  user: string;
  /**
   * The user string's exact bytes when they are not UTF-8 (a config `"\xE9"` escape); the server
   * compares bytes, so such a user differs from the text with U+FFFD shown in `user`.
   */
  userBytes?: Buffer;
  password?: string;
  account: string | null;
  allowedConnectionTypes?: string[];
}

export type MatchedBy = "email" | "dns" | "uri" | "dn" | "dn-reordered" | "subject-dc" | "subject";

export interface MapResult {
  /** The users of the winning tier (one unless ambiguous); empty when nothing matched. */
  candidates: MapUser[];
  matchedBy: MatchedBy | null;
  /** The server's log wording for what happened. */
  reason: string;
}

const ASCII = /^[\x00-\x7f]*$/;
/**
 * The bytes the server compares, one char per byte (certificate strings are UTF-8 text; SANs ASCII).
 * An ASCII string is already that text: no copy of it (and no Buffer) per user or look-up (issue 9).
 */
const byteKey = (s: string | Buffer) => (typeof s === "string" ? (ASCII.test(s) ? s : Buffer.from(s, "utf8").toString("latin1")) : s.toString("latin1"));

/**
 * Whether ParseDN can accept the name. Without an '=' it refuses every name except those of spaces
 * with at most a lone backslash at the end, which it reads as the empty DN (src/nats/ldapdn.ts);
 * the other names are not parsed (a refused parse costs an exception; issue 9).
 */
function mayParseAsDn(s: string | Buffer): boolean {
  if (typeof s === "string") return s.includes("=") || /^ *\\?$/.test(s);
  return s.includes(0x3d) || /^ *\\?$/.test(s.toString("latin1"));
}

const allowedOn = (u: MapUser, connType: string) => !u.allowedConnectionTypes || u.allowedConnectionTypes.length === 0 || u.allowedConnectionTypes.includes(connType);

/**
 * An attribute type folded the way Go's EqualFold relates it to the DN stage's ASCII type names:
 * ASCII letters fold to lower case, U+212A (Kelvin sign) to "k" and U+017F (long s) to "s". Any
 * other non-ASCII rune folds onto no ASCII letter, so such a type can never equal a certificate's
 * type: null.
 */
export function typeKey(type: string): string | null {
  let out = "";
  for (const r of goRunes(type)) {
    if (r < 0x80) out += String.fromCharCode(r >= 0x41 && r <= 0x5a ? r + 0x20 : r);
    else if (r === 0x212a) out += "k";
    else if (r === 0x17f) out += "s";
    else return null;
  }
  return out;
}

/** RDN equality is "same count, each side contains every attribute of the other": count + set of keys. */
function rdnKeys(dn: LdapDn): string[] | null {
  const keys: string[] = [];
  for (const rdn of dn) {
    const attrs = new Set<string>();
    for (const a of rdn) {
      const t = typeKey(a.type);
      if (t === null) return null;
      attrs.add(JSON.stringify([t, a.value]));
    }
    keys.push(JSON.stringify([rdn.length, [...attrs].sort()]));
  }
  return keys;
}

/** A table from key to user indices: one number for a key of one user (the common case), an array from the second. */
type Hits = Map<string, number | number[]>;
const push = (m: Hits, k: string, i: number) => {
  const l = m.get(k);
  if (l === undefined) m.set(k, i);
  else if (typeof l === "number") m.set(k, [l, i]);
  else l.push(i);
};
const hitsOf = (m: Hits, k: string): number[] => {
  const l = m.get(k);
  return l === undefined ? [] : typeof l === "number" ? [l] : l;
};

/**
 * The users table, indexed once per config so that each certificate costs hash look-ups: the
 * exact-string table the server keeps, plus keys for the DN stage's two tiers (the server scans
 * every user there; the index finds the same users without scanning). An RDN is known by a small
 * number (its key, as rdnKeys makes it, numbered in order of appearance), and a DN by its RDNs'
 * numbers: short keys, where the RDN keys written out took most of the index's memory (issue 9).
 */
export class UserIndex {
  readonly users: MapUser[];
  readonly version: ServerVersion;
  private readonly byName = new Map<string, number>();
  /** RDN key -> its number. */
  private readonly rdnIds = new Map<string, number>();
  private readonly equal: Hits = new Map();
  private readonly reordered: Hits = new Map();
  private readonly consumeOnce: boolean;

  constructor(users: MapUser[], version: ServerVersion) {
    this.users = users;
    this.version = version;
    this.consumeOnce = rdnsMatchConsumesOnce(version);
    users.forEach((u, i) => {
      const name = u.userBytes ?? u.user;
      this.byName.set(byteKey(name), i);
      if (!mayParseAsDn(name)) return;
      const dn = tryParseDn(name);
      if (!dn) return; // the server skips users whose name ParseDN refuses
      const keys = rdnKeys(dn);
      if (!keys) return; // a type that can never equal a certificate's
      const ids = keys.map((k) => {
        let id = this.rdnIds.get(k);
        if (id === undefined) this.rdnIds.set(k, (id = this.rdnIds.size));
        return id;
      });
      push(this.equal, ids.join(","), i);
      push(this.reordered, this.reorderedKey(ids.length, ids), i);
    });
  }

  /** Same count; consume-once: the same multiset of RDNs; set-style: the set of the user's RDNs. */
  private reorderedKey(count: number, ids: number[]): string {
    const sorted = (this.consumeOnce ? [...ids] : [...new Set(ids)]).sort((a, b) => a - b);
    return `${count}:${sorted.join(",")}`;
  }

  /**
   * The numbers of a certificate's RDNs; an RDN that no user has gets a negative number (the same
   * for equal RDNs), which is in no key of the tables. Null: a type that can never equal a user's.
   */
  private certIds(cert: LdapDn): number[] | null {
    const keys = rdnKeys(cert);
    if (!keys) return null;
    const unknown = new Map<string, number>();
    return keys.map((k) => {
      let id = this.rdnIds.get(k) ?? unknown.get(k);
      if (id === undefined) unknown.set(k, (id = -1 - unknown.size));
      return id;
    });
  }

  exact(name: string, connType: string): MapUser | undefined {
    const i = this.byName.get(byteKey(name));
    return i !== undefined && allowedOn(this.users[i], connType) ? this.users[i] : undefined;
  }

  /** Users whose DN equals the certificate's, in config order. */
  dnEqual(cert: LdapDn, connType: string): MapUser[] {
    const ids = this.certIds(cert);
    if (!ids || ids.some((id) => id < 0)) return [];
    return hitsOf(this.equal, ids.join(",")).map((i) => this.users[i]).filter((u) => allowedOn(u, connType));
  }

  /** Users whose RDNs match the certificate's in another order (RDNsMatch), in config order. */
  dnReordered(cert: LdapDn, connType: string): MapUser[] {
    const ids = this.certIds(cert);
    if (!ids) return [];
    let hits: number[];
    if (this.consumeOnce) hits = ids.some((id) => id < 0) ? [] : hitsOf(this.reordered, this.reorderedKey(ids.length, ids));
    else {
      // set-style: the user's RDN set is any non-empty subset of the certificate's, with the same count
      const uniq = [...new Set(ids)].sort((a, b) => a - b);
      hits = [];
      for (let mask = 1; mask < 1 << uniq.length; mask++) {
        const subset = uniq.filter((_, b) => mask & (1 << b));
        hits.push(...hitsOf(this.reordered, `${ids.length}:${subset.join(",")}`));
      }
      hits.sort((a, b) => a - b);
    }
    return hits.map((i) => this.users[i]).filter((u) => allowedOn(u, connType));
  }
}

/**
 * `exactOnly`: the leafnodes { authorization { users } } table with verify_and_map (2.9.10
 * isLeafNodeAuthorized): every tier compares the string exactly; the DN stage hands the callback an
 * empty string, so it matches only a leaf user whose name is empty.
 */
export function mapCertificate(cert: Pick<ParsedCertificate, "sans" | "subjectRaw">, usersOrIndex: MapUser[] | UserIndex, version: ServerVersion, connType = "STANDARD", exactOnly = false): MapResult {
  const index = usersOrIndex instanceof UserIndex && usersOrIndex.version === version ? usersOrIndex : new UserIndex(usersOrIndex instanceof UserIndex ? usersOrIndex.users : usersOrIndex, version);
  const { email, dns, uri } = cert.sans;
  const views = certSubjectViewsFor(cert, goToolchain(version) !== "go1.19");
  const subj = views.hasSubject;
  if (!(email.length || subj || uri.length || (dnsOnlyMapped(version) && dns.length)))
    return { candidates: [], matchedBy: null, reason: `User required in cert, none found${dns.length ? " (servers before 2.14.1, and 2.12.x before 2.12.9, ignore DNS SANs in this check)" : ""}` };

  for (const e of email) {
    const u = index.exact(e, connType);
    if (u) return { candidates: [u], matchedBy: "email", reason: `Using email found in cert for auth [${JSON.stringify(e)}]` };
  }
  for (const d of dns) {
    const u = index.exact(d, connType);
    if (u) return { candidates: [u], matchedBy: "dns", reason: `Using SAN found in cert for auth [${JSON.stringify(d)}]` };
  }
  for (const raw of uri) {
    const s = goX509UriString(raw);
    if (s === null) continue; // the handshake already failed on such a certificate
    const u = index.exact(s, connType);
    if (u) return { candidates: [u], matchedBy: "uri", reason: `Using URI found in cert for auth [${JSON.stringify(s)}]` };
  }

  const goStr = views.goSubjectString;
  const certDn = views.dnStageBytes;
  if (certDn && exactOnly) {
    const u = index.exact("", connType);
    if (u) return { candidates: [u], matchedBy: "dn", reason: `Using DistinguishedNameMatch for auth [""] (a leafnode user with an empty name matches any parsable subject)` };
  } else if (certDn) {
    const equal = index.dnEqual(certDn, connType);
    if (equal.length) return { candidates: equal, matchedBy: "dn", reason: `Using DistinguishedNameMatch for auth [${JSON.stringify(equal.length === 1 ? equal[0].user : goStr)}]` };
    const reordered = index.dnReordered(certDn, connType);
    if (reordered.length) return { candidates: reordered, matchedBy: "dn-reordered", reason: `Using DistinguishedNameMatch for auth [${JSON.stringify(reordered.length === 1 ? reordered[0].user : goStr)}] (RDNs in another order)` };
  }
  const dc = views.goDcString;
  if (dc !== null) {
    const u = index.exact(dc, connType);
    if (u) return { candidates: [u], matchedBy: "subject-dc", reason: `Using RDNSequence for auth [${JSON.stringify(dc)}]` };
  }
  const u = index.exact(goStr, connType);
  if (u) return { candidates: [u], matchedBy: "subject", reason: `Using certificate subject for auth [${JSON.stringify(goStr)}]` };
  return { candidates: [], matchedBy: null, reason: `User in cert [${JSON.stringify(goStr)}], not found` };
}
