import { Ctx, readSecretFile } from "./context";
import { allowed, checkNkeyConnection, createVerifier, resolveServerVersion, VerifyResult } from "../api/verify";
import { ConfigError } from "../nats/conf/server-config";
import { readSeedFile } from "../nkeys/nkeys";
import { permissionLines, BoundPermissions } from "../nats/permissions";
import { usageError } from "../errors";
import { writeOut } from "./out";

export function human(file: string, v: VerifyResult, bound: BoundPermissions | null): string {
  const lines: string[] = [];
  if (v.accepted) {
    if (v.ambiguous) lines.push(`${file}: ACCEPTED, but as one of ${v.candidates.length} users picked at random on every connection: ${v.candidates.map((c) => JSON.stringify(c)).join(", ")}`);
    else lines.push(`${file}: ACCEPTED as ${v.user === null ? "(no user: no authentication configured)" : JSON.stringify(v.user)}${v.account ? ` in account ${v.account}` : ""}${v.matchedBy ? ` (by ${v.matchedBy})` : ""}`);
  } else lines.push(`${file}: REFUSED at the ${v.stage} stage`);
  lines.push(`  why: ${v.reason}`);
  if (v.ocspPeer) lines.push(`  ocsp_peer: responder ${v.ocspPeer.responder ?? "(none in the certificate)"}, status ${v.ocspPeer.status}${v.ocspPeer.required ? ", a good answer is required" : ""}`);
  if (v.access !== undefined) lines.push(...permissionLines(bound, v.access, v.accepted && !v.ambiguous));
  for (const n of v.notes) lines.push(`  note: ${n}`);
  lines.push(`  (modelled: nats-server ${v.serverVersion})`);
  return lines.join("\n");
}

/** `verify <cert>... --config nats.conf`: accepted or refused, and as which user, as the server decides (src/api/verify.ts). */
export function run(certFiles: string[] | string[][], o: Record<string, any>): void {
  const ctx = new Ctx(o);
  const files = certFiles.flat() as string[];
  if (!o.config) throw usageError("verify needs --config nats.conf");
  if (!files.length && o.nkeySeed === undefined) throw usageError("missing required argument 'cert' (or --nkey-seed F for a client that presents none)");
  if (o.nkeySeed !== undefined) checkNkeyConnection(o.connectionType);
  if ([o.nkeySeed, o.connectPasswordFile, o.connectTokenFile].filter((f) => f === "-").length > 1) throw usageError("only one secret can be read from standard input");
  // the NKey the client sends (nkey code path only): its public key; the seed is never printed
  const seed = o.nkeySeed !== undefined ? readSeedFile(o.nkeySeed) : undefined;
  if (seed?.looseMode !== undefined) ctx.warn(`${seed.file}: the NKey seed file is readable by others (mode ${seed.looseMode.toString(8).padStart(4, "0")}); chmod 600 it`);
  const connectPassword = o.connectPasswordFile !== undefined ? readSecretFile(o.connectPasswordFile, "connect password") : undefined;
  const connectToken = o.connectTokenFile !== undefined ? readSecretFile(o.connectTokenFile, "connect token") : undefined;
  const options = {
    config: o.config as string,
    serverVersion: o.serverVersion as string | undefined,
    connectUser: o.connectUser as string | undefined,
    connectPassword,
    connectToken,
    connectionType: o.connectionType,
    publish: o.publish as string[] | undefined,
    subscribe: o.subscribe as string[] | undefined,
    serverCwd: o.serverCwd as string | undefined,
    p12Password: o.p12Password as string | undefined, // settled by the preAction hook (cli/p12-password.ts)
    ocsp: o.ocsp === true,
  };
  let verifier: ReturnType<typeof createVerifier>;
  try {
    verifier = createVerifier({ ...options, ...(seed ? { nkeySeed: seed.seed } : {}) });
  } catch (e) {
    if (e instanceof ConfigError && ctx.json) {
      const version = resolveServerVersion(o.serverVersion).version;
      for (const _ of files.length ? files : [seed!.file])
        writeOut(JSON.stringify({ accepted: false, user: null, account: null, matchedBy: null, stage: "config", ambiguous: false, candidates: [], reason: e.message, serverVersion: version }) + "\n");
    }
    throw e;
  }
  let allOk = true;
  for (const f of files.length ? files : [null]) {
    const { result, bound } = verifier.verifyWithPermissions(f, f ?? seed!.file);
    if (!allowed(result)) allOk = false;
    if (ctx.json) writeOut(JSON.stringify(result) + "\n");
    else if (!ctx.quiet) writeOut(human(f === null ? seed!.file : seed ? `${f} (with the NKey ${verifier.nkey})` : f, result, bound) + "\n");
  }
  if (!allOk) process.exitCode = 1;
}
