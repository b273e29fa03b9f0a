/** `store copy --from DIR|URL --to DIR|URL`: a whole store, directory to database or back (src/store/pg/copy.ts). */
import * as path from "node:path";
import { Ctx } from "../context";
import { usageError } from "../../errors";
import { isDbUrl } from "../db";
import { copyFileToPg, copyPgToFile } from "../../store/pg/copy";
import { withDb } from "./open";

export async function run(_args: string[], o: Record<string, any>): Promise<void> {
  const ctx = new Ctx(o);
  const from: string = o.from;
  const to: string = o.to;
  const fromDb = isDbUrl(from);
  const toDb = isDbUrl(to);
  if (fromDb === toDb) throw usageError(`store copy goes from a directory to a database or back: --from and --to are both ${fromDb ? "databases" : "directories"}`);
  const r = toDb ? await withDb(ctx, (db) => copyFileToPg(path.resolve(from), db), to) : await withDb(ctx, (db) => copyPgToFile(db, path.resolve(to)), from);
  ctx.result(r, () =>
    [
      `Copied ${r.from} to ${r.to}: ${r.certificates} certificate record(s) (${r.withPem} with their bytes), ${r.nkeys} NKey record(s), ${r.previousCas} previous CA(s), ${r.tokens} token(s), ${r.auditEvents} audit event(s)`,
      `records SHA-256 ${r.digest} (the same on both sides)`,
      ...(toDb
        ? [
            r.keysLeft.length
              ? `not copied (never in a database): ${r.keysLeft.length} leaf key / NKey seed file(s), they stay in ${path.resolve(from)} (private/, nkeys/):\n  ` + r.keysLeft.join("\n  ")
              : "no leaf key or NKey seed in the source (they are never copied into a database)",
          ]
        : ["leaf keys and NKey seeds were never in the database: copy them from the original directory's private/ and nkeys/ if this store needs them"]),
    ].join("\n"),
  );
}
