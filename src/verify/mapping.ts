/**
 * The mapping stage of `verify_and_map` (reference §0, §2.2, §2.3): which configured user a
 * certificate becomes. Where the server picks at random (Go map iteration), every candidate of the
 * winning tier is returned and the result is marked ambiguous.
 */
import type { ParsedCertificate } from "../pki/cert";
import { dnStageDn, goDcString, goSubjectString, hasSubject } from "../nats/subject";
import { tryParseDn, dnEqual, rdnsMatch } from "../nats/ldapdn";
import { goX509UriString } from "../nats/gourl";
import { atLeast, ServerVersion } from "./versions";

export interface MapUser {
  user: string;
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

const allowedOn = (u: MapUser, connType: string) => !u.allowedConnectionTypes || u.allowedConnectionTypes.length === 0 || u.allowedConnectionTypes.includes(connType);

export function mapCertificate(cert: Pick<ParsedCertificate, "sans" | "subjectRaw">, users: MapUser[], version: ServerVersion, connType = "STANDARD"): MapResult {
  const { email, dns, uri } = cert.sans;
  const subj = hasSubject(cert.subjectRaw);
  if (!(email.length || subj || uri.length || (atLeast(version, "2.14.1") && dns.length)))
    return { candidates: [], matchedBy: null, reason: `User required in cert, none found${dns.length ? " (servers before 2.14.1 ignore DNS SANs in this check)" : ""}` };

  const byName = new Map<string, MapUser>();
  for (const u of users) byName.set(u.user, u);
  const exact = (s: string) => {
    const u = byName.get(s);
    return u && allowedOn(u, connType) ? u : undefined;
  };

  for (const e of email) {
    const u = exact(e);
    if (u) return { candidates: [u], matchedBy: "email", reason: `Using email found in cert for auth [${JSON.stringify(e)}]` };
  }
  for (const d of dns) {
    const u = exact(d);
    if (u) return { candidates: [u], matchedBy: "dns", reason: `Using SAN found in cert for auth [${JSON.stringify(d)}]` };
  }
  for (const raw of uri) {
    const s = goX509UriString(raw);
    if (s === null) continue; // the handshake already failed on such a certificate
    const u = exact(s);
    if (u) return { candidates: [u], matchedBy: "uri", reason: `Using URI found in cert for auth [${JSON.stringify(s)}]` };
  }

  const goStr = goSubjectString(cert.subjectRaw);
  const certDn = dnStageDn(cert.subjectRaw, true);
  if (certDn) {
    const parsed = users.filter((u) => allowedOn(u, connType)).map((u) => ({ u, dn: tryParseDn(u.user) })).filter((x) => x.dn !== null);
    const equal = parsed.filter((x) => dnEqual(x.dn!, certDn)).map((x) => x.u);
    if (equal.length) return { candidates: equal, matchedBy: "dn", reason: `Using DistinguishedNameMatch for auth [${JSON.stringify(equal.length === 1 ? equal[0].user : goStr)}]` };
    const reordered = parsed.filter((x) => rdnsMatch(x.dn!, certDn, version)).map((x) => x.u);
    if (reordered.length) return { candidates: reordered, matchedBy: "dn-reordered", reason: `Using DistinguishedNameMatch for auth [${JSON.stringify(reordered.length === 1 ? reordered[0].user : goStr)}] (RDNs in another order)` };
  }
  const dc = goDcString(cert.subjectRaw);
  if (dc !== null) {
    const u = exact(dc);
    if (u) return { candidates: [u], matchedBy: "subject-dc", reason: `Using RDNSequence for auth [${JSON.stringify(dc)}]` };
  }
  const u = exact(goStr);
  if (u) return { candidates: [u], matchedBy: "subject", reason: `Using certificate subject for auth [${JSON.stringify(goStr)}]` };
  return { candidates: [], matchedBy: null, reason: `User in cert [${JSON.stringify(goStr)}], not found` };
}
