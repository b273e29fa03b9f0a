/**
 * `ca import <ca.crt> <ca.key>`: adopts an existing CA (mkcert's CAROOT files, an openssl-made CA)
 * as a new store, exactly as `ca init` creates one, with the key re-encrypted under the mtlsctl
 * passphrase (PBES2, AES-256) unless --no-encrypt. Everything is checked before anything is asked
 * for or written: the certificate is a CA (CA:TRUE, keyCertSign when keyUsage is present, current,
 * a valid self-signature when self-issued) and the key belongs to it.
 */
import * as crypto from "node:crypto";
import * as path from "node:path";
import { Ctx, getSecret } from "../context";
import { checkNewStoreDir, createStore } from "../../ca";
import { inputError, usageError } from "../../errors";
import { KeyUsage, readCertificates, signedBy } from "../../pki/cert";
import { describeKey, isEncryptedKeyPem, loadPrivateKey, signerFor } from "../../pki/keys";
import { decodeName, formatRfc4514 } from "../../pki/name";
import { readFileChecked } from "../../input";
import { pkcs11Signer } from "../../pki/pkcs11";
import { parsePkcs11Uri, redactUri } from "../../pki/pkcs11-uri";
import { checkSignerMatches } from "../../pki/signer";
import * as fs from "node:fs";
import * as os from "node:os";
import { withDb } from "../store/open";
import { copyFileToPg } from "../../store/pg/copy";

type Report = (json: Record<string, unknown>, human: () => string) => void;

export async function run(args: string[], o: Record<string, any>): Promise<void> {
  const ctx = new Ctx(o);
  if (ctx.db === undefined) return importInto(ctx, ctx.dir, args, o, (json, human) => ctx.result(json, human));
  // a database store (issue 19): on an empty database only (as ca init --db): the CA is imported as into
  // a store directory, in a private temporary one (removed afterwards, whatever happens), then copied
  // into the database by store copy's one transaction
  if (o.force) throw usageError("ca import --db never replaces a store: it needs an empty database");
  await withDb(ctx, async (db) => {
    if (!(await db.isEmpty())) throw inputError("the database already holds a store: ca import --db needs an empty one", db.location, "exists");
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "mtlsctl-import-"));
    try {
      const dir = path.join(tmp, "pki");
      let made: Parameters<Report> | null = null;
      await importInto(ctx, dir, args, o, (json, human) => (made = [json, human]));
      await copyFileToPg(dir, db);
      const [json, human] = made! as Parameters<Report>;
      // the store's files are the database's rows now
      const here = (v: unknown) => (typeof v === "string" && (v === dir || v.startsWith(dir + path.sep)) ? db.location : v);
      const out = Object.fromEntries(Object.entries(json).map(([k, v]) => [k, here(v)]));
      ctx.result(out, () => human().split("\n").map((l) => l.replace(new RegExp(`${dir.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\\S*`, "g"), db.location)).join("\n"));
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });
}

