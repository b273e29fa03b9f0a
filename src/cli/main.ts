/**
 * The command tree. Only commander is loaded at start-up; each action loads its own module
 * (one file per verb) when it runs, so `--help` stays close to Node's own start time.
 */
import { Command, CommanderError, Option } from "commander";
import { collect, intOption } from "./options";

// eslint-disable-next-line @typescript-eslint/no-require-imports
const VERSION: string = require("../../package.json").version;

type Runner = (args: string[], opts: Record<string, unknown>, cmd: Command) => Promise<void> | void;
type Loader = () => { run: Runner };

function action(load: Loader) {
  return async function (this: Command) {
    const cmd = this;
    await load().run(cmd.processedArgs as string[], cmd.optsWithGlobals(), cmd);
  };
}

const KEY_HELP = "key type: ec-p256 (default), ec-p384, rsa-2048, rsa-3072, rsa-4096, ed25519";

function sanOptions(cmd: Command): Command {
  return cmd
    .option("--email <address>", "email SAN (repeatable)", collect)
    .option("--dns <name>", "DNS SAN (repeatable)", collect)
    .option("--uri <uri>", "URI SAN, e.g. spiffe://example.org/alice (repeatable)", collect)
    .option("--ip <address>", "IP SAN (repeatable; never used by nats-server for mapping)", collect)
    .option("--subject <dn>", "subject as RFC 4514, e.g. 'CN=alice,OU=eng,O=Acme' (default CN=<name>)");
}

const examples = (lines: string[]) => "\nExamples:\n" + lines.map((l) => "  $ " + l).join("\n") + "\n";

