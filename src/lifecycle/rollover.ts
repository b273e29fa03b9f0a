/**
 * CA care (issue 10): a new CA passphrase, a root rollover with an overlap, and the retirement of
 * the previous root. Library: no printing, no prompts; warnings are returned.
 *
 * Rollover keeps the previous root's certificate and key (previous/<serial>.crt,
 * private/previous-<serial>.key, both listed in inventory.previousCas) and makes roots.pem (the
 * file every snippet's ca_file names) trust the new root and every previous one still in overlap.
 * Crash safety: the new CA and the new roots.pem are staged (`.ca-<serial>.crt`,
 * `private/.ca-<serial>.key`, `.roots-<hash>.pem`), the inventory is the commit point, then they
 * are published; the next locked command finishes or discards an interrupted one
 * (Store.recoverStagedCa).
 */
import * as fs from "node:fs";
import * as crypto from "node:crypto";
import { inputError } from "../errors";
import { buildCertificate, certificatePem, parseCertificate, ParsedCertificate, profileExtensions } from "../pki/cert";
import { describeKey, generateKey, isEncryptedKeyPem, isRsa, KEY_TYPES, KeyType, loadPrivateKey, privateKeyPem, spkiOf } from "../pki/keys";
import { keySigner } from "../pki/signer";
import { chooseSerial } from "../pki/plan";
import { crashPoint } from "../store/crashpoints";
import { caOf, CertRecord, Inventory, LAYOUT, PreviousCa, Store } from "../store/store";
import { buildSubject, checkDays, DEFAULT_CA_DAYS, record } from "../ca";

const DAY = 86_400_000;

/** Refuses CA care that only a root store supports (an intermediate store has chain.pem). */
export function checkRootStore(store: Store, caCert: ParsedCertificate, what: string): void {
  if (fs.existsSync(store.chainFile) || !caCert.issuerRaw.equals(caCert.subjectRaw))
    throw inputError(`${what} is for root stores: this store's CA is an intermediate (roll it over by issuing a new intermediate from its root's store)`, store.caCertFile);
}

// ---------------------------------------------------------------- passphrase

export interface PassphraseChange {
  encrypted: boolean;
  /** The key files re-encrypted (relative to the store): the CA key, then previous CA keys. */
  files: string[];
}

/**
 * Re-encrypts the CA key (and the previous CAs' keys) under `newPassphrase` (undefined: written
 * unencrypted), holding the store lock. Every key is decrypted with the old passphrase before
 * anything is written: a wrong one changes nothing. Each file is replaced atomically; the CA key
 * last, so a crash leaves it under the old passphrase or the new one.
 */
export function changePassphrase(store: Store, oldPassphrase: string | undefined, newPassphrase: string | undefined, warnings: string[]): PassphraseChange {
  return store.withLock(() => {
    const inv = store.readInventory();
    const caCert = store.caCertificate();
    const key = store.caKey(oldPassphrase, caCert); // wrong passphrase, or a key of another CA: exit 3
    const previous: { rel: string; key: crypto.KeyObject }[] = [];
    for (const p of inv.previousCas ?? []) {
      if (!p.keyFile || !fs.existsSync(store.path(p.keyFile))) continue;
      const pem = fs.readFileSync(store.path(p.keyFile), "utf8");
      const enc = isEncryptedKeyPem(pem);
      let k: crypto.KeyObject | null = null;
      for (const pass of enc ? [oldPassphrase, newPassphrase] : [undefined]) {
        if (enc && pass === undefined) continue;
        try {
          k = loadPrivateKey(pem, store.path(p.keyFile), pass);
          break;
        } catch {
          /* the next passphrase */
        }
      }
      if (k) previous.push({ rel: p.keyFile, key: k });
      else warnings.push(`${store.path(p.keyFile)}: the previous CA key (serial ${p.serial}) opens with neither passphrase: left as it is`);
    }
    for (const p of previous) store.write(p.rel, privateKeyPem(p.key, newPassphrase), 0o600);
    store.write(LAYOUT.caKeyRel, privateKeyPem(key, newPassphrase), 0o600);
    if (newPassphrase === undefined) warnings.push(`the CA key is NOT encrypted (--no-encrypt): protect ${store.caKeyFile}`);
    return { encrypted: newPassphrase !== undefined, files: [LAYOUT.caKeyRel, ...previous.map((p) => p.rel)] };
  });
}

// ---------------------------------------------------------------- rollover

