/**
 * Certificate findings (`lint --certs DIR | --store`): each certificate run through the verifier
 * against the config (TLS stage, mapping, password), plus expiry and EKU.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { ParsedCertificate } from "../pki/cert";
import { readCertificates } from "../pki/cert";
import { OID } from "../asn1/oids";
import { verifyConnection, VerifierConfig } from "../verify/verdict";
import { natsUserFor, MAP_MODES } from "../nats/user";
import { certSubjectViews } from "../nats/subject";
import { goX509UriString } from "../nats/gourl";
import { tryParseDn, type LdapDn } from "../nats/ldapdn";
import { inputError } from "../errors";
import { certOfRecord, spkiPin } from "../lifecycle/pins";
import type { Store } from "../store/store";
import type { Finding } from "./codes";
import { finding } from "./config";
import { analyzeUserDn, canonicalDn } from "./dn";

export interface LintCert {
  file: string;
  leaf: ParsedCertificate;
  intermediates: ParsedCertificate[];
  /** The store's name for it (with --store). */
  name?: string;
  /** The user string the inventory intends (`list --json` natsUser), with --store. */
  intended?: string | null;
}

const DAY = 86_400_000;
export const EXPIRING_DAYS = 30;
const q = (s: string) => JSON.stringify(s);

/** `--certs DIR`: every .crt / .pem file (leaf first, then intermediates); files without a certificate are findings. */
export function certsFromDir(dir: string): { certs: LintCert[]; findings: Finding[] } {
  let names: string[];
  try {
    if (!fs.statSync(dir).isDirectory()) throw inputError("--certs needs a directory", dir);
    names = fs.readdirSync(dir).filter((n) => /\.(crt|pem|cer)$/i.test(n)).sort();
  } catch (e) {
    if ((e as { exitCode?: number }).exitCode) throw e;
    throw inputError("cannot read the --certs directory", dir);
  }
  const certs: LintCert[] = [];
  const findings: Finding[] = [];
  for (const n of names) {
    const file = path.join(dir, n);
    let parsed: ParsedCertificate[] = [];
    try {
      parsed = readCertificates(fs.readFileSync(file), file);
    } catch {
      parsed = [];
    }
    if (!parsed.length) {
      findings.push(finding("NATS049", { file, line: null }, "holds no certificate that can be read (skipped)", "keep only PEM or DER certificates in the --certs directory"));
      continue;
    }
    certs.push({ file, leaf: parsed[0], intermediates: parsed.slice(1) });
  }
  return { certs, findings };
}

/** `--store`: the store's valid client certificates, with the user the inventory intends for each. */
export function certsFromStore(store: Store): { certs: LintCert[]; pins: Map<string, { name: string; status: string }[]> } {
  const inv = store.readInventory();
  const certs: LintCert[] = [];
  const pins = new Map<string, { name: string; status: string }[]>();
  for (const rec of inv.certificates) {
    if (rec.kind !== "client") continue;
    let cert: ParsedCertificate;
    try {
      cert = certOfRecord(store, rec);
    } catch {
      continue; // a superseded or revoked record whose file is gone
    }
    const pin = spkiPin(cert);
    pins.set(pin, [...(pins.get(pin) ?? []), { name: rec.name, status: rec.status }]);
    if (rec.status !== "valid") continue;
    certs.push({ file: store.path(rec.certFile), leaf: cert, intermediates: [], name: rec.name, intended: natsUserFor(cert).user });
  }
  return { certs, pins };
}

/** Every string the certificate itself can be mapped by (its SANs, its subject views, what `config nats` would write). */
function ownIdentities(c: ParsedCertificate): Set<string> {
  const out = new Set<string>([...c.sans.email, ...c.sans.dns]);
  for (const u of c.sans.uri) {
    const s = goX509UriString(u);
    if (s !== null) out.add(s);
  }
  const views = certSubjectViews(c);
  const go = views.goSubjectString;
  if (go) out.add(go);
  const dc = views.goDcString;
  if (dc) out.add(dc);
  const dn = views.dnStageString;
  if (dn) out.add(dn);
  for (const m of MAP_MODES) {
    const u = natsUserFor(c, m).user;
    if (u) out.add(u);
  }
  return out;
}

const msKey = (dn: LdapDn) => JSON.stringify(dn.map((r) => JSON.stringify([r.length, [...new Set(r.map((a) => JSON.stringify([a.type, a.value])))].sort()])).sort());

/** Whether a DN-stage user is the certificate's own subject written another way (same RDNs, no quirk). */
function sameSubject(user: string, c: ParsedCertificate): boolean {
  const certDn = certSubjectViews(c).dnStageBytes;
  const raw = tryParseDn(user);
  const dn = raw && canonicalDn(raw);
  if (!certDn || !dn || dn.length !== certDn.length) return false;
  return msKey(dn) === msKey(certDn) && analyzeUserDn(user).length === 0;
}

export interface CertLintOptions {
  version: string;
  serverCwd: string;
  now?: Date;
  /** Where each user is configured, for messages. */
  userWhere: Map<string, string>;
}

