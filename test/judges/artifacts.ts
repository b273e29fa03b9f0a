/**
 * Every kind of artifact mtlsctl writes, made by the real CLI (bin/mtlsctl) in a temp dir, and a
 * manifest that tells each judge what the file is and what it must verify against (issue 21 §1).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { mtlsOk, openssl } from "../helpers/cli";
import { readInventory } from "../helpers/inventory";
import { FileStore } from "../../src/store/store";
import { openFileStore } from "../../src/store/file-api";
import { keySigner } from "../../src/pki/signer";
import { readCertificates } from "../../src/pki/cert";
import { createOcspResponder } from "../../src/service/ocsp";

export const KEY_TYPES = ["ec-p256", "ec-p384", "rsa-2048", "rsa-3072", "rsa-4096", "ed25519"] as const;

/** What an artifact is for the judges: the names are the kinds that allowed.txt / known-defects.txt use. */
export type Kind =
  | "root" | "intermediate" | "constrained-intermediate"
  | "client" | "server" | "peer"
  | "csr" | "crl-empty" | "crl-entries"
  | "p12" | "p12-legacy" | "truststore" | "truststore-legacy"
  | "ocsp";

export type Eku = "clientAuth" | "serverAuth";

export interface Artifact {
  /** unique, e.g. "root/rsa-4096" or "client/full-subject" */
  id: string;
  kind: Kind;
  /** absolute path of the file as mtlsctl wrote it */
  file: string;
  format: "pem" | "der";
  /** the certificate that signed it (certs, CRLs); the file itself for a root */
  issuer?: string;
  /** trust anchors and intermediates for a chain (leaf and CA certificates) */
  roots?: string[];
  intermediates?: string[];
  /** the extended key usages a verifier must accept the leaf for (every one of them) */
  eku?: Eku[];
  /** a DNS name a server certificate must be valid for */
  dns?: string;
  /** PKCS#12: its password */
  password?: string;
  /** CRL: the serials (lower-case hex) it must list */
  revoked?: string[];
  /** OCSP response: the serial (lower-case hex) it answers for, and the status it must give */
  serial?: string;
  ocspStatus?: "good" | "revoked" | "unknown";
  /** OCSP response, revoked: the reason code it must carry (null: none) */
  ocspReason?: number | null;
}

export const P12_PASSWORD = "judge-p12-pass";

/** Every SAN kind and a subject with every attribute mtlsctl writes (src/pki/name.ts). */
export const FULL_SUBJECT = "C=US,ST=California,L=San Francisco,STREET=1 Main Street,POSTALCODE=94105,O=Acme Corp,OU=Platform,CN=alice,SERIALNUMBER=E-1001";
export const ALL_SANS = ["--email", "alice@example.com", "--dns", "alice.example.com", "--uri", "spiffe://example.org/ns/prod/sa/alice", "--ip", "10.1.2.3", "--ip", "2001:db8::7"];

