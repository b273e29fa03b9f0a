import { Ctx } from "../context";
import { Store } from "../../store/store";
import { formatRfc4514 } from "../../pki/name";
import { constraintsSummary, describeConstraints, parseNameConstraints } from "../../pki/constraints";
import type { ParsedCertificate } from "../../pki/cert";

const nameConstraintsOf = (c: ParsedCertificate) => {
  const { nc } = parseNameConstraints(c);
  return nc ? describeConstraints(nc) : null;
};

export function run(_args: string[], o: Record<string, any>): void {
  const ctx = new Ctx(o);
  const store = Store.open(ctx.dir);
  const c = store.caCertificate();
  const inv = store.readInventory();
  const info = {
    subject: formatRfc4514(c.subject),
    serial: c.serialHex,
    keyType: inv.ca.keyType,
    notBefore: c.notBefore.toISOString(),
    notAfter: c.notAfter.toISOString(),
    daysLeft: Math.floor((c.notAfter.getTime() - Date.now()) / 86_400_000),
    pathLen: c.basicConstraints?.pathLen ?? null,
    fingerprint: c.fingerprint,
    keyEncrypted: store.caKeyEncrypted(),
    certFile: store.caCertFile,
    issued: inv.certificates.filter((x) => x.status === "valid").length,
    // issue 10: name constraints, and for an intermediate store its chain (chain.pem) and roots (roots.pem)
    nameConstraints: nameConstraintsOf(c),
    chain: store.presentedChain().map((x) => ({ subject: formatRfc4514(x.subject), serial: x.serialHex, pathLen: x.basicConstraints?.pathLen ?? null, nameConstraints: nameConstraintsOf(x) })),
    chainFile: store.presentedChain().length ? store.chainFile : null,
    roots: store.trustAnchors().map((x) => ({ subject: formatRfc4514(x.subject), serial: x.serialHex, fingerprint: x.fingerprint, nameConstraints: nameConstraintsOf(x) })),
    // ca rollover / retire: the previous CAs, and which of them roots.pem still trusts (the overlap)
    trustFile: store.trustFile,
    overlap: (inv.previousCas ?? []).some((p) => p.caStatus === "overlap"),
    previous: (inv.previousCas ?? []).map((p) => ({
      subject: p.subject,
      serial: p.serial,
      notAfter: p.notAfter,
      fingerprint: p.fingerprint,
      caStatus: p.caStatus,
      replacedAt: p.replacedAt,
      retiredAt: p.retiredAt,
      certFile: store.path(p.certFile),
      valid: inv.certificates.filter((x) => x.status === "valid" && x.caSerial === p.serial && new Date(x.notAfter).getTime() > Date.now()).length,
    })),
  };
  ctx.result(info, () =>
    [
      `CA           ${info.subject}`,
      `key          ${info.keyType} (${info.keyEncrypted ? "encrypted" : "NOT encrypted"})`,
      `serial       ${info.serial}`,
      `valid        ${info.notBefore} .. ${info.notAfter} (${info.daysLeft} days left)`,
      `path length  ${info.pathLen ?? "unlimited"}`,
      `SHA-256      ${info.fingerprint}`,
      `certificate  ${info.certFile}`,
      `issued       ${info.issued} valid certificate(s)`,
      ...(info.nameConstraints ? [`constraints  ${constraintsSummary(parseNameConstraints(c).nc!)}`] : []),
      ...(info.chainFile ? [`chain        ${info.chain.map((x) => x.subject).join(" <- ")} (${info.chainFile})`] : []),
      ...(info.chainFile ? info.roots.map((r) => `root         ${r.subject}, serial ${r.serial}${r.nameConstraints ? `; constraints ${constraintsSummary(parseNameConstraints(store.trustAnchors().find((x) => x.serialHex === r.serial)!).nc!)}` : ""} (${store.trustFile})`) : []),
      ...(info.previous.length ? [`trust file   ${info.trustFile}${info.overlap ? " (rollover overlap: the previous CA(s) below marked overlap are still trusted)" : ""}`] : []),
      ...info.previous.map(
        (p) => `previous     ${p.subject}, serial ${p.serial}: ${p.caStatus === "overlap" ? "OVERLAP (still trusted)" : `retired ${p.retiredAt}`}, replaced ${p.replacedAt}; ${p.valid} valid certificate(s)${p.valid && p.caStatus === "overlap" ? " to renew" : ""}`,
      ),
    ].join("\n"),
  );
}
