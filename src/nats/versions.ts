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
 *             (a config finding, reported by lint).
 */
export const MODELLED_VERSIONS = ["2.9.10", "2.11.15", "2.12.6", "2.13.0", "2.14.1", "2.14.4"] as const;
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

/** Whether a certificate with only DNS SANs and an empty subject passes the "User required in cert" guard (2.14.1; 2.12.9 in the 2.12 line). */
export function dnsOnlyMapped(v: ServerVersion): boolean {
  return atLeast(v, "2.14.1") || (atLeast(v, "2.12.9") && !atLeast(v, "2.13.0"));
}

export function checkVersion(v: string): ServerVersion {
  const norm = parseVersion(v).join(".");
  if (!atLeast(norm, OLDEST_MODELLED)) throw usageError(`nats-server ${norm} is older than the oldest modelled version (${OLDEST_MODELLED})`);
  return norm;
}
