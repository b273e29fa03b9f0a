/**
 * Go 1.19.8's `url.Parse(raw)` followed by `(*URL).String()`: the form in which nats-server compares
 * a certificate's URI SANs with user names (reference §2.6), and the check that makes Go's x509
 * parser refuse a certificate whose URI SAN does not parse.
 *
 * Written from the rules of net/url (Go 1.19.8, with the OmitHost change); nothing here is Go's code.
 * Go strings are bytes: internally every string here is a byte string (one JS char per byte, as
 * `Buffer#toString("latin1")` gives). {@link goUrlString} takes and returns ordinary text (UTF-8).
 */
import { reverseLabels } from "./domain";

/** Why Go's url.Parse failed. */
export class GoUrlError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "GoUrlError";
  }
}

/** The fields of Go's url.URL after Parse, as byte strings. */
export interface GoUrl {
  scheme: string;
  opaque: string;
  user: { username: string; password: string; passwordSet: boolean } | null;
  host: string;
  path: string;
  rawPath: string;
  omitHost: boolean;
  forceQuery: boolean;
  rawQuery: string;
  fragment: string;
  rawFragment: string;
}

type Mode = "path" | "pathSegment" | "host" | "zone" | "userPassword" | "queryComponent" | "fragment";

const HEX = "0123456789ABCDEF";

function isHex(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}
function unhex(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
  if (c >= 0x41 && c <= 0x46) return c - 0x41 + 10;
  return 0;
}
const isAlnum = (c: number) => (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39);

/** Whether byte c is written as %XX in the given part of a URL (Go's shouldEscape, RFC 3986 with Go's exceptions). */
function shouldEscape(c: number, mode: Mode): boolean {
  if (isAlnum(c)) return false;
  const ch = String.fromCharCode(c);
  if ((mode === "host" || mode === "zone") && "!$&'()*+,;=:[]<>\"".includes(ch)) return false;
  if ("-_.~".includes(ch)) return false;
  if ("$&+,/:;=?@".includes(ch)) {
    switch (mode) {
      case "path":
        return ch === "?";
      case "pathSegment":
        return "/;,?".includes(ch);
      case "userPassword":
        return "@/?:".includes(ch);
      case "queryComponent":
        return true;
      case "fragment":
        return false;
      default:
        break; // host and zone: '/', '?', '@' fall through to "escape"
    }
  }
  if (mode === "fragment" && "!()*".includes(ch)) return false;
  return true;
}

/** Go's unescape: validates every %XX (and, for hosts, the characters), then decodes. */
function unescape(s: string, mode: Mode): string {
  let count = 0;
  let hasPlus = false;
  for (let i = 0; i < s.length; ) {
    const c = s.charCodeAt(i);
    if (c === 0x25 /* % */) {
      count++;
      if (i + 2 >= s.length || !isHex(s.charCodeAt(i + 1)) || !isHex(s.charCodeAt(i + 2))) {
        throw new GoUrlError(`invalid URL escape "${s.slice(i, i + 3)}"`);
      }
      const esc = s.slice(i, i + 3);
      if (mode === "host" && unhex(s.charCodeAt(i + 1)) < 8 && esc !== "%25") throw new GoUrlError(`invalid URL escape "${esc}"`);
      if (mode === "zone") {
        const v = (unhex(s.charCodeAt(i + 1)) << 4) | unhex(s.charCodeAt(i + 2));
        if (esc !== "%25" && v !== 0x20 && shouldEscape(v, "host")) throw new GoUrlError(`invalid URL escape "${esc}"`);
      }
      i += 3;
    } else if (c === 0x2b /* + */) {
      hasPlus = mode === "queryComponent";
      i++;
    } else {
      if ((mode === "host" || mode === "zone") && c < 0x80 && shouldEscape(c, mode)) {
        throw new GoUrlError(`invalid character "${s[i]}" in host name`);
      }
      i++;
    }
  }
  if (count === 0 && !hasPlus) return s;
  let out = "";
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x25) {
      out += String.fromCharCode((unhex(s.charCodeAt(i + 1)) << 4) | unhex(s.charCodeAt(i + 2)));
      i += 2;
    } else if (c === 0x2b) out += mode === "queryComponent" ? " " : "+";
    else out += s[i];
  }
  return out;
}

/** Go's escape: %XX (upper-case hex) for every byte shouldEscape names; a space is `+` in a query component. */
function escape(s: string, mode: Mode): string {
  let out = "";
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x20 && mode === "queryComponent") out += "+";
    else if (shouldEscape(c, mode)) out += "%" + HEX[c >> 4] + HEX[c & 15];
    else out += s[i];
  }
  return out;
}

/** Whether s is already a valid escaping for the path or fragment (RFC 3986 pchar plus `[`, `]`). */
function validEncoded(s: string, mode: Mode): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if ("!$&'()*+,;=:@[]%".includes(s[i])) continue;
    if (shouldEscape(c, mode)) return false;
  }
  return true;
}

