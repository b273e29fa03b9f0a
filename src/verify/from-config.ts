/** Turns the config reader's ServerConfig into what the verifier decides on. */
import type { OcspPeerConfig, ServerConfig, TlsConfig } from "../nats/conf/server-config";
import type { VerifierConfig } from "./verdict";
import type { VerifierOcspPeer } from "./types";
import type { MapUser } from "./mapping";

export function toVerifierConfig(sc: ServerConfig): VerifierConfig {
  const users: MapUser[] = [];
  const nkeys: VerifierConfig["nkeys"] = [];
  for (const u of sc.users) {
    if (u.nkey) nkeys.push({ nkey: u.nkey, account: u.account, ...(u.allowedConnectionTypes ? { allowedConnectionTypes: u.allowedConnectionTypes } : {}) });
    else if (u.user !== undefined)
      // the bytes only when they are not the text's UTF-8 (MapUser.userBytes): a Buffer per user was kept for the
      // whole run of a bulk verify, and a literal per shape, not a spread (V8 promotes spread copies; issue 9)
      users.push(
        u.userBytes && !isUtf8Of(u.userBytes, u.user)
          ? { user: u.user, userBytes: u.userBytes, password: u.password, account: u.account, allowedConnectionTypes: u.allowedConnectionTypes }
          : { user: u.user, password: u.password, account: u.account, allowedConnectionTypes: u.allowedConnectionTypes },
      );
  }
  const cache = sc.ocspCache?.type ?? "local";
  const tlsOf = (t: TlsConfig | undefined): VerifierConfig["tls"] =>
    t
      ? {
          caFile: t.caFile,
          verify: t.verify,
          verifyAndMap: t.map,
          mapVerifyConflict: t.verifyUncertain,
          pinnedCerts: t.pinnedCerts,
          laterKeys: t.laterKeys,
          ...(t.ocspPeer ? { ocspPeer: ocspPeerOf(t.ocspPeer, cache) } : {}),
        }
      : null;
  return {
    file: sc.file,
    tls: tlsOf(sc.tls),
    listeners: { WEBSOCKET: tlsOf(sc.websocket?.tls), MQTT: tlsOf(sc.mqtt?.tls), LEAFNODE: tlsOf(sc.leafnodes?.tls) },
    leafnode: sc.leafnodes ? leafnodeAuth(sc) : null,
    users,
    nkeys,
    singleUser: sc.authorization?.user !== undefined ? { user: sc.authorization.user, password: sc.authorization.password } : undefined,
    token: sc.authorization?.token !== undefined,
    tokenValue: sc.authorization?.token,
    noAuthUser: sc.noAuthUser,
  };
}

function ocspPeerOf(p: OcspPeerConfig, cache: "local" | "none"): VerifierOcspPeer {
  const { form, verify, caTimeout, allowedClockskew, warnOnly, unknownIsGood, allowWhenCaUnreachable, ttlUnsetNextUpdate } = p;
  return { form, verify, caTimeout, allowedClockskew, warnOnly, unknownIsGood, allowWhenCaUnreachable, ttlUnsetNextUpdate, cache };
}

/** leafnodes { authorization }: a single user, or its users (an absent name is the empty string; no account is $G). */
function leafnodeAuth(sc: ServerConfig): NonNullable<VerifierConfig["leafnode"]> {
  const a = sc.leafnodes?.authorization;
  return {
    singleUser: a?.user ? { user: a.user, password: a.password } : undefined,
    account: a?.account,
    users: (a?.users ?? []).map((u) => ({ user: u.user ?? "", password: u.password, account: u.account ?? null })),
    // the first account it cannot find stops the server at start (the config reader found it)
    refusedAtStart: sc.startupProblems.find((p) => p.kind === "leafnode account")?.message,
  };
}

/** Whether `b` is exactly the UTF-8 of `s` (without encoding `s` when it is ASCII, the common case). */
export function isUtf8Of(b: Buffer, s: string): boolean {
  if (b.length !== Buffer.byteLength(s, "utf8")) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x80) return b.equals(Buffer.from(s, "utf8"));
    if (b[i] !== c) return false;
  }
  return true;
}
