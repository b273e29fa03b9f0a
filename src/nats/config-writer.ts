/**
 * `config nats`: the client tls {} block and the authorization users, written so that the server
 * reads back exactly the intended strings (quoteConfString) and each user appears once.
 */
import * as fs from "node:fs";
import { Store, CertRecord } from "../store/store";
import { readCertificates } from "../pki/cert";
import { natsUserFor, MapMode, NatsUser } from "./user";
import { quoteConfString } from "./confstring";
import { renderTemplate } from "../templates";
import { inputError } from "../errors";

export interface NatsConfigOptions {
  map?: MapMode;
  include?: string[];
  exclude?: string[];
  server?: string;
  timeout?: number;
  includeHint?: string;
  version: string;
  now?: Date;
}

export interface MappedUser {
  name: string;
  serial: string;
  user: string;
  kind: NonNullable<NatsUser["kind"]>;
}

export interface NatsConfig {
  text: string;
  users: MappedUser[];
  server: CertRecord | null;
  warnings: string[];
}

const isLive = (c: CertRecord, now: Date) => c.status === "valid" && new Date(c.notAfter) > now;

export function natsUserOfRecord(store: Store, rec: CertRecord, map: MapMode = "auto"): NatsUser {
  const file = store.path(rec.certFile);
  let data: Buffer;
  try {
    data = fs.readFileSync(file);
  } catch {
    throw inputError("the certificate listed in the inventory is missing", file);
  }
  return natsUserFor(readCertificates(data, file)[0], map);
}

export function buildNatsConfig(store: Store, o: NatsConfigOptions): NatsConfig {
  const now = o.now ?? new Date();
  const inv = store.readInventory();
  const warnings: string[] = [];
  const known = new Set(inv.certificates.map((c) => c.name));
  for (const n of [...(o.include ?? []), ...(o.exclude ?? [])]) if (!known.has(n)) throw inputError(`no certificate named "${n}" in the store`, store.inventoryFile);

  // server certificate: the chosen one, else the newest valid one
  const servers = inv.certificates.filter((c) => c.kind === "server" && isLive(c, now));
  let server: CertRecord | null = null;
  if (o.server) {
    server = servers.find((c) => c.name === o.server) ?? null;
    if (!server) throw inputError(`no valid server certificate named "${o.server}"`, store.inventoryFile);
  } else server = servers.sort((a, b) => b.notBefore.localeCompare(a.notBefore) || b.issuedAt.localeCompare(a.issuedAt))[0] ?? null;
  if (!server) warnings.push("no valid server certificate in the store: the tls block has no cert_file/key_file (run `mtlsctl server issue NAME --dns HOST`)");
  if (server && !server.keyFile) throw inputError(`server certificate "${server.name}" has no key in the store`, store.inventoryFile);

  const users: MappedUser[] = [];
  const seen = new Map<string, string>();
  const clients = inv.certificates
    .filter((c) => c.kind === "client" && isLive(c, now))
    .filter((c) => !o.include?.length || o.include.includes(c.name))
    .filter((c) => !o.exclude?.includes(c.name))
    .sort((a, b) => a.name.localeCompare(b.name));
  for (const c of clients) {
    const nu = natsUserOfRecord(store, c, o.map ?? "auto");
    for (const n of nu.notes) warnings.push(`${c.name}: ${n}`);
    if (nu.user === null || nu.kind === null) {
      warnings.push(`${c.name}: left out, it cannot be mapped${o.map ? ` by ${o.map}` : ""}`);
      continue;
    }
    quoteConfString(nu.user, `${c.name}'s user string`); // refuse what cannot be expressed
    const prev = seen.get(nu.user);
    if (prev !== undefined) {
      warnings.push(`${c.name} maps to the same user as ${prev} (${JSON.stringify(nu.user)}): listed once`);
      continue;
    }
    seen.set(nu.user, c.name);
    users.push({ name: c.name, serial: c.serial, user: nu.user, kind: nu.kind });
  }
  if (users.length === 0) warnings.push("no client users: with an empty users list nats-server requires no authentication at all");

  const q = (s: string, what: string) => quoteConfString(s, what);
  const serverCert = server
    ? `  cert_file: ${q(store.path(server.certFile), "cert_file")}\n  key_file: ${q(store.path(server.keyFile!), "key_file")}`
    : "  # no server certificate in the store yet: run `mtlsctl server issue NAME --dns HOST`, then regenerate";
  const usersText = users.map((u) => `    # ${u.name}: by ${u.kind === "subject" ? "subject (Go string)" : u.kind}, serial ${u.serial}\n    { user: ${q(u.user, u.name)} }`).join("\n");
  const text = renderTemplate("nats.conf", {
    version: o.version,
    date: now.toISOString(),
    store: store.dir.replace(/[\r\n]/g, "?"),
    include_hint: (o.includeHint ?? "mtls.conf").replace(/[\r\n]/g, "?"),
    server_cert: serverCert,
    ca_file: q(store.caCertFile, "ca_file"),
    timeout: String(o.timeout ?? 2),
    users: usersText || "    # (no client certificates yet)",
  });
  return { text, users, server, warnings };
}
