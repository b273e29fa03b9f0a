/**
 * Token management (`token create|list|revoke`, issue 17) on the Store seam: a token fixes the
 * identity of one future certificate (its name, subject, SANs, kind, lifetime and, optionally, the NATS
 * user it must map to). The token itself is returned once; the store keeps its SHA-256 hash.
 */
import { createHash } from "node:crypto";
import { inputError, usageError } from "../errors";
import { buildSubject } from "../ca";
import { checkSans, hasSans, Sans } from "../pki/san";
import { formatRfc4514, canonicalOrder, parseRfc4514 } from "../pki/name";
import { checkName } from "../store/store";
import { openFileStore } from "../store/file-api";
import { hashToken, newToken, newTokenId, tokenState, TokenState } from "../store/tokens";
import type { Store, TokenRecord } from "../store/types";
import { parseDuration } from "./duration";

/** A store directory (the file store), or any Store (issue 19: a database store). */
const storeOf = (dir: string | Store): Store => (typeof dir === "string" ? openFileStore(dir) : dir);

export interface TokenCreateOptions {
  sans: Sans;
  subject?: string;
  kind?: "client" | "server";
  /** How long the token can be used (default 15m). */
  ttl?: string;
  /** The certificate's lifetime (default: the CA's default for the kind). */
  lifetime?: string;
  expectUser?: string;
  now?: Date;
}

export interface TokenCreated {
  name: string;
  token: string;
  expires: string;
  id: string;
  kind: "client" | "server";
  subject: string;
  sans: Sans;
  lifetime: string | null;
  expectUser: string | null;
  warnings: string[];
}

export async function createToken(dir: string | Store, name: string, o: TokenCreateOptions): Promise<TokenCreated> {
  checkName(name);
  const kind = o.kind ?? "client";
  if (kind !== "client" && kind !== "server") throw usageError(`--kind must be client or server, not "${kind}"`);
  const warnings: string[] = [];
  const sans = checkSans(o.sans, warnings);
  if (kind === "server") {
    if (sans.email.length || sans.uri.length) throw usageError("a server token takes --dns and --ip only");
    if (!sans.dns.length && !sans.ip.length) throw usageError("a server token needs at least one --dns or --ip");
  }
  const subjectText = o.subject ?? `CN=${name}`;
  buildSubject(subjectText, warnings);
  const subject = formatRfc4514(canonicalOrder(parseRfc4514(subjectText)));
  if (!subject && !hasSans(sans)) throw inputError("a token needs a subject or at least one SAN");
  const ttl = parseDuration(o.ttl ?? "15m", "--ttl");
  const lifetime = o.lifetime === undefined ? null : parseDuration(o.lifetime, "--lifetime");
  if (o.expectUser !== undefined && o.expectUser === "") throw usageError("--expect-user needs a user");
  const store = storeOf(dir);
  if ((await store.nkeys()).some((k) => k.name === name)) throw inputError(`an NKey user is named "${name}": names are shared by certificates and NKeys`);
  const now = o.now ?? new Date();
  const token = newToken();
  const rec: TokenRecord = {
    id: newTokenId(),
    name,
    hash: hashToken(token),
    kind,
    subject,
    sans,
    lifetimeSeconds: lifetime === null ? null : Math.round(lifetime / 1000),
    expectUser: o.expectUser ?? null,
    createdAt: now.toISOString(),
    expiresAt: new Date(now.getTime() + ttl).toISOString(),
    revokedAt: null,
    claim: null,
  };
  await store.transaction(async (tx) => {
    await tx.putToken(rec);
    await tx.audit({ action: "token-create", name, detail: { id: rec.id, kind, expires: rec.expiresAt } });
  });
  return { name, token, expires: rec.expiresAt, id: rec.id, kind, subject, sans, lifetime: o.lifetime ?? null, expectUser: rec.expectUser, warnings };
}

export interface TokenListEntry {
  id: string;
  name: string;
  kind: string;
  state: TokenState;
  subject: string;
  sans: Sans;
  createdAt: string;
  expiresAt: string;
  revokedAt: string | null;
  serial: string | null;
  expectUser: string | null;
}

async function serialExists(store: Store) {
  const seen = new Map<string, boolean>();
  return async (s: string) => {
    if (!seen.has(s)) seen.set(s, !!(await store.findBySerial(s)));
    return seen.get(s)!;
  };
}

export async function listTokens(dir: string | Store, now = new Date()): Promise<TokenListEntry[]> {
  const store = storeOf(dir);
  const exists = await serialExists(store);
  const out: TokenListEntry[] = [];
  for (const t of await store.tokens()) {
    const claimed = t.claim ? await exists(t.claim.serial) : false;
    const state = tokenState(t, now, () => claimed);
    out.push({ id: t.id, name: t.name, kind: t.kind, state, subject: t.subject, sans: t.sans, createdAt: t.createdAt, expiresAt: t.expiresAt, revokedAt: t.revokedAt, serial: claimed ? t.claim!.serial : null, expectUser: t.expectUser });
  }
  return out;
}

/** `token revoke <name|id>`: the token (by id), or every usable token of the name, can no longer enrol. */
export async function revokeTokens(dir: string | Store, nameOrId: string, now = new Date()): Promise<{ revoked: { id: string; name: string }[] }> {
  const store = storeOf(dir);
  const all = await store.tokens();
  const byId = all.filter((t) => t.id === nameOrId);
  const targets = (byId.length ? byId : all.filter((t) => t.name === nameOrId)).filter((t) => !t.revokedAt);
  const exists = await serialExists(store);
  const usable: TokenRecord[] = [];
  for (const t of targets) if (!(t.claim && (await exists(t.claim.serial))) && new Date(t.expiresAt) > now) usable.push(t);
  if (!all.some((t) => t.id === nameOrId || t.name === nameOrId)) throw inputError(`no token named or with id "${nameOrId}"`);
  if (!usable.length) throw inputError(`no usable token named or with id "${nameOrId}" (already used, expired or revoked)`);
  await store.transaction(async (tx) => {
    for (const t of usable) {
      const cur = await tx.findToken(t.id);
      if (cur) await tx.putToken({ ...cur, revokedAt: now.toISOString() });
      await tx.audit({ action: "token-revoke", name: t.name, detail: { id: t.id } });
    }
  });
  return { revoked: usable.map((t) => ({ id: t.id, name: t.name })) };
}

/** SHA-256 hex of a SubjectPublicKeyInfo (what a claim records of the CSR's key). */
export const spkiSha256 = (spki: Buffer): string => createHash("sha256").update(spki).digest("hex");
