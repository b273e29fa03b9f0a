/** `backup --out F`: the whole store as one encrypted file (scrypt + AES-256-GCM; see src/lifecycle/backup.ts). */
import * as fs from "node:fs";
import * as path from "node:path";
import { inputError, usageError } from "../errors";
import { redactUrl } from "../store/pg/pg-store";
import { Ctx, getSecret } from "./context";
import { Store } from "../store/store";
import { backup } from "../lifecycle/backup";

export async function run(_args: string[], o: Record<string, any>): Promise<void> {
  const ctx = new Ctx(o);
  // a database store (issue 19) has its own tools: every table, the CA key still encrypted in it
  if (ctx.db !== undefined) throw inputError("a database store is backed up with pg_dump (pg_dump --format=custom --file F URL; pg_restore into an empty database): backup archives a store directory", redactUrl(ctx.db), "unsupported");
  const store = Store.open(ctx.dir);
  if (o.out === "-") throw usageError("backup writes a file: give --out FILE (not -)");
  const out = path.resolve(o.out);
  if (!o.force && fs.existsSync(out)) throw inputError("already exists (use --force to replace it)", out);
  const password = await getSecret(ctx, { what: "backup password", file: o.passwordFile, fileFlag: "--password-file", env: "MTLSCTL_BACKUP_PASSWORD", confirm: true });
  const r = backup(store, out, password, { force: o.force });
  ctx.result({ dir: ctx.dir, out, files: r.files, dirs: r.dirs, bytes: r.bytes, createdAt: r.createdAt, warnings: ctx.warnings }, () =>
    [
      `Backed up ${ctx.bold(ctx.dir)}: ${r.files} files, ${r.dirs} directories`,
      `  archive      ${out} (${r.bytes} bytes, mode 0600; scrypt + AES-256-GCM)`,
      "  restore with: mtlsctl --dir DIR restore " + out,
    ].join("\n"),
  );
}
