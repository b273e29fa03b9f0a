/**
 * `config java`: a mu-server HTTPS server whose client-certificate trust manager is the CA trust
 * store (templates/java-mu-server.java), or with --client NAME a plain JSSE client with a
 * KeyManager (NAME's PKCS#12) and a TrustManager (the trust store) (templates/java-client.java).
 * The .p12 files are made by `mtlsctl export`; the snippet names them by absolute path and shows
 * the commands that write them.
 */
import * as path from "node:path";
import { Ctx } from "../context";
import { Store } from "../../store/store";
import { inputError, usageError } from "../../errors";
import { renderTemplate } from "../../templates";
import { writeOutput } from "../common";
import { checkUrl, defaultUrl, exportCommand, headerVars, javaString, pickServer, requireCert, requireServer } from "../../export/snippets";

export const TRUSTSTORE_FILE = "ca-truststore.p12";

export function run(_args: string[], o: Record<string, any>): void {
  const ctx = new Ctx(o);
  const store = Store.open(ctx.dir);
  const inv = store.readInventory();
  const dir = path.resolve(o.p12Dir ?? ".");
  const truststore = path.join(dir, TRUSTSTORE_FILE);
  const common = { ...headerVars(store), truststore: javaString(truststore), export_truststore: exportCommand(store, "ca", "truststore", truststore) };
  let text: string;
  if (o.client !== undefined) {
    const rec = requireCert(store, inv, o.client);
    if (!rec.keyFile) throw inputError(`"${o.client}" has no key in the store, so no .p12 can be exported for it (it was signed from a request)`, store.inventoryFile);
    const p12 = path.join(dir, `${o.client}.p12`);
    let url = o.url !== undefined ? checkUrl(o.url) : defaultUrl(pickServer(store, inv, o.server));
    if (url === null) {
      url = "https://server.example:8443/";
      ctx.warn("no server certificate with a DNS name or IP in the store: the default URL is a placeholder (give --url, or a URL argument when running it)");
    }
    text = renderTemplate("java-client.java", { ...common, name: o.client, client_p12: javaString(p12), export_client: exportCommand(store, o.client, "p12", p12), url: javaString(url) });
  } else {
    if (o.url !== undefined) throw usageError("--url goes with --client");
    const server = requireServer(store, inv, o.server);
    const p12 = path.join(dir, `${server.name}.p12`);
    text = renderTemplate("java-mu-server.java", { ...common, server_name: server.name, server_p12: javaString(p12), export_server: exportCommand(store, server.name, "p12", p12) });
  }
  if (ctx.json) {
    // the snippet inside the JSON; with --out it is also written to the file
    if (o.out) writeOutput(o.out, text, { force: o.force });
    ctx.result({ snippet: text, out: o.out ? path.resolve(o.out) : null, client: o.client ?? null, warnings: ctx.warnings }, () => "");
    return;
  }
  writeOutput(o.out, text, { force: o.force });
  if (o.out) ctx.note(`Wrote ${o.out}`);
}
