/**
 * `ca sign <csr>`: on the root's machine, sign an intermediate CA's request (from `ca init
 * --intermediate --csr-out`). The sub-CA is recorded in this store's inventory (kind ca), so that
 * `list` shows it and `revoke` can revoke it; the certificate goes to --out (or stdout).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { Ctx } from "../context";
import { buildSubject, issue, leafFiles } from "../../ca";
import { readCsr, csrPem } from "../../pki/csr";
import { readFileChecked } from "../../input";
import { openCa, writeOutput } from "../common";
import { inputError, usageError } from "../../errors";
import { emptySans } from "../../pki/san";
import { checkName } from "../../store/store";
import { describeKey, goAcceptsKey } from "../../pki/keys";
import { certificatePem, type ParsedCertificate } from "../../pki/cert";
import { formatRfc4514 } from "../../pki/name";
import { constraintsFromOptions, constraintsSummary, describeConstraints, parseNameConstraints } from "../../pki/constraints";
import { recordNameFor, subCaDays } from "../../hierarchy";
import { issueInStore, unlockStoreCa } from "../../issue-store";
import { getSecret } from "../context";
import { withDb } from "../store/open";
import type { ParsedCsr } from "../../pki/csr";

export async function run([csrFile]: string[], o: Record<string, any>): Promise<void> {
  const ctx = new Ctx(o);
  const csr = readCsr(readFileChecked(csrFile, "certificate request"), csrFile);
  if (!goAcceptsKey(csr.publicKey)) throw inputError(`the request's ${describeKey(csr.publicKey)} key cannot be used with nats-server (Go accepts RSA, ECDSA P-256/P-384/P-521 and Ed25519)`, csrFile);
  if (csr.sans && csr.sans.email.length + csr.sans.dns.length + csr.sans.uri.length + csr.sans.ip.length) ctx.warn(`${csrFile}: the request asks for subject alternative names: a CA gets none, ignored`);
  const subjectDer = o.subject !== undefined ? buildSubject(o.subject, [], "CA subject").der : csr.subjectRaw;
  if (subjectDer.length <= 2) throw inputError("the request has an empty subject (give --subject)", csrFile);
  const name = checkName(o.name ?? recordNameFor(subjectDer));
  const nameConstraints = constraintsFromOptions(o);
  if (o.out !== undefined && o.out !== "-" && !o.force && fs.existsSync(path.resolve(o.out))) throw inputError("already exists (use --force to replace it)", path.resolve(o.out));
  if (o.out === undefined && o.json) throw usageError("with --json give --out FILE for the certificate");
  if (ctx.db !== undefined) return signOnDb(ctx, o, { name, subjectDer, csr, nameConstraints });
  const ca = await openCa(ctx, { passphraseFile: o.passphraseFile, force: o.force }, name);
  const warnings: string[] = [];
  const issued = issue(
    ca.store,
    ca.signer,
    ca.caCert,
    {
      profile: "ca",
      name,
      subjectDer,
      spki: csr.spki,
      publicKey: csr.publicKey,
      sans: emptySans(),
      days: subCaDays(o.days, ca.caCert),
      pathLen: o.pathLen,
      nameConstraints,
      force: o.force,
      keyType: describeKey(csr.publicKey),
      ...leafFiles(name, { csrPem: csrPem(csr.der) }),
    },
    warnings,
  );
  ctx.warnAll(warnings);
  writeOutput(o.out, certificatePem(issued.cert.der), { force: true }); // existence checked above, before signing
  const chained = ca.store.presentedChain().length > 0;
  report(ctx, o, issued.cert, name, ca.caCert, warnings, { certFile: issued.certFile, rootFile: ca.store.trustFile, chainFile: chained ? ca.store.chainFile : null }, (crt) =>
    `Give it, with the root certificate (${ca.store.trustFile})${chained ? ` and this CA's chain (${ca.store.chainFile})` : ""}, to: mtlsctl ca install ${crt} --root ROOT.crt${chained ? " --chain CHAIN.pem" : ""}`,
  );
}

/** What `ca sign` prints on either store: `files` name where the store keeps the certificate, its root and chain; `give` is the closing line. */
function report(ctx: Ctx, o: Record<string, any>, c: ParsedCertificate, name: string, caCert: ParsedCertificate, warnings: string[], files: { certFile: string; rootFile: string; chainFile: string | null }, give: (crt: string) => string): void {
  const nc = parseNameConstraints(c).nc;
  ctx.result(
    {
      name,
      subject: formatRfc4514(c.subject),
      issuer: formatRfc4514(caCert.subject),
      serial: c.serialHex,
      notBefore: c.notBefore.toISOString(),
      notAfter: c.notAfter.toISOString(),
      fingerprint: c.fingerprint,
      pathLen: c.basicConstraints?.pathLen ?? null,
      nameConstraints: nc ? describeConstraints(nc) : null,
      out: o.out === undefined || o.out === "-" ? null : path.resolve(o.out),
      certFile: files.certFile,
      rootFile: files.rootFile,
      chainFile: files.chainFile,
      warnings,
    },
    () =>
      o.out === undefined || o.out === "-"
        ? ""
        : [
            `Signed intermediate CA ${ctx.bold(formatRfc4514(c.subject))}: serial ${c.serialHex}, valid until ${c.notAfter.toISOString()} (recorded as "${name}")`,
            `  certificate  ${path.resolve(o.out)}`,
            ...(c.basicConstraints?.pathLen !== undefined ? [`  path length  ${c.basicConstraints.pathLen}`] : []),
            ...(nc ? [`  constraints  ${constraintsSummary(nc)}`] : []),
            give(path.basename(o.out)),
          ].join("\n"),
  );
}

