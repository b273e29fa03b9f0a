/**
 * `store copy` (issue 19): a whole store from a directory into a database, or back.
 *
 * Into a database: the CA (certificate, chain, roots, its key as the file holds it: encrypted PKCS#8,
 * or plain with --no-encrypt), every record with its certificate's bytes, the CRL state and crl.pem,
 * NKey records, previous CAs (certificate and key), tokens (hashes) and the audit log, in ONE SQL
 * transaction: a copy that fails leaves the database without a row. Leaf private keys
 * (private/<name>.key) and NKey seeds (nkeys/<name>.nk) are never copied: they stay in the source
 * directory, and the summary lists them.
 *
 * Into a directory: the same, built in a staging directory beside the target and renamed into place
 * at the end (the target must not exist, or be empty): a copy that fails leaves no target.
 *
 * Both check the result, before the commit or the rename, by counts and SHA-256 fingerprints: the
 * target's records against the source's, and each certificate's bytes against its record's fingerprint.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { createHash, randomBytes } from "node:crypto";
import { inputError } from "../../errors";
import { readCertificates } from "../../pki/cert";
import { writeFileAtomic } from "../atomic";
import { FileStore } from "../store";
import { TokenFile } from "../tokens";
import type { CertRecord, Inventory } from "../types";
import { insertAudit, PgStore, upsert, upsertToken } from "./pg-store";

export interface CopySummary {
  from: string;
  to: string;
  certificates: number;
  /** Records whose certificate bytes were copied (all of them, unless the source lacked some). */
  withPem: number;
  nkeys: number;
  previousCas: number;
  tokens: number;
  auditEvents: number;
  /** SHA-256 of the sorted "serial fingerprint" lines: the same on both sides when the copy is whole. */
  digest: string;
  /** Secrets that were not copied and where they are (absolute paths): leaf keys, NKey seeds. */
  keysLeft: string[];
}

export function recordsDigest(recs: Pick<CertRecord, "serial" | "fingerprint">[]): string {
  const lines = recs.map((r) => `${r.serial.toLowerCase()} ${r.fingerprint}`).sort();
  return createHash("sha256").update(lines.join("\n")).digest("hex");
}

const readOpt = (f: string): string | null => {
  try {
    return fs.readFileSync(f, "utf8");
  } catch {
    return null;
  }
};

/** Refuses certificate bytes whose SHA-256 is not the record's fingerprint. */
function checkPem(r: CertRecord, pem: string, where: string): void {
  const certs = readCertificates(Buffer.from(pem), where);
  if (!certs.length || certs[0].fingerprint.toLowerCase() !== r.fingerprint.toLowerCase())
    throw inputError(`the certificate of "${r.name}" (serial ${r.serial}) does not match its record's SHA-256 fingerprint: nothing was copied`, where);
}

