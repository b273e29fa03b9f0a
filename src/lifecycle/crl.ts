/**
 * Certificate revocation lists (RFC 5280 §5): a v2 CRL signed by the CA, with a CRL number kept in
 * the inventory (monotonic), the CA's key identifier as authorityKeyIdentifier, and a reasonCode
 * entry extension for every revocation with a reason other than unspecified (§5.3.1: absent then).
 * Built with the project's own DER encoder; no printing.
 */
import * as der from "../asn1/der";
import { encodeExtensions, Extension, ext, ParsedCertificate } from "../pki/cert";
import { keyIdentifier, verifySignature } from "../pki/keys";
import { checkSignerMatches, Signer } from "../pki/signer";
import { toPem, readPemOrDer } from "../pki/pem";
import { inputError } from "../errors";
import type { CertRecord, CrlState, Inventory, Store } from "../store/store";

const DAY = 86_400_000;
export const DEFAULT_NEXT_UPDATE_DAYS = 7;

export const CRL_OID = {
  cRLNumber: "2.5.29.20",
  reasonCode: "2.5.29.21",
  authorityKeyIdentifier: "2.5.29.35",
} as const;

/** RFC 5280 §5.3.1 CRLReason names and codes (removeFromCRL, 8, is for delta CRLs and not offered). */
export const REVOCATION_REASONS = {
  unspecified: 0,
  keyCompromise: 1,
  cACompromise: 2,
  affiliationChanged: 3,
  superseded: 4,
  cessationOfOperation: 5,
  certificateHold: 6,
  privilegeWithdrawn: 9,
  aACompromise: 10,
} as const;
export type RevocationReason = keyof typeof REVOCATION_REASONS;
export const REASON_NAMES = Object.keys(REVOCATION_REASONS) as RevocationReason[];

/** A reason name as RFC 5280 spells it (case-insensitive); anything else is an input error (exit 3). */
export function parseReason(s: string): RevocationReason {
  const hit = REASON_NAMES.find((r) => r.toLowerCase() === s.toLowerCase());
  if (!hit) throw inputError(`unknown revocation reason "${s.replace(/[\u0000-\u001f\u007f]/g, "?")}" (use one of ${REASON_NAMES.join(", ")})`);
  return hit;
}

export interface CrlEntry {
  serial: string; // hex
  revokedAt: Date;
  reason: RevocationReason | null;
}

export interface CrlInput {
  issuer: Buffer; // the CA's subject Name, DER, byte for byte
  authorityKeyId: Buffer;
  number: number;
  thisUpdate: Date;
  nextUpdate: Date;
  entries: CrlEntry[];
}

function reasonExtension(reason: RevocationReason): Extension {
  return { oid: CRL_OID.reasonCode, critical: false, value: der.tlv(0x0a /* ENUMERATED */, Buffer.from([REVOCATION_REASONS[reason]])) };
}

/** The DER of a signed v2 CRL. */
export function buildCrl(c: CrlInput, signer: Signer): Buffer {
  const revoked = c.entries.map((e) => {
    const exts = e.reason && e.reason !== "unspecified" ? [reasonExtension(e.reason)] : [];
    return der.seq(der.uint(Buffer.from(e.serial.length % 2 ? "0" + e.serial : e.serial, "hex")), der.time(e.revokedAt), ...(exts.length ? [encodeExtensions(exts)] : []));
  });
  const crlExts: Extension[] = [ext.authorityKeyIdentifier(c.authorityKeyId), { oid: CRL_OID.cRLNumber, critical: false, value: der.smallInt(c.number) }];
  const tbs = der.seq(
    der.smallInt(1), // v2
    signer.algorithm,
    c.issuer,
    der.time(c.thisUpdate),
    der.time(c.nextUpdate),
    ...(revoked.length ? [der.seq(...revoked)] : []), // an empty list is left out, not encoded empty
    der.explicit(0, encodeExtensions(crlExts)),
  );
  return der.seq(tbs, signer.algorithm, der.bitString(signer.sign(tbs)));
}

export const crlPem = (d: Buffer): string => toPem("X509 CRL", d);

export interface ParsedCrl {
  der: Buffer;
  version: number;
  issuerRaw: Buffer;
  thisUpdate: Date;
  nextUpdate: Date | null;
  number: number | null;
  authorityKeyId: Buffer | null;
  entries: { serial: string; revokedAt: Date; reason: RevocationReason | null }[];
  /** Whether the signature verifies with the given issuer key (when one was given). */
  signatureValid: boolean | null;
}

