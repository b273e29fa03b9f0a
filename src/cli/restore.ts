/** `restore <archive>`: a store from a `backup` archive, into --dir (checked and decrypted before anything is written). */
import { redactUrl } from "../store/pg/pg-store";
import { Ctx, getSecret } from "./context";
import { restore } from "../lifecycle/backup";
import { checkNewStoreDir } from "../ca";
import * as fs from "node:fs";
import { inputError } from "../errors";

export async function run([file]: string[], o: Record<string, any>): Promise<void> {
  const ctx = new Ctx(o);
  if (ctx.db !== undefined) throw inputError("restore writes a store directory: restore into --dir D, then `mtlsctl store copy --from D --to URL` (a pg_dump of a database is restored with pg_restore)", redactUrl(ctx.db), "unsupported");
  let isFile = false;
  try {
    isFile = fs.statSync(file).isFile();
  } catch {
    throw inputError("cannot read the backup (no such file)", file);
  }
  if (!isFile) throw inputError("not a file", file); // before any prompt
  checkNewStoreDir(ctx.dir, o.force); // an existing store without --force: exit 3 before any prompt
  const password = await getSecret(ctx, { what: "backup password", file: o.passwordFile, fileFlag: "--password-file", env: "MTLSCTL_BACKUP_PASSWORD" });
  const r = restore(file, password, ctx.dir, { force: o.force });
  ctx.result({ dir: r.dir, from: file, files: r.files, replaced: r.replaced, createdAt: r.createdAt, source: r.source, warnings: ctx.warnings }, () =>
    [
      `Restored ${ctx.bold(r.dir)} from ${file}: ${r.files} files${r.replaced ? " (the previous store was replaced)" : ""}`,
      `  backed up    ${r.createdAt} from ${r.source}`,
      "  check it:    mtlsctl status",
    ].join("\n"),
  );
}