export async function copyFileToPg(dir: string, db: PgStore, o: { completingPending?: string } = {}): Promise<CopySummary> {
  const src = FileStore.open(dir);
  return src.withLockAsync(async () => {
    const inv = src.readInventory();
    const certPem = readOpt(src.caCertFile);
    if (certPem === null) throw inputError("cannot read the CA certificate", src.caCertFile);
    // the CA key: its (encrypted) file, or only the RFC 7512 URI of the PKCS#11 token that holds it
    const keyRef = src.caKeyRef();
    const keyUri = keyRef.kind === "pkcs11" ? keyRef.uri : null;
    const keyPem = keyUri === null ? readOpt(src.caKeyFile) : null;
    if (keyUri === null && keyPem === null) throw inputError("cannot read the CA key", src.caKeyFile);
    const events = src.auditEvents();
    const tokens = new TokenFile(src.dir).read();
    await db.migrate();
    let withPem = 0;
    await db.rawTransaction(async (c) => {
      // `ca install --db`: the pending intermediate (its request) becomes this CA, in this same transaction
      if (o.completingPending !== undefined && !(await c.query("DELETE FROM pending_ca WHERE csr_pem = $1", [o.completingPending])).rowCount)
        throw inputError("the pending intermediate CA was installed or replaced meanwhile by another mtlsctl", db.location, "exists");
      // empty, checked under the writer lock: two copies at once cannot both fill it
      if (!(await db.isEmptyIn(c))) throw inputError("the target database already holds a store: copy only into an empty one", db.location, "exists");
      await c.query("INSERT INTO ca (id, record, cert_pem, chain_pem, roots_pem, key_pem, key_uri, urls) VALUES (1, $1, $2, $3, $4, $5, $6, $7)", [JSON.stringify(inv.ca), certPem, readOpt(src.chainFile), readOpt(src.rootsFile), keyPem, keyUri, inv.urls && Object.keys(inv.urls).length ? JSON.stringify(inv.urls) : null]);
      for (const r of inv.certificates) {
        await upsert(c, r);
        const pem = readOpt(src.path(r.certFile));
        if (pem === null) continue;
        checkPem(r, pem, src.path(r.certFile));
        withPem++;
        const chain = r.chainFile ? readOpt(src.path(r.chainFile)) : null;
        const csr = r.csrFile ? readOpt(src.path(r.csrFile)) : null;
        await c.query("UPDATE certificates SET cert_pem = $2, chain_pem = $3, csr_pem = $4 WHERE serial = $1", [r.serial.toLowerCase(), pem, chain, csr]);
      }
      if (inv.crl) await c.query("INSERT INTO crl_state (id, number, this_update, next_update, crl_pem) VALUES (1, $1, $2, $3, $4)", [inv.crl.number, inv.crl.thisUpdate, inv.crl.nextUpdate, readOpt(src.crlFile)]);
      for (const k of inv.nkeys ?? []) await c.query("INSERT INTO nkeys (name, record) VALUES ($1, $2)", [k.name, JSON.stringify(k)]);
      for (const p of inv.previousCas ?? []) {
        const pcert = readOpt(src.path(src.previousCertRel(p.serial)));
        if (pcert === null) throw inputError("cannot read a previous CA's certificate", src.path(src.previousCertRel(p.serial)));
        await c.query("INSERT INTO previous_cas (serial, record, cert_pem, key_pem) VALUES ($1, $2, $3, $4)", [p.serial.toLowerCase(), JSON.stringify(p), pcert, readOpt(src.path(src.previousKeyRel(p.serial)))]);
      }
      for (const t of tokens) await upsertToken(c, t);
      for (const e of events) await insertAudit(c, e);
      // the check, inside the transaction: counts and fingerprints as the database now has them
      const n = await c.query("SELECT serial, fingerprint FROM certificates");
      if (n.rowCount !== inv.certificates.length || recordsDigest(n.rows) !== recordsDigest(inv.certificates))
        throw inputError("the copy does not match the source (counts or fingerprints): nothing was copied", db.location);
    });
    return {
      from: src.dir,
      to: db.location,
      certificates: inv.certificates.length,
      withPem,
      nkeys: (inv.nkeys ?? []).length,
      previousCas: (inv.previousCas ?? []).length,
      tokens: tokens.length,
      auditEvents: events.length,
      digest: recordsDigest(inv.certificates),
      keysLeft: [
        ...new Set([
        ...inv.certificates.map((r) => r.keyFile).filter((k): k is string => !!k && fs.existsSync(src.path(k))),
        ...(inv.nkeys ?? []).map((k) => k.seedFile).filter((k) => fs.existsSync(src.path(k))),
        ]),
      ].map((k) => src.path(k)),
    };
  });
}

/** A target directory for a copy: absent, or an empty directory (removed, then replaced by the rename). */
function checkTargetDir(dir: string): void {
  if (!fs.existsSync(dir)) return;
  if (!fs.statSync(dir).isDirectory()) throw inputError("exists and is not a directory", dir);
  if (fs.readdirSync(dir).length) throw inputError("the target directory is not empty: copy only into a new or empty one", dir, "exists");
}

