import { Ctx } from "../context";
import { buildSubject } from "../../ca";
import { parseKeyType } from "../../pki/keys";
import { passphraseFrom, reportIssued, sansFromOptions } from "../common";
import { openStore } from "../../api/store";
import { checkSans, type Sans } from "../../pki/san";
import { checkName } from "../../store/store";
import { inputError } from "../../errors";
import { mustAsk } from "../prompts";
import { askName, askServerSans } from "../prompt-identity";
import { nameCheck } from "../prompt-store";
import { issueServerInStore } from "../../api/db-store";
import { withDb } from "../store/open";
import { usageError } from "../../errors";

/**
 * `server issue`: a serverAuth certificate with DNS/IP SANs for the server itself; with `--peer`,
 * serverAuth + clientAuth for cluster routes, gateways and leafnodes, where each server is the TLS
 * client of the other side too (nats-server requires a client certificate on every route and gateway).
 */
export async function run([nameArg]: string[], o: Record<string, any>): Promise<void> {
  const ctx = new Ctx(o);
  let name: string = nameArg;
  const keyType = parseKeyType(o.key);
  if (o.subject !== undefined) buildSubject(o.subject, []); // a bad --subject is refused before any question
  // checked before any question; the names go on as given, so that issueServer converts an
  // internationalised one again and says so in its warnings
  let sans: Sans = { ...sansFromOptions(o), email: [], uri: [] };
  checkSans(sans);
  if (o.outDir !== undefined && ctx.db === undefined) throw usageError("--out-dir is for a database store (--db): a file store keeps the key in private/NAME.key");
  // a missing NAME or --dns/--ip: asked for on a terminal (either store), else exit 2 naming them
  if (name === undefined || sans.dns.length + sans.ip.length === 0) {
    if (name === undefined) mustAsk(ctx, "missing required argument 'name': give server issue NAME");
    else checkName(name);
    if (sans.dns.length + sans.ip.length === 0) mustAsk(ctx, "a server certificate needs at least one --dns or --ip");
    const check = await nameCheck(ctx, o.force); // no store: refused before any question
    if (name === undefined) name = await askName(ctx, "Server name (the file name in the store, e.g. nats1):", { taken: check.taken });
    else if (check.taken(name)) throw inputError(check.taken(name)!, check.where(name));
    if (sans.dns.length + sans.ip.length === 0) sans = await askServerSans(ctx);
  }
  if (ctx.db !== undefined) {
    // a database store (issue 19): the key is never stored, it goes to --out-dir (default .) with the certificate
    const jd = await withDb(ctx, (db) =>
      issueServerInStore(db, name, { dns: sans.dns, ip: sans.ip, subject: o.subject, keyType, days: o.days, force: o.force, peer: !!o.peer, outDir: o.outDir ?? ".", passphrase: passphraseFrom(ctx, o.passphraseFile) }),
    );
    reportIssued(ctx, o.peer ? "Issued peer certificate (serverAuth + clientAuth)" : "Issued server certificate", jd);
    return;
  }
  const j = await openStore(ctx.dir).issueServer(name, {
    dns: sans.dns,
    ip: sans.ip,
    subject: o.subject,
    keyType,
    days: o.days,
    force: o.force,
    peer: !!o.peer,
    passphrase: passphraseFrom(ctx, o.passphraseFile),
  });
  reportIssued(ctx, o.peer ? "Issued peer certificate (serverAuth + clientAuth)" : "Issued server certificate", j);
}
