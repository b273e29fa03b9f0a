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
import { writeFileAtomic } from "./atomic";
import { acquireLock } from "./lock";
import { ParsedCertificate, readCertificates } from "../pki/cert";
import { loadPrivateKey, isEncryptedKeyPem } from "../pki/keys";
import type { Sans } from "../pki/san";

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
}

/** An NKey user pair: the seed is in nkeys/<name>.nk (mode 0600), never in the inventory. */
export interface NkeyRecord {
  name: string;
  /** The user public key (U...): the string nats-server lists as `{ nkey: "U..." }`. */
  publicKey: string;
  createdAt: string; // ISO 8601
  /** The seed file, relative to the store. */
  seedFile: string;
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

  static exists(dir: string): boolean {
    return fs.existsSync(path.join(dir, "ca.crt")) || fs.existsSync(path.join(dir, "inventory.json"));
  }

  /** Opens an existing store; fails with exit 3 when there is none. */
  static open(dir: string): Store {
    const s = new Store(dir);
    if (!fs.existsSync(s.dir)) throw inputError("no store here (run `mtlsctl ca init`, or pass --dir)", s.dir);
    if (!fs.statSync(s.dir).isDirectory()) throw inputError("not a directory", s.dir);
    if (!fs.existsSync(s.caCertFile)) throw inputError("no CA certificate: not a store (run `mtlsctl ca init`)", s.caCertFile);
    if (!fs.existsSync(s.inventoryFile)) throw inputError("the inventory is missing", s.inventoryFile);
    return s;
  }

  /** Runs `fn` holding the store's lock (waits up to 30 s for another process). */
  withLock<T>(fn: () => T): T {
    const release = acquireLock(this.path(".lock"));
    try {
      return fn();
    } finally {
      release();
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
    writeFileAtomic(this.inventoryFile, JSON.stringify(inv, null, 2) + "\n", { mode: 0o644 });
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