export interface RolloverOptions {
  /** Default: the current CA's key type (ec-p256 when mtlsctl cannot make that type). */
  keyType?: KeyType;
  /** RFC 4514; or `name` for CN=<name>. Default: the current CA's subject, byte for byte. */
  subject?: string;
  name?: string;
  days?: number;
  /** The current CA key's passphrase; the new key is encrypted with it (unencrypted when the old one was). */
  passphrase?: string;
  now?: Date;
}

export interface RolloverResult {
  cert: ParsedCertificate;
  keyType: string;
  previous: PreviousCa;
  /** The CAs roots.pem now holds (serials; the new one first). */
  roots: string[];
  encrypted: boolean;
}

export function rollover(store: Store, o: RolloverOptions, warnings: string[]): RolloverResult {
  const days = checkDays(o.days, DEFAULT_CA_DAYS);
  if (o.subject !== undefined && o.name !== undefined) throw inputError("give --name or --subject, not both");
  const oldCert = store.caCertificate();
  checkRootStore(store, oldCert, "ca rollover");
  const oldKey = store.caKey(o.passphrase, oldCert); // proves the caller holds the CA (exit 3 otherwise), before a key is made
  const encrypted = store.caKeyEncrypted();
  const keyType: KeyType = o.keyType ?? ((KEY_TYPES as readonly string[]).includes(describeKey(oldKey)) ? (describeKey(oldKey) as KeyType) : "ec-p256");
  const subjectDer = o.subject !== undefined || o.name !== undefined ? buildSubject(o.subject ?? `CN=${o.name}`, warnings, "CA subject").der : oldCert.subjectRaw;

  const key = generateKey(keyType);
  const spki = spkiOf(key);
  const now = o.now ?? new Date();
  const notAfter = new Date(now.getTime() + days * DAY);
  return store.withLock(() => {
    const inv = store.readInventory();
    if (inv.ca.serial !== oldCert.serialHex) throw inputError("the CA changed meanwhile (another mtlsctl?): run ca rollover again", store.inventoryFile);
    store.caKey(o.passphrase, oldCert); // the key file copied below still opens with this passphrase (no ca passphrase meanwhile)
    const serials = new Set([inv.ca.serial, ...inv.certificates.map((c) => c.serial), ...(inv.previousCas ?? []).map((p) => p.serial)]);
    const serial = chooseSerial((hex) => serials.has(hex)); // the one serial rule (pki/plan.ts)
    const der = buildCertificate(
      {
        serial,
        issuer: subjectDer,
        subject: subjectDer,
        notBefore: new Date(now.getTime() - 60_000),
        notAfter,
        spki,
        extensions: profileExtensions("ca", { spki, rsa: isRsa(key), pathLen: oldCert.basicConstraints?.pathLen }),
      },
      keySigner(key),
    );
    const cert = parseCertificate(der);
    const newPem = certificatePem(der);
    const old = inv.ca.serial;

    // 1. the previous CA's files, unlisted until the commit (Store.removeUnlistedFiles removes them otherwise)
    const prevCert = store.previousCertRel(old);
    const prevKey = store.previousKeyRel(old);
    store.write(prevCert, fs.readFileSync(store.caCertFile));
    store.write(prevKey, fs.readFileSync(store.caKeyFile), 0o600);
    // 2. the new CA and the new roots.pem, staged
    store.write(`.ca-${cert.serialHex}.crt`, newPem);
    store.write(store.stagedCaKeyRel(cert.serialHex), privateKeyPem(key, encrypted ? o.passphrase : undefined), 0o600);
    const previous: PreviousCa = {
      ...inv.ca,
      certFile: prevCert,
      keyFile: prevKey,
      status: "superseded",
      renewedBy: cert.serialHex,
      caStatus: "overlap",
      replacedAt: now.toISOString(),
      replacedBy: cert.serialHex,
      retiredAt: null,
    };
    const next: Inventory = {
      ...inv,
      ca: { ...record("ca", "ca", cert, describeKey(key), { cert: LAYOUT.caCertRel, key: LAYOUT.caKeyRel, csr: null }), renews: old },
      // what the old CA signed keeps its name: caSerial (absent means "the current CA")
      certificates: inv.certificates.map((c) => (c.caSerial ? c : { ...c, caSerial: old })),
      previousCas: [...(inv.previousCas ?? []), previous],
    };
    const roots = rootsOf(next);
    stageRoots(store, [newPem, ...roots.slice(1).map((s) => fs.readFileSync(store.path(caFileOf(next, s)), "utf8"))]);
    // 3. the commit point, then publish (the same code that finishes an interrupted rollover)
    store.writeInventory(next);
    crashPoint(`rollover committed, new CA not yet published: ${cert.serialHex}`);
    store.recoverStagedCa();
    if (!encrypted) warnings.push(`the new CA key is NOT encrypted (the previous one was not either): protect ${store.caKeyFile}`);
    const live = inv.certificates.filter((c) => c.status === "valid" && new Date(c.notAfter) > now);
    if (live.length)
      warnings.push(
        `${live.length} valid certificate(s) of the previous CA (${old}) keep working while it is in roots.pem: renew them (mtlsctl renew NAME) before mtlsctl ca retire`,
      );
    return { cert, keyType: describeKey(key), previous, roots, encrypted };
  });
}

