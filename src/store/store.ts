/**
 * The store (design.md): easy-rsa's layout plus an inventory.
 *
 *   <dir>/ca.crt  <dir>/private/ca.key  <dir>/issued/<name>.crt  <dir>/private/<name>.key
 *   <dir>/reqs/<name>.csr  <dir>/inventory.json  <dir>/renewed/<serial>.crt  <dir>/crl.pem
 *
 * The inventory is the commit point: a certificate exists when the inventory lists it. Files are
 * written atomically before the inventory names them, so a crash leaves the old state (perhaps with
 * an unlisted file that the next issue of that name replaces) or the new one.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { createPublicKey, KeyObject } from "node:crypto";
import { inputError, MtlsError } from "../errors";
import { fsyncDir, writeFileAtomic } from "./atomic";
import { acquireLock, pidAlive } from "./lock";
import { crashPoint } from "./crashpoints";
import { ParsedCertificate, readCertificates } from "../pki/cert";
import { loadPrivateKey, isEncryptedKeyPem, checkKeyFileMode } from "../pki/keys";
import type { Sans } from "../pki/san";
import type { UserPermissions } from "../nats/permissions";

export type CertKind = "ca" | "client" | "server";
export type CertStatus = "valid" | "revoked" | "superseded";

export interface CertRecord {
  name: string;
  kind: CertKind;
  serial: string; // lower-case hex
  subject: string; // RFC 4514
  sans: Sans;
  profile: string;
  keyType: string;
  notBefore: string; // ISO 8601
  notAfter: string;
  status: CertStatus;
  revokedAt: string | null;
  revocationReason: string | null;
  fingerprint: string; // SHA-256 hex of the DER
  /** Paths relative to the store. */
  certFile: string;
  keyFile: string | null;
  csrFile: string | null;
  issuedAt: string;
  /** The serial of the certificate that replaced this one under the same name (renew, or issue --force). */
  renewedBy?: string | null;
  /** The serial of the certificate this one replaced. */
  renews?: string | null;
  /** The NATS account of its user (`config nats` lists it in accounts { NAME { users } }); absent: the global users list. */
  account?: string;
  /** The NATS permissions of its user (src/nats/permissions.ts); absent: `config nats`' defaults. */
  permissions?: UserPermissions;
  /** Intermediate stores (issue 10): issued/<name>.fullchain.pem, the certificate then chain.pem (a cert_file to present). */
  chainFile?: string | null;
  /** The CA (serial) that signed it when that is no longer the store's CA (stamped by `ca rollover`); absent: inv.ca. */
  caSerial?: string;
}

/** A CA replaced by `ca rollover`: trusted beside the new one (roots.pem) until `ca retire`. */
export interface PreviousCa extends CertRecord {
  /** overlap: still in roots.pem; retired: removed from it (its certificates are refused). */
  caStatus: "overlap" | "retired";
  replacedAt: string;
  replacedBy: string;
  retiredAt: string | null;
}

/** The latest CRL the store signed (`revoke`, `crl`). */
export interface CrlState {
  /** The CRL number of the latest CRL (monotonic; the next CRL gets number + 1). */
  number: number;
  thisUpdate: string; // ISO 8601
  nextUpdate: string;
}

export interface Inventory {
  version: 1;
  ca: CertRecord;
  certificates: CertRecord[];
  /** Absent until the first CRL. */
  crl?: CrlState;
  /** NKey users (`nkey create`); absent until the first. Names share the certificates' name space. */
  nkeys?: NkeyRecord[];
  /** CAs replaced by `ca rollover` (previous/<serial>.crt, private/previous-<serial>.key); absent until the first. */
  previousCas?: PreviousCa[];
}

/** The CA that signed a record, and whether the store still trusts it. */
export function caOf(inv: Inventory, rec: CertRecord): { serial: string; status: "current" | "overlap" | "retired" } {
  // a store's own CA (and previous ones) is itself; a sub-CA it signed (profile "sub-ca", issue 10) is like a leaf
  const serial = rec.kind === "ca" && rec.profile !== "sub-ca" ? rec.serial : rec.caSerial ?? inv.ca.serial;
  if (serial === inv.ca.serial) return { serial, status: "current" };
  return { serial, status: inv.previousCas?.find((p) => p.serial === serial)?.caStatus ?? "retired" };
}

