/** `ca install <cert> --root <root.crt> [--chain F]`: completes a pending intermediate store (see src/hierarchy.ts). */
import * as path from "node:path";
import { Ctx } from "../context";
import { readCertificates } from "../../pki/cert";
import { readFileChecked } from "../../input";
import { formatRfc4514 } from "../../pki/name";
import { constraintsSummary, parseNameConstraints } from "../../pki/constraints";
import { installIntermediate } from "../../hierarchy";
import * as fs from "node:fs";
import * as os from "node:os";
import { inputError } from "../../errors";
import { Store } from "../../store/store";
import { writeFileAtomic } from "../../store/atomic";
import type { ParsedCertificate } from "../../pki/cert";
import type { PgStore } from "../../store/pg/pg-store";
import { pendingCa } from "../../store/pg/pending";
import { copyFileToPg } from "../../store/pg/copy";
import { withDb } from "../store/open";

export async function run([certFile]: string[], o: Record<string, any>): Promise<void> {
  const ctx = new Ctx(o);
  const certs = readCertificates(readFileChecked(certFile, "certificate"), certFile);
  const roots = readCertificates(readFileChecked(o.root, "root certificate"), o.root);
  const above = o.chain !== undefined ? readCertificates(readFileChecked(o.chain, "chain"), o.chain) : [];
  // a database store (issue 19): its pending_ca row, installed as in a directory, then copied in (one transaction)
  if (ctx.db !== undefined) return withDb(ctx, (db) => installOnDb(ctx, db, certs, above, roots, { cert: certFile, root: o.root }));
  const { value, warnings } = installIntermediate(ctx.dir, certs, above, roots, { cert: certFile, root: o.root });
  const rel = (f: string) => path.relative(process.cwd(), f) || f;
  report(ctx, value, warnings, { dir: value.store.dir, certFile: value.store.caCertFile, chainFile: value.store.chainFile, rootsFile: value.store.rootsFile }, [
    `  chain.pem    ${rel(value.store.chainFile)} (what leaves present after themselves)`,
    `  roots.pem    ${rel(value.store.rootsFile)} (the ca_file)`,
  ]);
}

/** What `ca install` prints on either store: `where` names the store's files, `fileLines` the text's lines about them. */
function report(ctx: Ctx, value: ReturnType<typeof installIntermediate>["value"], warnings: string[], where: { dir: string; certFile: string; chainFile: string; rootsFile: string }, fileLines: string[]): void {
  ctx.warnAll(warnings);
  const c = value.cert;
  const nc = parseNameConstraints(c).nc;
  ctx.result(
    {
      dir: where.dir,
      subject: formatRfc4514(c.subject),
      issuer: formatRfc4514(value.chain[1]?.subject ?? value.root.subject),
      root: formatRfc4514(value.root.subject),
      serial: c.serialHex,
      notAfter: c.notAfter.toISOString(),
      fingerprint: c.fingerprint,
      pathLen: c.basicConstraints?.pathLen ?? null,
      certFile: where.certFile,
      chainFile: where.chainFile,
      rootsFile: where.rootsFile,
      warnings: ctx.warnings,
    },
    () =>
      [
        `Installed intermediate CA ${ctx.bold(formatRfc4514(c.subject))}, valid until ${c.notAfter.toISOString()}`,
        `  store        ${where.dir}`,
        `  chain        ${value.chain.map((x) => formatRfc4514(x.subject)).join(" <- ")} <- ${formatRfc4514(value.root.subject)} (root)`,
        ...fileLines,
        ...(nc ? [`  constraints  ${constraintsSummary(nc)}`] : []),
      ].join("\n"),
  );
}

/**
 * `ca install --db`: the pending row written out as a pending store in a private temporary directory,
 * installed there by the same checks (installIntermediate), then copied into the database in the one
 * transaction that also removes the pending row. A refused certificate changes nothing.
 */
async function installOnDb(ctx: Ctx, db: PgStore, certs: ParsedCertificate[], above: ParsedCertificate[], roots: ParsedCertificate[], files: { cert: string; root: string }): Promise<void> {
  const p = await pendingCa(db);
  if (!p) {
    if (!(await db.isEmpty())) throw inputError("this database already has its CA certificate (nothing is pending)", db.location);
    throw inputError("no pending intermediate CA in this database (run `mtlsctl ca init --db URL --intermediate --csr-out FILE` first)", db.location);
  }
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "mtlsctl-install-"));
  try {
    const dir = path.join(tmp, "pki");
    fs.mkdirSync(dir, { mode: 0o700 });
    Store.createLayout(dir);
    const st = new Store(dir);
    writeFileAtomic(st.caKeyFile, p.keyPem, { mode: 0o600 });
    writeFileAtomic(st.caCsrFile, p.csrPem);
    const { value, warnings } = installIntermediate(dir, certs, above, roots, files);
    await copyFileToPg(dir, db, { completingPending: p.csrPem });
    report(ctx, value, warnings, { dir: db.location, certFile: db.location, chainFile: `${db.location} (ca chain)`, rootsFile: `${db.location} (ca roots)` }, []);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}
