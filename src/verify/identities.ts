/**
 * The identities nats-server tries for a certificate, in its order (reference §2.2):
 * every email SAN, every DNS SAN, every URI SAN (as Go writes it back), then the subject:
 * the DN stage, the DC string, and Go's subject string.
 */
import type { ParsedCertificate } from "../pki/cert";
import { certSubjectViews } from "../nats/subject";
import { goUriString } from "../nats/user";
import { quoteConfString } from "../nats/confstring";
import { ServerVersion, atLeast } from "./versions";

export type IdentityKind = "email" | "dns" | "uri" | "dn" | "subject-dc" | "subject";

export interface Identity {
  kind: IdentityKind;
  /** The string the server compares (for "dn": a user string that parses to an Equal DN). */
  value: string;
  /** The users[] line that would match it. */
  configEntry: string | null;
  note?: string;
}

export interface IdentityReport {
  identities: Identity[];
  /** Set when the server refuses the certificate before trying any identity. */
  refused: string | null;
  notes: string[];
}

function entry(v: string): string | null {
  try {
    return `{ user: ${quoteConfString(v)} }`;
  } catch {
    return null;
  }
}

export function certIdentities(cert: Pick<ParsedCertificate, "sans" | "subjectRaw">, version: ServerVersion, uriString: (u: string) => string | null = goUriString): IdentityReport {
  const { email, dns, uri, ip } = cert.sans;
  const notes: string[] = [];
  const views = certSubjectViews(cert);
  const subj = views.hasSubject;
  const guardHasDns = atLeast(version, "2.14.1");
  if (!(email.length || uri.length || subj || (guardHasDns && dns.length))) {
    const why = dns.length
      ? `nats-server ${version} refuses it: "User required in cert, none found" (DNS SANs are ignored by this check before 2.14.1)`
      : `nats-server refuses it: "User required in cert, none found" (no email or URI SAN and an empty subject${ip.length ? "; IP SANs are never used" : ""})`;
    return { identities: [], refused: why, notes };
  }
  const ids: Identity[] = [];
  for (const e of email) ids.push({ kind: "email", value: e, configEntry: entry(e) });
  for (const d of dns) ids.push({ kind: "dns", value: d, configEntry: entry(d) });
  for (const u of uri) {
    const s = uriString(u);
    if (s === null) notes.push(`URI SAN "${u}" is not a URL Go can parse: the handshake fails`);
    else ids.push({ kind: "uri", value: s, configEntry: entry(s), ...(s !== u ? { note: `written in the certificate as "${u}"` } : {}) });
  }
  if (ip.length) notes.push(`IP SANs (${ip.join(", ")}) are never used for mapping`);
  const s = views.dnStageString;
  if (s) {
    ids.push({ kind: "dn", value: s, configEntry: entry(s), note: "the DN stage: any user string that parses to this DN (attribute types case-insensitive; exact order first, then any RDN order)" });
  } else if (subj) notes.push("the subject has an attribute outside the DN stage's ten types (CN, SERIALNUMBER, C, L, ST, STREET, O, OU, POSTALCODE, DC): the DN stage is skipped");
  const dc = views.goDcString;
  if (dc !== null) ids.push({ kind: "subject-dc", value: dc, configEntry: entry(dc), note: "Go's subject string with the DC values appended in DER order" });
  const goStr = views.goSubjectString;
  if (goStr) ids.push({ kind: "subject", value: goStr, configEntry: entry(goStr), note: "Go's subject string (exact match)" });
  return { identities: ids, refused: null, notes };
}
