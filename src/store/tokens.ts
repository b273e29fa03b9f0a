/**
 * One-time enrolment tokens (issue 17) in the file store: <dir>/tokens.json, mode 0600, written
 * atomically under the store's lock. Only a SHA-256 hash of each token is kept; the token itself is
 * printed once by `token create` and never stored.
 *
 * A claim (a successful EST simpleenroll) records the serial it was spent on and the SHA-256 of the
 * CSR key's SubjectPublicKeyInfo. The claim is written under the same lock as the certificate, just
 * before the certificate's record is committed; a claim whose serial the store does not hold (a crash
 * between the two) counts as no claim (tokenState), so the certificate's record is the commit point.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { inputError } from "../errors";
import { writeFileAtomic } from "./atomic";
import type { TokenRecord } from "./types";

export type { TokenRecord } from "./types";

export const TOKENS_FILE = "tokens.json";

export const hashToken = (token: string): string => createHash("sha256").update(token, "utf8").digest("hex");

/** A new token: 32 random bytes, base64url (43 characters, no ':' so it can be an HTTP Basic password). */
export const newToken = (): string => randomBytes(32).toString("base64url");

/** A new token id (what `token list` shows and `token revoke` takes beside the name). */
export const newTokenId = (): string => randomBytes(6).toString("hex");

/** Whether `token` is the one hashed in `rec` (constant time). */
export function tokenMatches(rec: TokenRecord, token: string): boolean {
  const a = Buffer.from(hashToken(token), "hex");
  const b = Buffer.from(rec.hash, "hex");
  return a.length === b.length && timingSafeEqual(a, b);
}

export type TokenState = "active" | "claimed" | "expired" | "revoked";

/** What a token is now; `serialExists` answers whether a claim's serial is in the store (else the claim never committed). */
export function tokenState(rec: TokenRecord, now: Date, serialExists: (serial: string) => boolean): TokenState {
  if (rec.revokedAt) return "revoked";
  if (rec.claim && serialExists(rec.claim.serial)) return "claimed";
  if (new Date(rec.expiresAt).getTime() <= now.getTime()) return "expired";
  return "active";
}

/** The tokens file of a store directory. */
export class TokenFile {
  readonly file: string;
  constructor(dir: string) {
    this.file = path.join(dir, TOKENS_FILE);
  }

  read(): TokenRecord[] {
    let text: string;
    try {
      text = fs.readFileSync(this.file, "utf8");
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return [];
      throw inputError("cannot read the tokens file", this.file);
    }
    try {
      const v = JSON.parse(text) as { version: number; tokens: TokenRecord[] };
      if (!v || !Array.isArray(v.tokens)) throw new Error("no tokens");
      return v.tokens;
    } catch {
      throw inputError("the tokens file is not valid JSON", this.file);
    }
  }

  /** Replaces the file (atomic: write beside, flush, rename). Call it holding the store's lock. */
  write(tokens: TokenRecord[]): void {
    writeFileAtomic(this.file, JSON.stringify({ version: 1, tokens }, null, 1) + "\n", { mode: 0o600 });
  }

  /** A token by its id, else the newest of that name. */
  find(nameOrId: string): TokenRecord | undefined {
    const all = this.read();
    return all.find((t) => t.id === nameOrId) ?? all.filter((t) => t.name === nameOrId).pop();
  }
}
