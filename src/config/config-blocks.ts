/**
 * `config nats`'s opt-in server-to-server and listener blocks (issue 10): cluster {}, gateway {},
 * leafnodes {} (accept side with verify_and_map and its own users, and remotes), websocket {} and
 * mqtt {} with their own tls { verify_and_map }.
 *
 * Facts from nats-server 2.9.10 (server/opts.go, auth.go, leafnode.go) that shape what is written:
 *  - cluster and gateway tls {}: the server forces RequireAndVerifyClientCert and uses ca_file for
 *    both directions, whatever `verify` says. Every route and gateway connection therefore needs a
 *    certificate with clientAuth as well as serverAuth: a "peer" certificate (`server issue --peer`).
 *    verify_and_map there maps to the block's single authorization user only, so it is not emitted.
 *  - leafnodes tls { verify_and_map } with authorization { users }: the certificate is matched by
 *    exact string only (email, DNS, URI SANs, then Go's subject string; no DN-stage matching), and
 *    the leafnode lands in that user's account, which must be defined: else the server refuses to
 *    start ("cannot find local account ... specified in leafnode authorization"; `-t` passes), so
 *    config-writer.ts lists every leafnode user's account in the snippet's accounts {}.
 *  - a solicited connection (route, leafnode remote) checks the other server's certificate against
 *    the URL's host: an IP in the URL needs an IP SAN.
 *  - websocket {} needs tls {} (or no_tls); mqtt {} needs server_name and JetStream (or a cluster,
 *    gateway or leafnode config) in the server's own configuration.
 */
import { checkAccountName } from "../nats/permissions";
import { inputError } from "../errors";
import { CertRecord, Inventory } from "../store/store";
import type { ParsedCertificate } from "../pki/cert";
import { certOfRecord, type RecordCertificates } from "../lifecycle/pins";
import { quoteConfString } from "../nats/confstring";
import { natsUserFor, MapMode } from "../nats/user";
import { certSubjectViews } from "../nats/subject";
import { mapCertificate } from "../nats/mapping";
import { NEWEST_MODELLED } from "../nats/versions";

export interface ConfigBlocksOptions {
  /** The peer certificate (serverAuth + clientAuth) for cluster, gateway and leafnode blocks (default: the newest valid one). */
  peer?: string;
  clusterName?: string;
  clusterListen?: string;
  /** Route URLs (nats-route://host:port); each item may hold several, comma-separated. */
  routes?: string[];
  gatewayName?: string;
  gatewayListen?: string;
  /** NAME=URL[,URL...] */
  gateways?: string[];
  leafnodesListen?: string;
  /** Store names whose certificates may connect as leafnodes: NAME or NAME=ACCOUNT. */
  leafnodeUsers?: string[];
  /** URLs this server solicits leafnode connections to (presenting the peer certificate). */
  leafnodeRemotes?: string[];
  websocketListen?: string;
  mqttListen?: string;
}

export interface LeafnodeUser {
  name: string;
  serial: string;
  user: string;
  account: string | null;
  kind: "email" | "dns" | "uri" | "subject";
}

export interface ConfigBlocks {
  /** The blocks' text (empty when none was asked for), to append after authorization {}. */
  text: string;
  /** The peer certificate used, or null when no block needs one. */
  peer: CertRecord | null;
  blocks: string[];
  leafnodeUsers: LeafnodeUser[];
  warnings: string[];
  notes: string[];
}

const NAME = /^[A-Za-z0-9_.-]+$/;
const isLive = (c: CertRecord, now: Date) => c.status === "valid" && new Date(c.notAfter) > now;

export function wantsBlocks(o: ConfigBlocksOptions): boolean {
  return [o.clusterName, o.clusterListen, o.gatewayName, o.gatewayListen, o.leafnodesListen, o.websocketListen, o.mqttListen].some((v) => v !== undefined) ||
    [o.routes, o.gateways, o.leafnodeUsers, o.leafnodeRemotes].some((v) => v !== undefined && v.length > 0);
}

