/** `config node`: a Node.js https server that requires client certificates from this CA (templates/node-server.js). */
import * as path from "node:path";
import { Ctx } from "../context";
import { Store } from "../../store/store";
import { renderTemplate } from "../../templates";
import { writeOutput } from "../common";
import { headerVars, jsString, requireServer } from "../../export/snippets";

export function run(_args: string[], o: Record<string, any>): void {
  const ctx = new Ctx(o);
  const store = Store.open(ctx.dir);
  const server = requireServer(store, store.readInventory(), o.server);
  const text = renderTemplate("node-server.js", {
    ...headerVars(store),
    server_name: server.name,
    key_file: jsString(store.path(server.keyFile)),
    cert_file: jsString(store.path(server.certFile)),
    ca_file: jsString(store.trustFile),
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