export function lintCerts(certs: LintCert[], cfg: VerifierConfig, o: CertLintOptions): Finding[] {
  const out: Finding[] = [];
  const now = o.now ?? new Date();
  // model the restarts where verify_and_map wins (NATS023 reports the others)
  const tls = cfg.tls ? { ...cfg.tls, mapVerifyConflict: false } : null;
  const model: VerifierConfig = { ...cfg, tls };
  const named = (u: string) => `${q(u)}${o.userWhere.has(u) ? ` (${o.userWhere.get(u)})` : ""}`;
  for (const c of certs) {
    const pos = { file: c.file, line: null };
    const label = c.name ? `certificate ${q(c.name)}` : "the certificate";
    const intended = c.intended !== undefined ? c.intended : natsUserFor(c.leaf).user;
    const reported = new Set<string>();
    const add = (f: Finding) => {
      reported.add(f.code);
      out.push(f);
    };
    if (tls && (tls.verify || tls.verifyAndMap)) {
      const v = verifyConnection(c.leaf, c.intermediates, model, { version: o.version, serverCwd: o.serverCwd, now });
      if (v.stage === "tls") {
        const failed = v.tlsChecks?.find((s) => !s.ok)?.name;
        if (failed === "eku") add(finding("NATS044", pos, `${label}: the server refuses it in the TLS handshake: ${v.reason} (Go requires clientAuth, or no EKU, on the leaf and on every CA above it)`, "issue it again as a client certificate (`mtlsctl client issue` sets clientAuth)"));
        else if (failed === "validity") add(finding("NATS045", pos, `${label}: the server refuses it in the TLS handshake: ${v.reason}`, "renew it (`mtlsctl renew NAME`)"));
        else add(finding("NATS043", pos, `${label}: the server refuses it in the TLS handshake: ${v.reason}`, "issue it from the CA in the config's ca_file, or add its CA to ca_file"));
      } else if (tls.verifyAndMap && v.stage === "map") {
        add(
          finding(
            "NATS040",
            pos,
            `${label} maps to no user: ${v.reason}${intended ? `; its user string would be ${q(intended)}, which the config does not list` : ""}, so its owner is locked out`,
            intended ? `add { user: ${q(intended)} } to the users (\`mtlsctl config nats\` writes it)` : "give the certificate an email, DNS or URI SAN or a subject, and list that string as a user",
          ),
        );
      } else if (tls.verifyAndMap && v.ambiguous) {
        add(finding("NATS041", pos, `${label} matches ${v.candidates.length} users equally (${v.candidates.map(named).join(", ")}): the server picks one at random on every connection`, "keep only one of these users"));
      } else if (tls.verifyAndMap && v.stage === "auth" && v.user) {
        add(finding("NATS046", pos, `${label} maps to ${named(v.user)}, which has a password: the client must send it too, or it is refused`, "remove the password from that user if the certificate alone should log in"));
      } else if (tls.verifyAndMap && v.accepted && v.user) {
        const own = ownIdentities(c.leaf);
        const isOwn = own.has(v.user) || ((v.matchedBy === "dn" || v.matchedBy === "dn-reordered") && sameSubject(v.user, c.leaf));
        if (!isOwn)
          add(
            finding(
              "NATS042",
              pos,
              `${label} logs in as ${named(v.user)} (by ${v.matchedBy}), which is not its own identity${intended ? ` (${c.intended !== undefined ? "the inventory's user" : "its user string"} is ${q(intended)})` : ""}: ${v.reason}`,
              `correct that user string (see \`mtlsctl lint\` findings on its line), or list ${intended ? q(intended) : "the certificate's own identity"} instead`,
            ),
          );
      }
    }
    // expiry and EKU, also when the TLS stage failed earlier (or no tls block checks them)
    const left = c.leaf.notAfter.getTime() - now.getTime();
    if (!reported.has("NATS045") && (left < 0 || c.leaf.notBefore.getTime() > now.getTime()))
      add(finding("NATS045", pos, `${label} is ${left < 0 ? `expired since ${c.leaf.notAfter.toISOString()}` : `not valid before ${c.leaf.notBefore.toISOString()}`}: the TLS handshake refuses it`, "renew it (`mtlsctl renew NAME`)"));
    else if (left >= 0 && left <= EXPIRING_DAYS * DAY)
      add(finding("NATS047", pos, `${label} expires on ${c.leaf.notAfter.toISOString()} (in ${Math.floor(left / DAY)} days): from then on the TLS handshake refuses it`, "renew it (`mtlsctl renew NAME`)"));
    const eku = c.leaf.extKeyUsage;
    if (!reported.has("NATS044") && eku && !eku.includes(OID.clientAuth) && !eku.includes(OID.anyExtendedKeyUsage))
      add(finding("NATS044", pos, `${label}: its extended key usage does not include clientAuth: Go's TLS stage refuses it ("x509: certificate specifies an incompatible key usage")`, "issue it again as a client certificate (`mtlsctl client issue` sets clientAuth)"));
  }
  return out;
}
