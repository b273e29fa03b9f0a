/**
 * Intermediate CAs (issue 10). A root stays in its own store; an intermediate store holds the
 * intermediate's key and certificate (ca.crt), chain.pem (ca.crt and any intermediates above it:
 * what a leaf presents after itself) and roots.pem (the root: what ca_file names).
 *
 *   online:  initIntermediate        the root store signs at once (its inventory records the sub-CA)
 *   offline: initPendingIntermediate the new store holds only its key and reqs/ca.csr ("pending");
 *            `ca sign` (issue() with profile "ca") runs on the root's machine;
 *            installIntermediate      checks the certificate and completes the store, inventory last.
 * Library code: no printing, no prompts; warnings are returned.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as crypto from "node:crypto";
import { buildSubject, CaInitOptions, checkDays, checkNewStoreDir, createStore, DEFAULT_CA_DAYS, issue, Issued, placeStore, record, Result, stagingDirFor } from "./ca";
import { inputError } from "./errors";
import { KeyUsage, ParsedCertificate } from "./pki/cert";
import { buildCsr, csrPem, readCsr } from "./pki/csr";
import { checkSubCa, issuingChain, pemBundle } from "./pki/hierarchy";
import { describeKey, generateKey, privateKeyPem, spkiOf } from "./pki/keys";
import type { Signer } from "./pki/signer";
import { decodeName, formatRfc4514 } from "./pki/name";
import { emptySans } from "./pki/san";
import { writeFileAtomic } from "./store/atomic";
import { verifyClientChain } from "./verify/chain";
import { crashPoint } from "./store/crashpoints";
import { checkName, Inventory, LAYOUT, Store } from "./store/store";

/** As for a root (`ca init`): dir, key type, subject or name, days, path length, constraints, passphrase, force. */
export type IntermediateOptions = CaInitOptions;

function subjectOf(o: IntermediateOptions, warnings: string[]): Buffer {
  if (o.subject !== undefined && o.name !== undefined) throw inputError("give --name or --subject, not both");
  return buildSubject(o.subject ?? `CN=${o.name ?? "mtlsctl Intermediate CA"}`, warnings, "CA subject").der;
}

/** A sub-CA's validity: --days, else 3650 days or what the issuer has left (no warning then). */
export function subCaDays(days: number | undefined, issuer: ParsedCertificate): number {
  if (days !== undefined) return checkDays(days, DEFAULT_CA_DAYS);
  return Math.max(1, Math.min(DEFAULT_CA_DAYS, Math.floor((issuer.notAfter.getTime() - Date.now()) / 86_400_000)));
}

/** The name under which a root store records a sub-CA: its CN made a store name. */
export function recordNameFor(subjectDer: Buffer): string {
  const cn = decodeName(subjectDer).flat().filter((a) => a.type === "2.5.4.3").pop()?.value ?? "";
  const n = cn.replace(/[^A-Za-z0-9._@-]+/g, "-").replace(/^[.-]+|-+$/g, "").slice(0, 100);
  return n || "intermediate";
}

/** Online: the store at `root` signs a new intermediate, and the new store is created at o.dir. */
export function initIntermediate(o: IntermediateOptions & { root: { store: Store; cert: ParsedCertificate; signer: Signer }; recordName?: string }): Result<{ store: Store; cert: ParsedCertificate; issued: Issued }> {
  const warnings: string[] = [];
  const dir = path.resolve(o.dir);
  if (dir === o.root.store.dir) throw inputError("the intermediate needs its own store: --dir and --root-dir name the same directory", dir);
  const days = subCaDays(o.days, o.root.cert);
  const subjectDer = subjectOf(o, warnings);
  const replacing = checkNewStoreDir(dir, o.force);
  const name = checkName(o.recordName ?? recordNameFor(subjectDer));
  const issuers = issuingChain(o.root.store, o.root.cert);
  checkSubCa(issuers, subjectDer, o.pathLen); // before a key is made
  const key = generateKey(o.keyType);
  const spki = spkiOf(key);
  const issued = issue(
    o.root.store,
    o.root.signer,
    o.root.cert,
    { profile: "ca", name, subjectDer, spki, publicKey: crypto.createPublicKey(key), sans: emptySans(), days, pathLen: o.pathLen, nameConstraints: o.nameConstraints, keyType: describeKey(key), keyRel: null, csrRel: null },
    warnings,
  );
  // chain.pem: the new CA, then what the signing store's leaves present after themselves (its chain)
  const chain = [issued.cert, ...o.root.store.presentedChain()];
  const roots = issuers.filter((c) => c.issuerRaw.equals(c.subjectRaw));
  const store = createStore(dir, { cert: issued.cert, key, passphrase: o.passphrase, replacing, chain, roots }, warnings);
  return { value: { store, cert: issued.cert, issued }, warnings };
}

