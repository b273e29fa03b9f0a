/** `ca install <cert> --root <root.crt> [--chain F]`: completes a pending intermediate store (see src/hierarchy.ts). */
import * as path from "node:path";
import { Ctx } from "../context";
import { readCertificates } from "../../pki/cert";
import { readFileChecked } from "../../input";
import { formatRfc4514 } from "../../pki/name";
import { constraintsSummary, parseNameConstraints } from "../../pki/constraints";
import { installIntermediate } from "../../hierarchy";
import { usageError } from "../../errors";

export function run([certFile]: string[], o: Record<string, any>): void {
  const ctx = new Ctx(o);
  // a database store (issue 19): a pending intermediate is a file store (ca init --intermediate makes one)
  if (ctx.db !== undefined) throw usageError("ca install completes a pending intermediate file store (ca init --intermediate --dir DIR): install it there, then `mtlsctl store copy --from DIR --to URL` (an empty database)");
  const certs = readCertificates(readFileChecked(certFile, "certificate"), certFile);
  const roots = readCertificates(readFileChecked(o.root, "root certificate"), o.root);
  const above = o.chain !== undefined ? readCertificates(readFileChecked(o.chain, "chain"), o.chain) : [];
  const { value, warnings } = installIntermediate(ctx.dir, certs, above, roots, { cert: certFile, root: o.root });
  ctx.warnAll(warnings);
  const c = value.cert;
  const nc = parseNameConstraints(c).nc;
  ctx.result(
    {
      dir: value.store.dir,
      subject: formatRfc4514(c.subject),
      issuer: formatRfc4514(value.chain[1]?.subject ?? value.root.subject),
      root: formatRfc4514(value.root.subject),
      serial: c.serialHex,
      notAfter: c.notAfter.toISOString(),
      fingerprint: c.fingerprint,
      pathLen: c.basicConstraints?.pathLen ?? null,
      certFile: value.store.caCertFile,
      chainFile: value.store.chainFile,
      rootsFile: value.store.rootsFile,
      warnings: ctx.warnings,
    },
    () =>
      [
        `Installed intermediate CA ${ctx.bold(formatRfc4514(c.subject))}, valid until ${c.notAfter.toISOString()}`,
        `  store        ${value.store.dir}`,
        `  chain        ${value.chain.map((x) => formatRfc4514(x.subject)).join(" <- ")} <- ${formatRfc4514(value.root.subject)} (root)`,
        `  chain.pem    ${path.relative(process.cwd(), value.store.chainFile) || value.store.chainFile} (what leaves present after themselves)`,
        `  roots.pem    ${path.relative(process.cwd(), value.store.rootsFile) || value.store.rootsFile} (the ca_file)`,
        ...(nc ? [`  constraints  ${constraintsSummary(nc)}`] : []),
      ].join("\n"),
  );
}