/** HOST:PORT (or a bare PORT), as nats-server's `listen` takes it. */
export function checkListen(v: string, flag: string): string {
  const m = /^(?:(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+|[0-9A-Fa-f:]+:[0-9A-Fa-f:]*):)?(\d{1,5})$/.exec(v);
  if (!m || Number(m[2]) < 1 || Number(m[2]) > 65535) throw inputError(`${flag} "${v}": expected HOST:PORT (e.g. 127.0.0.1:6222) or a port from 1 to 65535`);
  return v;
}

function checkBlockName(v: string, flag: string): string {
  if (!NAME.test(v)) throw inputError(`${flag} "${v}": use letters, digits, ".", "_" and "-"`);
  return v;
}

/** A URL of one of `schemes` with a host and a port, and no credentials (secrets never go in option values). */
export function checkUrl(v: string, flag: string, schemes: string[]): string {
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    throw inputError(`${flag} "${v}": not a URL (expected e.g. ${schemes[0]}://host:port)`);
  }
  const scheme = u.protocol.replace(/:$/, "");
  if (!schemes.includes(scheme)) throw inputError(`${flag} "${v}": the scheme must be ${schemes.join(", ")}`);
  if (u.username || u.password) throw inputError(`${flag} "${v}": no credentials in the URL (the certificate authenticates)`);
  if (!u.hostname || !u.port) throw inputError(`${flag} "${v}": give a host and a port (${schemes[0]}://host:port)`);
  if ((u.pathname && u.pathname !== "/") || u.search || u.hash) throw inputError(`${flag} "${v}": only scheme://host:port`);
  return `${scheme}://${u.host}`;
}

const splitList = (items: string[] | undefined) => (items ?? []).flatMap((s) => s.split(",")).map((s) => s.trim()).filter((s) => s !== "");

/** The user string a certificate matches in leafnodes { authorization { users } } (exact strings only). */
export function leafnodeUserString(store: RecordCertificates, rec: CertRecord, map: MapMode = "auto"): { user: string; kind: LeafnodeUser["kind"] } | null {
  const cert = certOfRecord(store, rec);
  const nu = natsUserFor(cert, map);
  if (nu.user === null || nu.kind === null) return null;
  if (nu.kind === "email" || nu.kind === "dns" || nu.kind === "uri") return { user: nu.user, kind: nu.kind };
  // the subject: the leafnode table has no DN stage, only Go's subject string
  const go = certSubjectViews(cert).goSubjectString;
  return go ? { user: go, kind: "subject" } : null;
}

/**
 * The blocks asked for. `server` is the client-facing certificate (websocket, mqtt), `peer` choice
 * follows `o.peer`. Paths are absolute and every string is quoted with quoteConfString.
 */
