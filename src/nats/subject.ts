/**
 * nats-server's views of a certificate subject, built from the raw DER (reference §2.4, §2.5):
 *
 *  - the DN stage's DN (its LDAP fork's FromRawCertSubject): RDNs last to first, only ten types;
 *  - Go's matching string, pkix.Name.ToRDNSequence().String(): reordered, regrouped, DC and
 *    non-standard attributes dropped, last CN and SERIALNUMBER only;
 *  - the DC string: the matching string plus ",DC=v" for each DC value in DER order.
 */
import * as der from "../asn1/der";
import { OID } from "../asn1/oids";
import { CANONICAL_ORDER, decodeName, DecodedAttribute, SHORT_NAMES } from "../pki/name";
import { byteText, formatDn, type DnAttr, type LdapDn } from "./ldapdn";

/** The ten types of the DN stage's table, with the names it gives them: Go's nine, and DC. */
export const DN_STAGE_TYPES: Record<string, string> = Object.fromEntries([...CANONICAL_ORDER, OID.DC].map((t) => [t, SHORT_NAMES[t]]));

/** The nine types Go's subject string keeps (CANONICAL_ORDER is ToRDNSequence's order). */
const GO_STRING_TYPES = new Set<string>(CANONICAL_ORDER);

/** The string value as Go sees it: T61String keeps its raw bytes, read here as UTF-8 with U+FFFD for bad bytes. */
function goValue(a: DecodedAttribute): string | null {
  switch (a.tag) {
    case der.Tag.T61String:
      return byteText(a.bytes.toString("latin1"));
    case der.Tag.UTF8String:
    case der.Tag.PrintableString:
    case der.Tag.IA5String:
    case der.Tag.NumericString:
      return a.value;
    case der.Tag.BMPString: {
      // Go (x509 and encoding/asn1 alike) strips one trailing 00 00 terminator before decoding
      const n = a.bytes.length;
      return n >= 2 && a.bytes[n - 1] === 0 && a.bytes[n - 2] === 0 ? a.value.slice(0, -1) : a.value;
    }
    default:
      return null;
  }
}

// the DN types are the DN library's (src/nats/ldapdn.ts), which needs nothing from here
export type { DnAttr, LdapDn } from "./ldapdn";

/**
 * FromRawCertSubject: null when an attribute type is outside the table (the DN stage is then skipped).
 * Values are text; with `asBytes` they are byte strings (one char per byte: UTF-8 of the decoded
 * value, T61String's raw bytes), the form the DN matcher compares (src/nats/ldapdn.ts).
 */
export function dnStageDn(subjectRaw: Buffer, asBytes = false): LdapDn | null {
  const v = subjectViews(subjectRaw);
  return asBytes ? v.dnStageBytes : v.dnStageDn;
}

function dnStageOf(rdns: DecodedAttribute[][], asBytes: boolean): LdapDn | null {
  const out: LdapDn = [];
  for (let i = rdns.length - 1; i >= 0; i--) {
    if (rdns[i].length === 0) continue;
    const rdn: DnAttr[] = [];
    for (let j = rdns[i].length - 1; j >= 0; j--) {
      const a = rdns[i][j];
      const name = DN_STAGE_TYPES[a.type];
      const v = goValue(a);
      if (!name || v === null) return null;
      const value = a.tag === der.Tag.T61String ? a.bytes.toString("latin1") : asBytes ? Buffer.from(v, "utf8").toString("latin1") : v;
      rdn.push({ type: name, value });
    }
    out.push(rdn);
  }
  return out;
}

/** Go's escaping in RDNSequence.String(). */
export function goEscape(v: string): string {
  const bytes = Buffer.byteLength(v);
  let out = "";
  let k = 0;
  for (const c of v) {
    let esc = false;
    if (`,+"\\<>;`.includes(c)) esc = true;
    else if (c === " ") esc = k === 0 || k === bytes - 1;
    else if (c === "#") esc = k === 0;
    out += esc ? "\\" + c : c;
    k += Buffer.byteLength(c);
  }
  return out;
}