/** `scheme:` when the text starts with [A-Za-z][A-Za-z0-9+.-]* then `:`; a leading `:` is an error. */
function getScheme(raw: string): [string, string] {
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if ((c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a)) continue;
    if ((c >= 0x30 && c <= 0x39) || c === 0x2b || c === 0x2d || c === 0x2e) {
      if (i === 0) return ["", raw];
      continue;
    }
    if (c === 0x3a /* : */) {
      if (i === 0) throw new GoUrlError("missing protocol scheme");
      return [raw.slice(0, i), raw.slice(i + 1)];
    }
    return ["", raw];
  }
  return ["", raw];
}

/** A port part: empty, or `:` followed by digits only (possibly none). */
function validOptionalPort(port: string): boolean {
  return port === "" || /^:[0-9]*$/.test(port);
}

function parseHost(host: string): string {
  if (host.startsWith("[")) {
    const close = host.lastIndexOf("]");
    if (close < 0) throw new GoUrlError("missing ']' in host");
    const colonPort = host.slice(close + 1);
    if (!validOptionalPort(colonPort)) throw new GoUrlError(`invalid port "${colonPort}" after host`);
    // An IPv6 zone is introduced by %25 and may use %-escapes more freely than the host.
    const zone = host.slice(0, close).indexOf("%25");
    if (zone >= 0) return unescape(host.slice(0, zone), "host") + unescape(host.slice(zone, close), "zone") + unescape(host.slice(close), "host");
  } else {
    const colon = host.lastIndexOf(":");
    if (colon >= 0) {
      const colonPort = host.slice(colon);
      if (!validOptionalPort(colonPort)) throw new GoUrlError(`invalid port "${colonPort}" after host`);
    }
  }
  return unescape(host, "host");
}

