/**
 * Renewal: a new certificate for the same identity (the old certificate's subject bytes and SANs),
 * with a new serial, through issue() (which moves the old certificate to renewed/<serial>.crt as
 * superseded and links the two). Without rekey the public key is the old certificate's own; with
 * rekey a new key of the same type replaces private/<name>.key. No printing.
 */
import * as crypto from "node:crypto";
import { issue, Issued, leafFiles } from "../ca";
import { inputError } from "../errors";
import { buildCsr, csrPem } from "../pki/csr";
import { describeKey, generateKey, KEY_TYPES, KeyType, privateKeyPem, spkiOf } from "../pki/keys";
import type { ParsedCertificate } from "../pki/cert";
import type { Signer } from "../pki/signer";
import { checkSans } from "../pki/san";
import { natsUserFor, NatsUser } from "../nats/user";
import { CertRecord, checkName, Store } from "../store/store";
import { certOfRecord, spkiPin } from "./pins";

const DAY = 86_400_000;

export interface RenewOptions {
  rekey?: boolean;
  /** Validity in days; default: the old certificate's own length. */
  days?: number;
}

export interface RenewPlan {
  current: CertRecord;
  cert: ParsedCertificate;
  profile: "client" | "server" | "peer";
  rekey: boolean;
  keyType: string;
  days: number;
}

/** Checks a renewal without changing anything (before any passphrase prompt). */
export function planRenewal(store: Store, name: string, o: RenewOptions): RenewPlan {
  checkName(name);
  const current = store.currentOf(name); // the name's records only: O(1) in the inventory's size
  if (!current) throw inputError(`no certificate named "${name}" in the store`, store.inventoryFile);
  if (current.status !== "valid") throw inputError(`"${name}" (serial ${current.serial}) is ${current.status}: it cannot be renewed (issue a new certificate with --force)`, store.inventoryFile);
  if (current.kind !== "client" && current.kind !== "server") throw inputError(`"${name}" is a ${current.kind} certificate: only client and server certificates are renewed`, store.inventoryFile);
  const cert = certOfRecord(store, current);
  if (cert.serialHex !== current.serial) throw inputError(`the file holds serial ${cert.serialHex}, the inventory says ${current.serial}`, store.path(current.certFile));
  const pub = crypto.createPublicKey({ key: cert.spki, format: "der", type: "spki" });
  const keyType = describeKey(pub);
  if (o.rekey) {
    if (!current.keyFile) throw inputError(`"${name}" was signed from a request: its key is not in the store, so --rekey cannot replace it (have the client run \`mtlsctl client csr\`, then \`client sign --force\`)`, store.path(current.certFile));
    if (!(KEY_TYPES as readonly string[]).includes(keyType)) throw inputError(`"${name}" has a ${keyType} key, which mtlsctl does not generate: --rekey cannot make one of the same type`, store.path(current.certFile));
  }
  // the old certificate's length, in whole days (issue() starts a minute early)
  const days = o.days ?? Math.max(1, Math.round((cert.notAfter.getTime() - cert.notBefore.getTime() - 60_000) / DAY));
  return { current, cert, profile: current.profile === "peer" ? "peer" : current.kind, rekey: !!o.rekey, keyType, days };
}

export interface Renewal {
  issued: Issued;
  old: CertRecord;
  keyChanged: boolean;
  /** The new key file (rekey), else the kept one (null when the client holds the key). */
  keyFile: string | null;
  natsUserBefore: NatsUser | null;
  natsUserAfter: NatsUser | null;
  /** The key pins (config nats --pinned) of the old and the new certificate. */
  pinBefore: string;
  pinAfter: string;
}

/** Renews under the store lock (issue() re-checks that the plan's certificate is still current and valid). */
export function renew(store: Store, signer: Signer, caCert: ParsedCertificate, plan: RenewPlan, warnings: string[]): Renewal {
  const { current, cert, rekey } = plan;
  const name = current.name;
  const sans = checkSans({ email: cert.sans.email, dns: cert.sans.dns, uri: cert.sans.uri, ip: cert.sans.ip });
  if (cert.sans.other) warnings.push(`the old certificate has ${cert.sans.other} SAN(s) of other kinds: not carried over`);
  let spki = cert.spki;
  let publicKey = crypto.createPublicKey({ key: cert.spki, format: "der", type: "spki" });
  // without --rekey the key and request stay as they are
  let files: ReturnType<typeof leafFiles> = { extraFiles: [], keyRel: current.keyFile, csrRel: current.csrFile };
  if (rekey) {
    const key = generateKey(plan.keyType as KeyType);
    spki = spkiOf(key);
    publicKey = crypto.createPublicKey(key);
    // a new key, and (when there was one) a request true to the key it names
    files = leafFiles(name, { keyPem: privateKeyPem(key), csrPem: current.csrFile ? csrPem(buildCsr(key, cert.subjectRaw, sans)) : undefined });
  }
  const { keyRel } = files;
  const issued = issue(
    store,
    signer,
    caCert,
    {
      profile: plan.profile,
      name,
      subjectDer: cert.subjectRaw,
      spki,
      publicKey,
      sans,
      days: plan.days,
      keyType: rekey ? plan.keyType : current.keyType,
      ...files,
      renews: current.serial,
    },
    warnings,
  );
  const isClient = plan.profile === "client";
  return {
    issued,
    old: issued.replaced ?? current,
    keyChanged: !spki.equals(cert.spki),
    keyFile: keyRel ? store.path(keyRel) : null,
    natsUserBefore: isClient ? natsUserFor(cert) : null,
    natsUserAfter: isClient ? natsUserFor(issued.cert) : null,
    pinBefore: spkiPin(cert),
    pinAfter: spkiPin(issued.cert),
  };
}
