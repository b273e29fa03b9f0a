/**
 * Issue 8, item 3: concurrency. Eight shell loops run `mtlsctl client issue` 50 times each, all at
 * once, against one store: 400 certificates with 400 distinct serials, an inventory that lists each
 * exactly once, every file there and matching its record, and no lock or temporary file left.
 */
import { spawn } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { BIN, hashTree, makeStore, mtlsOk } from "./helpers/cli";
import { readInventory } from "./helpers/inventory";

jest.setTimeout(600_000);

const LOOPS = 8;
const PER_LOOP = 50;

function shellLoop(k: number, cwd: string, env: Record<string, string>): Promise<{ code: number | null; out: string }> {
  const script = `for i in $(seq 1 ${PER_LOOP}); do "$NODE" "$BIN" client issue "p${k}-$i" --email "p${k}-$i@example.com" --quiet || { echo "p${k}-$i failed: exit $?"; exit 1; }; done`;
  return new Promise((resolve) => {
    const child = spawn("bash", ["-c", script], { cwd, env: { ...process.env, ...env, NODE: process.execPath, BIN, NO_COLOR: "1" }, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (out += d));
    child.on("close", (code) => resolve({ code, out })); // after the pipes are read
  });
}

test(`${LOOPS} processes issuing ${PER_LOOP} certificates each at the same time`, async () => {
  const s = makeStore({ name: "Concurrency CA" });
  const started = Date.now();
  const results = await Promise.all(Array.from({ length: LOOPS }, (_, k) => shellLoop(k + 1, s.cwd, s.env)));
  const seconds = (Date.now() - started) / 1000;
  for (const r of results) expect({ code: r.code, out: r.out }).toEqual({ code: 0, out: "" });

  const total = LOOPS * PER_LOOP;
  const list = JSON.parse(mtlsOk(["list", "--json"], { cwd: s.cwd, env: s.env }).stdout) as any[];
  const clients = list.filter((c) => c.kind === "client");
  expect(clients).toHaveLength(total);
  expect(new Set(clients.map((c) => c.serial)).size).toBe(total);
  expect(new Set(list.map((c) => c.serial)).size).toBe(total + 1); // and none is the CA's
  const expected = new Set<string>();
  for (let k = 1; k <= LOOPS; k++) for (let i = 1; i <= PER_LOOP; i++) expected.add(`p${k}-${i}`);
  expect(new Set(clients.map((c) => c.name))).toEqual(expected);

  // the inventory itself: each certificate exactly once, every file there and matching its record
  const inv = readInventory(s.dir);
  expect(inv.certificates).toHaveLength(total);
  expect(new Set(inv.certificates.map((c: any) => c.name)).size).toBe(total);
  expect(new Set(inv.certificates.map((c: any) => c.serial)).size).toBe(total);
  for (const c of inv.certificates) {
    const x = new crypto.X509Certificate(fs.readFileSync(path.join(s.dir, c.certFile)));
    expect({ name: c.name, serial: x.serialNumber.toLowerCase().replace(/^0+/, "") }).toEqual({ name: c.name, serial: c.serial.replace(/^0+/, "") });
    expect(x.fingerprint256.replace(/:/g, "").toLowerCase()).toBe(c.fingerprint);
    expect(x.subjectAltName).toBe(`email:${c.name}@example.com`);
    expect(fs.statSync(path.join(s.dir, c.keyFile)).mode & 0o777).toBe(0o600);
    expect(crypto.createPublicKey(fs.readFileSync(path.join(s.dir, c.keyFile))).export({ type: "spki", format: "der" }).equals(x.publicKey.export({ type: "spki", format: "der" }))).toBe(true);
  }
  // serials: positive, at least 64 bits of entropy (mtlsctl draws 128)
  for (const c of clients) expect(c.serial).toMatch(/^[0-7][0-9a-f]{15,39}$|^[0-9a-f]{1,39}$/);

  const tree = hashTree(s.dir);
  const files = Object.keys(tree);
  expect(files.filter((f) => /^issued\/.+\.crt$/.test(f))).toHaveLength(total);
  expect(files.filter((f) => f.split("/").some((p) => p.startsWith(".")))).toEqual([]); // no lock, no temporary file
  console.log(`concurrency: ${LOOPS} x ${PER_LOOP} client issue in ${seconds.toFixed(1)} s: ${total} certificates, ${total} distinct serials, inventory lists each once`);
});
