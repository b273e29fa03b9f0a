/**
 * Name constraints (RFC 5280 §4.2.1.10) on a CA: building the extension, and checking names against
 * it the way Go 1.19.8's crypto/x509 does (nats-server 2.9.10's TLS stack). One matcher serves both
 * the verifier (src/verify/chain.ts: what the server will do) and signing (src/ca.ts, src/bulk/: what
 * mtlsctl refuses to sign), so the two cannot disagree.
 *
 * Go's rules, written from its x509 sources (verify.go isValid/checkNameConstraints, parser.go):
 *   - a CA's constraints are checked when it is a candidate parent in chain building, against the SANs
 *     of the leaf and of the CA itself, in the order the SAN extension lists them; the common name is
 *     never checked (since Go 1.15);
 *   - each SAN kind is checked only against constraints of its kind: excluded first (any match
 *     refuses), then permitted (when there are any, one must match);
 *   - DNS, email-domain and URI-host constraints match label-wise from the right, case-insensitively;
 *     a leading "." means "a proper subdomain only"; an empty constraint matches everything;
 *   - an email constraint with "@" is one exact mailbox (local part case-sensitive);
 *   - a URI with no host, or with an IP address as host, cannot be matched: refused when the CA has
 *     any URI constraint;
 *   - with any constraint at all, every DNS SAN must be a parsable domain and every email SAN a
 *     parsable RFC 2821 mailbox.
 * Nothing here is Go's code.
 */
import type * as NetModule from "node:net";
import * as der from "../asn1/der";
import { OID } from "../asn1/oids";
import { inputError } from "../errors";
import type { Extension, ParsedCertificate } from "./types";
import { encodeSans, ipBytes, ipString, Sans } from "./san";
import { formatRfc4514 } from "./name";
import { reverseLabels } from "../gocompat/domain";
import { goUrlFormatBytes, goUrlParseBytes } from "../gocompat/gourl";

const net = (): typeof NetModule => require("node:net");

export type ConstraintKind = "dns" | "email" | "uri" | "ip";
export const CONSTRAINT_KINDS: ConstraintKind[] = ["dns", "email", "uri", "ip"];

/** Constraints as given (`--permit-dns` etc.): strings; IP ranges as CIDR. */
export interface ConstraintLists {
  dns: string[];
  email: string[];
  uri: string[];
  ip: string[];
}
export interface NameConstraintsSpec {
  permitted: ConstraintLists;
  excluded: ConstraintLists;
}

/** Constraints as Go holds them after parsing: IP ranges as address + mask bytes. */
export interface ParsedConstraints {
  permitted: { dns: string[]; email: string[]; uri: string[]; ip: Buffer[] };
  excluded: { dns: string[]; email: string[]; uri: string[]; ip: Buffer[] };
  /** A subtree of a form Go does not handle (directoryName, ...). */
  unsupported: boolean;
  critical: boolean;
}

import { CONSTRAINT_OPTIONS } from "./constraint-options";
export { CONSTRAINT_OPTIONS };

const emptyLists = (): ConstraintLists => ({ dns: [], email: [], uri: [], ip: [] });

/** The constraints given on the command line, checked; undefined when none. */
export function constraintsFromOptions(o: Record<string, unknown>): NameConstraintsSpec | undefined {
  const spec: NameConstraintsSpec = { permitted: emptyLists(), excluded: emptyLists() };
  let any = false;
  for (const opt of CONSTRAINT_OPTIONS) {
    const values = (o[opt.key] as string[] | undefined) ?? [];
    for (const v of values) {
      checkConstraintValue(opt.kind, v, `${opt.flag} "${v.replace(/[\u0000-\u001f\u007f]/g, "?")}"`);
      spec[opt.list][opt.kind].push(v);
      any = true;
    }
  }
  return any ? spec : undefined;
}