export async function copyPgToFile(db: PgStore, dir: string): Promise<CopySummary> {
  dir = path.resolve(dir);
  checkTargetDir(dir);
  fs.mkdirSync(path.dirname(dir), { recursive: true });
  const staging = path.join(path.dirname(dir), `.${path.basename(dir)}.copy-${process.pid}-${randomBytes(4).toString("hex")}`);
  // one consistent snapshot: a REPEATABLE READ, read-only transaction (writers go on meanwhile)
  const snap = await db.snapshot(async (c) => {
    const ca = await c.query("SELECT record, cert_pem, chain_pem, roots_pem, key_pem, key_uri, urls FROM ca WHERE id = 1");
    if (!ca.rowCount) throw inputError("the database holds no CA", db.location, "no-store");
    const certs = await c.query("SELECT record, cert_pem, chain_pem, csr_pem FROM certificates ORDER BY seq");
    const crl = await c.query("SELECT number, this_update, next_update, crl_pem FROM crl_state WHERE id = 1");
    const nkeys = await c.query("SELECT record FROM nkeys ORDER BY seq");
    const prev = await c.query("SELECT record, cert_pem, key_pem, key_uri FROM previous_cas ORDER BY seq");
    const tokens = await c.query("SELECT record FROM tokens ORDER BY seq");
    const events = await c.query("SELECT event FROM audit_events ORDER BY id");
    return { ca: ca.rows[0], certs: certs.rows, crl: crl.rows[0], nkeys: nkeys.rows, prev: prev.rows, tokens: tokens.rows, events: events.rows };
  });
  const certificates: CertRecord[] = snap.certs.map((x) => x.record);
  try {
    fs.mkdirSync(staging, { mode: 0o755 });
    FileStore.createLayout(staging);
    const st = new FileStore(staging);
    writeFileAtomic(st.caCertFile, snap.ca.cert_pem);
    // the CA key as the database holds it: the (encrypted) key file, or the PKCS#11 token's URI (private/ca.pkcs11, no PIN)
    if (snap.ca.key_uri) writeFileAtomic(st.caPkcs11File, snap.ca.key_uri.replace(/[?&]pin-value=[^&]*/, "") + "\n", { mode: 0o600 });
    else writeFileAtomic(st.caKeyFile, snap.ca.key_pem, { mode: 0o600 });
    if (snap.ca.chain_pem) writeFileAtomic(st.chainFile, snap.ca.chain_pem);
    if (snap.ca.roots_pem) writeFileAtomic(st.rootsFile, snap.ca.roots_pem);
    let withPem = 0;
    for (const x of snap.certs) {
      const r: CertRecord = x.record;
      if (!x.cert_pem) continue;
      checkPem(r, x.cert_pem, db.location);
      st.write(r.certFile, x.cert_pem);
      if (x.chain_pem && r.chainFile) st.write(r.chainFile, x.chain_pem);
      if (x.csr_pem && r.csrFile) st.write(r.csrFile, x.csr_pem);
      withPem++;
    }
    for (const p of snap.prev) {
      st.write(st.previousCertRel(p.record.serial), p.cert_pem);
      if (p.key_pem) st.write(st.previousKeyRel(p.record.serial), p.key_pem, 0o600);
    }
    if (snap.crl?.crl_pem) writeFileAtomic(st.crlFile, snap.crl.crl_pem);
    const inv: Inventory = { version: 1, ca: snap.ca.record, certificates };
    if (snap.crl) inv.crl = { number: Number(snap.crl.number), thisUpdate: snap.crl.this_update, nextUpdate: snap.crl.next_update };
    if (snap.nkeys.length) inv.nkeys = snap.nkeys.map((x) => x.record);
    if (snap.prev.length) inv.previousCas = snap.prev.map((x) => x.record);
    if (snap.ca.urls && Object.keys(snap.ca.urls).length) inv.urls = snap.ca.urls;
    st.writeInventory(inv);
    if (snap.tokens.length) new TokenFile(staging).write(snap.tokens.map((x) => x.record));
    st.audit(snap.events.map((x) => x.event));
    // the check, before the rename: the new store read back, counts and fingerprints
    const back = FileStore.open(staging).readInventory().certificates;
    if (back.length !== certificates.length || recordsDigest(back) !== recordsDigest(certificates)) throw inputError("the copy does not match the source (counts or fingerprints): nothing was copied", dir);
    checkTargetDir(dir);
    if (fs.existsSync(dir)) fs.rmdirSync(dir);
    fs.renameSync(staging, dir);
    return {
      from: db.location,
      to: dir,
      certificates: certificates.length,
      withPem,
      nkeys: snap.nkeys.length,
      previousCas: snap.prev.length,
      tokens: snap.tokens.length,
      auditEvents: snap.events.length,
      digest: recordsDigest(certificates),
      keysLeft: [],
    };
  } catch (e) {
    fs.rmSync(staging, { recursive: true, force: true });
    throw e;
  }
}
