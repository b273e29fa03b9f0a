/**
 * The oracle: `mtlsctl verify --json --server-version V` must decide exactly as the real
 * nats-server V does which user a client certificate becomes, or why it is refused — on every
 * server of the matrix (Debian's 2.9.10, and 2.9.25, 2.10.27, 2.11.17, 2.12.15, 2.14.10, 2.15.3
 * built by scripts/nats-servers.sh), the whole suite on each, one version after another (about 16 s
 * a version on 2 cores, under 2 minutes in all). Where servers differ, a case's expectation is
 * versioned (`since(...)`: the newest step not above the server applies) and every cell is what
 * the real server did.
 *
 * For each case of reference §5 (/work/shared/reference/nats-mapping.md) that a plain NATS client
 * can reproduce, a server config is written, the real server is started (with -D), the npm `nats`
 * client connects with the certificate (and the CONNECT user/password of the case), and
 * /connz?auth=true (authorized_user, account) or the server's log (TLS handshake error vs
 * Authorization Violation, and whether a user was mapped before the refusal) says what happened.
 * `mtlsctl verify <cert> --config <file> --json` runs on the same certificate, config and CONNECT
 * credentials. Each case asserts at once that the server's outcome (accepted, user, account, stage,
 * tier) is the one the reference gives and that the verifier's is that same one, so they agree and
 * a bug that breaks both the same way still fails; then that the verifier's tier (DN Equal vs
 * RDNsMatch) is the reference's, and that its reason contains the server's own deciding log line.
 *
 * Beyond §5: the URI table of §2.6, Go's parse-time refusals of §1.3 (R*), raw-byte user strings
 * (U4, U5), more chain cases (T*b/c, Trsa, Ted25519; T27-T29 excluded constraints, T7d, T8c), the
 * rules that follow the Go each server was built with (Trsa768, Trsa768i, Tneg; Tsha1 and Tserial25
 * beside them; Tneg and Tsha1 are made by OpenSSL: mtlsctl's encoder writes neither), the config
 * reader on includes, variables and environment variables (CFG*), and configs the server refuses to load (K*: `nats-server -t`
 * fails and verify exits 3 with stage "config", in the same words and at the same line and column).
 *
 * Cases share one server config where their users cannot change each other's outcome (every
 * expectation below is the reference's, so a grouping mistake fails too). Groups run four at a
 * time; each server is stopped when its group is done (and again in afterAll).
 *
 * Not reproduced here (they need another listener, command-line flags, restarts or no
 * certificate at all, or they concern a display string the verifier does not output):
 * T15 (no client certificate: verify needs one), X1 (MQTT), X2 (random across restarts),
 * X4/X5 (--tls* flags), M1 (the /connz display string; not a verify output). Certificates that
 * OpenSSL (under the npm client) refuses to load cannot be presented either: invalid UTF-8 in a
 * UTF8String, an odd-length BMPString.
 *
 * ORACLE_DUMP=<file> writes each case's deciding server log lines and the verifier's reason;
 * MTLSCTL_KEEP_ORACLE=1 keeps the work directory (configs, logs, certificates).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { nkeys } from "@nats-io/transport-node";
import { openssl, tmpDir, tool } from "./helpers/cli";
import * as crypto from "node:crypto";
import { dn, issue, makeCa, nameConstraints, writePair, spkiSha256, Issued, CertSpec, OID, KeyUsage, SubjectSpec } from "./helpers/certs";
import { ConnectAs, Observed, Server, UserSpec, VerdictJson, checkConfig, pool, probe, startServer, stopAll, verifyCli } from "./helpers/oracle";
import { natsServerMatrix } from "./helpers/nats";
import { atLeast } from "../src/nats/versions";
import { generateKey } from "../src/pki/keys";
import * as der from "../src/asn1/der";

jest.setTimeout(120_000);

// ------------------------------------------------------------------ what a case expects

type Tier = "email" | "dns" | "uri" | "dn" | "dn-reordered" | "subject-dc" | "subject";
type Want =
  /** Connected as this user (account: null for the global one), by this tier (null: no mapping). */
  | { user: string; tier: Tier | null; account?: string }
  /** Refused: at the TLS handshake, by the mapping (nobody found), or after mapping (the password). */
  | { refused: "tls" | "map"; tier?: undefined }
  | { refused: "auth"; tier: Tier | null }
  /** The server picks one of these at random on each connection. */
  | { random: string[]; tier: Tier }
  /** The server refuses to load the config (`nats-server -t` fails; verify exits 3). */
  | { config: true };

/**
 * What a case expects where servers differ: the entry of the newest version not above the server's
 * applies (the first entry's version is "2.9.10"). Every cell was observed on a real server.
 */
type Versioned = { since: [version: string, want: Want][] };
const since = (...steps: [string, Want][]): Versioned => ({ since: steps });
/** RDNsMatch consumes each certificate RDN once from 2.11.15, 2.12.6 and 2.13.0 on: a set-style match is refused. */
const rdnFix = (before: Want): Versioned => since(["2.9.10", before], ["2.11.15", { refused: "map" }], ["2.12.0", before], ["2.12.6", { refused: "map" }]);
/** Debian's 2.9.10 is built with Go 1.19; every later server of the matrix with Go 1.26 (src/nats/versions.ts goToolchain). */
const goT61 = (go119: Want, go126: Want): Versioned => since(["2.9.10", go119], ["2.9.11", go126]);

interface Case {
  id: string;
  why: string;
  /** A key of CERTS. */
  cert: string;
  connect?: ConnectAs;
  want: Want | Versioned;
  /**
   * The server's error position for this refused config changes from run to run (it visits the
   * top-level keys in Go's random map order): do not compare positions.
   */
  placeVaries?: boolean;
  /**
   * A token client: /connz's authorized_user is the token itself, or "[REDACTED]" from 2.10.28 and
   * 2.11.2 (server/client.go getRawAuthUser); the verifier names no user. Checked, then read as null.
   */
  tokenShownAs?: (version: string) => string;
  /** A line the server must log for this connection, and the verifier must give as a note. */
  alsoSays?: string;
}

interface Group {
  name: string;
  users?: UserSpec[];
  accounts?: Record<string, UserSpec[]>;
  noAuthUser?: string;
  /** authorization { user, password } or { token }: a single user, no users list. */
  singleUser?: { user?: string; password?: string; token?: string };
  /** Defaults: verify_and_map true, no verify key, ca_file the client CA (absolute). */
  tls?: { map?: boolean; verify?: boolean; caFile?: "client-ca" | "relative" | "none" | string; pinned?: string[]; extraLines?: string[] };
  /** Config text appended as is, and files written next to it first (e.g. includes). */
  extra?: string;
  files?: Record<string, string>;
  /** Environment of both the server and the verifier. */
  env?: (work: string) => Record<string, string>;
  cases: Case[];
}

/**
 * Random cases: 20 connections; if they all became the same user, more (up to 200) until another
 * user shows. Go's map iteration is not a fair coin: with two users the first slot visited is the
 * same one 7 times in 8 (the reference saw 15 to 1), so 20 alone would miss the second user about
 * once in 15 runs.
 */
const RANDOM_TRIES = 20;
const RANDOM_MAX_TRIES = 200;

// ------------------------------------------------------------------ certificates

const A: SubjectSpec = dn(["O", "Acme"], ["CN", "alice"]);
const DAY = 86_400_000;
const UNKNOWN_EXT = "1.3.6.1.4.1.99999.1";

interface Pki {
  ca: Issued;
  other: Issued;
  inter: Record<string, Issued>;
}

/** The client certificates: leaf, then what the client sends after it. */
const CERTS: Record<string, (p: Pki) => { leaf: Issued; chain?: Issued[] }> = {};
const leaf = (name: string, spec: Omit<CertSpec, "issuer"> & { issuer?: Issued }, chain?: (p: Pki) => Issued[]) => {
  CERTS[name] = (p) => ({ leaf: issue({ issuer: p.ca, ...spec }), chain: chain?.(p) });
};
const under = (inter: string, spec: Omit<CertSpec, "issuer">, extraChain: string[] = []) => (p: Pki) => ({
  leaf: issue({ ...spec, issuer: p.inter[inter] }),
  chain: [p.inter[inter], ...extraChain.map((x) => p.inter[x])],
});
/** CERTS[name]: a leaf of subject A (and `spec`) under the intermediate `inter`, sent with it (then `extraChain`). */
const leafUnder = (name: string, inter: string, spec: Omit<CertSpec, "issuer" | "subject"> = {}, extraChain: string[] = []) => {
  CERTS[name] = under(inter, { subject: A, ...spec }, extraChain);
};