/** Refuses a value that Go's parser would refuse in a CA certificate (nats-server could not load it). */
function checkConstraintValue(kind: ConstraintKind, v: string, what: string): void {
  if (kind === "ip") {
    cidrBytes(v, what);
    return;
  }
  if (!/^[\x21-\x7e]*$/.test(v)) throw inputError(`${what}: only printable ASCII without spaces is allowed`);
  if (v === "") throw inputError(`${what}: empty (it would match every name)`);
  if (kind === "email" && v.includes("@")) {
    if (!parseMailbox(v)) throw inputError(`${what}: not a valid mailbox (Go's x509 parser would refuse the CA)`);
    return;
  }
  if (kind === "uri" && net().isIP(v)) throw inputError(`${what}: an IP address cannot be a URI constraint (use a domain)`);
  const domain = v.startsWith(".") ? v.slice(1) : v;
  if (!reverseLabels(domain) || domain === "") throw inputError(`${what}: not a domain (labels of letters, digits, "-"; e.g. example.com${kind === "dns" ? "" : " or .example.com"})`);
  if (domain.includes("*")) throw inputError(`${what}: wildcards have no meaning in a constraint (${kind === "dns" ? '"example.com" covers every name under it' : '".example.com" means any subdomain'})`);
  // RFC 5280 4.2.1.10: a leading "." means "subdomains only" for URI and rfc822Name constraints, but a
  // dNSName constraint has no such form; strict verifiers (Python cryptography, pkilint) refuse the CA
  if (kind === "dns" && v.startsWith("."))
    throw inputError(`${what}: a DNS name constraint has no leading-"." form (RFC 5280 4.2.1.10; strict verifiers such as Python's cryptography refuse the CA): give ${domain}, which covers ${domain} and every name under it`);
}

/** CIDR text to Go's IPNet bytes (address then mask; 8 or 32 bytes). */
export function cidrBytes(cidr: string, what = `"${cidr}"`): Buffer {
  const m = /^([^/]+)\/(\d{1,3})$/.exec(cidr);
  const v = m ? net().isIP(m[1]) : 0;
  if (!m || !v || m[1].includes("%")) throw inputError(`${what}: expected an address range in CIDR form, e.g. 10.0.0.0/8 or fd00::/8`);
  const len = v === 4 ? 4 : 16;
  const bits = Number(m[2]);
  if (bits > len * 8) throw inputError(`${what}: a /${bits} prefix is longer than the address`);
  const addr = ipBytes(m[1]);
  const mask = Buffer.alloc(len);
  for (let i = 0; i < bits; i++) mask[i >> 3] |= 0x80 >> (i & 7);
  for (let i = 0; i < len; i++) if (addr[i] & ~mask[i]) throw inputError(`${what}: the address has bits set beyond the /${bits} prefix (did you mean ${ipString(Buffer.from(addr.map((b, j) => b & mask[j])))}/${bits}?)`);
  return Buffer.concat([addr, mask]);
}

/** The NameConstraints extension (critical, as RFC 5280 requires of a conforming CA). */
export function nameConstraintsExtension(spec: NameConstraintsSpec): Extension {
  const tags: Record<ConstraintKind, number> = { email: 1, dns: 2, uri: 6, ip: 7 };
  const subtrees = (l: ConstraintLists): Buffer[] =>
    (["email", "dns", "uri", "ip"] as ConstraintKind[]).flatMap((k) => l[k].map((v) => der.seq(der.implicit(tags[k], k === "ip" ? cidrBytes(v) : Buffer.from(v, "latin1")))));
  const p = subtrees(spec.permitted);
  const x = subtrees(spec.excluded);
  const parts: Buffer[] = [];
  if (p.length) parts.push(der.tlv(0xa0, Buffer.concat(p)));
  if (x.length) parts.push(der.tlv(0xa1, Buffer.concat(x)));
  return { oid: OID.nameConstraints, critical: true, value: der.seq(...parts) };
}

// ---------------------------------------------------------------- Go's parsing

