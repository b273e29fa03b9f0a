/** The mapping stage lives with the other models of nats-server in src/nats/mapping.ts; re-exported for the verifier's importers. */
export { mapCertificate, typeKey, UserIndex } from "../nats/mapping";
export type { MapResult, MapUser, MatchedBy } from "../nats/mapping";
