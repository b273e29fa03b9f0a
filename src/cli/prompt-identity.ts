/**
 * The questions about a certificate's identity (name, key type, SANs) for `init`, `client issue`,
 * `client csr` and `server issue` on a terminal; each answer is checked with the rules the flags
 * are checked with. The questions themselves are in ./prompts.ts.
 */
import type { Command } from "commander";
import { askList, askSelect, askText, mustAsk, PromptCtx } from "./prompts";
import { buildSubject } from "../ca";
import { KEY_TYPES, parseKeyType, KeyType } from "../pki/keys";
import { checkDns, checkEmail, checkIp, checkSans, checkUri, Sans } from "../pki/san";
import { checkName } from "../store/store";

/** A name for the store (design: [A-Za-z0-9._@-]+, not starting with "."), refusing taken ones. */
export async function askName(ctx: PromptCtx, message: string, o: { default?: string; taken?: (name: string) => string | null } = {}): Promise<string> {
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

export async function askKeyType(ctx: PromptCtx, message = "Key type", dflt = "ec-p256"): Promise<KeyType> {
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
  return { email: checkEmail, dns: (v: string) => checkDns(v), uri: checkUri, ip: checkIp }[kind];
}

/**
 * A client's identity for nats-server: which kind of SAN names the user, then its value(s). nats-server
 * tries email, then DNS, then URI SANs, then the subject DN; "none" leaves the subject (CN=<name>).
 */
export async function askClientSans(ctx: PromptCtx, name: string): Promise<{ kind: ClientSanKind; sans: Sans }> {
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
export async function askServerSans(ctx: PromptCtx, o: { dns?: string; ip?: string } = {}): Promise<Sans> {
  const dns = await askList(ctx, { message: "DNS names (separated by spaces or commas; empty for none):", default: o.dns, check: (v) => checkDns(v) });
  const ip = await askList(ctx, {
    message: "IP addresses (separated by spaces or commas; empty for none):",
    default: o.ip,
    check: checkIp,
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
export async function promptClient(ctx: PromptCtx, o: Record<string, unknown>, cmd: Command | undefined, missing: string, taken?: (name: string) => string | null): Promise<string> {
  mustAsk(ctx, missing);
  // the flags that were given are checked before any question
  const given = (k: string) => (o[k] as string[] | undefined) ?? [];
  checkSans({ email: given("email"), dns: given("dns"), uri: given("uri"), ip: given("ip") });
  if (o.key !== undefined) parseKeyType(o.key as string);
  if (o.subject !== undefined) buildSubject(o.subject as string, []);
  const name = await askName(ctx, "Client name (the file name in the store, e.g. alice):", { taken });
  if (!cmd || cmd.getOptionValueSource("key") !== "cli") o.key = await askKeyType(ctx, "Key type", (o.key as string | undefined) ?? "ec-p256");
  if (!sanFlagsGiven(o)) {
    const { sans } = await askClientSans(ctx, name);
    Object.assign(o, sans);
  }
  return name;
}
