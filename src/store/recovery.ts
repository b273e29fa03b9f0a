/**
 * What killed writers leave in and beside a file store, and how the next locked command finishes or
 * undoes it: temporary files, a staged CRL, staged CA and trust files (rollover, retire), files
 * published before their commit point (the inventory) and a half-made `ca init`. Each function takes
 * the store as the few paths and reads it needs (RecoverableStore), so that store.ts keeps the
 * inventory and this file the recovery rules.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { fsyncDir } from "./atomic";
import { pidAlive } from "./lock";
import type { Inventory, InventoryHeader } from "./types";

/** The parts of the file store that recovery reads and renames into. */
export interface RecoverableStore {
  readonly dir: string;
  path(...rel: string[]): string;
  readHeader(): InventoryHeader;
  readInventory(): Inventory;
  readonly caKeyFile: string;
  readonly caCertFile: string;
  readonly rootsFile: string;
  rootsText(inv: Pick<InventoryHeader, "previousCas">): string;
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/**
 * Undoes what a killed `ca init` / `ca import` left beside the store (createStore in src/ca.ts):
 * its staging directory `.<dir>.init-<pid>-<hex>` is removed, and a store it had moved aside to
 * `.<dir>.replaced-<pid>-<hex>` is put back when no new store took its place (else removed).
 * Only leftovers of processes that no longer run are touched. Errors are ignored (read-only parent).
 */
export function recoverInterruptedInit(dir: string): void {
  const parent = path.dirname(dir);
  const re = new RegExp(`^\\.${escapeRe(path.basename(dir))}\\.(init|replaced)-(\\d+)-[0-9a-f]+$`);
  let names: string[];
  try {
    names = fs.readdirSync(parent);
  } catch {
    return;
  }
  const dead = names.map((n) => ({ n, m: re.exec(n) })).filter((x) => x.m && !pidAlive(Number(x.m[2])));
  if (!dead.length) return;
  try {
    if (!fs.existsSync(dir)) {
      const old = dead.find((x) => x.m![1] === "replaced");
      if (old) fs.renameSync(path.join(parent, old.n), dir);
    }
    for (const x of dead) {
      const p = path.join(parent, x.n);
      if (fs.existsSync(p)) fs.rmSync(p, { recursive: true, force: true });
    }
  } catch {
    /* left for the next run */
  }
}

const STALE_TEMP = /^\..+\.(?:tmp-(\d+)-[0-9a-f]{8}|stale-(\d+))$/;

/** A CRL staged before its commit (see Store.commitCrl). */
const STAGED_CRL = /^\.crl-(\d+)\.pem$/;
export const stagedCrlName = (n: number): string => `.crl-${n}.pem`;
/** A CA or trust file staged by `ca rollover` / `ca retire` (see Store.recoverStagedCa). */
const STAGED_CA = /^\.(ca|roots)-([0-9a-f]+)\.(crt|key|pem)$/;

/**
 * Removes the temporary files of killed writers (`.<name>.tmp-<pid>-<hex>` from writeFileAtomic,
 * `.lock.stale-<pid>` from a lock take-over) in the store's directories. Called holding the lock;
 * files of processes that still run are left alone.
 */
export function removeStaleTempFiles(dir: string, subs = ["", "issued", "reqs", "private", "renewed", "nkeys", "previous", "db", "db/log", "db/idx"]): void {
  for (const sub of subs) {
    const d = path.join(dir, sub);
    let names: string[];
    try {
      names = fs.readdirSync(d);
    } catch {
      continue;
    }
    for (const n of names) {
      const m = STALE_TEMP.exec(n);
      if (!m || pidAlive(Number(m[1] ?? m[2]))) continue;
      try {
        fs.unlinkSync(path.join(d, n));
      } catch {
        /* gone, or not ours to remove */
      }
    }
  }
}

/**
 * A CRL is signed to `.crl-<number>.pem` before the inventory records that number (the commit
 * point), then renamed to crl.pem. A writer killed in between leaves the staged file: publish it
 * when the inventory recorded its number (the new state), delete it otherwise (the old state).
 * No CA key is needed, so this runs on every locked command.
 */
export function recoverStagedCrl(s: RecoverableStore): void {
  let names: string[];
  try {
    names = fs.readdirSync(s.dir).filter((n) => STAGED_CRL.test(n));
  } catch {
    return;
  }
  if (!names.length) return;
  let recorded: number | undefined;
  try {
    recorded = s.readHeader().crl?.number;
  } catch {
    return; // the command itself reports a broken inventory
  }
  for (const n of names) {
    const f = s.path(n);
    try {
      if (Number(STAGED_CRL.exec(n)![1]) === recorded) {
        fs.renameSync(f, s.path("crl.pem"));
        fsyncDir(s.dir);
      } else fs.unlinkSync(f);
    } catch {
      /* another try on the next command */
    }
  }
}

/**
 * `ca rollover` stages the new CA as `.ca-<serial>.crt` and `private/.ca-<serial>.key`, and both
 * rollover and `ca retire` stage the new trust file as `.roots-<sha256/16>.pem`, before the
 * inventory (the commit point) names the new state. A writer killed in between leaves them:
 * publish each one that the inventory's state calls for, delete the others (the old state).
 */
export function stagedCaFiles(s: RecoverableStore, withPrivate = true): string[] {
  const ls = (sub: string) => {
    try {
      return fs.readdirSync(s.path(sub)).filter((n) => STAGED_CA.test(n)).map((n) => path.join(sub, n));
    } catch {
      return [];
    }
  };
  // private/ holds every leaf key: listed only by the full sweep (the CA key is staged with its .crt in the top directory)
  return [...ls(""), ...(withPrivate ? ls("private") : [])];
}

/** Publishes or discards staged CA files (see stagedCaFiles); call it holding the lock. */
export function recoverStagedCa(s: RecoverableStore, withPrivate = true): void {
  const staged = stagedCaFiles(s, withPrivate);
  if (!staged.length) return;
  let inv: InventoryHeader;
  try {
    inv = s.readHeader();
  } catch {
    return;
  }
  // the CA first (the trust file is derived from it), then the trust file
  for (const rel of staged.sort((a, b) => Number(a.includes(".roots-")) - Number(b.includes(".roots-")))) {
    const m = STAGED_CA.exec(path.basename(rel))!;
    const f = s.path(rel);
    try {
      let to: string | null = null;
      if (m[1] === "ca" && m[2] === inv.ca.serial) to = m[3] === "key" ? s.caKeyFile : s.caCertFile;
      if (m[1] === "roots" && fs.readFileSync(f, "utf8") === s.rootsText(inv)) to = s.rootsFile;
      if (to) {
        fs.renameSync(f, to);
        fsyncDir(path.dirname(to));
      } else fs.unlinkSync(f);
    } catch {
      /* another try on the next command */
    }
  }
}

/**
 * Files that a killed writer published before its commit point (the inventory) and that the
 * inventory therefore does not list: issued/<name>.crt, reqs/<name>.csr, private/<name>.key and
 * renewed/<serial>.{crt,csr,key}. Called holding the lock, when no writer is between its renames and its
 * inventory write; nothing else in the store is touched (ca.crt, the CA key, crl.pem, nkeys/).
 */
export function removeUnlistedFiles(s: RecoverableStore): void {
  let inv: Inventory;
  try {
    inv = s.readInventory();
  } catch {
    return; // the command itself reports it
  }
  const listed = new Set<string>();
  for (const r of [inv.ca, ...inv.certificates, ...(inv.previousCas ?? [])]) for (const f of [r.certFile, r.keyFile, r.csrFile, r.chainFile]) if (f) listed.add(path.normalize(f));
  const kinds: [string, RegExp][] = [
    ["issued", /^[A-Za-z0-9_@-][A-Za-z0-9._@-]*\.crt$/],
    ["issued", /^[A-Za-z0-9_@-][A-Za-z0-9._@-]*\.fullchain\.pem$/], // an intermediate store's leaf + chain.pem
    ["reqs", /^[A-Za-z0-9_@-][A-Za-z0-9._@-]*\.csr$/],
    ["private", /^[A-Za-z0-9_@-][A-Za-z0-9._@-]*\.key$/],
    ["renewed", /^[0-9a-f]+\.(crt|csr|key)$/],
    ["previous", /^[0-9a-f]+\.crt$/],
  ];
  for (const [sub, re] of kinds) {
    let names: string[];
    try {
      names = fs.readdirSync(s.path(sub));
    } catch {
      continue;
    }
    for (const n of names) {
      const rel = path.join(sub, n);
      if (!re.test(n) || listed.has(rel) || rel === path.join("private", "ca.key")) continue;
      try {
        fs.unlinkSync(s.path(rel));
      } catch {
        /* not ours to remove */
      }
    }
  }
}
