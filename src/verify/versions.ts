/**
 * The nats-server behaviours the verifier models (reference §4). Each version-gated rule asks
 * atLeast(version, "x.y.z").
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { usageError } from "../errors";

export type ServerVersion = string;

/**
 * Where the modelled behaviour changes (the first release of each change):
 *  - 2.9.10   the baseline, checked case by case against the real binary;
 *  - 2.11.15, 2.12.6, and 2.13.0 on: RDNsMatch consumes each certificate RDN once
 *             (`CN=alice,CN=alice` no longer matches O=Acme/CN=alice); the fix was backported;
 *  - 2.14.1   a certificate with only DNS SANs and an empty subject is no longer refused;
 *  - 2.14.4   password-less certificate users cannot log in by name on listeners without mapping
 *             (a config finding, reported by lint).
 */
export const MODELLED_VERSIONS = ["2.9.10", "2.11.15", "2.12.6", "2.13.0", "2.14.1", "2.14.4"] as const;
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

/** The nats-server binary on PATH (or /usr/sbin), without running anything. */
function findServerBinary(): string | null {
  for (const dir of [...(process.env.PATH ?? "").split(path.delimiter), "/usr/sbin"]) {
    if (!dir) continue;
    const p = path.join(dir, "nats-server");
    if (!fs.existsSync(p)) continue; // accessSync throws (and builds an error) for every directory without it
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch {
      /* next */
    }
  }
  return null;
}

/**
 * The version of `nats-server` on PATH, else the newest modelled. Asking the binary costs a
 * process start, so the answer is cached per binary (path, size, mtime) in the temp directory.
 */
export function defaultServerVersion(): { version: ServerVersion; source: string } {
  const bin = findServerBinary();
  if (!bin) return { version: NEWEST_MODELLED, source: "newest modelled (no nats-server found)" };
  let key = bin;
  try {
    const st = fs.statSync(bin);
    key = `${fs.realpathSync(bin)}|${st.size}|${st.mtimeMs}`;
  } catch {
    /* uncached */
  }
  const cacheFile = path.join((require("node:os") as typeof import("node:os")).tmpdir(), `mtlsctl-nats-version-${process.getuid?.() ?? "u"}.json`);
  try {
    const c = JSON.parse(fs.readFileSync(cacheFile, "utf8"));
    if (c.key === key && typeof c.version === "string" && /^\d+\.\d+\.\d+$/.test(c.version)) return { version: c.version, source: `${bin} --version` };
  } catch {
    /* no cache yet */
  }
  // loaded only on a cache miss: node:child_process costs a few ms of start-up
  const { spawnSync } = require("node:child_process") as typeof import("node:child_process");
  const r = spawnSync(bin, ["--version"], { encoding: "utf8", timeout: 5000 });
  const m = r.stdout?.match(/v?(\d+\.\d+\.\d+)/);
  if (r.status !== 0 || !m) return { version: NEWEST_MODELLED, source: `newest modelled (${bin} --version gave no version)` };
  try {
    const tmp = `${cacheFile}.${process.pid}`;
    fs.writeFileSync(tmp, JSON.stringify({ key, version: m[1] }), { mode: 0o600 });
    fs.renameSync(tmp, cacheFile);
  } catch {
    /* caching is optional */
  }
  return { version: m[1], source: `${bin} --version` };
}