leaf("A", { subject: A });
leaf("E1", { subject: dn(["CN", "x"]), sans: [{ email: "bob@example.com" }] });
leaf("E2", { subject: dn(["CN", "x"]), sans: [{ email: "Bob@Example.com" }] });
leaf("E3", { subject: dn(["CN", "x"]), sans: [{ email: "a@example.com" }, { email: "b@example.com" }] });
leaf("E4", { subject: A, sans: [{ email: "b@example.com" }, { dns: "h.example.com" }, { uri: "spiffe://t/x" }] });
leaf("E5", { subject: A, sans: [{ dns: "h.example.com" }, { uri: "spiffe://t/x" }] });
leaf("E6", { subject: A, sans: [{ uri: "spiffe://t/x" }] });
leaf("E7", { subject: dn(["O", "Acme"], ["CN", "alice"], ["emailAddress", "alice@example.com"]) });
leaf("E8", { subject: dn(["CN", "x"]), sans: [{ ip: "127.0.0.1" }] });
leaf("E9", { subject: dn(["CN", "x"]), sans: [{ dns: "H.Example.com" }] });
leaf("E10", { subject: dn(["CN", "x"]), sans: [{ dns: "*.example.com" }] });
leaf("E11", { subject: dn(["CN", "x"]), sans: [{ uri: "SPIFFE://Example.org/A" }] });
leaf("E12", { subject: dn(["CN", "x"]), sans: [{ uri: "spiffe://t/x#" }] });
leaf("E13", { subject: dn(["CN", "x"]), sans: [{ uri: "http://t/a b" }] });
leaf("E14", { subject: [], sans: [{ dns: "h.example.com" }] });
leaf("E15", { subject: [], sans: [{ email: "b@example.com" }] });
leaf("E16", { subject: A, sans: [{ email: "nomatch@example.com" }] });
leaf("D6", { subject: dn(["O", "Acme, Inc."], ["CN", "alice"]) });
leaf("D9", { subject: dn(["O", "Acme"], ["OU", "a"], ["OU", "b"], ["CN", "x"]) });
leaf("D12", { subject: [[["O", "Acme"], ["OU", "eng"]], [["CN", "x"]]] });
leaf("D14", { subject: dn(["CN", "a"], ["CN", "b"]) });
leaf("D16", { subject: dn(["DC", "org"], ["DC", "example"], ["O", "Acme"], ["CN", "alice"]) });
leaf("D18", { subject: dn(["DC", "org"], ["DC", "example"], ["UID", "u1"], ["CN", "alice"]) });
leaf("D19", { subject: dn(["DC", "org"], ["DC", "example"], ["UID", "u1"]) });
leaf("D25", { subject: dn(["CN", "a=b"]) });
leaf("D26", { subject: dn(["CN", "#1"]) });
leaf("D27", { subject: dn(["CN", " alice "]) });
leaf("D28", { subject: dn(["CN", "José"]) });
leaf("D30", { subject: dn(["CN", "Zoë", der.Tag.BMPString]) });
leaf("D31", { subject: dn(["CN", "alice"], ["SERIALNUMBER", "42", der.Tag.PrintableString]) });
leaf("D33", { subject: dn(["CN", "x"], ["OU", "u"], ["C", "US"], ["O", "o"], ["L", "LA"], ["ST", "CA"]) });
leaf("D35", { subject: dn(["CN", 'a"b']) });
leaf("D36", { subject: dn(["CN", "a\\b"]) });
leaf("D37", { subject: dn(["CN", "a\nb"]) });
leaf("D38", { subject: dn(["O", "mkcert development certificate"], ["OU", "testuser@MacBook-Pro.local (Test User)"]) });
leaf("D39", { subject: dn(["CN", "x#y}z$HOME'q"]) });
leaf("D40", { subject: dn(["title", "boss"]) });
leaf("D41", { subject: dn(["CN", "a+b"]) });
leaf("D42", { subject: dn(["DC", "org"], ["CN", "alice"]), sans: [{ email: "a@example.com" }] });
leaf("D43", { subject: dn(["CN", "alice"]) });
leaf("D44", { subject: [], sans: [{ email: "nobody@example.com" }] });
leaf("D45", { subject: dn(["O", "NATS"], ["OU", "Users"], ["CN", "Alice"]) });
leaf("D47", { subject: A, sans: [{ email: "CN=alice,O=Acme@x" }] });
leaf("U", { subject: dn(["CN", Buffer.from("Jos\xe9", "latin1"), der.Tag.T61String]) });
leaf("U4", { subject: dn(["CN", "Jos\ufffd"]) });
leaf("U5", { subject: dn(["CN", "Zo\u00eb\u0000", der.Tag.BMPString]) });
// parse-time rejections (reference §1.3): Go's x509 parser refuses these certificates in the handshake
leaf("R1", { subject: dn(["CN", "x"]), sans: [{ email: "caf\xe9@example.com" }] });
leaf("R2", { subject: dn(["CN", "x"]), sans: [{ dns: "h\xe9.example.com" }] });
leaf("R3", { subject: dn(["CN", "x"]), sans: [{ uri: "spiffe://t/%zz" }] });
leaf("R4", { subject: dn(["CN", "x"]), sans: [{ uri: "spiffe://a..b/x" }] });
leaf("R5", { subject: dn(["CN", "a@b", der.Tag.PrintableString]) });
leaf("R6", { subject: dn(["CN", "a*&b", der.Tag.PrintableString]) });
// (invalid UTF-8 in a UTF8String and an odd-length BMPString cannot be tested here: OpenSSL, under
// the npm client, refuses to load such a certificate, so the client never presents it)
leaf("R7", { subject: dn(["DC", Buffer.from("ex\xe9", "latin1")], ["CN", "x"]) });
leaf("R8", { subject: dn(["CN", Buffer.from([0, 0, 0, 0x75]), der.Tag.UniversalString]) });
// URI SANs as Go's url.String() writes them back (reference §2.6)
const URI_TABLE: [string, string][] = [
  ["HTTP://t:8080/x", "http://t:8080/x"],
  ["spiffe://t/x?", "spiffe://t/x?"],
  ["spiffe://t/x#a b", "spiffe://t/x#a%20b"],
  ["spiffe://t/%41", "spiffe://t/%41"],
  ["spiffe://t/a%2fb", "spiffe://t/a%2fb"],
  ["spiffe://t/a%7eb", "spiffe://t/a%7eb"],
  ["spiffe:/x", "spiffe:/x"],
  ["spiffe:///x", "spiffe:///x"],
  ["urn:uuid:6e8bc430-9c3a-11d9-9669-0800200c9a66", "urn:uuid:6e8bc430-9c3a-11d9-9669-0800200c9a66"],
  ["spiffe://user@t/x", "spiffe://user@t/x"],
];
URI_TABLE.forEach(([raw], i) => leaf(`URI${i + 1}`, { subject: dn(["CN", "x"]), sans: [{ uri: raw }] }));
leaf("URIonly", { subject: [], sans: [{ uri: "spiffe://t/only" }] });
leaf("DF", { subject: dn(["ST", "CA"], ["CN", "x"]) });
leaf("BOB", { subject: dn(["O", "Acme"], ["CN", "bob"]) });
leaf("BARE", { subject: dn(["CN", "bare"]) });
leaf("C2", { subject: A, sans: [{ email: "a@example.com" }] });
// TLS stage
leaf("T1", { subject: A, eku: [OID.serverAuth] });
leaf("T2", { subject: A, eku: null });
leaf("T3", { subject: A, eku: [OID.anyExtendedKeyUsage] });
leaf("T3b", { subject: A, eku: [OID.serverAuth, OID.clientAuth] });
leaf("T4", { subject: A, notBefore: new Date(Date.now() - 30 * DAY), notAfter: new Date(Date.now() - DAY) });
leaf("T5", { subject: A, notBefore: new Date(Date.now() + DAY), notAfter: new Date(Date.now() + 30 * DAY) });
CERTS["T6"] = (p) => ({ leaf: issue({ subject: A, issuer: p.other }) });
leafUnder("T7", "good");
CERTS["T7b"] = (p) => ({ leaf: issue({ subject: A, issuer: p.inter.good }) }); // intermediate not sent
leafUnder("T7c", "expired");
leafUnder("T8", "second", {}, ["path0"]);
leafUnder("T8b", "good2", {}, ["good"]); // two intermediates, no path length: fine
leafUnder("T9", "notCa");
leafUnder("T9b", "noBc");
leafUnder("T9c", "noCertSign");
leafUnder("T10", "serverOnly");
leafUnder("T11", "nc", { sans: [{ dns: "h.other.org" }] });
leafUnder("T11b", "nc", { sans: [{ dns: "h.example.com" }] });
leafUnder("T12", "nc");
leaf("T13", { subject: A, keyUsage: [KeyUsage.keyEncipherment] });
leaf("T13b", { subject: A, keyUsage: null });
leaf("T14", { subject: A, extraExtensions: [{ oid: UNKNOWN_EXT, critical: true, value: der.nul() }] });
leaf("T14b", { subject: A, extraExtensions: [{ oid: UNKNOWN_EXT, critical: false, value: der.nul() }] });
leafUnder("T14c", "critExt");
leaf("Trsa", { subject: A, key: generateKey("rsa-2048") });
leaf("Ted25519", { subject: A, key: generateKey("ed25519") });
leaf("T17", { subject: A });
leaf("T18pinned", { subject: A });
leaf("T18other", { subject: A });
// chain rules (issue 20 §2): name constraints of each kind on an intermediate, EKU nesting, order
leafUnder("T20", "ncEmail", { sans: [{ email: "a@other.org" }] });
leafUnder("T20b", "ncEmail", { sans: [{ email: "a@example.com" }] });
leafUnder("T20c", "ncEmail"); // no SAN at all: Go checks no name
leafUnder("T21", "ncExclDns", { sans: [{ dns: "x.bad.example.com" }] });
leafUnder("T21b", "ncExclDns", { sans: [{ dns: "x.good.example.com" }] });
leafUnder("T22", "ncUri", { sans: [{ uri: "spiffe://other.org/x" }] });
leafUnder("T22b", "ncUri", { sans: [{ uri: "spiffe://example.org/x" }] });
leafUnder("T23", "ncIp", { sans: [{ ip: "192.168.1.1" }] });
leafUnder("T23b", "ncIp", { sans: [{ ip: "10.1.2.3" }] });
leafUnder("T23c", "ncIp", { sans: [{ dns: "h.example.com" }] }); // a DNS SAN under IP-only constraints
leafUnder("T24", "clientOnly");
leafUnder("T24b", "emailOnly");
leafUnder("T24c", "clientOnly", { eku: [OID.serverAuth, OID.clientAuth] });
CERTS["T25"] = (p) => ({ leaf: issue({ subject: A, issuer: p.inter.good2 }), chain: [p.inter.good, p.inter.good2] }); // sent out of order
CERTS["T25b"] = (p) => ({ leaf: issue({ subject: A, issuer: p.inter.good }), chain: [p.other, p.inter.good] }); // an unrelated certificate first
CERTS["T25c"] = (p) => ({ leaf: issue({ subject: A, issuer: p.inter.good }), chain: [p.inter.good, p.inter.good] }); // the intermediate twice
// Go's rules that changed with the Go of each server (src/nats/versions.ts goRules), and more chain rules
const rsa768 = () => crypto.generateKeyPairSync("rsa", { modulusLength: 768 }).privateKey;
leaf("Trsa768", { subject: A, key: rsa768() });
leafUnder("Trsa768i", "rsa768");
leafUnder("T7d", "notYetValid");
leafUnder("T8c", "pl0inter");
CERTS["PL0root"] = (p) => ({ leaf: p.inter.pl0root }); // the ca_file of group T8c
leaf("Tserial25", { subject: A, serial: Buffer.concat([Buffer.from([0x7f]), Buffer.alloc(24, 0xab)]) });
leafUnder("T27", "ncExclEmail", { sans: [{ email: "a@bad.example.com" }] });
leafUnder("T27b", "ncExclEmail", { sans: [{ email: "a@example.com" }] });
leafUnder("T28", "ncExclUri", { sans: [{ uri: "spiffe://bad.example.org/x" }] });
leafUnder("T28b", "ncExclUri", { sans: [{ uri: "spiffe://example.org/x" }] });
leafUnder("T29", "ncExclIp", { sans: [{ ip: "10.9.1.1" }] });
leafUnder("T29b", "ncExclIp", { sans: [{ ip: "10.1.1.1" }] });
// a 5-octet IP SAN (after an email SAN), written as raw bytes
leaf("R9", { subject: dn(["CN", "x"]), extraExtensions: [{ oid: OID.subjectAltName, critical: false, value: der.seq(der.implicit(1, Buffer.from("x@example.com")), der.implicit(7, Buffer.from([1, 2, 3, 4, 5]))) }] });
/**
 * Made by OpenSSL (mtlsctl's encoder writes neither): signed by the client CA, subject O=Acme/CN=alice,
 * a clientAuth leaf; `serial` as `openssl x509 -set_serial` takes it, `md` the signature's digest.
 */