/** The serials of the CAs roots.pem trusts: the current CA, then the previous ones in overlap. */
export function rootsOf(inv: Inventory): string[] {
  return [inv.ca.serial, ...(inv.previousCas ?? []).filter((p) => p.caStatus === "overlap").map((p) => p.serial)];
}

const caFileOf = (inv: Inventory, serial: string): string => (serial === inv.ca.serial ? inv.ca.certFile : inv.previousCas!.find((p) => p.serial === serial)!.certFile);

/** Writes the next roots.pem beside the store as `.roots-<hash>.pem` (published after the commit). */
function stageRoots(store: Store, pems: string[]): void {
  const text = pems.map((p) => p.trim() + "\n").join("");
  store.write(`.roots-${crypto.createHash("sha256").update(text).digest("hex").slice(0, 16)}.pem`, text);
}

// ---------------------------------------------------------------- retire

export interface RetireResult {
  retired: PreviousCa[];
  roots: string[];
  /** Valid certificates signed by a CA retired now: servers that reload roots.pem refuse them. */
  stranded: CertRecord[];
}

/** Ends the overlap: the chosen previous CAs (every one with `all`) leave roots.pem. */
export function retire(store: Store, o: { serials?: string[]; all?: boolean; now?: Date }, warnings: string[]): RetireResult {
  const now = o.now ?? new Date();
  const wanted = (o.serials ?? []).map((s) => s.toLowerCase().replace(/^0x/, "").replace(/:/g, ""));
  if (!o.all && !wanted.length) throw inputError("name the previous CA to retire (its serial; see mtlsctl ca show) or give --all-previous");
  if (o.all && wanted.length) throw inputError("give serials or --all-previous, not both");
  return store.withLock(() => {
    const inv = store.readInventory();
    const overlap = (inv.previousCas ?? []).filter((p) => p.caStatus === "overlap");
    for (const s of wanted) {
      if (s === inv.ca.serial) throw inputError(`${s} is the store's current CA: only a previous CA can be retired`, store.inventoryFile);
      const p = (inv.previousCas ?? []).find((x) => x.serial === s || x.serial.replace(/^0+/, "") === s.replace(/^0+/, ""));
      if (!p) throw inputError(`no previous CA with serial ${s} (see mtlsctl ca show)`, store.inventoryFile);
      if (p.caStatus === "retired") throw inputError(`the previous CA ${p.serial} is already retired`, store.inventoryFile);
    }
    const chosen = o.all ? overlap : overlap.filter((p) => wanted.some((s) => p.serial === s || p.serial.replace(/^0+/, "") === s.replace(/^0+/, "")));
    if (!chosen.length) throw inputError("no previous CA is in overlap: nothing to retire", store.inventoryFile);
    const ids = new Set(chosen.map((p) => p.serial));
    const next: Inventory = {
      ...inv,
      previousCas: inv.previousCas!.map((p) => (ids.has(p.serial) ? { ...p, caStatus: "retired" as const, retiredAt: now.toISOString() } : p)),
    };
    const roots = rootsOf(next);
    stageRoots(store, roots.map((s) => fs.readFileSync(store.path(caFileOf(next, s)), "utf8")));
    store.writeInventory(next);
    crashPoint("retire committed, roots.pem not yet published");
    store.recoverStagedCa();
    const stranded = next.certificates.filter((c) => c.status === "valid" && new Date(c.notAfter) > now && ids.has(caOf(next, c).serial));
    if (stranded.length)
      warnings.push(
        `${stranded.length} valid certificate(s) were signed by the retired CA and are refused once servers reload roots.pem: ${stranded
          .slice(0, 10)
          .map((c) => c.name)
          .join(", ")}${stranded.length > 10 ? ", ..." : ""} (renew them: mtlsctl renew NAME)`,
      );
    return { retired: next.previousCas!.filter((p) => ids.has(p.serial)), roots, stranded };
  });
}
