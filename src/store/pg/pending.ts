/**
 * A pending intermediate CA on a database store (issue 19; schema version 3, table pending_ca): what the
 * file store keeps as private/ca.key and reqs/ca.csr before `ca install`. Made on an empty database by
 * `ca init --db --intermediate --csr-out`; completed by `ca install --db`, whose copy into the `ca` row
 * removes it in the same transaction (src/store/pg/copy.ts completingPending).
 */
import { inputError } from "../../errors";
import { dbError } from "./connection";
import type { PgStore } from "./pg-store";

export interface PendingCa {
  /** The CA key, PKCS#8 PEM (encrypted unless --no-encrypt). */
  keyPem: string;
  /** The request `ca sign` signs on the root's machine. */
  csrPem: string;
}

/** Stores the pending CA on an empty database (the schema made first), under the writer lock. */
export async function putPendingCa(db: PgStore, p: PendingCa): Promise<void> {
  await db.migrate();
  await db.rawTransaction(async (c) => {
    if (!(await db.isEmptyIn(c))) throw inputError("the database already holds a store: ca init --db needs an empty one", db.location, "exists");
    await c.query("INSERT INTO pending_ca (id, key_pem, csr_pem) VALUES (1, $1, $2)", [p.keyPem, p.csrPem]);
  });
}

/** The pending CA, or undefined when there is none (a database with a CA, or an empty one). */
export async function pendingCa(db: PgStore): Promise<PendingCa | undefined> {
  if ((await db.schemaVersion()) < 3) return undefined; // no schema, or one from before pending CAs
  try {
    const r = await db.pool.query("SELECT key_pem, csr_pem FROM pending_ca");
    return r.rowCount ? { keyPem: r.rows[0].key_pem, csrPem: r.rows[0].csr_pem } : undefined;
  } catch (e) {
    throw dbError(e, db.location);
  }
}
