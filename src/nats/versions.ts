/**
 * The nats-server behaviours modelled (reference §4). Each version-gated rule asks
 * atLeast(version, "x.y.z"). Here, below the config reader and the verifier that both ask; which
 * binary is on PATH is the verifier's question (src/verify/versions.ts).
 */
import { usageError } from "../errors";

export type ServerVersion = string;

/**
 * Where the modelled behaviour changes (the first release of each change):
 *  - 2.9.10   the baseline, checked case by case against the real binary;
 *  - 2.11.15, 2.12.6, and 2.13.0 on: RDNsMatch consumes each certificate RDN once
 *             (`CN=alice,CN=alice` no longer matches O=Acme/CN=alice); the fix was backported;
 *  - 2.14.1   a certificate with only DNS SANs and an empty subject is no longer refused (backported
 *             to 2.12.9; observed on 2.12.15);
 *  - 2.14.4   password-less certificate users cannot log in by name on listeners without mapping
 *             (backported to 2.12.14; a config finding, reported by lint);
 *  - 2.10.26, 2.11.9 and 2.12.0: Go's negative-serial and small-RSA refusals (goRules below).
 * The configuration language (src/nats/conf, each step observed with `nats-server -t` on the matrix
 * by test/conf-reader.test.ts): 2.9.20 the certificate-store tls keys, 2.9.21 ocsp_peer, 2.9.22 a key
 * at the end of a file is "config is invalid", 2.10.0 handshake_first and the top-level block lexer,
 * 2.10.8 tls.certs and `unknown field "k"` without brackets, 2.10.21 tls.min_version, 2.10.23
 * ca_certs_match and cert_match_skip_invalid, 2.11.0 server names without spaces and the config
 * digest's panic on a map from the environment (fixed in 2.12.6 and 2.14.0), 2.11.12, 2.12.4 and
 * 2.14.0 a self-referencing environment variable is an error (before: a stack overflow), 2.12.0
 * allow_insecure_cipher_suites, 2.14.10 `1e3` is a string (seen on 2.14.10, not in 2.14.5's source),
 * 2.15.0 `-t` validating the options as startup does (seen on 2.15.3; the 2.15 history before it is
 * not at hand).
 */
export const MODELLED_VERSIONS = ["2.9.10", "2.9.20", "2.9.21", "2.9.22", "2.10.0", "2.10.8", "2.10.21", "2.10.23", "2.11.0", "2.11.12", "2.11.15", "2.12.0", "2.12.4", "2.12.6", "2.13.0", "2.14.0", "2.14.1", "2.14.4", "2.14.10", "2.15.0"] as const;
export const NEWEST_MODELLED = "2.15.3";

/**
 * The servers the differential suite (test/oracle.test.ts) runs against, every case agreeing: Debian's
 * 2.9.10 and the newest patch of each minor in scripts/nats-versions.txt (there was never a 2.13).
 * Keep in step with that file.
 */
export const PROVEN_VERSIONS = ["2.9.10", "2.9.25", "2.10.27", "2.11.17", "2.12.15", "2.14.10", "2.15.3"] as const;

/**
 * null when `v` is a proven server; else one sentence saying how it is modelled: another patch of a
 * proven minor follows that minor's proven server except where the source shows a change between
 * them (modelled, not observed); a minor outside the matrix is not proven at all.
 */
export function versionProof(v: ServerVersion): string | null {
  if ((PROVEN_VERSIONS as readonly string[]).includes(v)) return null;
  const [maj, min] = parseVersion(v);
  const sameMinor = PROVEN_VERSIONS.filter((p) => p.startsWith(`${maj}.${min}.`));
  if (sameMinor.length)
    return `nats-server ${v} has not been run against here: it is modelled as ${sameMinor.join(" and ")} (proven case by case), with the changes the source shows between them; those are modelled, not observed`;
  return `nats-server ${v} is not a version mtlsctl has been proven against (the matrix: ${PROVEN_VERSIONS.join(", ")}): its behaviour is extrapolated from the nearest and may be wrong`;
}
export const OLDEST_MODELLED = "2.9.10";

export function parseVersion(v: string): number[] {
  const m = v.replace(/^v/, "").match(/^(\d+)\.(\d+)\.(\d+)$/);
  if (!m) throw usageError(`--server-version takes a version such as 2.9.10 (got "${v}")`);
  return [Number(m[1]), Number(m[2]), Number(m[3])];
}

