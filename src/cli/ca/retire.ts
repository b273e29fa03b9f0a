/** `ca retire [SERIAL...] | --all-previous`: ends a rollover's overlap; the previous CA leaves roots.pem. */
import { Ctx } from "../context";
import { Store } from "../../store/store";
import { redactUrl } from "../../store/pg/pg-store";
import { retire } from "../../lifecycle/rollover";
import { withDb } from "../store/open";

export async function run([serials]: string[][], o: Record<string, any>): Promise<void> {
  const ctx = new Ctx(o);
  const warnings: string[] = [];
  let r: ReturnType<typeof retire>;
  let where: { dir: string; rootsFile: string };
  if (ctx.db !== undefined) {
    // a database store (issue 19): the previous_cas rows and the ca row's roots, in one transaction
    r = await withDb(ctx, (db) => db.retirePrevious({ serials: serials ?? [], all: !!o.allPrevious }));
    where = { dir: redactUrl(ctx.db), rootsFile: `${redactUrl(ctx.db)} (ca roots)` };
    if (r.stranded.length)
      warnings.push(
        `${r.stranded.length} valid certificate(s) were signed by the retired CA and are refused once servers reload their CA file: ${r.stranded
          .slice(0, 10)
          .map((c) => c.name)
          .join(", ")}${r.stranded.length > 10 ? ", ..." : ""} (renew them: mtlsctl renew NAME)`,
      );
  } else {
    const store = Store.open(ctx.dir);
    r = retire(store, { serials: serials ?? [], all: !!o.allPrevious }, warnings);
    where = { dir: ctx.dir, rootsFile: store.rootsFile };
  }
  ctx.warnAll(warnings);
  ctx.result(
    {
      dir: where.dir,
      retired: r.retired.map((p) => ({ subject: p.subject, serial: p.serial, retiredAt: p.retiredAt })),
      rootsFile: where.rootsFile,
      roots: r.roots,
      stranded: r.stranded.map((c) => ({ name: c.name, serial: c.serial, kind: c.kind })),
      warnings: ctx.warnings,
    },
    () =>
      [
        ...r.retired.map((p) => `Retired CA ${ctx.bold(p.subject)}, serial ${p.serial}`),
        `  trust file   ${where.rootsFile} (${r.roots.length} CA${r.roots.length === 1 ? "" : "s"})`,
        ctx.db !== undefined
          ? "Next: give the servers the trust anchors without the retired CA (mtlsctl export ca --format roots --out FILE; Java: --format truststore) and reload them: certificates of the retired CA are then refused."
          : "Next: mtlsctl config nats --out ... and reload nats-server: certificates of the retired CA are then refused.",
      ].join("\n"),
  );
}
