/**
 * `config nats`: the client tls {} block and the authorization users, written so that the server
 * reads back exactly the intended strings (quoteConfString) and each user appears once.
 */
import * as path from "node:path";
import { CertRecord, caOf, type Inventory } from "../store/store";
import type { ParsedCertificate } from "../pki/cert";
import { natsUserFor, MapMode, NatsUser } from "../nats/user";
import { quoteConfString } from "../nats/confstring";
import { renderTemplate } from "../templates";
import { inputError } from "../errors";
import { certOfRecord, spkiPin, type RecordCertificates } from "../lifecycle/pins";
import { ocspUrls } from "../verify/ocsp-peer";
import { buildConfigBlocks, ConfigBlocks, ConfigBlocksOptions } from "./config-blocks";
import { nkeyUsersFor, nkeyUserEntry, permissionsFrom, NkeyUser, Permissions } from "../nkeys/config";
import { layoutUsers } from "../nats/config-accounts";
import { checkStoredPermissions, describePermissions } from "../nats/permissions";

export interface NatsConfigOptions {
  map?: MapMode;
  include?: string[];
  exclude?: string[];
  server?: string;
  /**
   * The server's own certificate and key files, where it keeps them (an agent-kept pair: its key never
   * was in the store): the tls blocks name these instead of the store's copies.
   */
  certFile?: string;
  keyFile?: string;
  timeout?: number;
  includeHint?: string;
  version: string;
  now?: Date;
  /**
   * Emit `pinned_certs` in the tls block: the key pins of the listed clients' certificates (and of
   * their superseded, unexpired ones). nats-server has no CRL option; pinning is what it checks.
   */
  pinned?: boolean;
  /** `config nats --ocsp-peer`: emit `ocsp_peer { verify: true }` in the tls block (nats-server 2.9.21 on). */
  ocspPeer?: boolean;
  /** --allow-pub / --allow-sub: per-user publish / subscribe allow lists, for every listed user (certificate or NKey). */
  allowPub?: string[];
  allowSub?: string[];
  /** --deny-pub / --deny-sub: the same default's deny lists. A user with its own permissions (client set ...) gets those instead. */
  denyPub?: string[];
  denySub?: string[];
  /** Opt-in cluster, gateway, leafnodes, websocket and mqtt blocks (src/nats/config-blocks.ts). */
  blocks?: ConfigBlocksOptions;
}

export interface Pin {
  /** Lower-case hex SHA-256 of the certificate's SubjectPublicKeyInfo. */
  sha256: string;
  /** The certificates with that key (a renewal without --rekey keeps the key). */
  certificates: { name: string; serial: string; status: string }[];
}

export interface MappedUser {
  name: string;
  serial: string;
  user: string;
  kind: NonNullable<NatsUser["kind"]>;
  /** Its NATS account (accounts {}), or null for the global users list. */
  account: string | null;
  /** The permissions written for it: its own, else the config-wide default; null for none. */
  permissions: Permissions | null;
}

export interface NatsConfig {
  text: string;
  users: MappedUser[];
  server: CertRecord | null;
  warnings: string[];
  /** With `pinned`: the pins, in the snippet's order; else null. */
  pins: Pin[] | null;
  /** Notes for people (stderr), e.g. what pinning does. */
  notes: string[];
  /** The NKey users listed after the certificate users. */
  nkeys: NkeyUser[];
  /** The default permissions (--allow-pub ...), given to every listed user without its own, or null. */
  permissions: Permissions | null;
  /** The accounts {} written: each account with its users' store names. */
  accounts: { name: string; users: string[] }[];
  /** The opt-in server-to-server and listener blocks. */
  blocks: ConfigBlocks;
}

/**
 * What `config nats` reads of a store: the file store (Store) as it is, or a view over another store
 * (a database's, src/api/db-store.ts: its inventory and certificates read beforehand, the files the
 * server reads named by the caller).
 */
export type { ConfigStore } from "./config-blocks";
import type { ConfigStore } from "./config-blocks";

const isLive = (c: CertRecord, now: Date) => c.status === "valid" && new Date(c.notAfter) > now;

export function natsUserOfRecord(store: RecordCertificates, rec: CertRecord, map: MapMode = "auto"): NatsUser {
  return natsUserFor(certOfRecord(store, rec), map);
}