async function importInto(ctx: Ctx, dir: string, [certFile, keyFile]: string[], o: Record<string, any>, report: Report): Promise<void> {
  if (o.encrypt === false && o.passphraseFile !== undefined) throw inputError("--no-encrypt and --passphrase-file contradict each other");
  if (keyFile === undefined && o.pkcs11 === undefined) throw usageError("missing argument <ca.key> (or --pkcs11 URI for a key in a token)");
  const replacing = checkNewStoreDir(dir, o.force);

  // the certificate: one, a CA, current
  const certs = readCertificates(readFileChecked(certFile, "CA certificate"), certFile);
  if (certs.length !== 1) throw inputError(`expected one certificate (the CA), found ${certs.length}`, certFile);
  const cert = certs[0];
  if (!cert.basicConstraints?.ca) throw inputError("not a CA certificate (basicConstraints CA:TRUE is missing)", certFile);
  if (cert.keyUsage && !cert.keyUsage.includes(KeyUsage.keyCertSign)) throw inputError("its keyUsage does not allow signing certificates (keyCertSign)", certFile);
  const now = Date.now();
  if (cert.notAfter.getTime() <= now) throw inputError(`the CA certificate expired on ${cert.notAfter.toISOString()}`, certFile);
  if (cert.notBefore.getTime() > now) throw inputError(`the CA certificate is not valid before ${cert.notBefore.toISOString()}`, certFile);
  const selfIssued = cert.issuerRaw.equals(cert.subjectRaw);
  if (selfIssued && !signedBy(cert, cert.spki)) throw inputError("its self-signature does not verify (damaged certificate)", certFile);
  if (!selfIssued)
    ctx.warn(`${certFile}: not a root (issued by ${formatRfc4514(decodeName(cert.issuerRaw))}): verifiers that need the whole chain must also trust its issuer`);

  if (o.pkcs11 !== undefined) return importPkcs11(ctx, dir, o, cert, certFile, keyFile, replacing, report);
  // the key: PEM, decrypted if need be, the certificate's own, and one mtlsctl can sign with
  const pem = readFileChecked(keyFile, "CA key").toString("utf8");
  const encrypted = isEncryptedKeyPem(pem) || /Proc-Type: 4,ENCRYPTED/.test(pem);
  const oldPassphrase = encrypted
    ? await getSecret(ctx, { what: `passphrase of ${keyFile}`, file: o.keyPassphraseFile, fileFlag: "--key-passphrase-file", env: "MTLSCTL_KEY_PASSPHRASE" })
    : undefined;
  const key = loadPrivateKey(pem, keyFile, oldPassphrase);
  if (key.type !== "private") throw inputError("not a private key", keyFile);
  const spki = crypto.createPublicKey(key).export({ type: "spki", format: "der" });
  if (!spki.equals(cert.spki)) throw inputError(`the key does not match the certificate ${certFile}`, keyFile);
  try {
    signerFor(key);
  } catch {
    throw inputError(`mtlsctl cannot sign with a ${describeKey(key)} key`, keyFile);
  }

  const passphrase =
    o.encrypt === false ? undefined : await getSecret(ctx, { what: "new CA passphrase", file: o.passphraseFile, fileFlag: "--passphrase-file", env: "MTLSCTL_PASSPHRASE", confirm: true });
  const warnings: string[] = [];
  const store = createStore(dir, { cert, key, passphrase, replacing }, warnings);
  ctx.warnAll(warnings);
  report(
    {
      dir,
      imported: { certFile: path.resolve(certFile), keyFile: path.resolve(keyFile) },
      subject: formatRfc4514(cert.subject),
      keyType: describeKey(key),
      serial: cert.serialHex,
      notBefore: cert.notBefore.toISOString(),
      notAfter: cert.notAfter.toISOString(),
      fingerprint: cert.fingerprint,
      certFile: store.caCertFile,
      keyFile: store.caKeyFile,
      encrypted: passphrase !== undefined,
      warnings: ctx.warnings,
    },
    () =>
      [
        `Imported CA ${ctx.bold(formatRfc4514(cert.subject))} (${describeKey(key)}), valid until ${cert.notAfter.toISOString()}`,
        `  store        ${dir}`,
        `  certificate  ${store.caCertFile}`,
        `  key          ${store.caKeyFile} (${passphrase !== undefined ? "encrypted, AES-256" : "NOT encrypted"})`,
        `  SHA-256      ${cert.fingerprint}`,
      ].join("\n"),
  );
}

/** `ca import ca.crt --pkcs11 URI`: the key already in a token; its public key must be the certificate's. */
async function importPkcs11(ctx: Ctx, dir: string, o: Record<string, any>, cert: ReturnType<typeof readCertificates>[number], certFile: string, keyFile: string | undefined, replacing: boolean, report: Report): Promise<void> {
  if (keyFile !== undefined) throw usageError("give <ca.key> or --pkcs11, not both");
  if (o.encrypt === false || o.keyPassphraseFile !== undefined) throw usageError("--no-encrypt and --key-passphrase-file go with a key file, not --pkcs11");
  const uri = parsePkcs11Uri(o.pkcs11);
  const pin = uri.pinSource === undefined && uri.pinValue === undefined ? await getSecret(ctx, { what: "PKCS#11 token PIN", file: o.passphraseFile, fileFlag: "--passphrase-file", env: "MTLSCTL_PASSPHRASE" }) : undefined;
  const signer = pkcs11Signer(uri, { pin });
  let keyType: string;
  try {
    checkSignerMatches(signer, cert.spki, redactUri(uri.text));
    keyType = signer.keyType;
  } finally {
    signer.close();
  }
  const warnings: string[] = [];
  const store = createStore(dir, { cert, pkcs11: { uri: o.pkcs11, keyType }, replacing }, warnings);
  ctx.warnAll(warnings);
  const stored = (store.caKeyRef() as { uri: string }).uri;
  report(
    {
      dir,
      imported: { certFile: path.resolve(certFile), keyFile: null, pkcs11: stored },
      subject: formatRfc4514(cert.subject),
      keyType,
      serial: cert.serialHex,
      notBefore: cert.notBefore.toISOString(),
      notAfter: cert.notAfter.toISOString(),
      fingerprint: cert.fingerprint,
      certFile: store.caCertFile,
      keyFile: null,
      pkcs11: stored,
      pkcs11File: store.caPkcs11File,
      encrypted: false,
      warnings: ctx.warnings,
    },
    () =>
      [
        `Imported CA ${ctx.bold(formatRfc4514(cert.subject))} (${keyType}, key in a PKCS#11 token), valid until ${cert.notAfter.toISOString()}`,
        `  store        ${dir}`,
        `  certificate  ${store.caCertFile}`,
        `  key          in the token (${stored}), named by ${store.caPkcs11File}`,
        `  SHA-256      ${cert.fingerprint}`,
      ].join("\n"),
  );
}
