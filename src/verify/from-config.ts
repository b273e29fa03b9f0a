/** Turns the config reader's ServerConfig into what the verifier decides on. */
import type { ServerConfig, TlsConfig } from "../nats/conf/server-config";
import type { VerifierConfig } from "./verdict";
import type { MapUser } from "./mapping";

export function toVerifierConfig(sc: ServerConfig): VerifierConfig {
  const users: MapUser[] = [];
  const nkeys: VerifierConfig["nkeys"] = [];
  for (const u of sc.users) {
    if (u.nkey) nkeys.push({ nkey: u.nkey, account: u.account, ...(u.allowedConnectionTypes ? { allowedConnectionTypes: u.allowedConnectionTypes } : {}) });
    else if (u.user !== undefined) users.push({ user: u.user, ...(u.userBytes ? { userBytes: u.userBytes } : {}), password: u.password, account: u.account, allowedConnectionTypes: u.allowedConnectionTypes });
  }
  const tlsOf = (t: TlsConfig | undefined): VerifierConfig["tls"] =>
    t ? { caFile: t.caFile, verify: t.verify, verifyAndMap: t.map, mapVerifyConflict: t.verifyUncertain, pinnedCerts: t.pinnedCerts, laterKeys: t.laterKeys } : null;
  return {
    file: sc.file,
    tls: tlsOf(sc.tls),
    listeners: { WEBSOCKET: tlsOf(sc.websocket?.tls), MQTT: tlsOf(sc.mqtt?.tls), LEAFNODE: tlsOf(sc.leafnodes?.tls) },
    leafnode: sc.leafnodes ? leafnodeAuth(sc) : null,
    users,
    nkeys,
    singleUser: sc.authorization?.user !== undefined ? { user: sc.authorization.user, password: sc.authorization.password } : undefined,
    token: sc.authorization?.token !== undefined,
    noAuthUser: sc.noAuthUser,
  };
}

/** leafnodes { authorization }: a single user, or its users (an absent name is the empty string; no account is $G). */
function leafnodeAuth(sc: ServerConfig): NonNullable<VerifierConfig["leafnode"]> {
  const a = sc.leafnodes?.authorization;
  return {
    singleUser: a?.user ? { user: a.user, password: a.password } : undefined,
    account: a?.account,
    users: (a?.users ?? []).map((u) => ({ user: u.user ?? "", password: u.password, account: u.account ?? null })),
    definedAccounts: sc.accounts.map((x) => x.name),
  };
}
