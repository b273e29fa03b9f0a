/** Subject alternative names: validation, DER encoding and decoding. */
import type * as NetModule from "node:net";

// node:net is loaded only when an IP address is handled (it costs start-up time otherwise)
const net = (): typeof NetModule => require("node:net");
import * as der from "../asn1/der";
import { inputError } from "../errors";

export interface Sans {
  email: string[];
  dns: string[];
  uri: string[];
  ip: string[];
}

export const emptySans = (): Sans => ({ email: [], dns: [], uri: [], ip: [] });
/** The four SAN lists of an options object (flags or library options), absent ones empty. */
export const sansOf = (o: { email?: string[]; dns?: string[]; uri?: string[]; ip?: string[] }): Sans => ({ email: o.email ?? [], dns: o.dns ?? [], uri: o.uri ?? [], ip: o.ip ?? [] });
export const hasSans = (s: Sans): boolean => s.email.length + s.dns.length + s.uri.length + s.ip.length > 0;

const PRINTABLE_ASCII = /^[\x21-\x7e]+$/;

// node:url is loaded only when a name is not ASCII
const toALabels = (d: string): string => (require("node:url") as typeof import("node:url")).domainToASCII(d);

/**
 * A domain with non-ASCII labels as its A-labels (punycode, IDNA2008 with UTS #46 non-transitional
 * processing: Node's url.domainToASCII, WHATWG URL); a leading "*." is kept. ASCII input is returned as is.
 * An invalid internationalised name is refused.
 */
export function idnaDomain(d: string, what: string): string {
  if (/^[\x00-\x7f]*$/.test(d)) return d;
  const wild = d.startsWith("*.") ? "*." : "";
  const a = /\s/.test(d) ? "" : toALabels(d.slice(wild.length));
  if (!a || !/^[\x21-\x7e]+$/.test(a)) throw inputError(`${what}: not a valid internationalised domain name (IDNA2008, UTS #46)`);
  return wild + a;
}

export function checkEmail(e: string): string {
  const at0 = e.lastIndexOf("@");
  if (at0 > 0 && !/^[\x00-\x7f]*$/.test(e)) {
    if (!/^[\x21-\x7e]+$/.test(e.slice(0, at0))) throw inputError(`email "${printable(e)}": a non-ASCII local part needs an SmtpUTF8Mailbox SAN, which mtlsctl does not write (RFC 9598): use an ASCII mailbox`);
    e = e.slice(0, at0 + 1) + idnaDomain(e.slice(at0 + 1), `email "${printable(e)}"`);
  }
  if (!PRINTABLE_ASCII.test(e)) throw inputError(`email "${printable(e)}": only printable ASCII without spaces is allowed`);
  const at = e.lastIndexOf("@");
  if (at <= 0 || at === e.length - 1 || e.indexOf("@") !== at) throw inputError(`email "${e}": expected local@domain`);
  if (at > 64 || e.length > 254) throw inputError(`email "${e.length > 80 ? e.slice(0, 40) + "..." + e.slice(-20) : e}": too long (RFC 5321: at most 64 characters before the @, 254 in all)`);
  checkDns(e.slice(at + 1), `email "${e}"`);
  return e;
}

