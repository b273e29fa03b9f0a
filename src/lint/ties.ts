/**
 * Users among whom the DN stage picks at random (reference §2.3): the server walks its users in
 * Go's random map order and takes the first `Equal` user, else the first `RDNsMatch` user. Two
 * users tie when some certificate subject reaches both in the same tier.
 *
 *  - Equal tie: the two strings parse to equal DNs (`CN=a,O=b` and `cn=a, o=b`): every
 *    certificate with that subject gets one of them at random.
 *  - RDNsMatch tie: the same RDNs in different orders (`CN=a,OU=b,O=c` and `OU=b,CN=a,O=c`) and
 *    some other order of them that no user spells exactly (`O=c,OU=b,CN=a`): a certificate with
 *    that order gets one of them at random. With two RDNs both orders are spelled, so no tie.
 *  - Versions with the set-style RDNsMatch (before 2.11.15 / 2.12.6): a user that repeats an RDN
 *    also ties with users that share its RDNs.
 */
import { formatDn, rdnsMatchConsumesOnce, tryParseDn, type LdapDn } from "../nats/ldapdn";
import { canonicalDn } from "./dn";

export interface TieUser {
  user: string;
  bytes?: Buffer;
  /** Upper-cased allowed connection types; absent or empty = all. */
  allowed?: string[];
}

export interface Tie<U extends TieUser> {
  tier: "Equal" | "RDNsMatch";
  users: U[];
  /** A certificate subject (RFC 4514, as the DN stage reads it) that the users tie for. */
  example: string;
  /** Only with the set-style RDNsMatch. */
  setStyleOnly: boolean;
}

interface DnUser<U> {
  u: U;
  dn: LdapDn;
  keys: string[];
  equalKey: string;
  msKey: string;
  /** The distinct keys: made when the set-style tier asks (a Set per DN user was most of lint's memory; issue 9). */
  set(): Set<string>;
  hasDup: boolean;
}

const rdnKey = (rdn: LdapDn[number]) => JSON.stringify([rdn.length, [...new Set(rdn.map((a) => JSON.stringify([a.type, a.value])))].sort()]);

const ALL_TYPES = ["STANDARD", "WEBSOCKET", "MQTT", "MQTT_WS", "LEAFNODE", "LEAFNODE_WS"];
const typesOf = (u: TieUser) => new Set(u.allowed && u.allowed.length ? u.allowed : ALL_TYPES);
function intersects(a: TieUser, b: TieUser): boolean {
  const ta = typesOf(a);
  return [...typesOf(b)].some((t) => ta.has(t));
}

/** The members that share a connection type with at least one other member. */
function sharing<U extends TieUser>(members: U[]): U[] {
  return members.filter((m) => members.some((o) => o !== m && intersects(m, o)));
}

/** Whether the multiset of RDN keys has more distinct orderings than `covered`, and one such ordering. */
function uncoveredOrdering(keys: string[], covered: Set<string>): string[] | null {
  // count the distinct orderings, stopping as soon as they outnumber the covered ones
  const counts = new Map<string, number>();
  for (const k of keys) counts.set(k, (counts.get(k) ?? 0) + 1);
  let perms = 1;
  let n = 0;
  for (const c of counts.values())
    for (let i = 1; i <= c; i++) {
      n++;
      perms = (perms * n) / i;
      if (perms > covered.size + 1e6) break;
    }
  if (perms <= covered.size) return null;
  // walk the orderings in lexicographic order until one is not covered (at most covered.size + 1 steps)
  const a = [...keys].sort();
  for (;;) {
    if (!covered.has(JSON.stringify(a))) return a;
    let i = a.length - 2;
    while (i >= 0 && a[i] >= a[i + 1]) i--;
    if (i < 0) return null;
    let j = a.length - 1;
    while (a[j] <= a[i]) j--;
    [a[i], a[j]] = [a[j], a[i]];
    a.splice(i + 1, a.length - i - 1, ...a.slice(i + 1).reverse());
  }
}

/** A user's DN as the DN stage compares it, or null when no certificate can reach it. */
function dnOf(u: TieUser): LdapDn | null {
  if (!(u.bytes ? u.bytes.includes(0x3d) : u.user.includes("="))) return null; // no '=': ParseDN refuses it
  const raw = tryParseDn(u.bytes ?? u.user);
  return raw && canonicalDn(raw); // null: a type no certificate has, never in the DN stage
}

