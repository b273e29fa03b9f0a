/**
 * The one issuance planning step (issue 16 §2): an identity (subject, SANs, public key), a profile
 * and an issuer in, the fields of the TBSCertificate, its extensions and the warnings out. Every path
 * that makes a certificate goes through it: `client issue`, `client sign`, `server issue`, `renew`,
 * `ca sign` / intermediates, bulk `client issue --from`, and the online service that comes next.
 * So the rules live here once: validity (days, clamped to the CA's expiry), subject and SAN checks,
 * the key types nats-server accepts, name constraints of every CA above, sub-CA path lengths.
 *
 * A plain function: no I/O, no store, no clock unless none is given. The serial is chosen by the
 * caller under its store's lock (chooseSerial), then tbsOf(plan, serial) is what gets signed.
 */
import { aiaExtension, cdpExtension } from "./ocsp";
import { OID } from "../asn1/oids";
import { inputError } from "../errors";
import { profileExtensions, randomSerial, TbsInput } from "./cert";
import { cnConstraintWarning, NameConstraintsSpec, signingViolation } from "./constraints";
import { checkSubCa } from "./hierarchy";
import { describeKey, publicKeyOf, spkiKeyType } from "./keys";
import { decodeName } from "./name";
import { checkSans, hasSans, ipBytes, ipString, Sans } from "./san";
import type { Extension, ParsedCertificate, Profile } from "./types";

export const DAY = 86_400_000;
export const DEFAULT_CA_DAYS = 3650;
export const DEFAULT_LEAF_DAYS = 365;

export function checkDays(days: number | undefined, dflt: number): number {
  const d = days ?? dflt;
  if (!Number.isInteger(d) || d < 1 || d > 36500) throw inputError(`--days must be a whole number from 1 to 36500 (got ${days})`);
  return d;
}

/** The CA that signs, and what stands above it. */
export interface PlanIssuer {
  cert: ParsedCertificate;
  /**
   * The issuing CA and every CA above it, nearest first (pki/hierarchy.ts issuingChain): their name
   * constraints and path lengths apply. Default: [cert].
   */
  chain?: ParsedCertificate[];
  /** Where the CA certificate is, for messages (its expiry). */
  file?: string;
  /** The CA's OCSP and CRL URLs (`ca set`): leaves carry them as AIA id-ad-ocsp and a CRL distribution point. */
  urls?: { ocsp?: string; crl?: string };
}

export interface PlanRequest {
  profile: Profile;
  /** The subject, DER (an empty SEQUENCE for none). */
  subjectDer: Buffer;
  /** The subject's CN values, when the caller has them at hand (else read from subjectDer). */
  commonNames?: string[];
  /** The certificate's SubjectPublicKeyInfo, DER. */
  spki: Buffer;
  /** The key identifier of spki (RFC 5280 method 1), when the caller has it at hand. */
  keyId?: Buffer;
  sans: Sans;
  /** Validity in days; undefined: the profile's default (365 for leaves). */
  days?: number;
  /** How a warning names where `days` came from: "--days" (the default) or, for a bulk row, "days". */
  daysOption?: string;
  /** Sub-CAs (profile "ca"). */
  pathLen?: number;
  nameConstraints?: NameConstraintsSpec;
}

export interface IssuancePlan {
  profile: Profile;
  issuer: Buffer;
  subject: Buffer;
  spki: Buffer;
  /** Whole seconds (as DER Time writes them): what the certificate will hold, and the inventory. */
  notBefore: Date;
  notAfter: Date;
  /** Checked; IPs as the certificate gives them back (what the inventory records). */
  sans: Sans;
  /** keyUsage keyEncipherment: an RSA key. */
  rsa: boolean;
  extensions: Extension[];
  /** What the operator should hear about this certificate (the same text on every path). */
  warnings: string[];
}

const wholeSeconds = (ms: number): Date => new Date(Math.floor(ms / 1000) * 1000);

const GO_CURVES = new Set<string>([OID.p256, OID.p384, OID.p521]);

/** Whether nats-server (Go's crypto/tls) takes the key of this SubjectPublicKeyInfo: RSA, ECDSA P-256/P-384/P-521, Ed25519. */
function keyKind(spki: Buffer): { ok: boolean; rsa: boolean } {
  const { algorithm, curve } = spkiKeyType(spki);
  if (algorithm === OID.rsaEncryption) return { ok: true, rsa: true };
  if (algorithm === OID.rsaPss) return { ok: false, rsa: true };
  if (algorithm === OID.ed25519) return { ok: true, rsa: false };
  if (algorithm === OID.ecPublicKey) return { ok: !!curve && GO_CURVES.has(curve), rsa: false };
  return { ok: false, rsa: false };
}