const OPENSSL_LEAVES: Record<string, { serial: string; md: "sha256" | "sha1" }> = {
  Tneg: { serial: "-12345", md: "sha256" },
  Tsha1: { serial: "4242", md: "sha1" },
};
/** Certificates the client's OpenSSL loads only at security level 0. */
const WEAK = new Set(["Trsa768", "Trsa768i", "Tsha1"]);
// authorization's single user (no users list) with verify_and_map (issue 20 §2)
leaf("SU", { subject: dn(["CN", "alice"]), sans: [{ email: "alice@example.com" }] });
leaf("SUbob", { subject: dn(["CN", "bob"]), sans: [{ email: "bob@example.com" }] });

function intermediates(ca: Issued): Record<string, Issued> {
  const i = (cn: string, spec: Omit<CertSpec, "subject" | "issuer"> = {}, issuer: Issued = ca) => issue({ subject: dn(["CN", cn]), issuer, basic: { ca: true }, ...spec });
  const good = i("Intermediate");
  const path0 = i("Intermediate pathLen 0", { basic: { ca: true, pathLen: 0 } });
  const pl0root = makeCa("Root pathLen 0", { basic: { ca: true, pathLen: 0 } });
  return {
    good,
    good2: i("Intermediate 2", {}, good),
    path0,
    second: i("Second intermediate", {}, path0),
    expired: i("Expired intermediate", { notBefore: new Date(Date.now() - 30 * DAY), notAfter: new Date(Date.now() - DAY) }),
    notCa: i("Intermediate CA FALSE", { basic: "leaf", keyUsage: [KeyUsage.keyCertSign], eku: null }),
    noBc: i("Intermediate without basicConstraints", { basic: "none", eku: null }),
    noCertSign: i("Intermediate without keyCertSign", { keyUsage: [KeyUsage.digitalSignature] }),
    serverOnly: i("Intermediate serverAuth only", { eku: [OID.serverAuth] }),
    nc: i("Intermediate constrained to example.com", { extraExtensions: [nameConstraints({ permittedDns: ["example.com"] })] }),
    critExt: i("Intermediate with an unknown critical extension", { extraExtensions: [{ oid: UNKNOWN_EXT, critical: true, value: der.nul() }] }),
    ncEmail: i("Intermediate constrained to email example.com", { extraExtensions: [nameConstraints({ permittedEmail: ["example.com"] })] }),
    ncExclDns: i("Intermediate excluding bad.example.com", { extraExtensions: [nameConstraints({ excludedDns: ["bad.example.com"] })] }),
    ncUri: i("Intermediate constrained to URI example.org", { extraExtensions: [nameConstraints({ permittedUri: ["example.org"] })] }),
    ncIp: i("Intermediate constrained to 10.0.0.0/8", { extraExtensions: [nameConstraints({ permittedIp: ["10.0.0.0/8"] })] }),
    clientOnly: i("Intermediate clientAuth only", { eku: [OID.clientAuth] }),
    emailOnly: i("Intermediate emailProtection only", { eku: ["1.3.6.1.5.5.7.3.4"] }),
    rsa768: i("Intermediate with an RSA-768 key", { key: rsa768() }),
    notYetValid: i("Not-yet-valid intermediate", { notBefore: new Date(Date.now() + DAY), notAfter: new Date(Date.now() + 30 * DAY) }),
    pl0root,
    pl0inter: i("Intermediate under a pathLen 0 root", {}, pl0root),
    ncExclEmail: i("Intermediate excluding email bad.example.com", { extraExtensions: [nameConstraints({ excludedEmail: ["bad.example.com"] })] }),
    ncExclUri: i("Intermediate excluding URI bad.example.org", { extraExtensions: [nameConstraints({ excludedUri: ["bad.example.org"] })] }),
    ncExclIp: i("Intermediate excluding 10.9.0.0/16", { extraExtensions: [nameConstraints({ excludedIp: ["10.9.0.0/16"] })] }),
  };
}

// ------------------------------------------------------------------ the cases (reference §5)

const nkeyUser = nkeys.createUser().getPublicKey();
const bcryptPw = (() => {
  const bcrypt = require("bcryptjs") as typeof import("bcryptjs");
  return bcrypt.hashSync("pw", 4).replace(/^\$2b\$/, "$2a$");
})();

const ALICE = "CN=alice,O=Acme";
const u = (...names: (string | Buffer)[]): UserSpec[] => names.map((n) => ({ user: n }));
const one = (id: string, why: string, cert: string, users: UserSpec[], want: Want | Versioned, connect?: ConnectAs): Group => ({ name: id, users, cases: [{ id, why, cert, want, connect }] });
/** Group T's two outcomes: refused at the handshake, or alice mapped by her DN (the group's one user). */
const TLS_REFUSED: Want = { refused: "tls" };
const ALICE_DN: Want = { user: ALICE, tier: "dn" };
/** A case of the certificate named as the case (CERTS[id]). */
const own = (id: string, why: string, want: Want | Versioned): Case => ({ id, why, cert: id, want });

