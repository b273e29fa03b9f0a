import { Ctx } from "./context";
import { explainDetailed, explainNegative } from "../api/explain";
import { permissionLines } from "../nats/permissions";
import { Store } from "../store/store";
import { withDb } from "./store/open";

/** `explain <cert>`: the identities nats-server tries, in its order, and the TLS-stage checks (src/api/explain.ts). */
export async function run([certFile]: string[], o: Record<string, any>): Promise<void> {
  const ctx = new Ctx(o);
  // the CLI's store gives the default roots: a directory (--dir, MTLSCTL_DIR, ./pki) when it exists, or a database (--db), read only when no --ca / --config names them
  const db = ctx.db !== undefined && o.ca === undefined && o.config === undefined;
  const storeRoots = db ? await withDb(ctx, async (s) => ({ label: `${s.location} (trust anchors)`, anchors: await s.trustAnchors(), presented: await s.presentedChain() })) : undefined;
  const { result: json, bound, caFile, chainHint } = explainDetailed(certFile, {
    storeRoots,
    config: o.config,
    serverVersion: o.serverVersion,
    ca: o.ca,
    dir: ctx.target.kind === "dir" && Store.exists(ctx.target.dir) ? ctx.target.dir : undefined,
    publish: o.publish,
    subscribe: o.subscribe,
    serverCwd: o.serverCwd,
    p12Password: o.p12Password, // settled by the preAction hook (cli/p12-password.ts)
    ocsp: o.ocsp === true,
  });
  const verdict = json.verdict;
  ctx.result(json, () => {
    const lines: string[] = [];
    const c = json.certificate;
    lines.push(`${ctx.bold("Certificate")}  ${c.subject || "(empty subject)"}`);
    lines.push(`  issuer ${c.issuer}, serial ${c.serial}, ${c.keyType}, valid ${c.notBefore.slice(0, 10)} .. ${c.notAfter.slice(0, 10)}`);
    const sanList = [...c.sans.email.map((v) => `email:${v}`), ...c.sans.dns.map((v) => `DNS:${v}`), ...c.sans.uri.map((v) => `URI:${v}`), ...c.sans.ip.map((v) => `IP:${v}`)];
    lines.push(`  SANs   ${sanList.join(", ") || "(none)"}`);
    lines.push("");
    if (json.checks.caFile !== null) {
      lines.push(`${ctx.bold("TLS stage")} (as Go's verifier does it, against ${caFile}):`);
      for (const s of json.checks.steps) lines.push(`  ${s.ok ? "ok  " : "FAIL"} ${s.name.padEnd(10)} ${s.detail}`);
      if (chainHint) lines.push(`  note: ${chainHint}`);
    } else lines.push(`${ctx.bold("TLS stage")}: not checked (give --ca FILE, or run inside a store)`);
    lines.push("");
    lines.push(`${ctx.bold("Mapping")} (verify_and_map, nats-server ${json.serverVersion}; from ${json.serverVersionSource}):`);
    if (json.refused) lines.push(`  refused before mapping: ${json.refused}`);
    else {
      lines.push("  the server tries these in order; the first that names a configured user wins:");
      json.identities.forEach((id, i) => {
        lines.push(`  ${String(i + 1).padStart(2)}. ${id.kind.padEnd(10)} ${JSON.stringify(id.value)}`);
        if (id.configEntry) lines.push(`      users entry: ${id.configEntry}`);
        if (id.note) lines.push(`      (${id.note})`);
      });
    }
    for (const n of json.notes) lines.push(`  note: ${n}`);
    if (verdict) {
      lines.push("");
      lines.push(`${ctx.bold("Verdict")} with ${o.config}:`);
      if (verdict.accepted)
        lines.push(verdict.ambiguous ? `  ACCEPTED as one of ${verdict.candidates.map((c) => JSON.stringify(c)).join(", ")}, picked at random per connection` : `  ACCEPTED as ${JSON.stringify(verdict.user)}${verdict.account ? ` in account ${verdict.account}` : ""}${verdict.matchedBy ? ` (by ${verdict.matchedBy})` : ""}`);
      else lines.push(`  REFUSED at the ${verdict.stage} stage`);
      lines.push(`  why: ${verdict.reason}`);
      if (verdict.ocspPeer) lines.push(`  ocsp_peer: responder ${verdict.ocspPeer.responder ?? "(none in the certificate)"}, status ${verdict.ocspPeer.status}${verdict.ocspPeer.required ? ", a good answer is required" : ""}`);
      lines.push(...permissionLines(bound, verdict.access ?? [], verdict.accepted && !verdict.ambiguous));
      for (const n of verdict.notes) lines.push(`  note: ${n}`);
    }
    return lines.join("\n");
  });
  if (explainNegative(json)) process.exitCode = 1;
}