/**
 * Plans one certificate. Throws an input error for what cannot be issued (an expired CA, a key
 * nats-server refuses, no subject and no SAN, a server without a DNS name or IP, a SAN outside a
 * CA's name constraints, a sub-CA its issuers' path lengths forbid); returns the warnings otherwise.
 * `now`: the issuance time in ms (bulk passes one per batch).
 */
export function planIssuance(req: PlanRequest, issuer: PlanIssuer, now: number = Date.now()): IssuancePlan {
  const warnings: string[] = [];
  const ca = issuer.cert;
  const chain = issuer.chain ?? [ca];
  const kind = keyKind(req.spki);
  if (!kind.ok) throw inputError(`a ${describeKey(publicKeyOf(req.spki))} key cannot be used with nats-server (Go accepts RSA, ECDSA P-256/P-384/P-521 and Ed25519)`);
  const days = checkDays(req.days, DEFAULT_LEAF_DAYS); // sub-CAs: the caller gives days (hierarchy.ts subCaDays)
  if (ca.notAfter.getTime() <= now) throw inputError(`the CA certificate expired on ${ca.notAfter.toISOString()}`, issuer.file);
  let notAfter = wholeSeconds(now + days * DAY);
  if (notAfter > ca.notAfter) {
    notAfter = ca.notAfter;
    warnings.push(`${req.days === undefined ? `the default validity (${days} days)` : `${req.daysOption ?? "--days"} ${days}`} would outlive the CA: the certificate ends with the CA on ${notAfter.toISOString()}`);
  }
  // the SANs' syntax (callers that parse options or a CSR have checked already: the same rules, so
  // the same answer), and IPs in the form a certificate gives back (what the inventory records)
  const sans = checkSans(req.sans, warnings);
  const recorded = sans.ip.length ? { ...sans, ip: sans.ip.map((a) => ipString(ipBytes(a))) } : sans;
  const emptySubject = req.subjectDer.length <= 2;
  if (req.profile === "client" && emptySubject && !hasSans(sans)) throw inputError("a certificate needs a subject or at least one SAN");
  if (req.profile !== "client" && req.profile !== "ca" && sans.dns.length + sans.ip.length === 0) throw inputError("a server certificate needs at least one --dns or --ip");
  // name constraints of every CA above the certificate (issue 10), with the verifier's matcher
  const violation = signingViolation(sans, chain);
  if (violation) throw inputError(violation);
  const cns = req.commonNames ?? decodeName(req.subjectDer).flat().filter((a) => a.type === OID.CN).map((a) => a.value);
  const cnWarning = cnConstraintWarning(cns, sans, chain);
  if (cnWarning) warnings.push(cnWarning);
  if (req.profile === "ca") checkSubCa(chain, req.subjectDer, req.pathLen);
  const extensions = profileExtensions(req.profile, { spki: req.spki, keyId: req.keyId, issuerKeyId: ca.subjectKeyId, rsa: kind.rsa, sans, emptySubject, pathLen: req.pathLen, nameConstraints: req.nameConstraints });
  if (req.profile !== "ca" && issuer.urls?.ocsp) extensions.push(aiaExtension(issuer.urls.ocsp));
  if (req.profile !== "ca" && issuer.urls?.crl) extensions.push(cdpExtension(issuer.urls.crl));
  return { profile: req.profile, issuer: ca.subjectRaw, subject: req.subjectDer, spki: req.spki, notBefore: wholeSeconds(now - 60_000), notAfter, sans: recorded, rsa: kind.rsa, extensions, warnings };
}

/**
 * A serial for a new certificate: random, positive, 16 bytes (randomSerial), and not one that
 * `taken` already knows (the store's serials, under its lock). `next` draws one (bulk: from a pool).
 */
export function chooseSerial(taken: (hex: string) => boolean, next: () => Buffer = randomSerial): Buffer {
  for (;;) {
    const s = next();
    if (!taken(s.toString("hex"))) return s;
  }
}

/** What gets signed: the plan with its serial. */
export function tbsOf(plan: IssuancePlan, serial: Buffer): TbsInput {
  return { serial, issuer: plan.issuer, subject: plan.subject, notBefore: plan.notBefore, notAfter: plan.notAfter, spki: plan.spki, extensions: plan.extensions };
}
