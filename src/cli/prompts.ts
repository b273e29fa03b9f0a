/**
 * Asking for missing values on a terminal. @inquirer/prompts is loaded only when a prompt is shown
 * (never by `--help` or by a command whose values are all given); prompts draw on stderr so that
 * stdout stays the command's output. Without a terminal, or with --yes, nothing is asked: the
 * caller gets a usage error (exit 2) naming what to give instead.
 */
import type { Command } from "commander";
import type { Ctx } from "./context";
import { MtlsError, usageError } from "../errors";
import type { Sans } from "../pki/san";

type Inquirer = typeof import("@inquirer/prompts");
let lib: Inquirer | undefined;
function inquirer(): Inquirer {
  return (lib ??= require("@inquirer/prompts") as Inquirer);
}

/** Where every prompt draws: stderr (stdout may be a file the user redirected). */
const io = () => ({ output: process.stderr });

const plain = (s: string) => s;
/** The default theme without colour (--no-color, NO_COLOR, or stdout not a terminal). */
const PLAIN_THEME = {
  prefix: { idle: "?", done: "\u2714" },
  spinner: { interval: 80, frames: ["-", "\\", "|", "/"] },
  style: {
    answer: plain,
    message: plain,
    error: (t: string) => `> ${t}`,
    defaultAnswer: (t: string) => `(${t})`,
    help: plain,
    highlight: plain,
    key: (t: string) => `<${t}>`,
    disabled: (t: string) => `- ${t}`,
    description: plain,
    keysHelpTip: (keys: [string, string][]) => keys.map(([k, a]) => `${k} ${a}`).join(" \u2022 "),
  },
};
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const theme = (ctx: Ctx): any => (ctx.color ? undefined : PLAIN_THEME);

/** The usage error for a value that cannot be asked for: one line, naming what to give. */
export function cannotAsk(missing: string): MtlsError {
  const why = process.stdin.isTTY && process.stderr.isTTY ? "--yes: not asking" : "no terminal to ask on";
  return usageError(`${missing} (${why})`);
}

/** Throws cannotAsk(missing) unless prompting is allowed (a terminal, and no --yes). */
export function mustAsk(ctx: Ctx, missing: string): void {
  if (!ctx.interactive) throw cannotAsk(missing);
}

/** A validator for inquirer from one of ours that throws: true, or the error's message. */
function validator(check?: (v: string) => unknown): (v: string) => true | string {
  return (v: string) => {
    if (!check) return true;
    try {
      check(v.trim());
      return true;
    } catch (e) {
      return (e as Error).message;
    }
  };
}

export async function askText(ctx: Ctx, o: { message: string; default?: string; check?: (v: string) => unknown }): Promise<string> {
  const v = await inquirer().input({ message: o.message, default: o.default, validate: validator(o.check), theme: theme(ctx) }, io());
  return v.trim();
}

/** Several values in one line, separated by spaces or commas; each one checked. */
export const splitList = (s: string): string[] => s.split(/[\s,]+/).filter((x) => x !== "");

export async function askList(ctx: Ctx, o: { message: string; default?: string; check: (v: string) => unknown; min?: number }): Promise<string[]> {
  const v = await inquirer().input(
    {
      message: o.message,
      default: o.default,
      validate: validator((line) => {
        const items = splitList(line);
        if (items.length < (o.min ?? 0)) throw new Error(o.min === 1 ? "give at least one" : `give at least ${o.min}`);
        items.forEach(o.check);
      }),
      theme: theme(ctx),
    },
    io(),
  );
  return splitList(v);
}

export interface SelectChoice<T> {
  name: string;
  value: T;
  description?: string;
}

export async function askSelect<T>(ctx: Ctx, message: string, choices: SelectChoice<T>[], dflt?: T): Promise<T> {
  return inquirer().select<T>({ message, choices, default: dflt, pageSize: 10, theme: theme(ctx) }, io());
}

export async function askConfirm(ctx: Ctx, message: string, dflt = true): Promise<boolean> {
  return inquirer().confirm({ message, default: dflt, theme: theme(ctx) }, io());
}

export async function askPassword(ctx: Ctx, message: string, nonEmpty = true): Promise<string> {
  return inquirer().password({ message, mask: "*", validate: nonEmpty ? (v: string) => (v.length > 0 ? true : "it cannot be empty") : undefined, theme: theme(ctx) }, io());
}

/** A name for the store (design: [A-Za-z0-9._@-]+, not starting with "."), refusing taken ones. */
export async function askName(ctx: Ctx, message: string, o: { default?: string; taken?: (name: string) => string | null } = {}): Promise<string> {
  const { checkName } = require("../store/store") as typeof import("../store/store");
  return askText(ctx, {
    message,
    default: o.default,
    check: (v) => {
      checkName(v);
      const why = o.taken?.(v);
      if (why) throw new Error(why);
    },
  });
}

const KEY_NOTES: Record<string, string> = {
  "ec-p256": "ECDSA P-256: small, fast, accepted everywhere (default)",
  "ec-p384": "ECDSA P-384",
  "rsa-2048": "RSA 2048: for old clients that lack ECDSA",
  "rsa-3072": "RSA 3072",
  "rsa-4096": "RSA 4096: slow to make and to sign with",
  ed25519: "Ed25519: Go and OpenSSL 1.1.1+; not in browsers or older Java",
};

