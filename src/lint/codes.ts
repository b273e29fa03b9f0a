/**
 * The findings of `mtlsctl lint`: one stable code per problem, with its severity and the
 * nats-server versions it applies to (reference nats-mapping.md §0, §1.1, §2, §3, §6).
 *
 * Severity (design.md): "error" = the server refuses the config, picks a user at random, locks a
 * user out, or lets one user in as another; "warning" = works, but not as written or not as
 * probably meant; "info" = harmless but worth knowing.
 */
import { atLeast } from "../nats/versions";

export type Severity = "error" | "warning" | "info";

/** Version ranges, npm-semver style: `>=a <b`, alternatives joined by ` || `. */
export const ALL = ">=2.9.10";
/** RDNsMatch reuses certificate RDNs (set-style) before the fix (d9271c24, backported to 2.11.15 and 2.12.6). */
export const SET_STYLE_RDNSMATCH = ">=2.9.10 <2.11.15 || >=2.12.0 <2.12.6";
/**
 * A password-less certificate user can log in by name on a listener without verify_and_map: fixed in
 * 2.14.4 and backported to 2.12.14 (server/auth.go canTLSMap; there is no 2.12.13); observed on the
 * matrix (test/lint.test.ts): 2.12.15 and 2.14.10 refuse, 2.11.17 accepts.
 */
export const NAME_LOGIN_HOLE = ">=2.9.10 <2.12.14 || >=2.13.0 <2.14.4";
/** `tls { ocsp_peer }` and `ocsp_cache` exist from 2.9.21 (backported, PR #4362); before, the key is refused (NATS000). */
export const OCSP_PEER = ">=2.9.21";

export interface CodeInfo {
  severity: Severity;
  versions: string;
  /** A short name for the problem (README table, --json `title`). */
  title: string;
}

export const CODES = {
  NATS000: { severity: "error", versions: ALL, title: "the server refuses to load the config" },
  NATS001: { severity: "error", versions: ALL, title: "users that parse to the same DN: random pick" },
  NATS002: { severity: "error", versions: ALL, title: "users whose RDNs tie in the order-insensitive match: random pick" },
  NATS003: { severity: "error", versions: ALL, title: "';' used as an RDN separator: never matches" },
  NATS004: { severity: "error", versions: ALL, title: "unescaped leading '#' in a value: never matches" },
  NATS005: { severity: "error", versions: ALL, title: "dotted-OID attribute type: never matches" },
  NATS006: { severity: "error", versions: ALL, title: "attribute type outside the server's table: never matches" },
  NATS007: { severity: "error", versions: ALL, title: "DN user that no certificate subject can match" },
  NATS008: { severity: "warning", versions: ALL, title: "unescaped '=' in a value: matches only by Go's exact string" },
  NATS009: { severity: "error", versions: ALL, title: "trailing '+' (or empty last value in a multi-valued RDN): the last RDN is dropped" },
  NATS010: { severity: "warning", versions: ALL, title: "trailing empty value or separator: dropped" },
  NATS011: { severity: "error", versions: ALL, title: "user DN parses to the empty DN" },
  NATS012: { severity: "error", versions: SET_STYLE_RDNSMATCH, title: "repeated RDN: matches certificates it should not" },
  NATS013: { severity: "warning", versions: ALL, title: "empty attribute value inside a user DN" },
  NATS020: { severity: "warning", versions: ALL, title: "certificate user that also has a password" },
  NATS021: { severity: "error", versions: NAME_LOGIN_HOLE, title: "password-less certificate users can log in by name on a listener without verify_and_map" },
  NATS022: { severity: "error", versions: ALL, title: "password-less certificate users, and no listener maps certificates" },
  NATS023: { severity: "error", versions: ALL, title: "verify_and_map: true with verify: false: changes from restart to restart" },
  NATS024: { severity: "info", versions: ALL, title: "verify and verify_and_map in one block: verify is redundant" },
  NATS025: { severity: "error", versions: ALL, title: "option given twice: the server picks one at random" },
  NATS026: { severity: "warning", versions: ALL, title: "the server warns about this option" },
  NATS027: { severity: "error", versions: ALL, title: "the server refuses to start (not caught by nats-server -t)" },
  NATS030: { severity: "error", versions: ALL, title: "client certificates verified without ca_file: every public CA is trusted" },
  NATS031: { severity: "warning", versions: ALL, title: "insecure has no effect on client certificates" },
  NATS032: { severity: "warning", versions: ALL, title: "pinned_certs entry that matches no known certificate" },
  NATS033: { severity: "error", versions: ALL, title: "pinned_certs entry that only a revoked certificate has" },
  NATS034: { severity: "warning", versions: OCSP_PEER, title: "ocsp_peer map without verify: true: no responder is asked" },
  NATS035: { severity: "warning", versions: OCSP_PEER, title: "ocsp_peer with the response cache on: a revoked certificate connects until its cached good answer expires" },
  NATS036: { severity: "warning", versions: OCSP_PEER, title: "ocsp_peer with warn_only: refusals are only logged" },
  NATS037: { severity: "warning", versions: OCSP_PEER, title: "ocsp_peer on, but a certificate names no OCSP responder: never checked" },
  NATS040: { severity: "error", versions: ALL, title: "certificate that maps to no user" },
  NATS041: { severity: "error", versions: ALL, title: "certificate that maps to several users: random pick" },
  NATS042: { severity: "error", versions: ALL, title: "certificate that maps to another user than its own identity" },
  NATS043: { severity: "error", versions: ALL, title: "certificate that the TLS stage refuses" },
  NATS044: { severity: "error", versions: ALL, title: "certificate whose extended key usage the server refuses" },
  NATS045: { severity: "error", versions: ALL, title: "certificate expired or not yet valid" },
  NATS046: { severity: "warning", versions: ALL, title: "certificate that maps to a user with a password" },
  NATS047: { severity: "warning", versions: ALL, title: "certificate that expires within 30 days" },
  NATS049: { severity: "warning", versions: ALL, title: "file in --certs that holds no certificate" },
} as const satisfies Record<string, CodeInfo>;

export type Code = keyof typeof CODES;

export interface Finding {
  code: Code;
  severity: Severity;
  /** The config file (or included file, or certificate file) the finding is about. */
  file: string;
  /** 1-based line; null for a finding about a whole certificate file. */
  line: number | null;
  /** 1-based column, when known. */
  col?: number;
  /** What is wrong, what the server actually does, and why it matters. */
  message: string;
  /** The nats-server versions the finding applies to (npm-semver range). */
  versions: string;
  /** How to fix it. */
  fix: string;
}

/** Whether version `v` is in `range` (the syntax of the constants above). */
export function inRange(range: string, v: string): boolean {
  return range.split("||").some((alt) =>
    alt
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .every((c) => {
        const m = /^(>=|<|=)?(\d+\.\d+\.\d+)$/.exec(c);
        if (!m) return false;
        if (m[1] === ">=") return atLeast(v, m[2]);
        if (m[1] === "<") return !atLeast(v, m[2]);
        return atLeast(v, m[2]) && atLeast(m[2], v);
      }),
  );
}

export const SEVERITY_RANK: Record<Severity, number> = { error: 0, warning: 1, info: 2 };