/** Go's pkix.Name fields after parsing, rebuilt by ToRDNSequence (DER order). */
function goRdnSequence(rdns: DecodedAttribute[][]): { type: string; value: string }[][] {
  const multi: Record<string, string[]> = {};
  let cn = "";
  let serial = "";
  for (const rdn of rdns)
    for (const a of rdn) {
      if (!GO_STRING_TYPES.has(a.type)) continue;
      const v = goValue(a);
      if (v === null) continue;
      if (a.type === OID.CN) cn = v;
      else if (a.type === OID.SERIALNUMBER) serial = v;
      else (multi[a.type] ??= []).push(v);
    }
  const seq: { type: string; value: string }[][] = [];
  for (const t of CANONICAL_ORDER.slice(0, 7)) { // C, ST, L, STREET, POSTALCODE, O, OU
    if (multi[t]?.length) seq.push(multi[t].map((value) => ({ type: t, value })));
  }
  if (cn) seq.push([{ type: OID.CN, value: cn }]);
  if (serial) seq.push([{ type: OID.SERIALNUMBER, value: serial }]);
  return seq;
}

function goStringOf(rdns: DecodedAttribute[][]): string {
  return goRdnSequence(rdns)
    .reverse()
    .map((rdn) => rdn.map((a) => `${SHORT_NAMES[a.type]}=${goEscape(a.value)}`).join("+"))
    .join(",");
}

function goDcStringOf(rdns: DecodedAttribute[][], goString: string): string | null {
  const dcs: string[] = [];
  for (const rdn of rdns) for (const a of rdn) if (a.type === OID.DC) dcs.push(goValue(a) ?? "");
  if (dcs.length === 0) return null;
  return goString + "," + dcs.map((v) => `DC=${v}`).join(",");
}

/** Go's `Subject.ToRDNSequence().String()`: the string nats-server looks up last. */
export function goSubjectString(subjectRaw: Buffer): string {
  return subjectViews(subjectRaw).goSubjectString;
}

/** The DC string (tried before the plain string), or null when the subject has no DC. */
export function goDcString(subjectRaw: Buffer): string | null {
  return subjectViews(subjectRaw).goDcString;
}

/** Whether Go's Subject.String() is non-empty (the server's `hasSubject`). */
export function hasSubject(subjectRaw: Buffer): boolean {
  return subjectViews(subjectRaw).hasSubject;
}

/**
 * Escaping for a user DN that the server's ParseDN reads back to exactly `v`:
 * the RFC 4514 specials, `=` (a second `=` would end the type), edge spaces, a leading `#`,
 * and control bytes as \HH.
 */
export function parseDnEscape(v: string): string {
  let out = "";
  const chars = [...v];
  chars.forEach((c, i) => {
    if (`,+"\\<>;=`.includes(c) || (i === 0 && c === "#") || (c === " " && (i === 0 || i === chars.length - 1))) out += "\\" + c;
    else if (/[\u0000-\u001f\u007f]/.test(c)) out += "\\" + c.charCodeAt(0).toString(16).padStart(2, "0");
    else out += c;
  });
  return out;
}

/**
 * The DN stage's DN written as a user string that the server's ParseDN reads back to an Equal DN
 * (specials, `=`, edge spaces and a leading `#` escaped; bytes that are not UTF-8 as \HH).
 * Null when the DN stage is skipped for this subject; "" for an empty subject.
 */
export function dnStageString(subjectRaw: Buffer): string | null {
  return subjectViews(subjectRaw).dnStageString;
}

/**
 * Every view of one subject that nats-server compares, from one decoding of its DER. Each view is
 * computed on first use and kept; the values are shared, so callers must not change them.
 */
export interface SubjectViews {
  /** The decoded Name, RDNs in DER order. */
  readonly rdns: DecodedAttribute[][];
  /** Go's Subject.String() is non-empty (the server's `hasSubject`). */
  readonly hasSubject: boolean;
  /** The DN stage's DN with text values; null when the DN stage is skipped. */
  readonly dnStageDn: LdapDn | null;
  /** The DN stage's DN with byte-string values (what the DN matcher compares); null when skipped. */
  readonly dnStageBytes: LdapDn | null;
  /** The DN stage's DN as a user string that ParseDN reads back to an Equal DN; null when skipped. */
  readonly dnStageString: string | null;
  /** Go's `Subject.ToRDNSequence().String()`. */
  readonly goSubjectString: string;
  /** Go's string plus ",DC=v" per DC value in DER order; null without DC. */
  readonly goDcString: string | null;
}

