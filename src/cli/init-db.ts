/**
 * `mtlsctl init --db URL` (issue 19): the wizard's questions on a database store. The database must be
 * empty (checked before the first question and again before writing); the CA goes into it (as `ca init
 * --db`), and since a database keeps no leaf key, the server's and the first client's key and
 * certificate go to a directory (as `server issue --db --out-dir`), with the CA certificate the config
 * names (as `export ca --out`). The work is the library functions the verbs use; the equivalent commands
 * are printed, and running them without a terminal makes the same store.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { Ctx } from "./context";
import * as prompts from "./prompts";
import { askSetup, checkConfigPath, doneText, nextSteps, rel, sanFlags } from "./init-common";
import { withDb } from "./store/open";
import { DEFAULT_KEY_TYPE } from "../pki/keys";
import { toPem } from "../pki/pem";
import { initCaInDb } from "../api/db-init";
import { issueClientInStore, issueServerInStore, natsConfigOfStore } from "../api/db-store";
import { writeFileAtomic } from "../store/atomic";
import { shellQuote } from "../export/snippets";
import { inputError, usageError } from "../errors";
import type { PgStore } from "../store/pg/pg-store";

const EMPTY = "the database already holds a store: init makes a new CA, in an empty database (`mtlsctl --db URL list` shows what is there)";

async function refuseNonEmpty(db: PgStore): Promise<void> {
  if (!(await db.isEmpty())) throw inputError(EMPTY, db.location, "exists");
}

export async function runOnDb(ctx: Ctx, say: (s: string) => void): Promise<void> {
  await withDb(ctx, async (db) => {
    await refuseNonEmpty(db); // before any question: nothing to answer for
    say(`The store: the database ${db.location}. A database keeps no leaf key: the keys and certificates go to a directory.`);

    // ---- the questions
    const { caName, keyType, passphrase, serverName, serverSans, clientName, client } = await askSetup(ctx, say, {
      passphrase: "The CA key is encrypted with a passphrase and kept in the database: every later signing asks for it (or reads MTLSCTL_PASSPHRASE).",
      serverName: "Server certificate name (its files are NAME.crt and NAME.key):",
    });

    say("");
    const files = (d: string) => [`${serverName}.key`, `${serverName}.crt`, `${clientName}.key`, `${clientName}.crt`, "ca.crt"].map((f) => path.join(d, f));
    const outDir = path.resolve(
      await prompts.askText(ctx, {
        message: "Directory for the keys and certificates:",
        default: ".",
        check: (v) => {
          if (v === "") throw new Error("give a directory");
          const d = path.resolve(v);
          if (fs.existsSync(d) && !fs.statSync(d).isDirectory()) throw new Error(`${d} is not a directory`);
          const taken = files(d).filter((f) => fs.existsSync(f));
          if (taken.length) throw new Error(`${taken.map(rel).join(", ")} already exist${taken.length === 1 ? "s" : ""}: choose another directory (or remove them first)`);
        },
      }),
    );
    const confPath = path.resolve(
      await prompts.askText(ctx, { message: "Write the NATS config snippet (tls {} and authorization {}) to:", default: rel(path.resolve("mtls.conf")), check: checkConfigPath }),
    );

    // ---- the equivalent commands
    const d = `mtlsctl --db ${shellQuote(db.location)}`;
    const keyFlag = keyType === DEFAULT_KEY_TYPE ? "" : ` --key ${keyType}`;
    const out = shellQuote(rel(outDir));
    const caFile = path.join(outDir, "ca.crt");
    const serverCert = path.join(outDir, `${serverName}.crt`);
    const serverKey = path.join(outDir, `${serverName}.key`);
    const commands = [
      `${d} ca init --name ${shellQuote(caName)}${keyFlag}`,
      `${d} server issue ${shellQuote(serverName)} ${sanFlags(serverSans).join(" ")}${keyFlag} --out-dir ${out}`,
      `${d} client issue ${shellQuote(clientName)}${sanFlags(client.sans).map((f) => " " + f).join("")}${keyFlag} --out-dir ${out}`,
      `${d} export ca --out ${shellQuote(rel(caFile))}`,
      `${d} config nats --ca-file ${shellQuote(rel(caFile))} --cert-file ${shellQuote(rel(serverCert))} --key-file ${shellQuote(rel(serverKey))} --out ${shellQuote(rel(confPath))}`,
    ];
    say(["", "About to run the equivalent of:", ...commands.map((c) => "  " + c), ""].join("\n"));
    if (!(await prompts.askConfirm(ctx, "Go ahead?", true))) throw usageError("cancelled: nothing was written");
    // checked as typed; check what could have changed since
    await refuseNonEmpty(db);
    for (const f of [...files(outDir), confPath]) if (fs.existsSync(f)) throw inputError("already exists", f);

    // ---- the work: what the verbs do on a database
    const warnings: string[] = [];
    const ca = await initCaInDb(db, { keyType, name: caName, passphrase });
    warnings.push(...ca.warnings);
    const server = await issueServerInStore(db, serverName, { ...serverSans, keyType, outDir, passphrase });
    warnings.push(...server.warnings);
    const clientIssued = await issueClientInStore(db, clientName, { ...client.sans, keyType, outDir, passphrase });
    warnings.push(...clientIssued.warnings);
    writeFileAtomic(caFile, toPem("CERTIFICATE", (await db.caCertificate()).der), { mode: 0o644, exclusive: true });
    const cfg = await natsConfigOfStore(db, { caFile, certFile: serverCert, keyFile: serverKey, includeHint: path.basename(confPath) });
    warnings.push(...cfg.warnings);
    writeFileAtomic(confPath, cfg.text, { mode: 0o644, exclusive: true });
    ctx.warnAll(warnings);

    // ---- what was made, and what to do next
    const next = nextSteps(d, confPath, { certFile: clientIssued.certFile, keyFile: clientIssued.keyFile! }, caFile, serverSans);
    const leaf = (i: typeof server) => ({ name: i.name, serial: i.serial, subject: i.subject, sans: i.sans, notAfter: i.notAfter, certFile: i.certFile, keyFile: i.keyFile });
    ctx.result(
      {
        dir: db.location,
        ca: { subject: ca.subject, keyType, serial: ca.serial, notAfter: ca.notAfter, fingerprint: ca.fingerprint, certFile: caFile, keyFile: db.location },
        server: leaf(server),
        client: { ...leaf(clientIssued), natsUser: clientIssued.natsUser },
        natsConfig: { file: confPath, users: cfg.users.map((u) => u.user) },
        commands,
        next,
        warnings: ctx.warnings,
      },
      () =>
        doneText(ctx, [
          ["store", db.location],
          ["CA", `${ca.subject} (${keyType}), key in the database (encrypted); certificate ${rel(caFile)}`],
          ["server", `${serverName}: ${[...serverSans.dns, ...serverSans.ip].join(", ")}; ${rel(server.certFile)}, key ${rel(server.keyFile!)}`],
          ["client", `${clientName}: NATS user ${clientIssued.natsUser === null ? "(none)" : JSON.stringify(clientIssued.natsUser)}; ${rel(clientIssued.certFile)}, key ${rel(clientIssued.keyFile!)}`],
          ["NATS config", rel(confPath)],
        ], commands, next),
    );
  });
}
