/**
 * NKey user pairs (nats-server `{ nkey: "U..." }` users), with the NATS project's own library,
 * nkeys.js. It is loaded only here, when an nkey code path runs, so other commands never load it.
 *
 *  - createNkey: a new user pair; the seed goes to <dir>/nkeys/<name>.nk alone on one line (mode 0600,
 *    atomic), the public key into the inventory's `nkeys` array (the commit point);
 *  - readSeedFile: a seed file as nats clients read one (the seed alone on a line), checked to be a
 *    valid user seed; anything else is exit 3 naming the file.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { inputError } from "../errors";
import { writeFileAtomic } from "../store/atomic";
import { checkName, Inventory, LAYOUT, NkeyRecord, Store } from "../store/store";
import type { UserPermissions } from "../nats/permissions";
import type { Store as StoreApi } from "../store/types";

type NkeysLib = typeof import("nkeys.js");
let lib: NkeysLib | undefined;
/** nkeys.js, loaded on first use (CommonJS: lib/index.js). */
export function nkeysLib(): NkeysLib {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (lib ??= require("nkeys.js") as NkeysLib);
}

/** The seeds' directory (the store's layout: LAYOUT.nkeySeedRel). */
export const NKEY_DIR = LAYOUT.secretDirs[1];

/** The NKey records of an inventory (none before the first `nkey create`). */
export function nkeysOf(inv: Inventory): NkeyRecord[] {
  return inv.nkeys ?? [];
}

/** Why `name` cannot be used for a new NKey, or null: names share one space with certificates. */
export function nameClash(inv: Inventory, name: string): string | null {
  if (inv.ca.name === name) return `"${name}" is the CA's name`;
  const cert = inv.certificates.filter((c) => c.name === name).pop();
  if (cert) return `a ${cert.kind} certificate is named "${name}" (serial ${cert.serial}); NKey and certificate names must differ`;
  return null;
}

export interface CreatedNkey {
  record: NkeyRecord;
  seedFile: string;
  seed: string;
  replaced: NkeyRecord | null;
}

/**
 * Makes a user NKey pair named `name`. An existing NKey of that name is refused (exit 3) unless
 * `force`, which replaces it (a new pair: the old public key stops working once the server's
 * config is regenerated). A certificate of that name is always refused.
 */
export function createNkey(store: Store, name: string, o: { force?: boolean; now?: Date; account?: string | null; permissions?: UserPermissions | null } = {}): CreatedNkey {
  checkName(name);
  const rel = LAYOUT.nkeySeedRel(name);
  const file = store.path(rel);
  // refuse before taking the lock or making any file
  const pre = store.readInventory();
  const clash0 = nameClash(pre, name);
  if (clash0) throw inputError(clash0, store.inventoryFile);
  const existing0 = nkeysOf(pre).find((k) => k.name === name);
  if (existing0 && !o.force) throw inputError(`the NKey "${name}" already exists (${existing0.publicKey}; use --force to replace it)`, file);

  return store.withLock(() => {
    const inv = store.readInventory();
    const clash = nameClash(inv, name);
    if (clash) throw inputError(clash, store.inventoryFile);
    const list = nkeysOf(inv);
    const existing = list.find((k) => k.name === name) ?? null;
    if (existing && !o.force) throw inputError(`the NKey "${name}" already exists (${existing.publicKey}; use --force to replace it)`, file);

    const { seed, publicKey } = newUserKeyPair();

    // the seed first (atomic, 0600, in a 0700 directory), then the inventory names it
    const dir = path.dirname(file);
    const madeDir = !fs.existsSync(dir);
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    if (madeDir) fs.chmodSync(dir, 0o700);
    writeFileAtomic(file, seed + "\n", { mode: 0o600 });
    const record: NkeyRecord = { name, publicKey, createdAt: (o.now ?? new Date()).toISOString(), seedFile: rel.split(path.sep).join("/") };
    // the user's NATS account and permissions: given, else kept from the NKey it replaces (--force)
    const account = o.account !== undefined ? o.account : existing?.account;
    const permissions = o.permissions !== undefined ? o.permissions : existing?.permissions;
    if (account) record.account = account;
    if (permissions) record.permissions = permissions;
    inv.nkeys = [...list.filter((k) => k.name !== name), record];
    store.writeInventory(inv);
    return { record, seedFile: file, seed, replaced: existing };
  });
}

export interface SeedInfo {
  file: string;
  publicKey: string;
  /** The seed itself (a secret: never printed). */
  seed: string;
  /** Set when the file can be read by group or others (a seed is a secret). */
  looseMode?: number;
}

/**
 * Reads an NKey seed file: the seed alone on one line (surrounding blank lines and spaces are
 * ignored). It must be a user seed (SU...), the kind nats-server's `{ nkey: "U..." }` users take.
 * Any other content is exit 3 naming the file; the seed itself never appears in a message.
 */
