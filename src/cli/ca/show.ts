import { Ctx } from "../context";
import { Store } from "../../store/store";
import { formatRfc4514 } from "../../pki/name";

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
    ].join("\n"),
  );
}
