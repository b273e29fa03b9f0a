import * as path from "node:path";
import { Ctx } from "../context";
import { openStore } from "../../api/store";
import { writeOutput } from "../common";
import type { MapMode } from "../../nats/user";
import { usageError } from "../../errors";
import { natsConfigOfStore } from "../../api/db-store";
import { withDb } from "../store/open";

/** `config nats`: the snippet (src/api/store.ts natsConfig), to stdout or --out. */
export async function run(_args: string[], o: Record<string, any>): Promise<void> {
  const ctx = new Ctx(o);
  if (o.caFile !== undefined && ctx.db === undefined) throw usageError("--ca-file is for a database store (--db): a file store's snippet names its own roots.pem / ca.crt");
  const opts = {
    map: o.map as MapMode | undefined,
    include: o.include,
    exclude: o.exclude,
    server: o.server,
    certFile: o.certFile,
    keyFile: o.keyFile,
    timeout: o.timeout,
    pinned: !!o.pinned,
    ocspPeer: !!o.ocspPeer,
    allowPub: o.allowPub,
    allowSub: o.allowSub,
    denyPub: o.denyPub,
    denySub: o.denySub,
    blocks: {
      peer: o.peer,
      clusterName: o.clusterName,
      clusterListen: o.clusterListen,
      routes: o.routes,
      gatewayName: o.gatewayName,
      gatewayListen: o.gatewayListen,
      gateways: o.gateways,
      leafnodesListen: o.leafnodesListen,
      leafnodeUsers: o.leafnodeUser,
      leafnodeRemotes: o.leafnodeRemote,
      websocketListen: o.websocketListen,
      mqttListen: o.mqttListen,
    },
    includeHint: o.out ? path.basename(o.out) : undefined,
  };
  // a database store (issue 19): the same snippet from its rows; the files the server reads are named (--ca-file, --cert-file/--key-file)
  const cfg = ctx.db !== undefined ? await withDb(ctx, (db) => natsConfigOfStore(db, { ...opts, caFile: o.caFile })) : await openStore(ctx.dir).natsConfigDetailed(opts);
  ctx.warnAll(cfg.warnings);
  for (const n of cfg.notes) ctx.note(n);
  if (o.json) {
    ctx.result({ config: cfg.text, out: o.out ?? null, server: cfg.server?.name ?? null, users: cfg.users, nkeys: cfg.nkeys, permissions: cfg.permissions, accounts: cfg.accounts, blocks: cfg.blocks.blocks, peer: cfg.blocks.peer?.name ?? null, leafnodeUsers: cfg.blocks.leafnodeUsers, pins: cfg.pins, notes: cfg.notes, warnings: ctx.warnings }, () => "");
    if (o.out) writeOutput(o.out, cfg.text, { force: o.force });
    return;
  }
  writeOutput(o.out, cfg.text, { force: o.force });
  // nats-server joins every include path onto the including file's directory, absolute paths too
  // (2.9.10: `include "/etc/nats/x.conf"` in /etc/nats/s.conf opens /etc/nats/etc/nats/x.conf).
  if (o.out)
    ctx.note(
      `Wrote ${o.out}: ${cfg.users.length} user(s)${cfg.nkeys.length ? ` and ${cfg.nkeys.length} NKey user(s)` : ""}${cfg.accounts.length ? ` (${cfg.accounts.length} account(s): ${cfg.accounts.map((a) => a.name).join(", ")})` : ""}; add  include "${path.basename(o.out)}"  to a nats-server config in ${path.dirname(path.resolve(o.out))} (include paths are relative to the including file, even ones starting with /)`,
    );
}
