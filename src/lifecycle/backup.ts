/**
 * `backup` / `restore`: the whole store as one encrypted file. Library: no printing, no prompts.
 *
 * Format (all integers big-endian):
 *   0  "MTLSBAK\0"  magic (8 bytes)
 *   8  version      1 (1 byte)
 *   9  log2(N), r, p  scrypt parameters (1 byte each)
 *  12  salt         16 bytes
 *  28  check        16 bytes: HMAC-SHA256(scrypt key[32..64], "mtlsctl backup password check"), cut to 16
 *  44  nonce        12 bytes
 *  56  ciphertext   AES-256-GCM under scrypt key[0..32], the 56-byte header as additional data
 *  end tag          16 bytes
 * The plaintext is gzip of a JSON manifest: { format, version, createdAt, source, entries: [{ path,
 * type: "dir"|"file", mode, data (base64, files) }] }. The check tells a wrong password from a
 * damaged or altered file; the GCM tag (over header and contents) is verified before anything is
 * written. Only node:crypto and node:zlib: a tar library would add a dependency and still need this
 * envelope (age's npm package is ESM-only and adds X25519 recipients nobody asked for).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as crypto from "node:crypto";
import * as zlib from "node:zlib";
import { inputError } from "../errors";
import { LAYOUT, Store } from "../store/store";
import { fsyncDir, writeFileAtomic } from "../store/atomic";
import { crashPoint } from "../store/crashpoints";
import { abandonStaging, checkNewStoreDir, placeStore, stagingDirFor } from "../ca";

export const MAGIC = Buffer.from("MTLSBAK\0", "latin1");
const VERSION = 1;
const HEADER = 56;
const TAG = 16;
const CHECK_LABEL = "mtlsctl backup password check";
export const DEFAULT_KDF = { logN: 17, r: 8, p: 1 };
const FORMAT = "mtlsctl-store";

export interface Entry {
  path: string; // relative, "/"-separated
  type: "dir" | "file";
  mode: number;
  data?: string; // base64
}

interface Manifest {
  format: string;
  version: number;
  createdAt: string;
  source: string;
  entries: Entry[];
}

function deriveKeys(password: string, salt: Buffer, kdf: { logN: number; r: number; p: number }): { enc: Buffer; check: Buffer } {
  const N = 2 ** kdf.logN;
  const k = crypto.scryptSync(password.normalize("NFC"), salt, 64, { N, r: kdf.r, p: kdf.p, maxmem: 256 * N * kdf.r + 16 * 1024 * 1024 });
  return { enc: k.subarray(0, 32), check: crypto.createHmac("sha256", k.subarray(32)).update(CHECK_LABEL).digest().subarray(0, 16) };
}

/** Walks the store: every directory and regular file, hidden names (lock, temporary, staged files) left out. */
function collect(dir: string): Entry[] {
  const out: Entry[] = [];
  const walk = (rel: string) => {
    const abs = path.join(dir, rel);
    for (const name of fs.readdirSync(abs).sort()) {
      if (name.startsWith(".")) continue;
      const r = rel ? `${rel}/${name}` : name;
      const st = fs.lstatSync(path.join(dir, r));
      if (st.isDirectory()) {
        out.push({ path: r, type: "dir", mode: st.mode & 0o777 });
        walk(r);
      } else if (st.isFile()) out.push({ path: r, type: "file", mode: st.mode & 0o777, data: fs.readFileSync(path.join(dir, r)).toString("base64") });
      else throw inputError("not a regular file or directory: the store should hold none (remove it, then back up)", path.join(dir, r));
    }
  };
  walk("");
  return out;
}

export interface BackupResult {
  files: number;
  dirs: number;
  bytes: number;
  createdAt: string;
}

/** Writes the encrypted archive of the store (a consistent snapshot: taken holding the store lock). */
export function backup(store: Store, out: string, password: string, o: { force?: boolean; kdf?: typeof DEFAULT_KDF } = {}): BackupResult {
  const kdf = o.kdf ?? DEFAULT_KDF;
  const outAbs = path.resolve(out);
  if (!o.force && fs.existsSync(outAbs)) throw inputError("already exists (use --force to replace it)", outAbs);
  if ((outAbs + path.sep).startsWith(store.dir + path.sep)) throw inputError("the backup cannot be written inside the store it backs up", outAbs);
  const createdAt = new Date().toISOString();
  const entries = store.withLock(() => collect(store.dir));
  const manifest: Manifest = { format: FORMAT, version: 1, createdAt, source: store.dir, entries };
  const plain = zlib.gzipSync(Buffer.from(JSON.stringify(manifest)));
  const salt = crypto.randomBytes(16);
  const nonce = crypto.randomBytes(12);
  const keys = deriveKeys(password, salt, kdf);
  const header = Buffer.concat([MAGIC, Buffer.from([VERSION, kdf.logN, kdf.r, kdf.p]), salt, keys.check, nonce]);
  const c = crypto.createCipheriv("aes-256-gcm", keys.enc, nonce);
  c.setAAD(header);
  const data = Buffer.concat([header, c.update(plain), c.final(), c.getAuthTag()]);
  writeFileAtomic(outAbs, data, { mode: 0o600, exclusive: !o.force });
  return { files: entries.filter((e) => e.type === "file").length, dirs: entries.filter((e) => e.type === "dir").length, bytes: data.length, createdAt };
}

