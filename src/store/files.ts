/**
 * Where a file store keeps each thing (design.md's layout, src/store/layout.ts): the paths of the CA's
 * files, of a name's files and of the store's own, and the few reads that only follow those paths
 * (which CA key, the presented chain, the trust anchors). FileStore (src/store/store.ts) adds the
 * inventory and the writes.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { inputError } from "../errors";
import { ParsedCertificate, readCertificates } from "../pki/cert";
import type { CaKeyLocation } from "./types";
import { LAYOUT } from "./layout";

export class StoreFiles {
  readonly dir: string;

  constructor(dir: string) {
    this.dir = path.resolve(dir);
  }

  /** A store file's path; an absolute path stays as it is (a server's own files kept outside the store, config nats --cert-file). */
  path(...rel: string[]): string {
    return path.resolve(this.dir, ...rel);
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
  /** private/ca.pkcs11: the RFC 7512 URI of a CA key held in a PKCS#11 token (issue 19). */
  get caPkcs11File(): string {
    return this.path("private", "ca.pkcs11");
  }

  /** Where the CA key lives: a PKCS#11 URI (private/ca.pkcs11, no PIN in it) or the key file. */
  caKeyRef(): CaKeyLocation {
    let text: string;
    try {
      text = fs.readFileSync(this.caPkcs11File, "utf8");
    } catch {
      return { kind: "file", file: this.caKeyFile };
    }
    const uri = text.split(/\r?\n/)[0]!.trim();
    if (!uri.startsWith("pkcs11:")) throw inputError("holds no PKCS#11 URI", this.caPkcs11File);
    return { kind: "pkcs11", uri };
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

  get auditFile(): string {
    return this.path("audit.log");
  }

  /** Relative paths of a name's files (the store's layout; callers never build them by hand). */
  certRel(name: string): string {
    return LAYOUT.certRel(name);
  }
  keyRel(name: string): string {
    return LAYOUT.keyRel(name);
  }
  csrRel(name: string): string {
    return LAYOUT.csrRel(name);
  }
  /** An intermediate store's leaf followed by chain.pem (issue 10). */
  fullchainRel(name: string): string {
    return LAYOUT.fullchainRel(name);
  }
  /** Where renew / --force keeps a replaced certificate's files (ext: crt, csr, key). */
  renewedRel(serial: string, ext: string): string {
    return LAYOUT.renewedRel(serial, ext);
  }
  /** A CA replaced by `ca rollover`: its certificate and key. */
  previousCertRel(serial: string): string {
    return LAYOUT.previousCertRel(serial);
  }
  previousKeyRel(serial: string): string {
    return LAYOUT.previousKeyRel(serial);
  }
  /** `ca rollover` stages the new CA key here before its commit (see recoverStagedCa). */
  stagedCaKeyRel(serial: string): string {
    return `private/.ca-${serial}.key`;
  }
  /** The directories leaf certificates and keys go to (created by bulk issuance up front). */
  get leafDirs(): { issued: string; private: string } {
    return { issued: this.path("issued"), private: this.path("private") };
  }
  get lockFile(): string {
    return this.path(".lock");
  }
  get crlFile(): string {
    return this.path("crl.pem");
  }
  /** A pending intermediate's request (`ca init --intermediate --csr-out`). */
  get caCsrFile(): string {
    return this.path("reqs", "ca.csr");
  }
  /** The files a backup must hold for it to be a store. */
  static readonly REQUIRED_FILES = ["ca.crt", "inventory.json"];

  certPath(name: string): string {
    return this.path(this.certRel(name));
  }
  keyPath(name: string): string {
    return this.path(this.keyRel(name));
  }
}
