/**
 * Issuance through the Store interface (issue 19), beside src/ca.ts issue(), which works on the
 * synchronous file store. The same rules (planIssuance: validity, subject/SAN, key type, name
 * constraints, the CA's URLs), the same record (recordOf), the same audit event; the difference is
 * where things go: the record, the certificate's bytes and the audit event are committed in ONE
 * store transaction (a database: one SQL transaction under the writer lock; the serial is reserved
 * in it, its unique constraint the backstop, and a conflict re-runs the transaction with a new serial).
 * Order: sign, commit, then the caller answers. No private key ever goes into the store: the caller
 * writes the leaf key where the user said (--out-dir).
 */
import { inputError, MtlsctlError } from "./errors";
import { buildCertificate, certificatePem, parseCertificate, type ParsedCertificate } from "./pki/cert";
import { describeKey, isEncryptedKeyPem, loadPrivateKey, publicKeyOf } from "./pki/keys";
import { checkSignerMatches, keySigner, type Signer } from "./pki/signer";
import { pkcs11Signer } from "./pki/pkcs11";
import { parsePkcs11Uri } from "./pki/pkcs11-uri";
import { planIssuance, tbsOf } from "./pki/plan";
import { issuingChain } from "./pki/hierarchy";
import { checkName, LAYOUT } from "./store/store";
import type { CertRecord, Inventory, Store as StoreApi, StoreTransaction } from "./store/types";
import { checkNextUpdateDays, nextCrl, parseReason, type RevocationReason, type SignedCrl } from "./lifecycle/crl";
import { planRevocation, type RevokeOptions, type RevokeTarget } from "./lifecycle/revoke";
import { record, type IssueRequest } from "./ca";

/** What issueInStore takes: IssueRequest without files (the store keeps the CSR's bytes, never a key). */
export type StoreIssueRequest = Omit<IssueRequest, "extraFiles" | "keyRel" | "csrRel"> & {
  csrPem?: string;
  /**
   * Runs in the store transaction once the certificate is built and before anything is put (the online
   * CA: the token's claim, committed with the certificate's row). A throw: nothing committed.
   */
  inTransaction?: (tx: StoreTransaction, cert: ParsedCertificate, replaced: CertRecord | undefined) => Promise<void>;
};

export interface IssuedInStore {
  record: CertRecord;
  cert: ParsedCertificate;
  certPem: string;
  /** Intermediate stores: the certificate followed by the chain a leaf presents. */
  chainPem: string | null;
  replaced: CertRecord | null;
}

/** The CA of a store, unlocked: its certificate and a Signer over its key (a PEM key, or a PKCS#11 token's: the key never leaves it). */
export async function unlockStoreCa(store: StoreApi, passphrase: () => Promise<string | undefined>): Promise<{ caCert: ParsedCertificate; signer: Signer }> {
  const caCert = await store.caCertificate();
  if (caCert.notAfter.getTime() <= Date.now()) throw inputError(`the CA certificate expired on ${caCert.notAfter.toISOString()}`, store.location);
  const ref = await store.caKey();
  if (ref.pkcs11Uri !== undefined) {
    // the key stays in the token (as the file store's unlockCa): a Signer over a session; the PIN from the URI's pin-source, else the passphrase
    const uri = parsePkcs11Uri(ref.pkcs11Uri);
    let pin: string | undefined;
    if (uri.pinSource === undefined && uri.pinValue === undefined) {
      pin = await passphrase();
      if (pin === undefined) throw new MtlsctlError("the CA key is in a PKCS#11 token whose URI names no pin-source: give the PIN", { file: store.location, code: "passphrase" });
    }
    const signer = pkcs11Signer(uri, { pin });
    try {
      checkSignerMatches(signer, caCert.spki, store.location);
    } catch (e) {
      signer.close();
      throw e;
    }
    return { caCert, signer };
  }
  const pem = ref.pem;
  const key = loadPrivateKey(pem, `${store.location} (CA key)`, isEncryptedKeyPem(pem) ? await passphrase() : undefined);
  const signer = keySigner(key);
  checkSignerMatches(signer, caCert.spki, store.location);
  return { caCert, signer };
}

