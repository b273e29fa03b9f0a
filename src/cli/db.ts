/**
 * Which store a command names (issue 19): a directory (--dir, MTLSCTL_DIR, default ./pki) or a
 * database (--db, MTLSCTL_DB). A flag beats the environment; --db with --dir, or MTLSCTL_DB with
 * MTLSCTL_DIR (and no flag), is a usage error (exit 2). Pure: it loads no store code and no `pg`.
 */
import * as path from "node:path";
import { usageError } from "../errors";

export type StoreTarget = { kind: "dir"; dir: string } | { kind: "db"; url: string };

export const isDbUrl = (s: string): boolean => /^postgres(ql)?:\/\//i.test(s);

export function checkDbUrl(url: string, what = "--db"): string {
  if (!isDbUrl(url)) throw usageError(`${what} takes a PostgreSQL URL (postgres://USER@HOST/DB), not ${JSON.stringify(url.replace(/\/\/([^:/@]*):[^@/]*@/, "//$1@"))}`);
  return url;
}

export function resolveStoreTarget(g: { dir?: string; db?: string }, env: NodeJS.ProcessEnv = process.env): StoreTarget {
  if (g.db !== undefined && g.dir !== undefined) throw usageError("--db and --dir name two stores: give one");
  if (g.db !== undefined) return { kind: "db", url: checkDbUrl(g.db) };
  if (g.dir !== undefined) return { kind: "dir", dir: path.resolve(g.dir) };
  const envDb = env.MTLSCTL_DB || undefined;
  const envDir = env.MTLSCTL_DIR || undefined;
  if (envDb !== undefined && envDir !== undefined) throw usageError("MTLSCTL_DB and MTLSCTL_DIR are both set: unset one, or give --db or --dir");
  if (envDb !== undefined) return { kind: "db", url: checkDbUrl(envDb, "MTLSCTL_DB") };
  return { kind: "dir", dir: path.resolve(envDir ?? "pki") };
}