/**
 * The views are kept per subject Buffer (a parsed certificate holds its own), so that a
 * verification, the explain report, lint and the config writer decode a certificate's subject once
 * between them; before, each view decoded it again (19 decodes of one subject for a verify, a second
 * verify and an explain: test/subject-views.test.ts). Released with the Buffer. The key is the
 * Buffer object, so its bytes must not change after the first look (a parsed certificate's never do).
 */
const viewsOf = new WeakMap<Buffer, SubjectViews>();

class LazyViews implements SubjectViews {
  private dn?: LdapDn | null;
  private bytes?: LdapDn | null;
  private dnString?: string | null;
  private goString?: string;
  private dcString?: string | null;
  readonly hasSubject: boolean;
  constructor(readonly rdns: DecodedAttribute[][]) {
    this.hasSubject = rdns.some((r) => r.length > 0);
  }
  get dnStageDn(): LdapDn | null {
    return this.dn === undefined ? (this.dn = dnStageOf(this.rdns, false)) : this.dn;
  }
  get dnStageBytes(): LdapDn | null {
    return this.bytes === undefined ? (this.bytes = dnStageOf(this.rdns, true)) : this.bytes;
  }
  get dnStageString(): string | null {
    if (this.dnString === undefined) {
      const dn = this.dnStageBytes;
      this.dnString = dn === null ? null : formatDn(dn);
    }
    return this.dnString;
  }
  get goSubjectString(): string {
    return this.goString === undefined ? (this.goString = goStringOf(this.rdns)) : this.goString;
  }
  get goDcString(): string | null {
    return this.dcString === undefined ? (this.dcString = goDcStringOf(this.rdns, this.goSubjectString)) : this.dcString;
  }
}

/**
 * The views of a subject, decoded once per Buffer. `decoded` is its decodeName result when the
 * caller has it already (a ParsedCertificate's `subject`), so that it is not decoded again.
 */
export function subjectViews(subjectRaw: Buffer, decoded?: DecodedAttribute[][]): SubjectViews {
  let v = viewsOf.get(subjectRaw);
  if (v === undefined) viewsOf.set(subjectRaw, (v = new LazyViews(decoded ?? decodeName(subjectRaw))));
  return v;
}

const latin1Views = new WeakMap<Buffer, SubjectViews>();

/**
 * The views as a server built with Go 1.26 has them: crypto/x509 decodes a T61String as ISO 8859-1
 * (Go 1.19 kept its raw bytes). The same views as certSubjectViews when the subject has no T61String.
 */
export function certSubjectViewsFor(cert: { subjectRaw: Buffer; subject?: DecodedAttribute[][] }, t61Latin1: boolean): SubjectViews {
  const v = certSubjectViews(cert);
  if (!t61Latin1 || !v.rdns.some((r) => r.some((a) => a.tag === der.Tag.T61String))) return v;
  let w = latin1Views.get(cert.subjectRaw);
  if (w === undefined) {
    const rdns = v.rdns.map((r) =>
      r.map((a): DecodedAttribute => {
        if (a.tag !== der.Tag.T61String) return a;
        const text = a.bytes.toString("latin1");
        return { ...a, tag: der.Tag.UTF8String, value: text, bytes: Buffer.from(text, "utf8") };
      }),
    );
    latin1Views.set(cert.subjectRaw, (w = new LazyViews(rdns)));
  }
  return w;
}

/** The views of a certificate's subject, from its parse's decoded subject when it has one. */
export function certSubjectViews(cert: { subjectRaw: Buffer; subject?: DecodedAttribute[][] }): SubjectViews {
  return subjectViews(cert.subjectRaw, cert.subject);
}
