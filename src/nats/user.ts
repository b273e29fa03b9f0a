/**
 * The user string nats-server will compare for a certificate under `verify_and_map`
 * (reference §0: email SANs, then DNS SANs, then URI SANs, then the subject).
 */
import type { ParsedCertificate } from "../pki/cert";
import { dnStageDn, dnStageString, goSubjectString, goDcString, hasSubject } from "./subject";

export type MapMode = "auto" | "email" | "dns" | "uri" | "dn";
export const MAP_MODES: MapMode[] = ["auto", "email", "dns", "uri", "dn"];

export interface NatsUser {
  user: string | null;
  kind: "email" | "dns" | "uri" | "dn" | "subject" | null;
  /** Why there is no user, or what may surprise the operator. */
  notes: string[];
}

/**
 * Go's url.Parse + url.String() for the URIs mtlsctl accepts (checkUri refuses characters Go
 * would re-escape): the scheme is lower-cased and an empty fragment is dropped.
 */
export function goUriString(u: string): string {
  const m = u.match(/^([A-Za-z][A-Za-z0-9+.-]*):(.*)$/s);
  if (!m) return u;
  let rest = m[2];
  if (rest.endsWith("#")) rest = rest.slice(0, -1);
  return m[1].toLowerCase() + ":" + rest;
}

/** The subject user string: the DN-stage form when the DN stage can run, else Go's string. */
export function subjectUser(subjectRaw: Buffer): { user: string; kind: "dn" | "subject" } | null {
  const dn = dnStageDn(subjectRaw);
  const goStr = goSubjectString(subjectRaw);
  if (dn && dn.length > 0) {
    const s = dnStageString(dn);
    // When Go's string says the same, prefer it: then every tier of the server agrees.
    return { user: s === goStr ? goStr : s, kind: "dn" };
  }
  if (goStr) return { user: goStr, kind: "subject" };
  const dc = goDcString(subjectRaw);
  if (dc) return { user: dc, kind: "subject" };
  return null;
}

export function natsUserFor(cert: Pick<ParsedCertificate, "sans" | "subjectRaw">, mode: MapMode = "auto"): NatsUser {
  const notes: string[] = [];
  const { email, dns, uri, ip } = cert.sans;
  const subj = hasSubject(cert.subjectRaw);
  const dnsOnlyGuard = dns.length > 0 && email.length === 0 && uri.length === 0 && !subj;
  if (dnsOnlyGuard) notes.push("the certificate has only DNS SANs and an empty subject: nats-server before 2.14.1 refuses it (\"User required in cert, none found\")");
  if (ip.length && !email.length && !dns.length && !uri.length) notes.push("IP SANs are never used by nats-server for mapping");
  const want = (k: MapMode) => mode === "auto" || mode === k;
  if (want("email") && email.length) return { user: email[0], kind: "email", notes };
  if (want("dns") && dns.length) return { user: dns[0], kind: "dns", notes };
  if (want("uri") && uri.length) return { user: goUriString(uri[0]), kind: "uri", notes };
  if (want("dn")) {
    const s = subjectUser(cert.subjectRaw);
    if (s) return { user: s.user, kind: s.kind, notes };
  }
  notes.push(mode === "auto" ? "the certificate has no email, DNS or URI SAN and an empty subject" : `the certificate has no ${mode === "dn" ? "subject" : mode.toUpperCase() + " SAN"} to map by`);
  return { user: null, kind: null, notes };
}