export function atLeast(v: ServerVersion, min: string): boolean {
  const a = parseVersion(v);
  const b = parseVersion(min);
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i] > b[i];
  return true;
}

/**
 * The Go toolchain whose crypto/x509 and crypto/tls are modelled for a server version: Debian's
 * 2.9.10 is built with Go 1.19.8; the matrix's later servers (scripts/nats-servers.sh) with the
 * machine's Go 1.26, and what they do was observed on those builds. Where Go changed (seen on the
 * matrix): crypto/tls writes "tls: failed to verify certificate: …" (Go 1.19: "… client
 * certificate: …") and "x509: unhandled critical extension" without the OID; T61String values
 * are decoded as ISO 8859-1 (Go 1.19 kept their raw bytes).
 */
export function goToolchain(v: ServerVersion): "go1.19" | "go1.26" {
  return atLeast(v, "2.9.11") ? "go1.26" : "go1.19";
}

/**
 * The `go` line of nats-server's go.mod at version `v` (its tags, 2.9.0 to 2.14.5; 2.12.15, 2.14.10 and
 * 2.15.3 read from the module proxy's copies the matrix builds). A build takes the GODEBUG defaults of
 * its main module's go line, whatever the toolchain (`go version -m` shows them as DefaultGODEBUG:
 * 2.9.25's has rsa1024min=0 and x509negativeserial=1, 2.10.27's rsa1024min=0, 2.11.17's neither).
 * Steps only where the line crossed a GODEBUG change modelled here; later patches of 2.14 and 2.15
 * say go 1.26, which changes nothing modelled.
 */
const GO_MOD_LINE: [since: string, go: number][] = [
  ["2.9.0", 19],
  ["2.10.0", 20],
  ["2.10.26", 23],
  ["2.11.0", 23],
  ["2.11.9", 24],
  ["2.11.14", 25],
  ["2.12.0", 24],
  ["2.12.5", 25],
  ["2.14.0", 25],
];

/** The minor version of Go in nats-server's go.mod (1.N: N) at `v`. */
export function goModMinor(v: ServerVersion): number {
  let go = GO_MOD_LINE[0][1];
  for (const [since, n] of GO_MOD_LINE) if (atLeast(v, since)) go = n;
  return go;
}

/**
 * The crypto/x509 and crypto/rsa rules that differ across the matrix (Go's internal/godebugs table:
 * a rule applies when the toolchain has it and the go.mod line is at least the Go version that made
 * it the default):
 *  - negativeSerial: x509.ParseCertificate refuses a negative serial number ("x509: negative serial
 *    number"), Go 1.23 on (GODEBUG x509negativeserial=1 restores the old acceptance); Go 1.19 accepts;
 *  - rsa1024min: every RSA signature verification with a key under 1024 bits fails ("crypto/rsa:
 *    N-bit keys are insecure (see https://go.dev/pkg/crypto/rsa#hdr-Minimum_key_size)"), Go 1.24 on
 *    (GODEBUG rsa1024min=0 turns it off).
 * Debian's 2.9.10 (Go 1.19.8) has neither; a GODEBUG in the server's environment is not modelled.
 */
export interface GoRules {
  toolchain: "go1.19" | "go1.26";
  negativeSerialRefused: boolean;
  rsa1024min: boolean;
}
export function goRules(v: ServerVersion): GoRules {
  if (goToolchain(v) === "go1.19") return { toolchain: "go1.19", negativeSerialRefused: false, rsa1024min: false };
  const go = goModMinor(v);
  return { toolchain: "go1.26", negativeSerialRefused: go >= 23, rsa1024min: go >= 24 };
}

/** Whether a certificate with only DNS SANs and an empty subject passes the "User required in cert" guard (2.14.1; 2.12.9 in the 2.12 line). */
export function dnsOnlyMapped(v: ServerVersion): boolean {
  return atLeast(v, "2.14.1") || (atLeast(v, "2.12.9") && !atLeast(v, "2.13.0"));
}

export function checkVersion(v: string): ServerVersion {
  const norm = parseVersion(v).join(".");
  if (!atLeast(norm, OLDEST_MODELLED)) throw usageError(`nats-server ${norm} is older than the oldest modelled version (${OLDEST_MODELLED})`);
  return norm;
}
