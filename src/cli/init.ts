/**
 * `mtlsctl init`: on a terminal, walks a newcomer from nothing to a working set-up — a store and
 * CA, a server certificate, a first client and a NATS config snippet — by asking one question at a
 * time, then does it with the library functions (initCa, issue, buildNatsConfig) and prints the
 * equivalent non-interactive commands. Every answer is checked as it is typed, and everything is
 * asked before anything is written. Without a terminal, or with --yes, it stops with exit 2.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { createPublicKey } from "node:crypto";
import { Ctx } from "./context";
import * as prompts from "./prompts";
import { buildSubject, checkNewStoreDir, initCa, issue, leafFiles, subjectFor, Issued } from "../ca";
import { generateKey, privateKeyPem, spkiOf, DEFAULT_KEY_TYPE } from "../pki/keys";
import { keySigner } from "../pki/signer";
import { buildCsr, csrPem } from "../pki/csr";
import type { Sans } from "../pki/san";
import { formatRfc4514 } from "../pki/name";
import { Store } from "../store/store";
import { buildNatsConfig } from "../config/config-writer";
import { natsUserFor } from "../nats/user";
import { writeFileAtomic } from "../store/atomic";
import { shellQuote } from "../export/snippets";
import { inputError, usageError } from "../errors";
import { askSetup, checkConfigPath, doneText, nextSteps, rel, sanFlags } from "./init-common";
import { runOnDb } from "./init-db";

export async function run(_args: string[], o: Record<string, any>): Promise<void> {
  const ctx = new Ctx(o);
  if (!ctx.interactive)
    throw prompts.cannotAsk("init asks its questions on a terminal; use the individual commands instead: mtlsctl ca init, server issue, client issue, config nats");
  const say = (s: string) => process.stderr.write(s + "\n");
  say(
    [
      "This sets up mutual TLS for a NATS server, step by step: a certificate authority (CA), a",
      "certificate for the server, one for a first client, and a config snippet for nats-server.",
      "Nothing is written until you confirm at the end. (Ctrl-C stops at any time.)",
      "",
    ].join("\n"),
  );
  // a database store (--db / MTLSCTL_DB): the same questions, the CA in the database, the leaf files in a directory
  if (ctx.db !== undefined) return runOnDb(ctx, say);

  // ---- the questions
  const dir = path.resolve(
    await prompts.askText(ctx, {
      message: "Store directory (the CA and every certificate go here):",
      default: rel(ctx.dir),
      check: (v) => {
        if (v === "") throw new Error("give a directory");
        checkNewStoreDir(path.resolve(v), false);
      },
    }),
  );
  const { caName, keyType, passphrase, serverName, serverSans, clientName, client } = await askSetup(ctx, say, {
    passphrase: "The CA key is encrypted with a passphrase: every later signing asks for it (or reads MTLSCTL_PASSPHRASE).",
    serverName: "Server certificate name (a file name in the store):",
  });

  say("");
  const confPath = path.resolve(
    await prompts.askText(ctx, { message: "Write the NATS config snippet (tls {} and authorization {}) to:", default: rel(path.resolve("mtls.conf")), check: checkConfigPath }),
  );

  // ---- the equivalent commands
  const d = `mtlsctl --dir ${shellQuote(rel(dir))}`;
  const keyFlag = keyType === DEFAULT_KEY_TYPE ? "" : ` --key ${keyType}`;
  const commands = [
    `${d} ca init --name ${shellQuote(caName)}${keyFlag}`,
    `${d} server issue ${shellQuote(serverName)} ${sanFlags(serverSans).join(" ")}${keyFlag}`,
    `${d} client issue ${shellQuote(clientName)}${sanFlags(client.sans).map((f) => " " + f).join("")}${keyFlag}`,
    `${d} config nats --out ${shellQuote(rel(confPath))}`,
  ];
  say(["", "About to run the equivalent of:", ...commands.map((c) => "  " + c), ""].join("\n"));
  if (!(await prompts.askConfirm(ctx, "Go ahead?", true))) throw usageError("cancelled: nothing was written");
  // the answers were checked as they were typed; check what could have changed since
  checkNewStoreDir(dir, false);
  if (fs.existsSync(confPath)) throw inputError("already exists", confPath);

  // ---- the work: the library functions, not the CLI
  const warnings: string[] = [];
  const made = initCa({ dir, keyType, name: caName, passphrase });
  warnings.push(...made.warnings);
  const store: Store = made.value.store;
  const caCert = made.value.cert;
  const caKey = keySigner(store.caKey(passphrase, caCert));

  const serverKey = generateKey(keyType);
  const server: Issued = issue(
    store,
    caKey,
    caCert,
    {
      profile: "server",
      name: serverName,
      subjectDer: buildSubject(`CN=${serverName}`, []).der,
      spki: spkiOf(serverKey),
      publicKey: createPublicKey(serverKey),
      sans: serverSans,
      keyType,
      ...leafFiles(serverName, { keyPem: privateKeyPem(serverKey) }),
    },
    warnings,
  );

  const clientKey = generateKey(keyType);
  const clientSubject = subjectFor({ name: clientName, sans: client.sans }, warnings);
  const clientIssued: Issued = issue(
    store,
    caKey,
    caCert,
    {
      profile: "client",
      name: clientName,
      subjectDer: clientSubject,
      spki: spkiOf(clientKey),
      publicKey: createPublicKey(clientKey),
      sans: client.sans,
      keyType,
      ...leafFiles(clientName, { keyPem: privateKeyPem(clientKey), csrPem: csrPem(buildCsr(clientKey, clientSubject, client.sans)) }),
    },
    warnings,
  );
  const natsUser = natsUserFor(clientIssued.cert);
  warnings.push(...natsUser.notes);

  const cfg = buildNatsConfig(store, { version: require("../../package.json").version, includeHint: path.basename(confPath) });
  warnings.push(...cfg.warnings);
  writeFileAtomic(confPath, cfg.text, { mode: 0o644, exclusive: true });
  ctx.warnAll(warnings);

  // ---- what was made, and what to do next
  const next = nextSteps(d, confPath, { certFile: clientIssued.certFile, keyFile: clientIssued.keyFile! }, store.caCertFile, serverSans);
  const leaf = (i: Issued) => ({ name: i.record.name, serial: i.record.serial, subject: i.record.subject, sans: i.record.sans, notAfter: i.record.notAfter, certFile: i.certFile, keyFile: i.keyFile });
  ctx.result(
    {
      dir,
      ca: { subject: formatRfc4514(caCert.subject), keyType, serial: caCert.serialHex, notAfter: caCert.notAfter.toISOString(), fingerprint: caCert.fingerprint, certFile: store.caCertFile, keyFile: store.caKeyFile },
      server: leaf(server),
      client: { ...leaf(clientIssued), natsUser: natsUser.user },
      natsConfig: { file: confPath, users: cfg.users.map((u) => u.user) },
      commands,
      next,
      warnings: ctx.warnings,
    },
    () =>
      doneText(ctx, [
        ["store", rel(dir)],
        ["CA", `${formatRfc4514(caCert.subject)} (${keyType}), ${rel(store.caCertFile)}; key ${rel(store.caKeyFile)} (encrypted)`],
        ["server", `${serverName}: ${[...serverSans.dns, ...serverSans.ip].join(", ")}; ${rel(server.certFile)}, key ${rel(server.keyFile!)}`],
        ["client", `${clientName}: NATS user ${natsUser.user === null ? "(none)" : JSON.stringify(natsUser.user)}; ${rel(clientIssued.certFile)}, key ${rel(clientIssued.keyFile!)}`],
        ["NATS config", rel(confPath)],
      ], commands, next),
  );
}
