/**
 * `config nkey-client node|go <name>`: a NATS client that connects as the NKey user <name> with its
 * seed file (templates/nkey-client.js for npm `nats`, templates/nkey-client.go for nats.go).
 * The snippet names the seed file; it never contains the seed.
 */
import * as path from "node:path";
import { Ctx } from "../context";
import type { CertRecord } from "../../store/store";
import { renderTemplate } from "../../templates";
import { writeOutput } from "../common";
import { headerVars, jsString, pickServer, requireCert } from "../../export/snippets";
import { inputError, usageError } from "../../errors";
import { snippetSource } from "./source";

function refuseControl(s: string): string {
  if (/[\u0000-\u001f\u007f]/.test(s)) throw inputError(`a control character in "${s.replace(/[\u0000-\u001f\u007f]/g, "?")}" cannot go into a snippet`);
  return s;
}

/** A Go interpreted string literal that reads back exactly `s`. */
export function goString(s: string): string {
  refuseControl(s);
  if (/[\uD800-\uDFFF]/.test(s.replace(/[\uD800-\uDBFF][\uDC00-\uDFFF]/g, ""))) throw inputError(`"${s}" is not valid Unicode and cannot go into a Go snippet`);
  return `"${s.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
}

/** nats://<the server certificate's first DNS name, else first IP>:4222 */
function defaultNatsUrl(server: CertRecord | null): string | null {
  if (!server) return null;
  const ip = server.sans.ip[0];
  const host = server.sans.dns[0] ?? (ip !== undefined ? (ip.includes(":") ? `[${ip}]` : ip) : undefined);
  return host === undefined ? null : `nats://${host}:4222`;
}

function checkNatsUrl(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw inputError(`--url "${url}" is not a URL`);
  }
  if (u.protocol !== "nats:" && u.protocol !== "tls:") throw inputError(`--url must be a nats:// or tls:// URL (got ${u.protocol}//)`);
  if (u.username || u.password) throw inputError("--url must not carry a user or password: the NKey is the credential");
  return refuseControl(url);
}

/** Comment text: no line breaks can escape the comment. */
const comment = (s: string) => s.replace(/[\u0000-\u001f\u007f]/g, "?");

export async function run([lang, name]: string[], o: Record<string, any>): Promise<void> {
  const ctx = new Ctx(o);
  if (lang !== "node" && lang !== "go") throw usageError(`config nkey-client: the language is node or go (got "${lang}")`);
  // a database store (issue 19): the same snippet, naming the files given (--ca-file; --cert-file/--key-file with --cert; --seed-file for a copied NKey)
  if (o.cert === undefined && o.certFile !== undefined) throw usageError("config nkey-client: --cert-file and --key-file go with --cert NAME");
  const src = await snippetSource(ctx, o, "config nkey-client", o.cert !== undefined ? [o.cert] : [], true);
  const { view: store, inv } = src;
  const rec = (inv.nkeys ?? []).find((k) => k.name === name);
  if (!rec) throw inputError(`no NKey named "${name}" in the store (mtlsctl nkey create ${name})`, store.inventoryFile);
  const seedFile = src.seedFile(rec);
  const notes: string[] = [];

  let url = o.url !== undefined ? checkNatsUrl(o.url) : defaultNatsUrl(pickServer(store, inv, o.server));
  if (url === null) {
    url = "nats://127.0.0.1:4222";
    ctx.warn("no server certificate with a DNS name or IP in the store: the URL is nats://127.0.0.1:4222 (give --url, or set NATS_URL when running it)");
  }

  let cert: { certFile: string; keyFile: string } | null = null;
  if (o.cert !== undefined) {
    const c = requireCert(store, inv, o.cert);
    if (c.kind !== "client") throw inputError(`"${o.cert}" is a ${c.kind} certificate, not a client certificate`, store.inventoryFile);
    const files = src.leafFiles(c);
    let keyFile: string;
    if (files.keyFile) keyFile = files.keyFile;
    else {
      keyFile = `${o.cert}.key`;
      ctx.warn(`"${o.cert}" was signed from a request: its key is not in the store; the snippet uses ./${o.cert}.key, where \`mtlsctl client csr\` wrote it`);
      notes.push(`The key is not in the store: ${o.cert}.key is where \`mtlsctl client csr ${o.cert}\` wrote it.`);
    }
    cert = { certFile: files.certFile, keyFile };
  } else {
    ctx.warn(
      "no --cert: the client presents no certificate. The tls {} block that `mtlsctl config nats` emits (verify_and_map) asks every client for one, NKey clients too: against such a server add --cert NAME (the nkey still decides the user)",
    );
    notes.push("No client certificate: a server whose tls {} has verify or verify_and_map refuses the handshake (add --cert NAME).");
  }

  const q = lang === "node" ? jsString : goString;
  const clientCert =
    cert === null
      ? ""
      : lang === "node"
        ? `\n      certFile: ${q(cert.certFile)}, // presented at the TLS handshake (${comment(o.cert)}); the nkey decides the user\n      keyFile: ${q(cert.keyFile)},`
        : `\n\t\t// presented at the TLS handshake (${comment(o.cert)}); the nkey decides the user\n\t\tnats.ClientCert(${q(cert.certFile)}, ${q(cert.keyFile)}),`;
  const hv = headerVars(store);
  const text = renderTemplate(lang === "node" ? "nkey-client.js" : "nkey-client.go", {
    ...hv,
    store: comment(hv.store),
    name: comment(name),
    public_key: rec.publicKey.replace(/[^A-Z2-7]/g, "?"),
    public_key_js: jsString(rec.publicKey),
    public_key_go: goString(rec.publicKey),
    file_hint: comment(o.out ? path.basename(o.out) : lang === "node" ? "nkey-client.js" : "main.go"),
    notes: notes.map((n) => "\n// " + comment(n)).join(""),
    seed_file: q(seedFile),
    url: q(url),
    ca_file: q(src.trustFile),
    client_cert: clientCert,
    client_name: q(name),
  });
  if (ctx.json) {
    // the snippet inside the JSON; with --out it is also written to the file
    if (o.out) writeOutput(o.out, text, { force: o.force });
    ctx.result({ snippet: text, out: o.out ? path.resolve(o.out) : null, lang, name, publicKey: rec.publicKey, seedFile, url, warnings: ctx.warnings }, () => "");
    return;
  }
  writeOutput(o.out, text, { force: o.force });
  if (o.out) ctx.note(`Wrote ${o.out}: it reads the seed from ${seedFile} at run time (the seed is not in the snippet)`);
}