/**
 * Signs a certificate and commits its record, bytes and audit event in one transaction of `store`.
 * The checks of issue(): the name (exists without force, renews a changed certificate, an NKey of
 * that name), the plan's; `beforeWrite` runs in the transaction once the certificate is built (a throw:
 * nothing committed).
 */
export async function issueInStore(store: StoreApi, signer: Signer, caCert: ParsedCertificate, req: StoreIssueRequest, warnings: string[]): Promise<IssuedInStore> {
  checkName(req.name);
  checkSignerMatches(signer, caCert.spki, store.location);
  const [header, presented, anchors] = await Promise.all([store.header(), store.presentedChain(), store.trustAnchors().catch(() => [] as ParsedCertificate[])]);
  const plan = planIssuance(
    { profile: req.profile, subjectDer: req.subjectDer, spki: req.spki, sans: req.sans, days: req.days, pathLen: req.pathLen, nameConstraints: req.nameConstraints },
    { cert: caCert, chain: issuingChain({ presentedChain: () => (presented.length ? presented : [caCert]), trustAnchors: () => anchors }, caCert), file: store.location, urls: header.urls },
  );
  warnings.push(...plan.warnings);
  if (req.notAfterCap && plan.notAfter.getTime() > req.notAfterCap.getTime()) plan.notAfter = new Date(Math.floor(req.notAfterCap.getTime() / 1000) * 1000);
  if (req.notAfterCap && plan.notBefore.getTime() < caCert.notBefore.getTime()) plan.notBefore = caCert.notBefore;
  // the file store's chain.pem holds the intermediates after the CA (presentedChain: [ca, ...above]); a root store has none
  const chainPem = req.profile === "ca" ? "" : presented.map((c) => certificatePem(c.der)).join("");
  const keyType = req.keyType ?? describeKey(req.publicKey ?? publicKeyOf(req.spki));

  return store.transaction(async (tx) => {
    const existing = await tx.findByName(req.name);
    if (req.renews !== undefined) {
      if (!existing || existing.serial !== req.renews) throw inputError(`"${req.name}" changed while renewing (its current certificate is ${existing ? `serial ${existing.serial}` : "gone"}): run renew again`, store.location);
      if (existing.status !== "valid") throw inputError(`"${req.name}" (serial ${existing.serial}) is ${existing.status}: it cannot be renewed`, store.location);
    } else if (existing && !req.force) throw inputError(`"${req.name}" already exists (serial ${existing.serial}; use --force to replace it)`, store.location);
    if (((await tx.header()).nkeys ?? []).some((k) => k.name === req.name)) throw inputError(`an NKey user is named "${req.name}": names are shared by certificates and NKeys`, store.location);
    const serial = await tx.reserveSerial(16);
    const certDer = buildCertificate(tbsOf(plan, serial), signer);
    const cert = parseCertificate(certDer);
    req.beforeWrite?.(cert, existing);
    await req.inTransaction?.(tx, cert, existing);
    let replaced: CertRecord | null = null;
    if (existing) {
      // as the file store: the old certificate's bytes under renewed/<serial>.crt (a copy to a directory
      // puts them there), a valid one superseded, a revoked one stays revoked; both linked to the new one
      const old = await store.artifacts(existing.serial); // committed bytes: no transaction changes them
      const moved: CertRecord = { ...existing, certFile: LAYOUT.renewedRel(existing.serial, "crt"), csrFile: existing.csrFile ? LAYOUT.renewedRel(existing.serial, "csr") : null };
      if (moved.chainFile) moved.chainFile = null; // superseded certificates keep only their .crt
      await tx.put([moved]);
      if (old) await tx.putArtifacts(existing.serial, { certPem: old.certPem, ...(old.csrPem ? { csrPem: old.csrPem } : {}) });
      replaced = await tx.supersede(existing.serial, cert.serialHex);
    }
    const certPem = certificatePem(certDer);
    const chainRel = chainPem ? LAYOUT.fullchainRel(req.name) : null;
    const rec = record(
      req.profile === "peer" ? "server" : req.profile,
      req.name,
      cert,
      keyType,
      { cert: LAYOUT.certRel(req.name), key: null, csr: req.csrPem !== undefined ? LAYOUT.csrRel(req.name) : null },
      {
        account: req.account !== undefined ? req.account : existing?.account,
        permissions: req.permissions !== undefined ? req.permissions : existing?.permissions,
        renews: existing?.serial,
        chainFile: chainRel,
      },
    );
    rec.profile = req.profile === "ca" ? "sub-ca" : req.profile;
    await tx.put([rec]);
    await tx.putArtifacts(rec.serial, { certPem, ...(chainRel ? { chainPem: certPem + chainPem } : {}), ...(req.csrPem !== undefined ? { csrPem: req.csrPem } : {}) });
    await tx.audit({ action: "issue", name: rec.name, serial: rec.serial, detail: { kind: rec.kind, profile: rec.profile, fingerprint: rec.fingerprint, ...(existing ? { replaces: existing.serial } : {}) } });
    return { record: rec, cert, certPem, chainPem: chainRel ? certPem + chainPem : null, replaced };
  });
}