export function buildNatsConfig(store: ConfigStore, o: NatsConfigOptions): NatsConfig {
  const now = o.now ?? new Date();
  const inv = store.readInventory();
  const warnings: string[] = [];
  const known = new Set([...inv.certificates.map((c) => c.name), ...(inv.nkeys ?? []).map((k) => k.name)]);
  for (const n of [...(o.include ?? []), ...(o.exclude ?? [])]) if (!known.has(n)) throw inputError(`no certificate or NKey named "${n}" in the store`, store.inventoryFile);
  const perms = permissionsFrom({ allowPub: o.allowPub, allowSub: o.allowSub, denyPub: o.denyPub, denySub: o.denySub });

  // server certificate: the chosen one, else the newest valid one
  const servers = inv.certificates.filter((c) => c.kind === "server" && isLive(c, now));
  // ca retire: a certificate signed by a retired CA fails at the TLS handshake (roots.pem no longer has its CA)
  const retiredCa = (c: CertRecord) => caOf(inv, c).status === "retired";
  let server: CertRecord | null = null;
  if (o.server) {
    server = servers.find((c) => c.name === o.server) ?? null;
    if (!server) throw inputError(`no valid server certificate named "${o.server}"`, store.inventoryFile);
  } else server = servers.sort((a, b) => Number(retiredCa(a)) - Number(retiredCa(b)) || b.notBefore.localeCompare(a.notBefore) || b.issuedAt.localeCompare(a.issuedAt))[0] ?? null;
  if (server && retiredCa(server))
    warnings.push(`server certificate "${server.name}" was signed by a retired CA (serial ${caOf(inv, server).serial}): clients that trust roots.pem refuse it (mtlsctl renew ${server.name})`);
  if (!server) warnings.push("no valid server certificate in the store: the tls block has no cert_file/key_file (run `mtlsctl server issue NAME --dns HOST`)");
  if ((o.certFile === undefined) !== (o.keyFile === undefined)) throw inputError("--cert-file and --key-file go together (the server's own certificate and key files)");
  if (server && o.certFile !== undefined) server = { ...server, certFile: path.resolve(o.certFile), keyFile: path.resolve(o.keyFile!), chainFile: null };
  if (server && !server.keyFile)
    throw inputError(`server certificate "${server.name}" has no key in the store (it was enrolled or signed elsewhere): name the server's own files with --cert-file F --key-file F, or choose another with --server NAME`, store.inventoryFile);

  const users: MappedUser[] = [];
  const seen = new Map<string, string>();
  const mapped = new Set<string>(); // every client that maps to a listed user (duplicates too)
  const clients = inv.certificates
    .filter((c) => c.kind === "client" && isLive(c, now))
    .filter((c) => !o.include?.length || o.include.includes(c.name))
    .filter((c) => !o.exclude?.includes(c.name))
    .sort((a, b) => a.name.localeCompare(b.name));
  for (const c of clients) {
    if (retiredCa(c)) {
      warnings.push(`${c.name}: left out, it was signed by a retired CA (serial ${caOf(inv, c).serial}) and is refused at the handshake: renew it (mtlsctl renew ${c.name})`);
      continue;
    }
    const nu = natsUserOfRecord(store, c, o.map ?? "auto");
    for (const n of nu.notes) warnings.push(`${c.name}: ${n}`);
    if (nu.user === null || nu.kind === null) {
      warnings.push(`${c.name}: left out, it cannot be mapped${o.map ? ` by ${o.map}` : ""}`);
      continue;
    }
    quoteConfString(nu.user, `${c.name}'s user string`); // refuse what cannot be expressed
    mapped.add(c.name);
    const account = typeof c.account === "string" ? c.account : null;
    const own = checkStoredPermissions(c.permissions, c.name, store.inventoryFile);
    const prev = seen.get(nu.user);
    if (prev !== undefined) {
      const first = users.find((u) => u.name === prev)!;
      const differs = first.account !== account || describePermissions(first.permissions) !== describePermissions(own ?? perms);
      warnings.push(
        `${c.name} maps to the same user as ${prev} (${JSON.stringify(nu.user)}): listed once${differs ? `, with ${prev}'s account and permissions (nats-server refuses a user string listed twice, even in two accounts)` : ""}`,
      );
      continue;
    }
    seen.set(nu.user, c.name);
    users.push({ name: c.name, serial: c.serial, user: nu.user, kind: nu.kind, account, permissions: own ?? perms });
  }
  const nkeyUsers = nkeyUsersFor(inv, o, store.inventoryFile, perms);
  if (users.length === 0 && nkeyUsers.length === 0) warnings.push("no client users: with an empty users list nats-server requires no authentication at all");
  if (users.length === 0 && nkeyUsers.length > 0)
    warnings.push('only NKey users: a client that sends no nkey has no certificate user to map to and is refused (authentication error - Nkey "")');

  // Revocation: nats-server reads no CRL. A revoked certificate is refused only because its user is
  // no longer listed, or, with --pinned, because its key is not pinned.
  const notes: string[] = [];
  const overlapCas = (inv.previousCas ?? []).filter((p) => p.caStatus === "overlap");
  if (overlapCas.length) {
    const old = users.filter((u) => caOf(inv, inv.certificates.find((c) => c.serial === u.serial)!).status === "overlap").length;
    notes.push(
      `CA rollover overlap: ca_file (roots.pem) trusts the current CA and ${overlapCas.length} previous one(s); ${old} listed client(s) still have a certificate of a previous CA: renew them, then mtlsctl ca retire --all-previous`,
    );
  }
  const pinMap = new Map<string, Pin>();
  if (o.pinned) {
    const pinnable = inv.certificates.filter(
      (c) => c.kind === "client" && mapped.has(c.name) && (isLive(c, now) || (c.status === "superseded" && new Date(c.notAfter) > now)),
    );
    for (const c of pinnable.sort((a, b) => a.name.localeCompare(b.name) || a.issuedAt.localeCompare(b.issuedAt))) {
      const pin = spkiPin(certOfRecord(store, c));
      const p = pinMap.get(pin) ?? { sha256: pin, certificates: [] };
      p.certificates.push({ name: c.name, serial: c.serial, status: c.status });
      pinMap.set(pin, p);
    }
    if (pinMap.size === 0) warnings.push("--pinned: no client certificate to pin, so no pinned_certs list (an empty one would refuse every client)");
    notes.push(
      `nats-server has no CRL support (it never reads crl.pem); pinned_certs is the allow-list it does check: ${pinMap.size} client key(s) pinned. Regenerate this snippet and reload the server after every issue, renew and revoke.`,
    );
  }
  const revoked = inv.certificates.filter((c) => c.kind === "client" && c.status === "revoked" && new Date(c.notAfter) > now);
  for (const c of revoked) {
    const cert = certOfRecord(store, c);
    const pin = spkiPin(cert);
    if (o.pinned) {
      if (pinMap.has(pin))
        warnings.push(`revoked ${c.name} (serial ${c.serial}) has the same key as a pinned certificate: nats-server cannot refuse it by pinning (renew with --rekey)`);
      continue;
    }
    const nu = natsUserFor(cert, o.map ?? "auto");
    const user = nu.user !== null ? users.find((u) => u.user === nu.user) : undefined;
    if (user)
      warnings.push(
        `revoked ${c.name} (serial ${c.serial}) still maps to the listed user ${JSON.stringify(user.user)} and nats-server has no CRL support: it would be accepted (use --pinned)`,
      );
  }
  if (!o.pinned && revoked.length)
    notes.push(
      `nats-server has no CRL support: ${revoked.length} revoked client certificate(s) are refused only because no listed user matches them; add --pinned to also refuse them at the TLS handshake (pinned_certs)`,
    );

  const q = (s: string, what: string) => quoteConfString(s, what);
  const serverCert = server
    ? `  cert_file: ${q(store.path(server.chainFile ?? server.certFile), "cert_file")}\n  key_file: ${q(store.path(server.keyFile!), "key_file")}`
    : "  # no server certificate in the store yet: run `mtlsctl server issue NAME --dns HOST`, then regenerate";
  const blocks = buildConfigBlocks(store, inv, o.blocks ?? {}, { server, timeout: o.timeout ?? 2, now, map: o.map });
  warnings.push(...blocks.warnings);
  notes.push(...blocks.notes);
  const layout = layoutUsers(
    [
      ...users.map((u) => ({ name: u.name, comment: `${u.name}: by ${u.kind === "subject" ? "subject (Go string)" : u.kind}, serial ${u.serial}`, head: `user: ${q(u.user, u.name)}`, account: u.account, permissions: u.permissions })),
      ...nkeyUsers.map(nkeyUserEntry),
    ],
    store.inventoryFile,
    "    # (no client certificates yet)",
    blocks.leafnodeUsers.map((u) => u.account).filter((a): a is string => a !== null),
  );
  warnings.push(...layout.warnings);
  if (nkeyUsers.length)
    notes.push(
      `${nkeyUsers.length} NKey user(s): nats-server checks a client's nkey before its certificate (the certificate is then not mapped, and an unknown nkey is refused); verify_and_map still asks every client for a certificate from this CA at the TLS handshake, NKey clients too`,
    );
  if (o.ocspPeer) {
    if (!inv.urls?.ocsp) warnings.push("--ocsp-peer: the CA has no OCSP URL (mtlsctl ca set --ocsp-url URL), so its certificates name no responder and the server checks none of them");
    const without = users.filter((u) => {
      try {
        return ocspUrls(certOfRecord(store, inv.certificates.find((c) => c.serial === u.serial)!)).length === 0;
      } catch {
        return false;
      }
    });
    if (without.length)
      warnings.push(`--ocsp-peer: ${without.length} listed certificate(s) name no OCSP responder (${without.map((u) => u.name).join(", ")}): the server lets them in without asking; renew them after ca set --ocsp-url`);
  }
  const text = renderTemplate("nats.conf", {
    version: o.version,
    date: now.toISOString(),
    store: store.dir.replace(/[\r\n]/g, "?"),
    include_hint: (o.includeHint ?? "mtls.conf").replace(/[\r\n]/g, "?"),
    server_cert: serverCert,
    ca_file: q(store.trustFile, "ca_file"),
    timeout: String(o.timeout ?? 2),
    pinned: o.pinned ? pinnedText([...pinMap.values()], q) : "",
    ocsp_peer: o.ocspPeer ? OCSP_PEER_TEXT(o.timeout ?? 2) : "",
    users: layout.usersText,
    accounts: layout.accountsText,
    blocks: blocks.text,
  });
  return { text, users, server, warnings, pins: o.pinned ? [...pinMap.values()] : null, notes, nkeys: nkeyUsers, permissions: perms, accounts: layout.accounts, blocks };
}