/** Offline, step 1: a store holding only the key (encrypted) and reqs/ca.csr. Returns the request. */
export function initPendingIntermediate(o: IntermediateOptions): Result<{ dir: string; csrPem: string; keyType: string; subject: string }> {
  const warnings: string[] = [];
  const dir = path.resolve(o.dir);
  if (o.pathLen !== undefined || o.nameConstraints) throw inputError("--path-len and name constraints are set by the signer: give them to `mtlsctl ca sign` on the root's machine");
  if (o.days !== undefined) throw inputError("the validity is set by the signer: give --days to `mtlsctl ca sign` on the root's machine");
  const subjectDer = subjectOf(o, warnings);
  const replacing = checkNewStoreDir(dir, o.force);
  const key = generateKey(o.keyType);
  const pem = csrPem(buildCsr(key, subjectDer, emptySans()));
  fs.mkdirSync(path.dirname(dir), { recursive: true });
  const staging = stagingDirFor(dir);
  try {
    fs.mkdirSync(staging, { mode: 0o755 });
    Store.createLayout(staging);
    const st = new Store(staging);
    writeFileAtomic(st.caKeyFile, privateKeyPem(key, o.passphrase), { mode: 0o600 });
    writeFileAtomic(st.caCsrFile, pem);
    placeStore(staging, dir, replacing);
  } catch (e) {
    fs.rmSync(staging, { recursive: true, force: true });
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "EACCES" || code === "EPERM" || code === "EROFS") throw inputError("cannot create the store (permission denied or read-only)", dir);
    throw e;
  }
  if (o.passphrase === undefined) warnings.push("the CA key is NOT encrypted (--no-encrypt): protect " + new Store(dir).caKeyFile);
  return { value: { dir, csrPem: pem, keyType: describeKey(key), subject: formatRfc4514(decodeName(subjectDer)) }, warnings };
}

/**
 * Offline, step 3: completes a pending store with its certificate. `certs` is the file given (the
 * certificate, perhaps followed by the intermediates above it), `above` more intermediates
 * (--chain), `roots` the trust anchors (--root). Checked before anything is written: the certificate
 * is for the pending key, is a CA that may sign, is current, and chains to a root as Go builds chains
 * (signatures, validity, path lengths, name constraints).
 */
export function installIntermediate(dir: string, certs: ParsedCertificate[], above: ParsedCertificate[], roots: ParsedCertificate[], files: { cert: string; root: string }): Result<{ store: Store; cert: ParsedCertificate; chain: ParsedCertificate[]; root: ParsedCertificate }> {
  const warnings: string[] = [];
  const store = new Store(dir);
  if (!Store.isPending(store.dir)) {
    if (Store.exists(store.dir)) throw inputError("this store already has its CA certificate (nothing is pending)", store.dir);
    throw inputError("no pending intermediate store here (run `mtlsctl ca init --intermediate --csr-out FILE` first, or pass --dir)", store.dir);
  }
  const csrFile = store.caCsrFile;
  const csr = readCsr(fs.readFileSync(csrFile), csrFile);
  const cert = certs[0];
  if (!cert.spki.equals(csr.spki)) throw inputError("the certificate is not for this store's key (its public key differs from reqs/ca.csr's)", files.cert);
  if (!cert.basicConstraints?.ca) throw inputError("not a CA certificate (basicConstraints CA:TRUE is missing): was it signed with `mtlsctl ca sign`?", files.cert);
  if (cert.keyUsage && !cert.keyUsage.includes(KeyUsage.keyCertSign)) throw inputError("its keyUsage does not allow signing certificates (keyCertSign)", files.cert);
  const now = Date.now();
  if (cert.notAfter.getTime() <= now) throw inputError(`the certificate expired on ${cert.notAfter.toISOString()}`, files.cert);
  if (!cert.subjectRaw.equals(csr.subjectRaw)) warnings.push(`the certificate's subject "${formatRfc4514(cert.subject)}" differs from the request's "${formatRfc4514(csr.subject)}"`);
  if (!roots.length) throw inputError("no certificate in the root file", files.root);
  const r = verifyClientChain(cert, [...certs.slice(1), ...above], roots);
  if (!r.ok) throw inputError(`does not chain to the root given by --root (${r.error})`, files.cert);
  const root = r.chain[r.chain.length - 1];
  if (!root.issuerRaw.equals(root.subjectRaw)) warnings.push(`the trust anchor "${formatRfc4514(root.subject)}" is not self-signed`);
  checkSubCa(r.chain.slice(1), cert.subjectRaw, undefined);
  const chain = r.chain.slice(0, -1);
  store.withLock(() => {
    if (!Store.isPending(store.dir)) throw inputError("installed meanwhile by another mtlsctl", store.dir);
    writeFileAtomic(store.rootsFile, pemBundle([root]));
    writeFileAtomic(store.chainFile, pemBundle(chain));
    writeFileAtomic(store.caCertFile, pemBundle([cert]));
    crashPoint(`ca install: files written, before the inventory (the commit point): ${store.inventoryFile}`);
    const inv: Inventory = { version: 1, ca: record("ca", "ca", cert, describeKey(csr.publicKey), { cert: LAYOUT.caCertRel, key: LAYOUT.caKeyRel, csr: LAYOUT.caCsrRel }), certificates: [] };
    store.writeInventory(inv);
  });
  return { value: { store, cert, chain, root }, warnings };
}
