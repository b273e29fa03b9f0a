import * as fs from "node:fs";
import * as path from "node:path";
import { Ctx } from "./context";
import { readPresentedChain, readRoots } from "../verify/input";
import { verifyClientChain, ChainResult } from "../verify/chain";
import { certIdentities } from "../verify/identities";
import { checkVersion, defaultServerVersion } from "../verify/versions";
import { formatRfc4514 } from "../pki/name";
import { describeKey } from "../pki/keys";
import { createPublicKey } from "node:crypto";
import { Store } from "../store/store";
import type { verdictJson as VerdictJsonFn } from "./verify";
import { usageError } from "../errors";

/** `explain <cert>`: the identities nats-server tries, in its order, and the TLS-stage checks. */
export function run([certFile]: string[], o: Record<string, any>): void {
  const ctx = new Ctx(o);
  const presented = readPresentedChain(certFile, o.p12Password); // settled by the preAction hook (cli/p12-password.ts)
  const { leaf, intermediates } = presented;
  const { version, source } = o.serverVersion ? { version: checkVersion(o.serverVersion), source: "--server-version" } : defaultServerVersion();

  // With --config: the whole verdict, and the roots are the config's ca_file
  let verdict: ReturnType<typeof VerdictJsonFn> | null = null;
  let configCa: string | null = null;
  let permissionText: string[] = [];
  let denied = false;
  if ((o.publish?.length || o.subscribe?.length) && !o.config) throw usageError("--publish/--subscribe need --config nats.conf (the permissions come from the server's config)");
  if (o.config) {
    // --publish / --subscribe: what the mapped user may do (issue 10)
    const perms = require("../nats/permissions") as typeof import("../nats/permissions");
    const questions = perms.accessQuestions(o.publish, o.subscribe);
    // the config reader is loaded only when a config is given
    const { loadConfig, verdictJson } = require("./verify") as typeof import("./verify");
    const { verifyConnection } = require("../verify/verdict") as typeof import("../verify/verdict");
    const { toVerifierConfig } = require("../verify/from-config") as typeof import("../verify/from-config");
    const serverCwd = path.resolve(o.serverCwd ?? process.cwd());
    const sc = loadConfig(o.config, serverCwd, version);
    const cfg = toVerifierConfig(sc);
    const v = verifyConnection(leaf, intermediates, cfg, { version, serverCwd });
    v.notes.push(...(require("../lint") as typeof import("../lint")).lintNotes(sc, version)); // `mtlsctl lint`'s findings, as notes
    const bound = perms.permissionsForVerdict(sc, v);
    const { answers, note } = perms.answerQuestions(questions, bound, v);
    if (note) v.notes.push(note);
    denied = answers.some((a) => !a.allowed);
    permissionText = perms.permissionLines(bound, answers, v.accepted && !v.ambiguous);
    verdict = verdictJson(certFile, v, { permissions: perms.boundJson(bound), access: answers });
    if (cfg.tls?.caFile) configCa = path.resolve(serverCwd, cfg.tls.caFile);
  }
  // Roots: --ca, else the config's ca_file, else the store's trust file (roots.pem, else ca.crt) when there is a store
  let caFile: string | null = o.ca ?? configCa;
  if (!caFile && Store.exists(ctx.dir)) caFile = new Store(ctx.dir).trustFile;
  let chain: ChainResult | null = null;
  let chainHint: string | null = null;
  if (caFile && fs.existsSync(caFile)) {
    const roots = readRoots(caFile);
    chain = verifyClientChain(leaf, intermediates, roots);
    // a leaf of an intermediate store given alone: say what the client must send with it
    if (!chain.ok && !intermediates.length && Store.exists(ctx.dir) && !Store.isPending(ctx.dir)) {
      const above = new Store(ctx.dir).presentedChain();
      if (above.length && verifyClientChain(leaf, above, roots).ok)
        chainHint = `the certificate alone does not chain to ${caFile}: a client must send its intermediate(s) after it (${path.join(ctx.dir, "chain.pem")}; the store writes issued/<name>.fullchain.pem)`;
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
  const json = {
    certificate: {
      file: path.resolve(certFile),
      subject: formatRfc4514(leaf.subject),
      issuer: formatRfc4514(require("../pki/name").decodeName(leaf.issuerRaw)),
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
      ? { caFile: path.resolve(caFile!), ok: chain.ok, error: chain.error, steps: chain.checks, ...(chainHint ? { hint: chainHint } : {}) }
      : { caFile: null, ok: null, error: null, steps: [], note: "no CA to check against (give --ca FILE, or run in a store)" },
    verdict,
    serverVersion: version,
    serverVersionSource: source,
  };
  ctx.result(json, () => {
    const lines: string[] = [];
    const c = json.certificate;
    lines.push(`${ctx.bold("Certificate")}  ${c.subject || "(empty subject)"}`);
    lines.push(`  issuer ${c.issuer}, serial ${c.serial}, ${c.keyType}, valid ${c.notBefore.slice(0, 10)} .. ${c.notAfter.slice(0, 10)}`);
    const sanList = [...c.sans.email.map((v) => `email:${v}`), ...c.sans.dns.map((v) => `DNS:${v}`), ...c.sans.uri.map((v) => `URI:${v}`), ...c.sans.ip.map((v) => `IP:${v}`)];
    lines.push(`  SANs   ${sanList.join(", ") || "(none)"}`);
    lines.push("");
    if (chain) {
      lines.push(`${ctx.bold("TLS stage")} (as Go's verifier does it, against ${caFile}):`);
      for (const s of chain.checks) lines.push(`  ${s.ok ? "ok  " : "FAIL"} ${s.name.padEnd(10)} ${s.detail}`);
      if (chainHint) lines.push(`  note: ${chainHint}`);
    } else lines.push(`${ctx.bold("TLS stage")}: not checked (give --ca FILE, or run inside a store)`);
    lines.push("");
    lines.push(`${ctx.bold("Mapping")} (verify_and_map, nats-server ${version}; from ${source}):`);
    if (ids.refused) lines.push(`  refused before mapping: ${ids.refused}`);
    else {
      lines.push("  the server tries these in order; the first that names a configured user wins:");
      ids.identities.forEach((id, i) => {
        lines.push(`  ${String(i + 1).padStart(2)}. ${id.kind.padEnd(10)} ${JSON.stringify(id.value)}`);
        if (id.configEntry) lines.push(`      users entry: ${id.configEntry}`);
        if (id.note) lines.push(`      (${id.note})`);
      });
    }
    for (const n of ids.notes) lines.push(`  note: ${n}`);
    if (verdict) {
      lines.push("");
      lines.push(`${ctx.bold("Verdict")} with ${o.config}:`);
      if (verdict.accepted)
        lines.push(verdict.ambiguous ? `  ACCEPTED as one of ${verdict.candidates.map((c) => JSON.stringify(c)).join(", ")}, picked at random per connection` : `  ACCEPTED as ${JSON.stringify(verdict.user)}${verdict.account ? ` in account ${verdict.account}` : ""}${verdict.matchedBy ? ` (by ${verdict.matchedBy})` : ""}`);
      else lines.push(`  REFUSED at the ${verdict.stage} stage`);
      lines.push(`  why: ${verdict.reason}`);
      lines.push(...permissionText);
      for (const n of verdict.notes) lines.push(`  note: ${n}`);
    }
    return lines.join("\n");
  });
  if ((chain && !chain.ok) || (verdict && !verdict.accepted) || denied) process.exitCode = 1;
}