export function buildProgram(): Command {
  const program = new Command("mtlsctl");
  program
    .description("A private certificate authority for mutual TLS, and a verifier that predicts how nats-server maps certificates to users.")
    .version(VERSION, "--version", "print the version")
    .option("--dir <dir>", "the store directory (env MTLSCTL_DIR)", undefined)
    .option("--json", "print results as JSON")
    .option("--quiet", "print only what is asked for")
    .option("--no-color", "no colour (also NO_COLOR)")
    .option("--yes", "never prompt; fail naming the missing flag instead")
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({
      // one line, like every other error: "mtlsctl: unknown option '--x' (Did you mean --y?)"
      outputError: (str, write) => write("mtlsctl: " + str.replace(/^error: /, "").trim().replace(/\s*\n\s*/g, " ") + "\n"),
    })
    .addHelpText(
      "after",
      examples([
        "mtlsctl ca init --name 'Acme NATS CA'                 # passphrase from a prompt or MTLSCTL_PASSPHRASE",
        "mtlsctl server issue nats1 --dns nats.example.com --ip 127.0.0.1",
        "mtlsctl client issue alice --email alice@example.com",
        "mtlsctl config nats --out /etc/nats/mtls.conf          # tls {} + authorization { users }",
        "mtlsctl list --json",
      ]) + "\nExit codes: 0 ok; 1 a negative answer (verify refused, status expiring); 2 usage; 3 bad input or state; 4 internal error.\n",
    );

  // ---- ca
  const ca = program.command("ca").description("the certificate authority");
  ca.command("init")
    .description("create a root CA and a new store")
    .option("--name <cn>", "the CA's common name (default \"mtlsctl CA\")")
    .option("--subject <dn>", "the CA's subject as RFC 4514 instead of --name")
    .option("--key <type>", KEY_HELP, "ec-p256")
    .option("--days <n>", "validity in days (default 3650)", intOption("--days"))
    .option("--path-len <n>", "basicConstraints pathLen (unset by default)", intOption("--path-len"))
    .option("--passphrase-file <file>", "read the key passphrase from the file's first line (- for stdin; else MTLSCTL_PASSPHRASE or a prompt)")
    .option("--no-encrypt", "write the CA key unencrypted (not recommended)")
    .option("--force", "replace an existing CA and store")
    .addHelpText("after", examples(["mtlsctl ca init --name 'Acme NATS CA'", "MTLSCTL_PASSPHRASE=... mtlsctl ca init --key ec-p384 --days 1825", "mtlsctl ca init --subject 'CN=Acme Root,O=Acme,C=US' --passphrase-file pass.txt"]))
    .action(action(() => require("./ca/init")));
  ca.command("show")
    .description("show the CA certificate")
    .action(action(() => require("./ca/show")));

  // ---- client
  const client = program.command("client").description("client certificates (clientAuth)");
  sanOptions(
    client
      .command("csr <name>")
      .description("on the client's machine: make a key and a certificate request (no CA needed)")
      .option("--key <type>", KEY_HELP, "ec-p256")
      .option("--out-dir <dir>", "where to write <name>.key and <name>.csr", "."),
  )
    .option("--encrypt-key", "encrypt the key (passphrase from --passphrase-file, MTLSCTL_PASSPHRASE or a prompt)")
    .option("--passphrase-file <file>", "passphrase for --encrypt-key")
    .option("--force", "replace existing files")
    .addHelpText("after", examples(["mtlsctl client csr alice --email alice@example.com", "mtlsctl client csr svc1 --uri spiffe://example.org/svc1 --key ed25519"]))
    .action(action(() => require("./client/csr")));
  sanOptions(
    client
      .command("sign <csr>")
      .description("on the CA: check a request's signature and issue a client certificate")
      .option("--name <name>", "the name in the store (default: the file name without .csr)"),
  )
    .option("--days <n>", "validity in days (default 365, never past the CA)", intOption("--days"))
    .option("--passphrase-file <file>", "the CA passphrase (else MTLSCTL_PASSPHRASE or a prompt)")
    .option("--force", "replace an existing certificate of that name")
    .addHelpText("after", examples(["mtlsctl client sign alice.csr", "mtlsctl client sign req.csr --name bob --email bob@example.com --days 90"]))
    .action(action(() => require("./client/sign")));
  sanOptions(client.command("issue <name>").description("on the CA: key, request and certificate in one step").option("--key <type>", KEY_HELP, "ec-p256"))
    .option("--days <n>", "validity in days (default 365, never past the CA)", intOption("--days"))
    .option("--passphrase-file <file>", "the CA passphrase (else MTLSCTL_PASSPHRASE or a prompt)")
    .option("--force", "replace an existing certificate of that name")
    .addHelpText(
      "after",
      examples([
        "mtlsctl client issue alice --email alice@example.com",
        "mtlsctl client issue svc1 --uri spiffe://example.org/svc1",
        "mtlsctl client issue bob --subject 'CN=bob,OU=ops,O=Acme'     # maps by subject DN",
      ]),
    )
    .action(action(() => require("./client/issue")));

  // ---- server
  const server = program.command("server").description("server certificates (serverAuth) for the server itself");
  server
    .command("issue <name>")
    .description("issue a server certificate")
    .option("--dns <name>", "DNS SAN (repeatable)", collect)
    .option("--ip <address>", "IP SAN (repeatable)", collect)
    .option("--subject <dn>", "subject as RFC 4514 (default CN=<name>)")
    .option("--key <type>", KEY_HELP, "ec-p256")
    .option("--days <n>", "validity in days (default 365, never past the CA)", intOption("--days"))
    .option("--passphrase-file <file>", "the CA passphrase (else MTLSCTL_PASSPHRASE or a prompt)")
    .option("--force", "replace an existing certificate of that name")
    .addHelpText("after", examples(["mtlsctl server issue nats1 --dns nats1.example.com --dns localhost --ip 127.0.0.1"]))
    .action(action(() => require("./server/issue")));

  // ---- list
  program
    .command("list")
    .description("list the CA and every issued certificate")
    .option("--expiring <days>", "only certificates that expire within DAYS", intOption("--expiring"))
    .addHelpText("after", examples(["mtlsctl list", "mtlsctl list --json | jq -r '.[] | .natsUser'"]))
    .action(action(() => require("./list")));

  // ---- config
  const config = program.command("config").description("configuration snippets for servers and clients");
  config
    .command("nats")
    .description("a tls {} and authorization { users } snippet to include in nats-server's config")
    .addOption(new Option("--map <kind>", "what users are named by: the first email, DNS or URI SAN, or the subject DN (default: the server's own order)").choices(["email", "dns", "uri", "dn"]))
    .option("--include <name>", "only these clients (repeatable)", collect)
    .option("--exclude <name>", "leave these clients out (repeatable)", collect)
    .option("--server <name>", "the server certificate to use (default: the newest valid one)")
    .option("--timeout <seconds>", "TLS handshake timeout", intOption("--timeout"), 2)
    .option("--out <file>", "write to a file instead of standard output")
    .option("--force", "replace an existing --out file")
    .addHelpText("after", examples(["mtlsctl config nats --out /etc/nats/mtls.conf   # then: include \"mtls.conf\" in nats-server.conf", "mtlsctl config nats --map dn --exclude old-bot"]))
    .action(action(() => require("./config/nats")));

  // ---- explain
  program
    .command("explain <cert>")
    .description("which identities nats-server tries for a certificate, in its order, and whether its TLS stage accepts it")
    .option("--config <file>", "also decide, with this nats-server configuration: accepted or refused, and as which user")
    .option("--server-cwd <dir>", "the server's working directory, against which it opens ca_file (default: the current directory)")
    .option("--ca <file>", "the CA bundle to check the chain against (default: the config's ca_file, else the store's CA)")
    .option("--server-version <v>", "the nats-server behaviour to model (default: nats-server on PATH, else the newest modelled)")
    .addHelpText("after", examples(["mtlsctl explain pki/issued/alice.crt", "mtlsctl explain alice.crt --config /etc/nats/nats-server.conf", "mtlsctl explain client-chain.pem --ca ca.pem --json"]))
    .action(action(() => require("./explain")));

  // ---- verify
  program
    .command("verify <cert...>")
    .description("whether nats-server would accept each certificate with this config, and as which user")
    .requiredOption("--config <file>", "the nats-server configuration (includes and variables are followed)")
    .option("--server-version <v>", "the nats-server behaviour to model (default: nats-server on PATH, else the newest modelled)")
    .option("--server-cwd <dir>", "the server's working directory, against which it opens ca_file (default: the current directory)")
    .option("--connect-user <user>", "the user name the client sends in CONNECT")
    .option("--connect-password-file <file>", "the password the client sends (first line of the file; - for stdin)")
    .addHelpText(
      "after",
      examples([
        "mtlsctl verify pki/issued/alice.crt --config /etc/nats/nats-server.conf",
        "mtlsctl verify *.crt --config nats.conf --json     # one JSON object per line",
        "mtlsctl verify bob.crt --config nats.conf --server-version 2.14.5",
      ]) + "\nExit codes: 0 every certificate accepted; 1 one or more refused; 3 the config or a certificate cannot be read.\n",
    )
    .action(action(() => require("./verify")));

  // ---- export
  program
    .command("export <name>")
    .description("export a certificate (or `ca`) as PEM, a chain bundle or DER")
    .addOption(new Option("--format <format>", "output format").choices(["pem", "chain", "der"]).default("pem"))
    .option("--out <file>", "write to a file instead of standard output")
    .option("--force", "replace an existing --out file")
    .addHelpText("after", examples(["mtlsctl export alice --format chain --out alice-chain.pem", "mtlsctl export ca --format der --out ca.der"]))
    .action(action(() => require("./export")));

  return program;
}

export { CommanderError };
