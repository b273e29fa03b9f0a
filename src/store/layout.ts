/** The file store's layout and names (design.md): where each file lives, which names are allowed. */
import * as path from "node:path";
import { inputError } from "../errors";
import type { CertRecord, InventoryHeader } from "./types";

/** The CA that signed a record, and whether the store still trusts it. */
export function caOf(inv: Pick<InventoryHeader, "ca" | "previousCas">, rec: CertRecord): { serial: string; status: "current" | "overlap" | "retired" } {
  // a store's own CA (and previous ones) is itself; a sub-CA it signed (profile "sub-ca", issue 10) is like a leaf
  const serial = rec.kind === "ca" && rec.profile !== "sub-ca" ? rec.serial : rec.caSerial ?? inv.ca.serial;
  if (serial === inv.ca.serial) return { serial, status: "current" };
  return { serial, status: inv.previousCas?.find((p) => p.serial === serial)?.caStatus ?? "retired" };
}

/** The store's layout of a leaf's files, relative to the store (design.md): the one place it is written. */
export const LAYOUT = {
  caCertRel: "ca.crt",
  caKeyRel: "private/ca.key",
  /** The CA key's PKCS#11 URI (without any pin-value) when the key lives in a token: then no ca.key exists. */
  caPkcs11Rel: "private/ca.pkcs11",
  caCsrRel: "reqs/ca.csr",
  certRel: (name: string) => `issued/${name}.crt`,
  keyRel: (name: string) => `private/${name}.key`,
  csrRel: (name: string) => `reqs/${name}.csr`,
  fullchainRel: (name: string) => `issued/${name}.fullchain.pem`,
  renewedRel: (serial: string, ext: string) => `renewed/${serial}.${ext}`,
  /** A CA replaced by `ca rollover`: its certificate and key (the names a database's previous_cas rows record too). */
  previousCertRel: (serial: string) => `previous/${serial}.crt`,
  previousKeyRel: (serial: string) => `private/previous-${serial}.key`,
  nkeySeedRel: (name: string) => `nkeys/${name}.nk`,
  /** Directories whose files are secrets (0600 files, 0700 directories). */
  secretDirs: ["private", "nkeys"],
};

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