const GROUPS: Group[] = [
  {
    name: "E-sans",
    users: u("bob@example.com", "b@example.com", "127.0.0.1", "h.example.com", "*.example.com", "SPIFFE://Example.org/A", "spiffe://Example.org/A", "spiffe://t/x#", "spiffe://t/x", "http://t/a b", "http://t/a%20b"),
    cases: [
      { id: "E1", why: "baseline email", cert: "E1", want: { user: "bob@example.com", tier: "email" } },
      { id: "E2", why: "email is exact, case-sensitive", cert: "E2", want: { refused: "map" } },
      { id: "E3", why: "every email is tried in order", cert: "E3", want: { user: "b@example.com", tier: "email" } },
      { id: "E8", why: "IP SANs are ignored", cert: "E8", want: { refused: "map" } },
      { id: "E9", why: "DNS is case-sensitive", cert: "E9", want: { refused: "map" } },
      { id: "E10", why: "a wildcard is a literal", cert: "E10", want: { user: "*.example.com", tier: "dns" } },
      { id: "E11", why: "URI scheme lower-cased", cert: "E11", want: { user: "spiffe://Example.org/A", tier: "uri" } },
      { id: "E12", why: "empty URI fragment dropped", cert: "E12", want: { user: "spiffe://t/x", tier: "uri" } },
      { id: "E13", why: "URI path re-escaped", cert: "E13", want: { user: "http://t/a%20b", tier: "uri" } },
      { id: "E14", why: "empty subject + DNS only: 'none found' before 2.14.1", cert: "E14", want: since(["2.9.10", { refused: "map" }], ["2.12.9", { user: "h.example.com", tier: "dns" }], ["2.13.0", { refused: "map" }], ["2.14.1", { user: "h.example.com", tier: "dns" }]) },
      { id: "E15", why: "empty subject + email passes the guard", cert: "E15", want: { user: "b@example.com", tier: "email" } },
    ],
  },
  {
    name: "E-uri",
    users: u(...URI_TABLE.map(([, s]) => s), "spiffe://t/only"),
    cases: [
      ...URI_TABLE.map(([raw, s], i): Case => ({ id: `URI${i + 1}`, why: `URI SAN ${JSON.stringify(raw)} compared as ${JSON.stringify(s)}`, cert: `URI${i + 1}`, want: { user: s, tier: "uri" } })),
      { id: "URIonly", why: "empty subject with a URI SAN passes the guard", cert: "URIonly", want: { user: "spiffe://t/only", tier: "uri" } },
    ],
  },
  one("E4", "email > DNS > URI > DN", "E4", u("b@example.com", "h.example.com", "spiffe://t/x", ALICE), { user: "b@example.com", tier: "email" }),
  one("E5", "DNS > URI > DN", "E5", u(ALICE, "h.example.com", "spiffe://t/x"), { user: "h.example.com", tier: "dns" }),
  one("E6", "URI > DN", "E6", u(ALICE, "spiffe://t/x"), { user: "spiffe://t/x", tier: "uri" }),
  one("E16", "fall-through from a non-matching email to the DN", "E16", u(ALICE), { user: ALICE, tier: "dn" }),
  {
    name: "D-misc",
    users: u(
      "alice@example.com", ALICE, // E7
      "CN=a=b", // D25
      "CN=#1", "CN=\\#1", // D26
      "CN= alice ", "CN=\\ alice\\ ", // D27
      "CN=José", // D28
      "CN=Zoë", // D30
      "serialnumber=42,CN=alice", // D31
      "CN=x,OU=u,O=o,L=LA,ST=CA,C=US", // D33
      'CN=a\\"b', // D35
      "CN=a\\\\b", // D36
      "CN=a\nb", // D37
      "OU=testuser@MacBook-Pro.local (Test User),O=mkcert development certificate", // D38
      "CN=x#y}z$HOME'q", // D39
      "2.5.4.12=boss", "CN=boss", // D40
      "CN=Alice,CN=Alice,O=NATS", // D45
    ),
    cases: [
      { id: "E7", why: "subject emailAddress is not a SAN; unknown OID skips the DN stage; Go string drops it", cert: "E7", want: { user: ALICE, tier: "subject" } },
      { id: "D25", why: "ParseDN mis-splits '='; the Go string matches", cert: "D25", want: { user: "CN=a=b", tier: "subject" } },
      { id: "D26", why: "a leading '#' must be escaped", cert: "D26", want: { user: "CN=\\#1", tier: "dn" } },
      { id: "D27", why: "edge spaces", cert: "D27", want: { user: "CN=\\ alice\\ ", tier: "dn" } },
      { id: "D28", why: "non-ASCII literal", cert: "D28", want: { user: "CN=José", tier: "dn" } },
      { id: "D30", why: "BMPString decoded to UTF-8", cert: "D30", want: { user: "CN=Zoë", tier: "dn" } },
      { id: "D31", why: "SERIALNUMBER printed first; type case folded", cert: "D31", want: { user: "serialnumber=42,CN=alice", tier: "dn" } },
      { id: "D33", why: "Go's canonical order (RDNsMatch)", cert: "D33", want: { user: "CN=x,OU=u,O=o,L=LA,ST=CA,C=US", tier: "dn-reordered" } },
      { id: "D35", why: "two escaping layers", cert: "D35", want: { user: 'CN=a\\"b', tier: "dn" } },
      { id: "D36", why: "backslash", cert: "D36", want: { user: "CN=a\\\\b", tier: "dn" } },
      { id: "D37", why: "newline not escaped", cert: "D37", want: { user: "CN=a\nb", tier: "dn" } },
      { id: "D38", why: "real-world mkcert subject", cert: "D38", want: { user: "OU=testuser@MacBook-Pro.local (Test User),O=mkcert development certificate", tier: "dn" } },
      { id: "D39", why: "config-hostile characters", cert: "D39", want: { user: "CN=x#y}z$HOME'q", tier: "dn" } },
      { id: "D40", why: "only an unknown OID: DN stage skipped, Go string empty", cert: "D40", want: { refused: "map" } },
      { id: "D45", why: "set-style RDNsMatch (upstream fix's own test; fixed in 2.11.15, 2.12.6)", cert: "D45", want: rdnFix({ user: "CN=Alice,CN=Alice,O=NATS", tier: "dn-reordered" }) },
    ],
  },
  one("D1", "baseline DN", "A", u(ALICE), { user: ALICE, tier: "dn" }),
  one("D2", "OpenSSL order accepted (RDNsMatch)", "A", u("O=Acme,CN=alice"), { user: "O=Acme,CN=alice", tier: "dn-reordered" }),
  one("D3", "type case-insensitive; user reported verbatim", "A", u("cn=alice,o=Acme"), { user: "cn=alice,o=Acme", tier: "dn" }),
  one("D4", "value case-sensitive", "A", u("CN=Alice,O=Acme"), { refused: "map" }),
  one("D5", "spaces trimmed", "A", u("CN = alice , O = Acme"), { user: "CN = alice , O = Acme", tier: "dn" }),
  one("D6", "escaped comma", "D6", u("CN=alice,O=Acme\\, Inc."), { user: "CN=alice,O=Acme\\, Inc.", tier: "dn" }),
  one("D7", "hex escape", "D6", u("CN=alice,O=Acme\\2C Inc."), { user: "CN=alice,O=Acme\\2C Inc.", tier: "dn" }),
  one("D8", "unescaped comma splits the RDN", "D6", u("CN=alice,O=Acme, Inc."), { refused: "map" }),
  one("D9", "Go merges repeated OU", "D9", u("CN=x,OU=a+OU=b,O=Acme"), { user: "CN=x,OU=a+OU=b,O=Acme", tier: "subject" }),
  one("D10", "true reversed order", "D9", u("CN=x,OU=b,OU=a,O=Acme"), { user: "CN=x,OU=b,OU=a,O=Acme", tier: "dn" }),
  one("D11", "Go keeps DER value order; the DN has 4 RDNs", "D9", u("CN=x,OU=b+OU=a,O=Acme"), { refused: "map" }),
  one("D12", "multi-valued RDN", "D12", u("CN=x,OU=eng+O=Acme"), { user: "CN=x,OU=eng+O=Acme", tier: "dn" }),
  one("D13", "Go flattens the multi-valued RDN", "D12", u("CN=x,OU=eng,O=Acme"), { user: "CN=x,OU=eng,O=Acme", tier: "subject" }),
  one("D14", "only the last CN survives in Go's string", "D14", u("CN=b"), { user: "CN=b", tier: "subject" }),
  one("D15", "the first CN is invisible", "D14", u("CN=a"), { refused: "map" }),
  {
    name: "D-dc",
    users: u("CN=alice,O=Acme,DC=example,DC=org", "CN=alice,DC=org,DC=example", ",DC=org,DC=example", "CN=alice,DC=org", "a@example.com"),
    cases: [
      { id: "D16", why: "DC in the DN stage", cert: "D16", want: { user: "CN=alice,O=Acme,DC=example,DC=org", tier: "dn" } },
      { id: "D18", why: "DER-order DCs; UID dropped", cert: "D18", want: { user: "CN=alice,DC=org,DC=example", tier: "subject-dc" } },
      { id: "D19", why: "leading comma", cert: "D19", want: { user: ",DC=org,DC=example", tier: "subject-dc" } },
      { id: "D42", why: "email before everything", cert: "D42", want: { user: "a@example.com", tier: "email" } },
    ],
  },
  one("D17", "DCs ignored entirely by Go's string", "D16", u(ALICE), { user: ALICE, tier: "subject" }),
  one("D20", "set-style RDNsMatch (fixed in 2.11.15, 2.12.6)", "A", u("CN=alice,CN=alice"), rdnFix({ user: "CN=alice,CN=alice", tier: "dn-reordered" })),
  one("D21", "map iteration: two Equal users", "A", u(ALICE, "cn=alice,o=Acme"), { random: [ALICE, "cn=alice,o=Acme"], tier: "dn" }),
  one("D22", "Equal beats reordered", "A", u("O=Acme,CN=alice", ALICE), { user: ALICE, tier: "dn" }),
  one("D23", "trailing empty attribute dropped", "A", u("CN=alice,O=Acme,OU="), { user: "CN=alice,O=Acme,OU=", tier: "dn" }),
  one("D24", "trailing comma", "A", u("CN=alice,O=Acme,"), { user: "CN=alice,O=Acme,", tier: "dn" }),
  one("D29", "hex-escaped UTF-8", "D28", u("CN=Jos\\C3\\A9"), { user: "CN=Jos\\C3\\A9", tier: "dn" }),
  one("D32", "OIDs are not names", "A", u("2.5.4.3=alice,2.5.4.10=Acme"), { refused: "map" }),
  one("D34", "';' is not a separator", "A", u("CN=alice;O=Acme"), { refused: "map" }),
  one("D41", "'+' must be escaped", "D41", u("CN=a+b", "CN=a\\+b"), { user: "CN=a\\+b", tier: "dn" }),
  one("D43", "a trailing '+' drops O=Acme", "D43", u("CN=alice,O=Acme+"), { user: "CN=alice,O=Acme+", tier: "dn" }),
  one("D44", "the empty DN equals the empty subject", "D44", u("CN="), { user: "CN=", tier: "dn" }),
  one("D46", "randomness in the RDNsMatch tier", "A", u("O=Acme,CN=alice", "o=Acme,cn=alice"), { random: ["O=Acme,CN=alice", "o=Acme,cn=alice"], tier: "dn-reordered" }),
  one("D47", "an email candidate never matches a DN user", "D47", u(ALICE), { user: ALICE, tier: "dn" }),
  // raw T61 bytes. authorized_user is JSON from Go, which writes the invalid byte as U+FFFD.
  // Go 1.26 (the matrix's builds) decodes a T61String as ISO 8859-1: "CN=José" in UTF-8, and the raw byte matches nothing
  one("U1", "raw T61 byte, user with the same raw byte (Go 1.19)", "U", u(Buffer.from("CN=Jos\xe9", "latin1")), goT61({ user: "CN=Jos\ufffd", tier: "dn" }, { refused: "map" })),
  one("U2", "raw T61 byte: U+FFFD in the Go string (Go 1.19)", "U", u("CN=Jos\ufffd"), goT61({ user: "CN=Jos\ufffd", tier: "subject" }, { refused: "map" })),
  one("U3", "raw T61 byte as a DN hex escape (Go 1.19)", "U", u("CN=Jos\\E9"), goT61({ user: "CN=Jos\\E9", tier: "dn" }, { refused: "map" })),
  one("U6", "a T61String read as Latin-1 (Go 1.26)", "U", u("CN=Jos\u00e9"), goT61({ refused: "map" }, { user: "CN=Jos\u00e9", tier: "dn" })),
  // not in §5: a user written with a raw byte is a different user from one with U+FFFD in UTF-8
  one("U4", "a user with the raw byte 0xE9 does not match a UTF8String U+FFFD", "U4", u(Buffer.from("CN=Jos\xe9", "latin1")), { refused: "map" }),
  one("U5", "a BMPString's trailing 00 00 is stripped by Go", "U5", u("CN=Zo\u00eb"), { user: "CN=Zo\u00eb", tier: "dn" }),
  {
    name: "R",
    users: u("CN=x", "caf\u00e9@example.com", "CN=a@b", "CN=a*&b", "CN=a\\FF", "CN=u"),
    cases: [
      { id: "R1", why: "non-ASCII byte in an email SAN", cert: "R1", want: { refused: "tls" } },
      { id: "R2", why: "non-ASCII byte in a DNS SAN", cert: "R2", want: { refused: "tls" } },
      { id: "R3", why: "URI SAN that url.Parse rejects", cert: "R3", want: { refused: "tls" } },
      { id: "R4", why: "URI SAN whose host is not a valid domain", cert: "R4", want: { refused: "tls" } },
      { id: "R5", why: "PrintableString with '@'", cert: "R5", want: { refused: "tls" } },
      { id: "R6", why: "PrintableString with '*' and '&' (Go allows them)", cert: "R6", want: { user: "CN=a*&b", tier: "dn" } },
      { id: "R7", why: "an IA5String (DC) with a non-ASCII byte", cert: "R7", want: { refused: "tls" } },
      { id: "R8", why: "a UniversalString value", cert: "R8", want: { refused: "tls" } },
      { id: "R9", why: "a 5-octet IP SAN", cert: "R9", want: { refused: "tls" } },
    ],
  },
  {
    name: "P1-P3",
    users: [{ user: ALICE, password: "pw" }],
    cases: [
      { id: "P1", why: "certificate + password: no password sent", cert: "A", want: { refused: "auth", tier: "dn" } },
      { id: "P2", why: "certificate + password: the password sent", cert: "A", connect: { pass: "pw" }, want: { user: ALICE, tier: "dn" } },
      { id: "P3", why: "certificate + password: a wrong password", cert: "A", connect: { pass: "nope" }, want: { refused: "auth", tier: "dn" } },
    ],
  },
  {
    name: "P4",
    users: [{ user: ALICE, password: bcryptPw }],
    cases: [
      { id: "P4", why: "bcrypt compare", cert: "A", connect: { pass: "pw" }, want: { user: ALICE, tier: "dn" } },
      { id: "P4b", why: "bcrypt compare, wrong password", cert: "A", connect: { pass: "pW" }, want: { refused: "auth", tier: "dn" } },
    ],
  },
  {
    name: "P4y",
    users: [{ user: ALICE, password: bcryptPw.replace(/^\$2a\$/, "$2y$") }],
    cases: [{ id: "P4y", why: "bcrypt with the $2y$ prefix", cert: "A", connect: { pass: "pw" }, want: { user: ALICE, tier: "dn" } }],
  },
  one("P5", "an extra password is fatal", "A", u(ALICE), { refused: "auth", tier: "dn" }, { pass: "x" }),
  {
    name: "P6",
    users: u(ALICE, "bob"),
    cases: [
      {
        id: "P6",
        why: "the user name sent is ignored",
        cert: "A",
        connect: { user: "bob" },
        want: { user: ALICE, tier: "dn" },
        alsoSays: 'User "bob" found in connect proto, but user required from cert',
      },
    ],
  },
  one("C1", "the connection-type filter applies in the DN stage", "A", [{ user: ALICE, allowed: ["WEBSOCKET"] }, { user: "O=Acme,CN=alice" }], { user: "O=Acme,CN=alice", tier: "dn-reordered" }),
  one("C2", "the filter on the exact stage continues the search", "C2", [{ user: "a@example.com", allowed: ["MQTT"] }, { user: ALICE }], { user: ALICE, tier: "dn" }),
  one("C3", "allowed_connection_types are upper-cased", "A", [{ user: ALICE, allowed: ["standard"] }], { user: ALICE, tier: "dn" }),
  one("DF", "attribute types compare with Go's EqualFold: 'ſT' is 'ST'", "DF", u("CN=x,\u017fT=CA"), { user: "CN=x,\u017fT=CA", tier: "dn" }),
  { name: "A1", accounts: { A: u(ALICE) }, cases: [{ id: "A1", why: "accounts share the table", cert: "A", want: { user: ALICE, tier: "dn", account: "A" } }] },
  { name: "A3", users: u("O=Acme,CN=alice"), accounts: { A: u(ALICE) }, cases: [{ id: "A3", why: "tiers cross blocks", cert: "A", want: { user: ALICE, tier: "dn", account: "A" } }] },
  one("N1", "nkeys do not block mapping", "A", [{ nkey: nkeyUser }, { user: ALICE }], { user: ALICE, tier: "dn" }),
  one("N2", "nkey users only: nothing to map to", "A", [{ nkey: nkeyUser }], { refused: "map" }),
  { name: "X3", users: u("bob", "CN=nobody"), noAuthUser: "bob", cases: [{ id: "X3", why: "no_auth_user is bypassed under map", cert: "A", want: { refused: "map" } }] },
  // issue 20 §2: accounts, no_auth_user, NKey users and a token mixed with verify_and_map, on every version
  {
    name: "MX1",
    accounts: { A: u("bob"), B: u(ALICE) },
    noAuthUser: "bob",
    cases: [
      { id: "MX1a", why: "no_auth_user in one account; the certificate maps into another", cert: "A", want: { user: ALICE, tier: "dn", account: "B" } },
      { id: "MX1b", why: "no_auth_user in an account: a certificate that maps to nobody is refused", cert: "E1", want: { refused: "map" } },
      { id: "MX1c", why: "no_auth_user in an account: the CONNECT name of its user does not help", cert: "E1", connect: { user: "bob" }, want: { refused: "map" } },
    ],
  },
  {
    name: "MX2",
    accounts: { A: [{ nkey: nkeyUser }, { user: "alice@example.com", password: "pw" }] },
    cases: [
      // the server logs `authentication error - Nkey ""` before 2.12.0 (nkey users exist), `User "alice@example.com"` from it
      { id: "MX2a", why: "an account with an nkey user and a certificate user with a password: none sent", cert: "SU", want: { refused: "auth", tier: "email" } },
      { id: "MX2b", why: "an account with an nkey user and a certificate user with a password: sent", cert: "SU", connect: { pass: "pw" }, want: { user: "alice@example.com", tier: "email", account: "A" } },
    ],
  },
  { name: "MX3", users: [{ nkey: nkeyUser }], accounts: { A: u(ALICE) }, cases: [{ id: "MX3", why: "nkey users in authorization, certificate users in an account", cert: "A", want: { user: ALICE, tier: "dn", account: "A" } }] },
  // (a token with accounts is refused too, but its words depend on Go's map order: "a token and accounts"
  // or "a token and a users array", from run to run; not a case here)
  {
    name: "V",
    users: u(ALICE),
    tls: { map: false, verify: true },
    cases: [
      { id: "V1", why: "verify without map: no user sent", cert: "A", want: { refused: "auth", tier: null } },
      { id: "V2", why: "verify without map: CONNECT names the password-less user", cert: "A", connect: { user: ALICE }, want: { user: ALICE, tier: null } },
      { id: "V2b", why: "verify without map: any trusted certificate can claim it", cert: "E1", connect: { user: ALICE }, want: { user: ALICE, tier: null } },
    ],
  },
  // authorization { user, password } or { token } with verify_and_map: no users table, so no certificate
  // is mapped; CONNECT's credentials decide (server/auth.go "simple auth", every version)
  {
    name: "SU",
    singleUser: { user: "alice@example.com", password: "s3cret" },
    cases: [
      { id: "SU1", why: "single user + verify_and_map: user and password sent", cert: "SU", connect: { user: "alice@example.com", pass: "s3cret" }, want: { user: "alice@example.com", tier: null } },
      { id: "SU2", why: "single user: a wrong password", cert: "SU", connect: { user: "alice@example.com", pass: "nope" }, want: { refused: "auth", tier: null } },
      { id: "SU3", why: "single user: no credentials (the certificate alone maps nothing)", cert: "SU", want: { refused: "auth", tier: null } },
      { id: "SU4", why: "single user: a token instead of user and password", cert: "SU", connect: { token: "s3cret" }, want: { refused: "auth", tier: null } },
      { id: "SU5", why: "single user: a certificate with another email, the right user and password", cert: "SUbob", connect: { user: "alice@example.com", pass: "s3cret" }, want: { user: "alice@example.com", tier: null } },
      { id: "SU6", why: "single user: another user name with the password", cert: "SUbob", connect: { user: "bob@example.com", pass: "s3cret" }, want: { refused: "auth", tier: null } },
    ],
  },
  {
    name: "TK",
    singleUser: { token: "s3cret" },
    cases: [
      {
        id: "TK1",
        why: "token + verify_and_map: the token sent",
        cert: "SU",
        connect: { token: "s3cret" },
        want: { user: null as never, tier: null },
        tokenShownAs: (v) => (atLeast(v, "2.11.2") || (atLeast(v, "2.10.28") && !atLeast(v, "2.11.0")) ? "[REDACTED]" : "s3cret"),
      },
      { id: "TK2", why: "token: none sent", cert: "SU", want: { refused: "auth", tier: null } },
      { id: "TK3", why: "token: user and password instead", cert: "SU", connect: { user: "alice@example.com", pass: "s3cret" }, want: { refused: "auth", tier: null } },
      { id: "TK4", why: "token: a wrong token", cert: "SU", connect: { token: "nope" }, want: { refused: "auth", tier: null } },
    ],
  },
  // the config reader: users from an include, a variable, an environment variable (re-parsed as a
  // config value), a single-quoted raw string and a bare string
  {
    name: "CFG",
    extra: 'include "cfg-users.inc"',
    files: { "cfg-users.inc": ["alice_dn: 'CN=alice,O=Acme'", "authorization {", "  users: [", "    {user: $alice_dn}", "    {user: $ORACLE_CFG_USER}", "    {user: 'CN=a\\b'}", "    {user: CN=bare}", "  ]", "}", ""].join("\n") },
    env: () => ({ ORACLE_CFG_USER: '"CN=bob,O=Acme"' }),
    cases: [
      { id: "CFG1", why: "a user named by a variable (defined and used in an included file)", cert: "A", want: { user: ALICE, tier: "dn" } },
      { id: "CFG2", why: "a user from an environment variable holding a quoted string", cert: "BOB", want: { user: "CN=bob,O=Acme", tier: "dn" } },
      { id: "CFG3", why: "single-quoted 'CN=a\\b' is raw: a DN parse error, and not Go's string", cert: "D36", want: { refused: "map" } },
      { id: "CFG4", why: "a bare string user", cert: "BARE", want: { user: "CN=bare", tier: "dn" } },
    ],
  },
  // configs the server refuses to load: verify must refuse them too (stage "config", exit 3)
  { name: "K1", users: u(ALICE), accounts: { A: u(ALICE) }, cases: [{ id: "K1", why: "the same user in authorization and an account", cert: "A", want: { config: true }, placeVaries: true }] },
  { name: "K2", users: u(ALICE), tls: { extraLines: ['min_version: "1.2"'] }, cases: [{ id: "K2", why: "a tls key newer than 2.9.10 (min_version, from 2.10.21)", cert: "A", want: since(["2.9.10", { config: true }], ["2.10.21", { user: ALICE, tier: "dn" }]) }] },
  { name: "K3", users: [{ nkey: "UABC" }], cases: [{ id: "K3", why: "a malformed nkey", cert: "A", want: { config: true } }] },
  { name: "K4", users: [{ user: ALICE, allowed: ["FOO"] }], cases: [{ id: "K4", why: "an unknown connection type", cert: "A", want: { config: true } }] },
  { name: "K5", users: u(ALICE), tls: { extraLines: ["verify_cert_and_check_known_urls: true"] }, cases: [{ id: "K5", why: "verify_cert_and_check_known_urls in the client tls block", cert: "A", want: { config: true } }] },
  {
    name: "K7",
    extra: ["outer_dn: 'CN=alice,O=Acme'", 'include "k7.inc"'].join("\n"),
    files: { "k7.inc": "authorization { users: [ {user: $outer_dn} ] }\n" },
    cases: [{ id: "K7", why: "a variable of the including file is not visible in the included file", cert: "A", want: { config: true } }],
  },
  { name: "K6", users: u(ALICE, ""), cases: [{ id: "K6", why: "an empty user", cert: "A", want: { config: true } }] },
  {
    name: "T",
    users: u(ALICE),
    tls: { caFile: "relative" }, // ca_file relative to the server's working directory (verify --server-cwd)
    cases: [
      own("T1", "serverAuth-only leaf", TLS_REFUSED),
      own("T2", "leaf without EKU", ALICE_DN),
      own("T3", "anyExtendedKeyUsage", ALICE_DN),
      own("T3b", "serverAuth + clientAuth", ALICE_DN),
      own("T4", "expired", TLS_REFUSED),
      own("T5", "not yet valid", TLS_REFUSED),
      own("T6", "signed by another CA", TLS_REFUSED),
      own("T7", "an intermediate sent by the client", ALICE_DN),
      own("T7b", "the intermediate not sent", TLS_REFUSED),
      own("T7c", "an expired intermediate", TLS_REFUSED),
      own("T8", "pathLen 0 with a second intermediate", TLS_REFUSED),
      own("T8b", "two intermediates, no path length", ALICE_DN),
      own("T9", "intermediate with CA:FALSE", TLS_REFUSED),
      own("T9b", "intermediate without basicConstraints", TLS_REFUSED),
      own("T9c", "intermediate whose KeyUsage lacks keyCertSign", TLS_REFUSED),
      own("T10", "serverAuth-only intermediate", TLS_REFUSED),
      own("T11", "name constraints: DNS SAN outside", TLS_REFUSED),
      own("T11b", "name constraints: DNS SAN inside", ALICE_DN),
      own("T12", "name constraints: no SANs", ALICE_DN),
      own("T13", "KeyUsage keyEncipherment only (ignored)", ALICE_DN),
      own("T13b", "no KeyUsage", ALICE_DN),
      own("T14", "unknown critical extension", TLS_REFUSED),
      own("T14b", "unknown non-critical extension", ALICE_DN),
      own("T14c", "unknown critical extension on the intermediate", TLS_REFUSED),
      own("Trsa", "RSA leaf", ALICE_DN),
      own("T20", "email constraint: an email SAN outside", TLS_REFUSED),
      own("T20b", "email constraint: an email SAN inside", ALICE_DN),
      own("T20c", "email constraint: a leaf without SAN", ALICE_DN),
      own("T21", "excluded DNS subtree: a SAN under it", TLS_REFUSED),
      own("T21b", "excluded DNS subtree: a SAN beside it", ALICE_DN),
      own("T22", "URI constraint: a URI host outside", TLS_REFUSED),
      own("T22b", "URI constraint: a URI host inside", ALICE_DN),
      own("T23", "IP constraint: an IP SAN outside", TLS_REFUSED),
      own("T23b", "IP constraint: an IP SAN inside", ALICE_DN),
      own("T23c", "IP-only constraints: a DNS SAN is not checked", ALICE_DN),
      own("T24", "intermediate EKU clientAuth: a clientAuth leaf", ALICE_DN),
      own("T24b", "intermediate EKU emailProtection only: a clientAuth leaf", TLS_REFUSED),
      own("T24c", "intermediate EKU clientAuth: a serverAuth+clientAuth leaf", ALICE_DN),
      own("T25", "two intermediates sent in the wrong order", ALICE_DN),
      own("T25b", "an unrelated certificate before the intermediate", ALICE_DN),
      own("T25c", "the intermediate sent twice", ALICE_DN),
      own("Ted25519", "Ed25519 leaf", ALICE_DN),
      // the Go of each server: its toolchain and its go.mod's GODEBUG defaults (src/nats/versions.ts goRules)
      own("Trsa768", "RSA-768 leaf (Go 1.24's rsa1024min, from go.mod go 1.24: 2.11.9)", since(["2.9.10", ALICE_DN], ["2.11.9", TLS_REFUSED])),
      own("Trsa768i", "RSA-768 intermediate (rsa1024min)", since(["2.9.10", ALICE_DN], ["2.11.9", TLS_REFUSED])),
      own("Tneg", "negative serial (Go 1.23's x509negativeserial, from go.mod go 1.23: 2.10.26)", since(["2.9.10", ALICE_DN], ["2.10.26", TLS_REFUSED])),
      own("Tsha1", "SHA-1 signature", TLS_REFUSED),
      own("Tserial25", "a 25-octet serial (over RFC 5280's 20)", ALICE_DN),
      own("T7d", "a not-yet-valid intermediate", TLS_REFUSED),
      own("T27", "excluded email subtree: a SAN under it", TLS_REFUSED),
      own("T27b", "excluded email subtree: a SAN beside it", ALICE_DN),
      own("T28", "excluded URI domain: a URI host under it", TLS_REFUSED),
      own("T28b", "excluded URI domain: a URI host beside it", ALICE_DN),
      own("T29", "excluded IP range: an IP SAN in it", TLS_REFUSED),
      own("T29b", "excluded IP range: an IP SAN outside it", ALICE_DN),
    ],
  },
  { name: "T8c", users: u(ALICE), tls: { caFile: "PL0root.crt" }, cases: [{ id: "T8c", why: "a root with pathLen 0 and one intermediate", cert: "T8c", want: { refused: "tls" } }] },
  {
    name: "T16",
    users: u(ALICE),
    tls: { caFile: "none" },
    env: (work) => ({ SSL_CERT_FILE: path.join(work, "client-ca.crt") }),
    cases: [
      { id: "T16", why: "no ca_file: system roots (SSL_CERT_FILE)", cert: "A", want: { user: ALICE, tier: "dn" } },
      { id: "T16b", why: "no ca_file: a CA outside the system roots", cert: "T6", want: { refused: "tls" } },
    ],
  },
  {
    name: "T17",
    users: u(ALICE),
    tls: { caFile: "T17.crt" },
    cases: [
      { id: "T17", why: "a leaf in ca_file is its own trust anchor", cert: "T17", want: { user: ALICE, tier: "dn" } },
      { id: "T17b", why: "its CA is not in ca_file", cert: "A", want: { refused: "tls" } },
    ],
  },
  {
    name: "T18",
    users: u(ALICE),
    tls: { pinned: ["T18pinned"] },
    cases: [
      { id: "T18", why: "pinned_certs: the pinned key", cert: "T18pinned", want: { user: ALICE, tier: "dn" } },
      { id: "T18b", why: "pinned_certs: another key", cert: "T18other", want: { refused: "tls" } },
    ],
  },
];

