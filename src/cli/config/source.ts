/**
 * What the `config node|curl|java|nkey-client` snippets read, from a file store or (issue 19) a
 * database store. A database has no files: the snippet names the ones the caller gives, as `config
 * nats --db` does: --ca-file (the CA certificate the program reads; `mtlsctl export ca --out FILE`
 * writes it), --cert-file/--key-file (a leaf's pair, where `client issue --db` / `server issue --db`
 * wrote it) and, for an NKey copied from a directory, --seed-file. The records are the same rows the
 * file store's inventory holds, read by the snippets' own functions (src/export/snippets.ts): only the
 * valid server certificates and the named records are fetched, not the whole inventory.
 */
import * as path from "node:path";
import type { Ctx } from "../context";
import { Store, type CertRecord, type Inventory, type NkeyRecord } from "../../store/store";
import type { SnippetStore } from "../../export/snippets";
import { usageError } from "../../errors";
import { withDb } from "../store/open";
import { redactUrl } from "../../store/pg/pg-store";

export interface SnippetSource {
  view: SnippetStore;
  inv: Inventory;
  /** The CA file the program reads: the file store's roots.pem / ca.crt, or --ca-file (a database). */
  trustFile: string;
  /** Whether the store is a database. */
  db: boolean;
  /**
   * A leaf's certificate and key files: --cert-file/--key-file when given, else the file store's own
   * (keyFile null when it keeps no key for it); a database store needs them given (exit 2).
   */
  leafFiles(rec: CertRecord): { certFile: string; keyFile: string | null };
  /** An NKey's seed file: --seed-file, else the file store's nkeys/NAME.nk, else where `nkey create --db` wrote it (an absolute path recorded). */
  seedFile(rec: NkeyRecord): string;
}

/** The store a snippet command names; `names` are the records it looks up by name (fetched with their history). */
export async function snippetSource(ctx: Ctx, o: Record<string, any>, command: string, names: string[], pair: boolean): Promise<SnippetSource> {
  if ((o.certFile === undefined) !== (o.keyFile === undefined)) throw usageError(`${command}: --cert-file and --key-file go together`);
  if (!pair && o.certFile !== undefined) throw usageError(`${command}: --cert-file and --key-file name a leaf's files, and this snippet loads none`);
  const given = o.certFile !== undefined ? { certFile: path.resolve(o.certFile), keyFile: path.resolve(o.keyFile) } : null;
  if (ctx.db === undefined) {
    if (o.caFile !== undefined) throw usageError("--ca-file is for a database store (--db): a file store's snippet names its own roots.pem / ca.crt");
    if (o.seedFile !== undefined) throw usageError("--seed-file is for a database store (--db): a file store keeps the seed in nkeys/NAME.nk");
    const store = Store.open(ctx.dir);
    return {
      view: store,
      inv: store.readInventory(),
      trustFile: store.trustFile,
      db: false,
      leafFiles: (rec) => given ?? { certFile: store.path(rec.certFile), keyFile: rec.keyFile ? store.path(rec.keyFile) : null },
      seedFile: (rec) => store.path(rec.seedFile),
    };
  }
  if (o.caFile === undefined) throw usageError(`${command} --db needs --ca-file FILE: the file the program reads the CA certificate from (write it with \`mtlsctl export ca --out FILE\`)`);
  const url = ctx.db;
  const inv = await withDb(ctx, async (db) => {
    const [h, servers, ...named] = await Promise.all([db.header(), db.list({ kind: "server", status: "valid" }), ...names.map((n) => db.history(n))]);
    // each name's history after the servers (findByName takes a name's last record: its history's order)
    const mine = new Set(named.flat().map((r) => r.serial));
    return { ...h, certificates: [...servers.filter((r) => !mine.has(r.serial)), ...named.flat()] } as Inventory;
  });
  const location = redactUrl(url);
  const view: SnippetStore = { dir: location, inventoryFile: location, db: location, findByName: (i, n) => i.certificates.filter((c) => c.name === n && c.status !== "superseded" && !c.renewedBy).pop() };
  return {
    view,
    inv,
    trustFile: path.resolve(o.caFile),
    db: true,
    leafFiles: (rec) => {
      if (!given) throw usageError(`${command} --db needs --cert-file F --key-file F: where the certificate and key of "${rec.name}" are (a database store keeps no leaf files; \`${rec.kind} issue --db\` wrote them to --out-dir)`);
      return given;
    },
    seedFile: (rec) => {
      if (o.seedFile !== undefined) return path.resolve(o.seedFile);
      if (path.isAbsolute(rec.seedFile)) return rec.seedFile;
      throw usageError(`${command} --db needs --seed-file F: the seed of "${rec.name}" is in the store directory it was copied from (${rec.seedFile}), not in the database`);
    },
  };
}
