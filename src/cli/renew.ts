/** `renew <name> [--rekey] [--days N]`: a new certificate for the same identity. */
import * as path from "node:path";
import { Ctx } from "./context";
import { openCa } from "./common";
import { Store } from "../store/store";
import { planRenewal, renew } from "../lifecycle/renew";
import { passphraseFrom } from "./common";
import { usageError } from "../errors";
import { renewInStore } from "../api/db-store";
import { withDb } from "./store/open";
import type { CertRecord } from "../store/types";

/** The parts of a renewal `renew --json` prints, from either store. */
interface Renewed {
  rec: CertRecord;
  old: CertRecord;
  oldCertFile: string;
  certFile: string;
  keyFile: string | null;
  rekey: boolean;
  keyChanged: boolean;
  before: string | null;
  after: string | null;
  pin: string;
}

export async function run([name]: string[], o: Record<string, any>): Promise<void> {
  const ctx = new Ctx(o);
  const opts = { rekey: !!o.rekey, days: o.days as number | undefined };
  let r: Renewed;
  if (ctx.db !== undefined) {
    // a database store (issue 19): the new certificate (and, with --rekey, the new key) go to --out-dir (default .)
    const d = await withDb(ctx, (db) => renewInStore(db, name, { ...opts, outDir: o.outDir ?? ".", force: o.force, passphrase: passphraseFrom(ctx, o.passphraseFile) }));
    ctx.warnAll(d.warnings);
    r = { rec: d.record, old: d.old, oldCertFile: d.oldCertFile, certFile: d.certFile, keyFile: d.keyFile, rekey: d.rekey, keyChanged: d.keyChanged, before: d.natsUserBefore?.user ?? null, after: d.natsUserAfter?.user ?? null, pin: d.pinAfter };
  } else {
    if (o.outDir !== undefined || o.force !== undefined) throw usageError(`${o.outDir !== undefined ? "--out-dir" : "--force"} is for a database store (--db): a file store keeps the certificate in issued/NAME.crt`);
    planRenewal(Store.open(ctx.dir), name, opts); // refused before any passphrase prompt
    const ca = await openCa(ctx, { passphraseFile: o.passphraseFile });
    const plan = planRenewal(ca.store, name, opts);
    const warnings: string[] = [];
    const f = renew(ca.store, ca.signer, ca.caCert, plan, warnings);
    ctx.warnAll(warnings);
    r = { rec: f.issued.record, old: f.old, oldCertFile: ca.store.path(f.old.certFile), certFile: f.issued.certFile, keyFile: f.keyFile, rekey: plan.rekey, keyChanged: f.keyChanged, before: f.natsUserBefore?.user ?? null, after: f.natsUserAfter?.user ?? null, pin: f.pinAfter };
  }
  const rec = r.rec;
  const { before, after } = r;
  const userUnchanged = before === after;
  const actions: string[] = [];
  if (rec.kind === "client") {
    if (userUnchanged) actions.push(`NATS user ${JSON.stringify(after)} unchanged: no edit to the users list is needed`);
    else actions.push(`NATS user changes from ${JSON.stringify(before)} to ${JSON.stringify(after)}: regenerate the snippet (mtlsctl config nats) and reload the server`);
    if (r.keyChanged) actions.push("the key changed: with `config nats --pinned`, regenerate the snippet (new pin) and reload the server; give the client its new key and certificate");
    else actions.push("same key: give the client the new certificate (pinned_certs, if used, is unchanged)");
  } else {
    actions.push(`the server certificate file ${rel(r.certFile)} was replaced in place: reload nats-server (nats-server --signal reload) to use it; the config is unchanged`);
  }
  ctx.result(
    {
      name: rec.name,
      kind: rec.kind,
      serial: rec.serial,
      renews: r.old.serial,
      oldStatus: r.old.status,
      oldCertFile: r.oldCertFile,
      oldNotAfter: r.old.notAfter,
      subject: rec.subject,
      sans: rec.sans,
      notBefore: rec.notBefore,
      notAfter: rec.notAfter,
      fingerprint: rec.fingerprint,
      certFile: r.certFile,
      keyFile: r.keyFile,
      rekeyed: r.rekey,
      keyChanged: r.keyChanged,
      pin: r.pin,
      natsUser: after,
      natsUserBefore: before,
      natsUserChanged: !userUnchanged,
      configChangeNeeded: rec.kind === "client" ? !userUnchanged : false,
      actions,
      warnings: ctx.warnings,
    },
    () =>
      [
        `Renewed ${ctx.bold(rec.name)}: serial ${rec.serial}, valid until ${rec.notAfter}${r.rekey ? " (new key)" : " (same key)"}`,
        `  subject      ${rec.subject || "(empty)"}`,
        `  certificate  ${rel(r.certFile)}`,
        ...(r.keyFile ? [`  key          ${rel(r.keyFile)}`] : []),
        `  replaces     serial ${r.old.serial}, now ${r.old.status} (${rel(r.oldCertFile)}, valid until ${r.old.notAfter} unless revoked with --serial)`,
        ...actions.map((a, i) => `  ${(i === 0 ? "next" : "").padEnd(12)} ${a}`),
      ].join("\n"),
  );
}

const rel = (f: string) => path.relative(process.cwd(), f) || f;
