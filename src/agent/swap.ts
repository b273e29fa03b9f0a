/**
 * The agent's files, replaced so that a crash at any point leaves a matching key and certificate.
 *
 * Two separate files cannot be replaced together by renames: a crash between the key's rename and
 * the certificate's leaves a new key beside the old certificate. So the agent keeps every pair in a
 * generation directory of its own, and the paths the user names are symbolic links into the one that
 * is current:
 *
 *   <cert dir>/.<cert name>.mtlsctl/g<N>/cert.pem   key.pem (0600)     a complete pair, flushed
 *   <cert dir>/.<cert name>.mtlsctl/current -> g<N>                    switched by one rename
 *   --cert F  -> <state>/current/cert.pem                               made once, then never touched
 *   --key F   -> <state>/current/key.pem
 *   --bundle F -> <state>/current/bundle.pem   (optional: the chain then the key, one file, 0600)
 *
 * A swap writes g<N+1> whole (flushed), then renames a new `current` link over the old one: the
 * commit point; programs that open F afterwards (nats-server on reload, nats.go on reconnect) read
 * the new pair, those that opened it before keep the old one. Existing plain files (a first run over
 * a hand-made pair) are first taken in as a generation of their own and the links made to it, so the
 * pair stays the old one until the first swap. A crash leaves at most a half-written generation that
 * no link names (removed by the next run) or links not yet made (made by the next run, repair()).
 * Crash points (src/store/crashpoints.ts) sit between the steps for the kill -9 test.
 *
 * A reader that opens the two paths one after the other (nats.js and nats.go read certFile, then
 * keyFile, on every connect) can still straddle a swap: the certificate of g<N>, the key of g<N+1>.
 * No layout of two files prevents that; the bundle does: one open, one generation (a program that
 * takes the same file as certificate and key but reads it twice is as exposed as with two files).
 */
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { MtlsctlError } from "../errors";
import { fsyncDir } from "../store/atomic";
import { crashPoint } from "../store/crashpoints";

export interface Owner {
  uid: number;
  gid: number;
}

export interface Pair {
  certPem: string;
  keyPem: string;
}

export interface Layout {
  certFile: string;
  keyFile: string;
  /** One PEM file with the certificate chain and the key, for readers that must read them at once. */
  bundleFile?: string;
  owner?: Owner;
}

/** The bundle: the certificate chain (leaf first), then the key. */
export const bundleOf = (pair: Pair): string => (pair.certPem.endsWith("\n") ? pair.certPem : pair.certPem + "\n") + pair.keyPem;

const GEN = /^g(\d+)$/;

export const stateDir = (l: Layout): string => path.join(path.dirname(path.resolve(l.certFile)), `.${path.basename(l.certFile)}.mtlsctl`);