/** Reads a CRL (PEM or DER); with `issuerSpki`, also checks its signature. */
export function parseCrl(data: Buffer, file: string, issuerSpki?: Buffer): ParsedCrl {
  const [crlDer] = readPemOrDer(data, file, ["X509 CRL"], "CRL");
  try {
    const [tbsN, algN, sigN] = der.children(der.expect(der.parseOne(crlDer), der.Tag.SEQUENCE, "CertificateList"));
    const t = der.children(der.expect(tbsN, der.Tag.SEQUENCE, "TBSCertList"));
    let i = 0;
    let version = 1;
    if (t[i].tag === der.Tag.INTEGER) version = der.readSmallInt(t[i++]) + 1;
    i++; // signature algorithm
    const issuer = der.expect(t[i++], der.Tag.SEQUENCE, "issuer");
    const thisUpdate = der.readTime(t[i++]);
    let nextUpdate: Date | null = null;
    if (t[i] && (t[i].tag === der.Tag.UTCTime || t[i].tag === der.Tag.GeneralizedTime)) nextUpdate = der.readTime(t[i++]);
    const entries: ParsedCrl["entries"] = [];
    if (t[i] && t[i].tag === der.Tag.SEQUENCE) {
      for (const e of der.children(t[i++])) {
        const parts = der.children(e);
        const serial = Buffer.from(der.expect(parts[0], der.Tag.INTEGER, "serial").content).toString("hex").replace(/^(00)+(?=[0-9a-f])/, "") || "0";
        let reason: RevocationReason | null = null;
        if (parts[2])
          for (const x of der.children(parts[2])) {
            const xp = der.children(x);
            if (der.readOid(xp[0]) !== CRL_OID.reasonCode) continue;
            const code = der.parseOne(xp[xp.length - 1].content).content[0];
            reason = REASON_NAMES.find((r) => REVOCATION_REASONS[r] === code) ?? null;
          }
        entries.push({ serial, revokedAt: der.readTime(parts[1]), reason });
      }
    }
    let number: number | null = null;
    let authorityKeyId: Buffer | null = null;
    if (t[i] && t[i].tag === 0xa0)
      for (const x of der.children(der.children(t[i])[0])) {
        const xp = der.children(x);
        const oid = der.readOid(xp[0]);
        const value = xp[xp.length - 1].content;
        if (oid === CRL_OID.cRLNumber) number = der.readSmallInt(der.parseOne(value));
        if (oid === CRL_OID.authorityKeyIdentifier) authorityKeyId = der.children(der.parseOne(value)).find((n) => n.tag === 0x80)?.content ?? null;
      }
    const signatureValid = issuerSpki ? verifySignature(algN.raw, issuerSpki, tbsN.raw, der.readBitString(sigN).bytes) : null;
    return { der: crlDer, version, issuerRaw: issuer.raw, thisUpdate, nextUpdate, number, authorityKeyId, entries, signatureValid };
  } catch (e) {
    if (e instanceof der.DerError) throw inputError(`not a valid CRL (${e.message})`, file);
    throw e;
  }
}

export function checkNextUpdateDays(days: number | undefined): number {
  const d = days ?? DEFAULT_NEXT_UPDATE_DAYS;
  if (!Number.isInteger(d) || d < 1 || d > 3650) throw inputError(`--next-update-days must be a whole number from 1 to 3650 (got ${days})`);
  return d;
}

/** The revoked certificates the CRL lists: every revoked record, oldest revocation first. */
export function crlEntries(inv: Inventory): CrlEntry[] {
  return inv.certificates
    .filter((c: CertRecord) => c.status === "revoked")
    .map((c) => ({ serial: c.serial, revokedAt: new Date(c.revokedAt ?? c.issuedAt), reason: (c.revocationReason as RevocationReason | null) ?? null }))
    .sort((a, b) => a.revokedAt.getTime() - b.revokedAt.getTime() || a.serial.localeCompare(b.serial));
}

export interface SignedCrl {
  der: Buffer;
  pem: string;
  number: number;
  thisUpdate: Date;
  nextUpdate: Date;
  entries: CrlEntry[];
}

/**
 * Signs the next CRL for the inventory as it stands and records its number in `inv.crl`; the caller
 * commits both with Store.commitCrl (the CRL staged, the inventory as the commit point, then
 * crl.pem), so a crash leaves the old state or the new one. Call it holding the store lock.
 */
export function nextCrl(inv: Inventory, signer: Signer, caCert: ParsedCertificate, o: { nextUpdateDays?: number; now?: Date }, warnings: string[]): SignedCrl {
  const days = checkNextUpdateDays(o.nextUpdateDays);
  checkSignerMatches(signer, caCert.spki);
  const now = new Date(Math.floor((o.now ?? new Date()).getTime() / 1000) * 1000);
  let nextUpdate = new Date(now.getTime() + days * DAY);
  if (nextUpdate > caCert.notAfter) {
    nextUpdate = caCert.notAfter;
    warnings.push(`the next update (${days} days) would be after the CA expires: the CRL's nextUpdate is the CA's end, ${nextUpdate.toISOString()}`);
  }
  const number = (inv.crl?.number ?? 0) + 1;
  const entries = crlEntries(inv);
  const crlDer = buildCrl(
    { issuer: caCert.subjectRaw, authorityKeyId: caCert.subjectKeyId ?? keyIdentifier(caCert.spki), number, thisUpdate: now, nextUpdate, entries },
    signer,
  );
  const state: CrlState = { number, thisUpdate: now.toISOString(), nextUpdate: nextUpdate.toISOString() };
  inv.crl = state;
  return { der: crlDer, pem: crlPem(crlDer), number, thisUpdate: now, nextUpdate, entries };
}

export const CRL_FILE = "crl.pem";

/** `crl`: signs a fresh CRL under the lock, records its number, and updates <dir>/crl.pem. */
export function writeCrl(store: Store, signer: Signer, caCert: ParsedCertificate, o: { nextUpdateDays?: number; now?: Date }, warnings: string[]): SignedCrl {
  checkNextUpdateDays(o.nextUpdateDays); // before the lock
  return store.withLock(() => {
    const inv = store.readInventory();
    const crl = nextCrl(inv, signer, caCert, o, warnings);
    store.commitCrl(inv, crl.number, crl.pem); // staged CRL, inventory (commit), then crl.pem
    return crl;
  });
}