export function makeArtifacts(cwd: string): Artifact[] {
  const out: Artifact[] = [];
  const env = { MTLSCTL_PASSPHRASE: "judge-pass", MTLSCTL_ROOT_PASSPHRASE: "judge-pass", MTLSCTL_P12_PASSWORD: P12_PASSWORD, MTLSCTL_DIR: undefined };
  const cli = (args: string[]) => mtlsOk(args, { cwd, env });
  const crt = (dir: string, name: string) => path.join(dir, "issued", `${name}.crt`);
  const serialOf = (dir: string, name: string) => {
    const inv = readInventory(dir); // through the store: its records are no longer in inventory.json itself
    const list: { name: string; serial: string; kind?: string }[] = Array.isArray(inv) ? inv : inv.certificates ?? inv.entries ?? [];
    const e = list.filter((c) => c.name === name).pop();
    if (!e) throw new Error(`no ${name} in ${dir}/inventory.json`);
    return e.serial.toLowerCase();
  };

  // a root CA of each key type, each signing one client of its own key type (the leaf's signature is
  // then of that algorithm too)
  for (const key of KEY_TYPES) {
    const dir = path.join(cwd, `root-${key}`);
    cli(["ca", "init", "--dir", dir, "--name", `Judges Root ${key}`, "--key", key]);
    const ca = path.join(dir, "ca.crt");
    out.push({ id: `root/${key}`, kind: "root", file: ca, format: "pem", issuer: ca, roots: [ca] });
    cli(["client", "issue", `c-${key}`, "--dir", dir, "--key", key, "--email", `c-${key}@example.com`]);
    out.push({ id: `client/${key}`, kind: "client", file: crt(dir, `c-${key}`), format: "pem", issuer: ca, roots: [ca], eku: ["clientAuth"] });
    // an intermediate of the same key type under it (the root signs it; it signs a client of its own)
    const idir = path.join(cwd, `inter-${key}`);
    const ica = path.join(idir, "ca.crt");
    cli(["ca", "init", "--intermediate", "--root-dir", dir, "--dir", idir, "--name", `Judges Issuing ${key}`, "--key", key, "--path-len", "0"]);
    out.push({ id: `intermediate/${key}`, kind: "intermediate", file: ica, format: "pem", issuer: ca, roots: [ca] });
    cli(["client", "issue", `ci-${key}`, "--dir", idir, "--email", `ci-${key}@example.com`]);
    out.push({ id: `client/inter-${key}`, kind: "client", file: crt(idir, `ci-${key}`), format: "pem", issuer: ica, roots: [ca], intermediates: [ica], eku: ["clientAuth"] });
    if (key === "rsa-2048" || key === "ed25519") {
      // the key usage of a server and a peer depends on the key type (RSA: keyEncipherment too)
      cli(["server", "issue", `s-${key}`, "--dir", dir, "--key", key, "--dns", `s-${key}.example.com`]);
      out.push({ id: `server/${key}`, kind: "server", file: crt(dir, `s-${key}`), format: "pem", issuer: ca, roots: [ca], eku: ["serverAuth"], dns: `s-${key}.example.com` });
      cli(["server", "issue", `p-${key}`, "--dir", dir, "--key", key, "--peer", "--dns", `p-${key}.example.com`]);
      out.push({ id: `peer/${key}`, kind: "peer", file: crt(dir, `p-${key}`), format: "pem", issuer: ca, roots: [ca], eku: ["clientAuth", "serverAuth"], dns: `p-${key}.example.com` });
    }
  }

  // the main root (path length 1: one intermediate below it); leaves of every kind straight under it
  const root = path.join(cwd, "pki-root");
  const rootCa = path.join(root, "ca.crt");
  cli(["ca", "init", "--dir", root, "--subject", "CN=Judges Root,O=Acme Corp,C=US", "--path-len", "1"]);
  out.push({ id: "root/main", kind: "root", file: rootCa, format: "pem", issuer: rootCa, roots: [rootCa] });
  cli(["client", "issue", "alice", "--dir", root, "--subject", FULL_SUBJECT, ...ALL_SANS]);
  out.push({ id: "client/full", kind: "client", file: crt(root, "alice"), format: "pem", issuer: rootCa, roots: [rootCa], eku: ["clientAuth"] });
  cli(["server", "issue", "nats1", "--dir", root, "--dns", "nats1.example.com", "--dns", "localhost", "--ip", "127.0.0.1", "--ip", "::1"]);
  out.push({ id: "server/root", kind: "server", file: crt(root, "nats1"), format: "pem", issuer: rootCa, roots: [rootCa], eku: ["serverAuth"], dns: "nats1.example.com" });
  // internationalised names (issue 21): the DNS SAN and the email domain as A-labels (zlint's RFC5891 lints read them)
  cli(["client", "issue", "idn", "--dir", root, "--email", "bob@bücher.example", "--dns", "bücher.example"]);
  out.push({ id: "client/idn", kind: "client", file: crt(root, "idn"), format: "pem", issuer: rootCa, roots: [rootCa], eku: ["clientAuth"] });
  cli(["server", "issue", "nats-idn", "--dir", root, "--dns", "nats.bücher.example"]);
  out.push({ id: "server/idn", kind: "server", file: crt(root, "nats-idn"), format: "pem", issuer: rootCa, roots: [rootCa], eku: ["serverAuth"], dns: "nats.xn--bcher-kva.example" });
  cli(["server", "issue", "node1", "--dir", root, "--peer", "--dns", "node1.example.com"]);
  out.push({ id: "peer/root", kind: "peer", file: crt(root, "node1"), format: "pem", issuer: rootCa, roots: [rootCa], eku: ["clientAuth", "serverAuth"], dns: "node1.example.com" });

  // a root told its OCSP and CRL URLs (ca set): its leaves carry AIA id-ad-ocsp and a CRL distribution point
  const urls = path.join(cwd, "pki-urls");
  const urlsCa = path.join(urls, "ca.crt");
  cli(["ca", "init", "--dir", urls, "--name", "Judges Root URLs"]);
  out.push({ id: "root/urls", kind: "root", file: urlsCa, format: "pem", issuer: urlsCa, roots: [urlsCa] });
  cli(["ca", "set", "--dir", urls, "--ocsp-url", "http://ca.example.com:8080/ocsp", "--crl-url", "http://ca.example.com:8080/crl"]);
  cli(["client", "issue", "ursula", "--dir", urls, "--email", "ursula@example.com"]);
  out.push({ id: "client/urls", kind: "client", file: crt(urls, "ursula"), format: "pem", issuer: urlsCa, roots: [urlsCa], eku: ["clientAuth"] });
  cli(["server", "issue", "nats-urls", "--dir", urls, "--dns", "nats-urls.example.com"]);
  out.push({ id: "server/urls", kind: "server", file: crt(urls, "nats-urls"), format: "pem", issuer: urlsCa, roots: [urlsCa], eku: ["serverAuth"], dns: "nats-urls.example.com" });

  // an intermediate (no constraints) and its leaves
  const inter = path.join(cwd, "pki-inter");
  const interCa = path.join(inter, "ca.crt");
  cli(["ca", "init", "--intermediate", "--root-dir", root, "--dir", inter, "--name", "Judges Issuing", "--path-len", "0"]);
  out.push({ id: "intermediate/plain", kind: "intermediate", file: interCa, format: "pem", issuer: rootCa, roots: [rootCa] });
  const chain = { roots: [rootCa], intermediates: [interCa] };
  cli(["client", "issue", "bob", "--dir", inter, "--email", "bob@example.com"]);
  out.push({ id: "client/inter", kind: "client", file: crt(inter, "bob"), format: "pem", issuer: interCa, ...chain, eku: ["clientAuth"] });
  cli(["server", "issue", "nats2", "--dir", inter, "--dns", "nats2.example.com"]);
  out.push({ id: "server/inter", kind: "server", file: crt(inter, "nats2"), format: "pem", issuer: interCa, ...chain, eku: ["serverAuth"], dns: "nats2.example.com" });

  // a name-constrained intermediate of a second root: constraints of every kind, permitted and
  // excluded, and leaves within them
  const root2 = path.join(cwd, "pki-root2");
  const root2Ca = path.join(root2, "ca.crt");
  cli(["ca", "init", "--dir", root2, "--name", "Judges Root Two", "--key", "ec-p384", "--path-len", "1"]);
  out.push({ id: "root/two", kind: "root", file: root2Ca, format: "pem", issuer: root2Ca, roots: [root2Ca] });
  const nc = path.join(cwd, "pki-nc");
  const ncCa = path.join(nc, "ca.crt");
  cli([
    "ca", "init", "--intermediate", "--root-dir", root2, "--dir", nc, "--name", "Judges Constrained", "--path-len", "0",
    "--permit-dns", "example.com", "--exclude-dns", "bad.example.com",
    "--permit-email-domain", "example.com", "--exclude-email-domain", "root@example.com",
    "--permit-uri-domain", "example.org", "--exclude-uri-domain", "evil.example.org",
    "--permit-ip", "10.0.0.0/8", "--exclude-ip", "10.66.0.0/16", "--permit-ip", "2001:db8::/32",
  ]);
  out.push({ id: "intermediate/constrained", kind: "constrained-intermediate", file: ncCa, format: "pem", issuer: root2Ca, roots: [root2Ca] });
  const ncChain = { roots: [root2Ca], intermediates: [ncCa] };
  cli(["client", "issue", "alice", "--dir", nc, "--subject", FULL_SUBJECT, ...ALL_SANS]);
  out.push({ id: "client/constrained", kind: "client", file: crt(nc, "alice"), format: "pem", issuer: ncCa, ...ncChain, eku: ["clientAuth"] });
  cli(["server", "issue", "nats3", "--dir", nc, "--dns", "nats3.example.com", "--ip", "10.0.0.3"]);
  out.push({ id: "server/constrained", kind: "server", file: crt(nc, "nats3"), format: "pem", issuer: ncCa, ...ncChain, eku: ["serverAuth"], dns: "nats3.example.com" });
  cli(["server", "issue", "node3", "--dir", nc, "--peer", "--dns", "node3.example.com"]);
  out.push({ id: "peer/constrained", kind: "peer", file: crt(nc, "node3"), format: "pem", issuer: ncCa, ...ncChain, eku: ["clientAuth", "serverAuth"], dns: "node3.example.com" });

  // a constrained intermediate with DNS and IP constraints alone (the kinds every verifier implements:
  // cryptography's refuses a chain with rfc822Name or URI constraints), and a server under it
  const ncNet = path.join(cwd, "pki-nc-net");
  const ncNetCa = path.join(ncNet, "ca.crt");
  cli(["ca", "init", "--intermediate", "--root-dir", root2, "--dir", ncNet, "--name", "Judges Net Constrained", "--path-len", "0", "--permit-dns", "example.com", "--exclude-dns", "bad.example.com", "--permit-ip", "10.0.0.0/8", "--permit-ip", "2001:db8::/32"]);
  out.push({ id: "intermediate/constrained-net", kind: "constrained-intermediate", file: ncNetCa, format: "pem", issuer: root2Ca, roots: [root2Ca] });
  cli(["server", "issue", "nats4", "--dir", ncNet, "--dns", "nats4.example.com", "--ip", "10.0.0.4", "--ip", "2001:db8::4"]);
  out.push({ id: "server/constrained-net", kind: "server", file: crt(ncNet, "nats4"), format: "pem", issuer: ncNetCa, roots: [root2Ca], intermediates: [ncNetCa], eku: ["serverAuth"], dns: "nats4.example.com" });
  cli(["server", "issue", "node4", "--dir", ncNet, "--peer", "--dns", "node4.example.com"]);
  out.push({ id: "peer/constrained-net", kind: "peer", file: crt(ncNet, "node4"), format: "pem", issuer: ncNetCa, roots: [root2Ca], intermediates: [ncNetCa], eku: ["clientAuth", "serverAuth"], dns: "node4.example.com" });

  // a constrained intermediate in the "subdomains only" form that RFC 5280 has for email (--permit-email-domain
  // .example.com; a DNS constraint has none: --permit-dns .example.com is refused), and a client
  const ncDot = path.join(cwd, "pki-nc-dot");
  const ncDotCa = path.join(ncDot, "ca.crt");
  cli(["ca", "init", "--intermediate", "--root-dir", root2, "--dir", ncDot, "--name", "Judges Subdomains Only", "--path-len", "0", "--permit-dns", "example.com", "--permit-email-domain", ".example.com"]);
  out.push({ id: "intermediate/constrained-dot", kind: "constrained-intermediate", file: ncDotCa, format: "pem", issuer: root2Ca, roots: [root2Ca] });
  cli(["client", "issue", "erin", "--dir", ncDot, "--email", "erin@mail.example.com", "--dns", "erin.example.com"]);
  out.push({ id: "client/constrained-dot", kind: "client", file: crt(ncDot, "erin"), format: "pem", issuer: ncDotCa, roots: [root2Ca], intermediates: [ncDotCa], eku: ["clientAuth"] });

  // a CSR (client csr, on the client's machine: no CA), every SAN kind and the full subject
  const csrDir = path.join(cwd, "csr");
  fs.mkdirSync(csrDir);
  cli(["client", "csr", "carol", "--out-dir", csrDir, "--subject", FULL_SUBJECT.replace("CN=alice", "CN=carol"), ...ALL_SANS]);
  out.push({ id: "csr/full", kind: "csr", file: path.join(csrDir, "carol.csr"), format: "pem" });
  cli(["client", "csr", "dave", "--out-dir", csrDir, "--key", "ed25519", "--email", "dave@example.com"]);
  out.push({ id: "csr/ed25519", kind: "csr", file: path.join(csrDir, "dave.csr"), format: "pem" });

  // the CA signs the CSR (client sign), and an offline intermediate: its request (ca init --csr-out),
  // signed by the root (ca sign), installed (ca install)
  cli(["client", "sign", path.join(csrDir, "carol.csr"), "--dir", root]);
  out.push({ id: "client/from-csr", kind: "client", file: crt(root, "carol"), format: "pem", issuer: rootCa, roots: [rootCa], eku: ["clientAuth"] });
  const off = path.join(cwd, "pki-offline");
  const offCsr = path.join(cwd, "offline-inter.csr");
  cli(["ca", "init", "--intermediate", "--csr-out", offCsr, "--dir", off, "--name", "Judges Offline Issuing", "--key", "rsa-3072"]);
  out.push({ id: "csr/intermediate", kind: "csr", file: offCsr, format: "pem" });
  const offCrt = path.join(cwd, "offline-inter.crt");
  cli(["ca", "sign", offCsr, "--dir", root2, "--out", offCrt, "--path-len", "0", "--permit-email-domain", "example.com"]);
  cli(["ca", "install", offCrt, "--root", root2Ca, "--dir", off]);
  const offCa = path.join(off, "ca.crt");
  out.push({ id: "intermediate/offline", kind: "constrained-intermediate", file: offCa, format: "pem", issuer: root2Ca, roots: [root2Ca] });
  cli(["client", "issue", "frank", "--dir", off, "--email", "frank@example.com"]);
  out.push({ id: "client/offline", kind: "client", file: crt(off, "frank"), format: "pem", issuer: offCa, roots: [root2Ca], intermediates: [offCa], eku: ["clientAuth"] });

  // CRLs: empty (PEM and DER), then with entries (a revoke with a reason, and one without)
  cli(["crl", "--dir", root, "--out", path.join(cwd, "crl-empty.pem")]);
  out.push({ id: "crl/empty", kind: "crl-empty", file: path.join(cwd, "crl-empty.pem"), format: "pem", issuer: rootCa, revoked: [] });
  cli(["crl", "--dir", nc, "--der", "--out", path.join(cwd, "crl-empty-nc.der")]);
  out.push({ id: "crl/empty-constrained-der", kind: "crl-empty", file: path.join(cwd, "crl-empty-nc.der"), format: "der", issuer: ncCa, revoked: [] });
  cli(["server", "issue", "gone", "--dir", root, "--dns", "gone.example.com"]);
  cli(["client", "issue", "mallory", "--dir", root, "--email", "mallory@example.com"]);
  const revoked = [serialOf(root, "gone"), serialOf(root, "mallory")];
  cli(["revoke", "gone", "--dir", root, "--reason", "keyCompromise"]);
  cli(["revoke", "mallory", "--dir", root]);
  cli(["crl", "--dir", root, "--out", path.join(cwd, "crl-entries.pem")]);
  out.push({ id: "crl/entries", kind: "crl-entries", file: path.join(cwd, "crl-entries.pem"), format: "pem", issuer: rootCa, revoked });
  out.push({ id: "crl/store", kind: "crl-entries", file: path.join(root, "crl.pem"), format: "pem", issuer: rootCa, revoked });

  // PKCS#12, modern and legacy, of a client (EC, RSA, Ed25519 keys) and of an intermediate's client
  for (const [name, dir] of [["alice", root], ["c-rsa-2048", path.join(cwd, "root-rsa-2048")], ["c-ed25519", path.join(cwd, "root-ed25519")], ["bob", inter]] as const) {
    for (const legacy of [false, true]) {
      const f = path.join(cwd, `${name}${legacy ? "-legacy" : ""}.p12`);
      cli(["export", name, "--dir", dir, "--format", "p12", "--out", f, ...(legacy ? ["--legacy"] : [])]);
      out.push({ id: `${legacy ? "p12-legacy" : "p12"}/${name}`, kind: legacy ? "p12-legacy" : "p12", file: f, format: "der", password: P12_PASSWORD, issuer: path.join(dir, "ca.crt") });
    }
  }
  // the Java trust store, modern and legacy
  for (const legacy of [false, true]) {
    const f = path.join(cwd, `truststore${legacy ? "-legacy" : ""}.p12`);
    cli(["export", "ca", "--dir", root, "--format", "truststore", "--out", f, ...(legacy ? ["--legacy"] : [])]);
    out.push({ id: `${legacy ? "truststore-legacy" : "truststore"}/main`, kind: legacy ? "truststore-legacy" : "truststore", file: f, format: "der", password: P12_PASSWORD, issuer: rootCa });
  }
  return out;
}

