/**
 * Issue 8, item 4: crash safety. Each command is killed with SIGKILL at its 1st, 2nd, ... crash
 * point (MTLSCTL_TEST_KILL_AT=N, src/store/crashpoints.ts) until it completes. After every kill:
 *
 *  1. right away, every difference from the old tree is explained: the killed process's lock
 *     (its PID inside), its temporary files (`.<file>.tmp-<pid>-<hex>`), its `ca init` staging
 *     directory or the store it had moved aside (`.pki.init-<pid>-*`, `.pki.replaced-<pid>-*`),
 *     files it published before its commit point (not listed by the inventory), or the new state;
 *  2. `list --json` shows exactly the old state or the new one;
 *  3. the tree is then the old tree, or the new state's, apart from the lock and temporary files;
 *  4. the next `client issue` (taking over the dead process's lock at once), `revoke` and `crl`
 *     succeed, and leave no lock, temporary, staging or unlisted file behind.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { spawnSync } from "node:child_process";
import { BIN, hashTree, mtls, mtlsOk, openssl, tmpDir } from "./helpers/cli";
import { readInventory } from "./helpers/inventory";

jest.setTimeout(600_000);

const PASS = "test-pass";
type Tree = Record<string, string>;

let cwd: string; // the store is cwd/pki; ca init stages beside it
let dir: string;
let env: Record<string, string>;
let pristine: string; // the old state, copied back before each run

interface Killed {
  killed: boolean;
  pid: number;
  status: number | null;
  stderr: string;
}

function runKilledAt(n: number, args: string[]): Killed {
  const e = { ...process.env, NO_COLOR: "1", ...env, MTLSCTL_TEST_KILL_AT: String(n), MTLSCTL_TEST_KILL_TRACE: "1" };
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd, env: e, encoding: "utf8", input: "", timeout: 60_000 });
  if (r.error) throw r.error;
  return { killed: r.signal === "SIGKILL", pid: r.pid, status: r.status, stderr: r.stderr };
}

function restoreOld(): void {
  for (const e of fs.readdirSync(cwd)) if (e === "pki" || e.startsWith(".pki.")) fs.rmSync(path.join(cwd, e), { recursive: true, force: true });
  if (pristine) {
    const r = spawnSync("cp", ["-a", pristine, dir]);
    expect(r.status).toBe(0);
  }
}

const storeTree = (): Tree => hashTree(dir);
const listJson = (): { code: number; list: any[] | null; stderr: string } => {
  const r = mtls(["list", "--json"], { cwd, env });
  return { code: r.code, list: r.code === 0 ? JSON.parse(r.stdout) : null, stderr: r.stderr };
};
const byName = (list: any[]) => Object.fromEntries(list.map((c) => [c.name + "#" + c.serial, c]));

/** Why a path in cwd (relative) may differ right after a kill of `pid`, or null. */
function leftover(rel: string, pid: number): string | null {
  const base = path.basename(rel.replace(/\/$/, ""));
  if (new RegExp(`^\\.pki\\.init-${pid}-[0-9a-f]{8}(/|$)`).test(rel)) return "staging directory of the killed ca init";
  if (new RegExp(`^\\.pki\\.replaced-${pid}-[0-9a-f]{8}(/|$)`).test(rel)) return "old store moved aside by the killed ca init --force";
  if (rel === "pki/.lock") return "the killed process's lock";
  if (/^pki\/\.crl-\d+\.pem$/.test(rel)) return "a CRL staged before its commit (the next locked command publishes it when the inventory recorded its number, else removes it)";
  if (new RegExp(`^\\..+\\.tmp-${pid}-[0-9a-f]{8}$`).test(base)) return "the killed process's temporary file";
  return null;
}

/** The files the store's inventory lists (relative to the store). */
function listedFiles(): Set<string> {
  if (!fs.existsSync(path.join(dir, "inventory.json"))) return new Set(); // no store
  const inv = readInventory(dir);
  const listed = new Set<string>();
  for (const r of [inv.ca, ...inv.certificates]) for (const f of [r.certFile, r.keyFile, r.csrFile]) if (f) listed.add(f);
  return listed;
}

/** The record log's index buckets and next-segment hint (src/store/log.ts). */
const INDEX_HINT = /^db\/(idx\/[ns]-[0-9a-f]{2}\.log|seq)$/;

const hidden = (t: Tree) => Object.keys(t).filter((k) => k.split("/").some((part) => part.startsWith(".")));

