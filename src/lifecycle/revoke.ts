/**
 * Revocation: marks certificates revoked in the inventory (revokedAt, revocationReason) and signs a
 * fresh CRL. No printing; warnings are returned.
 *
 * `revoke <name>` revokes the identity: the name's current certificate and every certificate of
 * that name that renew superseded and that has not expired yet (a superseded certificate is still
 * valid, and without --rekey it even shares the key). `revoke --serial HEX` revokes exactly one
 * certificate, current or superseded.
 */
import type { Signer } from "../pki/signer";
import { inputError, usageError } from "../errors";
import type { ParsedCertificate } from "../pki/cert";
import { CertRecord, checkName, Inventory, Store } from "../store/store";
import { certOfRecord, spkiPin } from "./pins";
import { nextCrl, parseReason, RevocationReason, SignedCrl, CRL_FILE, checkNextUpdateDays } from "./crl";

export interface RevokeTarget {
  name?: string;
  serial?: string;
}

/** A serial as typed (`0x..`, `AB:CD:..`, any case) in the inventory's form: lower-case hex, no leading zeros. */
export function normalizeSerial(s: string): string {
  const hex = s.trim().replace(/^0x/i, "").replace(/:/g, "").toLowerCase();
  if (!/^[0-9a-f]+$/.test(hex) || hex.length > 80) throw inputError(`--serial "${s.replace(/[\u0000-\u001f\u007f]/g, "?")}" is not a hexadecimal serial number`);
  return hex.replace(/^0+(?=[0-9a-f])/, "");
}

const sameSerial = (a: string, b: string) => a.replace(/^0+(?=[0-9a-f])/, "") === b;

/** The records a revocation would change; refuses (exit 3) what cannot be revoked. */
export function planRevocation(store: Pick<Store, "inventoryFile" | "findByName">, inv: Inventory, target: RevokeTarget, now = new Date()): CertRecord[] {
  if ((target.name === undefined) === (target.serial === undefined)) throw usageError("give a name or --serial HEX (one of them)");
  if (target.serial !== undefined) {
    const serial = normalizeSerial(target.serial);
    if (sameSerial(inv.ca.serial, serial)) throw inputError(`serial ${serial} is the CA's own certificate: a CA cannot revoke itself (make a new CA instead)`, store.inventoryFile);
    const rec = inv.certificates.find((c) => sameSerial(c.serial, serial));
    if (!rec) throw inputError(`no certificate with serial ${serial} in the store`, store.inventoryFile);
    if (rec.status === "revoked") throw inputError(`serial ${rec.serial} ("${rec.name}") is already revoked (${rec.revocationReason ?? "unspecified"}, ${rec.revokedAt})`, store.inventoryFile);
    return [rec];
  }
  const name = checkName(target.name!);
  const current = store.findByName(inv, name);
  if (!current) throw inputError(`no certificate named "${name}" in the store`, store.inventoryFile);
  if (current.status === "revoked") throw inputError(`"${name}" (serial ${current.serial}) is already revoked (${current.revocationReason ?? "unspecified"}, ${current.revokedAt})`, store.inventoryFile);
  const older = inv.certificates.filter((c) => c !== current && c.name === name && c.status === "superseded" && new Date(c.notAfter) > now);
  return [current, ...older];
}

export interface RevokeOptions {
  reason?: string;
  nextUpdateDays?: number;
  now?: Date;
}

export interface Revocation {
  revoked: CertRecord[];
  reason: RevocationReason;
  crl: SignedCrl;
  crlFile: string;
}

/** Checks a revocation without changing anything (before any passphrase prompt). */
export function checkRevocation(store: Store, target: RevokeTarget, o: RevokeOptions): { records: CertRecord[]; reason: RevocationReason } {
  const reason = parseReason(o.reason ?? "unspecified");
  checkNextUpdateDays(o.nextUpdateDays);
  return { records: planRevocation(store, store.readInventory(), target, o.now), reason };
}

/**
 * Revokes under the store lock: the new CRL is staged, the inventory (revocations and the CRL
 * number) is the commit point, then <dir>/crl.pem is published (Store.commitCrl).
 */
export function revoke(store: Store, signer: Signer, caCert: ParsedCertificate, target: RevokeTarget, o: RevokeOptions, warnings: string[]): Revocation {
  const reason = parseReason(o.reason ?? "unspecified");
  checkNextUpdateDays(o.nextUpdateDays);
  return store.withLock(() => {
    const inv = store.readInventory();
    const now = o.now ?? new Date();
    const records = planRevocation(store, inv, target, now);
    const at = new Date(Math.floor(now.getTime() / 1000) * 1000).toISOString();
    for (const r of records) {
      r.status = "revoked";
      r.revokedAt = at;
      r.revocationReason = reason;
    }
    // A revoked certificate whose key a still-valid one shares cannot be refused by key pinning.
    const live = inv.certificates.filter((c) => c.status !== "revoked" && new Date(c.notAfter) > now);
    for (const r of records) {
      if (new Date(r.notAfter) <= now) continue;
      const pin = spkiPin(certOfRecord(store, r));
      const twin = live.find((c) => spkiPin(certOfRecord(store, c)) === pin);
      if (twin)
        warnings.push(
          `serial ${r.serial} shares its key with "${twin.name}"'s certificate ${twin.serial}, which stays valid: nats-server has no CRL support and pins keys, not certificates, so it cannot refuse this one (renew "${twin.name}" with --rekey, or revoke it too)`,
        );
    }
    const crl = nextCrl(inv, signer, caCert, { nextUpdateDays: o.nextUpdateDays, now }, warnings);
    store.commitCrl(inv, crl.number, crl.pem); // staged CRL, inventory (commit), then crl.pem
    return { revoked: records, reason, crl, crlFile: store.path(CRL_FILE) };
  });
}
