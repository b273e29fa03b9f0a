/**
 * The nats-server version the verifier models by default: the binary on PATH, else the newest
 * modelled. The versions and atLeast are in src/nats/versions.ts (re-exported here).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { NEWEST_MODELLED, type ServerVersion } from "../nats/versions";

export type { GoRules } from "../nats/versions";
export { MODELLED_VERSIONS, NEWEST_MODELLED, OLDEST_MODELLED, PROVEN_VERSIONS, parseVersion, atLeast, checkVersion, goRules, goToolchain, versionProof } from "../nats/versions";
export type { ServerVersion } from "../nats/versions";

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
  // an empty environment: nothing of this process (a passphrase variable, say) reaches the child
  const r = spawnSync(path.resolve(bin), ["--version"], { encoding: "utf8", timeout: 5000, env: {} });
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
