/**
 * Bulk issuance on a store named by the Store interface (issue 19: `client issue --from F --db URL`).
 * The rows, their checks and their messages are the file store's (src/bulk/issue.ts: nameOf,
 * requestOf, the one planning step, the same RowResult and warnings once); what differs is where
 * things go. Each batch (500 rows by default) is ONE store transaction: for each row the name is
 * looked up (a name that exists is skipped), a serial reserved, the certificate signed, and its
 * record, bytes and "bulk-issue" audit event put; the commit is the commit point, and a batch that
 * fails commits nothing (a database re-runs it on a serialization failure: the function keeps no state
 * across attempts). No private key goes into the store: after its batch commits, each key is written
 * to `outDir`/<name>.key (0600) and its certificate to <name>.crt. A row whose files exist in outDir
 * fails (nothing of it is issued). A crash between a batch's commit and its files leaves certificates
 * whose keys are lost: revoke them, or issue those names again with --force.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { recordOf } from "../ca";
import { MtlsError } from "../errors";
import { buildCertificate, EncodeCache, type ParsedCertificate } from "../pki/cert";
import { planIssuance, tbsOf, type IssuancePlan, type PlanIssuer } from "../pki/plan";
import { checkSignerMatches, type Signer } from "../pki/signer";
import { issuingChain, pemBundle } from "../pki/hierarchy";
import { writeFileAtomic } from "../store/atomic";
import { LAYOUT } from "../store/store";
import type { CertRecord, Store as StoreApi } from "../store/types";
import type { RawRow } from "./input";
import { KeyMaker, pem, type LeafKey } from "./leaf";
import { nameOf, requestOf, type BulkRequest } from "./request";
import type { BulkOptions, BulkSummary, Progress, RowResult } from "./issue";
import * as crypto from "node:crypto";

export interface StoreBulkOptions extends Pick<BulkOptions, "file" | "defaults" | "onRow" | "onProgress" | "onWarning" | "control"> {
  /** Where each row's <name>.key and <name>.crt are written. */
  outDir: string;
  /** Rows per transaction. Default 500. */
  batchSize?: number;
}

interface Planned {
  req: BulkRequest;
  key: LeafKey;
  plan: IssuancePlan;
  keyOut: string;
  certOut: string;
}

