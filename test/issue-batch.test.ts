/**
 * The group commit of the online CA (issue 17): issueBatch() issues several certificates under one
 * lock, flushes their files together and records them in one segment. Checked on a real file store:
 * one segment for a batch of new names (two when some renew: the move aside, then the new records),
 * an item refused (its beforeWrite hook, a name that exists) answers with its error while the others
 * are issued, a refused item leaves nothing behind, the renewed ones keep their old files under
 * renewed/ (hard links, byte for byte), openssl verifies each new certificate, and the CLI reads the
 * result as any other issuance.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { hashTree, makeStore, mtls, mtlsOk, openssl } from "./helpers/cli";
import { DeferredFileStore } from "../src/store/deferred";
import { Store } from "../src/store/store";
import { issueBatch, leafFiles, type IssueRequest } from "../src/ca";
import { generateKey, privateKeyPem, spkiOf } from "../src/pki/keys";
import { keySigner } from "../src/pki/signer";
import { emptySans } from "../src/pki/san";
import { encodeName, parseRfc4514 } from "../src/pki/name";

jest.setTimeout(60_000);

const s = makeStore({ name: "Batch CA" });
const segments = () => {
  const dir = path.join(s.dir, "db", "log");
  return fs.existsSync(dir) ? fs.readdirSync(dir).filter((n) => /^\d+\.json$/.test(n)).length : 0;
};

function request(name: string, extra: Partial<IssueRequest> = {}): IssueRequest {
  const key = generateKey("ec-p256");
  return {
    profile: "client",
    name,
    subjectDer: encodeName(parseRfc4514(`CN=${name}`)),
    spki: spkiOf(key),
    sans: { ...emptySans(), email: [`${name}@example.com`] },
    keyType: "ec-p256",
    ...leafFiles(name, { keyPem: privateKeyPem(key) }),
    ...extra,
  };
}

function open() {
  const store = new Store(s.dir);
  const caCert = store.caCertificate();
  return { store, caCert, signer: keySigner(store.caKey("test-pass", caCert)) };
}

test("a batch of new names: one segment, every certificate verified by openssl, listed by the CLI", () => {
  const { store, caCert, signer } = open();
  const before = segments();
  const names = ["b1", "b2", "b3", "b4", "b5"];
  const results = issueBatch(store, signer, caCert, names.map((n) => ({ req: request(n), warnings: [] })));
  expect(results.every((r) => !(r instanceof Error))).toBe(true);
  expect(segments()).toBe(before + 1);
  for (const n of names) {
    const r = openssl(["verify", "-CAfile", path.join(s.dir, "ca.crt"), "-purpose", "sslclient", path.join(s.dir, "issued", `${n}.crt`)]);
    expect(r.stdout).toContain("OK");
    expect(fs.statSync(path.join(s.dir, "private", `${n}.key`)).mode & 0o777).toBe(0o600);
  }
  const listed = JSON.parse(mtlsOk(["list", "--json"], { cwd: s.cwd, env: s.env }).stdout) as { name: string; serial: string; status: string }[];
  for (const [k, n] of names.entries()) {
    const rec = listed.find((c) => c.name === n)!;
    expect(rec.status).toBe("valid");
    expect(rec.serial).toBe((results[k] as { record: { serial: string } }).record.serial);
  }
});

test("refused items answer with their error, the others are issued; a refusal leaves nothing of it", () => {
  const { store, caCert, signer } = open();
  const results = issueBatch(store, signer, caCert, [
    { req: request("ok1"), warnings: [] },
    {
      req: request("nope", {
        beforeWrite: () => {
          throw new Error("the guard says no");
        },
      }),
      warnings: [],
    },
    { req: request("b1"), warnings: [] }, // exists, no force
    { req: request("ok2"), warnings: [] },
  ]);
  expect(results[0]).not.toBeInstanceOf(Error);
  expect(results[1]).toBeInstanceOf(Error);
  expect((results[1] as Error).message).toBe("the guard says no");
  expect((results[2] as Error).message).toMatch(/"b1" already exists/);
  expect(results[3]).not.toBeInstanceOf(Error);
  expect(fs.existsSync(path.join(s.dir, "issued", "nope.crt"))).toBe(false);
  expect(fs.existsSync(path.join(s.dir, "private", "nope.key"))).toBe(false);
  expect(() => issueBatch(store, signer, caCert, [{ req: request("dup"), warnings: [] }, { req: request("dup"), warnings: [] }])).toThrow(/distinct/);
});

test("renewals in one batch: the old files kept under renewed/ (hard links, byte for byte), two segments, old ones superseded", () => {
  const { store, caCert, signer } = open();
  const olds = ["b2", "b3"].map((n) => ({ n, rec: store.currentOf(n)!, pem: fs.readFileSync(path.join(s.dir, "issued", `${n}.crt`)) }));
  const before = segments();
  const results = issueBatch(
    store,
    signer,
    caCert,
    olds.map(({ n, rec }) => ({ req: request(n, { renews: rec.serial }), warnings: [] })),
  );
  expect(results.every((r) => !(r instanceof Error))).toBe(true);
  expect(segments()).toBe(before + 2);
  for (const { n, rec, pem } of olds) {
    const kept = path.join(s.dir, "renewed", `${rec.serial}.crt`);
    expect(fs.readFileSync(kept)).toEqual(pem);
    const now = new Store(s.dir);
    const old = now.recordOfSerial(rec.serial)!;
    expect(old.status).toBe("superseded");
    expect(old.certFile).toBe(`renewed/${rec.serial}.crt`);
    expect(now.currentOf(n)!.serial).not.toBe(rec.serial);
    expect(fs.readFileSync(path.join(s.dir, "issued", `${n}.crt`))).not.toEqual(pem);
  }
});

test("the same batch through DeferredFileStore (serve's): nothing written and the lock held until drain(); then the same result", async () => {
  const { caCert, signer } = open();
  const store = new DeferredFileStore(s.dir);
  const olds = ["b4", "b5"].map((n) => ({ n, rec: store.currentOf(n)!, pem: fs.readFileSync(path.join(s.dir, "issued", `${n}.crt`)) }));
  const before = segments();
  const tree = hashTree(s.dir);
  const results = issueBatch(store, signer, caCert, [
    ...olds.map(({ n, rec }) => ({ req: request(n, { renews: rec.serial }), warnings: [] })),
    { req: request("d1"), warnings: [] },
  ]);
  expect(results.every((r) => !(r instanceof Error))).toBe(true);
  // kept, not done: the store as it was but for the lock (held until drain())
  const { [".lock"]: lock, ...rest } = hashTree(s.dir);
  expect(lock).toBeDefined();
  expect(rest).toEqual(tree);
  expect(store.busy).toBe(true);
  const reading = mtls(["list", "--json"], { cwd: s.cwd, env: s.env });
  expect(reading.code).toBe(0);
  expect(JSON.parse(reading.stdout).some((c: { name: string }) => c.name === "d1")).toBe(false); // a reader sees the old state
  await store.drain();
  expect(store.busy).toBe(false);
  expect(fs.existsSync(path.join(s.dir, ".lock"))).toBe(false);
  expect(segments()).toBe(before + 2); // the move aside, then the new records
  for (const { n, rec, pem } of olds) {
    expect(fs.readFileSync(path.join(s.dir, "renewed", `${rec.serial}.crt`))).toEqual(pem);
    const now = new Store(s.dir);
    expect(now.recordOfSerial(rec.serial)!.status).toBe("superseded");
    expect(now.currentOf(n)!.serial).toBe((results[olds.findIndex((o) => o.n === n)] as { record: { serial: string } }).record.serial);
    const r = openssl(["verify", "-CAfile", path.join(s.dir, "ca.crt"), "-purpose", "sslclient", path.join(s.dir, "issued", `${n}.crt`)]);
    expect(r.stdout).toContain("OK");
  }
  const listed = JSON.parse(mtlsOk(["list", "--json"], { cwd: s.cwd, env: s.env }).stdout) as { name: string; serial: string; status: string }[];
  expect(listed.find((c) => c.name === "d1")?.serial).toBe((results[2] as { record: { serial: string } }).record.serial);
  await store.drain(); // nothing kept: nothing to do
});
