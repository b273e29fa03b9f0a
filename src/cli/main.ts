/**
 * The command tree. Only commander is loaded at start-up; each action loads its own module
 * (one file per verb) when it runs, so `--help` stays close to Node's own start time.
 */
import { Argument, Command, CommanderError, Option } from "commander";
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

// A .p12/.pfx argument of explain/verify: its password is settled before the action (file, env or prompt).
const P12_READ_HELP = "password of a .p12/.pfx certificate file (first line; - for stdin; else MTLSCTL_P12_PASSWORD or a prompt)";
const p12PasswordHook = (p: Command, c: Command) => (require("../export/p12-detect") as typeof import("../export/p12-detect")).p12PasswordHook(p, c);

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

  // ---- init (the wizard)
  program
    .command("init")
    .description("guided set-up on a terminal: a CA, server and first client certificates, a NATS config; prints the equivalent commands")
    .addHelpText("after", "\nWithout a terminal (or with --yes) it stops with exit 2: use mtlsctl ca init, server issue, client issue and config nats.\n")
    .action(action(() => require("./init")));

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
  ca.command("import <ca.crt> <ca.key>")
    .description("adopt an existing CA (a PEM certificate with CA:TRUE and its key, e.g. mkcert's CAROOT files) as a new store")
    .option("--passphrase-file <file>", "the store's new CA passphrase (first line; - for stdin; else MTLSCTL_PASSPHRASE or a prompt)")
    .option("--key-passphrase-file <file>", "the current passphrase of an encrypted ca.key (else a prompt)")
    .option("--no-encrypt", "write the CA key unencrypted (not recommended)")
    .option("--force", "replace an existing CA and store")
    .addHelpText("after", examples(["mtlsctl ca import \"$(mkcert -CAROOT)/rootCA.pem\" \"$(mkcert -CAROOT)/rootCA-key.pem\"", "mtlsctl ca import ca.crt ca.key --key-passphrase-file old.txt --passphrase-file new.txt"]))
    .action(action(() => require("./ca/import")));

  // ---- client
  const client = program.command("client").description("client certificates (clientAuth)");
  sanOptions(
    client
      .command("csr [name]")
      .description("on the client's machine: make a key and a certificate request (no CA needed; with no NAME, asks on a terminal)")
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
  sanOptions(client.command("issue [name]").description("on the CA: key, request and certificate in one step (with no NAME, asks on a terminal)").option("--key <type>", KEY_HELP, "ec-p256"))
    .option("--days <n>", "validity in days (default 365, never past the CA)", intOption("--days"))
    .option("--passphrase-file <file>", "the CA passphrase (else MTLSCTL_PASSPHRASE or a prompt)")
    .option("--force", "replace an existing certificate of that name")
    .option("--from <file>", "bulk: one client per row of a CSV (header: name plus any of email,dns,uri,ip,subject,key,days; several values ;-separated) or a JSON array of objects; skips names that exist")
    .addHelpText(
      "after",
      examples([
        "mtlsctl client issue alice --email alice@example.com",
        "mtlsctl client issue svc1 --uri spiffe://example.org/svc1",
        "mtlsctl client issue bob --subject 'CN=bob,OU=ops,O=Acme'     # maps by subject DN",
        "mtlsctl client issue --from users.csv                         # bulk; a bad row is reported with its line, the rest issued",
      ]),
    )
    .action(action(() => require("./client/issue")));

  // ---- server
  const server = program.command("server").description("server certificates (serverAuth) for the server itself");
  server
    .command("issue [name]")
    .description("issue a server certificate (with no NAME or no --dns/--ip, asks on a terminal)")
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

  // ---- lifecycle: status, revoke, crl, renew
  program
    .command("status")
    .description("days left for the CA and every valid certificate; exit 1 when any expires within the window")
    .option("--expiring <days>", "the window in days (default 30)", intOption("--expiring"))
    .addHelpText("after", examples(["mtlsctl status", "mtlsctl status --expiring 14 || echo 'renew something'", "mtlsctl status --json | jq '.certificates[] | {name, daysLeft}'"]) + "\nExit codes: 0 nothing expires within the window; 1 something does (or has expired); 3 no store.\n")
    .action(action(() => require("./status")));
  program
    .command("revoke [name]")
    .description("revoke a name's certificate (and its superseded, unexpired ones) or one --serial, and sign a fresh CRL (<dir>/crl.pem)")
    .option("--serial <hex>", "revoke exactly this certificate (e.g. an old one superseded by renew)")
    .option("--reason <reason>", "RFC 5280 reason: unspecified (default), keyCompromise, cACompromise, affiliationChanged, superseded, cessationOfOperation, certificateHold, privilegeWithdrawn, aACompromise")
    .option("--next-update-days <n>", "the CRL's nextUpdate, in days from now (default 7)", intOption("--next-update-days"))
    .option("--passphrase-file <file>", "the CA passphrase (else MTLSCTL_PASSPHRASE or a prompt)")
    .addHelpText(
      "after",
      examples(["mtlsctl revoke alice --reason keyCompromise", "mtlsctl revoke --serial 4f1c...e2 --reason superseded", "mtlsctl config nats --pinned --out /etc/nats/mtls.conf   # nats-server reads no CRL"]),
    )
    .action(action(() => require("./revoke")));
  program
    .command("crl")
    .description("sign a fresh CRL (v2, CRL number, reasons) and update <dir>/crl.pem")
    .option("--out <file>", "write to a file instead of standard output")
    .option("--der", "DER instead of PEM")
    .option("--next-update-days <n>", "nextUpdate, in days from now (default 7)", intOption("--next-update-days"))
    .option("--passphrase-file <file>", "the CA passphrase (else MTLSCTL_PASSPHRASE or a prompt)")
    .option("--force", "replace an existing --out file")
    .addHelpText("after", examples(["mtlsctl crl > crl.pem", "mtlsctl crl --der --out /var/www/pki/ca.crl --force", "openssl crl -in pki/crl.pem -CAfile pki/ca.crt -noout -text"]))
    .action(action(() => require("./crl")));
  program
    .command("renew <name>")
    .description("a new certificate for the same identity (subject and SANs) with a new serial; the old one moves to renewed/")
    .option("--rekey", "a new key of the same type (private/<name>.key) instead of the same public key")
    .option("--days <n>", "validity in days (default: the old certificate's length, never past the CA)", intOption("--days"))
    .option("--passphrase-file <file>", "the CA passphrase (else MTLSCTL_PASSPHRASE or a prompt)")
    .addHelpText("after", examples(["mtlsctl renew alice", "mtlsctl renew nats1 --days 90", "mtlsctl renew bob --rekey && mtlsctl revoke --serial <old serial> --reason superseded"]))
    .action(action(() => require("./renew")));

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
    .option("--pinned", "also emit pinned_certs (SHA-256 of each client key): nats-server reads no CRL, pinning is the allow-list it checks")
    .option("--allow-pub <subject>", "every listed user (certificate or NKey) may publish only to these subjects (repeatable; * and > wildcards)", collect)
    .option("--allow-sub <subject>", "every listed user may subscribe only to these subjects (repeatable)", collect)
    .option("--out <file>", "write to a file instead of standard output")
    .option("--force", "replace an existing --out file")
    .addHelpText("after", examples(["mtlsctl config nats --out /etc/nats/mtls.conf   # then: include \"mtls.conf\" in nats-server.conf", "mtlsctl config nats --map dn --exclude old-bot", "mtlsctl config nats --include svc-nk --allow-pub 'orders.>' --allow-sub '_INBOX.>'"]))
    .action(action(() => require("./config/nats")));
  config
    .command("node")
    .description("a Node.js https server that requires client certificates from this CA (requestCert, rejectUnauthorized)")
    .option("--server <name>", "the server certificate to use (default: the newest valid one)")
    .option("--out <file>", "write to a file instead of standard output")
    .option("--force", "replace an existing --out file")
    .addHelpText("after", examples(["mtlsctl config node --out server.js && PORT=8443 node server.js"]))
    .action(action(() => require("./config/node")));
  config
    .command("curl <name>")
    .description("the curl command that calls the server as client <name> (--cert, --key, --cacert; never -k)")
    .option("--url <url>", "the URL to call (default: https://<the server certificate's first DNS name or IP>:8443/)")
    .option("--server <name>", "the server certificate whose name goes into the default URL (default: the newest valid one)")
    .option("--out <file>", "write to a file instead of standard output")
    .option("--force", "replace an existing --out file")
    .addHelpText("after", examples(["mtlsctl config curl alice", "mtlsctl config curl alice --url https://api.example.com/health"]))
    .action(action(() => require("./config/curl")));
  config
    .command("java")
    .description("Java: a mu-server HTTPS server that trusts this CA's client certificates, or (--client NAME) a plain JSSE client")
    .option("--client <name>", "emit the JSSE client (KeyManager from <name>.p12, TrustManager from the trust store) instead of the server")
    .option("--server <name>", "the server certificate (default: the newest valid one)")
    .option("--p12-dir <dir>", "where the .p12 files are (or will be) exported (default: the current directory)")
    .option("--url <url>", "--client: the URL to call (default: https://<the server's first DNS name or IP>:8443/)")
    .option("--out <file>", "write to a file instead of standard output")
    .option("--force", "replace an existing --out file")
    .addHelpText("after", examples(["mtlsctl config java --out MtlsServer.java", "mtlsctl config java --client alice --out MtlsClient.java"]))
    .action(action(() => require("./config/java")));
  config
    .command("nkey-client")
    .description("a NATS client that connects as NKey user <name> with its seed (node: npm nats; go: nats.go)")
    .argument("<lang>", "node or go")
    .argument("<name>", "the NKey's name (mtlsctl nkey create NAME)")
    .option("--cert <name>", "also present this client certificate (needed when the server's tls {} has verify or verify_and_map, as `config nats` emits)")
    .option("--url <url>", "the server URL (default: nats://<the server certificate's first DNS name or IP>:4222; NATS_URL overrides it at run time)")
    .option("--server <name>", "the server certificate whose name goes into the default URL (default: the newest valid one)")
    .option("--out <file>", "write to a file instead of standard output")
    .option("--force", "replace an existing --out file")
    .addHelpText("after", examples(["mtlsctl config nkey-client node svc-nk --cert svc --out client.js && node client.js", "mtlsctl config nkey-client go svc-nk --cert svc --out main.go"]))
    .action(action(() => require("./config/nkey-client")));

  // ---- nkey
  const nkey = program.command("nkey").description("NKey users (a public key in the server's config, a seed with the client)");
  nkey
    .command("create <name>")
    .description("make a user NKey pair: the seed goes to <dir>/nkeys/<name>.nk (mode 0600), the public key (U...) to the inventory")
    .option("--show-seed", "also print the seed (a secret: it logs in as this user)")
    .option("--force", "replace an existing NKey of that name (a new pair)")
    .addHelpText("after", examples(["mtlsctl nkey create svc-nk", "mtlsctl config nats --out /etc/nats/mtls.conf   # lists { nkey: \"U...\" } beside the certificate users"]))
    .action(action(() => require("./nkey/create")));
  nkey
    .command("list")
    .description("list the NKey users (name, public key, seed file)")
    .action(action(() => require("./nkey/list")));

  // ---- explain
  program
    .command("explain <cert>")
    .description("which identities nats-server tries for a certificate, in its order, and whether its TLS stage accepts it")
    .option("--config <file>", "also decide, with this nats-server configuration: accepted or refused, and as which user")
    .option("--server-cwd <dir>", "the server's working directory, against which it opens ca_file (default: the current directory)")
    .option("--ca <file>", "the CA bundle to check the chain against (default: the config's ca_file, else the store's CA)")
    .option("--server-version <v>", "the nats-server behaviour to model (default: nats-server on PATH, else the newest modelled)")
    .option("--p12-password-file <file>", P12_READ_HELP)
    .hook("preAction", p12PasswordHook)
    .addHelpText("after", examples(["mtlsctl explain pki/issued/alice.crt", "mtlsctl explain alice.crt --config /etc/nats/nats-server.conf", "mtlsctl explain client-chain.pem --ca ca.pem --json", "mtlsctl explain alice.p12 --p12-password-file pw.txt"]))
    .action(action(() => require("./explain")));

  // ---- verify
  program
    .command("verify [cert...]")
    .description("whether nats-server would accept each certificate (and/or an NKey) with this config, and as which user")
    .requiredOption("--config <file>", "the nats-server configuration (includes and variables are followed)")
    .option("--server-version <v>", "the nats-server behaviour to model (default: nats-server on PATH, else the newest modelled)")
    .option("--server-cwd <dir>", "the server's working directory, against which it opens ca_file (default: the current directory)")
    .option("--connect-user <user>", "the user name the client sends in CONNECT")
    .option("--connect-password-file <file>", "the password the client sends (first line of the file; - for stdin)")
    .option("--nkey-seed <file>", "the client also sends this NKey (seed file, e.g. pki/nkeys/NAME.nk): checked before the certificate; no cert needed when the config asks for none")
    .addOption(new Option("--connection-type <type>", "the client's listener: STANDARD, or WEBSOCKET / MQTT (their own tls {} and flag)").choices(["STANDARD", "WEBSOCKET", "MQTT"]).default("STANDARD"))
    .option("--p12-password-file <file>", P12_READ_HELP)
    .hook("preAction", p12PasswordHook)
    .addHelpText(
      "after",
      examples([
        "mtlsctl verify pki/issued/alice.crt --config /etc/nats/nats-server.conf",
        "mtlsctl verify *.crt --config nats.conf --json     # one JSON object per line",
        "mtlsctl verify bob.crt --config nats.conf --server-version 2.14.5",
        "mtlsctl verify pki/issued/svc.crt --nkey-seed pki/nkeys/svc-nk.nk --config nats.conf   # the nkey decides the user",
      ]) + "\nExit codes: 0 every certificate accepted; 1 one or more refused; 3 the config or a certificate cannot be read.\n",
    )
    .action(action(() => require("./verify")));

  // ---- lint
  program
    .command("lint <nats.conf>")
    .description("findings in a nats-server config (and certificates) that make the server refuse it, pick users at random, lock users out or let one in as another")
    .option("--certs <dir>", "also check every .crt/.pem certificate in DIR against the config")
    .option("--store", "also check the store's valid client certificates (and pinned_certs) against the config")
    .option("--server-version <v>", "the nats-server behaviour to model (default: nats-server on PATH, else the newest modelled)")
    .option("--server-cwd <dir>", "the server's working directory, against which it opens cert_file, key_file and ca_file (default: the current directory)")
    .addHelpText(
      "after",
      examples(["mtlsctl lint /etc/nats/nats-server.conf", "mtlsctl lint nats.conf --store --json | jq '.findings[] | select(.severity == \"error\")'", "mtlsctl lint nats.conf --certs ./clients --server-version 2.14.5"]) +
        "\nEach finding: file:line: severity CODE message, then how to fix it. Codes NATS000-NATS049 are stable (see the README).\nExit codes: 0 no error-level finding; 1 one or more; 2 usage; 3 the config cannot be read or lexed.\n",
    )
    .action(action(() => require("./lint")));

  // ---- export
  program
    .command("export <name>")
    .description("export a certificate (or `ca`) as PEM, a chain bundle, DER, PKCS#12 (key, certificate and CA) or a Java trust store")
    .addOption(new Option("--format <format>", "output format: p12 = key + certificate + CA chain; truststore = the CA for Java (with `ca`)").choices(["pem", "chain", "der", "p12", "truststore"]).default("pem"))
    .option("--legacy", "p12/truststore: 3DES and a SHA-1 MAC, for older macOS Keychain, Windows Server 2016 and Java 8/11 (default: AES-256 and SHA-256)")
    .option("--password-file <file>", "p12/truststore password: the file's first line (- for stdin; else MTLSCTL_P12_PASSWORD or a prompt)")
    .option("--allow-empty-password", "p12/truststore: accept an empty password (macOS will not import such a file)")
    .option("--out <file>", "write to a file instead of standard output")
    .option("--force", "replace an existing --out file")
    .addHelpText(
      "after",
      examples([
        "mtlsctl export alice --format chain --out alice-chain.pem",
        "mtlsctl export ca --format der --out ca.der",
        "mtlsctl export alice --format p12 --out alice.p12            # password from MTLSCTL_P12_PASSWORD or a prompt",
        "mtlsctl export alice --format p12 --legacy --password-file pw.txt --out alice-legacy.p12",
        "mtlsctl export ca --format truststore --out truststore.p12   # Java: trustedCertEntry",
      ]),
    )
    .action(action(() => require("./export")));

  // ---- completion
  program
    .command("completion")
    .description("a shell completion script for bash or zsh, made from this command tree")
    .addArgument(new Argument("<shell>", "bash or zsh").choices(["bash", "zsh"]))
    .addHelpText(
      "after",
      examples([
        "source <(mtlsctl completion bash)                         # this shell; or add it to ~/.bashrc",
        "mtlsctl completion bash > /etc/bash_completion.d/mtlsctl",
        "mtlsctl completion zsh > \"${fpath[1]}/_mtlsctl\"            # then: autoload -U compinit && compinit",
      ]),
    )
    .action(action(() => require("./completion")));

  return program;
}

export { CommanderError };
