/** `ca set [--ocsp-url URL] [--crl-url URL]`: stored in the store header; every later leaf carries them. */
import { Ctx } from "../context";
import type { Store as StoreApi } from "../../store/types";
import { openFileStore } from "../../store/file-api";
import { openDb } from "../store/open";
import { inputError, usageError } from "../../errors";

/** An http(s) URL of printable ASCII (it goes into an IA5String), or "" to remove it. */
function checkUrl(v: unknown, opt: string): string | undefined {
  if (v === undefined) return undefined;
  const s = String(v);
  if (s === "") return "";
  if (!/^https?:\/\/[\x21-\x7e]+$/.test(s)) throw inputError(`${opt}: not an http:// or https:// URL of printable ASCII: ${JSON.stringify(s.replace(/[\u0000-\u001f\u007f]/g, "?"))}`);
  try {
    new URL(s);
  } catch {
    throw inputError(`${opt}: not a URL: ${JSON.stringify(s)}`);
  }
  return s;
}

export async function run(_args: string[], o: Record<string, any>): Promise<void> {
  const ctx = new Ctx(o);
  const ocsp = checkUrl(o.ocspUrl, "--ocsp-url");
  const crl = checkUrl(o.crlUrl, "--crl-url");
  if (ocsp === undefined && crl === undefined) throw usageError("ca set needs --ocsp-url and/or --crl-url");
  // either store, through the Store interface (issue 19): one transaction (the file store: under its lock)
  const store: StoreApi = ctx.db !== undefined ? openDb(ctx) : openFileStore(ctx.dir);
  let urls: { ocsp?: string; crl?: string };
  try {
    urls = await store.transaction(async (tx) => {
      const next: { ocsp?: string; crl?: string } = { ...((await tx.header()).urls ?? {}) };
      if (ocsp !== undefined) ocsp ? (next.ocsp = ocsp) : delete next.ocsp;
      if (crl !== undefined) crl ? (next.crl = crl) : delete next.crl;
      await tx.setUrls(next);
      return next;
    });
  } finally {
    await store.close().catch(() => undefined);
  }
  ctx.result({ dir: store.location, ocspUrl: urls.ocsp ?? null, crlUrl: urls.crl ?? null }, () =>
    [`OCSP URL  ${urls.ocsp ?? "(none)"}`, `CRL URL   ${urls.crl ?? "(none)"}`, "Certificates issued from now on carry them (existing ones do not change)."].join("\n"),
  );
}