/**
 * `crl --db`: signs the next CRL from the store's inventory and records its number and PEM, in one
 * store transaction (a database: under the writer lock, so that numbers only grow across every
 * process and machine; gaps are allowed). The inventory is read inside it, after the lock is held.
 */
export async function crlInStore(store: StoreApi, signer: Signer, caCert: ParsedCertificate, o: { nextUpdateDays?: number; now?: Date }, warnings: string[]): Promise<SignedCrl> {
  checkNextUpdateDays(o.nextUpdateDays);
  return store.transaction(async (tx) => {
    const number = await tx.nextCrlNumber();
    const [h, certificates] = await Promise.all([tx.header(), store.list()]);
    const inv: Inventory = { ...h, certificates, crl: { thisUpdate: "", nextUpdate: "", ...h.crl, number: number - 1 } };
    const crl = nextCrl(inv, signer, caCert, o, warnings);
    await tx.setCrl({ number: crl.number, thisUpdate: crl.thisUpdate.toISOString(), nextUpdate: crl.nextUpdate.toISOString() }, crl.pem);
    return crl;
  });
}

/**
 * `revoke --db`: the records planRevocation picks (the name's current certificate and its unexpired
 * superseded ones, or one --serial) marked revoked, and the next CRL signed with them, in one store
 * transaction (the CRL's number and PEM recorded with the revocations).
 */
export async function revokeInStore(store: StoreApi, signer: Signer, caCert: ParsedCertificate, target: RevokeTarget, o: RevokeOptions, warnings: string[]): Promise<{ revoked: CertRecord[]; reason: RevocationReason; crl: SignedCrl }> {
  const reason = parseReason(o.reason ?? "unspecified");
  checkNextUpdateDays(o.nextUpdateDays);
  return store.transaction(async (tx) => {
    const number = await tx.nextCrlNumber();
    const [h, certificates] = await Promise.all([tx.header(), store.list()]);
    const inv: Inventory = { ...h, certificates };
    const now = o.now ?? new Date();
    const byName = (i: Inventory, n: string) => i.certificates.filter((c) => c.name === n && c.status !== "superseded" && !c.renewedBy).pop();
    const records = planRevocation({ inventoryFile: store.location, findByName: byName }, inv, target, now);
    const at = new Date(Math.floor(now.getTime() / 1000) * 1000);
    const revoked: CertRecord[] = [];
    for (const r of records) {
      const done = await tx.revoke(r.serial, at, reason);
      inv.certificates[inv.certificates.indexOf(r)] = done;
      revoked.push(done);
    }
    inv.crl = { thisUpdate: "", nextUpdate: "", ...h.crl, number: number - 1 };
    const crl = nextCrl(inv, signer, caCert, { nextUpdateDays: o.nextUpdateDays, now }, warnings);
    await tx.setCrl({ number: crl.number, thisUpdate: crl.thisUpdate.toISOString(), nextUpdate: crl.nextUpdate.toISOString() }, crl.pem);
    return { revoked, reason, crl };
  });
}
