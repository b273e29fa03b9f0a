/**
 * The command tree. Only commander is loaded at start-up; each action loads its own module
 * (one file per verb) when it runs, so `--help` stays close to Node's own start time.
 */
import { Argument, Command, CommanderError, Option } from "commander";
import { accessOptions, collect, intOption, sanOptions } from "./options";
import { writeErr, writeOut } from "./out";
import { registerOnline, registerStore, type Loader } from "./main-online";
import { setCommandName } from "./context";

// eslint-disable-next-line @typescript-eslint/no-require-imports
const VERSION: string = require("../../package.json").version;

function action(load: Loader) {
  return async function (this: Command) {
    const cmd = this;
    const opts = cmd.optsWithGlobals();
    const names: string[] = [];
    for (let c: Command | null = cmd; c && c.parent; c = c.parent) names.unshift(c.name());
    setCommandName(names.join(" "));
    await load(opts).run(cmd.processedArgs as string[], opts, cmd);
  };
}

const KEY_HELP = "key type: ec-p256 (default), ec-p384, rsa-2048, rsa-3072, rsa-4096, ed25519";

// A .p12/.pfx argument of explain/verify: its password is settled before the action (file, env or prompt).
const P12_READ_HELP = "password of a .p12/.pfx certificate file (first line; - for stdin; else MTLSCTL_P12_PASSWORD or a prompt)";
const p12PasswordHook = (p: Command, c: Command) => (require("./p12-password") as typeof import("./p12-password")).p12PasswordHook(p, c);

/** --permit-dns, --exclude-dns, ... (name constraints of a CA; src/pki/constraint-options.ts). */
function constraintOptions(cmd: Command): Command {
  const { CONSTRAINT_OPTIONS } = require("../pki/constraint-options") as typeof import("../pki/constraint-options");
  for (const o of CONSTRAINT_OPTIONS) cmd.option(`${o.flag} <${o.kind === "ip" ? "cidr" : o.kind === "dns" ? "domain" : o.kind === "email" ? "domain|address" : "domain"}>`, `name constraint: ${o.help}`, collect);
  return cmd;
}

const examples = (lines: string[]) => "\nExamples:\n" + lines.map((l) => "  $ " + l).join("\n") + "\n";

/**
 * Start-up (issue 9): given the process's argv, buildProgram builds only the invoked top-level command
 * (`explain`, `client`, ...); every other `program.command(...)` chain runs against STUB, which takes any
 * call and builds nothing. With no operand at all (`mtlsctl --help`, `--version`, nothing), every
 * top-level command but none of the groups' subcommands (ca init, client issue, ...): the program's help
 * lists only the top level. Without argv (the tests, completion) or when the first operand names no
 * command (a typo, `help`), the whole tree. Registering a command needs nothing more; a command that
 * walks the tree when it runs must be listed in WHOLE_TREE.
 */
const WHOLE_TREE = new Set(["completion", "help"]);
const STUB: Command = new Proxy({}, { get: () => () => STUB }) as Command;

function onlyInvoked(program: Command, argv: string[]): string | null {
  for (let i = 2; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith("-")) {
      if (WHOLE_TREE.has(a)) return null;
      const command = program.command.bind(program) as (...args: unknown[]) => Command;
      program.command = ((nameAndArgs: string, ...rest: unknown[]) => (nameAndArgs.split(" ")[0] === a ? command(nameAndArgs, ...rest) : STUB)) as Command["command"];
      return a;
    }
    if (a === "--") return null;
    if (a === "--help" || a === "-h") break; // the program's own help, whatever follows (commander's help option is not in program.options)
    if (a.includes("=")) continue;
    // a program option before the command (--dir DIR): its value is not the command
    const opt = program.options.find((o) => o.long === a || o.short === a);
    if (!opt) return null;
    if (opt.required || opt.optional) i++;
  }
  // no operand, or the program's --help before it: the top level only (a group's `.command(...)` builds nothing)
  const command = program.command.bind(program) as (...args: unknown[]) => Command;
  program.command = ((...args: unknown[]) => Object.assign(command(...args), { command: () => STUB })) as Command["command"];
  return "";
}