export function findTies<U extends TieUser>(users: U[], version: string): Tie<U>[] {
  // First pass, keeping little per user (issue 9: 100,000 users): how many users share each
  // multiset of RDNs (users tie only within one, except in the set-style tier), and for each RDN
  // the last user that has it (the examples are written with that user's spelling of the RDN).
  const setStyle = !rdnsMatchConsumesOnce(version);
  const msCount = new Map<string, number>();
  const lastWithKey = new Map<string, number>();
  let anyDup = false;
  users.forEach((u, i) => {
    const dn = dnOf(u);
    if (!dn) return;
    const keys = dn.map(rdnKey);
    for (const k of keys) {
      lastWithKey.delete(k);
      lastWithKey.set(k, i);
    }
    const ms = JSON.stringify([...keys].sort());
    msCount.set(ms, (msCount.get(ms) ?? 0) + 1);
    if (new Set(keys).size < keys.length) anyDup = true;
  });
  // Second pass: the users that can tie (all of them when the set-style tier has a user repeating an RDN)
  const parsed: DnUser<U>[] = [];
  for (const u of users) {
    const dn = dnOf(u);
    if (!dn) continue;
    const keys = dn.map(rdnKey);
    const msKey = JSON.stringify([...keys].sort());
    if (!(setStyle && anyDup) && msCount.get(msKey)! < 2) continue;
    parsed.push({ u, dn, keys, equalKey: JSON.stringify(keys), msKey, set: () => new Set(keys), hasDup: new Set(keys).size < keys.length });
  }
  const rdnOfKey = new Map<string, LdapDn[number]>();
  const rdnOf = (k: string): LdapDn[number] => {
    let r = rdnOfKey.get(k);
    if (!r) {
      const dn = dnOf(users[lastWithKey.get(k)!])!;
      for (const x of dn) if (rdnKey(x) === k) r = x; // the last one, as the first pass saw them
      rdnOfKey.set(k, r!);
    }
    return r!;
  };
  const ties: Tie<U>[] = [];
  const example = (keys: string[]) => formatDn(keys.map(rdnOf));

  // Equal ties
  const byEqual = new Map<string, DnUser<U>[]>();
  for (const p of parsed) {
    const g = byEqual.get(p.equalKey);
    if (g) g.push(p);
    else byEqual.set(p.equalKey, [p]);
  }
  for (const group of byEqual.values()) {
    const members = sharing(group.map((g) => g.u));
    if (members.length > 1) ties.push({ tier: "Equal", users: members, example: formatDn(group[0].dn), setStyleOnly: false });
  }

  // RDNsMatch ties among the same multiset of RDNs
  const byMs = new Map<string, DnUser<U>[]>();
  for (const p of parsed) {
    const g = byMs.get(p.msKey);
    if (g) g.push(p);
    else byMs.set(p.msKey, [p]);
  }
  const uncovered = new Map<string, string[] | null>();
  const uncoveredOf = (msKey: string, keys: string[]) => {
    if (!uncovered.has(msKey)) uncovered.set(msKey, uncoveredOrdering(keys, new Set((byMs.get(msKey) ?? []).map((g) => g.equalKey))));
    return uncovered.get(msKey)!;
  };
  for (const [ms, group] of byMs) {
    const distinct = new Set(group.map((g) => g.equalKey));
    if (group.length < 2 || distinct.size < 2) continue; // one spelling only: Equal or nothing
    const order = uncoveredOf(ms, group[0].keys);
    if (!order) continue;
    const members = sharing(group.map((g) => g.u));
    if (members.length > 1) ties.push({ tier: "RDNsMatch", users: members, example: example(order), setStyleOnly: false });
  }

  // Set-style RDNsMatch: a user repeating an RDN matches any certificate of its length containing its RDNs
  if (!rdnsMatchConsumesOnce(version)) {
    for (const d of parsed.filter((p) => p.hasDup)) {
      const n = d.keys.length;
      const others: U[] = [];
      let sample: string | null = null;
      for (const o of parsed) {
        if (o === d || o.keys.length !== n || !intersects(d.u, o.u)) continue;
        if (o.msKey === d.msKey) continue; // same multiset: the group logic above
        const dSet = d.set();
        const oSet = o.set();
        const union = new Set([...dSet, ...oSet]);
        if (union.size > n) continue;
        if (!o.hasDup && ![...dSet].every((k) => oSet.has(k))) continue;
        let order: string[] | null;
        if (union.size < n) {
          // fill with an RDN nobody has: no user equals that subject
          const filler = JSON.stringify([1, [JSON.stringify(["OU", "\u0000lint-filler"])]]);
          rdnOfKey.set(filler, [{ type: "OU", value: "anything else" }]);
          order = [...union, ...Array(n - union.size).fill(filler)];
        } else {
          const ms = JSON.stringify([...union].sort());
          order = uncoveredOf(ms, [...union]);
        }
        if (!order) continue;
        others.push(o.u);
        sample ??= example(order);
      }
      if (others.length) ties.push({ tier: "RDNsMatch", users: [d.u, ...others], example: sample!, setStyleOnly: true });
    }
  }
  return ties;
}