export async function bulkIssueInStore(store: StoreApi, signer: Signer, caCert: ParsedCertificate, rows: Iterator<RawRow>, o: StoreBulkOptions): Promise<BulkSummary> {
  checkSignerMatches(signer, caCert.spki, store.location);
  const [header, presented, anchors] = await Promise.all([store.header(), store.presentedChain(), store.trustAnchors().catch(() => [] as ParsedCertificate[])]);
  const issuer: PlanIssuer = { cert: caCert, chain: issuingChain({ presentedChain: () => (presented.length ? presented : [caCert]), trustAnchors: () => anchors }, caCert), file: store.location, urls: header.urls };
  const chainPem = pemBundle(presented);
  const batchSize = Math.max(1, o.batchSize ?? 500);
  const control = o.control ?? { stop: false };
  const progress: Progress = { rows: 0, issued: 0, skipped: 0, failed: 0 };
  const seen = new Map<string, number>();
  const warned = new Set<string>();
  const keys = new KeyMaker();
  const cache = new EncodeCache();
  const outDir = path.resolve(o.outDir);
  const result = (r: RowResult) => {
    progress[r.status]++;
    o.onRow?.(r);
  };
  const warn = (where: string, msg: string) => {
    if (warned.has(msg)) return;
    warned.add(msg);
    o.onWarning?.(`${where}: ${msg}`);
  };

  /** A row checked and planned (no store access), or its result when it stops here. */
  const planRow = async (row: RawRow, now: number): Promise<Planned | null> => {
    progress.rows++;
    const where = `${o.file}:${row.line}`;
    const rawName = typeof row.values.name === "string" ? row.values.name : null;
    if (row.error) return void result({ status: "failed", line: row.line, name: rawName, error: row.error }), null;
    let name: string;
    try {
      name = nameOf(row);
    } catch (e) {
      if (!(e instanceof MtlsError)) throw e;
      return void result({ status: "failed", line: row.line, name: rawName, error: e.message }), null;
    }
    const prev = seen.get(name);
    if (prev !== undefined) return void result({ status: "failed", line: row.line, name, error: `"${name}" is also on line ${prev} (each name once)` }), null;
    seen.set(name, row.line);
    // as the file store: a name that exists is skipped before its row's other columns are checked (again in the transaction)
    if (await store.findByName(name)) return void result({ status: "skipped", line: row.line, name, reason: "exists" }), null;
    const warnings: string[] = [];
    let req: BulkRequest;
    try {
      req = requestOf(row, name, o.defaults, warnings);
    } catch (e) {
      if (!(e instanceof MtlsError)) throw e;
      return void result({ status: "failed", line: row.line, name, error: e.message }), null;
    }
    for (const w of warnings) warn(where, w);
    const key = keys.make(req.keyType);
    let plan: IssuancePlan;
    try {
      plan = planIssuance({ profile: "client", subjectDer: req.subjectDer, commonNames: req.commonNames, spki: key.spki, keyId: key.ski, sans: req.sans, days: req.daysGiven ? req.days : undefined, daysOption: req.daysOption }, issuer, now);
    } catch (e) {
      if (!(e instanceof MtlsError)) throw e;
      return void result({ status: "failed", line: row.line, name, error: e.message }), null;
    }
    for (const w of plan.warnings) warn(where, w);
    return { req, key, plan, keyOut: path.join(outDir, `${name}.key`), certOut: path.join(outDir, `${name}.crt`) };
  };

  let exhausted = false;
  while (!exhausted && !control.stop) {
    const now = Date.now();
    const batch: Planned[] = [];
    while (batch.length < batchSize && !control.stop) {
      const next = rows.next();
      if (next.done) {
        exhausted = true;
        break;
      }
      const p = await planRow(next.value, now);
      if (p) batch.push(p);
    }
    if (!batch.length) continue;
    const issuedAt = new Date(now).toISOString();
    // one transaction: what it decides is returned, and acted on only once it has committed
    const outcome = await store.transaction(async (tx) => {
      const nkeys = new Set(((await tx.header()).nkeys ?? []).map((k) => k.name));
      const out: ({ p: Planned; skipped: true } | { p: Planned; failed: string } | { p: Planned; rec: CertRecord; certPem: string })[] = [];
      for (const p of batch) {
        const name = p.req.name;
        if (await tx.findByName(name)) {
          out.push({ p, skipped: true });
          continue;
        }
        if (nkeys.has(name)) {
          out.push({ p, failed: `an NKey user is named "${name}": names are shared by certificates and NKeys` });
          continue;
        }
        const there = [p.keyOut, p.certOut].find((f) => fs.existsSync(f));
        if (there) {
          out.push({ p, failed: `${there}: already exists (a database store writes each key and certificate to --out-dir)` });
          continue;
        }
        const serial = await tx.reserveSerial(16);
        const certDer = buildCertificate(tbsOf(p.plan, serial), signer, cache);
        const rec = recordOf(
          "client",
          name,
          { serialHex: serial.toString("hex"), subject: p.req.subject, sans: p.plan.sans, notBefore: p.plan.notBefore, notAfter: p.plan.notAfter, fingerprint: crypto.hash("sha256", certDer, "hex") },
          p.req.keyType,
          { cert: LAYOUT.certRel(name), key: null, csr: null },
          { account: p.req.account, permissions: p.req.permissions, chainFile: chainPem ? LAYOUT.fullchainRel(name) : null },
          issuedAt,
        );
        const certPem = pem("CERTIFICATE", certDer);
        await tx.put([rec]);
        await tx.putArtifacts(rec.serial, { certPem, ...(chainPem ? { chainPem: certPem + chainPem } : {}) });
        await tx.audit({ action: "bulk-issue", name, serial: rec.serial, detail: { line: p.req.line } });
        out.push({ p, rec, certPem });
      }
      return out;
    });
    fs.mkdirSync(outDir, { recursive: true });
    for (const r of outcome) {
      const { req } = r.p;
      if ("skipped" in r) result({ status: "skipped", line: req.line, name: req.name, reason: "exists" });
      else if ("failed" in r) result({ status: "failed", line: req.line, name: req.name, error: r.failed });
      else {
        writeFileAtomic(r.p.keyOut, r.p.key.pkcs8Pem, { mode: 0o600 });
        writeFileAtomic(r.p.certOut, chainPem ? r.certPem + chainPem : r.certPem, { mode: 0o644 });
        result({ status: "issued", line: req.line, name: req.name, serial: r.rec.serial, certFile: r.p.certOut, keyFile: r.p.keyOut });
      }
    }
    o.onProgress?.({ ...progress });
  }
  return { ...progress, stopped: !exhausted };
}
