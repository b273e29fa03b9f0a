/**
 * The stored form of a NATS user's permissions: plain data, shared by the store's records (store/)
 * and the code that reads and writes permissions (nats/permissions.ts). No code, so that every
 * layer may name it.
 */

export interface SubjectRule {
  allow?: string[];
  deny?: string[];
}

/** What a client or NKey record carries (inventory), and what `config nats` writes for it. */
export interface UserPermissions {
  publish?: SubjectRule;
  subscribe?: SubjectRule;
  /** allow_responses: true: the user may publish to the reply subjects of requests it received (1 reply within 2 minutes each). */
  allowResponses?: boolean;
}
