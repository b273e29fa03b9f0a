import { Ctx } from "../context";
import { Store } from "../../store/store";
import { formatRfc4514 } from "../../pki/name";
import { constraintsSummary, describeConstraints, parseNameConstraints } from "../../pki/constraints";
import type { ParsedCertificate } from "../../pki/cert";
import type { Inventory } from "../../store/types";
import { isEncryptedKeyPem } from "../../pki/keys";
import { inventoryOf } from "../../api/db-store";
import { withDb } from "../store/open";

const nameConstraintsOf = (c: ParsedCertificate) => {
  const { nc } = parseNameConstraints(c);
  return nc ? describeConstraints(nc) : null;
};

/** What `ca show` needs, from a file store or (issue 19) a database store, whose "files" are its location. */
interface ShowSource {
  c: ParsedCertificate;
  inv: Inventory;
  keyEncrypted: boolean;
  /** The PKCS#11 URI of a token-held CA key, else null. */
  pkcs11: string | null;
  chain: ParsedCertificate[];
  roots: ParsedCertificate[];
  certFile: string;
  chainFile: string;
  trustFile: string;
  previousCertFile(rel: string): string;
}

async function fromDb(ctx: Ctx): Promise<ShowSource> {
  return withDb(ctx, async (db) => {
    const [c, inv, key, chain, roots] = await Promise.all([db.caCertificate(), inventoryOf(db), db.caKey(), db.presentedChain(), db.trustAnchors()]);
    return { c, inv, keyEncrypted: key.pem !== undefined ? isEncryptedKeyPem(key.pem) : false, pkcs11: key.pkcs11Uri ?? null, chain, roots, certFile: db.location, chainFile: db.location, trustFile: db.location, previousCertFile: () => db.location };
  });
}

function fromDir(dir: string): ShowSource {
  const store = Store.open(dir);
  return {
    c: store.caCertificate(),
    inv: store.readInventory(),
    keyEncrypted: store.caKeyEncrypted(),
    pkcs11: ((r) => (r.kind === "pkcs11" ? r.uri : null))(store.caKeyRef()),
    chain: store.presentedChain(),
    roots: store.trustAnchors(),
    certFile: store.caCertFile,
    chainFile: store.chainFile,
    trustFile: store.trustFile,
    previousCertFile: (rel) => store.path(rel),
  };
}

export async function run(_args: string[], o: Record<string, any>): Promise<void> {
  const ctx = new Ctx(o);
  const src = ctx.db !== undefined ? await fromDb(ctx) : fromDir(ctx.dir);
  const { c, inv } = src;
  const store = { presentedChain: () => src.chain, trustAnchors: () => src.roots, chainFile: src.chainFile, trustFile: src.trustFile, caCertFile: src.certFile, caKeyEncrypted: () => src.keyEncrypted, path: src.previousCertFile };
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
    /** The PKCS#11 URI of a token-held CA key (private/ca.pkcs11), else null. */
    pkcs11: src.pkcs11,
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
      `key          ${info.keyType} (${info.pkcs11 ? `in a PKCS#11 token: ${info.pkcs11}` : info.keyEncrypted ? "encrypted" : "NOT encrypted"})`,
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
