/**
 * The nkey path of nats-server's client authentication (v2.9.10, reference §0 and §2.1 step 4):
 * when the server has nkey users AND the client's CONNECT carries an nkey, that nkey decides alone.
 * The certificate is not mapped; an nkey that is not configured (or not allowed on this connection
 * type) is refused, with no fallback to the certificate. The client holds the seed, so its
 * signature of the server's nonce verifies. The user the server reports (`authorized_user`) is the
 * public key. The TLS stage, which runs before, is the caller's (verifyConnection).
 *
 * No nkeys.js here: the public key was derived from the seed by the caller.
 */
import type { VerifierConfig, Verdict } from "./types";

/** Whether the client's tls {} (for its connection type) makes the server ask for a certificate, and why. */
export function clientCertRequired(tls: VerifierConfig["tls"]): string | null {
  if (!tls) return null;
  if (tls.mapVerifyConflict) return "verify_and_map: true with verify: false (the server asks for a certificate in the restarts where verify_and_map wins)";
  if (tls.verifyAndMap) return "verify_and_map";
  if (tls.verify) return "verify";
  return null;
}

export function nkeyVerdict(
  cfg: VerifierConfig,
  publicKey: string,
  o: { connectionType: string; connectUser?: string; connectPassword?: string; certificate: boolean },
  base: Pick<Verdict, "serverVersion" | "notes" | "tlsChecks">,
): Verdict {
  const notes = base.notes;
  const common = { ...base, ambiguous: false, matchedBy: null, user: null, account: null, candidates: [] as string[] };
  const entry = cfg.nkeys.find((k) => k.nkey === publicKey);
  const fallbackNote = o.certificate ? "; the certificate is not tried (no fallback from an nkey to the certificate)" : "";
  if (!entry)
    return {
      ...common,
      accepted: false,
      stage: "auth",
      reason: `the client sends the nkey ${publicKey}, which is not one of the ${cfg.nkeys.length} nkey user(s) configured: authentication error${fallbackNote}`,
    };
  const types = entry.allowedConnectionTypes;
  if (types && types.length && !types.includes(o.connectionType))
    return {
      ...common,
      accepted: false,
      stage: "auth",
      reason: `the nkey user ${publicKey} is allowed only on ${types.join(", ")} connections, not ${o.connectionType}: authentication error${fallbackNote}`,
    };
  if (o.connectUser !== undefined) notes.push(`the user name ${JSON.stringify(o.connectUser)} sent in CONNECT plays no part on the nkey path`);
  if (o.connectPassword !== undefined) notes.push("the password sent in CONNECT plays no part on the nkey path");
  if (o.certificate) notes.push("nkeys are checked before certificates: the certificate passed the TLS stage but is not mapped to a user");
  return {
    ...common,
    accepted: true,
    stage: null,
    user: publicKey,
    account: entry.account,
    matchedBy: "nkey",
    candidates: [publicKey],
    reason: `the client's nkey ${publicKey} is a configured nkey user${entry.account ? ` of account ${entry.account}` : ""} and it signs the server's nonce with the seed`,
  };
}