/** The checks of 1–4 after a kill; returns which state the store is in. */
interface Scenario {
  isNew: (list: any[]) => boolean;
  /** Files a killed run may leave that the inventory does not list (published before the commit). */
  unlisted?: RegExp;
  /** Old files the command rewrites (the new state may differ there). */
  changes?: RegExp;
  /** The old state may have the old files moved (renewed/): the check that they were only moved. */
  movedOnly?: (oldTree: Tree, tree: Tree) => string[];
  checkCompleted?: (list: any[]) => void;
}

function afterKill(k: Killed, o: Scenario & { old: { cwdTree: Tree; tree: Tree; list: any[] | null }; label: string }): "old" | "new" {
  const what = `${o.label}, killed at ${k.stderr.trim().split("\n").pop()}`;
  // 1. every difference right after the kill is explained
  const t1 = hashTree(cwd);
  const oldCwdTree = o.old.cwdTree;
  for (const p of Object.keys(t1)) {
    if (oldCwdTree[p] === t1[p]) continue;
    const why = leftover(p, k.pid);
    if (why === "the killed process's lock") expect(fs.readFileSync(path.join(cwd, p), "utf8")).toBe(String(k.pid));
    if (why) continue;
    // otherwise: a store file of the new state (checked below against the inventory)
    expect({ what, p }).toEqual({ what, p: expect.stringMatching(/^pki\//) });
  }
  // 2. list --json: exactly the old state or the new one
  const l = listJson();
  let state: "old" | "new";
  if (o.old.list === null && l.code !== 0) {
    expect(l.stderr).toMatch(/no store here/);
    state = "old";
  } else {
    expect({ what, code: l.code, stderr: l.stderr }).toEqual({ what, code: 0, stderr: "" });
    if (o.old.list !== null && JSON.stringify(l.list) === JSON.stringify(o.old.list)) state = "old";
    else {
      expect({ what, isNew: o.isNew(l.list!) }).toEqual({ what, isNew: true });
      state = "new";
    }
  }
  // 3. the tree (after list, which puts back a store a killed ca init --force had moved aside)
  const t2 = storeTree();
  if (state === "old") {
    const extra: Tree = {};
    for (const [p, h] of Object.entries(t2)) if (o.old.tree[p] !== h) extra[p] = h;
    // a commit that changed no listed certificate (client sign --force's first one): a new segment of the record log
    const committed = t2["inventory.json"] !== o.old.tree["inventory.json"] || Object.keys(t2).some((p) => /^db\/log\/\d+\.json$/.test(p) && !(p in o.old.tree));
    if (o.movedOnly && committed) for (const p of [...Object.keys(extra).filter((p) => p === "inventory.json" || p.startsWith("db/")), ...o.movedOnly(o.old.tree, t2)]) delete extra[p];
    const listedNow = listedFiles();
    for (const p of Object.keys(extra)) {
      if (leftover("pki/" + p, k.pid)) continue;
      // published before the commit point: the inventory does not list it, so it is part of no state;
      // or the record log's index lines and its next-segment hint, appended before a segment that a
      // crash never created (hints: a lookup reads the segments they name)
      if (INDEX_HINT.test(p)) continue;
      expect({ what, p, unlisted: !!o.unlisted?.test(p) && !listedNow.has(p) }).toEqual({ what, p, unlisted: true });
    }
    for (const p of Object.keys(o.old.tree)) expect({ what, p, present: p in t2 }).toEqual({ what, p, present: true });
  } else if (o.changes) {
    // the new state: the old files are all there, unchanged but for the ones this command rewrites
    for (const [p, h] of Object.entries(o.old.tree)) if (!o.changes.test(p)) expect({ what, p, same: t2[p] === h }).toEqual({ what, p, same: true });
    for (const p of Object.keys(t2)) if (!(p in o.old.tree) && !leftover("pki/" + p, k.pid)) expect({ what, p, added: o.changes.test(p) }).toEqual({ what, p, added: true });
    if (o.label === "revoke" && t2["crl.pem"] === o.old.tree["crl.pem"]) {
      // committed but not yet published: the staged CRL is there, and the next locked command publishes it
      expect({ what, staged: Object.keys(t2).some((p) => /^\.crl-\d+\.pem$/.test(p)) }).toEqual({ what, staged: true });
      crlLagged++;
    }
  }
  // nothing hidden but the lock and temporary files of the killed process, in the store or beside it
  for (const p of hidden(hashTree(cwd))) expect({ what, p, why: leftover(p, k.pid) }).toEqual({ what, p, why: expect.any(String) });
  for (const p of hidden(hashTree(cwd))) expect({ what, p }).toEqual({ what, p: expect.stringMatching(/^pki\//) }); // no staging dir left after list

  // 4. the next commands work, the dead process's lock is taken over at once, nothing is left over
  if (state === "old" && o.old.list === null) mtlsOk(["ca", "init", "--name", "After CA"], { cwd, env });
  const t0 = Date.now();
  mtlsOk(["client", "issue", "next", "--email", "next@example.com"], { cwd, env });
  expect(Date.now() - t0).toBeLessThan(10_000); // no 30 s wait for a dead owner
  if (state === "new" && o.label === "revoke") {
    // the staged CRL was published by the client issue above: crl.pem is the committed CRL again
    const inv = readInventory(dir);
    const num = openssl(["crl", "-in", path.join(dir, "crl.pem"), "-noout", "-crlnumber"]).stdout.match(/crlNumber=0x([0-9A-Fa-f]+)/);
    expect({ what, crlNumber: num ? parseInt(num[1], 16) : null }).toEqual({ what, crlNumber: inv.crl.number });
  }
  mtlsOk(["revoke", "next"], { cwd, env });
  mtlsOk(["crl"], { cwd, env });
  const t3 = hashTree(cwd);
  expect({ what, hidden: hidden(t3) }).toEqual({ what, hidden: [] });
  const listed = listedFiles();
  for (const p of Object.keys(t3)) if (/^pki\/(issued|reqs|private|renewed)\/[^/]+$/.test(p)) expect({ what, p, listed: listed.has(p.slice(4)) }).toEqual({ what, p, listed: true });
  return state;
}

interface Outcome {
  points: number;
  old: number;
  new: number;
}
const outcomes: Record<string, Outcome> = {};
const points: Record<string, string[]> = {};

let crlLagged = 0;

function crashLoop(label: string, args: string[], o: Scenario): void {
  restoreOld();
  const old = { cwdTree: hashTree(cwd), tree: storeTree(), list: pristine ? listJson().list : null };
  const out: Outcome = { points: 0, old: 0, new: 0 };
  for (let n = 1; ; n++) {
    expect(n).toBeLessThan(200);
    restoreOld();
    const k = runKilledAt(n, args);
    if (!k.killed) {
      // completed: the crash points are exhausted
      expect({ label, n, status: k.status, stderr: k.stderr.replace(/^mtlsctl: (warning|test hook): .*\n/gm, "") }).toEqual({ label, n, status: 0, stderr: "" });
      points[label] = k.stderr.split("\n").filter((l) => l.startsWith("mtlsctl: test hook: ")).map((l) => l.replace(/^mtlsctl: test hook: crash point /, "").replace(cwd, "."));
      const l = listJson();
      expect(o.isNew(l.list!)).toBe(true);
      o.checkCompleted?.(l.list!);
      expect(hidden(hashTree(cwd))).toEqual([]);
      break;
    }
    out.points++;
    out[afterKill(k, { ...o, old, label })]++;
  }
  outcomes[label] = out;
  expect(out.points).toBeGreaterThanOrEqual(5);
  expect(out.old).toBeGreaterThan(0);
  expect(out.new).toBeGreaterThan(0); // the last points come after the commit
}

beforeAll(() => {
  cwd = tmpDir("mtlsctl-crash-");
  dir = path.join(cwd, "pki");
  env = { MTLSCTL_PASSPHRASE: PASS, MTLSCTL_DIR: dir };
  // a request to sign, made on "the client's machine" (outside the store)
  mtlsOk(["client", "csr", "bob", "--email", "bob@example.com"], { cwd, env });
  mtlsOk(["client", "csr", "carol2", "--email", "carol@example.com"], { cwd, env });
});

afterAll(() => {
  if (process.env.MTLSCTL_SHOW_CRASH_POINTS) console.log(Object.entries(points).map(([k, v]) => `${k}:\n  ${v.join("\n  ")}`).join("\n"));
  console.log(
    "crash points: " +
      Object.entries(outcomes)
        .map(([k, v]) => `${k}: ${v.points} kills (${v.old} old state, ${v.new} new state)`)
        .join("; ") +
      `; revoke killed after its commit but before crl.pem was rewritten: ${crlLagged}`,
  );
});

test("ca init (no store yet): killed at every crash point, then no store or the whole new one", () => {
  pristine = "";
  crashLoop("ca init", ["ca", "init", "--name", "Crash CA"], {
    isNew: (list) => list.length === 1 && list[0].kind === "ca" && list[0].subject === "CN=Crash CA",
  });
});

describe("on a store with certificates and a CRL", () => {
  beforeAll(() => {
    const base = tmpDir("mtlsctl-crash-pristine-");
    pristine = "";
    restoreOld();
    mtlsOk(["ca", "init", "--name", "Old CA"], { cwd, env });
    mtlsOk(["client", "issue", "alice", "--email", "alice@example.com"], { cwd, env });
    mtlsOk(["client", "issue", "carol", "--subject", "CN=carol,O=Acme"], { cwd, env });
    mtlsOk(["revoke", "carol", "--reason", "superseded"], { cwd, env });
    mtlsOk(["client", "issue", "dave", "--dns", "dave.example.com"], { cwd, env });
    expect(spawnSync("cp", ["-a", dir, path.join(base, "pki")]).status).toBe(0);
    pristine = path.join(base, "pki");
  });

  test("client sign: killed at every crash point, then the old state or the old one plus bob", () => {
    crashLoop("client sign", ["client", "sign", "bob.csr"], {
      isNew: (list) => {
        const added = list.filter((c) => c.name === "bob");
        return list.length === 5 && added.length === 1 && added[0].status === "valid" && added[0].natsUser === "bob@example.com";
      },
      unlisted: /^(issued\/bob\.crt|reqs\/bob\.csr)$/,
      changes: /^(inventory\.json|db\/.+|audit\.log|issued\/bob\.crt|reqs\/bob\.csr)$/,
      checkCompleted: (list) => {
        const bob = list.find((c) => c.name === "bob");
        const pem = fs.readFileSync(path.join(dir, "issued", "bob.crt"), "utf8");
        expect(new (require("node:crypto").X509Certificate)(pem).serialNumber.toLowerCase().replace(/^0+/, "")).toBe(bob.serial.replace(/^0+/, ""));
      },
    });
  });

  test("client sign --force over an existing name: the old certificate stays intact until the commit", () => {
    const oldDave = () => readInventory(pristine).certificates.find((c: any) => c.name === "dave");
    crashLoop("client sign --force", ["client", "sign", "carol2.csr", "--name", "dave", "--force"], {
      isNew: (list) => {
        const daves = list.filter((c) => c.name === "dave");
        return list.length === 5 && daves.length === 2 && daves.some((c) => c.status === "superseded" && c.serial === oldDave().serial) && daves.some((c) => c.status === "valid" && c.natsUser === "carol@example.com");
      },
      unlisted: /^(issued\/dave\.crt|reqs\/dave\.csr|renewed\/[0-9a-f]+\.(crt|csr))$/,
      // killed after the first commit (the old files copied to renewed/): the same certificates,
      // the old one's files now under renewed/<serial>, byte for byte
      movedOnly: (oldTree, tree) => {
        const serial = oldDave().serial;
        const inv = readInventory(dir);
        const dave = inv.certificates.find((c: any) => c.serial === serial);
        expect(dave).toMatchObject({ status: "valid", certFile: `renewed/${serial}.crt`, csrFile: `renewed/${serial}.csr` });
        expect(tree[`renewed/${serial}.crt`]).toBe(oldTree["issued/dave.crt"]);
        expect(tree[`renewed/${serial}.csr`]).toBe(oldTree["reqs/dave.csr"]);
        expect(dave.keyFile).toBe("private/dave.key"); // not rewritten by client sign: left in place
        expect(tree["private/dave.key"]).toBe(oldTree["private/dave.key"]);
        return [`renewed/${serial}.crt`, `renewed/${serial}.csr`];
      },
      changes: /^(inventory\.json|db\/.+|audit\.log|issued\/dave\.crt|reqs\/dave\.csr|renewed\/[0-9a-f]+\.(crt|csr))$/,
    });
  });

  test("revoke: killed at every crash point, then alice valid or alice revoked", () => {
    crashLoop("revoke", ["revoke", "alice", "--reason", "keyCompromise"], {
      isNew: (list) => {
        const alice = list.find((c) => c.name === "alice");
        return list.length === 4 && alice.status === "revoked" && alice.revocationReason === "keyCompromise" && list.filter((c) => c.status === "revoked").length === 2;
      },
      // crl.pem is derived from the inventory (the commit point) and written after it
      changes: /^(inventory\.json|db\/.+|crl\.pem)$/,
    });
  });

  test("ca init --force over the store: killed at every crash point, then the old store exactly or the new one", () => {
    crashLoop("ca init --force", ["ca", "init", "--name", "New CA", "--force"], {
      isNew: (list) => list.length === 1 && list[0].kind === "ca" && list[0].subject === "CN=New CA",
    });
  });
});