export function readSeedFile(file: string): SeedInfo {
  const shown = file === "-" ? "<stdin>" : file;
  let text: string;
  let looseMode: number | undefined;
  try {
    if (file === "-") text = fs.readFileSync(0, "utf8");
    else {
      const st = fs.statSync(file);
      if (st.isDirectory()) throw inputError("is a directory, not an NKey seed file", file);
      if (st.mode & 0o077) looseMode = st.mode & 0o777;
      text = fs.readFileSync(file, "utf8");
    }
  } catch (e) {
    if ((e as { exitCode?: number }).exitCode) throw e;
    throw inputError("cannot read the NKey seed file", shown);
  }
  return { ...seedPublicKey(text, shown), ...(looseMode !== undefined ? { looseMode } : {}) };
}

/** The user public key of a seed given as text (the seed alone on one line); `shown` names it in errors. */
export function seedPublicKey(text: string, shown = "<nkey seed>"): { file: string; publicKey: string; seed: string } {
  const lines = text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== "");
  if (lines.length === 0) throw inputError("the NKey seed file is empty", shown);
  if (lines.length > 1) throw inputError(`not an NKey seed file: expected the seed alone on one line, found ${lines.length} lines`, shown);
  const seed = lines[0];
  if (!/^S[A-Z2-7]+$/.test(seed)) throw inputError("not an NKey seed (a seed is one line of base32 starting with S, e.g. SU... for a user)", shown);
  const nk = nkeysLib();
  let publicKey: string;
  try {
    const kp = nk.fromSeed(new TextEncoder().encode(seed));
    publicKey = kp.getPublicKey();
    kp.clear();
  } catch (e) {
    throw inputError(`not a valid NKey seed (${String((e as Error).message ?? e).replace(/^nkeys: /, "")})`, shown);
  }
  if (!publicKey.startsWith("U")) {
    const kind = { A: "an account", O: "an operator", N: "a server", C: "a cluster", X: "a curve" }[publicKey[0]] ?? "a non-user";
    throw inputError(`this is ${kind} seed (S${seed[1]}...), not a user seed (SU...): nats-server's nkey users are user keys`, shown);
  }
  return { file: shown, publicKey, seed };
}

/**
 * `nkey create --db` (issue 19): the same pair, checks and record as createNkey, on a store named by
 * the Store interface that keeps no secret (a database): the seed goes to `outDir`/<name>.nk (0600,
 * atomic; an existing file only with force), the record (its seedFile: that file, absolute) is put in
 * one store transaction. The seed is written before the commit, as createNkey writes it before the
 * inventory: a committed record always has its seed; a refused commit removes the file it wrote.
 */
export async function createNkeyInStore(store: StoreApi, name: string, o: { force?: boolean; now?: Date; account?: string | null; permissions?: UserPermissions | null; outDir: string }): Promise<CreatedNkey> {
  checkName(name);
  const file = path.resolve(o.outDir, `${name}.nk`);
  const clashOf = async (find: (n: string) => Promise<{ kind: string; serial: string } | undefined>, ca: { name: string }) => {
    if (ca.name === name) return `"${name}" is the CA's name`;
    const cert = await find(name);
    return cert ? `a ${cert.kind} certificate is named "${name}" (serial ${cert.serial}); NKey and certificate names must differ` : null;
  };
  const refuse = async (h: { ca: { name: string }; nkeys?: NkeyRecord[] }, find: (n: string) => Promise<{ kind: string; serial: string } | undefined>) => {
    const clash = await clashOf(find, h.ca);
    if (clash) throw inputError(clash, store.location);
    const existing = (h.nkeys ?? []).find((k) => k.name === name) ?? null;
    if (existing && !o.force) throw inputError(`the NKey "${name}" already exists (${existing.publicKey}; use --force to replace it)`, store.location);
    return existing;
  };
  // refused before anything is made
  await refuse(await store.header(), (n) => store.findByName(n));
  if (!o.force && fs.existsSync(file)) throw inputError("already exists (use --force to replace it)", file);
  let wrote = false;
  try {
    return await store.transaction(async (tx) => {
      const existing = await refuse(await tx.header(), (n) => tx.findByName(n));
      const { seed, publicKey } = newUserKeyPair();
      fs.mkdirSync(path.dirname(file), { recursive: true });
      writeFileAtomic(file, seed + "\n", { mode: 0o600 });
      wrote = true;
      const record: NkeyRecord = { name, publicKey, createdAt: (o.now ?? new Date()).toISOString(), seedFile: file };
      const account = o.account !== undefined ? o.account : existing?.account;
      const permissions = o.permissions !== undefined ? o.permissions : existing?.permissions;
      if (account) record.account = account;
      if (permissions) record.permissions = permissions;
      await tx.putNkey(record);
      return { record, seedFile: file, seed, replaced: existing };
    });
  } catch (e) {
    if (wrote) fs.rmSync(file, { force: true });
    throw e;
  }
}

/** A new NKey user key pair (nkeys.js), checked: its seed (SU…) and public key (U…, 56 characters). */
function newUserKeyPair(): { seed: string; publicKey: string } {
  const kp = nkeysLib().createUser();
  const seed = new TextDecoder().decode(kp.getSeed());
  const publicKey = kp.getPublicKey();
  kp.clear();
  if (!/^SU[A-Z2-7]+$/.test(seed) || !/^U[A-Z2-7]{55}$/.test(publicKey)) throw new Error("nkeys.js returned an unexpected key pair");
  return { seed, publicKey };
}
