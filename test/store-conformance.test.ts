/**
 * The Store interface (src/store/types.ts), exercised through the interface alone: what any store
 * must do (the file store today; the PostgreSQL store of issue 19 runs the same suite by adding its
 * factory to `STORES`). Only `makeStore` knows which store it is.
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { makeStore as makeCliStore, mtlsOk } from "./helpers/cli";
import { openFileStore } from "../src/store/file-api";
import { openPgStore } from "../src/store/pg/pg-store";
import { copyFileToPg } from "../src/store/pg/copy";
import { dropAll, freshDbUrl } from "./helpers/pg";
import type { CertRecord, Store } from "../src/store/types";

jest.setTimeout(180_000);

interface Factory {
  label: string;
  /** A new, empty store with a CA; `spec` names it for a child process (see the concurrency test). */
  make(): { store: Store; spec: string } | Promise<{ store: Store; spec: string }>;
  /** The same store, opened anew (in a child process too: `open(spec)`). */
  open(spec: string): Store;
  /** JS for a child process: an expression opening the store named by `spec` (process.argv[1]). */
  childOpen: string;
}

const opened: Store[] = [];
const track = <S extends Store>(s: S): S => (opened.push(s), s);

const STORES: Factory[] = [
  {
    label: "file store",
    make() {
      const s = makeCliStore({ name: "Conformance CA" });
      return { store: openFileStore(s.dir), spec: s.dir };
    },
    open: (dir) => openFileStore(dir),
    childOpen: `require(${JSON.stringify(path.resolve(__dirname, "../dist/store/file-api.js"))}).openFileStore(process.argv[1])`,
  },
  {
    label: "PostgreSQL store",
    async make() {
      const s = makeCliStore({ name: "Conformance CA" });
      const url = freshDbUrl();
      const store = track(openPgStore(url));
      await copyFileToPg(s.dir, store);
      return { store, spec: url };
    },
    open: (url) => track(openPgStore(url)),
    childOpen: `require(${JSON.stringify(path.resolve(__dirname, "../dist/store/pg/pg-store.js"))}).openPgStore(process.argv[1])`,
  },
];

afterAll(async () => {
  for (const s of opened.splice(0)) await s.close();
  dropAll();
});

let serialSeq = 0;
function record(name: string, o: Partial<CertRecord> = {}): CertRecord {
  const serial = (0x10000000 + ++serialSeq).toString(16) + "a1b2c3d4e5f60718";
  return {
    name,
    kind: "client",
    serial,
    subject: `CN=${name}`,
    sans: { email: [`${name}@example.com`], dns: [], uri: [], ip: [] },
    profile: "client",
    keyType: "ec-p256",
    notBefore: "2026-01-01T00:00:00.000Z",
    notAfter: "2036-01-01T00:00:00.000Z",
    status: "valid",
    revokedAt: null,
    revocationReason: null,
    fingerprint: "ab".repeat(32),
    certFile: `issued/${name}.crt`,
    keyFile: `private/${name}.key`,
    csrFile: null,
    issuedAt: "2026-01-01T00:00:00.000Z",
    ...o,
  };
}

