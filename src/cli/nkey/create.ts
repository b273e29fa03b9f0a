/** `nkey create <name> [--show-seed] [--force]`: a user NKey pair; the seed stays in <dir>/nkeys/<name>.nk. */
import * as path from "node:path";
import { Ctx } from "../context";
import { Store } from "../../store/store";
import { createNkey, createNkeyInStore } from "../../nkeys/nkeys";
import { usageError } from "../../errors";
import { withDb } from "../store/open";
import { accessFromOptions } from "../../config/access";
import { describePermissions } from "../../nats/permissions";

export async function run(args: string[], o: Record<string, any>): Promise<void> {
  const ctx = new Ctx(o);
  const name = args[0];
  if (o.outDir !== undefined && ctx.db === undefined) throw usageError("--out-dir is for a database store (--db): a file store keeps the seed in nkeys/NAME.nk");
  // a database store (issue 19) keeps no seed: it goes to --out-dir (default .)
  const made =
    ctx.db !== undefined
      ? await withDb(ctx, (db) => createNkeyInStore(db, name, { force: !!o.force, ...accessFromOptions(o), outDir: o.outDir ?? "." }))
      : createNkey(Store.open(ctx.dir), name, { force: !!o.force, ...accessFromOptions(o) });
  const rel = path.relative(process.cwd(), made.seedFile) || made.seedFile;
  if (made.replaced) ctx.warn(`replaced the NKey "${name}" (was ${made.replaced.publicKey}): regenerate the server's config (mtlsctl config nats) and give the client the new seed`);
  ctx.result(
    {
      name: made.record.name,
      kind: "nkey",
      publicKey: made.record.publicKey,
      natsUser: made.record.publicKey,
      seedFile: made.seedFile,
      createdAt: made.record.createdAt,
      account: made.record.account ?? null,
      permissions: made.record.permissions ?? null,
      ...(o.showSeed ? { seed: made.seed } : {}),
      warnings: ctx.warnings,
    },
    () =>
      [
        `NKey ${ctx.bold(name)}: user public key ${made.record.publicKey}`,
        `  seed file    ${rel} (mode 0600: it is the client's secret; give it only to the client)`,
        ...(o.showSeed ? [`  seed         ${made.seed}`] : []),
        `  NATS user    { nkey: "${made.record.publicKey}" } (mtlsctl config nats lists it)`,
        ...(made.record.account ? [`  account      ${made.record.account}`] : []),
        ...(made.record.permissions ? [`  permissions  ${describePermissions(made.record.permissions)}`] : []),
        `  client       mtlsctl config nkey-client node|go ${name}`,
      ].join("\n"),
  );
}