/** An NKey user pair: the seed is in nkeys/<name>.nk (mode 0600), never in the inventory. */
export interface NkeyRecord {
  name: string;
  /** The user public key (U...): the string nats-server lists as `{ nkey: "U..." }`. */
  publicKey: string;
  createdAt: string; // ISO 8601
  /** The seed file, relative to the store. */
  seedFile: string;
  /** As CertRecord's: the user's NATS account and permissions. */
  account?: string;
  permissions?: UserPermissions;
}

/** The default store directory (src/cli/context.ts resolves --dir the same way). */
export const DEFAULT_DIR = "pki";

export const NAME_RULE = /^[A-Za-z0-9_@-][A-Za-z0-9._@-]*$/;

export function checkName(name: string): string {
  if (!NAME_RULE.test(name) || name.length > 128)
    throw inputError(`name "${name.replace(/[\u0000-\u001f\u007f]/g, "?")}" is not allowed (use letters, digits, ".", "_", "@", "-"; not starting with ".")`);
  return name;
}

export function resolveStoreDir(dir?: string): string {
  return path.resolve(dir ?? process.env.MTLSCTL_DIR ?? DEFAULT_DIR);
}

export class Store {
  readonly dir: string;
  private releaseLock?: () => void;

  constructor(dir: string) {
    this.dir = path.resolve(dir);
  }

  path(...rel: string[]): string {
    return path.join(this.dir, ...rel);
  }

  get inventoryFile(): string {
    return this.path("inventory.json");
  }
  get caCertFile(): string {
    return this.path("ca.crt");
  }
  get caKeyFile(): string {
    return this.path("private", "ca.key");
  }

  /**
   * CA hierarchy and rollover (issue 10). Files beside ca.crt:
   *   chain.pem  intermediate stores only: ca.crt followed by every intermediate above it, not the
   *              root: what a leaf presents after itself (cert_file = leaf + chain.pem).
   *   roots.pem  the trust anchors that ca_file names: the root of an intermediate store, or, in a
   *              root store during a rollover, the new root and the previous one(s). Absent: ca.crt.
   */
  get chainFile(): string {
    return this.path("chain.pem");
  }
  get rootsFile(): string {
    return this.path("roots.pem");
  }
  /** The file a server's ca_file (or a client's CA option) names: roots.pem when present, else ca.crt. */
  get trustFile(): string {
    return fs.existsSync(this.rootsFile) ? this.rootsFile : this.caCertFile;
  }
  /** The CA certificates a leaf of this store presents after itself (empty for a root store). */
  presentedChain(): ParsedCertificate[] {
    if (!fs.existsSync(this.chainFile)) return [];
    return readCertificates(fs.readFileSync(this.chainFile), this.chainFile);
  }
  /** The trust anchors (roots.pem, else ca.crt). */
  trustAnchors(): ParsedCertificate[] {
    const f = this.trustFile;
    return readCertificates(fs.readFileSync(f), f);
  }

  static exists(dir: string): boolean {
    recoverInterruptedInit(path.resolve(dir));
    return fs.existsSync(path.join(dir, "ca.crt")) || fs.existsSync(path.join(dir, "inventory.json")) || Store.isPending(dir);
  }

  /**
   * A pending intermediate store (`ca init --intermediate --csr-out`): its key and request
   * (private/ca.key, reqs/ca.csr) and no inventory yet; `ca install` completes it, the inventory last.
   */
  static isPending(dir: string): boolean {
    return !fs.existsSync(path.join(dir, "inventory.json")) && fs.existsSync(path.join(dir, "reqs", "ca.csr")) && fs.existsSync(path.join(dir, "private", "ca.key"));
  }

  /** Opens an existing store; fails with exit 3 when there is none. */
  static open(dir: string): Store {
    const s = new Store(dir);
    recoverInterruptedInit(s.dir); // a killed ca init may have left the old store aside
    if (!fs.existsSync(s.dir)) throw inputError("no store here (run `mtlsctl ca init`, or pass --dir)", s.dir);
    if (!fs.statSync(s.dir).isDirectory()) throw inputError("not a directory", s.dir);
    if (Store.isPending(s.dir)) throw inputError("pending: the intermediate CA's request (reqs/ca.csr) awaits its certificate: run `mtlsctl ca install CERT --root ROOT`", s.dir);
    if (!fs.existsSync(s.caCertFile)) throw inputError("no CA certificate: not a store (run `mtlsctl ca init`)", s.caCertFile);
    if (!fs.existsSync(s.inventoryFile)) throw inputError("the inventory is missing", s.inventoryFile);
    if (s.stagedCaFiles().length) {
      try {
        s.withLock(() => undefined); // a killed ca rollover / retire: finish or discard it first
      } catch {
        /* read-only store: the command goes on with what is there */
      }
    }
    return s;
  }