const ATEXT = /[0-9A-Za-z!#$%&'*+\-/=?^_`{|}~.]/;

/** x509's parseRFC2821Mailbox (quoted or dot-atom local part, "@", a domain reverseLabels accepts). */
export function parseMailbox(s: string): { local: string; domain: string } | null {
  if (!s.length) return null;
  let local = "";
  let i = 0;
  const code = (j: number) => s.charCodeAt(j);
  if (s[0] === '"') {
    i = 1;
    for (;;) {
      if (i >= s.length) return null;
      const c = code(i++);
      if (c === 0x22) break;
      if (c === 0x5c) {
        if (i >= s.length) return null;
        const d = code(i);
        if (d === 11 || d === 12 || (d >= 1 && d <= 9) || (d >= 14 && d <= 127)) {
          local += s[i++];
        } else return null;
      } else if (c === 11 || c === 12 || c === 32 || c === 33 || c === 127 || (c >= 1 && c <= 8) || (c >= 14 && c <= 31) || (c >= 35 && c <= 91) || (c >= 93 && c <= 126)) {
        local += String.fromCharCode(c);
      } else return null;
    }
  } else {
    while (i < s.length) {
      const c = s[i];
      if (c === "\\") {
        i++;
        if (i >= s.length) return null;
        local += s[i++];
        continue;
      }
      if (!ATEXT.test(c)) break;
      local += c;
      i++;
    }
    if (!local.length || local.startsWith(".") || local.endsWith(".") || local.includes("..")) return null;
  }
  if (i >= s.length || s[i] !== "@") return null;
  const domain = s.slice(i + 1);
  if (!reverseLabels(domain)) return null;
  return { local, domain };
}

/**
 * Go's parseNameConstraintsExtension for `c`: null when it has none; `error` is the parser's refusal
 * (Go then refuses the certificate itself: a client's intermediate fails to parse, a ca_file fails to load).
 */
export function parseNameConstraints(c: ParsedCertificate): { nc: ParsedConstraints | null; error: string | null } {
  const e = c.extensions.find((x) => x.oid === OID.nameConstraints);
  if (!e) return { nc: null, error: null };
  const nc: ParsedConstraints = { permitted: { dns: [], email: [], uri: [], ip: [] }, excluded: { dns: [], email: [], uri: [], ip: [] }, unsupported: false, critical: e.critical };
  const bad = (msg: string) => ({ nc: null, error: msg });
  let top: der.Node[];
  try {
    top = der.children(der.parseOne(e.value));
  } catch {
    return bad("x509: invalid NameConstraints extension");
  }
  if (top.some((p) => p.tag !== 0xa0 && p.tag !== 0xa1) || (top.length === 2 && top[0].tag !== 0xa0) || top.length > 2) return bad("x509: invalid NameConstraints extension");
  if (!top.length || top.every((p) => p.content.length === 0)) return bad("x509: empty name constraints extension");
  for (const part of top) {
    const target = part.tag === 0xa0 ? nc.permitted : nc.excluded;
    let subtrees: der.Node[];
    try {
      subtrees = der.children(part);
    } catch {
      return bad("x509: invalid NameConstraints extension");
    }
    for (const st of subtrees) {
      let base: der.Node;
      try {
        if (st.tag !== der.Tag.SEQUENCE) throw new Error();
        base = der.children(st)[0];
        if (!base) throw new Error();
      } catch {
        return bad("x509: invalid NameConstraints extension");
      }
      const text = base.content.toString("latin1");
      const ia5 = base.content.every((b) => b < 0x80);
      switch (base.tag) {
        case 0x82: {
          if (!ia5) return bad("x509: invalid constraint value: invalid IA5String");
          if (!reverseLabels(text.startsWith(".") ? text.slice(1) : text)) return bad(`x509: failed to parse dnsName constraint ${goQuote(text)}`);
          target.dns.push(text);
          break;
        }
        case 0x87: {
          const l = base.content.length;
          if (l !== 8 && l !== 32) return bad(`x509: IP constraint contained value of length ${l}`);
          const mask = base.content.subarray(l / 2);
          if (!validMask(mask)) return bad(`x509: IP constraint contained invalid mask ${mask.toString("hex")}`);
          target.ip.push(Buffer.from(base.content));
          break;
        }
        case 0x81: {
          if (!ia5) return bad("x509: invalid constraint value: invalid IA5String");
          const ok = text.includes("@") ? parseMailbox(text) !== null : reverseLabels(text.startsWith(".") ? text.slice(1) : text) !== null;
          if (!ok) return bad(`x509: failed to parse rfc822Name constraint ${goQuote(text)}`);
          target.email.push(text);
          break;
        }
        case 0x86: {
          if (!ia5) return bad("x509: invalid constraint value: invalid IA5String");
          if (goParseIp(text)) return bad(`x509: failed to parse URI constraint ${goQuote(text)}: cannot be IP address`);
          if (!reverseLabels(text.startsWith(".") ? text.slice(1) : text)) return bad(`x509: failed to parse URI constraint ${goQuote(text)}`);
          target.uri.push(text);
          break;
        }
        default:
          nc.unsupported = true;
      }
    }
  }
  return { nc, error: null };
}

/** Go's isValidIPMask: ones then zeros. */
function validMask(mask: Buffer): boolean {
  let seenZero = false;
  for (const b of mask) {
    if (seenZero) {
      if (b !== 0) return false;
      continue;
    }
    if (b === 0xff) continue;
    if (![0x00, 0x80, 0xc0, 0xe0, 0xf0, 0xf8, 0xfc, 0xfe].includes(b)) return false;
    seenZero = true;
  }
  return true;
}

/** net.ParseIP's acceptance (no zone index). */
function goParseIp(s: string): boolean {
  return !s.includes("%") && net().isIP(s) !== 0;
}

/** Go's %q for ASCII text (what these names are, IA5). */
export function goQuote(s: string): string {
  return JSON.stringify(s).replace(/\\u00([0-9a-f]{2})/g, "\\x$1").replace(/\\u007f/g, "\\x7f");
}

// ---------------------------------------------------------------- Go's matching

function matchDomain(domain: string, constraint: string): { match: boolean; error?: string } {
  if (constraint === "") return { match: true };
  const d = reverseLabels(domain);
  if (!d) return { match: false, error: `x509: internal error: cannot parse domain ${goQuote(domain)}` };
  let must = false;
  let c0 = constraint;
  if (c0.startsWith(".")) {
    must = true;
    c0 = c0.slice(1);
  }
  const cl = reverseLabels(c0);
  if (!cl) return { match: false, error: `x509: internal error: cannot parse domain ${goQuote(c0)}` };
  if (d.length < cl.length || (must && d.length === cl.length)) return { match: false };
  return { match: cl.every((l, i) => l.toLowerCase() === d[i].toLowerCase()) };
}

function matchEmail(mb: { local: string; domain: string }, constraint: string): { match: boolean; error?: string } {
  if (constraint.includes("@")) {
    const cm = parseMailbox(constraint);
    if (!cm) return { match: false, error: `x509: internal error: cannot parse constraint ${goQuote(constraint)}` };
    return { match: mb.local === cm.local && mb.domain.toLowerCase() === cm.domain.toLowerCase() };
  }
  return matchDomain(mb.domain, constraint);
}

/** net.SplitHostPort's host, or its error text. */
function splitHostPort(hp: string): { host: string } | { error: string } {
  const err = (why: string) => ({ error: `address ${hp}: ${why}` });
  const i = hp.lastIndexOf(":");
  if (i < 0) return err("missing port in address");
  let host: string;
  let j = 0;
  let k = 0;
  if (hp[0] === "[") {
    const end = hp.indexOf("]");
    if (end < 0) return err("missing ']' in address");
    if (end + 1 === hp.length) return err("missing port in address");
    if (end + 1 !== i) return err(hp[end + 1] === ":" ? "too many colons in address" : "missing port in address");
    host = hp.slice(1, end);
    j = 1;
    k = end + 1;
  } else {
    host = hp.slice(0, i);
    if (host.includes(":")) return err("too many colons in address");
  }
  if (hp.slice(j).includes("[")) return err("unexpected '[' in address");
  if (hp.slice(k).includes("]")) return err("unexpected ']' in address");
  return { host };
}

function matchUri(uri: string, constraint: string): { match: boolean; error?: string } {
  const u = goUrlParseBytes(uri); // the certificate parsed, so this does
  let host = u.host;
  if (host === "") return { match: false, error: `URI with empty host (${goQuote(goUrlFormatBytes(u))}) cannot be matched against constraints` };
  if (host.includes(":") && !host.endsWith("]")) {
    const r = splitHostPort(host);
    if ("error" in r) return { match: false, error: r.error };
    host = r.host;
  }
  if ((host.startsWith("[") && host.endsWith("]")) || goParseIp(host)) return { match: false, error: `URI with IP (${goQuote(goUrlFormatBytes(u))}) cannot be matched against constraints` };
  return matchDomain(host, constraint);
}

function matchIp(ip: Buffer, c: Buffer): { match: boolean } {
  const half = c.length / 2;
  if (ip.length !== half) return { match: false };
  for (let i = 0; i < half; i++) if ((ip[i] & c[half + i]) !== (c[i] & c[half + i])) return { match: false };
  return { match: true };
}

/** A name a CA is not allowed to sign for, with Go's error text and the facts for mtlsctl's own message. */
export interface ConstraintViolation {
  kind: ConstraintKind;
  /** The SAN as Go names it (IP addresses in Go's text form). */
  name: string;
  /** "excluded": `constraint` matched; "not-permitted": none of `permitted` matched; "unparsable": Go cannot check it. */
  reason: "excluded" | "not-permitted" | "unparsable";
  constraint: string | null;
  permitted: string[];
  /** Go's error, as crypto/tls reports it after "tls: failed to verify client certificate: ". */
  goError: string;
}

const TYPE_NAME: Record<ConstraintKind, string> = { dns: "DNS name", email: "email address", uri: "URI", ip: "IP address" };
const NOT_AUTHORIZED = "x509: a root or intermediate certificate is not authorized to sign for this name: ";

const showConstraint = (kind: ConstraintKind, c: string | Buffer): string => (kind === "ip" ? ipNetString(c as Buffer) : (c as string));

/** Go's IPNet.String(): "10.0.0.0/8". */
function ipNetString(c: Buffer): string {
  const half = c.length / 2;
  let bits = 0;
  for (const b of c.subarray(half)) for (let i = 7; i >= 0; i--) if (b & (1 << i)) bits++;
  return `${ipString(Buffer.from(c.subarray(0, half)))}/${bits}`;
}

/**
 * Go's isValid name-constraint step for one CA: the SANs (a SubjectAltName extension's value each,
 * leaf first) checked against `nc`. Null when every name passes.
 */
export function checkSanExtensions(sanExtensions: Buffer[], nc: ParsedConstraints): ConstraintViolation | null {
  for (const ext of sanExtensions) {
    for (const gn of der.children(der.parseOne(ext))) {
      const text = gn.content.toString("latin1");
      let v: ConstraintViolation | null = null;
      switch (gn.tag) {
        case 0x81: {
          const mb = parseMailbox(text);
          if (!mb) return { kind: "email", name: text, reason: "unparsable", constraint: null, permitted: [], goError: 'x509: cannot parse rfc822Name {"" ""}' };
          v = check("email", text, nc, (c) => matchEmail(mb, c as string));
          break;
        }
        case 0x82:
          if (!reverseLabels(text)) return { kind: "dns", name: text, reason: "unparsable", constraint: null, permitted: [], goError: `x509: cannot parse dnsName ${goQuote(text)}` };
          v = check("dns", text, nc, (c) => matchDomain(text, c as string));
          break;
        case 0x86:
          v = check("uri", text, nc, (c) => matchUri(text, c as string));
          break;
        case 0x87:
          if (gn.content.length !== 4 && gn.content.length !== 16) return { kind: "ip", name: gn.content.toString("hex"), reason: "unparsable", constraint: null, permitted: [], goError: `x509: internal error: IP SAN ${gn.content.toString("hex")} failed to parse` };
          v = check("ip", ipString(gn.content), nc, (c) => matchIp(gn.content, c as Buffer));
          break;
      }
      if (v) return v;
    }
  }
  return null;
}

function check(kind: ConstraintKind, name: string, nc: ParsedConstraints, match: (c: string | Buffer) => { match: boolean; error?: string }): ConstraintViolation | null {
  const permitted = (nc.permitted[kind] as (string | Buffer)[]).map((c) => showConstraint(kind, c));
  const fail = (reason: ConstraintViolation["reason"], constraint: string | null, detail: string): ConstraintViolation => ({ kind, name, reason, constraint, permitted, goError: NOT_AUTHORIZED + detail });
  for (const c of nc.excluded[kind] as (string | Buffer)[]) {
    const r = match(c);
    if (r.error) return fail("unparsable", showConstraint(kind, c), r.error);
    if (r.match) return fail("excluded", showConstraint(kind, c), `${TYPE_NAME[kind]} ${goQuote(name)} is excluded by constraint ${goQuote(showConstraint(kind, c))}`);
  }
  const perm = nc.permitted[kind] as (string | Buffer)[];
  for (const c of perm) {
    const r = match(c);
    if (r.error) return fail("unparsable", showConstraint(kind, c), r.error);
    if (r.match) return null;
  }
  if (perm.length) return fail("not-permitted", null, `${TYPE_NAME[kind]} ${goQuote(name)} is not permitted by any constraint`);
  return null;
}

/** The SubjectAltName extension value of a certificate, if any. */
export function sanExtension(c: ParsedCertificate): Buffer | undefined {
  return c.extensions.find((e) => e.oid === OID.subjectAltName)?.value;
}

/**
 * Signing: the first SAN that a CA of `cas` (the issuing CA and every CA above it) does not allow,
 * as mtlsctl's one-line refusal (naming the SAN, the constraint and the CA), or null. The CA's own
 * SANs are not checked here (Go checks them, and they are the CA's own affair).
 */
export function signingViolation(sans: Sans, cas: ParsedCertificate[]): string | null {
  if (sans.email.length + sans.dns.length + sans.uri.length + sans.ip.length === 0) return null;
  const ext = encodeSans(sans);
  for (const ca of cas) {
    const { nc, error } = parseNameConstraints(ca);
    if (error) return `the CA "${formatRfc4514(ca.subject)}" has name constraints that Go cannot parse (${error})`;
    if (!nc) continue;
    const v = checkSanExtensions([ext], nc);
    if (v) return describeViolation(v, ca);
  }
  return null;
}

export function describeViolation(v: ConstraintViolation, ca: ParsedCertificate): string {
  const who = `CA "${formatRfc4514(ca.subject)}"`;
  const label = { dns: "DNS SAN", email: "email SAN", uri: "URI SAN", ip: "IP SAN" }[v.kind];
  switch (v.reason) {
    case "excluded":
      return `${label} "${v.name}" is excluded by the name constraint "${v.constraint}" of ${who}: nats-server would refuse the certificate`;
    case "not-permitted":
      return `${label} "${v.name}" is outside the name constraints of ${who} (permitted: ${v.permitted.join(", ")}): nats-server would refuse the certificate`;
    default:
      return `${label} "${v.name}" cannot be checked against the name constraints of ${who} (${v.goError.replace(NOT_AUTHORIZED, "")}): nats-server would refuse the certificate`;
  }
}

/** Human-readable lines for `ca show` and `explain`. */
export function describeConstraints(nc: ParsedConstraints): { permitted: ConstraintLists; excluded: ConstraintLists; unsupported: boolean } {
  const lists = (l: ParsedConstraints["permitted"]): ConstraintLists => ({ dns: [...l.dns], email: [...l.email], uri: [...l.uri], ip: l.ip.map((c) => ipNetString(c)) });
  return { permitted: lists(nc.permitted), excluded: lists(nc.excluded), unsupported: nc.unsupported };
}

/** One line: "permit dns: a, b; exclude email: c". */
export function constraintsSummary(nc: ParsedConstraints): string {
  const d = describeConstraints(nc);
  const parts: string[] = [];
  for (const [word, l] of [["permit", d.permitted], ["exclude", d.excluded]] as const)
    for (const k of CONSTRAINT_KINDS) if (l[k].length) parts.push(`${word} ${k}: ${l[k].map((x) => (x === "" ? '""' : x)).join(", ")}`);
  if (d.unsupported) parts.push("(and forms Go does not check)");
  return parts.join("; ");
}

/**
 * OpenSSL (not Go) also checks a subject CN that looks like a host name against DNS constraints
 * when the certificate has no DNS SAN (NAME_CONSTRAINTS_check_CN). A warning when that would refuse
 * a certificate that nats-server accepts; null otherwise.
 */
export function cnConstraintWarning(cns: string[], sans: Sans, cas: ParsedCertificate[]): string | null {
  if (sans.dns.length) return null;
  for (const cn of cns) {
    if (!cn.includes(".") || !/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)+$/.test(cn)) continue;
    const ext = encodeSans({ email: [], dns: [cn], uri: [], ip: [] });
    for (const ca of cas) {
      const { nc } = parseNameConstraints(ca);
      if (!nc) continue;
      const v = checkSanExtensions([ext], nc);
      if (v)
        return `the subject CN "${cn}" looks like a host name outside the DNS name constraints of CA "${formatRfc4514(ca.subject)}": nats-server (Go) ignores the CN, but OpenSSL-based verifiers refuse the certificate (give a DNS SAN, or a CN without dots)`;
    }
  }
  return null;
}
