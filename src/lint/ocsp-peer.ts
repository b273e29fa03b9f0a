/**
 * lint findings for `tls { ocsp_peer }` (src/verify/ocsp-peer.ts has the server's rules): a block
 * that asks no responder after all, the response cache that lets a revoked certificate in until its
 * cached good answer expires, and certificates that name no responder (never checked). On a server
 * before 2.9.21 the key itself is refused (NATS000, from the config reader: `unknown field`).
 */
import type { ServerConfig, TlsConfig } from "../nats/conf/server-config";
import { ocspUrls } from "../verify/ocsp-peer";
import type { Finding } from "./codes";
import { finding, shortPath } from "./config";
import type { LintCert } from "./certs";

export function lintOcspPeer(sc: ServerConfig, certs: LintCert[] | undefined): Finding[] {
  const out: Finding[] = [];
  const blocks: [string, TlsConfig | undefined][] = [
    ["tls", sc.tls],
    ["websocket tls", sc.websocket?.tls],
    ["mqtt tls", sc.mqtt?.tls],
    ["leafnodes tls", sc.leafnodes?.tls],
  ];
  for (const [name, tls] of blocks) {
    const op = tls?.ocspPeer;
    if (!op) continue;
    const at = { file: op.pos.file, line: op.pos.line, col: op.pos.col };
    if (!op.verify) {
      if (op.form === "map")
        out.push(finding("NATS034", at, `${name} { ocsp_peer { … } } has no verify: true: the map form's verify defaults to false, so the server asks no OCSP responder`, "add verify: true to the ocsp_peer block (or write ocsp_peer: true)"));
      continue;
    }
    if (name === "tls" && (sc.ocspCache?.type ?? "local") === "local")
      out.push(
        finding(
          "NATS035",
          sc.ocspCache ? { file: sc.ocspCache.pos.file, line: sc.ocspCache.pos.line, col: sc.ocspCache.pos.col } : at,
          `ocsp_peer with the ${sc.ocspCache ? "local" : "default (local)"} response cache: a good answer is reused until its nextUpdate, so a certificate revoked meanwhile still connects until then (observed on 2.9.25 … 2.15.3)`,
          "set ocsp_cache: false at the top level to ask the responder at every handshake (or accept the delay: mtlsctl serve's answers are good for 1 h)",
        ),
      );
    if (op.warnOnly) out.push(finding("NATS036", at, `${name} ocsp_peer has warn_only: true: revoked, unknown and unreachable answers are only logged, every client still connects`, "remove warn_only once the responder is reliable"));
    if (name === "tls" && certs?.length)
      for (const c of certs)
        if (ocspUrls(c.leaf).length === 0 && c.intermediates.every((i) => ocspUrls(i).length === 0))
          out.push(
            finding(
              "NATS037",
              { file: c.file, line: null },
              `${c.name ?? shortPath(c.file)} names no OCSP responder (no AIA id-ad-ocsp URL): ocsp_peer (${shortPath(op.pos.file)}:${op.pos.line}) lets it in without asking, so its revocation is never checked`,
              "mtlsctl ca set --ocsp-url URL, then renew the certificate (certificates issued before keep what they have)",
            ),
          );
  }
  return out;
}
