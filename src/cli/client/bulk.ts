/**
 * `client issue --from users.csv|users.json`: many clients in one process (src/bulk/).
 * A bad row stops nothing else: it is reported with its line number (one line on stderr) and the
 * command exits 3 at the end; names that exist are skipped, so a re-run issues only what is missing.
 */
import * as path from "node:path";
import { Ctx } from "../context";
import { checkDays, DEFAULT_LEAF_DAYS } from "../../ca";
import { usageError } from "../../errors";
import { parseKeyType } from "../../pki/keys";
import { openCa, passphraseFrom } from "../common";
import { openDb } from "../store/open";
import { unlockStoreCa } from "../../issue-store";
import { bulkIssueInStore, type StoreBulkOptions } from "../../bulk/store-issue";
import { accessFromOptions } from "../../config/access";
import { countRows, detectFormat, rowsOf } from "../../bulk/input";
import { bulkIssue, BulkSummary, Progress, RowResult } from "../../bulk/issue";

const SAN_FLAGS = ["email", "dns", "uri", "ip"] as const;

export async function run(args: string[], o: Record<string, any>): Promise<void> {
  const ctx = new Ctx(o);
  const file: string = o.from;
  if (args[0] !== undefined) throw usageError(`give a NAME or --from FILE, not both`);
  for (const f of SAN_FLAGS) if (o[f]?.length) throw usageError(`--${f} cannot be used with --from (put the values in the file's "${f}" column)`);
  if (o.subject !== undefined) throw usageError(`--subject cannot be used with --from (put it in the file's "subject" column)`);
  if (o.force) throw usageError(`--force cannot be used with --from (--from skips names that exist; use client issue NAME --force for one)`);
  const keyType = parseKeyType(o.key); // the default for rows without a key
  if (o.days !== undefined) checkDays(o.days, DEFAULT_LEAF_DAYS);
  // --account and the permission flags: defaults for rows without their own account / permission columns
  const given = accessFromOptions(o);
  const access = { ...(given.account ? { account: given.account } : {}), ...(given.permissions ? { permissions: given.permissions } : {}) };

  // the whole file is read once first: damage to its syntax stops everything before any question
  const format = detectFormat(file);
  const total = countRows(file, format);

  if (ctx.db === undefined && (o.outDir !== undefined || o.keepKey === false)) throw usageError(`${o.outDir !== undefined ? "--out-dir" : "--no-keep-key"} cannot be used with --from on a file store (it keeps each key in private/NAME.key; a database store, --db, writes them to --out-dir)`);
  // the CA passphrase, asked once; a database store (issue 19): its rows, each key and certificate to --out-dir (default .)
  const db = ctx.db !== undefined ? openDb(ctx) : null;
  let issueAll: (rows: ReturnType<typeof rowsOf>, bo: Omit<StoreBulkOptions, "outDir">) => Promise<BulkSummary>;
  try {
    if (db) {
      const { caCert, signer } = await unlockStoreCa(db, async () => {
        const p = passphraseFrom(ctx, o.passphraseFile);
        return typeof p === "function" ? await p() : p;
      });
      issueAll = (rows, bo) => bulkIssueInStore(db, signer, caCert, rows, { ...bo, outDir: o.outDir ?? "." });
    } else {
      const ca = await openCa(ctx, { passphraseFile: o.passphraseFile });
      issueAll = (rows, bo) => bulkIssue(ca.store, ca.signer, ca.caCert, rows, bo);
    }
  } catch (e) {
    await db?.close().catch(() => undefined);
    throw e;
  }

  const show = !ctx.quiet && !ctx.json;
  const tty = show && !!process.stderr.isTTY;
  const started = Date.now();
  let barShown = false;
  let lastLine = 0;
  let lastText = "";
  const clearBar = () => {
    if (barShown) process.stderr.write("\r\x1b[K");
    barShown = false;
  };
  const progressText = (p: Progress) => `${p.rows}/${total} rows: ${p.issued} issued, ${p.skipped} skipped, ${p.failed} failed`;
  const onProgress = (p: Progress) => {
    if (!show) return;
    if (tty) {
      const width = 24;
      const done = total ? Math.min(width, Math.round((p.rows / total) * width)) : width;
      const secs = (Date.now() - started) / 1000;
      const rate = secs > 0 ? ` ${Math.round(p.issued / secs)}/s` : "";
      process.stderr.write(`\r\x1b[K[${"#".repeat(done)}${"-".repeat(width - done)}] ${progressText(p)}${rate}`);
      barShown = true;
    } else if (Date.now() - lastLine >= 1000) {
      if (lastLine === 0) lastLine = started; // the first line after a second, then one a second
      if (Date.now() - lastLine < 1000) return;
      lastLine = Date.now();
      process.stderr.write(`progress: ${(lastText = progressText(p))}\n`);
    }
  };

  const issued: { line: number; name: string; serial: string }[] = [];
  const skipped: { line: number; name: string; reason: string }[] = [];
  const failed: { line: number; name: string | null; error: string }[] = [];
  const onRow = (r: RowResult) => {
    if (r.status === "failed") {
      clearBar();
      process.stderr.write(`mtlsctl: ${file}:${r.line}: ${r.error}\n`);
      if (ctx.json) failed.push({ line: r.line, name: r.name, error: r.error });
    } else if (ctx.json) {
      if (r.status === "issued") issued.push({ line: r.line, name: r.name, serial: r.serial });
      else skipped.push({ line: r.line, name: r.name, reason: r.reason });
    }
  };
  const onWarning = (msg: string) => {
    clearBar();
    ctx.warn(msg);
  };

  const control = { stop: false };
  const interrupt = () => {
    control.stop = true;
    clearBar();
    process.stderr.write("mtlsctl: interrupted: stopping after the batches in flight (again to abort at once)\n");
  };
  process.once("SIGINT", interrupt);
  process.once("SIGTERM", interrupt);
  let summary;
  try {
    summary = await issueAll(rowsOf(file, format), { file, defaults: { keyType, days: o.days, ...access }, onRow, onProgress, onWarning, control });
  } finally {
    await db?.close().catch(() => undefined);
    process.removeListener("SIGINT", interrupt);
    process.removeListener("SIGTERM", interrupt);
    clearBar();
  }
  const secs = (Date.now() - started) / 1000;
  if (show && !tty && lastText && progressText(summary) !== lastText) process.stderr.write(`progress: ${progressText(summary)}\n`);
  ctx.result(
    {
      file: path.resolve(file),
      rows: summary.rows,
      counts: { issued: summary.issued, skipped: summary.skipped, failed: summary.failed },
      issued,
      skipped,
      failed,
      stopped: summary.stopped,
      seconds: +secs.toFixed(3),
      warnings: ctx.warnings,
    },
    () =>
      `Issued ${summary.issued} client certificate${summary.issued === 1 ? "" : "s"} from ${file} in ${secs.toFixed(1)} s` +
      (summary.skipped ? `; skipped ${summary.skipped} that exist` : "") +
      (summary.failed ? `; ${summary.failed} row${summary.failed === 1 ? "" : "s"} failed (see above)` : "") +
      (summary.stopped ? `; interrupted after ${summary.rows} of ${total} rows` : ""),
  );
  if (summary.stopped) process.exitCode = 130;
  else if (summary.failed) process.exitCode = 3;
}
