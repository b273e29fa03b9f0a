/**
 * `ca init --db URL` as a library function (issue 16): what the CLI's initOnDb (src/cli/ca/init.ts) does,
 * for openStore(URL).initCa (src/api/pg-open.ts). Apart from pg-open.ts so that the package's typings
 * never name PgStore (whose own typings need @types/pg, which a consumer does not have).
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { inputError, usageError } from "../errors";
import { parseKeyType } from "../pki/keys";
import type { PgStore } from "../store/pg/pg-store";
import { copyFileToPg } from "../store/pg/copy";
import { CaStore, type DbInitCaOptions, type InitCaOptions } from "./store";

const secretOf = async (s: InitCaOptions["passphrase"]): Promise<string | null | undefined> => (typeof s === "function" ? await s() : s);

/**
 * `ca init --db URL`: the CA is made as the file store's initCa makes it, in a private temporary
 * directory (0700, removed afterwards whatever happens), then copied into the database by `store
 * copy`'s one transaction (which also creates the schema). What `ca init --db URL --json` prints.
 */
export async function initCaInDb(db: PgStore, o: DbInitCaOptions & { force?: unknown }) {
  const keyType = parseKeyType((o.keyType ?? "ec-p256") as string);
  if (o.force) throw usageError("ca init --db never replaces a store: it needs an empty database");
  if (o.passphrase === undefined) throw usageError("initCa needs `passphrase` (a string or a function; with `pkcs11` the token's PIN, asked for only when the URI names no pin-source), or null for an unencrypted key");
  if (!(await db.isEmpty())) throw inputError("the database already holds a store: ca init --db needs an empty one", db.location, "exists");
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "mtlsctl-init-"));
  try {
    const dir = path.join(tmp, "pki");
    const passphrase = o.passphrase;
    const j = await new CaStore(dir).initCa({
      keyType,
      name: o.name,
      subject: o.subject,
      days: o.days,
      pathLen: o.pathLen,
      nameConstraints: o.nameConstraints,
      passphrase: passphrase === null ? null : async () => (await secretOf(passphrase)) as string,
      ...(o.pkcs11 !== undefined ? { pkcs11: o.pkcs11 } : {}),
      // an intermediate signed now by the root in that directory (recorded there), then copied in
      ...(o.root !== undefined ? { root: o.root } : {}),
    });
    await copyFileToPg(dir, db);
    return {
      ...j,
      dir: db.location,
      certFile: db.location,
      keyFile: db.location,
      ...(j.pkcs11File ? { pkcs11File: db.location } : {}),
      ...(j.intermediate ? { chainFile: `${db.location} (ca chain)`, rootsFile: `${db.location} (ca roots)` } : {}),
      warnings: j.warnings.map((w) => w.split(dir).join(db.location)),
    };
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}