// ------------------------------------------------------------------ running them

interface Outcome {
  observed: Observed[];
  verdict: VerdictJson;
  /** For a config the server refuses: what `nats-server -t` said. */
  config?: { ok: boolean; output: string; configFile: string };
}
/** By `${version}/${case id}`. */
const outcomes = new Map<string, Outcome>();
const servers: Server[] = [];
const groupErrors = new Map<string, unknown>();
let work = "";
let pairs: Record<string, { cert: string; key: string }> = {};

/**
 * The servers: every one of the matrix (Debian's 2.9.10 first, then scripts/nats-versions.txt),
 * one after another; ORACLE_VERSIONS=2.9.10,2.15.3 narrows it for a local run.
 */
const SERVERS = (() => {
  const all = natsServerMatrix();
  const only = process.env.ORACLE_VERSIONS?.split(",").map((v) => v.trim().replace(/^v/, ""));
  return only ? all.filter((s) => only.includes(s.version)) : all;
})();

/** The case's expectation on this server version. */
function wantFor(c: Case, version: string): Want {
  if (!("since" in c.want)) return c.want;
  let w: Want | null = null;
  for (const [v, x] of c.want.since) if (atLeast(version, v)) w = x;
  if (!w) throw new Error(`${c.id}: no expectation for ${version}`);
  return w;
}

