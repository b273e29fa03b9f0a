import * as fs from "node:fs";
import * as path from "node:path";
import * as crypto from "node:crypto";
import { Ctx } from "./context";
import { checkName } from "../store/store";
import type { CertRecord, Store as StoreApi } from "../store/types";
import { openFileStore } from "../store/file-api";
import { openDb } from "./store/open";
import { inputError, usageError } from "../errors";
import { readCertificates, certificatePem, ParsedCertificate } from "../pki/cert";
import { OID } from "../asn1/oids";
import { writeOutput } from "./common";
import { formatRfc4514 } from "../pki/name";
import { issuingChain, type ChainSource } from "../pki/hierarchy";
import { isEncryptedKeyPem, loadPrivateKey } from "../pki/keys";
import * as p12 from "../export/pkcs12";
import { exportPassword } from "./p12-password";

/** `export <name|ca> --format pem|chain|der|p12|truststore|roots`, from either store (the Store interface). */
export async function run([name]: string[], o: Record<string, any>): Promise<void> {
  const ctx = new Ctx(o);
  const pkcs12 = o.format === "p12" || o.format === "truststore";
  if (!pkcs12) for (const [flag, v] of [["--legacy", o.legacy], ["--password-file", o.passwordFile], ["--allow-empty-password", o.allowEmptyPassword]] as const)
    if (v !== undefined) throw usageError(`${flag} applies only to --format p12 or truststore`);
  if (name !== "ca") checkName(name);
  if (o.format === "roots" && name !== "ca") throw usageError("--format roots goes with `export ca`: the trust anchors (roots.pem; with --db the database's), what a server's ca_file holds");
  const store: StoreApi = ctx.db !== undefined ? openDb(ctx) : openFileStore(ctx.dir);
  try {
    await exportFrom(ctx, store, name, o, pkcs12);
  } finally {
    await store.close().catch(() => undefined);
  }
}

async function exportFrom(ctx: Ctx, store: StoreApi, name: string, o: Record<string, any>, pkcs12: boolean): Promise<void> {
  let ca = await store.caCertificate();
  let cert: ParsedCertificate;
  let rec: CertRecord | undefined;
  if (name === "ca") cert = ca;
  else {
    rec = await store.findByName(name);
    if (!rec) throw inputError(`no certificate named "${name}" in the store`, store.location);
    const pem = await store.certificatePem(rec.serial);
    if (pem === undefined) throw inputError(`the certificate of "${name}" (serial ${rec.serial}) is missing from the store`, store.location);
    cert = readCertificates(Buffer.from(pem), store.location)[0];
    // signed by a previous root (before a rollover): its chain ends in that root, not the current one
    const prev = rec.caSerial ? (await store.previousCas()).find((p) => p.serial === rec!.caSerial) : undefined;
    if (prev) {
      const ppem = await store.previousCaPem(prev.serial);
      if (ppem === undefined) throw inputError(`cannot read the previous CA certificate (serial ${prev.serial})`, store.location);
      ca = readCertificates(Buffer.from(ppem), store.location)[0];
      if (prev.caStatus === "retired") ctx.warn(`"${name}" was issued by a retired root (serial ${prev.serial}): servers no longer trust it; renew it (mtlsctl renew ${name})`);
    }
    if (pkcs12 && rec.status !== "valid") ctx.warn(`"${name}" is ${rec.status}: servers that check revocation will refuse it`);
  }
  // what issuingChain reads, fetched once (the interface is asynchronous)
  const presented = await store.presentedChain();
  let anchors: ParsedCertificate[] | Error;
  try {
    anchors = await store.trustAnchors();
  } catch (e) {
    anchors = e as Error;
  }
  const chainSource = {
    presentedChain: () => presented,
    trustAnchors: () => {
      if (anchors instanceof Error) throw anchors;
      return anchors;
    },
  };
  if (pkcs12) return exportPkcs12(ctx, store, chainSource, name, cert, ca, rec, o);

  let out: Buffer | string;
  switch (o.format) {
    case "der":
      out = cert.der;
      break;
    case "roots":
      // the CAs a server trusts: the current root and, during a rollover's overlap, the previous ones (roots.pem's content)
      if (anchors instanceof Error) throw anchors;
      out = anchors.map((c) => certificatePem(c.der)).join("");
      break;
    case "chain":
      // the certificate, then every CA above it up to the root (an intermediate store: chain.pem, then roots.pem's root)
      out = (name === "ca" ? issuingChain(chainSource, ca) : [cert, ...issuingChain(chainSource, ca)]).map((c) => certificatePem(c.der)).join("");
      break;
    default:
      out = certificatePem(cert.der);
  }
  if (ctx.json) return exportJson(ctx, name, o, out, { subject: formatRfc4514(cert.subject), serial: cert.serialHex, fingerprint: cert.fingerprint });
  if (o.format === "der" && o.out === undefined && process.stdout.isTTY) throw inputError("refusing to write DER to a terminal: use --out FILE");
  writeOutput(o.out, out, { force: o.force });
  if (o.out) ctx.note(`Wrote ${o.out} (${o.format})`);
}

