/** Option parsers for the command tree. Kept free of heavy imports: `--help` loads only this. */
import type { Command } from "commander";
import { usageError } from "../errors";

/** Collects a repeatable option. */
export const collect = (v: string, prev: string[] = []): string[] => [...prev, v];

/** Parses a whole-number option value. */
export function intOption(flag: string): (v: string) => number {
  return (v: string) => {
    if (!/^\d+$/.test(v)) throw usageError(`${flag} takes a whole number (got "${v}")`);
    return Number(v);
  };
}

/** The SAN and subject options of an issuance. */
export function sanOptions(cmd: Command): Command {
  return cmd
    .option("--email <address>", "email SAN (repeatable)", collect)
    .option("--dns <name>", "DNS SAN (repeatable)", collect)
    .option("--uri <uri>", "URI SAN, e.g. spiffe://example.org/alice (repeatable)", collect)
    .option("--ip <address>", "IP SAN (repeatable; never used by nats-server for mapping)", collect)
    .option("--subject <dn>", "subject as RFC 4514, e.g. 'CN=alice,OU=eng,O=Acme' (default CN=<name>)");
}

/** A user's NATS account and permissions (issue 10): client issue/sign/set, nkey create/set. */
export function accessOptions(cmd: Command): Command {
  return cmd
    .option("--account <name>", "the user's NATS account: config nats lists it in accounts { NAME { users } } (default: the global users list)")
    .option("--allow-pub <subject>", "the user may publish only to these subjects (repeatable; * and > wildcards)", collect)
    .option("--deny-pub <subject>", "the user may never publish to these subjects (repeatable; deny wins over allow)", collect)
    .option("--allow-sub <subject>", "the user may subscribe only to these subjects (repeatable; 'SUBJECT QUEUE' for a queue group)", collect)
    .option("--deny-sub <subject>", "the user may never subscribe to these subjects (repeatable)", collect)
    .option("--allow-responses", "the user may also publish one reply to each request it receives (allow_responses)");
}
