import * as path from "node:path";
import { Ctx } from "../context";
import { buildSubject, fromCsr, issue, leafFiles } from "../../ca";
import { readCsr, csrPem } from "../../pki/csr";
import { readFileChecked } from "../../verify/input";
import { openCa, reportIssued, sansFromOptions } from "../common";
import { ExitCode, inputError, MtlsError, usageError } from "../../errors";
import { checkSans, hasSans } from "../../pki/san";
import { NAME_RULE } from "../../store/store";
import { accessFromOptions } from "../../nats/access";
import { describeKey, goAcceptsKey } from "../../pki/keys";

export async function run([csrFile]: string[], o: Record<string, any>): Promise<void> {
  const ctx = new Ctx(o);
  const csr = readCsr(readFileChecked(csrFile, "certificate request"), csrFile);
  // refused here, naming the file and before any passphrase prompt (issue() checks it again)
  if (!goAcceptsKey(csr.publicKey))
    throw inputError(`the request's ${describeKey(csr.publicKey)} key cannot be used with nats-server (Go accepts RSA, ECDSA P-256/P-384/P-521 and Ed25519)`, csrFile);
  let name: string | undefined = o.name;
  if (name === undefined) {
    const base = path.basename(csrFile).replace(/\.(csr|req|pem)$/i, "");
    if (!NAME_RULE.test(base)) throw usageError(`cannot derive a name from "${csrFile}": give --name`);
    name = base;
  }
  const warnings: string[] = [];
  // Check the flags' own values first, so that an error left from fromCsr is about the request's
  // contents and can name the file (design: "mtlsctl: <file>: <what is wrong>").
  const flagSans = checkSans(sansFromOptions(o));
  if (o.subject !== undefined) buildSubject(o.subject, []);
  const access = accessFromOptions(o); // --account and permission flags
  let taken: ReturnType<typeof fromCsr>;
  try {
    taken = fromCsr(csr, { subject: o.subject, sans: flagSans }, warnings);
  } catch (e) {
    if (e instanceof MtlsError && e.file === undefined && e.exitCode === ExitCode.INPUT) throw inputError(`the request's subject alternative names: ${e.message}`, csrFile);
    throw e;
  }
  const { subjectDer, sans } = taken;
  if (subjectDer.length <= 2 && !hasSans(sans)) throw inputError("the request has an empty subject and no SAN (give --subject or a SAN flag)", csrFile);
  const ca = await openCa(ctx, { passphraseFile: o.passphraseFile, force: o.force }, name);
  const issued = issue(
    ca.store,
    ca.signer,
    ca.caCert,
    {
      profile: "client",
      name,
      subjectDer,
      spki: csr.spki,
      publicKey: csr.publicKey,
      sans,
      days: o.days,
      force: o.force,
      keyType: describeKey(csr.publicKey),
      ...leafFiles(name, { csrPem: csrPem(csr.der) }),
      ...access,
    },
    warnings,
  );
  ctx.warnAll(warnings);
  reportIssued(ctx, "Signed client certificate", issued);
}