/** The log's tier names ("dn" covers both DN-stage tiers). */
const logTier = (t: Tier | string | null | undefined): string | null => (t === "dn-reordered" ? "dn" : (t ?? null));

/** What a side decided, in the reference's terms. */
interface Summary {
  accepted: boolean;
  user: string | null;
  account: string | null;
  stage: "tls" | "map" | "auth" | null;
  /** The tier that matched (as the server's log names it), also before a password refusal. */
  tier: string | null;
}

function fromObserved(o: Observed, mapConfig: boolean): Summary {
  if (o.connected) return { accepted: true, user: o.user, account: o.account, stage: null, tier: o.via };
  const stage = o.refusal === "tls" ? "tls" : o.mappedBeforeRefusal || !mapConfig ? "auth" : "map";
  return { accepted: false, user: null, account: null, stage, tier: o.refusal === "auth" ? o.via : null };
}

function fromVerdict(v: VerdictJson): Summary {
  if (v.accepted) return { accepted: true, user: v.user, account: v.account, stage: null, tier: logTier(v.matchedBy) };
  return { accepted: false, user: null, account: null, stage: v.stage === "config" ? ("config" as never) : v.stage, tier: v.stage === "auth" ? logTier(v.matchedBy) : null };
}

function fromWant(w: Want): Summary {
  if ("user" in w) return { accepted: true, user: w.user, account: w.account ?? null, stage: null, tier: logTier(w.tier) };
  if ("config" in w) throw new Error("config cases have no connection summary");
  if ("refused" in w) return { accepted: false, user: null, account: null, stage: w.refused, tier: w.refused === "auth" ? logTier(w.tier) : null };
  throw new Error("random cases have no single summary");
}

