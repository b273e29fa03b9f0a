/**
 * `verify --connection-type LEAFNODE`: an inbound leafnode connection to the leafnodes {} block, as
 * nats-server 2.9.10's isLeafNodeAuthorized decides it (server/auth.go):
 *  1. leafnodes { authorization { user, password } }: the CONNECT user and password must match; the
 *     leafnode binds to the block's account (else $G). verify_and_map plays no part.
 *  2. leafnodes { authorization { users = [...] } }: with verify_and_map, the certificate is matched
 *     by exact string only (email SANs, DNS SANs, URI SANs, the DC string, Go's subject string; the
 *     DN stage passes an empty string, so only a user with an empty name matches there); without it,
 *     the CONNECT user name. The user's password must match; the leafnode binds to the user's account.
 *  3. neither: the client path (tls verify_and_map of the leafnodes block against the top-level
 *     users, connection type LEAFNODE); with no authentication at all, the block's account.
 * The TLS stage is the leafnodes block's own tls {} (ca_file, verify, pinned_certs).
 */
import type { ParsedCertificate } from "../pki/cert";
import { verifyConnection, Verdict, VerifierConfig, VerifyOptions } from "./verdict";

export function verifyLeafnode(leaf: ParsedCertificate | null, intermediates: ParsedCertificate[], cfg: VerifierConfig, o: VerifyOptions): Verdict {
  const opts: VerifyOptions = { ...o, connectionType: "LEAFNODE" };
  const ln = cfg.leafnode;
  const refuseConfig = (reason: string): Verdict => ({ accepted: false, user: null, account: null, matchedBy: null, stage: "config", ambiguous: false, candidates: [], reason, serverVersion: o.version, notes: [] });
  if (!ln) return refuseConfig("the config has no leafnodes {} block: the server accepts no leafnode connections");
  // validateLeafNode (at start, not under `nats-server -t`): every account named must be defined (server-config.ts)
  if (ln.refusedAtStart) return refuseConfig(`${ln.refusedAtStart}: the server refuses to start (nats-server -t passes)`);
  const tls = cfg.listeners?.LEAFNODE ?? null;
  const only = (c: Partial<VerifierConfig>): VerifierConfig => ({ ...cfg, users: [], nkeys: [], singleUser: undefined, token: false, noAuthUser: undefined, ...c });
  if (ln.singleUser) {
    // the single user wins over verify_and_map; the certificate only passes the TLS stage
    const noMap = tls ? { ...tls, verify: tls.verify || tls.verifyAndMap, verifyAndMap: false, mapVerifyConflict: false } : null;
    const v = verifyConnection(leaf, intermediates, only({ singleUser: ln.singleUser, listeners: { ...cfg.listeners, LEAFNODE: noMap } }), opts);
    if (tls?.verifyAndMap) v.notes.push("leafnodes authorization has a single user: verify_and_map is not consulted, the CONNECT user and password decide");
    return v.accepted ? { ...v, account: ln.account ?? null } : v;
  }
  if (ln.users.length) {
    const v = verifyConnection(leaf, intermediates, only({ users: ln.users }), { ...opts, exactOnly: true });
    if (tls?.verifyAndMap) v.notes.push("leafnodes users are matched by exact string only (email, DNS, URI SANs, then Go's subject string): no DN matching as for clients");
    return v;
  }
  const v = verifyConnection(leaf, intermediates, cfg, opts);
  if (v.accepted && v.user === null && v.account === null && ln.account) return { ...v, account: ln.account };
  return v;
}
