/** `ca retire [SERIAL...] | --all-previous`: ends a rollover's overlap; the previous CA leaves roots.pem. */
import { Ctx } from "../context";
import { Store } from "../../store/store";
import { retire } from "../../lifecycle/rollover";

export function run([serials]: string[][], o: Record<string, any>): void {
  const ctx = new Ctx(o);
  const store = Store.open(ctx.dir);
  const warnings: string[] = [];
  const r = retire(store, { serials: serials ?? [], all: !!o.allPrevious }, warnings);
  ctx.warnAll(warnings);
  ctx.result(
    {
      dir: ctx.dir,
      retired: r.retired.map((p) => ({ subject: p.subject, serial: p.serial, retiredAt: p.retiredAt })),
      rootsFile: store.rootsFile,
      roots: r.roots,
      stranded: r.stranded.map((c) => ({ name: c.name, serial: c.serial, kind: c.kind })),
      warnings: ctx.warnings,
    },
    () =>
      [
        ...r.retired.map((p) => `Retired CA ${ctx.bold(p.subject)}, serial ${p.serial}`),
        `  trust file   ${store.rootsFile} (${r.roots.length} CA${r.roots.length === 1 ? "" : "s"})`,
        "Next: mtlsctl config nats --out ... and reload nats-server: certificates of the retired CA are then refused.",
      ].join("\n"),
  );
}