export async function askKeyType(ctx: Ctx, message = "Key type", dflt = "ec-p256"): Promise<import("../pki/keys").KeyType> {
  const { KEY_TYPES } = require("../pki/keys") as typeof import("../pki/keys");
  return askSelect(
    ctx,
    message,
    KEY_TYPES.map((k) => ({ name: k, value: k, description: KEY_NOTES[k] })),
    dflt as (typeof KEY_TYPES)[number],
  );
}

export type ClientSanKind = "email" | "uri" | "dns" | "ip" | "none";

export const SAN_FLAG: Record<Exclude<ClientSanKind, "none">, string> = { email: "--email", dns: "--dns", uri: "--uri", ip: "--ip" };

function sanChecker(kind: Exclude<ClientSanKind, "none">): (v: string) => unknown {
  const san = require("../pki/san") as typeof import("../pki/san");
  return { email: san.checkEmail, dns: (v: string) => san.checkDns(v), uri: san.checkUri, ip: san.checkIp }[kind];
}

/**
 * A client's identity for nats-server: which kind of SAN names the user, then its value(s). nats-server
 * tries email, then DNS, then URI SANs, then the subject DN; "none" leaves the subject (CN=<name>).
 */
export async function askClientSans(ctx: Ctx, name: string): Promise<{ kind: ClientSanKind; sans: Sans }> {
  const kind = await askSelect<ClientSanKind>(
    ctx,
    `How should nats-server know "${name}"?`,
    [
      { name: "email", value: "email", description: "an email SAN, e.g. alice@example.com (the user string is the address)" },
      { name: "uri", value: "uri", description: "a URI SAN, e.g. spiffe://example.org/alice" },
      { name: "dns", value: "dns", description: "a DNS SAN, e.g. svc1.example.com (for services)" },
      { name: "ip", value: "ip", description: "an IP SAN (nats-server never maps by IP: the subject names the user)" },
      { name: "none", value: "none", description: `no SAN: the subject CN=${name} names the user` },
    ],
    "email",
  );
  const sans: Sans = { email: [], dns: [], uri: [], ip: [] };
  if (kind !== "none") {
    const label = { email: "Email address(es)", uri: "URI(s)", dns: "DNS name(s)", ip: "IP address(es)" }[kind];
    sans[kind] = await askList(ctx, { message: `${label} for ${name}:`, check: sanChecker(kind), min: 1 });
  }
  return { kind, sans };
}

/** A server's DNS names and IP addresses: at least one of them. */
export async function askServerSans(ctx: Ctx, o: { dns?: string; ip?: string } = {}): Promise<Sans> {
  const san = require("../pki/san") as typeof import("../pki/san");
  const dns = await askList(ctx, { message: "DNS names (separated by spaces or commas; empty for none):", default: o.dns, check: (v) => san.checkDns(v) });
  const ip = await askList(ctx, {
    message: "IP addresses (separated by spaces or commas; empty for none):",
    default: o.ip,
    check: san.checkIp,
    min: dns.length ? 0 : 1,
  });
  return { email: [], dns, uri: [], ip };
}

const sanFlagsGiven = (o: Record<string, unknown>) => ["email", "dns", "uri", "ip"].some((k) => Array.isArray(o[k]) && (o[k] as string[]).length > 0) || o.subject !== undefined;

/**
 * `client issue` / `client csr` without a NAME, on a terminal: asks for the name, the key type
 * (unless --key was given) and the SANs (unless a SAN flag or --subject was given), and puts the
 * answers into `o` as if they had been flags. Returns the name.
 */
export async function promptClient(ctx: Ctx, o: Record<string, unknown>, cmd: Command | undefined, missing: string, taken?: (name: string) => string | null): Promise<string> {
  mustAsk(ctx, missing);
  // the flags that were given are checked before any question
  const given = (k: string) => (o[k] as string[] | undefined) ?? [];
  (require("../pki/san") as typeof import("../pki/san")).checkSans({ email: given("email"), dns: given("dns"), uri: given("uri"), ip: given("ip") });
  if (o.key !== undefined) (require("../pki/keys") as typeof import("../pki/keys")).parseKeyType(o.key as string);
  if (o.subject !== undefined) (require("../ca") as typeof import("../ca")).buildSubject(o.subject as string, []);
  const name = await askName(ctx, "Client name (the file name in the store, e.g. alice):", { taken });
  if (!cmd || cmd.getOptionValueSource("key") !== "cli") o.key = await askKeyType(ctx, "Key type", (o.key as string | undefined) ?? "ec-p256");
  if (!sanFlagsGiven(o)) {
    const { sans } = await askClientSans(ctx, name);
    Object.assign(o, sans);
  }
  return name;
}

/** A name in the store, chosen from a list (revoke, ...). */
export async function askStoreName(ctx: Ctx, message: string, records: { name: string; kind: string; serial: string; notAfter: string; subject: string }[]): Promise<string> {
  return askSelect(
    ctx,
    message,
    records.map((r) => ({ name: `${r.name} (${r.kind})`, value: r.name, description: `${r.subject || "(empty subject)"}, serial ${r.serial.slice(0, 16)}, until ${r.notAfter.slice(0, 10)}` })),
  );
}
