/**
 * A store in the single-file format (inventory.json version 1 with every record in certificates[],
 * what mtlsctl wrote before the record log) keeps working: read as it is by commands that do not
 * lock, migrated by the first one that locks (src/store/store.ts migrate()), with `list --json`
 * byte for byte the same; a migration killed at any of its crash points leaves the old store whole.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { BIN, makeStore, mtls, mtlsOk } from "./helpers/cli";
import { readInventory } from "./helpers/inventory";

jest.setTimeout(300_000);

const s = makeStore({ name: "Old Format CA" });
let v1Text = "";
let listBefore = "";
const v1Copy = path.join(s.cwd, "v1-copy");

const list = () => mtlsOk(["list", "--json"], s).stdout;
const rawInventory = () => JSON.parse(fs.readFileSync(path.join(s.dir, "inventory.json"), "utf8"));
const putBackV1 = () => {
  fs.rmSync(s.dir, { recursive: true, force: true });
  fs.cpSync(v1Copy, s.dir, { recursive: true });
};

beforeAll(() => {
  mtlsOk(["client", "issue", "alice", "--email", "alice@example.com"], s);
  mtlsOk(["client", "issue", "bob", "--dns", "bob.example.com"], s);
  mtlsOk(["revoke", "bob", "--reason", "keyCompromise"], s);
  mtlsOk(["client", "issue", "alice", "--email", "alice2@example.com", "--force"], s);
  mtlsOk(["nkey", "create", "svc"], s);
  mtlsOk(["server", "issue", "nats1", "--dns", "nats1.example.com"], s);
  listBefore = list();
  // the same store as the single-file format wrote it: every record in inventory.json, no db/
  const inv = readInventory(s.dir);
  v1Text = JSON.stringify(inv, null, 2) + "\n";
  expect(inv.version).toBe(1);
  expect(inv.certificates.length).toBe(4); // alice, bob, alice again (--force), nats1
  fs.writeFileSync(path.join(s.dir, "inventory.json"), v1Text);
  fs.rmSync(path.join(s.dir, "db"), { recursive: true });
  fs.cpSync(s.dir, v1Copy, { recursive: true });
});

test("read as it is by commands that do not lock: list, status, config nats, export", () => {
  putBackV1();
  expect(list()).toBe(listBefore);
  expect(mtls(["status"], s).code).toBe(0);
  expect(mtlsOk(["config", "nats"], s).stdout).toMatch(/alice2@example\.com/);
  expect(mtlsOk(["export", "alice", "--format", "pem"], s).stdout).toMatch(/BEGIN CERTIFICATE/);
  expect(fs.readFileSync(path.join(s.dir, "inventory.json"), "utf8")).toBe(v1Text); // untouched
  expect(fs.existsSync(path.join(s.dir, "db"))).toBe(false);
});

test("migrated by the first locked command; list --json byte for byte the same", () => {
  putBackV1();
  mtlsOk(["client", "issue", "carol", "--email", "carol@example.com"], s);
  const raw = rawInventory();
  expect(raw.version).toBe(2);
  expect(raw.certificates).toBeUndefined();
  expect(raw.ca.subject).toBe("CN=Old Format CA");
  expect(raw.crl.number).toBe(1);
  expect(raw.nkeys.map((k: { name: string }) => k.name)).toEqual(["svc"]);
  expect(fs.readdirSync(path.join(s.dir, "db", "log")).sort()).toEqual(["000000000001.json", "000000000002.json"]); // every old record, then carol
  const now = JSON.parse(list()) as { name: string }[];
  expect(now.filter((c) => c.name === "carol")).toHaveLength(1);
  expect(JSON.stringify(now.filter((c) => c.name !== "carol"), null, 2) + "\n").toBe(listBefore);
  // and it works on: renew, revoke, a CRL with both revoked serials
  mtlsOk(["renew", "alice"], s);
  mtlsOk(["revoke", "carol"], s);
  const after = JSON.parse(list()) as { name: string; status: string }[];
  expect(after.map((c) => `${c.name}:${c.status}`)).toEqual(["ca:valid", "alice:superseded", "bob:revoked", "alice:superseded", "nats1:valid", "carol:revoked", "alice:valid", "svc:valid"]);
  const crl = spawnSync("openssl", ["crl", "-in", path.join(s.dir, "crl.pem"), "-noout", "-text"], { encoding: "utf8" }).stdout;
  expect((crl.match(/Serial Number:/g) ?? []).length).toBe(2);
});

test("a migration killed at each of its crash points leaves the old store, and the next command migrates it", () => {
  let kills = 0;
  for (let n = 1; n < 60; n++) {
    putBackV1();
    const r = spawnSync(process.execPath, [BIN, "client", "issue", "dan", "--email", "dan@example.com"], {
      cwd: s.cwd,
      env: { ...process.env, ...s.env, NO_COLOR: "1", MTLSCTL_TEST_KILL_AT: String(n), MTLSCTL_TEST_KILL_TRACE: "1" },
      encoding: "utf8",
    });
    if (r.signal !== "SIGKILL") {
      expect(r.status).toBe(0);
      break;
    }
    kills++;
    const where = r.stderr.trim().split("\n").pop()!;
    const now = list(); // unlocked: the old inventory, or the migrated one (+ dan once its segment is linked)
    const names = (JSON.parse(now) as { name: string }[]).map((c) => c.name);
    if (names.includes("dan")) expect({ where, rest: JSON.stringify(JSON.parse(now).filter((c: { name: string }) => c.name !== "dan"), null, 2) + "\n" }).toEqual({ where, rest: listBefore });
    else expect({ where, now }).toEqual({ where, now: listBefore });
    // the next locked command takes the dead lock over, migrates (again) and issues
    mtlsOk(["client", "issue", "erin", "--email", "erin@example.com"], s);
    const final = (JSON.parse(list()) as { name: string }[]).map((c) => c.name);
    expect(final.slice(0, 6)).toEqual(["ca", "alice", "bob", "alice", "nats1", ...(names.includes("dan") ? ["dan"] : ["erin"])]);
    expect(rawInventory().version).toBe(2);
    const hidden = (d: string): string[] => fs.readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.name.startsWith(".") ? [path.join(d, e.name)] : e.isDirectory() ? hidden(path.join(d, e.name)) : []));
    expect({ where, hidden: hidden(s.dir) }).toEqual({ where, hidden: [] });
  }
  expect(kills).toBeGreaterThanOrEqual(5);
});