/**
 * A database store (issue 19): the sub-CA signed by the database's CA and recorded in its rows (kind
 * ca, profile sub-ca) through issueInStore, in one transaction; the certificate goes to --out (or
 * stdout) as on a file store. An existing name is refused before the passphrase is asked for.
 */
async function signOnDb(ctx: Ctx, o: Record<string, any>, r: { name: string; subjectDer: Buffer; csr: ParsedCsr; nameConstraints: ReturnType<typeof constraintsFromOptions> }): Promise<void> {
  await withDb(ctx, async (db) => {
    const existing = await db.findByName(r.name);
    if (existing && !o.force) throw inputError(`"${r.name}" already exists (serial ${existing.serial}; use --force to replace it)`, db.location);
    const { caCert, signer } = await unlockStoreCa(db, () => getSecret(ctx, { what: "CA passphrase", file: o.passphraseFile, fileFlag: "--passphrase-file", env: "MTLSCTL_PASSPHRASE" }));
    const warnings: string[] = [];
    const issued = await issueInStore(
      db,
      signer,
      caCert,
      { profile: "ca", name: r.name, subjectDer: r.subjectDer, spki: r.csr.spki, publicKey: r.csr.publicKey, sans: emptySans(), days: subCaDays(o.days, caCert), pathLen: o.pathLen, nameConstraints: r.nameConstraints, force: o.force, keyType: describeKey(r.csr.publicKey), csrPem: csrPem(r.csr.der) },
      warnings,
    );
    ctx.warnAll(warnings);
    writeOutput(o.out, issued.certPem, { force: true }); // existence checked before signing
    const above = (await db.presentedChain()).length > 0;
    report(ctx, o, issued.cert, r.name, caCert, ctx.warnings, { certFile: `${db.location} (${issued.record.certFile})`, rootFile: `${db.location} (ca)`, chainFile: above ? `${db.location} (ca chain)` : null }, (crt) =>
      `Give it, with the root certificate (mtlsctl export ca --out ROOT.crt)${above ? " and this CA's chain (mtlsctl export ca --format chain --out CHAIN.pem)" : ""}, to: mtlsctl ca install ${crt} --root ROOT.crt${above ? " --chain CHAIN.pem" : ""}`,
    );
  });
}