describe.each(STORES)("Store conformance: $label", (factory) => {
  let store: Store;
  let spec: string;
  beforeEach(async () => {
    ({ store, spec } = await factory.make());
  });

  test("a new store: its CA in the header, no records, no NKeys, no previous CA, no CRL yet", async () => {
    const h = await store.header();
    expect(h.ca.kind).toBe("ca");
    expect(h.ca.subject).toBe("CN=Conformance CA");
    expect(h.crl).toBeUndefined();
    expect((await store.caCertificate()).serialHex).toBe(h.ca.serial);
    expect((await store.trustAnchors()).map((c) => c.serialHex)).toEqual([h.ca.serial]);
    expect(await store.presentedChain()).toEqual([]);
    expect(await store.list()).toEqual([]);
    expect(await store.nkeys()).toEqual([]);
    expect(await store.previousCas()).toEqual([]);
    expect(await store.findByName("nobody")).toBeUndefined();
    expect(await store.findBySerial("0123456789abcdef")).toBeUndefined();
  });

  test("put, then find by name and by serial, history and list (in inventory order, filtered)", async () => {
    const a = record("alice");
    const b = record("bob", { kind: "server", profile: "server", notAfter: new Date(Date.now() + 5 * 86_400_000).toISOString() });
    await store.transaction(async (tx) => {
      await tx.put([a]);
      expect(await tx.findByName("alice")).toEqual(a); // read-your-writes inside the transaction
      await tx.put([b]);
    });
    expect(await store.findByName("alice")).toEqual(a);
    expect(await store.findBySerial(b.serial)).toEqual(b);
    expect(await store.findBySerial(b.serial.toUpperCase())).toEqual(b);
    expect(await store.history("alice")).toEqual([a]);
    expect((await store.list()).map((r) => r.name)).toEqual(["alice", "bob"]);
    expect((await store.list({ kind: "server" })).map((r) => r.name)).toEqual(["bob"]);
    expect((await store.list({ expiringDays: 30 })).map((r) => r.name)).toEqual(["bob"]);
    expect((await store.list({ status: "revoked" })).map((r) => r.name)).toEqual([]);
    // a reopened store (another process would) sees the same
    expect((await factory.open(spec).list()).map((r) => r.serial)).toEqual([a.serial, b.serial]);
  });

  test("supersede and replace: the name's current record is the newest not replaced; the order is that of first insertion", async () => {
    const old = record("carol");
    await store.transaction(async (tx) => tx.put([old, record("dave")]));
    const next = record("carol", { renews: old.serial });
    await store.transaction(async (tx) => {
      const s = await tx.supersede(old.serial, next.serial);
      expect(s).toMatchObject({ status: "superseded", renewedBy: next.serial });
      await tx.put([next]);
    });
    expect(await store.findByName("carol")).toEqual(next);
    expect((await store.history("carol")).map((r) => [r.serial, r.status])).toEqual([
      [old.serial, "superseded"],
      [next.serial, "valid"],
    ]);
    expect((await store.list()).map((r) => r.serial)).toEqual([old.serial, (await store.findByName("dave"))!.serial, next.serial]);
    expect((await store.list({ currentOnly: true })).map((r) => r.name)).toEqual(["dave", "carol"]);
  });

  test("revoke: status, time and reason recorded; twice is refused; the record keeps its place", async () => {
    const e = record("erin");
    await store.transaction(async (tx) => tx.put([e, record("frank")]));
    const at = new Date("2026-06-01T12:00:00.000Z");
    await store.transaction(async (tx) => {
      expect(await tx.revoke(e.serial, at, "keyCompromise")).toMatchObject({ status: "revoked", revokedAt: at.toISOString(), revocationReason: "keyCompromise" });
    });
    expect(await store.findByName("erin")).toMatchObject({ status: "revoked", revocationReason: "keyCompromise" });
    expect((await store.list({ status: "revoked" })).map((r) => r.name)).toEqual(["erin"]);
    expect((await store.list()).map((r) => r.name)).toEqual(["erin", "frank"]);
    await expect(store.transaction(async (tx) => tx.revoke(e.serial, at, null))).rejects.toThrow(/already revoked/);
    await expect(store.transaction(async (tx) => tx.revoke("00ff00ff00ff00ff", at, null))).rejects.toThrow(/no certificate with serial/);
  });

  test("serial reservation: random, positive, >= 64 bits, never a serial the store has, never the same twice", async () => {
    const h = await store.header();
    const taken = record("gina");
    await store.transaction(async (tx) => tx.put([taken]));
    const seen = new Set<string>([h.ca.serial, taken.serial]);
    await store.transaction(async (tx) => {
      for (let i = 0; i < 2000; i++) {
        const s = await tx.reserveSerial();
        expect(s.length).toBeGreaterThanOrEqual(8);
        expect(s[0] & 0x80).toBe(0); // positive
        expect(s[0]).not.toBe(0); // minimal DER encoding
        const hex = s.toString("hex");
        expect(seen.has(hex)).toBe(false);
        seen.add(hex);
      }
      const small = await tx.reserveSerial(8);
      expect(small.length).toBe(8);
      await expect(tx.reserveSerial(4)).rejects.toThrow(/8 to 20 bytes/);
    });
  });

  test("CRL numbers only grow, across transactions and reopenings; a lower one is refused", async () => {
    const numbers: number[] = [];
    for (let i = 0; i < 3; i++)
      await factory.open(spec).transaction(async (tx) => {
        const n = await tx.nextCrlNumber();
        numbers.push(n);
        await tx.setCrl({ number: n, thisUpdate: "2026-01-01T00:00:00.000Z", nextUpdate: "2026-01-08T00:00:00.000Z" });
      });
    expect(numbers[1]).toBeGreaterThan(numbers[0]);
    expect(numbers[2]).toBeGreaterThan(numbers[1]);
    expect((await store.header()).crl?.number).toBe(numbers[2]);
    await expect(store.transaction(async (tx) => tx.setCrl({ number: numbers[0], thisUpdate: "x", nextUpdate: "y" }))).rejects.toThrow(/not above/);
  });

  test("a transaction that throws changes nothing (records, header, audit)", async () => {
    await store.transaction(async (tx) => tx.put([record("hank")]));
    const before = { list: await store.list(), header: await store.header(), audit: await store.auditEvents() };
    await expect(
      store.transaction(async (tx) => {
        await tx.put([record("ivan")]);
        await tx.revoke((await tx.findByName("hank"))!.serial, new Date(), null);
        await tx.setCrl({ number: 99, thisUpdate: "a", nextUpdate: "b" });
        await tx.audit({ action: "test", name: "ivan" });
        throw new Error("refused half-way");
      }),
    ).rejects.toThrow("refused half-way");
    expect({ list: await store.list(), header: await store.header(), audit: await store.auditEvents() }).toEqual(before);
  });

  test("NKey records: put, replaced by name, listed", async () => {
    await store.transaction(async (tx) => {
      await tx.putNkey({ name: "svc", publicKey: "UAAA", createdAt: "2026-01-01T00:00:00.000Z", seedFile: "nkeys/svc.nk" });
      await tx.putNkey({ name: "svc", publicKey: "UBBB", createdAt: "2026-01-02T00:00:00.000Z", seedFile: "nkeys/svc.nk" });
    });
    expect((await store.nkeys()).map((k) => [k.name, k.publicKey])).toEqual([["svc", "UBBB"]]);
  });

  test("audit events: appended in commit order, with a time, plain values only", async () => {
    await store.transaction(async (tx) => {
      await tx.put([record("judy")]);
      await tx.audit({ action: "issue", name: "judy", detail: { kind: "client" } });
    });
    await store.transaction(async (tx) => tx.audit({ action: "revoke", name: "judy", serial: "abcd" }));
    const ev = (await store.auditEvents()).filter((e) => e.action !== "issue" || e.name === "judy");
    expect(ev.map((e) => [e.action, e.name])).toEqual([
      ["issue", "judy"],
      ["revoke", "judy"],
    ]);
    for (const e of ev) expect(new Date(e.at!).toISOString()).toBe(e.at);
  });

  test("artifacts: stored with the record in one commit, read back; none for a serial without bytes; a thrown transaction stores none", async () => {
    const a = record("lena", { csrFile: "reqs/lena.csr" });
    const pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
    await store.transaction(async (tx) => {
      await tx.put([a]);
      await tx.putArtifacts(a.serial, { certPem: pem, csrPem: "-----BEGIN CERTIFICATE REQUEST-----\nMIIC\n-----END CERTIFICATE REQUEST-----\n" });
    });
    expect(await store.certificatePem(a.serial)).toBe(pem);
    expect((await store.artifacts(a.serial))?.csrPem).toMatch(/CERTIFICATE REQUEST/);
    expect(await store.artifacts("0123456789abcdef")).toBeUndefined();
    const b = record("mona");
    await expect(
      store.transaction(async (tx) => {
        await tx.put([b]);
        await tx.putArtifacts(b.serial, { certPem: pem });
        throw new Error("refused");
      }),
    ).rejects.toThrow("refused");
    expect(await store.findBySerial(b.serial)).toBeUndefined();
    expect(await store.certificatePem(b.serial)).toBeUndefined();
  });

  test("tokens: put, found by id and by name (the newest), claimed in the certificate's transaction, listed oldest first", async () => {
    const tok = (id: string, name: string) => ({
      id, name, hash: "ab".repeat(32), kind: "client" as const, subject: `CN=${name}`, sans: { email: [], dns: [], uri: [], ip: [] },
      lifetimeSeconds: null, expectUser: null, createdAt: "2026-01-01T00:00:00.000Z", expiresAt: "2026-01-01T00:15:00.000Z", revokedAt: null, claim: null,
    });
    await store.transaction(async (tx) => {
      await tx.putToken(tok("aaaa01", "nina"));
      await tx.putToken(tok("aaaa02", "nina"));
    });
    expect((await store.tokens()).map((t) => t.id)).toEqual(["aaaa01", "aaaa02"]);
    await store.transaction(async (tx) => tx.putToken(tok("bbbb01", "otto")));
    expect((await store.tokensNamed("nina")).map((t) => t.id)).toEqual(["aaaa01", "aaaa02"]);
    expect((await store.tokensNamed("otto")).map((t) => t.id)).toEqual(["bbbb01"]);
    expect(await store.tokensNamed("nobody")).toEqual([]);
    const r = record("nina");
    await store.transaction(async (tx) => {
      expect((await tx.findToken("nina"))!.id).toBe("aaaa02");
      expect((await tx.findToken("aaaa01"))!.id).toBe("aaaa01");
      await tx.put([r]);
      const c = await tx.claimToken("aaaa02", r.serial, "cd".repeat(32));
      expect(c.claim).toMatchObject({ serial: r.serial, spkiSha256: "cd".repeat(32) });
    });
    const after = await store.tokens();
    expect(after.find((t) => t.id === "aaaa02")!.claim!.serial).toBe(r.serial);
    expect(after.find((t) => t.id === "aaaa01")!.claim).toBeNull();
    // a refused request claims nothing
    await expect(
      store.transaction(async (tx) => {
        await tx.claimToken("aaaa01", "0123456789abcdef", "ef".repeat(32));
        throw new Error("refused");
      }),
    ).rejects.toThrow("refused");
    expect((await store.tokens()).find((t) => t.id === "aaaa01")!.claim).toBeNull();
    await store.transaction(async (tx) => tx.putToken({ ...tok("aaaa01", "nina"), revokedAt: "2026-01-01T00:01:00.000Z" }));
    expect((await store.tokens()).map((t) => [t.id, t.revokedAt])).toEqual([
      ["aaaa01", "2026-01-01T00:01:00.000Z"],
      ["aaaa02", null],
      ["bbbb01", null],
    ]);
  });

  test("the CA key: a PKCS#8 PEM (encrypted) that belongs to the CA certificate", async () => {
    const k = await store.caKey();
    expect(k.pem).toMatch(/^-----BEGIN ENCRYPTED PRIVATE KEY-----/);
    expect(k.pkcs11Uri).toBeUndefined();
  });

  test("transactions in one process run one at a time", async () => {
    const order: string[] = [];
    const t = (k: string) =>
      store.transaction(async (tx) => {
        order.push(`${k}:start`);
        await new Promise((r) => setTimeout(r, 30));
        await tx.put([record(`t-${k}`)]);
        order.push(`${k}:end`);
      });
    await Promise.all([t("a"), t("b"), t("c")]);
    expect(order).toEqual(["a:start", "a:end", "b:start", "b:end", "c:start", "c:end"]);
  });

  test("8 processes reserving and inserting at once never repeat a serial and never lose a record", async () => {
    const PROCS = 8;
    const EACH = 25;
    const script = `
      (async () => {
        const store = ${factory.childOpen};
        for (let i = 0; i < ${EACH}; i++)
          await store.transaction(async (tx) => {
            const serial = (await tx.reserveSerial(8)).toString("hex"); // 8 bytes: collisions more likely than with 16, still never repeated
            const name = "p" + process.argv[2] + "-" + i;
            await tx.put([{ ...(await tx.header()).ca, name, kind: "client", serial, profile: "client", certFile: "issued/" + name + ".crt", keyFile: null, csrFile: null }]);
            await tx.audit({ action: "issue", name, serial });
          });
        await store.close();
      })().catch((e) => { console.error(e); process.exit(1); });`;
    const run = (k: number) =>
      new Promise<{ code: number | null; err: string }>((resolve) => {
        const c = spawn(process.execPath, ["-e", script, spec, String(k)], { stdio: ["ignore", "ignore", "pipe"], env: { ...process.env } }); // jest: pass its env (PGPASSFILE) explicitly
        let err = "";
        c.stderr.on("data", (d) => (err += d));
        c.on("close", (code) => resolve({ code, err })); // after the pipe is read
      });
    const results = await Promise.all(Array.from({ length: PROCS }, (_, k) => run(k)));
    for (const r of results) expect(r).toEqual({ code: 0, err: "" });
    const all = await factory.open(spec).list();
    expect(all).toHaveLength(PROCS * EACH);
    expect(new Set(all.map((r) => r.serial)).size).toBe(PROCS * EACH);
    expect(new Set(all.map((r) => r.name)).size).toBe(PROCS * EACH);
    for (const r of all) expect(await store.findBySerial(r.serial)).toEqual(r);
    expect((await store.auditEvents()).filter((e) => e.action === "issue")).toHaveLength(PROCS * EACH);
  });
});

// keep the file store's own files out of the interface tests above; this one is about the CLI on it
test("the file store: what the CLI issues is what the interface lists", async () => {
  const s = makeCliStore({ name: "CLI CA" });
  mtlsOk(["client", "issue", "kim", "--email", "kim@example.com"], s);
  const st = openFileStore(s.dir);
  const list = JSON.parse(mtlsOk(["list", "--json"], s).stdout) as { name: string; serial: string }[];
  expect((await st.list()).map((r) => [r.name, r.serial])).toEqual(list.filter((r) => r.name !== "ca").map((r) => [r.name, r.serial]));
  expect(fs.existsSync(path.join(s.dir, "audit.log"))).toBe(true);
  const ev = await st.auditEvents();
  expect(ev.map((e) => [e.action, e.name])).toEqual([["issue", "kim"]]);
  expect(fs.readFileSync(path.join(s.dir, "audit.log"), "utf8")).not.toMatch(/PRIVATE KEY|passphrase/i);
});
