/**
 * The command tree's online-CA and shared-store verbs (issues 17-19): token, serve, agent, store.
 * Part of the command loader (src/cli/main.ts): each action loads its verb's module when it runs.
 */
import { Command, Option } from "commander";
import { collect } from "./options";

type Runner = (args: string[], opts: Record<string, unknown>, cmd: Command) => Promise<void> | void;
/** Loads a verb's module (given the options, for a verb with two modules: client issue NAME | --from FILE). */
export type Loader = (opts: Record<string, unknown>) => { run: Runner };

interface Helpers {
  action: (load: Loader) => (this: Command) => Promise<void>;
  examples: (lines: string[]) => string;
}

export function registerOnline(program: Command, { action, examples, sanOptions }: Helpers & { sanOptions: (cmd: Command) => Command }): void {
  // ---- online CA (issue 17): token, serve
  const token = program.command("token").description("one-time enrolment tokens for `mtlsctl serve` (EST simpleenroll: username = name, password = token)");
  sanOptions(token
    .command("create <name>"))
    .description("a single-use token that fixes one certificate's identity (subject, SANs, kind, lifetime); the token alone on stdout, details on stderr")
    .addOption(new Option("--kind <kind>", "the certificate's kind").choices(["client", "server"]).default("client"))
    .option("--ttl <duration>", "how long the token can be used: 90s, 15m, 12h, 30d (bare number: days)", "15m")
    .option("--lifetime <duration>", "the certificate's lifetime (default: the CA's default for the kind; capped by serve --max-lifetime)")
    .option("--expect-user <user>", "the NATS user the certificate must map to (serve --nats-config checks it; a service without it refuses the token)")
    .addHelpText(
      "after",
      examples([
        "mtlsctl token create dev1 --email dev1@example.com > dev1.token",
        "mtlsctl token create nats2 --kind server --dns nats2.example.com --ttl 1h",
        "mtlsctl token create svc --uri spiffe://acme/svc --expect-user spiffe://acme/svc --json",
      ]) + "\nExit codes: 0 created; 2 usage; 3 bad input (name, SAN, duration) or no store.\n",
    )
    .action(action(() => require("./token/create")));
  token
    .command("list")
    .description("the tokens: id, name, kind, state (active, claimed, expired, revoked), expiry, the serial a claimed one was spent on")
    .addHelpText("after", examples(["mtlsctl token list", "mtlsctl token list --json | jq '.[] | select(.state == \"active\")'"]))
    .action(action(() => require("./token/list")));
  token
    .command("revoke <name|id>")
    .description("make a token (by id) or every usable token of a name unusable")
    .addHelpText("after", examples(["mtlsctl token revoke dev1", "mtlsctl token revoke 3f9a0c21b7d4"]) + "\nExit codes: 0 revoked; 3 no such usable token.\n")
    .action(action(() => require("./token/revoke")));
  program
    .command("serve")
    .description("the online CA: EST (RFC 7030/8951) enrolment with tokens and mTLS re-enrolment, /health; in the foreground until SIGTERM/SIGINT")
    .option("--listen <host:port>", "HTTPS listen address (port 0: any free port)", "127.0.0.1:8443")
    .option("--http-listen <host:port>", "also a plain-HTTP listener serving only /crl (and /ocsp)")
    .option("--server <name>", "the server certificate to present (default: the newest valid one in the store)")
    .option("--tls-cert <file>", "with --db: the server certificate (PEM, optionally followed by its chain) to present; a database store keeps no key")
    .option("--tls-key <file>", "with --db: its key (PEM, unencrypted, mode 0600)")
    .option("--nats-config <file>", "the mapping guard: refuse a certificate this nats-server config would refuse or map to another user")
    .addOption(new Option("--map <kind>", "the identity config nats --map names users by (with --nats-config)").choices(["auto", "email", "dns", "uri", "dn"]).default("auto"))
    .option("--require-rekey", "simplereenroll refuses a CSR with the current certificate's key")
    .option("--max-lifetime <duration>", "cap every certificate's lifetime: 90s, 15m, 12h, 30d (bare number: days)")
    .option("--audit-log <file>", "append one JSON line per issuance, renewal and refusal")
    .option("--rate-limit <n>", "enrolment requests per second per client address (0: no limit)", "20")
    .option("--headers-timeout <duration>", "drop a client that has not sent its request headers within this time", "10s")
    .option("--passphrase-file <file>", "the CA passphrase: the file's first line (- for stdin; else MTLSCTL_PASSPHRASE or a prompt)")
    .addHelpText(
      "after",
      examples([
        "MTLSCTL_PASSPHRASE=... mtlsctl serve --listen 0.0.0.0:8443 --audit-log /var/log/mtlsctl-audit.jsonl",
        "mtlsctl serve --nats-config /etc/nats/nats-server.conf --max-lifetime 30d",
        "curl --cacert pki/ca.crt https://127.0.0.1:8443/.well-known/est/cacerts | base64 -d | openssl pkcs7 -inform DER -print_certs",
      ]) + "\nPrints `listening on https://HOST:PORT` on stderr when ready; one line per request on stderr.\nExit codes: 0 stopped by SIGTERM/SIGINT; 2 usage; 3 bad input (no server certificate, wrong passphrase, bad config).\n",
    )
    .action(action(() => require("./serve")));

  program
    .command("agent")
    .description("keep a certificate renewed over EST: enrol once with a token, renew before expiry, swap the files crash-safely, reload what uses them")
    .option("--ca-url <url>", "the online CA (mtlsctl serve, or another EST server): https://HOST:PORT")
    .option("--ca-file <file>", "the trust anchor for reaching the CA over TLS (PEM; never written)")
    .option("--cert <file>", "the certificate file to keep (leaf + intermediates; a link into the agent's generation directory)")
    .option("--key <file>", "the key file to keep (0600; generated here, never sent)")
    .option("--bundle <file>", "also one PEM file with the chain and the key (0600), swapped with them: for a program that reads certificate and key on every connect, read it once")
    .option("--name <name>", "first enrolment: the token's name (the EST username)")
    .option("--token-file <file>", "first enrolment: the file holding the one-time token (mtlsctl token create NAME)")
    .option("--key-type <type>", "the key type of new keys (ec-p256, ec-p384, rsa-2048, rsa-3072, rsa-4096, ed25519)", "ec-p256")
    .option("--subject <dn>", "first enrolment with another EST server: the subject to ask for (mtlsctl serve takes the token's)")
    .option("--email <address>", "first enrolment with another EST server: an email SAN to ask for (repeatable)", collect)
    .option("--dns <name>", "... a DNS SAN (repeatable)", collect)
    .option("--uri <uri>", "... a URI SAN (repeatable)", collect)
    .option("--ip <address>", "... an IP SAN (repeatable)", collect)
    .option("--renew-before <pct|duration>", "renew when less than this is left: a share of the lifetime (33%) or a duration (7d)", "33.333%")
    .option("--jitter <pct>", "renew up to this share of the lifetime earlier, drawn from the serial (a fleet issued at once spreads out)", "10%")
    .option("--exec <command>", "after each swap: run this (split into words, no shell unless you write one: sh -c '...'; 60 s timeout)")
    .option("--signal <sig>", "after each swap: send this signal (HUP: nats-server reloads its certificate files) ...")
    .option("--pid-file <file>", "... to the process whose id this file holds")
    .option("--ca-out <file>", "write the CA bundle (EST cacerts) here for the program, refreshed when it changes")
    .option("--owner <user:group>", "owner of the key, certificate and their directories (the program does not run as root)")
    .option("--retry-for <duration>", "--once: give up when the CA stays unreachable this long", "30s")
    .option("--once", "one check and exit (cron, systemd timer): 0 nothing due or renewed, 1 refused, 3 unreachable or bad input")
    .addHelpText(
      "after",
      examples([
        "mtlsctl token create app1 --email app1@example.com > app1.token          # on the CA",
        "mtlsctl agent --ca-url https://ca.example.com:8443 --ca-file ca.crt --cert app1.crt --key app1.key --name app1 --token-file app1.token --once",
        "mtlsctl agent --ca-url https://ca.example.com:8443 --ca-file ca.crt --cert /etc/nats/server.crt --key /etc/nats/server.key --signal HUP --pid-file /var/run/nats-server.pid --owner nats:nats",
        "mtlsctl agent --ca-url https://ca.example.com:8443 --ca-file ca.crt --cert app1.crt --key app1.key --exec 'systemctl reload app1' --json",
      ]) +
        "\nWith --json every stdout line is one JSON object: an event (enrolled, renewed, next-check, not-due, retry, refused, expired, hook, ca-updated),\nor, last, the error that ended it ({\"error\", \"file\"}, as every command prints);" +
        "\nhuman-readable logging goes to stderr. SIGTERM/SIGINT stop it between steps.\nExit codes: 0 nothing due, renewed or stopped; 1 refused by the CA (revoked, expired, bad token: a new token is needed); 2 usage; 3 bad input, or (--once) the CA unreachable for --retry-for.\n",
    )
    .action(action(() => require("./agent")));

}