/**
 * OCSP responses (the online CA's responder, src/service/ocsp.ts, as `serve` answers): to requests
 * that openssl makes, for a good, a revoked (with a reason, and without) and an unknown certificate
 * of the main root, and a good one from an RSA, an Ed25519 and an intermediate CA (each signature
 * algorithm). Call after makeArtifacts (it reads those stores).
 */
export async function makeOcspArtifacts(cwd: string): Promise<Artifact[]> {
  const out: Artifact[] = [];
  const dirOut = path.join(cwd, "ocsp");
  fs.mkdirSync(dirOut, { recursive: true });
  const cases: [string, string, string[], "good" | "revoked" | "unknown", number | null][] = [
    ["main-good", "pki-root", ["-cert", path.join(cwd, "pki-root", "issued", "alice.crt")], "good", null],
    ["main-revoked-reason", "pki-root", ["-cert", path.join(cwd, "pki-root", "issued", "gone.crt")], "revoked", 1],
    ["main-revoked", "pki-root", ["-cert", path.join(cwd, "pki-root", "issued", "mallory.crt")], "revoked", null],
    ["main-unknown", "pki-root", ["-serial", "0x0123456789abcdef"], "unknown", null],
    ["rsa-2048-good", "root-rsa-2048", ["-cert", path.join(cwd, "root-rsa-2048", "issued", "c-rsa-2048.crt")], "good", null],
    ["ed25519-good", "root-ed25519", ["-cert", path.join(cwd, "root-ed25519", "issued", "c-ed25519.crt")], "good", null],
    ["inter-good", "pki-inter", ["-cert", path.join(cwd, "pki-inter", "issued", "bob.crt")], "good", null],
  ];
  for (const [label, storeDir, sel, status, reason] of cases) {
    const dir = path.join(cwd, storeDir);
    const caFile = path.join(dir, "ca.crt");
    const caCert = readCertificates(fs.readFileSync(caFile), caFile)[0];
    const responder = createOcspResponder({ store: openFileStore(dir), signer: keySigner(new FileStore(dir).caKey("judge-pass", caCert)), caCert });
    const req = path.join(dirOut, `${label}.req`);
    const r = openssl(["ocsp", "-issuer", caFile, ...sel, "-reqout", req]);
    if (r.code !== 0) throw new Error(`openssl ocsp -reqout: ${r.stderr}`);
    const reqText = openssl(["ocsp", "-reqin", req, "-req_text"]).stdout;
    const serial = /Serial Number: ([0-9A-F]+)/i.exec(reqText)![1].toLowerCase();
    const a = await responder.respond(fs.readFileSync(req));
    if (a.status !== status) throw new Error(`OCSP ${label}: the responder said ${a.status}, not ${status}`);
    const file = path.join(dirOut, `${label}.der`);
    fs.writeFileSync(file, a.der);
    out.push({ id: `ocsp/${label}`, kind: "ocsp", file, format: "der", issuer: caFile, serial, ocspStatus: status, ocspReason: reason });
  }
  return out;
}

export const isCert = (a: Artifact) => ["root", "intermediate", "constrained-intermediate", "client", "server", "peer"].includes(a.kind);
export const isLeaf = (a: Artifact) => ["client", "server", "peer"].includes(a.kind);
export const isCrl = (a: Artifact) => a.kind.startsWith("crl");
export const isP12 = (a: Artifact) => a.kind.startsWith("p12") || a.kind.startsWith("truststore");