function readOrFail(file: string, what: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch {
    throw inputError(`cannot read ${what}`, file);
  }
}

/** The trust store's entries: the store's trust anchors (roots.pem, else ca.crt), each under a distinct alias. */
function trustEntries(chain: ChainSource): { der: Buffer; friendlyName: string }[] {
  const seen = new Set<string>();
  return chain.trustAnchors().map((c) => {
    let alias = commonName(c, "ca");
    if (seen.has(alias)) alias = `${alias} (${c.serialHex.slice(0, 8)})`;
    seen.add(alias);
    return { der: c.der, friendlyName: alias };
  });
}

/** The CN of a certificate's subject (the last one, as Go and OpenSSL show it), else a fallback. */
function commonName(c: ParsedCertificate, fallback: string): string {
  const cns = c.subject.flat().filter((a) => a.type === OID.CN);
  return cns.length ? cns[cns.length - 1].value : fallback;
}

/**
 * `--format p12`: the key (shrouded key bag), the certificate and the CA, with friendlyName (the
 * name) and localKeyId; `--format truststore`: the CA alone, as a Java trustedCertEntry.
 * Every refusal comes before the password is asked for.
 */
async function exportPkcs12(ctx: Ctx, store: StoreApi, chain: ChainSource, name: string, cert: ParsedCertificate, ca: ParsedCertificate, rec: CertRecord | undefined, o: Record<string, any>): Promise<void> {
  const truststore = o.format === "truststore";
  if (truststore && name !== "ca") throw inputError(`a trust store holds the CA: use \`mtlsctl export ca --format truststore\` (for ${name}'s key and certificate use --format p12)`);
  if (!truststore && name === "ca") throw inputError("the CA key is never exported: use --format truststore (Java) or pem for the CA certificate, and --format p12 for a client or server");
  if (o.out === undefined || o.out === "-") {
    if (process.stdout.isTTY && !ctx.json) throw inputError(`refusing to write a PKCS#12 file to a terminal: use --out FILE`);
  } else if (!o.force && fs.existsSync(path.resolve(o.out))) throw inputError("already exists (use --force to replace it)", path.resolve(o.out));

  let keyPkcs8: Buffer | null = null;
  if (!truststore) {
    const where = store.leafKey(rec!);
    if ("why" in where) throw inputError(`"${name}" has no key in the store (${where.why})`, store.location);
    const keyFile = where.file;
    const pem = readOrFail(keyFile, "the key").toString("utf8");
    if (isEncryptedKeyPem(pem) || /Proc-Type: 4,ENCRYPTED/.test(pem)) throw inputError("the key is encrypted: decrypt it first (openssl pkey -in KEY -out PLAIN.key)", keyFile);
    const key = loadPrivateKey(pem, keyFile);
    const spki = crypto.createPublicKey(key).export({ type: "spki", format: "der" });
    if (!spki.equals(cert.spki)) throw inputError(`the key does not match the certificate of "${name}"`, keyFile);
    keyPkcs8 = key.export({ type: "pkcs8", format: "der" });
  }

  const password = await exportPassword(ctx, o);
  const legacy = !!o.legacy;
  const data = truststore
    ? p12.buildTrustStore({ password, legacy, certs: trustEntries(chain) })
    : p12.buildKeyStore({ password, legacy, keyPkcs8: keyPkcs8!, certDer: cert.der, chainDer: issuingChain(chain, ca).map((c) => c.der), friendlyName: name });
  if (ctx.json)
    return exportJson(ctx, name, o, data, { subject: formatRfc4514(cert.subject), serial: cert.serialHex, fingerprint: cert.fingerprint, legacy, emptyPassword: password === "" }, truststore ? 0o644 : 0o600);
  writeOutput(o.out, data, { force: o.force, mode: truststore ? 0o644 : 0o600 });
  if (o.out !== undefined && o.out !== "-") ctx.note(`Wrote ${o.out} (${truststore ? "trust store" : "PKCS#12"}; ${p12.describeVariant(legacy)}${password === "" ? "; EMPTY password" : ""})`);
}

/**
 * --json: the facts, and the exported data itself when there is no --out (text formats as text,
 * DER and PKCS#12 as base64); with --out the file is written as without --json.
 */
function exportJson(ctx: Ctx, name: string, o: Record<string, any>, data: string | Buffer, facts: Record<string, unknown>, mode?: number): void {
  const toFile = o.out !== undefined && o.out !== "-";
  if (toFile) writeOutput(o.out, data, { force: o.force, mode });
  const buf = typeof data === "string" ? Buffer.from(data) : data;
  ctx.result(
    {
      name,
      format: o.format,
      out: toFile ? path.resolve(o.out) : null,
      bytes: buf.length,
      sha256: crypto.createHash("sha256").update(buf).digest("hex"),
      ...facts,
      encoding: toFile ? null : typeof data === "string" ? "pem" : "base64",
      data: toFile ? null : typeof data === "string" ? data : data.toString("base64"),
      warnings: ctx.warnings,
    },
    () => "",
  );
}
