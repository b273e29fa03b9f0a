/**
 * The nats-server behaviours the verifier models (reference §4). Each version-gated rule asks
 * atLeast(version, "x.y.z").
 */
import { spawnSync } from "node:child_process";
import { usageError } from "../errors";

export type ServerVersion = string;

/** Versions whose behaviour differs (the first release of each change). */
export const MODELLED_VERSIONS = ["2.9.10", "2.14.0", "2.14.1", "2.14.4"] as const;
export const NEWEST_MODELLED = "2.14.5";
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

export function checkVersion(v: string): ServerVersion {
  const norm = parseVersion(v).join(".");
  if (!atLeast(norm, OLDEST_MODELLED)) throw usageError(`nats-server ${norm} is older than the oldest modelled version (${OLDEST_MODELLED})`);
  return norm;
}

/** The version of `nats-server` on PATH (or /usr/sbin), else the newest modelled. */
export function defaultServerVersion(): { version: ServerVersion; source: string } {
  for (const bin of ["nats-server", "/usr/sbin/nats-server"]) {
    const r = spawnSync(bin, ["--version"], { encoding: "utf8", timeout: 5000 });
    const m = r.stdout?.match(/v?(\d+\.\d+\.\d+)/);
    if (r.status === 0 && m) return { version: m[1], source: `${bin} --version` };
  }
  return { version: NEWEST_MODELLED, source: "newest modelled (no nats-server found)" };
}
