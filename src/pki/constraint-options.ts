/**
 * The name-constraint options (`--permit-dns` ...): one table for the command tree (src/cli/main.ts,
 * loaded at start-up, so this file imports nothing) and for src/pki/constraints.ts.
 */
/** The CLI option of each list (`--permit-dns` ...), for messages and the option table. */
export const CONSTRAINT_OPTIONS: { key: string; flag: string; list: "permitted" | "excluded"; kind: "dns" | "email" | "uri" | "ip"; help: string }[] = [
  { key: "permitDns", flag: "--permit-dns", list: "permitted", kind: "dns", help: "DNS SANs must be example.com or under it (repeatable)" },
  { key: "excludeDns", flag: "--exclude-dns", list: "excluded", kind: "dns", help: "DNS SANs must not be within this domain (repeatable)" },
  { key: "permitEmailDomain", flag: "--permit-email-domain", list: "permitted", kind: "email", help: "email SANs must be in this domain, or be this exact address when it has an @ (repeatable)" },
  { key: "excludeEmailDomain", flag: "--exclude-email-domain", list: "excluded", kind: "email", help: "email SANs must not be in this domain / be this address (repeatable)" },
  { key: "permitUriDomain", flag: "--permit-uri-domain", list: "permitted", kind: "uri", help: "URI SANs must have a host within this domain (repeatable)" },
  { key: "excludeUriDomain", flag: "--exclude-uri-domain", list: "excluded", kind: "uri", help: "URI SANs must not have a host within this domain (repeatable)" },
  { key: "permitIp", flag: "--permit-ip", list: "permitted", kind: "ip", help: "IP SANs must be in this CIDR range, e.g. 10.0.0.0/8 (repeatable)" },
  { key: "excludeIp", flag: "--exclude-ip", list: "excluded", kind: "ip", help: "IP SANs must not be in this CIDR range (repeatable)" },
];

