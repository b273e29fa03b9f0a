/**
 * The verifier's input (what it needs of a server configuration) and output (the `verify --json`
 * object), apart from the code that decides: src/verify/verdict.ts and src/verify/nkey-stage.ts both
 * use them, and neither imports the other for them.
 */
import type { ChainResult } from "./chain";
import type { MapUser, MatchedBy } from "../nats/mapping";
import type { OcspPeerConfig } from "../nats/conf/types";

/** What the verifier needs of a server configuration (see src/nats/conf for the reader). */
export interface VerifierConfig {
  file: string;
  /** The client tls {} block, or null when there is none. */
  tls: null | {
    caFile?: string;
    verify: boolean;
    verifyAndMap: boolean;
    /** verify_and_map: true together with an explicit verify: false (resolved at random per restart). */
    mapVerifyConflict: boolean;
    pinnedCerts?: string[];
    /** Keys newer than 2.9.10 that were accepted (e.g. ocsp_peer, handshake_first). */
    laterKeys?: string[];
    /** `ocsp_peer` (src/verify/ocsp-peer.ts). */
    ocspPeer?: VerifierOcspPeer;
  };
  /** The listener blocks' own tls {} (websocket, MQTT and leafnode connections use those, with their own flags). */
  listeners?: Partial<Record<"WEBSOCKET" | "MQTT" | "LEAFNODE", VerifierConfig["tls"]>>;
  /** leafnodes { authorization }: a single user (and account), or users matched by exact string (src/verify/leafnode.ts); null: no leafnodes block. */
  leafnode?: { singleUser?: { user: string; password?: string }; account?: string; users: MapUser[]; refusedAtStart?: string } | null;
  users: MapUser[];
  nkeys: { nkey: string; account: string | null; allowedConnectionTypes?: string[] }[];
  /** authorization { user, password } (a single user) */
  singleUser?: { user: string; password?: string };
  token?: boolean;
  /** authorization { token }: its value (a bcrypt hash is compared as the server compares it). */
  tokenValue?: string;
  noAuthUser?: string;
}

/** `tls { ocsp_peer }` (the config model's shape, without its position) and the top-level `ocsp_cache`, as the verifier needs them (durations in seconds). */
export type VerifierOcspPeer = Omit<OcspPeerConfig, "pos"> & {
  /** The response cache: "local" (the server's default) or "none" (`ocsp_cache: false`). */
  cache: "local" | "none";
};

/** The verdict's `ocspPeer` (design.md): present when the connection's tls block has ocsp_peer. */
export interface OcspPeerVerdict {
  /** The server refuses this certificate unless its responder says good (verify on, a responder named, not warn_only). */
  required: boolean;
  /** The certificate's OCSP responder (AIA id-ad-ocsp), or null. */
  responder: string | null;
  status: "good" | "revoked" | "unknown" | "unreachable" | "not-checked";
}

export interface Verdict {
  accepted: boolean;
  user: string | null;
  account: string | null;
  matchedBy: MatchedBy | "nkey" | null;
  stage: "config" | "tls" | "map" | "auth" | null;
  ambiguous: boolean;
  candidates: string[];
  reason: string;
  serverVersion: string;
  /** Extra facts: the TLS checks, assumptions made (e.g. the directory paths were resolved from). */
  tlsChecks?: ChainResult["checks"];
  notes: string[];
  /** With ocsp_peer in the connection's tls block. */
  ocspPeer?: OcspPeerVerdict;
}
