/** `renew <name> [--rekey] [--days N]`: a new certificate for the same identity. */
import * as path from "node:path";
import { Ctx } from "./context";
import { openCa } from "./common";
import { Store } from "../store/store";
import { planRenewal, renew } from "../lifecycle/renew";

export async function run([name]: string[], o: Record<string, any>): Promise<void> {
  const ctx = new Ctx(o);
  const opts = { rekey: !!o.rekey, days: o.days as number | undefined };
  planRenewal(Store.open(ctx.dir), name, opts); // refused before any passphrase prompt
  const ca = await openCa(ctx, { passphraseFile: o.passphraseFile });
  const plan = planRenewal(ca.store, name, opts);
  const warnings: string[] = [];
  const r = renew(ca.store, ca.signer, ca.caCert, plan, warnings);
  ctx.warnAll(warnings);
  const rec = r.issued.record;
  const before = r.natsUserBefore?.user ?? null;
  const after = r.natsUserAfter?.user ?? null;
  const userUnchanged = before === after;
  const actions: string[] = [];
  if (rec.kind === "client") {
    if (userUnchanged) actions.push(`NATS user ${JSON.stringify(after)} unchanged: no edit to the users list is needed`);
    else actions.push(`NATS user changes from ${JSON.stringify(before)} to ${JSON.stringify(after)}: regenerate the snippet (mtlsctl config nats) and reload the server`);
    if (r.keyChanged) actions.push("the key changed: with `config nats --pinned`, regenerate the snippet (new pin) and reload the server; give the client its new key and certificate");
    else actions.push("same key: give the client the new certificate (pinned_certs, if used, is unchanged)");
  } else {
    actions.push(`the server certificate file ${rel(r.issued.certFile)} was replaced in place: reload nats-server (nats-server --signal reload) to use it; the config is unchanged`);
  }
  ctx.result(
    {
      name: rec.name,
      kind: rec.kind,
      serial: rec.serial,
      renews: r.old.serial,
      oldStatus: r.old.status,
      oldCertFile: ca.store.path(r.old.certFile),
      oldNotAfter: r.old.notAfter,
      subject: rec.subject,
      sans: rec.sans,
      notBefore: rec.notBefore,
      notAfter: rec.notAfter,
      fingerprint: rec.fingerprint,
      certFile: r.issued.certFile,
      keyFile: r.keyFile,
      rekeyed: plan.rekey,
      keyChanged: r.keyChanged,
      pin: r.pinAfter,
      natsUser: after,
      natsUserBefore: before,
      natsUserChanged: !userUnchanged,
      configChangeNeeded: rec.kind === "client" ? !userUnchanged : false,
      actions,
      warnings: ctx.warnings,
    },
    () =>
      [
        `Renewed ${ctx.bold(rec.name)}: serial ${rec.serial}, valid until ${rec.notAfter}${plan.rekey ? " (new key)" : " (same key)"}`,
        `  subject      ${rec.subject || "(empty)"}`,
        `  certificate  ${rel(r.issued.certFile)}`,
        ...(r.keyFile ? [`  key          ${rel(r.keyFile)}`] : []),
        `  replaces     serial ${r.old.serial}, now ${r.old.status} (${rel(ca.store.path(r.old.certFile))}, valid until ${r.old.notAfter} unless revoked with --serial)`,
        ...actions.map((a, i) => `  ${(i === 0 ? "next" : "").padEnd(12)} ${a}`),
      ].join("\n"),
  );
}

const rel = (f: string) => path.relative(process.cwd(), f) || f;