/** After a build for one command (or the top level, ""): the override goes; when no command had that name, the whole tree after all. */
function wholeUnlessFound(program: Command, only: string): Command {
  delete (program as { command?: unknown }).command;
  return only === "" || program.commands.some((c) => c.name() === only) ? program : buildProgram();
}

export function buildProgram(argv?: string[]): Command {
  const program = new Command("mtlsctl");
  program
    .description("A private certificate authority for mutual TLS, and a verifier that predicts how nats-server maps certificates to users.")
    .version(VERSION, "--version", "print the version")
    .option("--dir <dir>", "the store directory (env MTLSCTL_DIR)", undefined)
    .option("--db <url>", "a database store instead: postgres://USER@HOST/DB (env MTLSCTL_DB; password via PGPASSFILE/PGPASSWORD or --db-password-file)")
    .option("--db-password-file <file>", "the database password (first line; - for stdin)")
    .option("--json", "print results as JSON")
    .option("--quiet", "print only what is asked for")
    .option("--no-color", "no colour (also NO_COLOR)")
    .option("--yes", "never prompt; fail naming the missing flag instead")
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({
      // fs.writeSync (src/cli/out.ts): `mtlsctl --help | head` ends quietly instead of an EPIPE trace
      writeOut: (str) => writeOut(str),
      writeErr: (str) => writeErr(str),
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

  // only the invoked command is built when argv is given (onlyInvoked)
  const only = argv ? onlyInvoked(program, argv) : null;

  // ---- init (the wizard)
  program
    .command("init")
    .description("guided set-up on a terminal: a CA, server and first client certificates, a NATS config; prints the equivalent commands")
    .addHelpText("after", "\nWith --db (or MTLSCTL_DB) the CA goes into an empty database and the leaf keys and certificates into a directory it asks for.\nWithout a terminal (or with --yes) it stops with exit 2: use mtlsctl ca init, server issue, client issue and config nats.\n")
    .action(action(() => require("./init")));

  // ---- ca
  const ca = program.command("ca").description("the certificate authority");
  constraintOptions(
    ca.command("init")
      .description("create a root CA and a new store, or (--intermediate) an intermediate CA in a new store, signed by a root store now or through a request")
      .option("--name <cn>", "the CA's common name (default \"mtlsctl CA\")")
      .option("--subject <dn>", "the CA's subject as RFC 4514 instead of --name")
      .option("--key <type>", KEY_HELP, "ec-p256")
      .option("--days <n>", "validity in days (default 3650, an intermediate never past its issuer)", intOption("--days"))
      .option("--path-len <n>", "basicConstraints pathLen: how many CAs may follow below this one (unset by default)", intOption("--path-len"))
      .option("--passphrase-file <file>", "read the key passphrase from the file's first line (- for stdin; else MTLSCTL_PASSPHRASE or a prompt)")
      .option("--no-encrypt", "write the CA key unencrypted (not recommended)")
      .option("--force", "replace an existing CA and store")
      .option("--intermediate", "make an intermediate CA: with --root-dir (signed now) or --csr-out (signed later by `ca sign`, installed by `ca install`)")
      .option("--root-dir <dir>", "with --intermediate: the store of the CA that signs it (its inventory records the intermediate)")
      .option("--root-passphrase-file <file>", "the signing store's CA passphrase (first line; - for stdin; else MTLSCTL_ROOT_PASSPHRASE or a prompt)")
      .option("--csr-out <file>", "with --intermediate: write the key and a request only; the store stays pending until `ca install`")
      .option("--pkcs11 <uri>", "generate the CA key inside a PKCS#11 token (RFC 7512 URI: pkcs11:token=T;object=LABEL?module-path=/abs/module.so&pin-source=file:/abs/pin); the store keeps only the URI"),
  )
    .addHelpText(
      "after",
      examples([
        "mtlsctl ca init --name 'Acme NATS CA'",
        "MTLSCTL_PASSPHRASE=... mtlsctl ca init --key ec-p384 --days 1825",
        "mtlsctl ca init --subject 'CN=Acme Root,O=Acme,C=US' --passphrase-file pass.txt",
        "mtlsctl ca init --dir pki-root --name 'Acme Root' --path-len 1",
        "mtlsctl ca init --intermediate --root-dir pki-root --dir pki --name 'Acme Issuing CA' --path-len 0 --permit-email-domain example.com",
        "mtlsctl ca init --intermediate --csr-out inter.csr --dir pki --name 'Acme Issuing CA'   # root offline",
        "mtlsctl ca init --name 'HSM CA' --pkcs11 'pkcs11:token=ca;object=root?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=file:/etc/mtlsctl/pin'",
      ]),
    )
    .action(action(() => require("./ca/init")));
  constraintOptions(
    ca.command("sign <csr>")
      .description("on the root's machine: sign an intermediate CA's request (from ca init --intermediate --csr-out); the store records it")
      .option("--name <name>", "the name in this store's inventory (default: from the request's CN)")
      .option("--subject <dn>", "the CA's subject as RFC 4514 (default: the request's)")
      .option("--out <file>", "write the certificate here (default: stdout)")
      .option("--days <n>", "validity in days (default 3650, never past this CA)", intOption("--days"))
      .option("--path-len <n>", "basicConstraints pathLen of the new CA (unset by default)", intOption("--path-len"))
      .option("--passphrase-file <file>", "this store's CA passphrase (else MTLSCTL_PASSPHRASE or a prompt)")
      .option("--force", "replace --out, or a certificate of that name"),
  )
    .addHelpText("after", examples(["mtlsctl ca sign inter.csr --dir pki-root --out inter.crt --path-len 0 --permit-dns example.com"]))
    .action(action(() => require("./ca/sign")));
  ca.command("install <cert>")
    .description("complete a pending intermediate store with its signed certificate: checks the key, that it is a CA, and the chain to --root")
    .requiredOption("--root <file>", "the root certificate(s) it chains to (written to roots.pem: the ca_file)")
    .option("--chain <file>", "intermediates between it and the root, if its issuer is not the root")
    .addHelpText("after", examples(["mtlsctl ca install inter.crt --root root.crt --dir pki"]))
    .action(action(() => require("./ca/install")));
  ca.command("set")
    .description("set the URLs every later leaf carries: OCSP (AIA id-ad-ocsp) and CRL (distribution point); an empty value removes one")
    .option("--ocsp-url <url>", "the OCSP responder's URL (http:// by convention: mtlsctl serve --http-listen serves /ocsp)")
    .option("--crl-url <url>", "the CRL's URL (mtlsctl serve serves /crl)")
    .addHelpText("after", examples(["mtlsctl ca set --ocsp-url http://ca.example.com:8080/ocsp --crl-url http://ca.example.com:8080/crl"]))
    .action(action(() => require("./ca/set")));
  ca.command("show")
    .description("show the CA certificate (after a rollover, also the previous roots and whether roots.pem still trusts them)")
    .action(action(() => require("./ca/show")));
  ca.command("import <ca.crt> [ca.key]")
    .description("adopt an existing CA (a PEM certificate with CA:TRUE and its key, e.g. mkcert's CAROOT files) as a new store")
    .option("--passphrase-file <file>", "the store's new CA passphrase (first line; - for stdin; else MTLSCTL_PASSPHRASE or a prompt)")
    .option("--key-passphrase-file <file>", "the current passphrase of an encrypted ca.key (else a prompt)")
    .option("--pkcs11 <uri>", "the CA key is already in a PKCS#11 token (RFC 7512 URI, instead of ca.key); checked against the certificate")
    .option("--no-encrypt", "write the CA key unencrypted (not recommended)")
    .option("--force", "replace an existing CA and store")
    .addHelpText("after", examples(["mtlsctl ca import \"$(mkcert -CAROOT)/rootCA.pem\" \"$(mkcert -CAROOT)/rootCA-key.pem\"", "mtlsctl ca import ca.crt ca.key --key-passphrase-file old.txt --passphrase-file new.txt"]))
    .action(action(() => require("./ca/import")));
  ca.command("passphrase")
    .description("re-encrypt the CA key under a new passphrase (or --no-encrypt); a wrong current one changes nothing")
    .option("--passphrase-file <file>", "the current passphrase (first line; - for stdin; else MTLSCTL_PASSPHRASE or a prompt)")
    .option("--new-passphrase-file <file>", "the new passphrase (first line; else MTLSCTL_NEW_PASSPHRASE or a prompt, asked twice)")
    .option("--no-encrypt", "write the CA key unencrypted (not recommended)")
    .addHelpText("after", examples(["mtlsctl ca passphrase                                   # asks for both on a terminal", "mtlsctl ca passphrase --passphrase-file old.txt --new-passphrase-file new.txt"]))
    .action(action(() => require("./ca/passphrase")));
  ca.command("rollover")
    .description("a new root CA for issuance; the previous root stays trusted beside it in roots.pem (the overlap) until ca retire")
    .option("--key <type>", "key type of the new root (default: the current root's): ec-p256, ec-p384, rsa-2048, rsa-3072, rsa-4096, ed25519")
    .option("--name <cn>", "the new root's common name (default: the current root's subject, unchanged)")
    .option("--subject <dn>", "the new root's subject as RFC 4514 instead of --name")
    .option("--days <n>", "validity in days (default 3650)", intOption("--days"))
    .option("--passphrase-file <file>", "the CA passphrase (else MTLSCTL_PASSPHRASE or a prompt); the new key is encrypted with it")
    .addHelpText(
      "after",
      examples([
        "mtlsctl ca rollover --name 'Acme NATS CA 2026'",
        "mtlsctl config nats --out /etc/nats/mtls.conf   # ca_file roots.pem: both roots; reload nats-server",
        "mtlsctl renew alice                              # re-issued under the new root",
        "mtlsctl ca retire --all-previous && mtlsctl config nats --out /etc/nats/mtls.conf",
      ]),
    )
    .action(action(() => require("./ca/rollover")));
  ca.command("retire [serial...]")
    .description("end a rollover's overlap: the previous root(s) leave roots.pem, and config nats drops their clients")
    .option("--all-previous", "retire every previous root still in overlap")
    .addHelpText("after", examples(["mtlsctl ca retire --all-previous", "mtlsctl ca show --json | jq -r '.previous[].serial'   # the serials"]))
    .action(action(() => require("./ca/retire")));

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
  accessOptions(sanOptions(
    client
      .command("sign <csr>")
      .description("on the CA: check a request's signature and issue a client certificate")
      .option("--name <name>", "the name in the store (default: the file name without .csr)"),
  ))
    .option("--out-dir <dir>", "with --db: where NAME.crt goes (default: the current directory)")
    .option("--days <n>", "validity in days (default 365, never past the CA)", intOption("--days"))
    .option("--passphrase-file <file>", "the CA passphrase (else MTLSCTL_PASSPHRASE or a prompt)")
    .option("--force", "replace an existing certificate of that name (keeps its account and permissions unless given)")
    .addHelpText("after", examples(["mtlsctl client sign alice.csr", "mtlsctl client sign req.csr --name bob --email bob@example.com --days 90", "mtlsctl client sign svc.csr --account ORDERS --allow-pub 'orders.>' --allow-sub '_INBOX.>'"]))
    .action(action(() => require("./client/sign")));
  accessOptions(sanOptions(client.command("issue [name]").description("on the CA: key, request and certificate in one step (with no NAME, asks on a terminal)").option("--key <type>", KEY_HELP, "ec-p256")))
    .option("--days <n>", "validity in days (default 365, never past the CA)", intOption("--days"))
    .option("--passphrase-file <file>", "the CA passphrase (else MTLSCTL_PASSPHRASE or a prompt)")
    .option("--force", "replace an existing certificate of that name (keeps its account and permissions unless given)")
    .option("--no-keep-key", "write the new key to --out-dir (default .) as NAME.key, 0600, and keep no copy in the store")
    .option("--out-dir <dir>", "with --no-keep-key: where NAME.key goes; with --db (also with --from): NAME.key and NAME.crt (default: the current directory)")
    .option("--from <file>", "bulk: one client per row of a CSV (header: name plus any of email,dns,uri,ip,subject,key,days,account,allow_pub,deny_pub,allow_sub,deny_sub; several values ;-separated) or a JSON array of objects; skips names that exist")
    .addHelpText(
      "after",
      examples([
        "mtlsctl client issue alice --email alice@example.com",
        "mtlsctl client issue svc1 --uri spiffe://example.org/svc1",
        "mtlsctl client issue bob --subject 'CN=bob,OU=ops,O=Acme'     # maps by subject DN",
        "mtlsctl client issue --from users.csv                         # bulk; a bad row is reported with its line, the rest issued; --account and permission flags are defaults for its rows",
        "mtlsctl client issue svc --account ORDERS --allow-pub 'orders.>' --deny-pub orders.admin --allow-sub '_INBOX.>'",
      ]),
    )
    // --from FILE: bulk issuance, its own module (src/bulk/ is loaded only for it)
    .action(action((o) => (o.from !== undefined ? require("./client/bulk") : require("./client/issue"))));
  accessOptions(client.command("set <name>").description("change a client's NATS account and permissions without reissuing (then regenerate config nats and reload the server)"))
    .option("--no-account", "move the user back to the global users list")
    .option("--no-permissions", "drop the user's own permissions (config nats' defaults apply again)")
    .addHelpText(
      "after",
      examples(["mtlsctl client set alice --account ORDERS", "mtlsctl client set alice --allow-pub 'orders.>' --deny-pub orders.admin   # replaces her permissions", "mtlsctl client set alice --no-account --no-permissions"]) +
        "\nPermission flags replace the user's permissions as a whole; the account is changed only by --account / --no-account.\n",
    )
    .action(action(() => require("./client/set")));

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
    .option("--peer", "serverAuth + clientAuth: for cluster routes, gateways and leafnodes (each side is also the other's TLS client)")
    .option("--force", "replace an existing certificate of that name")
    .option("--out-dir <dir>", "with --db: where NAME.key and NAME.crt go (a database keeps no key; default: the current directory)")
    .addHelpText("after", examples(["mtlsctl server issue nats1 --dns nats1.example.com --dns localhost --ip 127.0.0.1", "mtlsctl server issue node1 --peer --dns node1.example.com   # routes: config nats --peer node1 --cluster-listen ..."]))
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
    .option("--rekey", "a new key of the same type (private/<name>.key; with --db: --out-dir) instead of the same public key")
    .option("--days <n>", "validity in days (default: the old certificate's length, never past the CA)", intOption("--days"))
    .option("--out-dir <dir>", "with --db: where NAME.crt (replaced) and, with --rekey, NAME.key are written (default: the current directory)")
    .option("--force", "with --db --rekey: replace an existing NAME.key in --out-dir")
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
    .option("--cert-file <file>", "the server's own certificate file, where it keeps it (e.g. kept by mtlsctl agent; with --key-file)")
    .option("--key-file <file>", "the server's own key file (its key need not be in the store)")
    .option("--ca-file <file>", "with --db: the file nats-server reads the CA certificate from (a database has no files: mtlsctl export ca --out FILE)")
    .option("--timeout <seconds>", "TLS handshake timeout", intOption("--timeout"), 2)
    .option("--pinned", "also emit pinned_certs (SHA-256 of each client key): nats-server reads no CRL, pinning is the allow-list it checks")
    .option("--ocsp-peer", "also emit ocsp_peer { verify: true } in the tls block: nats-server (2.9.21+) asks each client certificate's OCSP responder at the handshake")
    .option("--allow-pub <subject>", "default for users without their own permissions (client set): publish only to these subjects (repeatable; * and > wildcards)", collect)
    .option("--allow-sub <subject>", "default: subscribe only to these subjects (repeatable)", collect)
    .option("--deny-pub <subject>", "default: never publish to these subjects (repeatable; deny wins over allow)", collect)
    .option("--deny-sub <subject>", "default: never subscribe to these subjects (repeatable)", collect)
    .option("--peer <name>", "the peer certificate (server issue --peer) for the cluster, gateway and leafnodes blocks (default: the newest valid one)")
    .option("--cluster-name <name>", "cluster { name } (with --cluster-listen)")
    .option("--cluster-listen <host:port>", "add cluster { listen, routes, tls { verify } } with the peer certificate")
    .option("--routes <urls>", "route URLs, e.g. nats-route://10.0.0.2:6222 (repeatable or comma-separated)", collect)
    .option("--gateway-name <name>", "gateway { name } (with --gateway-listen)")
    .option("--gateway-listen <host:port>", "add gateway { listen, tls { verify }, gateways } with the peer certificate")
    .option("--gateways <name=urls>", "a remote gateway: NAME=nats://host:port[,URL...] (repeatable)", collect)
    .option("--leafnodes-listen <host:port>", "add leafnodes { listen, tls } (verify_and_map with --leafnode-user) with the peer certificate")
    .option("--leafnode-user <name[=account]>", "a store certificate that may connect as a leafnode, mapped by exact string, into ACCOUNT (repeatable)", collect)
    .option("--leafnode-remote <url>", "solicit a leafnode connection to this hub (nats-leaf://host:port), presenting the peer certificate (repeatable)", collect)
    .option("--websocket-listen <host:port>", "add websocket { listen, tls { verify_and_map } } with the server certificate")
    .option("--mqtt-listen <host:port>", "add mqtt { listen, tls { verify_and_map } } (the server also needs server_name and JetStream)")
    .option("--out <file>", "write to a file instead of standard output")
    .option("--force", "replace an existing --out file")
    .addHelpText(
      "after",
      examples([
        "mtlsctl config nats --out /etc/nats/mtls.conf   # then: include \"mtls.conf\" in nats-server.conf",
        "mtlsctl config nats --map dn --exclude old-bot",
        "mtlsctl config nats --include svc-nk --allow-pub 'orders.>' --allow-sub '_INBOX.>'",
        "mtlsctl config nats --peer node1 --cluster-name c1 --cluster-listen 0.0.0.0:6222 --routes nats-route://node2:6222,nats-route://node3:6222",
        "mtlsctl config nats --peer hub1 --leafnodes-listen 0.0.0.0:7422 --leafnode-user leaf1=EDGE",
        "mtlsctl config nats --peer leaf1 --leafnode-remote nats-leaf://hub.example.com:7422",
      ]),
    )
    .action(action(() => require("./config/nats")));
  config
    .command("node")
    .description("a Node.js https server that requires client certificates from this CA (requestCert, rejectUnauthorized)")
    .option("--server <name>", "the server certificate to use (default: the newest valid one)")
    .option("--cert-file <file>", "the server's certificate file (default: the store's; needed with --db)")
    .option("--key-file <file>", "its key file (with --cert-file; a database store keeps no leaf key)")
    .option("--ca-file <file>", "with --db: the CA certificate file the program reads (a database has no files: mtlsctl export ca --out FILE)")
    .option("--out <file>", "write to a file instead of standard output")
    .option("--force", "replace an existing --out file")
    .addHelpText("after", examples(["mtlsctl config node --out server.js && PORT=8443 node server.js"]))
    .action(action(() => require("./config/node")));
  config
    .command("curl <name>")
    .description("the curl command that calls the server as client <name> (--cert, --key, --cacert; never -k)")
    .option("--url <url>", "the URL to call (default: https://<the server certificate's first DNS name or IP>:8443/)")
    .option("--server <name>", "the server certificate whose name goes into the default URL (default: the newest valid one)")
    .option("--cert-file <file>", "the client's certificate file (default: the store's; needed with --db)")
    .option("--key-file <file>", "its key file (with --cert-file; a database store keeps no leaf key)")
    .option("--ca-file <file>", "with --db: the CA certificate file the program reads (a database has no files: mtlsctl export ca --out FILE)")
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
    .option("--cert-file <file>", "with --db: the certificate file of the server (or --client) whose .p12 the snippet loads (openssl pkcs12 makes it)")
    .option("--key-file <file>", "its key file (with --cert-file; a database store keeps no leaf key)")
    .option("--ca-file <file>", "with --db: the CA certificate file the program reads (a database has no files: mtlsctl export ca --out FILE)")
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
    .option("--cert-file <file>", "with --cert: that certificate's file (default: the store's; needed with --db)")
    .option("--key-file <file>", "its key file (with --cert-file; a database store keeps no leaf key)")
    .option("--ca-file <file>", "with --db: the CA certificate file the program reads (a database has no files: mtlsctl export ca --out FILE)")
    .option("--seed-file <file>", "with --db: the seed file, for an NKey copied from a directory (default: where nkey create --db wrote it)")
    .option("--out <file>", "write to a file instead of standard output")
    .option("--force", "replace an existing --out file")
    .addHelpText("after", examples(["mtlsctl config nkey-client node svc-nk --cert svc --out client.js && node client.js", "mtlsctl config nkey-client go svc-nk --cert svc --out main.go"]))
    .action(action(() => require("./config/nkey-client")));

  // ---- nkey
  const nkey = program.command("nkey").description("NKey users (a public key in the server's config, a seed with the client)");
  accessOptions(nkey
    .command("create <name>"))
    .description("make a user NKey pair: the seed goes to <dir>/nkeys/<name>.nk (mode 0600), the public key (U...) to the inventory")
    .option("--show-seed", "also print the seed (a secret: it logs in as this user)")
    .option("--force", "replace an existing NKey of that name (a new pair; keeps its account and permissions unless given)")
    .option("--out-dir <dir>", "with --db: where NAME.nk (the seed, 0600) goes; a database keeps no seed (default: the current directory)")
    .addHelpText("after", examples(["mtlsctl nkey create svc-nk", "mtlsctl config nats --out /etc/nats/mtls.conf   # lists { nkey: \"U...\" } beside the certificate users"]))
    .action(action(() => require("./nkey/create")));
  accessOptions(nkey.command("set <name>").description("change an NKey user's NATS account and permissions (then regenerate config nats and reload the server)"))
    .option("--no-account", "move the user back to the global users list")
    .option("--no-permissions", "drop the user's own permissions (config nats' defaults apply again)")
    .addHelpText("after", examples(["mtlsctl nkey set svc-nk --account ORDERS --allow-sub 'orders.>'", "mtlsctl nkey set svc-nk --no-permissions"]))
    .action(action(() => require("./nkey/set")));
  nkey
    .command("list")
    .description("list the NKey users (name, public key, seed file)")
    .action(action(() => require("./nkey/list")));

  registerOnline(program, { action, examples, sanOptions }); // token, serve, agent (main-online.ts)

  // ---- explain
  program
    .command("explain <cert>")
    .description("which identities nats-server tries for a certificate, in its order, and whether its TLS stage accepts it")
    .option("--config <file>", "also decide, with this nats-server configuration: accepted or refused, and as which user")
    .option("--server-cwd <dir>", "the server's working directory, against which it opens ca_file (default: the current directory)")
    .option("--ocsp", "with tls { ocsp_peer }: ask the certificate's OCSP responder (its AIA URL) as the server does; a revoked answer refuses at the TLS stage")
    .option("--ca <file>", "the CA bundle to check the chain against (default: the config's ca_file, else the store's CA)")
    .option("--server-version <v>", "the nats-server behaviour to model (default: nats-server on PATH, else the newest modelled)")
    .option("--publish <subject>", "with --config: may the mapped user publish to SUBJECT? (repeatable; exit 1 when denied)", collect)
    .option("--subscribe <subject>", "with --config: may it subscribe to SUBJECT (or 'SUBJECT QUEUE')? (repeatable; exit 1 when denied)", collect)
    .option("--p12-password-file <file>", P12_READ_HELP)
    .hook("preAction", p12PasswordHook)
    .addHelpText("after", examples(["mtlsctl explain pki/issued/alice.crt", "mtlsctl explain alice.crt --config /etc/nats/nats-server.conf", "mtlsctl explain alice.crt --config nats.conf --publish orders.new --subscribe 'orders.>'   # allowed or denied, and by which rule", "mtlsctl explain client-chain.pem --ca ca.pem --json", "mtlsctl explain alice.p12 --p12-password-file pw.txt"]))
    .action(action(() => require("./explain")));

  // ---- verify
  program
    .command("verify [cert...]")
    .description("whether nats-server would accept each certificate (and/or an NKey) with this config, and as which user")
    .requiredOption("--config <file>", "the nats-server configuration (includes and variables are followed)")
    .option("--server-version <v>", "the nats-server behaviour to model (default: nats-server on PATH, else the newest modelled)")
    .option("--server-cwd <dir>", "the server's working directory, against which it opens ca_file (default: the current directory)")
    .option("--ocsp", "with tls { ocsp_peer }: ask the certificate's OCSP responder (its AIA URL) as the server does; a revoked answer refuses at the TLS stage")
    .option("--connect-user <user>", "the user name the client sends in CONNECT")
    .option("--connect-password-file <file>", "the password the client sends (first line of the file; - for stdin)")
    .option("--connect-token-file <file>", "the auth_token the client sends (first line of the file; - for stdin)")
    .option("--publish <subject>", "may the mapped user publish to SUBJECT? (repeatable; exit 1 when denied)", collect)
    .option("--subscribe <subject>", "may it subscribe to SUBJECT (or 'SUBJECT QUEUE')? (repeatable; exit 1 when denied)", collect)
    .option("--nkey-seed <file>", "the client also sends this NKey (seed file, e.g. pki/nkeys/NAME.nk): checked before the certificate; no cert needed when the config asks for none")
    .addOption(new Option("--connection-type <type>", "the client's listener: STANDARD, or WEBSOCKET / MQTT (their own tls {} and flag), or LEAFNODE (an inbound leafnode: the leafnodes block's tls {} and users)").choices(["STANDARD", "WEBSOCKET", "MQTT", "LEAFNODE"]).default("STANDARD"))
    .option("--p12-password-file <file>", P12_READ_HELP)
    .hook("preAction", p12PasswordHook)
    .addHelpText(
      "after",
      examples([
        "mtlsctl verify pki/issued/alice.crt --config /etc/nats/nats-server.conf",
        "mtlsctl verify *.crt --config nats.conf --json     # one JSON object per line",
        "mtlsctl verify bob.crt --config nats.conf --server-version 2.14.10",
        "mtlsctl verify pki/issued/svc.crt --nkey-seed pki/nkeys/svc-nk.nk --config nats.conf   # the nkey decides the user",
      ]) + "\nExit codes: 0 every certificate accepted (and every --publish/--subscribe allowed); 1 one or more refused or denied; 3 the config or a certificate cannot be read.\n",
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
      examples(["mtlsctl lint /etc/nats/nats-server.conf", "mtlsctl lint nats.conf --store --json | jq '.findings[] | select(.severity == \"error\")'", "mtlsctl lint nats.conf --certs ./clients --server-version 2.14.10"]) +
        "\nEach finding: file:line: severity CODE message, then how to fix it. Codes NATS000-NATS049 are stable (see the README).\nExit codes: 0 no error-level finding; 1 one or more; 2 usage; 3 the config cannot be read or lexed.\n",
    )
    .action(action(() => require("./lint")));

  // ---- export
  program
    .command("export <name>")
    .description("export a certificate (or `ca`) as PEM, a chain bundle, DER, PKCS#12 (key, certificate and CA) or a Java trust store")
    .addOption(new Option("--format <format>", "output format: p12 = key + certificate + CA chain; truststore = the CA for Java (with `ca`); roots = the trust anchors as PEM, a server's ca_file (with `ca`)").choices(["pem", "chain", "der", "p12", "truststore", "roots"]).default("pem"))
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

  // ---- backup / restore
  program
    .command("backup")
    .description("the whole store as one encrypted file (scrypt + AES-256-GCM), taken holding the store lock")
    .requiredOption("--out <file>", "the archive to write (mode 0600)")
    .option("--password-file <file>", "the backup password (first line; - for stdin; else MTLSCTL_BACKUP_PASSWORD or a prompt, asked twice)")
    .option("--force", "replace an existing --out file")
    .addHelpText("after", examples(["mtlsctl backup --out pki-$(date +%F).mtlsbak", "MTLSCTL_BACKUP_PASSWORD=... mtlsctl --dir /srv/pki backup --out /backup/pki.mtlsbak --force"]))
    .action(action(() => require("./backup")));
  program
    .command("restore <archive>")
    .description("a store from a backup archive, into --dir; checked and decrypted before anything is written")
    .option("--password-file <file>", "the backup password (first line; - for stdin; else MTLSCTL_BACKUP_PASSWORD or a prompt)")
    .option("--force", "replace an existing store")
    .addHelpText("after", examples(["mtlsctl --dir ./pki restore pki-2026-11-23.mtlsbak && mtlsctl status"]))
    .action(action(() => require("./restore")));

  registerStore(program, { action, examples }); // store migrate, store copy (main-online.ts)

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

  return only !== null ? wholeUnlessFound(program, only) : program;
}

export { CommanderError };