/** Userinfo may hold only unreserved bytes, sub-delims, `:`, `%` and `@` (ASCII only). */
function validUserinfo(s: string): boolean {
  return /^[A-Za-z0-9\-._:~!$&'()*+,;=%@]*$/.test(s);
}

function parseAuthority(authority: string): Pick<GoUrl, "user" | "host"> {
  const at = authority.lastIndexOf("@");
  const host = parseHost(at < 0 ? authority : authority.slice(at + 1));
  if (at < 0) return { user: null, host };
  const userinfo = authority.slice(0, at);
  if (!validUserinfo(userinfo)) throw new GoUrlError("net/url: invalid userinfo");
  const colon = userinfo.indexOf(":");
  if (colon < 0) return { user: { username: unescape(userinfo, "userPassword"), password: "", passwordSet: false }, host };
  return {
    user: { username: unescape(userinfo.slice(0, colon), "userPassword"), password: unescape(userinfo.slice(colon + 1), "userPassword"), passwordSet: true },
    host,
  };
}

/** Path plus RawPath, kept only when the text is not what escaping the decoded path would give. */
function setPath(u: GoUrl, p: string): void {
  u.path = unescape(p, "path");
  u.rawPath = escape(u.path, "path") === p ? "" : p;
}

function setFragment(u: GoUrl, f: string): void {
  u.fragment = unescape(f, "fragment");
  u.rawFragment = escape(u.fragment, "fragment") === f ? "" : f;
}

/** Go's url.Parse on a byte string (not the request-URI variant). @throws GoUrlError */
export function goUrlParseBytes(raw: string): GoUrl {
  const hash = raw.indexOf("#");
  const beforeFrag = hash < 0 ? raw : raw.slice(0, hash);
  const frag = hash < 0 ? "" : raw.slice(hash + 1);
  const u = parseWithoutFragment(beforeFrag);
  if (frag !== "") setFragment(u, frag);
  return u;
}

function parseWithoutFragment(raw: string): GoUrl {
  if (/[\x00-\x1f\x7f]/.test(raw)) throw new GoUrlError("net/url: invalid control character in URL");
  const u: GoUrl = { scheme: "", opaque: "", user: null, host: "", path: "", rawPath: "", omitHost: false, forceQuery: false, rawQuery: "", fragment: "", rawFragment: "" };
  if (raw === "*") {
    u.path = "*";
    return u;
  }
  let [scheme, rest] = getScheme(raw);
  u.scheme = scheme.toLowerCase();

  if (rest.endsWith("?") && rest.indexOf("?") === rest.length - 1) {
    u.forceQuery = true;
    rest = rest.slice(0, -1);
  } else {
    const q = rest.indexOf("?");
    if (q >= 0) {
      u.rawQuery = rest.slice(q + 1);
      rest = rest.slice(0, q);
    }
  }

  if (!rest.startsWith("/")) {
    if (u.scheme !== "") {
      // A rootless path after a scheme is opaque data, kept as written.
      u.opaque = rest;
      return u;
    }
    const firstSegment = rest.split("/", 1)[0];
    if (firstSegment.includes(":")) throw new GoUrlError("first path segment in URL cannot contain colon");
  }

  if ((u.scheme !== "" || !rest.startsWith("///")) && rest.startsWith("//")) {
    let authority = rest.slice(2);
    rest = "";
    const slash = authority.indexOf("/");
    if (slash >= 0) {
      rest = authority.slice(slash);
      authority = authority.slice(0, slash);
    }
    Object.assign(u, parseAuthority(authority));
  } else if (u.scheme !== "" && rest.startsWith("/")) {
    u.omitHost = true; // `scheme:/path` has no authority and String() writes none back
  }
  setPath(u, rest);
  return u;
}

function escapedPath(u: GoUrl): string {
  if (u.rawPath !== "" && validEncoded(u.rawPath, "path")) {
    let p: string | null = null;
    try {
      p = unescape(u.rawPath, "path");
    } catch {
      p = null;
    }
    if (p === u.path) return u.rawPath;
  }
  if (u.path === "*") return "*";
  return escape(u.path, "path");
}

function escapedFragment(u: GoUrl): string {
  if (u.rawFragment !== "" && validEncoded(u.rawFragment, "fragment")) {
    let f: string | null = null;
    try {
      f = unescape(u.rawFragment, "fragment");
    } catch {
      f = null;
    }
    if (f === u.fragment) return u.rawFragment;
  }
  return escape(u.fragment, "fragment");
}

function userinfoString(user: NonNullable<GoUrl["user"]>): string {
  return escape(user.username, "userPassword") + (user.passwordSet ? ":" + escape(user.password, "userPassword") : "");
}

/** Go's (*URL).String() on parsed fields, as a byte string. */
export function goUrlFormatBytes(u: GoUrl): string {
  let out = "";
  if (u.scheme !== "") out += u.scheme + ":";
  if (u.opaque !== "") out += u.opaque;
  else {
    if (u.scheme !== "" || u.host !== "" || u.user !== null) {
      if (!(u.omitHost && u.host === "" && u.user === null)) {
        if (u.host !== "" || u.path !== "" || u.user !== null) out += "//";
        if (u.user !== null) out += userinfoString(u.user) + "@";
        if (u.host !== "") out += escape(u.host, "host");
      }
    }
    const path = escapedPath(u);
    if (path !== "" && path[0] !== "/" && u.host !== "") out += "/";
    // A relative reference whose first segment has a colon would read as a scheme: prefix "./".
    if (out === "" && path.split("/", 1)[0].includes(":")) out += "./";
    out += path;
  }
  if (u.forceQuery || u.rawQuery !== "") out += "?" + u.rawQuery;
  if (u.fragment !== "") out += "#" + escapedFragment(u);
  return out;
}

/**
 * Go 1.19.8's `url.Parse(raw)` then `String()`: the string nats-server compares for a URI SAN.
 * `raw` is text (taken as its UTF-8 bytes); the result is text. null when Go's Parse fails.
 *
 * What it does: lower-cases the scheme; drops an empty `#`; keeps an empty `?`; keeps the query and
 * an opaque part (`urn:…`, `mailto:…`) verbatim; re-escapes the path, fragment and userinfo unless
 * the text as written is already a valid escaping of the same bytes (`%41`, `%2f`, `%7e` stay);
 * writes `scheme:/x` and `scheme:///x` back as given.
 */
export function goUrlString(raw: string): string | null {
  const bytes = Buffer.from(raw, "utf8").toString("latin1");
  let u: GoUrl;
  try {
    u = goUrlParseBytes(bytes);
  } catch (e) {
    if (e instanceof GoUrlError) return null;
    throw e;
  }
  return Buffer.from(goUrlFormatBytes(u), "latin1").toString("utf8");
}

/** Go's url.Parse error text for `raw`, or null when it parses. */
export function goUrlParseError(raw: string): string | null {
  try {
    goUrlParseBytes(Buffer.from(raw, "utf8").toString("latin1"));
    return null;
  } catch (e) {
    if (e instanceof GoUrlError) return e.message;
    throw e;
  }
}

/**
 * A URI SAN as Go 1.19.8's x509 parser and then nats-server see it: null when the parser refuses
 * the certificate (then the TLS handshake fails before any mapping), else the `String()` form.
 * The parser requires IA5 (ASCII) text, a successful url.Parse, and, when the host is non-empty,
 * a "domain" whose dot-separated labels are all non-empty and made of bytes 0x21..0x7E (the port,
 * if any, is part of the last label; no trailing dot).
 * @param ia5 the SAN's bytes as a byte string (src/pki/san.ts decodes URIs as latin1).
 */
export function goX509UriString(ia5: string): string | null {
  if (/[^\x00-\x7f]/.test(ia5)) return null;
  let u: GoUrl;
  try {
    u = goUrlParseBytes(ia5);
  } catch (e) {
    if (e instanceof GoUrlError) return null;
    throw e;
  }
  if (u.host !== "" && !reverseLabels(u.host)) return null;
  return goUrlFormatBytes(u);
}

/**
 * Whether Go's url.Parse gives the URI a host that starts with ".": Go 1.19's x509 (nats-server 2.9.10)
 * takes such a URI SAN, later Go's domainToReverseLabels refuses it (a leading empty label).
 */
export function goUriHostHasLeadingDot(ia5: string): boolean {
  try {
    return goUrlParseBytes(ia5).host.startsWith(".");
  } catch (e) {
    if (e instanceof GoUrlError) return false;
    throw e;
  }
}
