import * as fs from "node:fs";
import { Ctx } from "./context";
import { Store } from "../store/store";
import { inputError } from "../errors";
import { readCertificates, certificatePem } from "../pki/cert";
import { writeOutput } from "./common";

/** `export <name|ca> --format pem|chain|der`. */
export function run([name]: string[], o: Record<string, any>): void {
  const ctx = new Ctx(o);
  const store = Store.open(ctx.dir);
  const ca = store.caCertificate();
  let certFile: string;
  if (name === "ca") certFile = store.caCertFile;
  else {
    const rec = store.findByName(store.readInventory(), name);
    if (!rec) throw inputError(`no certificate named "${name}" in the store`, store.inventoryFile);
    certFile = store.path(rec.certFile);
  }
  let data: Buffer;
  try {
    data = fs.readFileSync(certFile);
  } catch {
    throw inputError("cannot read the certificate", certFile);
  }
  const cert = readCertificates(data, certFile)[0];
  let out: Buffer | string;
  switch (o.format) {
    case "der":
      out = cert.der;
      break;
    case "chain":
      out = certificatePem(cert.der) + (name === "ca" ? "" : certificatePem(ca.der));
      break;
    default:
      out = certificatePem(cert.der);
  }
  if (o.format === "der" && o.out === undefined && process.stdout.isTTY) throw inputError("refusing to write DER to a terminal: use --out FILE");
  writeOutput(o.out, out, { force: o.force });
  if (o.out) ctx.note(`Wrote ${o.out} (${o.format})`);
}
