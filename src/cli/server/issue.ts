import { createPublicKey } from "node:crypto";
import { Ctx } from "../context";
import { buildSubject, issue } from "../../ca";
import { generateKey, parseKeyType, privateKeyPem, spkiOf } from "../../pki/keys";
import { openCa, reportIssued, sansFromOptions } from "../common";
import { checkSans } from "../../pki/san";
import { checkName } from "../../store/store";
import { usageError } from "../../errors";

/** `server issue`: a serverAuth certificate with DNS/IP SANs for the server itself. */
export async function run([name]: string[], o: Record<string, any>): Promise<void> {
  const ctx = new Ctx(o);
  checkName(name);
  const keyType = parseKeyType(o.key);
  const sans = checkSans({ ...sansFromOptions(o), email: [], uri: [] });
  if (sans.dns.length + sans.ip.length === 0) throw usageError("a server certificate needs at least one --dns or --ip");
  const subjectDer = buildSubject(o.subject ?? `CN=${name}`, []).der;
  const ca = await openCa(ctx, { passphraseFile: o.passphraseFile, force: o.force }, name);
  const key = generateKey(keyType);
  const issued = issue(
    ca.store,
    ca.caKey,
    ca.caCert,
    {
      profile: "server",
      name,
      subjectDer,
      spki: spkiOf(key),
      publicKey: createPublicKey(key),
      sans,
      days: o.days,
      force: o.force,
      keyType,
      extraFiles: [{ rel: `private/${name}.key`, data: privateKeyPem(key), mode: 0o600 }],
      keyRel: `private/${name}.key`,
      csrRel: null,
    },
    [],
  );
  reportIssued(ctx, "Issued server certificate", issued);
}
