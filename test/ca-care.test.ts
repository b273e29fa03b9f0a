/**
 * Issue 10 (CA care): `ca passphrase`, `ca rollover` / `ca retire`, `backup` / `restore`.
 *
 *  - passphrase: a wrong current passphrase leaves the key byte-identical (exit 3); afterwards the old
 *    one is refused, the new one signs, the key is still PKCS#8 PBES2 AES-256 (openssl reads it), 0600;
 *  - rollover on the real nats-server 2.9.10: during the overlap ca_file is roots.pem with both roots and
 *    a client of the old root and one of the new both connect and are mapped (/connz?auth=true); after
 *    `ca retire` + config nats + a server restart only the new one connects, the old one is refused at
 *    TLS. `openssl verify -CAfile roots.pem` and `mtlsctl verify --config` agree with the server;
 *  - rollover and retire killed at every crash point: the old state or the new one, and every command
 *    works afterwards;
 *  - backup/restore: the restored tree is the store's (hashes and modes), it passes status and issues;
 *    a wrong password, a truncated or an altered archive: one line, exit 3, nothing written.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { spawnSync } from "node:child_process";
import { BIN, hashTree, makeStore, mtls, mtlsOk, openssl, tmpDir } from "./helpers/cli";
import { startNatsServer, stopAllNatsServers } from "./helpers/nats";
import { readInventory } from "./helpers/inventory";

jest.setTimeout(300_000);
afterAll(() => stopAllNatsServers());

const crt = (dir: string, n: string) => path.join(dir, "issued", `${n}.crt`);
const key = (dir: string, n: string) => path.join(dir, "private", `${n}.key`);
const serialOf = (file: string) => openssl(["x509", "-in", file, "-noout", "-serial"]).stdout.trim().replace(/^serial=/, "").toLowerCase().replace(/^0+/, "");
const invOf = (dir: string) => readInventory(dir);
const hidden = (dir: string) => Object.keys(hashTree(dir)).filter((k) => k.split("/").some((p) => p.startsWith(".")));

describe("ca passphrase", () => {
  test("a wrong current passphrase changes nothing; then the old one is refused and the new one works", () => {
    const s = makeStore();
    const pw = (n: string, v: string) => {
      const f = path.join(s.cwd, n);
      fs.writeFileSync(f, v + "\n", { mode: 0o600 });
      return f;
    };
    const before = fs.readFileSync(key(s.dir, "ca"));
    const beforeTree = hashTree(s.dir);
    const bad = mtls(["ca", "passphrase", "--passphrase-file", pw("bad.txt", "nope"), "--new-passphrase-file", pw("new.txt", "new-pass")], { cwd: s.cwd, env: s.env });
    expect(bad.code).toBe(3);
    expect(bad.stderr.trim().split("\n")).toEqual([expect.stringMatching(/^mtlsctl: .*ca\.key: wrong passphrase/)]);
    expect(fs.readFileSync(key(s.dir, "ca")).equals(before)).toBe(true);
    expect(hashTree(s.dir)).toEqual(beforeTree);

    const ok = mtlsOk(["ca", "passphrase", "--passphrase-file", pw("old.txt", "test-pass"), "--new-passphrase-file", pw("new.txt", "new-pass"), "--json"], { cwd: s.cwd, env: s.env });
    expect(JSON.parse(ok.stdout)).toMatchObject({ wasEncrypted: true, encrypted: true });
    expect(fs.statSync(key(s.dir, "ca")).mode & 0o777).toBe(0o600);
    const pem = fs.readFileSync(key(s.dir, "ca"), "utf8");
    expect(pem).toMatch(/^-----BEGIN ENCRYPTED PRIVATE KEY-----/);
    expect(openssl(["asn1parse", "-in", key(s.dir, "ca")]).stdout).toMatch(/aes-256-cbc/);
    expect(openssl(["pkey", "-in", key(s.dir, "ca"), "-passin", "pass:new-pass", "-noout"]).code).toBe(0);
    expect(openssl(["pkey", "-in", key(s.dir, "ca"), "-passin", "pass:test-pass", "-noout"]).code).not.toBe(0);

    // the old passphrase no longer signs; the new one does
    const old = mtls(["client", "issue", "alice", "--email", "alice@example.com"], { cwd: s.cwd, env: s.env });
    expect(old.code).toBe(3);
    expect(old.stderr).toMatch(/wrong passphrase/);
    mtlsOk(["client", "issue", "alice", "--email", "alice@example.com"], { cwd: s.cwd, env: { ...s.env, MTLSCTL_PASSPHRASE: "new-pass" } });

    // --no-encrypt, then back to a passphrase from the environment
    mtlsOk(["ca", "passphrase", "--no-encrypt"], { cwd: s.cwd, env: { ...s.env, MTLSCTL_PASSPHRASE: "new-pass" } });
    expect(fs.readFileSync(key(s.dir, "ca"), "utf8")).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    expect(fs.statSync(key(s.dir, "ca")).mode & 0o777).toBe(0o600);
    mtlsOk(["ca", "passphrase"], { cwd: s.cwd, env: { ...s.env, MTLSCTL_PASSPHRASE: undefined, MTLSCTL_NEW_PASSPHRASE: "third" } });
    expect(openssl(["pkey", "-in", key(s.dir, "ca"), "-passin", "pass:third", "-noout"]).code).toBe(0);
    // no terminal and no new passphrase: usage error, nothing changed
    const keep = fs.readFileSync(key(s.dir, "ca"));
    const r = mtls(["ca", "passphrase"], { cwd: s.cwd, env: { ...s.env, MTLSCTL_PASSPHRASE: "third" } });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--new-passphrase-file/);
    expect(fs.readFileSync(key(s.dir, "ca")).equals(keep)).toBe(true);
    expect(hidden(s.dir)).toEqual([]);
  });

  test("after a rollover, the previous root's key is re-encrypted too", () => {
    const s = makeStore();
    mtlsOk(["ca", "rollover"], { cwd: s.cwd, env: s.env });
    const prev = invOf(s.dir).previousCas[0].keyFile as string;
    mtlsOk(["ca", "passphrase"], { cwd: s.cwd, env: { ...s.env, MTLSCTL_NEW_PASSPHRASE: "fresh" } });
    for (const f of ["private/ca.key", prev]) {
      expect(openssl(["pkey", "-in", path.join(s.dir, f), "-passin", "pass:fresh", "-noout"]).code).toBe(0);
      expect(fs.statSync(path.join(s.dir, f)).mode & 0o777).toBe(0o600);
    }
  });
});

describe("rollover on nats-server 2.9.10: both roots during the overlap, only the new one after retire", () => {
  test("old and new clients connect and map during the overlap; after retire the old one is refused at TLS", async () => {
    const s = makeStore({ name: "Acme Root" });
    const run = (args: string[]) => mtlsOk(args, { cwd: s.cwd, env: s.env });
    run(["server", "issue", "nats1", "--dns", "localhost", "--ip", "127.0.0.1"]);
    run(["client", "issue", "alice", "--email", "alice@example.com"]);
    const oldCa = invOf(s.dir).ca.serial;
    const oldCaPem = fs.readFileSync(path.join(s.dir, "ca.crt"), "utf8");
    // keep the old client's files as it has them (renew will move them)
    const aliceCrt = path.join(s.cwd, "alice-old.crt");
    fs.copyFileSync(crt(s.dir, "alice"), aliceCrt);

    const roll = JSON.parse(run(["ca", "rollover", "--json"]).stdout);
    expect(roll.previous.serial).toBe(oldCa);
    expect(roll.roots).toEqual([roll.ca.serial, oldCa]);
    expect(roll.ca.subject).toBe("CN=Acme Root"); // the same name by default; the key (SKID/AKID) tells them apart
    run(["client", "issue", "bob", "--email", "bob@example.com"]);
    const roots = path.join(s.dir, "roots.pem");
    expect(fs.readFileSync(roots, "utf8")).toContain(oldCaPem.trim());
    expect(openssl(["x509", "-in", crt(s.dir, "bob"), "-noout", "-issuer"]).stdout).toMatch(/Acme Root/);
    // bob is signed by the new root, alice by the old one
    expect(openssl(["verify", "-CAfile", path.join(s.dir, "ca.crt"), crt(s.dir, "bob")]).code).toBe(0);
    expect(openssl(["verify", "-CAfile", path.join(s.dir, "ca.crt"), aliceCrt]).code).not.toBe(0);
    expect(openssl(["verify", "-CAfile", roots, aliceCrt, crt(s.dir, "bob")]).code).toBe(0);
    // export --format chain follows the signing root: alice's chain ends in the old root, bob's in the new one
    const chainOf = (n: string) => run(["export", n, "--format", "chain"]).stdout.split(/(?<=-----END CERTIFICATE-----\n)/).filter(Boolean);
    expect(chainOf("alice")[1].trim()).toBe(oldCaPem.trim());
    expect(chainOf("bob")[1].trim()).toBe(fs.readFileSync(path.join(s.dir, "ca.crt"), "utf8").trim());

    // list, status and ca show say which root signed what
    const list = JSON.parse(run(["list", "--json"]).stdout);
    expect(list.filter((c: any) => c.kind === "ca").map((c: any) => [c.serial, c.caStatus])).toEqual([
      [roll.ca.serial, "current"],
      [oldCa, "overlap"],
    ]);
    expect(list.find((c: any) => c.name === "alice")).toMatchObject({ caSerial: oldCa, caStatus: "overlap" });
    expect(list.find((c: any) => c.name === "bob")).toMatchObject({ caSerial: roll.ca.serial, caStatus: "current" });
    const st = mtls(["status"], { cwd: s.cwd, env: s.env });
    expect(st.code).toBe(0);
    expect(st.stderr).toMatch(/2 valid certificate\(s\) were signed by a previous CA still trusted during the rollover overlap: nats1, alice/);
    expect(JSON.parse(run(["ca", "show", "--json"]).stdout)).toMatchObject({ overlap: true, trustFile: roots, previous: [{ serial: oldCa, caStatus: "overlap", valid: 2 }] });

    // the overlap on the server
    const conf = path.join(s.cwd, "mtls.conf");
    const c1 = mtls(["config", "nats", "--out", conf], { cwd: s.cwd, env: s.env });
    expect(c1.code).toBe(0);
    expect(fs.readFileSync(conf, "utf8")).toContain(`ca_file: "${roots}"`);
    expect(c1.stderr).toMatch(/CA rollover overlap/);
    const srv1 = await startNatsServer(conf);
    expect(await srv1.connectAs(aliceCrt, key(s.dir, "alice"), roots)).toMatchObject({ ok: true, user: "alice@example.com" });
    expect(await srv1.connectAs(crt(s.dir, "bob"), key(s.dir, "bob"), roots)).toMatchObject({ ok: true, user: "bob@example.com" });
    const v1 = mtls(["verify", aliceCrt, crt(s.dir, "bob"), "--config", srv1.configFile, "--server-cwd", srv1.dir, "--json"], { cwd: s.cwd, env: s.env });
    expect(v1.code).toBe(0);
    expect(v1.stdout.trim().split("\n").map((l) => JSON.parse(l)).map((v) => [v.accepted, v.user])).toEqual([
      [true, "alice@example.com"],
      [true, "bob@example.com"],
    ]);
    await srv1.stop();

    // the end of the overlap: the server certificate is renewed under the new root (its clients trust
    // roots.pem, which will hold the new root alone), then the old root is retired
    run(["renew", "nats1"]);
    const ret = mtls(["ca", "retire", "--all-previous", "--json"], { cwd: s.cwd, env: s.env });
    expect(ret.code).toBe(0);
    expect(JSON.parse(ret.stdout)).toMatchObject({ retired: [{ serial: oldCa }], roots: [roll.ca.serial], stranded: [{ name: "alice" }] });
    expect(ret.stderr).toMatch(/refused once servers reload roots\.pem: alice \(renew them/);
    expect(fs.readFileSync(roots, "utf8")).not.toContain(oldCaPem.trim());
    const c2 = mtls(["config", "nats", "--out", conf, "--force"], { cwd: s.cwd, env: s.env });
    expect(c2.code).toBe(0);
    expect(c2.stderr).toMatch(/alice: left out, it was signed by a retired CA .* renew it \(mtlsctl renew alice\)/);
    expect(fs.readFileSync(conf, "utf8")).not.toContain("alice@example.com");
    expect(openssl(["verify", "-CAfile", roots, aliceCrt]).code).not.toBe(0);
    expect(openssl(["verify", "-CAfile", roots, crt(s.dir, "bob")]).code).toBe(0);

    const srv2 = await startNatsServer(conf);
    const a2 = await srv2.connectAs(aliceCrt, key(s.dir, "alice"), roots);
    expect(a2.ok).toBe(false);
    expect(await srv2.connectAs(crt(s.dir, "bob"), key(s.dir, "bob"), roots)).toMatchObject({ ok: true, user: "bob@example.com" });
    for (let i = 0; i < 40 && !/TLS handshake error/.test(srv2.log()); i++) await new Promise((r) => setTimeout(r, 50));
    expect(srv2.log()).toMatch(/TLS handshake error: .*certificate signed by unknown authority/);
    const v2 = mtls(["verify", aliceCrt, crt(s.dir, "bob"), "--config", srv2.configFile, "--server-cwd", srv2.dir, "--json"], { cwd: s.cwd, env: s.env });
    expect(v2.code).toBe(1);
    expect(v2.stdout.trim().split("\n").map((l) => JSON.parse(l)).map((v) => [v.accepted, v.stage, v.user])).toEqual([
      [false, "tls", null],
      [true, null, "bob@example.com"],
    ]);
    await srv2.stop();

    // alice renewed: back in, under the new root
    run(["renew", "alice"]);
    mtlsOk(["config", "nats", "--out", conf, "--force"], { cwd: s.cwd, env: s.env });
    const srv3 = await startNatsServer(conf);
    expect(await srv3.connectAs(crt(s.dir, "alice"), key(s.dir, "alice"), roots)).toMatchObject({ ok: true, user: "alice@example.com" });
    await srv3.stop();
    expect(mtls(["status"], { cwd: s.cwd, env: s.env }).stderr).toBe("");
  });

  test("a rollover with a new name and key type; retire by serial; refusals", () => {
    const s = makeStore({ name: "Acme 2025" });
    const run = (args: string[]) => mtls(args, { cwd: s.cwd, env: s.env });
    const old = invOf(s.dir).ca.serial;
    expect(run(["ca", "retire", "--all-previous"])).toMatchObject({ code: 3, stderr: expect.stringMatching(/nothing to retire/) });
    const before = hashTree(s.dir);
    expect(run(["ca", "rollover", "--passphrase-file", "/nonexistent"])).toMatchObject({ code: 3 });
    const wrong = mtls(["ca", "rollover"], { cwd: s.cwd, env: { ...s.env, MTLSCTL_PASSPHRASE: "wrong" } });
    expect(wrong).toMatchObject({ code: 3, stderr: expect.stringMatching(/wrong passphrase/) });
    expect(hashTree(s.dir)).toEqual(before);

    const r = JSON.parse(mtlsOk(["ca", "rollover", "--name", "Acme 2026", "--key", "ec-p384", "--days", "400", "--json"], { cwd: s.cwd, env: s.env }).stdout);
    expect(r.ca).toMatchObject({ subject: "CN=Acme 2026", keyType: "ec-p384", encrypted: true });
    expect(openssl(["x509", "-in", path.join(s.dir, "ca.crt"), "-noout", "-subject"]).stdout).toMatch(/Acme 2026/);
    expect(openssl(["pkey", "-in", key(s.dir, "ca"), "-passin", "pass:test-pass", "-noout"]).code).toBe(0);
    mtlsOk(["client", "issue", "carol", "--email", "carol@example.com"], { cwd: s.cwd, env: s.env });
    expect(openssl(["verify", "-CAfile", path.join(s.dir, "ca.crt"), crt(s.dir, "carol")]).code).toBe(0);
    expect(run(["ca", "retire", r.ca.serial])).toMatchObject({ code: 3, stderr: expect.stringMatching(/current CA/) });
    expect(run(["ca", "retire", "abcdef"])).toMatchObject({ code: 3, stderr: expect.stringMatching(/no previous CA with serial abcdef/) });
    expect(run(["ca", "retire"])).toMatchObject({ code: 3, stderr: expect.stringMatching(/--all-previous/) });
    mtlsOk(["ca", "retire", old], { cwd: s.cwd, env: s.env });
    expect(run(["ca", "retire", old])).toMatchObject({ code: 3, stderr: expect.stringMatching(/already retired/) });
    expect(openssl(["crl2pkcs7", "-nocrl", "-certfile", path.join(s.dir, "roots.pem")]).stdout).toBeTruthy();
    expect((fs.readFileSync(path.join(s.dir, "roots.pem"), "utf8").match(/BEGIN CERTIFICATE/g) ?? []).length).toBe(1);
    // a second rollover: the first previous root stays retired, the second is in overlap
    mtlsOk(["ca", "rollover"], { cwd: s.cwd, env: s.env });
    const inv = invOf(s.dir);
    expect(inv.previousCas.map((p: any) => [p.serial, p.caStatus])).toEqual([
      [old, "retired"],
      [r.ca.serial, "overlap"],
    ]);
    expect(inv.certificates.find((c: any) => c.name === "carol").caSerial).toBe(r.ca.serial);
    expect((fs.readFileSync(path.join(s.dir, "roots.pem"), "utf8").match(/BEGIN CERTIFICATE/g) ?? []).length).toBe(2);
    expect(hidden(s.dir)).toEqual([]);
  });

  test("an intermediate store (chain.pem) is refused with a clear message", () => {
    const s = makeStore();
    fs.copyFileSync(path.join(s.dir, "ca.crt"), path.join(s.dir, "chain.pem"));
    const before = hashTree(s.dir);
    const r = mtls(["ca", "rollover"], { cwd: s.cwd, env: s.env });
    expect(r.code).toBe(3);
    expect(r.stderr.trim()).toMatch(/^mtlsctl: .*ca\.crt: ca rollover is for root stores: this store's CA is an intermediate/);
    expect(hashTree(s.dir)).toEqual(before);
  });
});

describe("rollover and retire killed at every crash point", () => {
  function crashLoop(prepare: () => { cwd: string; dir: string; env: Record<string, string> }, args: string[], isNew: (inv: any, old: any) => boolean) {
    let kills = 0;
    let states = { old: 0, new: 0 };
    for (let n = 1; n < 100; n++) {
      const s = prepare();
      const oldInv = invOf(s.dir);
      const oldList = mtlsOk(["list", "--json"], { cwd: s.cwd, env: s.env }).stdout;
      const r = spawnSync(process.execPath, [BIN, ...args], { cwd: s.cwd, env: { ...process.env, ...s.env, NO_COLOR: "1", MTLSCTL_TEST_KILL_AT: String(n) }, encoding: "utf8", input: "" });
      if (r.signal !== "SIGKILL") {
        expect({ n, status: r.status, stderr: r.stderr.replace(/^mtlsctl: warning: .*\n/gm, "") }).toEqual({ n, status: 0, stderr: "" });
        break;
      }
      kills++;
      // the next command finishes or discards the interrupted one
      const list = mtlsOk(["list", "--json"], { cwd: s.cwd, env: s.env }).stdout;
      const inv = invOf(s.dir);
      const state = list === oldList ? "old" : "new";
      if (state === "new") expect({ n, isNew: isNew(inv, oldInv) }).toEqual({ n, isNew: true });
      states[state]++;
      // the store is whole: ca.crt and the key are the inventory's CA, roots.pem what the inventory says
      const ca = path.join(s.dir, "ca.crt");
      expect({ n, ca: serialOf(ca) }).toEqual({ n, ca: inv.ca.serial.replace(/^0+/, "") });
      const trust = fs.existsSync(path.join(s.dir, "roots.pem")) ? path.join(s.dir, "roots.pem") : ca;
      const trusted = (fs.readFileSync(trust, "utf8").match(/BEGIN CERTIFICATE/g) ?? []).length;
      expect({ n, trusted }).toEqual({ n, trusted: 1 + (inv.previousCas ?? []).filter((p: any) => p.caStatus === "overlap").length });
      mtlsOk(["client", "issue", "next", "--email", "next@example.com"], { cwd: s.cwd, env: s.env });
      expect({ n, verify: openssl(["verify", "-CAfile", trust, crt(s.dir, "next"), crt(s.dir, "alice")]).code }).toEqual({ n, verify: inv.previousCas?.some((p: any) => p.caStatus === "retired") ? 2 : 0 });
      expect({ n, hidden: hidden(s.dir) }).toEqual({ n, hidden: [] });
      for (const p of inv.previousCas ?? []) for (const f of [p.certFile, p.keyFile]) expect({ n, f, present: fs.existsSync(path.join(s.dir, f)) }).toEqual({ n, f, present: true });
    }
    expect(kills).toBeGreaterThanOrEqual(5);
    expect(states.old).toBeGreaterThan(0);
    expect(states.new).toBeGreaterThan(0);
  }

  let base: string;
  beforeAll(() => {
    const s = makeStore();
    mtlsOk(["client", "issue", "alice", "--email", "alice@example.com"], { cwd: s.cwd, env: s.env });
    base = s.cwd;
  });
  const copy = (extra: string[][] = []) => {
    const cwd = tmpDir("mtlsctl-care-crash-");
    expect(spawnSync("cp", ["-a", path.join(base, "pki"), path.join(cwd, "pki")]).status).toBe(0);
    const env = { MTLSCTL_PASSPHRASE: "test-pass", MTLSCTL_DIR: path.join(cwd, "pki") };
    for (const a of extra) mtlsOk(a, { cwd, env });
    return { cwd, dir: path.join(cwd, "pki"), env };
  };

  test("ca rollover", () => {
    crashLoop(() => copy(), ["ca", "rollover"], (inv, old) => inv.ca.serial !== old.ca.serial && inv.previousCas.length === 1 && inv.previousCas[0].serial === old.ca.serial);
  });
  test("ca retire", () => {
    const rolled = copy([["ca", "rollover"]]);
    base = rolled.cwd; // retire starts from a rolled-over store
    crashLoop(() => copy(), ["ca", "retire", "--all-previous"], (inv) => inv.previousCas[0].caStatus === "retired");
  });
});

describe("backup and restore", () => {
  const pwFile = (dir: string, v: string) => {
    const f = path.join(dir, `pw-${v}.txt`);
    fs.writeFileSync(f, v + "\n");
    return f;
  };

  test("round trip: the same tree and modes; the restored store passes status and issues", () => {
    const s = makeStore();
    const run = (args: string[], env: Record<string, string | undefined> = s.env) => mtlsOk(args, { cwd: s.cwd, env });
    run(["server", "issue", "nats1", "--dns", "localhost"]);
    run(["client", "issue", "alice", "--email", "alice@example.com"]);
    run(["nkey", "create", "svc-nk"]);
    run(["revoke", "alice"]);
    run(["ca", "rollover"]);
    fs.writeFileSync(path.join(s.dir, ".keepout"), "not part of the store"); // hidden files are left out
    const tree = hashTree(s.dir);
    delete tree[".keepout"];

    const out = path.join(s.cwd, "store.mtlsbak");
    const b = JSON.parse(run(["backup", "--out", out, "--password-file", pwFile(s.cwd, "backup-pw"), "--json"]).stdout);
    expect(b.files).toBe(Object.values(tree).filter((v) => v !== "dir").length);
    expect(fs.statSync(out).mode & 0o777).toBe(0o600);
    expect(fs.readFileSync(out).subarray(0, 8).toString("latin1")).toBe("MTLSBAK\0");
    expect(fs.readFileSync(out).includes(Buffer.from("BEGIN"))).toBe(false); // encrypted
    expect(mtls(["backup", "--out", out], { cwd: s.cwd, env: { ...s.env, MTLSCTL_BACKUP_PASSWORD: "x" } })).toMatchObject({ code: 3, stderr: expect.stringMatching(/already exists/) });

    const target = path.join(s.cwd, "restored");
    const r = JSON.parse(run(["--dir", target, "restore", out, "--json"], { ...s.env, MTLSCTL_BACKUP_PASSWORD: "backup-pw" }).stdout);
    expect(r).toMatchObject({ dir: target, replaced: false, source: s.dir });
    expect(hashTree(target)).toEqual(tree); // contents and file modes (keys 0600)
    for (const d of ["private", "nkeys"]) expect(fs.statSync(path.join(target, d)).mode & 0o777).toBe(0o700);
    const tenv = { ...s.env, MTLSCTL_DIR: target };
    expect(mtls(["status"], { cwd: s.cwd, env: tenv })).toMatchObject({ code: 0 });
    mtlsOk(["client", "issue", "bob", "--email", "bob@example.com"], { cwd: s.cwd, env: tenv });
    expect(openssl(["verify", "-CAfile", path.join(target, "roots.pem"), crt(target, "bob")]).code).toBe(0);

    // an existing store: refused without --force (before any prompt), replaced with it
    const again = mtls(["--dir", target, "restore", out], { cwd: s.cwd, env: { ...s.env, MTLSCTL_BACKUP_PASSWORD: "backup-pw" } });
    expect(again).toMatchObject({ code: 3, stderr: expect.stringMatching(/already exists here \(use --force/) });
    mtlsOk(["--dir", target, "restore", out, "--force"], { cwd: s.cwd, env: { ...s.env, MTLSCTL_BACKUP_PASSWORD: "backup-pw" } });
    expect(hashTree(target)).toEqual(tree);
    expect(fs.readdirSync(s.cwd).filter((n) => n.startsWith("."))).toEqual([]);
  });

  test("wrong password, truncated, altered, not a backup: one line, exit 3, nothing written", () => {
    const s = makeStore();
    mtlsOk(["client", "issue", "alice", "--email", "alice@example.com"], { cwd: s.cwd, env: s.env });
    const out = path.join(s.cwd, "s.mtlsbak");
    mtlsOk(["backup", "--out", out], { cwd: s.cwd, env: { ...s.env, MTLSCTL_BACKUP_PASSWORD: "right" } });
    const data = fs.readFileSync(out);
    const variant = (name: string, d: Buffer) => {
      const f = path.join(s.cwd, name);
      fs.writeFileSync(f, d);
      return f;
    };
    const flip = (i: number) => {
      const d = Buffer.from(data);
      d[i] ^= 0x01;
      return d;
    };
    const cases: [string, string, string, RegExp][] = [
      ["wrong password", out, "wrong", /wrong backup password/],
      ["truncated", variant("t1", data.subarray(0, data.length - 40)), "right", /damaged, truncated or was altered/],
      ["truncated header", variant("t2", data.subarray(0, 30)), "right", /truncated/],
      ["a ciphertext byte changed", variant("x1", flip(100)), "right", /damaged, truncated or was altered/],
      ["the tag changed", variant("x2", flip(data.length - 1)), "right", /damaged, truncated or was altered/],
      ["the nonce changed", variant("x3", flip(50)), "right", /damaged, truncated or was altered/],
      ["the salt changed", variant("x4", flip(20)), "right", /wrong backup password/],
      ["the KDF cost raised", variant("x5", (() => { const d = Buffer.from(data); d[9] = 30; return d; })()), "right", /out of range/],
      ["not a backup", path.join(s.dir, "ca.crt"), "right", /not an mtlsctl backup/],
    ];
    for (const [what, file, pw, re] of cases) {
      const target = path.join(s.cwd, "target");
      const r = mtls(["--dir", target, "restore", file], { cwd: s.cwd, env: { ...s.env, MTLSCTL_BACKUP_PASSWORD: pw } });
      expect({ what, code: r.code, lines: r.stderr.trim().split("\n").length, stdout: r.stdout }).toEqual({ what, code: 3, lines: 1, stdout: "" });
      expect({ what, stderr: r.stderr }).toEqual({ what, stderr: expect.stringMatching(re) });
      expect({ what, written: fs.readdirSync(s.cwd).filter((n) => n === "target" || n.startsWith(".")) }).toEqual({ what, written: [] });
    }
  });
});
