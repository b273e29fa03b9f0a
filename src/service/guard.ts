/**
 * The mapping guard (issue 17): with `serve --nats-config F`, every client certificate is run through
 * the embedded verifier (src/api/verify.ts) after it is built and before it is stored or returned. A
 * certificate that F would refuse, that maps to another user than `config nats --map` writes for it, or
 * that maps ambiguously, is refused (403, the verifier's reason).
 */
import { createVerifier, Verifier } from "../api/verify";
import { certificatePem, ParsedCertificate } from "../pki/cert";
import { natsUserFor, MapMode } from "../nats/user";
import { Refusal } from "./refusal";

export interface Guard {
  readonly configFile: string;
  /** Throws a 403 Refusal when the certificate would not log in as its own user (or as `expectUser`). */
  check(cert: ParsedCertificate, expectUser: string | null): void;
}

export function createGuard(o: { configFile: string; map?: MapMode; chain: ParsedCertificate[]; serverVersion?: string }): Guard {
  const verifier: Verifier = createVerifier({ config: o.configFile, serverVersion: o.serverVersion });
  const chainPem = o.chain.map((c) => certificatePem(c.der)).join("");
  const map = o.map ?? "auto";
  return {
    configFile: o.configFile,
    check(cert, expectUser) {
      const r = verifier.verify(certificatePem(cert.der) + chainPem, "<new certificate>");
      if (r.ambiguous) throw new Refusal(403, `the NATS config would map this certificate ambiguously (${r.candidates.map((c) => JSON.stringify(c)).join(", ")}): ${r.reason}`);
      if (!r.accepted) throw new Refusal(403, `the NATS config would refuse this certificate (${r.stage} stage): ${r.reason}`);
      const own = natsUserFor(cert, map).user;
      if (r.user !== own) throw new Refusal(403, `the NATS config would map this certificate to ${JSON.stringify(r.user)}, not to ${JSON.stringify(own)} (the user config nats --map ${map} writes for it)`);
      if (expectUser !== null && r.user !== expectUser) throw new Refusal(403, `the certificate would log in as ${JSON.stringify(r.user)}, but the token expects ${JSON.stringify(expectUser)}`);
    },
  };
}