function writeFlushed(file: string, data: string, mode: number, owner?: Owner): void {
  const fd = fs.openSync(file, "wx", mode);
  try {
    fs.writeSync(fd, data);
    fs.fchmodSync(fd, mode);
    if (owner) fs.fchownSync(fd, owner.uid, owner.gid);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** Points `link` at `target` by one rename of a new link over it (atomic for whoever opens `link`). */
function relink(link: string, target: string, owner?: Owner): void {
  const tmp = path.join(path.dirname(link), `.${path.basename(link)}.${process.pid}.${crypto.randomBytes(4).toString("hex")}.tmp`);
  fs.symlinkSync(target, tmp);
  if (owner) fs.lchownSync(tmp, owner.uid, owner.gid);
  fs.renameSync(tmp, link);
  fsyncDir(path.dirname(link));
}

function generations(state: string): number[] {
  try {
    return fs
      .readdirSync(state)
      .map((n) => GEN.exec(n))
      .filter((m): m is RegExpExecArray => !!m)
      .map((m) => Number(m[1]))
      .sort((a, b) => a - b);
  } catch {
    return [];
  }
}

function currentGen(state: string): number | null {
  try {
    const m = GEN.exec(fs.readlinkSync(path.join(state, "current")));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

const isLinkTo = (p: string, target: string): boolean => {
  try {
    return fs.lstatSync(p).isSymbolicLink() && fs.readlinkSync(p) === target;
  } catch {
    return false;
  }
};

/** The pair the paths name now (following the links), or null when either file is missing. */
export function readPair(l: Layout): Pair | null {
  try {
    return { certPem: fs.readFileSync(l.certFile, "utf8"), keyPem: fs.readFileSync(l.keyFile, "utf8") };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw new MtlsctlError(`cannot read the certificate or key: ${(e as Error).message}`, { exitCode: 3 });
  }
}

/**
 * Makes the layout whole after a crash: the user's paths link to current/ when there is a current
 * generation; generations that no link names are removed (a half-written one) except the one before
 * current (kept for a look back). Returns whether the state exists.
 */
export function repair(l: Layout): boolean {
  const state = stateDir(l);
  const cur = currentGen(state);
  if (cur === null) return false;
  const certTarget = path.join(state, "current", "cert.pem");
  const keyTarget = path.join(state, "current", "key.pem");
  if (!isLinkTo(l.keyFile, keyTarget)) relink(l.keyFile, keyTarget, l.owner);
  if (!isLinkTo(l.certFile, certTarget)) relink(l.certFile, certTarget, l.owner);
  if (l.bundleFile) {
    const bundleTarget = path.join(state, "current", "bundle.pem");
    const inGen = path.join(state, `g${cur}`, "bundle.pem");
    if (!fs.existsSync(inGen)) {
      // --bundle added after this generation was made: made from the generation's own pair (a new file, renamed in)
      const pair = { certPem: fs.readFileSync(path.join(state, `g${cur}`, "cert.pem"), "utf8"), keyPem: fs.readFileSync(path.join(state, `g${cur}`, "key.pem"), "utf8") };
      const tmp = `${inGen}.${process.pid}.tmp`;
      fs.rmSync(tmp, { force: true });
      writeFlushed(tmp, bundleOf(pair), 0o600, l.owner);
      fs.renameSync(tmp, inGen);
      fsyncDir(path.dirname(inGen));
    }
    if (!isLinkTo(l.bundleFile, bundleTarget)) relink(l.bundleFile, bundleTarget, l.owner);
  }
  for (const g of generations(state)) if (g !== cur && g !== cur - 1) fs.rmSync(path.join(state, `g${g}`), { recursive: true, force: true });
  return true;
}

function writeGeneration(state: string, n: number, pair: Pair, owner?: Owner, bundle?: boolean): string {
  const dir = path.join(state, `g${n}`);
  fs.rmSync(dir, { recursive: true, force: true }); // a half-written one from a crash
  fs.mkdirSync(dir, { mode: 0o750 });
  if (owner) fs.chownSync(dir, owner.uid, owner.gid);
  crashPoint(`agent: generation directory created: ${dir}`);
  writeFlushed(path.join(dir, "key.pem"), pair.keyPem, 0o600, owner);
  crashPoint(`agent: key written: ${dir}`);
  writeFlushed(path.join(dir, "cert.pem"), pair.certPem, 0o644, owner);
  if (bundle) writeFlushed(path.join(dir, "bundle.pem"), bundleOf(pair), 0o600, owner);
  fsyncDir(dir);
  crashPoint(`agent: generation complete, not yet current: ${dir}`);
  return dir;
}

/**
 * Installs `pair` as the files the user's paths name: a new generation, then the one rename that
 * makes it current. Plain files found at the paths are first taken in as a generation (so that every
 * crash point shows one whole pair). Returns the generation's directory.
 */
export function swap(l: Layout, pair: Pair): string {
  const state = stateDir(l);
  fs.mkdirSync(state, { recursive: true, mode: 0o755 });
  if (l.owner) fs.chownSync(state, l.owner.uid, l.owner.gid);
  repair(l);
  let cur = currentGen(state);
  if (cur === null) {
    // plain files (or none) at the paths: take a matching pair in as generation 1 and link to it first
    const old = readPair(l);
    if (old) {
      writeGeneration(state, 1, old, l.owner, !!l.bundleFile);
      relink(path.join(state, "current"), "g1", l.owner);
      crashPoint("agent: the old pair taken in as g1");
      repair(l);
      cur = 1;
    }
  }
  const n = Math.max(cur ?? 0, ...generations(state)) + 1;
  const dir = writeGeneration(state, n, pair, l.owner, !!l.bundleFile);
  relink(path.join(state, "current"), `g${n}`, l.owner); // the commit point
  crashPoint(`agent: current -> g${n}`);
  repair(l); // first run: the user's paths become links to current/
  return dir;
}
