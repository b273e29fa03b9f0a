/** `config curl <name>`: the curl command that calls the server as client <name> (templates/curl.sh). */
import * as path from "node:path";
import { Ctx } from "../context";
import { renderTemplate } from "../../templates";
import { writeOutput } from "../common";
import { checkUrl, defaultUrl, headerVars, pickServer, requireCert, shellQuote } from "../../export/snippets";
import { snippetSource } from "./source";

export async function run([name]: string[], o: Record<string, any>): Promise<void> {
  const ctx = new Ctx(o);
  // a database store (issue 19): the same command, naming the files given (--ca-file, --cert-file/--key-file)
  const src = await snippetSource(ctx, o, "config curl", [name], true);
  const { view: store, inv } = src;
  const rec = requireCert(store, inv, name);
  const files = src.leafFiles(rec);
  const notes: string[] = [];
  let url = o.url !== undefined ? checkUrl(o.url) : defaultUrl(pickServer(store, inv, o.server));
  if (url === null) {
    url = "https://server.example:8443/";
    ctx.warn("no server certificate with a DNS name or IP in the store: the URL is a placeholder (give --url)");
    notes.push("The URL is a placeholder: no server certificate in the store names a host (mtlsctl config curl --url).");
  }
  let keyFile: string;
  if (files.keyFile) keyFile = files.keyFile;
  else {
    keyFile = `${name}.key`;
    ctx.warn(`"${name}" was signed from a request: its key is not in the store; the command uses ./${name}.key, where \`mtlsctl client csr\` wrote it`);
    notes.push(`The key is not in the store: ${name}.key is where \`mtlsctl client csr ${name}\` wrote it.`);
  }
  const text = renderTemplate("curl.sh", {
    ...headerVars(store),
    name,
    notes: notes.map((n) => "\n# " + n).join(""),
    cert_file: shellQuote(files.certFile),
    key_file: shellQuote(keyFile),
    ca_file: shellQuote(src.trustFile),
    url: shellQuote(url),
  });
  if (ctx.json) {
    // the snippet inside the JSON; with --out it is also written to the file
    if (o.out) writeOutput(o.out, text, { force: o.force });
    ctx.result({ snippet: text, out: o.out ? path.resolve(o.out) : null, name, url, warnings: ctx.warnings }, () => "");
    return;
  }
  writeOutput(o.out, text, { force: o.force });
  if (o.out) ctx.note(`Wrote ${o.out}`);
}