export function checkDns(d: string, what = `DNS name "${printable(d)}"`): string {
  d = idnaDomain(d, what);
  if (!PRINTABLE_ASCII.test(d)) throw inputError(`${what}: only ASCII letters, digits, "-", "_", "." and a leading "*." are allowed`);
  if (d.length > 253) throw inputError(`${what}: longer than 253 characters`);
  // an IP address is matched only against IP SANs (Go, `openssl verify -verify_ip`): as a DNS SAN it matches nothing
  if (net().isIPv4(d)) throw inputError(`${what}: an IP address is not a DNS name (verifiers match an address only against IP SANs): give it with --ip`);
  const labels = d.split(".");
  labels.forEach((l, i) => {
    if (i === 0 && l === "*" && labels.length > 1) return;
    if (!/^[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?$/.test(l)) throw inputError(`${what}: bad label "${l}"`);
  });
  return d;
}

/**
 * URIs must be absolute and use only characters that Go's url.String() writes back unchanged,
 * so that the string nats-server compares is predictable (reference §2.6).
 */
export function checkUri(u: string): string {
  if (!PRINTABLE_ASCII.test(u)) throw inputError(`URI "${printable(u)}": only printable ASCII without spaces is allowed (percent-encode the rest)`);
  if (!/^[A-Za-z][A-Za-z0-9+.-]*:/.test(u)) throw inputError(`URI "${u}": not absolute (it needs a scheme such as spiffe:)`);
  if (/[^A-Za-z0-9\-._~:/?#[\]@!$&'()*+,;=%]/.test(u)) throw inputError(`URI "${u}": contains characters that must be percent-encoded`);
  if (/%(?![0-9A-Fa-f]{2})/.test(u)) throw inputError(`URI "${u}": bad percent-encoding`);
  if (u.indexOf("#") !== u.lastIndexOf("#")) throw inputError(`URI "${u}": more than one "#"`);
  return u;
}

export function checkIp(a: string): string {
  if (!net().isIP(a)) throw inputError(`IP address "${printable(a)}" is not valid`);
  // net.isIP accepts an IPv6 zone index ("fe80::1%eth0"); a certificate cannot carry one, and
  // ipBytes would drop it silently.
  if (a.includes("%")) throw inputError(`IP address "${printable(a)}" is not valid (a zone index such as "%eth0" cannot go in a certificate)`);
  // ::ffff:a.b.c.d would be 16 octets: Go takes it for a.b.c.d, OpenSSL for an IPv6 address that a.b.c.d does not match
  const b = net().isIPv6(a) ? ipBytes(a) : null;
  if (b && b.subarray(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff)
    throw inputError(`IP address "${printable(a)}" is an IPv4-mapped IPv6 address (Go reads it as ${ipString(b.subarray(12))}, OpenSSL as IPv6, so verifiers disagree): give ${ipString(b.subarray(12))}`);
  return a;
}

function printable(s: string): string {
  return s.replace(/[\u0000-\u001f\u007f]/g, "?");
}

/**
 * Checks the four lists; DNS names and email domains given in Unicode come back as their A-labels,
 * and `warnings` (when given) gets one line per name converted, naming the input and what it became
 * (the string written in the certificate, which verifiers and nats-server compare).
 */
export function checkSans(s: Sans, warnings?: string[]): Sans {
  const note = (what: string, input: string, out: string) => {
    if (!warnings || out === input) return;
    const w = `${what} "${printable(input)}" is internationalised: written as its A-label "${out}" (IDNA2008, UTS #46), the string verifiers and nats-server compare`;
    if (!warnings.includes(w)) warnings.push(w);
  };
  const email = s.email.map((e) => {
    const out = checkEmail(e);
    note("email", e, out);
    return out;
  });
  const dns = s.dns.map((d) => {
    const out = checkDns(d);
    note("DNS name", d, out);
    return out;
  });
  return { email, dns, uri: s.uri.map(checkUri), ip: s.ip.map(checkIp) };
}

export function ipBytes(a: string): Buffer {
  if (net().isIPv4(a)) return Buffer.from(a.split(".").map(Number));
  let s = a;
  let tail: number[] = [];
  const v4 = s.match(/^(.*:)(\d+\.\d+\.\d+\.\d+)$/);
  if (v4) {
    tail = v4[2].split(".").map(Number);
    s = v4[1] + "0:0"; // placeholder groups, replaced below
  }
  const [head, rest] = s.split("::");
  const parse = (p: string | undefined) => (p ? p.split(":").filter((x) => x !== "").map((g) => parseInt(g, 16)) : []);
  const h = parse(head);
  const r = rest === undefined ? [] : parse(rest);
  const groups = rest === undefined ? h : [...h, ...new Array(8 - h.length - r.length).fill(0), ...r];
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(g, i * 2));
  if (tail.length) Buffer.from(tail).copy(out, 12);
  return out;
}

export function ipString(b: Buffer): string {
  if (b.length === 4) return [...b].join(".");
  if (b.length !== 16) return b.toString("hex");
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(b.readUInt16BE(i));
  // RFC 5952: compress the longest run of zero groups (length >= 2)
  let best = -1,
    bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best < 0) return hex.join(":");
  return hex.slice(0, best).join(":") + "::" + hex.slice(best + bestLen).join(":");
}

/** GeneralNames: emails, DNS names, URIs, then IPs, each in the given order. */
export function encodeSans(s: Sans): Buffer {
  const ia5 = (v: string) => Buffer.from(v, "latin1");
  return der.seq(
    ...s.email.map((e) => der.implicit(1, ia5(e))),
    ...s.dns.map((d) => der.implicit(2, ia5(d))),
    ...s.uri.map((u) => der.implicit(6, ia5(u))),
    ...s.ip.map((a) => der.implicit(7, ipBytes(a))),
  );
}

/** Decodes GeneralNames, keeping each kind in certificate order; other name forms are counted. */
export function decodeSans(extnValue: Buffer): Sans & { other: number } {
  const out = { email: [] as string[], dns: [] as string[], uri: [] as string[], ip: [] as string[], other: 0 }; // a literal, not a spread: V8 promotes spread copies (issue 9)
  for (const gn of der.children(der.parseOne(extnValue))) {
    switch (gn.tag) {
      case 0x81:
        out.email.push(gn.content.toString("latin1"));
        break;
      case 0x82:
        out.dns.push(gn.content.toString("latin1"));
        break;
      case 0x86:
        out.uri.push(gn.content.toString("latin1"));
        break;
      case 0x87:
        out.ip.push(ipString(gn.content));
        break;
      default:
        out.other++;
    }
  }
  return out;
}