/** The tls block's ocsp_peer (after timeout and pinned_certs), with its comment. */
const OCSP_PEER_TEXT = (timeout: number): string =>
  [
    "",
    "  # ocsp_peer (nats-server 2.9.21 and later): at each handshake the server asks the OCSP responder",
    "  # named in the client's certificate (AIA: mtlsctl ca set --ocsp-url; mtlsctl serve --http-listen",
    "  # answers) and refuses a revoked or unknown certificate, and every one while the responder cannot",
    "  # be reached. Its response cache (on by default) reuses a good answer until its nextUpdate (1 h",
    "  # from mtlsctl serve): put  ocsp_cache: false  in the main config to ask at every handshake.",
    "  ocsp_peer {",
    "    verify: true",
    `    ca_timeout: ${Math.min(timeout, 2)}`,
    "  }",
  ].join("\n");

/** The tls block's pinned_certs list (placed after `timeout`), with its comment. */
function pinnedText(pins: Pin[], q: (s: string, what: string) => string): string {
  const head =
    "\n  # nats-server has no CRL support: it never reads crl.pem, so revoking a certificate does not stop it." +
    "\n  # pinned_certs is the allow-list it does check: after the handshake it refuses any client whose key" +
    "\n  # (SHA-256 of the SubjectPublicKeyInfo) is not listed (\"certificate not pinned\")." +
    "\n  # Regenerate this snippet and reload the server after every issue, renew and revoke.";
  if (pins.length === 0) return head + "\n  # (no client certificate to pin: no pinned_certs list, which would refuse everyone)";
  const items = pins.map((p) => `    # ${p.certificates.map((c) => `${c.name} serial ${c.serial}${c.status === "valid" ? "" : ` (${c.status})`}`).join(", ")}\n    ${q(p.sha256, "pin")}`);
  return `${head}\n  pinned_certs: [\n${items.join("\n")}\n  ]`;
}
