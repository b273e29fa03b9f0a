import { createPublicKey } from "node:crypto";
import { Ctx } from "../context";
import { issue, subjectFor } from "../../ca";
import { generateKey, parseKeyType, privateKeyPem, spkiOf } from "../../pki/keys";
import { buildCsr, csrPem } from "../../pki/csr";
import { openCa, reportIssued, sansFromOptions } from "../common";
import { checkSans } from "../../pki/san";
import { checkName } from "../../store/store";

/** `client issue`: key, request and certificate in one step, on the CA's machine. */
export async function run([name]: string[], o: Record<string, any>): Promise<void> {
  const ctx = new Ctx(o);
  checkName(name);
  const keyType = parseKeyType(o.key);
  const sans = checkSans(sansFromOptions(o));
  const warnings: string[] = [];
  const subjectDer = subjectFor({ name, subject: o.subject, sans }, warnings); // validated before any prompt
  const ca = await openCa(ctx, { passphraseFile: o.passphraseFile, force: o.force }, name);
  const key = generateKey(keyType);
  const csrDer = buildCsr(key, subjectDer, sans);
  const issued = issue(
    ca.store,
    ca.caKey,
    ca.caCert,
    {
      profile: "client",
      name,
      subjectDer,
      spki: spkiOf(key),
      publicKey: createPublicKey(key),
      sans,
      days: o.days,
      force: o.force,
      keyType,
      extraFiles: [
        { rel: `private/${name}.key`, data: privateKeyPem(key), mode: 0o600 },
        { rel: `reqs/${name}.csr`, data: csrPem(csrDer), mode: 0o644 },
      ],
      keyRel: `private/${name}.key`,
      csrRel: `reqs/${name}.csr`,
    },
    warnings,
  );
  ctx.warnAll(warnings);
  reportIssued(ctx, "Issued client certificate", issued);
}
