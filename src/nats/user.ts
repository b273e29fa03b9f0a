/**
 * The user string nats-server will compare for a certificate under `verify_and_map`
 * (reference §0: email SANs, then DNS SANs, then URI SANs, then the subject).
 */
import type { ParsedCertificate } from "../pki/cert";
import { certSubjectViews, subjectViews } from "./subject";
import { goUriHostHasLeadingDot, goX509UriString } from "./gourl";

export type MapMode = "auto" | "email" | "dns" | "uri" | "dn";
export const MAP_MODES: MapMode[] = ["auto", "email", "dns", "uri", "dn"];

export interface NatsUser {
  user: string | null;
  kind: "email" | "dns" | "uri" | "dn" | "subject" | null;
  /** Why there is no user, or what may surprise the operator. */
  notes: string[];
}

/** The URI as nats-server compares it: Go's url.Parse + String() (null when Go refuses it). */
export function goUriString(u: string): string | null {
  return goX509UriString(u);
}

/** The subject user string: the DN-stage form when the DN stage can run, else Go's string. */
export function subjectUser(subjectRaw: Buffer): { user: string; kind: "dn" | "subject" } | null {
  const views = subjectViews(subjectRaw);
  const s = views.dnStageString;
  const goStr = views.goSubjectString;
  if (s) {
    // When Go's string says the same, prefer it: then every tier of the server agrees.
    return { user: s === goStr ? goStr : s, kind: "dn" };
  }
  if (goStr) return { user: goStr, kind: "subject" };
  const dc = views.goDcString;
  if (dc) return { user: dc, kind: "subject" };
  return null;
}

export function natsUserFor(cert: Pick<ParsedCertificate, "sans" | "subjectRaw">, mode: MapMode = "auto"): NatsUser {
  const notes: string[] = [];
  const { email, dns, uri, ip } = cert.sans;
  const subj = certSubjectViews(cert).hasSubject;
  const dnsOnlyGuard = dns.length > 0 && email.length === 0 && uri.length === 0 && !subj;
  if (dnsOnlyGuard) notes.push("the certificate has only DNS SANs and an empty subject: nats-server before 2.14.1 (and 2.12.9) refuses it (\"User required in cert, none found\")");
  if (ip.length && !email.length && !dns.length && !uri.length) notes.push("IP SANs are never used by nats-server for mapping");
  for (const u of uri)
    if (goUriHostHasLeadingDot(u)) notes.push(`URI SAN "${u}": its host starts with ".": nats-server 2.9.10 (Go 1.19) accepts it, servers built with a later Go refuse the certificate`);
  const want = (k: MapMode) => mode === "auto" || mode === k;
  if (want("email") && email.length) return { user: email[0], kind: "email", notes };
  if (want("dns") && dns.length) return { user: dns[0], kind: "dns", notes };
  if (want("uri") && uri.length) {
    const u = goUriString(uri[0]);
    if (u !== null) return { user: u, kind: "uri", notes };
    notes.push(`URI SAN "${uri[0]}" is not a URL Go accepts: the handshake would fail`);
  }
  if (want("dn")) {
    const s = subjectUser(cert.subjectRaw);
    if (s) return { user: s.user, kind: s.kind, notes };
  }
  notes.push(mode === "auto" ? "the certificate has no email, DNS or URI SAN and an empty subject" : `the certificate has no ${mode === "dn" ? "subject" : mode.toUpperCase() + " SAN"} to map by`);
  return { user: null, kind: null, notes };
}