export function buildConfigBlocks(
  store: ConfigStore,
  inv: Inventory,
  o: ConfigBlocksOptions,
  ctx: { server: CertRecord | null; timeout: number; now: Date; map?: MapMode },
): ConfigBlocks {
  const out: ConfigBlocks = { text: "", peer: null, blocks: [], leafnodeUsers: [], warnings: [], notes: [] };
  if (!wantsBlocks(o) && o.peer === undefined) return out;
  const q = (s: string, what: string) => quoteConfString(s, what);
  const routes = splitList(o.routes).map((r) => checkUrl(r, "--routes", ["nats-route", "nats", "tls"]));
  const remotes = splitList(o.leafnodeRemotes).map((r) => checkUrl(r, "--leafnode-remote", ["nats-leaf", "nats", "tls", "ws", "wss"]));
  const gateways = (o.gateways ?? []).map((g) => {
    const i = g.indexOf("=");
    if (i <= 0) throw inputError(`--gateways "${g}": expected NAME=URL[,URL...]`);
    const urls = splitList([g.slice(i + 1)]).map((u) => checkUrl(u, "--gateways", ["nats", "tls"]));
    if (!urls.length) throw inputError(`--gateways "${g}": no URL`);
    return { name: checkBlockName(g.slice(0, i), "--gateways"), urls };
  });
  if (o.clusterName !== undefined) checkBlockName(o.clusterName, "--cluster-name");
  if (o.gatewayName !== undefined) checkBlockName(o.gatewayName, "--gateway-name");
  for (const [v, f] of [[o.clusterListen, "--cluster-listen"], [o.gatewayListen, "--gateway-listen"], [o.leafnodesListen, "--leafnodes-listen"], [o.websocketListen, "--websocket-listen"], [o.mqttListen, "--mqtt-listen"]] as const)
    if (v !== undefined) checkListen(v, f);
  const cluster = o.clusterListen !== undefined;
  if (!cluster && (o.clusterName !== undefined || routes.length)) throw inputError("--cluster-name and --routes need --cluster-listen HOST:PORT (the port other nodes' routes connect to)");
  const gateway = o.gatewayListen !== undefined;
  if (!gateway && (o.gatewayName !== undefined || gateways.length)) throw inputError("--gateway-name and --gateways need --gateway-listen HOST:PORT");
  if (gateway && o.gatewayName === undefined) throw inputError("--gateway-listen needs --gateway-name (nats-server: gateway has no name)");
  if (gateway && o.clusterName !== undefined && o.clusterName !== o.gatewayName) throw inputError(`--cluster-name "${o.clusterName}" and --gateway-name "${o.gatewayName}" differ: nats-server refuses the config (cluster name conflicts between cluster and gateway definitions)`);
  const leafAccept = o.leafnodesListen !== undefined;
  if (!leafAccept && o.leafnodeUsers?.length) throw inputError("--leafnode-user needs --leafnodes-listen HOST:PORT (the port leafnodes connect to)");

  // the peer certificate: serverAuth + clientAuth
  const needsPeer = cluster || gateway || leafAccept || remotes.length > 0 || o.peer !== undefined;
  let peer: CertRecord | null = null;
  if (needsPeer) {
    const servers = inv.certificates.filter((c) => c.kind === "server" && isLive(c, ctx.now));
    if (o.peer !== undefined) {
      const rec = servers.find((c) => c.name === o.peer);
      if (!rec) throw inputError(`no valid server certificate named "${o.peer}"`, store.inventoryFile);
      if (rec.profile !== "peer")
        throw inputError(`"${o.peer}" is a server certificate without clientAuth: routes, gateways and leafnodes need both (mtlsctl server issue ${o.peer} --peer --force ...)`, store.inventoryFile);
      peer = rec;
    } else {
      peer = servers.filter((c) => c.profile === "peer").sort((a, b) => b.notBefore.localeCompare(a.notBefore) || b.issuedAt.localeCompare(a.issuedAt))[0] ?? null;
      if (!peer) throw inputError("no valid peer certificate in the store: run `mtlsctl server issue NAME --peer --dns HOST` (serverAuth + clientAuth) first", store.inventoryFile);
    }
    if (!peer.keyFile) throw inputError(`peer certificate "${peer.name}" has no key in the store`, store.inventoryFile);
  }
  out.peer = peer;
  if (store.presentedChain().length)
    out.warnings.push(`the store is an intermediate CA: each cert_file must hold the certificate followed by ${store.chainFile} (nats-server sends only what cert_file holds)`);

  const ca = q(store.trustFile, "ca_file");
  const files = (rec: CertRecord) => [`cert_file: ${q(store.path(rec.certFile), "cert_file")}`, `key_file: ${q(store.path(rec.keyFile!), "key_file")}`, `ca_file: ${ca}`];
  const tls = (lines: string[], indent: string) => `${indent}tls {\n${lines.map((l) => `${indent}  ${l}`).join("\n")}\n${indent}}`;
  const peerTls = (indent: string) => tls([...files(peer!), "verify: true", `timeout: ${ctx.timeout}`], indent);
  const parts: string[] = [];

  if (cluster) {
    const lines = [
      "# Routes: nats-server requires a certificate from ca_file on every route, in both directions",
      "# (serverAuth and clientAuth: a peer certificate from `mtlsctl server issue NAME --peer`).",
      "cluster {",
      ...(o.clusterName !== undefined ? [`  name: ${q(o.clusterName, "--cluster-name")}`] : []),
      `  listen: ${q(o.clusterListen!, "--cluster-listen")}`,
      peerTls("  "),
      ...(routes.length ? ["  routes = [", ...routes.map((r) => `    ${q(r, "--routes")}`), "  ]"] : []),
      "}",
    ];
    parts.push(lines.join("\n"));
    out.blocks.push("cluster");
  }
  if (gateway) {
    const lines = [
      "# Gateways: like routes, every gateway connection presents a certificate from ca_file.",
      "gateway {",
      `  name: ${q(o.gatewayName!, "--gateway-name")}`,
      `  listen: ${q(o.gatewayListen!, "--gateway-listen")}`,
      peerTls("  "),
      ...(gateways.length
        ? ["  gateways = [", ...gateways.map((g) => `    { name: ${q(g.name, "--gateways")}, urls: [${g.urls.map((u) => q(u, "--gateways")).join(", ")}] }`), "  ]"]
        : []),
      "}",
    ];
    parts.push(lines.join("\n"));
    out.blocks.push("gateway");
  }
  if (leafAccept || remotes.length) {
    const users: LeafnodeUser[] = [];
    const seen = new Map<string, string>();
    for (const spec of o.leafnodeUsers ?? []) {
      const i = spec.indexOf("=");
      const name = i < 0 ? spec : spec.slice(0, i);
      const account = i < 0 ? null : spec.slice(i + 1);
      if (account !== null && account === "") throw inputError(`--leafnode-user "${spec}": expected NAME or NAME=ACCOUNT`);
      const rec = inv.certificates.find((c) => c.name === name && isLive(c, ctx.now));
      if (!rec) throw inputError(`--leafnode-user: no valid certificate named "${name}" in the store`, store.inventoryFile);
      const lu = leafnodeUserString(store, rec, ctx.map);
      if (!lu) throw inputError(`--leafnode-user ${name}: the certificate has no email, DNS or URI SAN and no subject to map by`, store.inventoryFile);
      const prev = seen.get(lu.user);
      if (prev !== undefined) throw inputError(`--leafnode-user ${name} maps to the same user as ${prev} (${JSON.stringify(lu.user)}): nats-server refuses duplicate leafnode users`);
      seen.set(lu.user, name);
      q(lu.user, `${name}'s leafnode user string`);
      // $G and $SYS always exist; any other account is defined in this snippet's accounts {}
      if (account !== null && account !== "$G" && account !== "$SYS") checkAccountName(account, "--leafnode-user account");
      else if (account !== null) q(account, "--leafnode-user account");
      if (rec.kind === "server" && rec.profile !== "peer") out.warnings.push(`--leafnode-user ${name}: a server certificate without clientAuth cannot connect as a leafnode (the hub verifies it as a TLS client)`);
      users.push({ name, serial: rec.serial, user: lu.user, account, kind: lu.kind });
    }
    // each listed certificate must map to its own entry under the exact-string rules
    if (users.length) {
      const table = users.map((u) => ({ user: u.user, account: u.account }));
      for (const u of users) {
        const rec = inv.certificates.find((c) => c.name === u.name && isLive(c, ctx.now))!;
        const m = mapCertificate(certOfRecord(store, rec), table, NEWEST_MODELLED, "LEAFNODE", true);
        if (m.candidates[0]?.user !== u.user)
          out.warnings.push(`--leafnode-user ${u.name}: nats-server would map it to ${m.candidates.length ? JSON.stringify(m.candidates[0].user) : "no user"}, not to its own entry ${JSON.stringify(u.user)}`);
      }
    }
    out.leafnodeUsers = users;
    const lines = ["leafnodes {"];
    if (leafAccept) {
      lines.unshift(
        "# Leafnodes: a leafnode connects with a certificate from ca_file; with verify_and_map it becomes the",
        "# users[] entry whose user string equals its first email SAN, DNS SAN, URI SAN or Go's subject string",
        "# (exact strings only, no DN matching), in that entry's account.",
      );
      lines.push(`  listen: ${q(o.leafnodesListen!, "--leafnodes-listen")}`);
      lines.push(tls([...files(peer!), users.length ? "verify_and_map: true" : "verify: true", `timeout: ${ctx.timeout}`], "  "));
      if (users.length)
        lines.push(
          "  authorization {",
          "    users = [",
          ...users.map((u) => `      # ${u.name}: by ${u.kind === "subject" ? "subject (Go string)" : u.kind}, serial ${u.serial}\n      { user: ${q(u.user, u.name)}${u.account !== null ? `, account: ${q(u.account, "account")}` : ""} }`),
          "    ]",
          "  }",
        );
      else out.notes.push("leafnodes: no --leafnode-user, so the tls block has verify (any certificate from this CA) and no mapping");
    }
    if (remotes.length) {
      lines.push("  # Leafnode connections this server makes, presenting the peer certificate", "  remotes = [");
      for (const r of remotes) lines.push("    {", `      url: ${q(r, "--leafnode-remote")}`, tls([...files(peer!), `timeout: ${ctx.timeout}`], "      "), "    }");
      lines.push("  ]");
    }
    lines.push("}");
    parts.push(lines.join("\n"));
    out.blocks.push("leafnodes");
  }
  const listener = (kind: "websocket" | "mqtt", listen: string) => {
    if (!ctx.server) throw inputError(`--${kind}-listen: no valid server certificate in the store for its tls block (run \`mtlsctl server issue NAME --dns HOST\`)`, store.inventoryFile);
    if (!ctx.server.keyFile) throw inputError(`server certificate "${ctx.server.name}" has no key in the store`, store.inventoryFile);
    const head =
      kind === "websocket"
        ? ["# Websocket clients: their own tls block maps their certificates to the users above."]
        : ["# MQTT clients: their own tls block maps their certificates to the users above.", "# nats-server also needs server_name and JetStream (jetstream {}) in its own configuration for MQTT."];
    parts.push([...head, `${kind} {`, `  listen: ${q(listen, `--${kind}-listen`)}`, tls([...files(ctx.server), "verify_and_map: true", `timeout: ${ctx.timeout}`], "  "), "}"].join("\n"));
    out.blocks.push(kind);
  };
  if (o.websocketListen !== undefined) listener("websocket", o.websocketListen);
  if (o.mqttListen !== undefined) {
    listener("mqtt", o.mqttListen);
    out.notes.push("mqtt: nats-server refuses an mqtt {} block unless its configuration sets server_name and enables JetStream (or has a cluster, gateway or leafnode block)");
  }
  out.text = parts.length ? "\n\n" + parts.join("\n\n") : "";
  return out;
}

/** What the config writers read of a store (the file store, or a database store's view). */
export interface ConfigStore extends RecordCertificates {
  /** Named in the snippet's header. */
  readonly dir: string;
  /** Names errors about the inventory. */
  readonly inventoryFile: string;
  /** The server's ca_file: the trust anchors. */
  readonly trustFile: string;
  /** The chain file a cert_file must end with (intermediate stores). */
  readonly chainFile: string;
  readInventory(): Inventory;
  presentedChain(): ParsedCertificate[];
}
