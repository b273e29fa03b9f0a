/**
 * `config java`: a mu-server HTTPS server whose client-certificate trust manager is the CA trust
 * store (templates/java-mu-server.java), or with --client NAME a plain JSSE client with a
 * KeyManager (NAME's PKCS#12) and a TrustManager (the trust store) (templates/java-client.java).
 * The .p12 files are made by `mtlsctl export`; the snippet names them by absolute path and shows
 * the commands that write them.
 */
import * as path from "node:path";
import { Ctx } from "../context";
import type { CertRecord } from "../../store/store";
import { inputError, usageError } from "../../errors";
import { renderTemplate } from "../../templates";
import { writeOutput } from "../common";
import { checkUrl, defaultUrl, exportCommand, headerVars, javaString, pickServer, requireCert, requireServer, shellQuote } from "../../export/snippets";
import { snippetSource, type SnippetSource } from "./source";

export const TRUSTSTORE_FILE = "ca-truststore.p12";

/**
 * The command (for a comment line) that writes a leaf's .p12: `mtlsctl export` from a file store that
 * keeps its key; with --cert-file/--key-file (a database store keeps no leaf key) openssl from those files.
 */
function p12Command(src: SnippetSource, o: Record<string, any>, rec: CertRecord, p12: string): string {
  if (o.certFile === undefined) return exportCommand(src.view, rec.name, "p12", p12);
  const files = src.leafFiles(rec);
  return ["openssl", "pkcs12", "-export", "-in", shellQuote(files.certFile), "-inkey", shellQuote(files.keyFile!), "-name", shellQuote(rec.name), "-out", shellQuote(p12)].join(" ");
}

export async function run(_args: string[], o: Record<string, any>): Promise<void> {
  const ctx = new Ctx(o);
  // a database store (issue 19): the same snippet; the .p12 files come from the pair given (--cert-file/--key-file: openssl pkcs12), the trust store from the database
  const src = await snippetSource(ctx, o, "config java", o.client !== undefined ? [o.client] : [], true);
  const { view: store, inv } = src;
  const dir = path.resolve(o.p12Dir ?? ".");
  const truststore = path.join(dir, TRUSTSTORE_FILE);
  const common = { ...headerVars(store), truststore: javaString(truststore), export_truststore: exportCommand(store, "ca", "truststore", truststore) };
  let text: string;
  if (o.client !== undefined) {
    const rec = requireCert(store, inv, o.client);
    if (src.db || o.certFile !== undefined) src.leafFiles(rec); // a database: the pair must be named
    else if (!rec.keyFile) throw inputError(`"${o.client}" has no key in the store, so no .p12 can be exported for it (it was signed from a request)`, store.inventoryFile);
    const p12 = path.join(dir, `${o.client}.p12`);
    let url = o.url !== undefined ? checkUrl(o.url) : defaultUrl(pickServer(store, inv, o.server));
    if (url === null) {
      url = "https://server.example:8443/";
      ctx.warn("no server certificate with a DNS name or IP in the store: the default URL is a placeholder (give --url, or a URL argument when running it)");
    }
    text = renderTemplate("java-client.java", { ...common, name: o.client, client_p12: javaString(p12), export_client: p12Command(src, o, rec, p12), url: javaString(url) });
  } else {
    if (o.url !== undefined) throw usageError("--url goes with --client");
    const server = src.db || o.certFile !== undefined ? pickServer(store, inv, o.server) ?? requireServer(store, inv, o.server) : requireServer(store, inv, o.server);
    if (src.db) src.leafFiles(server);
    const p12 = path.join(dir, `${server.name}.p12`);
    text = renderTemplate("java-mu-server.java", { ...common, server_name: server.name, server_p12: javaString(p12), export_server: p12Command(src, o, server, p12) });
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
