import { createPublicKey } from "node:crypto";
import { Ctx } from "../context";
import { issue, leafFiles, subjectFor } from "../../ca";
import { generateKey, parseKeyType, privateKeyPem, spkiOf } from "../../pki/keys";
import { buildCsr, csrPem } from "../../pki/csr";
import { openCa, reportIssued, sansFromOptions } from "../common";
import { checkSans } from "../../pki/san";
import { checkName, Store } from "../../store/store";
import { accessFromOptions } from "../../nats/access";
import type { Command } from "commander";
import { mustAsk } from "../prompts";
import { promptClient } from "../prompt-identity";

/** `client issue`: key, request and certificate in one step, on the CA's machine. */
export async function run([nameArg]: string[], o: Record<string, any>, cmd?: Command): Promise<void> {
  const ctx = new Ctx(o);
  // no NAME: on a terminal, ask for it (then the key type and SANs); else exit 2 naming it
  let name: string = nameArg;
  if (name === undefined) {
    const missing = "missing required argument 'name': give client issue NAME (or --from FILE)";
    mustAsk(ctx, missing);
    const store = Store.open(ctx.dir); // no store: refused before any question
    const inv = store.readInventory();
    name = await promptClient(ctx, o, cmd, missing, (n) => {
      const rec = store.findByName(inv, n);
      return rec && !o.force ? `"${n}" already exists (serial ${rec.serial}; use --force to replace it)` : null;
    });
  }
  checkName(name);
  const keyType = parseKeyType(o.key);
  const sans = checkSans(sansFromOptions(o));
  const warnings: string[] = [];
  const subjectDer = subjectFor({ name, subject: o.subject, sans }, warnings); // validated before any prompt
  const access = accessFromOptions(o); // --account and permission flags, checked before any prompt
  const ca = await openCa(ctx, { passphraseFile: o.passphraseFile, force: o.force }, name);
  const key = generateKey(keyType);
  const csrDer = buildCsr(key, subjectDer, sans);
  const issued = issue(
    ca.store,
    ca.signer,
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
      ...leafFiles(name, { keyPem: privateKeyPem(key), csrPem: csrPem(csrDer) }),
      ...access,
    },
    warnings,
  );
  ctx.warnAll(warnings);
  reportIssued(ctx, "Issued client certificate", issued);
}