/**
 * What the server's log says decided this connection, in its own words: the TLS handshake error,
 * or the mapping's last word ("Using … for auth [...]", "User in cert [...], not found", …).
 * Times are replaced by "T" (the two sides look at the clock at different moments).
 */
function decisive(o: Observed): string | null {
  const lines = o.logLines.map((l) => l.replace(/^.*? - cid:\d+ - (?:"[^"]*" - )?/, ""));
  const tls = lines.find((l) => l.startsWith("TLS handshake error: "));
  if (tls) return noTimes(tls);
  const re = /^(Using .* for auth \[.*\]|User in cert \[.*\], not found|User required in cert, none found|authentication error - Nkey ".*")$/;
  const line = [...lines].reverse().find((l) => re.test(l));
  // Go's %q writes a byte that is not UTF-8 as \xHH; the verifier's JSON shows it as U+FFFD
  return line === undefined ? null : line.replace(/\\x[0-9a-f]{2}/g, "\ufffd");
}
const noTimes = (s: string) => s.replace(/current time \S+ is (after|before) \S+/g, "current time T is $1 T");

const connectKey = (c?: ConnectAs) => JSON.stringify([c?.user ?? null, c?.pass ?? null, c?.token ?? null]);

async function runGroup(g: Group, server: { version: string; bin: string }, serverTrust: string): Promise<void> {
  const { version, bin } = server;
  const t = g.tls ?? {};
  const ca = t.caFile ?? "client-ca";
  const caFile = ca === "none" ? null : ca === "client-ca" ? path.join(work, "client-ca.crt") : ca === "relative" ? "client-ca.crt" : path.join(work, ca);
  const env = g.env?.(work);
  for (const [name, text] of Object.entries(g.files ?? {})) fs.writeFileSync(path.join(work, name), text);
  const spec = {
    tls: {
      certFile: path.join(work, "server.crt"),
      keyFile: path.join(work, "server.key"),
      caFile,
      map: t.map ?? true,
      verify: t.verify,
      pinned: t.pinned?.map((name) => spkiSha256(leaves.get(name)!)),
      extraLines: t.extraLines,
    },
    users: g.users,
    accounts: g.accounts,
    noAuthUser: g.noAuthUser,
    singleUser: g.singleUser,
    extra: g.extra,
  };
  const verifyOpts = (cases: Case[]) => ({
    dir: work,
    // the T group on Debian's 2.9.10 leaves --server-version out: the default is the installed nats-server's
    serverVersion: g.name === "T" && version === "2.9.10" ? undefined : version,
    serverCwd: work,
    connectUser: cases[0].connect?.user,
    connectPassword: cases[0].connect?.pass,
    connectToken: cases[0].connect?.token,
    env,
  });
  const name = `v${version}-group-${g.name}`;

  // a config the server refuses to load: `nats-server -t`, and verify must exit 3
  if (g.cases.some((c) => "config" in wantFor(c, version))) {
    const check = await checkConfig(work, name, spec, { env, bin });
    const vs = await verifyCli(check.configFile, g.cases.map((c) => pairs[c.cert].cert), { ...verifyOpts(g.cases), configError: true });
    g.cases.forEach((c, i) => outcomes.set(`${version}/${c.id}`, { observed: [], config: check, verdict: vs[i] }));
    return;
  }

  const running = await startServer(work, name, spec, { env, bin });
  servers.push(running);
  // the verifier, one run per set of CONNECT credentials, while the server is probed
  const byConnect = new Map<string, Case[]>();
  for (const c of g.cases) byConnect.set(connectKey(c.connect), [...(byConnect.get(connectKey(c.connect)) ?? []), c]);
  const verdicts = new Map<string, VerdictJson>();
  const verifying = Promise.all(
    [...byConnect.values()].map(async (cases) => {
      const vs = await verifyCli(running.configFile, cases.map((c) => pairs[c.cert].cert), verifyOpts(cases));
      cases.forEach((c, i) => verdicts.set(c.id, vs[i]));
    }),
  );
  verifying.catch(() => undefined); // awaited below; no unhandled rejection meanwhile
  const observed = new Map<string, Observed[]>();
  try {
    for (const c of g.cases) {
      const list: Observed[] = [];
      const users = () => new Set(list.map((x) => x.user)).size;
      const w = wantFor(c, version);
      do list.push(await probe(running, pairs[c.cert], serverTrust, c.connect));
      while ("random" in w && (list.length < RANDOM_TRIES || (users() < 2 && list.length < RANDOM_MAX_TRIES)));
      observed.set(c.id, list);
    }
  } finally {
    await running.stop();
  }
  await verifying;
  for (const c of g.cases) outcomes.set(`${version}/${c.id}`, { observed: observed.get(c.id)!, verdict: verdicts.get(c.id)! });
}

/** The leaf written under each CERTS name (for pinned_certs). */
const leaves = new Map<string, Issued>();

beforeAll(() => {
  tool("nats-server"); // a missing binary fails here, never skips
  work = tmpDir("mtlsctl-oracle-");
  const ca = makeCa("Oracle Client CA");
  const other = makeCa("Oracle Other CA");
  const pki: Pki = { ca, other, inter: intermediates(ca) };
  fs.writeFileSync(path.join(work, "client-ca.crt"), ca.pem);
  // the server's own certificate comes from a separate CA, so the client's TLS library never
  // finds (and sends) a client certificate's issuer from its trust store
  const serverCa = makeCa("Oracle Server CA");
  fs.writeFileSync(path.join(work, "server-ca.crt"), serverCa.pem);
  writePair(work, "server", issue({ subject: dn(["CN", "nats"]), issuer: serverCa, sans: [{ dns: "localhost" }, { ip: "127.0.0.1" }], eku: [OID.serverAuth] }));
  pairs = {};
  for (const [name, make] of Object.entries(CERTS)) {
    const { leaf: l, chain } = make(pki);
    pairs[name] = writePair(work, name, l, chain);
    leaves.set(name, l);
  }
  // the OpenSSL-made leaves, signed with the client CA's key
  fs.writeFileSync(path.join(work, "client-ca.key"), ca.key.export({ type: "pkcs8", format: "pem" }) as string, { mode: 0o600 });
  fs.writeFileSync(path.join(work, "leaf.ext"), "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n");
  const sh = (args: string[]) => {
    const r = openssl(args, { cwd: work });
    if (r.code !== 0) throw new Error(`openssl ${args.join(" ")}: ${r.stdout}${r.stderr}`);
  };
  for (const [name, o] of Object.entries(OPENSSL_LEAVES)) {
    sh(["req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", `${name}.key`, "-subj", "/O=Acme/CN=alice", "-out", `${name}.csr`]);
    sh(["x509", "-req", "-in", `${name}.csr`, "-CA", "client-ca.crt", "-CAkey", "client-ca.key", "-set_serial", o.serial, "-days", "5", `-${o.md}`, "-extfile", "leaf.ext", "-out", `${name}.crt`]);
    pairs[name] = { cert: path.join(work, `${name}.crt`), key: path.join(work, `${name}.key`) };
  }
  for (const name of WEAK) (pairs[name] as { weak?: boolean }).weak = true;
});

/** Whether the verifier agreed with the server on accepted-or-not and on the user (the issue's count). */
function agrees(c: Case, version: string, o: Outcome | undefined): boolean {
  if (!o || !o.verdict) return false;
  const v = o.verdict;
  const w = wantFor(c, version);
  if ("config" in w) return !!o.config && !o.config.ok && v.stage === "config";
  if (!o.observed.length) return false;
  if ("random" in w) return v.accepted && v.ambiguous && o.observed.every((x) => x.connected && v.candidates.includes(x.user!));
  const s = o.observed[0];
  return s.connected === v.accepted && (!s.connected || (c.tokenShownAs ? s.user === c.tokenShownAs(version) && v.user === null : s.user === v.user));
}

afterAll(async () => {
  for (const { version } of SERVERS) {
    const agreed = ALL_CASES.filter(({ c }) => agrees(c, version, outcomes.get(`${version}/${c.id}`))).length;
    console.log(`agreement on nats-server ${version}: ${agreed}/${ALL_CASES.length} (certificates made by mtlsctl's encoder)`);
  }
  if (process.env.ORACLE_DUMP) {
    const rows = [...outcomes.entries()].map(([id, o]) => ({ id, server: o.observed[0]?.logLines.filter((l) => /ERR|WRN|Using|found|could not/.test(l)).map((l) => l.replace(/^.*? - (cid:\d+ - )?("[^"]*" - )?/, "")), config: o.config?.output, verifier: o.verdict?.reason, users: o.observed.map((x) => x.user) }));
    fs.writeFileSync(process.env.ORACLE_DUMP, JSON.stringify(rows, null, 1));
  }
  await stopAll(servers);
  if (work && !process.env.MTLSCTL_KEEP_ORACLE) fs.rmSync(work, { recursive: true, force: true });
});

function explain(c: Case, o: Outcome): string {
  const obs = o.observed.map((x) => (x.connected ? `connected as ${JSON.stringify(x.user)} (${x.via})` : `refused (${x.refusal}): ${x.clientError}\n    ${x.logLines.filter((l) => /ERR|WRN|auth|cert/.test(l)).join("\n    ")}`));
  return `${c.id} (${c.why})\n  server: ${obs.slice(0, 3).join("\n  server: ")}\n  verifier: ${JSON.stringify({ ...o.verdict, tlsChecks: undefined, file: undefined })}`;
}

const ALL_CASES = GROUPS.flatMap((g) => g.cases.map((c) => ({ g, c })));

test("every case id is unique", () => {
  const ids = ALL_CASES.map((x) => x.c.id);
  expect(ids.length).toBe(new Set(ids).size);
});

describe.each(SERVERS)("verify --json agrees with nats-server $version", ({ version, bin }) => {
  // one server per group, four groups at a time; the versions one after another (2 shared cores)
  beforeAll(async () => {
    // a group that fails (a server that would not start, a verifier that crashed) fails its own cases only
    await pool(4, GROUPS.map((g) => () => runGroup(g, { version, bin }, path.join(work, "server-ca.crt")).catch((e) => void groupErrors.set(`${version}/${g.name}`, e))));
  }, 115_000);

  test.each(ALL_CASES.map((x) => [`${x.c.id}: ${x.c.why}`, x] as const))("%s", (_title, { g, c }) => {
    const failed = groupErrors.get(`${version}/${g.name}`);
    if (failed) throw failed;
    const o = outcomes.get(`${version}/${c.id}`);
    if (!o || !o.verdict || !(o.observed.length || o.config)) throw new Error(`${c.id}: no outcome on ${version} (the setup failed)`);
    const v = o.verdict;
    const w = wantFor(c, version);
    expect(v.serverVersion).toBe(version);
    if ("config" in w) {
      // both refuse the file, the verifier in the server's words
      const said = o.config!.output
        .trim()
        .split("\n")
        .pop()!
        .replace(/^nats-server: /, "")
        .replace(/^.*?\.(conf|inc):\d+:\d+: /, "")
        .replace(/^error parsing include file '[^']*', /, "");
      const detail = `${c.id} (${c.why}) on ${version}\n  nats-server -t: ${o.config!.output.trim()}\n  verifier: ${JSON.stringify(v)}`;
      expect({ detail, server: o.config!.ok, verifier: { accepted: v.accepted, stage: v.stage } }).toEqual({ detail, server: false, verifier: { accepted: false, stage: "config" } });
      expect({ detail, sameWords: v.reason.includes(said) }).toEqual({ detail, sameWords: true });
      // and at the same place (the server prints file:line:col, mtlsctl "line L, column C" on stderr)
      const at = o.config!.output.match(/:(\d+):(\d+): /);
      if (at && !c.placeVaries) expect({ detail, samePlace: String(v.stderr).includes(`line ${at[1]}, column ${at[2]}`) }).toEqual({ detail, samePlace: true });
      return;
    }
    const mapConfig = (g.tls?.map ?? true) && !g.singleUser; // a single user or token: nothing to map to
    const detail = `on ${version}: ${explain(c, o)}`;
    if ("random" in w) {
      const seen = new Set(o.observed.map((x) => (x.connected ? x.user : `refused: ${x.refusal}`)));
      const counts = [...seen].map((u) => `${JSON.stringify(u)} ×${o.observed.filter((x) => (x.connected ? x.user : `refused: ${x.refusal}`) === u).length}`).join(", ");
      const server = { users: [...seen].sort(), tiers: [...new Set(o.observed.map((x) => x.via))], counts };
      const verifier = { accepted: v.accepted, ambiguous: v.ambiguous, candidates: [...v.candidates].sort(), user: v.user, matchedBy: v.matchedBy };
      const want = [...w.random].sort();
      // the server: every connection maps to one of the reference's users, and more than one was seen
      expect({ detail, server }).toEqual({ detail, server: { users: want, tiers: [logTier(w.tier)], counts } });
      // the verifier: ambiguous among exactly those, and every user the server picked is a candidate
      expect({ detail, verifier }).toEqual({ detail, verifier: { accepted: true, ambiguous: true, candidates: want, user: null, matchedBy: w.tier } });
      for (const s of seen) expect(v.candidates).toContain(s);
      return;
    }
    const want = fromWant(w);
    const server = fromObserved(o.observed[0], mapConfig);
    if (c.tokenShownAs) {
      expect({ detail, authorizedUser: server.user }).toEqual({ detail, authorizedUser: c.tokenShownAs(version) });
      server.user = null;
    }
    const verifier = fromVerdict(v);
    // the server does what the reference says, the verifier predicts exactly that
    expect({ detail, server, verifier }).toEqual({ detail, server: want, verifier: want });
    // and the verifier's finer tier (DN Equal vs RDNsMatch) is the reference's
    if (w.tier !== undefined && (want.accepted || want.stage === "auth")) expect({ detail, matchedBy: v.matchedBy }).toEqual({ detail, matchedBy: w.tier });
    if (c.alsoSays) {
      expect({ detail, server: o.observed[0].logLines.some((l) => l.includes(c.alsoSays!)) }).toEqual({ detail, server: true });
      expect({ detail, verifier: v.notes.some((n) => n.includes(c.alsoSays!)) }).toEqual({ detail, verifier: true });
    }
    // and the verifier says why in the server's own words (the log line that decided)
    const said = decisive(o.observed[0]);
    if (said !== null) expect({ detail, reason: noTimes(v.reason).includes(said) }).toEqual({ detail, reason: true });
    if (want.accepted) expect({ detail, ambiguous: v.ambiguous, candidates: v.candidates }).toEqual({ detail, ambiguous: false, candidates: want.user === null ? [] : [want.user] });
  });
});
