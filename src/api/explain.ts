/**
 * `explain`: the identities nats-server tries for a certificate, in its order, the TLS-stage checks,
 * and with a config the verdict — as the `explain --json` object, which the CLI prints as is.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { createPublicKey } from "node:crypto";
import { usageError } from "../errors";
import { readRoots } from "../input";
import { verifyClientChain, ChainResult } from "../verify/chain";
import { goRules } from "../verify/versions";
import { certIdentities } from "../verify/identities";
import { verifyConnection } from "../verify/verdict";
import { toVerifierConfig } from "../verify/from-config";
import { decodeName, formatRfc4514 } from "../pki/name";
import { describeKey } from "../pki/keys";
import type { ParsedCertificate } from "../pki/cert";
import { Store } from "../store/store";
import * as perms from "../nats/permissions";
import { lintNotes } from "../lint";
import { CertificateInput, isFileInput, presentedChainOf, readConfig } from "./inputs";
import { resolveServerVersion, verdictJson, VerifyResult } from "./verify";

export interface ExplainOptions {
  /** A nats-server config (path or text): adds the verdict, and its ca_file becomes the roots. */
  config?: string;
  serverVersion?: string;
  /** The roots to check the chain against (a CA bundle file); default the config's ca_file, else the store's trust file. */
  ca?: string;
  /** A store directory whose trust file (roots.pem, else ca.crt) is the default roots. The library opens none unless told. */
  dir?: string;
  /**
   * The default roots read from a store without files (a database, issue 19): its trust anchors and the
   * chain its leaves present after themselves; `label` names them where a file name would be.
   */
  storeRoots?: { label: string; anchors: ParsedCertificate[]; presented: ParsedCertificate[] };
  publish?: string[];
  subscribe?: string[];
  serverCwd?: string;
  env?: NodeJS.ProcessEnv;
  /** The `file` of a certificate given as text or bytes (default "<certificate>"). */
  label?: string;
  /** The password of a PKCS#12 certificate input. */
  p12Password?: string;
  /** With `tls { ocsp_peer }` in the config: ask the certificate's OCSP responder as the server does. */
  ocsp?: boolean;
}

export type ExplainResult = ReturnType<typeof explainDetailed>["result"];

/** @internal `explain` with what the CLI's human output needs besides the JSON. */
export function explainDetailed(certificate: CertificateInput, o: ExplainOptions = {}) {
  const presented = presentedChainOf(certificate, o.label, o.p12Password);
  const { leaf, intermediates } = presented;
  const { version, source } = resolveServerVersion(o.serverVersion);

  // With a config: the whole verdict, and the roots are the config's ca_file
  let verdict: VerifyResult | null = null;
  let configCa: string | null = null;
  let bound: perms.BoundPermissions | null = null;
  if ((o.publish?.length || o.subscribe?.length) && !o.config) throw usageError("--publish/--subscribe need --config nats.conf (the permissions come from the server's config)");
  if (o.config) {
    const questions = perms.accessQuestions(o.publish, o.subscribe);
    const serverCwd = path.resolve(o.serverCwd ?? process.cwd());
    const sc = readConfig(o.config, { serverVersion: version, serverCwd, env: o.env });
    const cfg = toVerifierConfig(sc);
    const v = verifyConnection(leaf, intermediates, cfg, { version, serverCwd, ocsp: o.ocsp });
    v.notes.push(...lintNotes(sc, version)); // `mtlsctl lint`'s findings, as notes
    bound = perms.permissionsForVerdict(sc, v);
    const { answers, note } = perms.answerQuestions(questions, bound, v);
    if (note) v.notes.push(note);
    verdict = verdictJson(presented.file, v, { permissions: perms.boundJson(bound), access: answers });
    if (cfg.tls?.caFile) configCa = path.resolve(serverCwd, cfg.tls.caFile);
  }
  // Roots: ca, else the config's ca_file, else the store's trust file (roots.pem, else ca.crt) when there is a store
  let caFile: string | null = o.ca ?? configCa;
  const dir = o.dir;
  if (!caFile && dir !== undefined && Store.exists(dir)) caFile = new Store(dir).trustFile;
  let chain: ChainResult | null = null;
  let chainHint: string | null = null;
  const fromStore = !caFile && dir === undefined ? o.storeRoots : undefined;
  if (fromStore) {
    caFile = fromStore.label;
    chain = verifyClientChain(leaf, intermediates, fromStore.anchors);
    const above = fromStore.presented.slice(1);
    if (!chain.ok && !intermediates.length && above.length && verifyClientChain(leaf, above, fromStore.anchors).ok)
      chainHint = `the certificate alone does not chain to ${caFile}: a client must send its intermediate(s) after it (mtlsctl export NAME --format chain)`;
  } else if (caFile && fs.existsSync(caFile)) {
    const roots = readRoots(caFile);
    chain = verifyClientChain(leaf, intermediates, roots, new Date(), goRules(version));
    // a leaf of an intermediate store given alone: say what the client must send with it
    if (!chain.ok && !intermediates.length && dir !== undefined && Store.exists(dir) && !Store.isPending(dir)) {
      const above = new Store(dir).presentedChain();
      if (above.length && verifyClientChain(leaf, above, roots, new Date(), goRules(version)).ok)
        chainHint = `the certificate alone does not chain to ${caFile}: a client must send its intermediate(s) after it (${path.join(dir, "chain.pem")}; the store writes issued/<name>.fullchain.pem)`;
    }
  }

  const ids = certIdentities(leaf, version);
  const keyType = (() => {
    try {
      return describeKey(createPublicKey({ key: leaf.spki, format: "der", type: "spki" }));
    } catch {
      return "unknown";
    }
  })();
  const result = {
    certificate: {
      file: isFileInput(certificate) ? path.resolve(presented.file) : presented.file,
      subject: formatRfc4514(leaf.subject),
      issuer: formatRfc4514(decodeName(leaf.issuerRaw)),
      serial: leaf.serialHex,
      keyType,
      notBefore: leaf.notBefore.toISOString(),
      notAfter: leaf.notAfter.toISOString(),
      sans: { email: leaf.sans.email, dns: leaf.sans.dns, uri: leaf.sans.uri, ip: leaf.sans.ip },
      fingerprint: leaf.fingerprint,
      intermediates: intermediates.length,
    },
    identities: ids.identities,
    refused: ids.refused,
    notes: ids.notes,
    checks: chain
      ? { caFile: fromStore ? caFile! : path.resolve(caFile!), ok: chain.ok as boolean | null, error: chain.error, steps: chain.checks, ...(chainHint ? { hint: chainHint } : {}) }
      : { caFile: null, ok: null as boolean | null, error: null, steps: [] as ChainResult["checks"], note: "no CA to check against (give --ca FILE, or run in a store)" },
    verdict,
    serverVersion: version,
    serverVersionSource: source,
  };
  return { result, bound, caFile, chainHint };
}

/** The `explain --json` object of a certificate (a path, PEM text or bytes). */
export function explain(certificate: CertificateInput, o: ExplainOptions = {}): ExplainResult {
  return explainDetailed(certificate, o).result;
}

/** Whether the CLI exits 1: the chain fails, the verdict refuses, or an asked permission is denied. */
export const explainNegative = (r: ExplainResult): boolean =>
  r.checks.ok === false || (r.verdict !== null && (!r.verdict.accepted || (r.verdict.access ?? []).some((a) => !a.allowed)));
