/**
 * Prompts on a real terminal: `mtlsctl init` (the wizard) answered prompt by prompt on a
 * pseudo-terminal from util-linux `script`, and the store it makes checked end to end (list,
 * nats-server -t on a config that includes the snippet, openssl verify -purpose sslclient, mtlsctl
 * verify, and the printed equivalent commands re-run without a terminal); every command that asks
 * for a missing value asks on a terminal; and without one, or with --yes, each exits 2 with one
 * line naming what is missing, leaving the store as it was.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { BIN, hashTree, makeStore, mtls, mtlsOk, openssl, run, tmpDir, tool } from "./helpers/cli";

jest.setTimeout(120_000);

import { BACKSPACE, DOWN, ENTER, onPty, type PtyResult } from "./helpers/pty";

interface ListEntry {
  name: string;
  kind: string;
  status: string;
  subject: string;
  sans: { email: string[]; dns: string[]; uri: string[]; ip: string[] };
  keyType: string;
  natsUser: string | null;
  revocationReason: string | null;
}
const list = (dir: string): ListEntry[] => JSON.parse(mtlsOk(["--dir", dir, "list", "--json"]).stdout);
const entry = (dir: string, name: string) => list(dir).find((e) => e.name === name);

describe("mtlsctl init on a terminal", () => {
  const cwd = tmpDir("mtlsctl-wizard-");
  let r: PtyResult;

  beforeAll(async () => {
    r = await onPty(
      ["init"],
      [
        { expect: /Store directory[\s\S]*?\(pki\)/, send: "my-pki" + ENTER },
        { expect: /CA name[\s\S]*?\(mtlsctl CA\)/, send: "Wizard Test CA" + ENTER },
        { expect: /Key type[\s\S]*ec-p256[\s\S]*ed25519/, send: DOWN + ENTER }, // ec-p384
        { expect: /new CA passphrase:/, send: "wizard-pass-1" + ENTER },
        { expect: /new CA passphrase \(again\):/, send: "wizard-pass-1" + ENTER },
        { expect: /Server certificate name[\s\S]*?\(nats\)/, send: "nats1" + ENTER },
        { expect: /DNS names[\s\S]*?\(localhost\)/, send: "localhost, nats.example.com" + ENTER },
        { expect: /IP addresses[\s\S]*?\(127\.0\.0\.1\)/, send: ENTER },
        // a name the store refuses, then a good one
        { expect: /First client's name/, send: ".bad" + ENTER },
        { expect: /not allowed/, send: BACKSPACE.repeat(4) + "alice" + ENTER },
        { expect: /How should nats-server know "alice"\?/, send: ENTER }, // email (the default)
        // an address the SAN check refuses, then a good one
        { expect: /Email address\(es\) for alice:/, send: "alice-at-example.com" + ENTER },
        { expect: /expected local@domain/, send: BACKSPACE.repeat(20) + "alice@example.com" + ENTER },
        { expect: /NATS config snippet[\s\S]*?\(mtls\.conf\)/, send: ENTER },
        { expect: /Go ahead\?/, send: "y" + ENTER },
      ],
      { cwd },
    );
  });

  const dir = path.join(cwd, "my-pki");
  const conf = path.join(cwd, "mtls.conf");

  test("every prompt was answered and it succeeded, the passphrase masked", () => {
    expect(r.missed).toBeNull();
    if (r.code !== 0) throw new Error(r.text);
    expect(r.code).toBe(0);
    expect(r.text).not.toContain("wizard-pass-1");
    expect(r.text).toContain("*".repeat("wizard-pass-1".length));
    expect(r.text).toMatch(/Done\./);
  });

  test("list shows the CA, the server and the client with their answers", () => {
    const rows = list(dir);
    expect(rows.map((e) => [e.name, e.kind, e.status])).toEqual([
      ["ca", "ca", "valid"],
      ["nats1", "server", "valid"],
      ["alice", "client", "valid"],
    ]);
    expect(rows[0].subject).toBe("CN=Wizard Test CA");
    expect(rows[1].sans).toEqual({ email: [], dns: ["localhost", "nats.example.com"], uri: [], ip: ["127.0.0.1"] });
    expect(rows[2].sans.email).toEqual(["alice@example.com"]);
    expect(rows[2].natsUser).toBe("alice@example.com");
    for (const e of rows) expect(e.keyType).toBe("ec-p384");
    expect(openssl(["pkey", "-in", path.join(dir, "private", "alice.key"), "-noout", "-text"]).stdout).toMatch(/P-384|secp384r1/);
  });

  test("the CA key is encrypted with the passphrase typed", () => {
    const key = path.join(dir, "private", "ca.key");
    expect(fs.readFileSync(key, "utf8")).toContain("BEGIN ENCRYPTED PRIVATE KEY");
    expect(openssl(["pkey", "-in", key, "-passin", "pass:wizard-pass-1", "-noout"]).code).toBe(0);
  });

  test("openssl verify -purpose sslclient accepts the client, sslserver the server", () => {
    const ca = path.join(dir, "ca.crt");
    const c = openssl(["verify", "-purpose", "sslclient", "-CAfile", ca, path.join(dir, "issued", "alice.crt")]);
    expect(c.stdout + c.stderr).toMatch(/: OK/);
    expect(c.code).toBe(0);
    const s = openssl(["verify", "-purpose", "sslserver", "-CAfile", ca, path.join(dir, "issued", "nats1.crt")]);
    expect(s.code).toBe(0);
  });

  test("the NATS config exists and nats-server -t accepts a main config that includes it", () => {
    expect(fs.existsSync(conf)).toBe(true);
    const main = path.join(cwd, "nats-server.conf");
    fs.writeFileSync(main, `listen: 127.0.0.1:4222\ninclude "mtls.conf"\n`);
    const t = run(tool("nats-server"), ["-t", "-c", main], { cwd: "/" });
    expect(t.stdout + t.stderr).toMatch(/is valid/);
    expect(t.code).toBe(0);
    // and mtlsctl's own verdict on that config
    const v = mtls(["--dir", dir, "verify", path.join(dir, "issued", "alice.crt"), "--config", main, "--json"], { cwd });
    expect(v.code).toBe(0);
    expect(JSON.parse(v.stdout)).toMatchObject({ accepted: true, user: "alice@example.com", matchedBy: "email" });
  });

  test("the printed equivalent commands make the same store without a terminal", () => {
    const cmds = r.text
      .split(/\r?\n/)
      .filter((l) => /^  mtlsctl --dir /.test(l))
      .map((l) => l.trim());
    const unique = [...new Set(cmds)];
    expect(unique).toEqual([
      "mtlsctl --dir my-pki ca init --name 'Wizard Test CA' --key ec-p384",
      "mtlsctl --dir my-pki server issue nats1 --dns localhost --dns nats.example.com --ip 127.0.0.1 --key ec-p384",
      "mtlsctl --dir my-pki client issue alice --email alice@example.com --key ec-p384",
      "mtlsctl --dir my-pki config nats --out mtls.conf",
    ]);
    const again = tmpDir("mtlsctl-wizard-again-");
    const shim = path.join(again, "bin");
    fs.mkdirSync(shim);
    fs.writeFileSync(path.join(shim, "mtlsctl"), `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(BIN)} "$@"\n`, { mode: 0o755 });
    const env: NodeJS.ProcessEnv = { ...process.env, PATH: `${shim}:${process.env.PATH}`, MTLSCTL_PASSPHRASE: "other-pass", NO_COLOR: "1" };
    delete env.MTLSCTL_DIR;
    const sh = run("/bin/sh", ["-ec", unique.join("\n")], { cwd: again, env });
    if (sh.code !== 0) throw new Error(sh.stdout + sh.stderr);
    const strip = (rows: ListEntry[]) => rows.map((e) => ({ name: e.name, kind: e.kind, subject: e.subject, sans: e.sans, keyType: e.keyType, natsUser: e.natsUser }));
    expect(strip(list(path.join(again, "my-pki")))).toEqual(strip(list(dir)));
    expect(fs.existsSync(path.join(again, "mtls.conf"))).toBe(true);
  });
});

test("init --json on a terminal: the questions on stderr, one JSON document on stdout", async () => {
  const cwd = tmpDir();
  const out = path.join(cwd, "out.json");
  const r = await onPty(
    ["init", "--json"],
    [
      { expect: /Store directory/, send: ENTER },
      { expect: /CA name/, send: ENTER },
      { expect: /Key type/, send: ENTER },
      { expect: /Server certificate name/, send: ENTER },
      { expect: /DNS names/, send: ENTER },
      { expect: /IP addresses/, send: ENTER },
      { expect: /First client's name/, send: "svc1" + ENTER },
      { expect: /How should nats-server know "svc1"\?/, send: DOWN.repeat(4) + ENTER }, // none: by subject
      { expect: /NATS config snippet/, send: ENTER },
      { expect: /Go ahead\?/, send: ENTER },
    ],
    { cwd, stdoutTo: out, env: { MTLSCTL_PASSPHRASE: "from-env" } },
  );
  expect(r.missed).toBeNull();
  expect(r.code).toBe(0);
  expect(r.text).toMatch(/taken from MTLSCTL_PASSPHRASE/);
  const j = JSON.parse(fs.readFileSync(out, "utf8"));
  expect(j.dir).toBe(path.join(cwd, "pki"));
  expect(j.ca.subject).toBe("CN=mtlsctl CA");
  expect(j.server).toMatchObject({ name: "nats", sans: { dns: ["localhost"], ip: ["127.0.0.1"] } });
  expect(j.client).toMatchObject({ name: "svc1", subject: "CN=svc1", natsUser: "CN=svc1" });
  expect(j.natsConfig.file).toBe(path.join(cwd, "mtls.conf"));
  expect(j.commands).toHaveLength(4);
  expect(openssl(["pkey", "-in", path.join(cwd, "pki", "private", "ca.key"), "-passin", "pass:from-env", "-noout"]).code).toBe(0);
});

test("@inquirer/prompts is not loaded by --help, by commands that ask nothing, or when asking is refused", () => {
  const probe = path.join(tmpDir(), "probe.js");
  fs.writeFileSync(probe, `process.on("exit", () => { if (Object.keys(require.cache).some((f) => f.includes("@inquirer"))) process.stderr.write("INQUIRER-LOADED\\n"); });\n`);
  // the probe's control: it does see the library when it is loaded
  expect(run(process.execPath, ["-r", probe, "-e", 'require("@inquirer/prompts")']).stderr).toContain("INQUIRER-LOADED");
  const s = makeStore();
  for (const args of [["--help"], ["client", "issue", "--help"], ["init", "--help"], ["list"], ["client", "issue", "zoe", "--email", "zoe@example.com"], ["client", "issue"], ["completion", "bash"]]) {
    const r = run(process.execPath, ["-r", probe, BIN, ...args], { cwd: s.cwd, env: { ...process.env, ...s.env, NO_COLOR: "1" } });
    expect([args, r.stderr.includes("INQUIRER-LOADED")]).toEqual([args, false]);
  }
});

describe("init refuses to prompt without a terminal or with --yes", () => {
  test("no terminal: exit 2, one line pointing to the individual commands, nothing written", () => {
    const cwd = tmpDir();
    const r = mtls(["init"], { cwd });
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/terminal/);
    expect(r.stderr).toMatch(/ca init, server issue, client issue, config nats/);
    expect(fs.readdirSync(cwd)).toEqual([]);
  });

  test("--yes on a terminal: exit 2, no question asked", async () => {
    const cwd = tmpDir();
    const r = await onPty(["--yes", "init"], [], { cwd });
    expect(r.code).toBe(2);
    expect(r.text).toMatch(/--yes: not asking/);
    expect(r.text).not.toMatch(/Store directory/);
    expect(fs.readdirSync(cwd)).toEqual([]);
  });

  test("--json with no terminal: exit 2 and the error as JSON", () => {
    const r = mtls(["init", "--json"], { cwd: tmpDir() });
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stdout).error).toMatch(/terminal/);
  });
});

describe("a missing value is asked for on a terminal", () => {
  test("client issue with no NAME: the name, the key type (select), the SAN kind and value, then the CA passphrase", async () => {
    const s = makeStore();
    const r = await onPty(
      ["--dir", s.dir, "client", "issue"],
      [
        { expect: /Client name/, send: "bob" + ENTER },
        { expect: /Key type[\s\S]*ed25519/, send: DOWN.repeat(5) + ENTER }, // ed25519
        { expect: /How should nats-server know "bob"\?/, send: DOWN + ENTER }, // uri
        { expect: /URI\(s\) for bob:/, send: "spiffe://example.org/bob" + ENTER },
        { expect: /CA passphrase:/, send: "test-pass" + ENTER },
      ],
      { cwd: s.cwd },
    );
    expect(r.missed).toBeNull();
    expect(r.code).toBe(0);
    const bob = entry(s.dir, "bob")!;
    expect(bob.sans.uri).toEqual(["spiffe://example.org/bob"]);
    expect(bob.keyType).toBe("ed25519");
    expect(bob.natsUser).toBe("spiffe://example.org/bob");
    expect(r.text).toMatch(/Issued client certificate bob/);
  });

  test("client issue: a taken name is refused as it is typed; given flags are not asked again", async () => {
    const s = makeStore();
    mtlsOk(["client", "issue", "carol", "--email", "carol@example.com"], { cwd: s.cwd, env: s.env });
    const r = await onPty(
      ["--dir", s.dir, "client", "issue", "--dns", "dave.example.com", "--key", "rsa-2048"],
      [
        { expect: /Client name/, send: "carol" + ENTER },
        { expect: /already exists/, send: BACKSPACE.repeat(5) + "dave" + ENTER },
      ],
      { cwd: s.cwd, env: { MTLSCTL_PASSPHRASE: "test-pass" } },
    );
    expect(r.missed).toBeNull();
    expect(r.code).toBe(0);
    expect(r.text).not.toMatch(/Key type|How should nats-server/);
    const dave = entry(s.dir, "dave")!;
    expect(dave.sans.dns).toEqual(["dave.example.com"]);
    expect(dave.keyType).toBe("rsa-2048");
  });

  test("server issue NAME with no --dns/--ip asks for DNS names and IP addresses", async () => {
    const s = makeStore();
    const r = await onPty(
      ["--dir", s.dir, "server", "issue", "nats1"],
      [
        { expect: /DNS names/, send: "nats1.example.com" + ENTER },
        { expect: /IP addresses/, send: "10.0.0.7 ::1" + ENTER },
      ],
      { cwd: s.cwd, env: { MTLSCTL_PASSPHRASE: "test-pass" } },
    );
    expect(r.missed).toBeNull();
    expect(r.code).toBe(0);
    expect(entry(s.dir, "nats1")!.sans).toEqual({ email: [], dns: ["nats1.example.com"], uri: [], ip: ["10.0.0.7", "::1"] });
  });

  test("server issue with nothing: the name, then at least one DNS name or IP (a bad IP refused as typed)", async () => {
    const s = makeStore();
    const r = await onPty(
      ["--dir", s.dir, "server", "issue"],
      [
        { expect: /Server name/, send: "edge" + ENTER },
        { expect: /DNS names/, send: ENTER }, // none
        { expect: /IP addresses/, send: ENTER }, // none either: refused
        { expect: /give at least one/, send: "300.1.2.3" + ENTER },
        { expect: /is not valid/, send: BACKSPACE.repeat(9) + "192.0.2.10" + ENTER },
      ],
      { cwd: s.cwd, env: { MTLSCTL_PASSPHRASE: "test-pass" } },
    );
    expect(r.missed).toBeNull();
    expect(r.code).toBe(0);
    expect(entry(s.dir, "edge")!.sans).toEqual({ email: [], dns: [], uri: [], ip: ["192.0.2.10"] });
  });

  test("client csr with no NAME asks for the name, key type and SAN, and writes the key and request", async () => {
    const cwd = tmpDir();
    const r = await onPty(
      ["client", "csr"],
      [
        { expect: /Client name/, send: "erin" + ENTER },
        { expect: /Key type/, send: ENTER }, // ec-p256
        { expect: /How should nats-server know "erin"\?/, send: ENTER },
        { expect: /Email address\(es\) for erin:/, send: "erin@example.com" + ENTER },
      ],
      { cwd },
    );
    expect(r.missed).toBeNull();
    expect(r.code).toBe(0);
    const req = openssl(["req", "-in", path.join(cwd, "erin.csr"), "-verify", "-noout", "-text"]);
    expect(req.code).toBe(0);
    expect(req.stdout).toMatch(/email:erin@example.com/);
    expect((fs.statSync(path.join(cwd, "erin.key")).mode & 0o777).toString(8)).toBe("600");
  });

  test("revoke with no NAME: choose the certificate and the reason, confirm", async () => {
    const s = makeStore();
    for (const n of ["frank", "grace"]) mtlsOk(["client", "issue", n, "--email", `${n}@example.com`], { cwd: s.cwd, env: s.env });
    const r = await onPty(
      ["--dir", s.dir, "revoke"],
      [
        { expect: /Revoke which certificate\?[\s\S]*grace/, send: DOWN + ENTER }, // grace
        { expect: /Reason/, send: DOWN + ENTER }, // keyCompromise
        { expect: /Revoke "grace" \(keyCompromise\)\?/, send: "y" + ENTER },
      ],
      { cwd: s.cwd, env: { MTLSCTL_PASSPHRASE: "test-pass" } },
    );
    expect(r.missed).toBeNull();
    expect(r.code).toBe(0);
    expect(entry(s.dir, "grace")).toMatchObject({ status: "revoked", revocationReason: "keyCompromise" });
    expect(entry(s.dir, "frank")!.status).toBe("valid");
  });

  test("revoke: answering no changes nothing (exit 2)", async () => {
    const s = makeStore();
    mtlsOk(["client", "issue", "henry", "--email", "henry@example.com"], { cwd: s.cwd, env: s.env });
    const before = hashTree(s.dir);
    const r = await onPty(
      ["--dir", s.dir, "revoke", "--reason", "superseded"],
      [
        { expect: /Revoke which certificate\?/, send: ENTER },
        { expect: /Revoke "henry" \(superseded\)\?/, send: "n" + ENTER },
      ],
      { cwd: s.cwd, env: { MTLSCTL_PASSPHRASE: "test-pass" } },
    );
    expect(r.missed).toBeNull();
    expect(r.code).toBe(2);
    expect(r.text).toMatch(/cancelled: nothing was revoked/);
    expect(hashTree(s.dir)).toEqual(before);
  });

  test("the CA passphrase prompt (ca init) still asks twice", async () => {
    const cwd = tmpDir();
    const r = await onPty(
      ["ca", "init"],
      [
        { expect: /new CA passphrase:/, send: "pp-1" + ENTER },
        { expect: /new CA passphrase \(again\):/, send: "pp-1" + ENTER },
      ],
      { cwd },
    );
    expect(r.missed).toBeNull();
    expect(r.code).toBe(0);
  });
});

describe("without a terminal, or with --yes, a missing value is exit 2 naming it (store unchanged)", () => {
  const cases: { args: string[]; names: RegExp; store: boolean }[] = [
    { args: ["client", "issue"], names: /missing required argument 'name': give client issue NAME/, store: true },
    { args: ["client", "issue", "--email", "x@example.com"], names: /missing required argument 'name'/, store: true },
    { args: ["client", "csr"], names: /missing required argument 'name': give client csr NAME/, store: false },
    { args: ["server", "issue"], names: /missing required argument 'name': give server issue NAME/, store: true },
    { args: ["server", "issue", "nats9"], names: /--dns or --ip/, store: true },
    { args: ["revoke"], names: /a name or --serial HEX/, store: true },
    { args: ["ca", "init", "--force"], names: /--passphrase-file/, store: true },
  ];

  test.each(cases)("no terminal: mtlsctl $args", ({ args, names, store }) => {
    const s = makeStore();
    const before = hashTree(s.cwd);
    const r = mtls(store ? ["--dir", s.dir, ...args] : args, { cwd: s.cwd, env: { MTLSCTL_PASSPHRASE: undefined } });
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(names);
    expect(r.stdout).toBe("");
    expect(hashTree(s.cwd)).toEqual(before);
  });

  test.each(cases.filter((c) => c.args[0] !== "ca"))("--yes on a terminal: mtlsctl $args", async ({ args, names, store }) => {
    const s = makeStore();
    const before = hashTree(s.cwd);
    const r = await onPty(["--yes", ...(store ? ["--dir", s.dir] : []), ...args], [], { cwd: s.cwd, env: { MTLSCTL_PASSPHRASE: "test-pass" } });
    expect(r.code).toBe(2);
    expect(r.text).toMatch(names);
    expect(r.text).toMatch(/--yes: not asking/);
    expect(hashTree(s.cwd)).toEqual(before);
  });
});