/** Decrypts and checks an archive entirely in memory; throws a one-line input error (exit 3) otherwise. */
export function openArchive(file: string, password: string): Manifest {
  let data: Buffer;
  try {
    data = fs.readFileSync(file);
  } catch {
    throw inputError("cannot read the backup", file);
  }
  if (data.length < MAGIC.length || !data.subarray(0, MAGIC.length).equals(MAGIC)) throw inputError("not an mtlsctl backup (no MTLSBAK header)", file);
  if (data.length < HEADER + TAG) throw inputError("the backup is truncated", file);
  const header = data.subarray(0, HEADER);
  if (header[8] !== VERSION) throw inputError(`backup format version ${header[8]} is not known to this mtlsctl (it reads version ${VERSION})`, file);
  const kdf = { logN: header[9], r: header[10], p: header[11] };
  if (kdf.logN < 10 || kdf.logN > 20 || kdf.r < 1 || kdf.r > 32 || kdf.p < 1 || kdf.p > 16) throw inputError("the backup's key-derivation parameters are out of range (damaged or altered)", file);
  const keys = deriveKeys(password, header.subarray(12, 28), kdf);
  if (!crypto.timingSafeEqual(keys.check, header.subarray(28, 44))) throw inputError("wrong backup password", file);
  let plain: Buffer;
  try {
    const d = crypto.createDecipheriv("aes-256-gcm", keys.enc, header.subarray(44, 56));
    d.setAAD(header);
    d.setAuthTag(data.subarray(data.length - TAG));
    plain = Buffer.concat([d.update(data.subarray(HEADER, data.length - TAG)), d.final()]);
  } catch {
    throw inputError("the backup is damaged, truncated or was altered (its authentication tag does not match)", file);
  }
  let m: Manifest;
  try {
    m = JSON.parse(zlib.gunzipSync(plain, { maxOutputLength: 4 * 1024 ** 3 - 1 }).toString("utf8"));
  } catch {
    throw inputError("the backup's contents cannot be read (made by another program?)", file);
  }
  checkManifest(m, file);
  return m;
}

const SEGMENT = /^[A-Za-z0-9_@-][A-Za-z0-9._@-]*$/;

function checkManifest(m: Manifest, file: string): void {
  if (!m || m.format !== FORMAT || m.version !== 1 || !Array.isArray(m.entries)) throw inputError("the backup's manifest is not an mtlsctl store", file);
  const seen = new Set<string>();
  for (const e of m.entries) {
    const ok =
      e &&
      typeof e.path === "string" &&
      e.path.split("/").every((s) => SEGMENT.test(s)) &&
      (e.type === "dir" || (e.type === "file" && typeof e.data === "string")) &&
      Number.isInteger(e.mode) &&
      e.mode >= 0 &&
      e.mode <= 0o777 &&
      !seen.has(e.path) &&
      (!e.path.includes("/") || seen.has(e.path.slice(0, e.path.lastIndexOf("/"))));
    if (!ok) throw inputError(`the backup's manifest has a bad entry (${JSON.stringify(String(e?.path)).slice(0, 80)})`, file);
    seen.add(e.path);
  }
  if (!Store.REQUIRED_FILES.every((f) => seen.has(f))) throw inputError("the backup holds no store (ca.crt or inventory.json missing)", file);
}

/** Secrets stay private whatever the archive says: keys and seeds 0600, their directories 0700. */
function modeFor(e: Entry): number {
  const secret = LAYOUT.secretDirs.some((d) => e.path === d || e.path.startsWith(d + "/")) || e.path.endsWith(".key");
  if (!secret) return e.mode;
  return e.type === "dir" ? (e.mode & 0o700) | 0o700 : (e.mode & 0o600) | 0o600;
}

export interface RestoreResult {
  dir: string;
  files: number;
  replaced: boolean;
  createdAt: string;
  source: string;
}

/**
 * Restores an archive into `dir`: checked and decrypted first, written into a staging directory
 * beside `dir`, read back as a store, then renamed into place (an existing store only with force).
 */
export function restore(file: string, password: string, dir: string, o: { force?: boolean } = {}): RestoreResult {
  const target = path.resolve(dir);
  const replacing = checkNewStoreDir(target, o.force);
  const m = openArchive(file, password);
  fs.mkdirSync(path.dirname(target), { recursive: true });
  const staging = stagingDirFor(target);
  try {
    fs.mkdirSync(staging, { mode: 0o700 });
    crashPoint(`staging directory created: ${staging}`);
    for (const e of m.entries) {
      const abs = path.join(staging, ...e.path.split("/"));
      if (e.type === "dir") fs.mkdirSync(abs, { mode: 0o700 });
      else {
        const fd = fs.openSync(abs, "wx", 0o600);
        try {
          fs.writeSync(fd, Buffer.from(e.data!, "base64"));
          fs.fsyncSync(fd);
        } finally {
          fs.closeSync(fd);
        }
        fs.chmodSync(abs, modeFor(e));
      }
    }
    for (const e of [...m.entries].reverse()) if (e.type === "dir") fs.chmodSync(path.join(staging, ...e.path.split("/")), modeFor(e));
    fs.chmodSync(staging, 0o755);
    fsyncDir(staging);
    // read back as a store before it takes the place of anything
    const st = new Store(staging);
    st.readInventory();
    st.caCertificate();
    if (replacing) {
      const old = new Store(target);
      old.withLock(() => placeStore(staging, target, true)); // no writer of the old store is half-way
    } else placeStore(staging, target, false);
  } catch (e) {
    abandonStaging(staging, target, e);
  }
  return { dir: target, files: m.entries.filter((e) => e.type === "file").length, replaced: replacing, createdAt: m.createdAt, source: m.source };
}