  /** Runs `fn` holding the store's lock (waits up to 30 s for another process). */
  withLock<T>(fn: () => T): T {
    const release = acquireLock(this.path(".lock"));
    try {
      removeStaleTempFiles(this.dir);
      this.removeUnlistedFiles();
      this.recoverStagedCrl();
      this.recoverStagedCa();
      return fn();
    } finally {
      release();
    }
  }

  /**
   * A CRL is signed to `.crl-<number>.pem` before the inventory records that number (the commit
   * point), then renamed to crl.pem. A writer killed in between leaves the staged file: publish it
   * when the inventory recorded its number (the new state), delete it otherwise (the old state).
   * No CA key is needed, so this runs on every locked command.
   */
  private recoverStagedCrl(): void {
    let names: string[];
    try {
      names = fs.readdirSync(this.dir).filter((n) => STAGED_CRL.test(n));
    } catch {
      return;
    }
    if (!names.length) return;
    let recorded: number | undefined;
    try {
      recorded = this.readInventory().crl?.number;
    } catch {
      return; // the command itself reports a broken inventory
    }
    for (const n of names) {
      const f = this.path(n);
      try {
        if (Number(STAGED_CRL.exec(n)![1]) === recorded) {
          fs.renameSync(f, this.path("crl.pem"));
          fsyncDir(this.dir);
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
  stagedCaFiles(): string[] {
    const ls = (sub: string) => {
      try {
        return fs.readdirSync(this.path(sub)).filter((n) => STAGED_CA.test(n)).map((n) => path.join(sub, n));
      } catch {
        return [];
      }
    };
    return [...ls(""), ...ls("private")];
  }

  /** Publishes or discards staged CA files (see stagedCaFiles); call it holding the lock. */
  recoverStagedCa(): void {
    const staged = this.stagedCaFiles();
    if (!staged.length) return;
    let inv: Inventory;
    try {
      inv = this.readInventory();
    } catch {
      return;
    }
    // the CA first (the trust file is derived from it), then the trust file
    for (const rel of staged.sort((a, b) => Number(a.includes(".roots-")) - Number(b.includes(".roots-")))) {
      const m = STAGED_CA.exec(path.basename(rel))!;
      const f = this.path(rel);
      try {
        let to: string | null = null;
        if (m[1] === "ca" && m[2] === inv.ca.serial) to = m[3] === "key" ? this.caKeyFile : this.caCertFile;
        if (m[1] === "roots" && fs.readFileSync(f, "utf8") === this.rootsText(inv)) to = this.rootsFile;
        if (to) {
          fs.renameSync(f, to);
          fsyncDir(path.dirname(to));
        } else fs.unlinkSync(f);
      } catch {
        /* another try on the next command */
      }
    }
  }

  /** roots.pem as the inventory's CAs call for: the current CA, then the previous ones in overlap. */
  rootsText(inv: Inventory): string {
    const files = [this.caCertFile, ...(inv.previousCas ?? []).filter((p) => p.caStatus === "overlap").map((p) => this.path(p.certFile))];
    return files.map((f) => fs.readFileSync(f, "utf8").trim() + "\n").join("");
  }

  /**
   * Signs-and-commits a CRL: staged under its number, then the inventory (which records the number)
   * as the commit point, then published as crl.pem. See recoverStagedCrl.
   */
  commitCrl(inv: Inventory, number: number, pem: string): void {
    const staged = stagedCrlName(number);
    this.write(staged, pem);
    this.writeInventory(inv);
    crashPoint(`CRL committed, not yet published: ${staged}`);
    fs.renameSync(this.path(staged), this.path("crl.pem"));
    fsyncDir(this.dir);
  }

  /**
   * Files that a killed writer published before its commit point (the inventory) and that the
   * inventory therefore does not list: issued/<name>.crt, reqs/<name>.csr, private/<name>.key and
   * renewed/<serial>.{crt,csr,key}. Called holding the lock, when no writer is between its renames and its
   * inventory write; nothing else in the store is touched (ca.crt, the CA key, crl.pem, nkeys/).
   */
  private removeUnlistedFiles(): void {
    let inv: Inventory;
    try {
      inv = this.readInventory();
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
        names = fs.readdirSync(this.path(sub));
      } catch {
        continue;
      }
      for (const n of names) {
        const rel = path.join(sub, n);
        if (!re.test(n) || listed.has(rel) || rel === path.join("private", "ca.key")) continue;
        try {
          fs.unlinkSync(this.path(rel));
        } catch {
          /* not ours to remove */
        }
      }
    }
  }

  readInventory(): Inventory {
    let text: string;
    try {
      text = fs.readFileSync(this.inventoryFile, "utf8");
    } catch {
      throw inputError("the inventory cannot be read", this.inventoryFile);
    }
    let inv: Inventory;
    try {
      inv = JSON.parse(text);
    } catch {
      throw inputError("the inventory is corrupted (not valid JSON)", this.inventoryFile);
    }
    if (!inv || inv.version !== 1 || !inv.ca || !Array.isArray(inv.certificates) || (inv.nkeys !== undefined && !Array.isArray(inv.nkeys)))
      throw inputError("the inventory is corrupted (unexpected structure)", this.inventoryFile);
    return inv;
  }

  writeInventory(inv: Inventory): void {
    crashPoint(`before the inventory write: ${this.inventoryFile}`);
    writeFileAtomic(this.inventoryFile, JSON.stringify(inv, null, 2) + "\n", { mode: 0o644 });
    crashPoint(`after the inventory write: ${this.inventoryFile}`);
  }

  caCertificate(): ParsedCertificate {
    let data: Buffer;
    try {
      data = fs.readFileSync(this.caCertFile);
    } catch {
      throw inputError("cannot read the CA certificate", this.caCertFile);
    }
    const certs = readCertificates(data, this.caCertFile);
    if (certs.length !== 1) throw inputError(`expected one certificate, found ${certs.length}`, this.caCertFile);
    return certs[0];
  }

  caKeyEncrypted(): boolean {
    try {
      return isEncryptedKeyPem(fs.readFileSync(this.caKeyFile, "utf8"));
    } catch {
      throw inputError("cannot read the CA key", this.caKeyFile);
    }
  }

  /** Loads the CA key and checks that it belongs to the CA certificate. */
  caKey(passphrase: string | undefined, caCert: ParsedCertificate): KeyObject {
    checkKeyFileMode(this.caKeyFile);
    let pem: string;
    try {
      pem = fs.readFileSync(this.caKeyFile, "utf8");
    } catch {
      throw inputError("cannot read the CA key", this.caKeyFile);
    }
    const key = loadPrivateKey(pem, this.caKeyFile, isEncryptedKeyPem(pem) ? passphrase : undefined);
    // The key must match the certificate's public key.
    const spki = createPublicKey(key).export({ type: "spki", format: "der" });
    if (!spki.equals(caCert.spki)) throw inputError("the CA key does not match the CA certificate", this.caKeyFile);
    return key;
  }

  /** Writes a file inside the store atomically (creating its directory). */
  write(rel: string, data: string | Buffer, mode = 0o644): void {
    const file = this.path(rel);
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: rel.startsWith("private") ? 0o700 : 0o755 });
    writeFileAtomic(file, data, { mode });
  }

  /**
   * The name's current certificate: the newest record of that name that nothing replaced (it may be
   * revoked). Superseded records, and revoked ones that a later issue --force replaced, are history.
   */
  findByName(inv: Inventory, name: string): CertRecord | undefined {
    return inv.certificates.filter((c) => c.name === name && c.status !== "superseded" && !c.renewedBy).pop();
  }
}

export function isMtlsError(e: unknown): e is MtlsError {
  return e instanceof MtlsError;
}

// ---------------------------------------------------------------- leftovers of killed processes

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

/**
 * Removes the temporary files of killed writers (`.<name>.tmp-<pid>-<hex>` from writeFileAtomic,
 * `.lock.stale-<pid>` from a lock take-over) in the store's directories. Called holding the lock;
 * files of processes that still run are left alone.
 */
/** A CRL staged before its commit (see Store.commitCrl). */
const STAGED_CRL = /^\.crl-(\d+)\.pem$/;
export const stagedCrlName = (n: number): string => `.crl-${n}.pem`;
/** A CA or trust file staged by `ca rollover` / `ca retire` (see Store.recoverStagedCa). */
const STAGED_CA = /^\.(ca|roots)-([0-9a-f]+)\.(crt|key|pem)$/;


export function removeStaleTempFiles(dir: string): void {
  for (const sub of ["", "issued", "reqs", "private", "renewed", "nkeys", "previous"]) {
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
