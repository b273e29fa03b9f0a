/** What the `init` wizard's two forms (a directory, a database) share: the questions, the closing text, paths shown short, the SAN flags of a command line. */
import * as fs from "node:fs";
import * as path from "node:path";
import { shellQuote } from "../export/snippets";
import type { Sans } from "../pki/san";
import { Ctx, envSecret, getSecret } from "./context";
import * as prompts from "./prompts";
import { askClientSans, askKeyType, askName, askServerSans } from "./prompt-identity";
import { buildSubject } from "../ca";
import { KeyType, DEFAULT_KEY_TYPE } from "../pki/keys";

export const rel = (f: string) => {
  const r = path.relative(process.cwd(), f);
  return r === "" ? "." : r.startsWith("..") ? f : r;
};

export function checkConfigPath(v: string): void {
  if (v === "") throw new Error("give a file name");
  const f = path.resolve(v);
  if (fs.existsSync(f)) throw new Error(`${f} already exists: choose another name (or remove it first)`);
  const dir = path.dirname(f);
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new Error(`the directory ${dir} does not exist`);
}

/** The SAN flags of a command line, in the order the SANs were given. */
export function sanFlags(s: Sans): string[] {
  return [...s.email.map((v) => `--email ${shellQuote(v)}`), ...s.dns.map((v) => `--dns ${shellQuote(v)}`), ...s.uri.map((v) => `--uri ${shellQuote(v)}`), ...s.ip.map((v) => `--ip ${shellQuote(v)}`)];
}

/** The wizard's answers about the CA and the two certificates (the store's own question is each form's). */
export interface SetupAnswers {
  caName: string;
  keyType: KeyType;
  passphrase: string;
  serverName: string;
  serverSans: Sans;
  clientName: string;
  client: { sans: Sans };
}

/** The questions both forms ask, in order: the CA, its passphrase, the server, the first client. `words` are the lines that differ. */
export async function askSetup(ctx: Ctx, say: (s: string) => void, words: { passphrase: string; serverName: string }): Promise<SetupAnswers> {
  const caName = await prompts.askText(ctx, { message: "CA name (its common name):", default: "mtlsctl CA", check: (v) => buildSubject(`CN=${v}`, [], "CA name") });
  const keyType: KeyType = await askKeyType(ctx, "Key type (for the CA and the certificates):", DEFAULT_KEY_TYPE);
  if (envSecret("MTLSCTL_PASSPHRASE")) say("The CA passphrase is taken from MTLSCTL_PASSPHRASE.");
  else say(words.passphrase);
  const passphrase = await getSecret(ctx, { what: "new CA passphrase", fileFlag: "--passphrase-file", env: "MTLSCTL_PASSPHRASE", confirm: true });

  say("\nThe server: its certificate names the host names and addresses clients connect to.");
  const serverName = await askName(ctx, words.serverName, { default: "nats" });
  const serverSans = await askServerSans(ctx, { dns: "localhost", ip: "127.0.0.1" });

  say("\nThe first client: nats-server names the user after the certificate's email, DNS or URI SAN, else its subject.");
  const clientName = await askName(ctx, "First client's name (e.g. alice):", { taken: (n) => (n === serverName ? `"${n}" is the server's name` : null) });
  const client = await askClientSans(ctx, clientName);
  return { caName, keyType, passphrase, serverName, serverSans, clientName, client };
}

/** What to do next, after either form: include the snippet, check it, ask mtlsctl, connect. `d` is the store's `mtlsctl --dir|--db ...`. */
export function nextSteps(d: string, confPath: string, client: { certFile: string; keyFile: string }, caFile: string, serverSans: Sans): string[] {
  const mainConf = path.join(path.dirname(confPath), "nats-server.conf");
  return [
    `include it from a nats-server config in the same directory (include paths are relative to the including file), e.g. ${rel(mainConf)}:`,
    `    port: 4222`,
    `    include "${path.basename(confPath)}"`,
    `check it: nats-server -t -c ${shellQuote(rel(mainConf))}`,
    `ask mtlsctl: ${d} verify ${shellQuote(rel(client.certFile))} --config ${shellQuote(rel(mainConf))}`,
    `connect: nats --tlscert ${shellQuote(rel(client.certFile))} --tlskey ${shellQuote(rel(client.keyFile))} --tlsca ${shellQuote(rel(caFile))} -s tls://${serverSans.dns[0] ?? serverSans.ip[0]}:4222 pub test hi`,
  ];
}

/** The closing text of either form: what was made (rows), the equivalent commands, what next. */
export function doneText(ctx: Ctx, rows: [string, string][], commands: string[], next: string[]): string {
  const w = Math.max(...rows.map((r) => r[0].length));
  return [
    ctx.bold("Done."),
    ...rows.map(([k, v]) => `  ${k.padEnd(w)}  ${v}`),
    "",
    "The same, without questions (the passphrase from a prompt, MTLSCTL_PASSPHRASE or --passphrase-file):",
    ...commands.map((c) => `  ${c}`),
    "",
    "Next:",
    ...next.map((n) => (n.startsWith("    ") ? `  ${n}` : `  - ${n}`)),
  ].join("\n");
}
