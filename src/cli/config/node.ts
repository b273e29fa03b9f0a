/** `config node`: a Node.js https server that requires client certificates from this CA (templates/node-server.js). */
import * as path from "node:path";
import { Ctx } from "../context";
import { renderTemplate } from "../../templates";
import { writeOutput } from "../common";
import { headerVars, jsString, pickServer, requireServer } from "../../export/snippets";
import { snippetSource } from "./source";

export async function run(_args: string[], o: Record<string, any>): Promise<void> {
  const ctx = new Ctx(o);
  // a database store (issue 19): the same snippet, naming the files given (--ca-file, --cert-file/--key-file)
  const src = await snippetSource(ctx, o, "config node", [], true);
  const server = src.db || o.certFile !== undefined ? pickServer(src.view, src.inv, o.server) ?? requireServer(src.view, src.inv, o.server) : requireServer(src.view, src.inv, o.server);
  const files = src.leafFiles(server);
  const text = renderTemplate("node-server.js", {
    ...headerVars(src.view),
    server_name: server.name,
    key_file: jsString(files.keyFile!),
    cert_file: jsString(files.certFile),
    ca_file: jsString(src.trustFile),
  });
  if (ctx.json) {
    // the snippet inside the JSON; with --out it is also written to the file
    if (o.out) writeOutput(o.out, text, { force: o.force });
    ctx.result({ snippet: text, out: o.out ? path.resolve(o.out) : null, server: server.name, warnings: ctx.warnings }, () => "");
    return;
  }
  writeOutput(o.out, text, { force: o.force });
  if (o.out) ctx.note(`Wrote ${o.out}: run it with  PORT=8443 node ${o.out}  (server certificate "${server.name}")`);
}