export function registerStore(program: Command, { action, examples }: Helpers): void {
  // ---- store (issue 19): the database store's schema, and moving a whole store
  const storeCmd = program.command("store").description("a database store (PostgreSQL): its schema, and copying a whole store between a directory and a database");
  storeCmd
    .command("migrate")
    .description("create or upgrade the database's schema (versioned migrations, one transaction); a newer schema than this mtlsctl knows is refused")
    .addHelpText("after", examples(["mtlsctl --db postgres://mtlsctl@db.example.com/pki store migrate", "MTLSCTL_DB=postgres://mtlsctl@localhost/pki mtlsctl store migrate --json"]))
    .action(action(() => require("./store/migrate")));
  storeCmd
    .command("copy")
    .description("copy a whole store, directory to database or back, checked by counts and SHA-256 fingerprints; the target must be empty and stays so when the copy fails")
    .requiredOption("--from <dir|url>", "the source: a store directory or postgres://USER@HOST/DB")
    .requiredOption("--to <dir|url>", "the target: an empty database, or a directory that does not exist or is empty")
    .addHelpText(
      "after",
      examples(["mtlsctl store copy --from ./pki --to postgres://mtlsctl@db.example.com/pki", "mtlsctl store copy --from postgres://mtlsctl@db.example.com/pki --to ./pki-copy"]) +
        "\nLeaf keys (private/<name>.key) and NKey seeds are never copied into a database: they stay in the source directory.\n",
    )
    .action(action(() => require("./store/copy")));

}
