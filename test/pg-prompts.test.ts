/**
 * Issue 19: the terminal questions of `client issue`, `server issue` and `revoke` without a NAME on a
 * database store, as on a file store (test/wizard.test.ts): the store is read before any question (a
 * taken name is refused as it is typed), on a real pseudo-terminal (util-linux `script`) and a real
 * PostgreSQL. Without a terminal: exit 2 naming what is missing, nothing written.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { execFileSync } from "node:child_process";
import { BIN, makeStore, mtls, mtlsOk, openssl, run, tmpDir, tool } from "./helpers/cli";
import { BACKSPACE, DOWN, ENTER, onPty } from "./helpers/pty";
import { dropAll, freshDbUrl, pgBase } from "./helpers/pg";

jest.setTimeout(120_000);
beforeAll(() => pgBase());
afterAll(() => dropAll());

const psql = (url: string, sql: string): string => execFileSync("psql", [url, "-qAtc", sql], { encoding: "utf8", env: process.env }).trim();

function dbStore() {
  const s = makeStore({ name: "Prompt CA" });
  mtlsOk(["client", "issue", "carol", "--email", "carol@example.com"], s);
  mtlsOk(["client", "issue", "frank", "--email", "frank@example.com"], s);
  const url = freshDbUrl();
  mtlsOk(["store", "copy", "--from", s.dir, "--to", url], s);
  const cwd = tmpDir();
  return { url, cwd, env: { MTLSCTL_DB: url, PGPASSFILE: process.env.PGPASSFILE } };
}
const row = (url: string, name: string) => psql(url, `SELECT record FROM certificates WHERE name = '${name}' ORDER BY seq DESC LIMIT 1`);

describe("the terminal questions on a database store", () => {
  test("client issue --db with no NAME: a taken name is refused as it is typed, then the key type, the SAN, the passphrase; key and certificate to --out-dir", async () => {
    const { url, cwd, env } = dbStore();
    const r = await onPty(
      ["client", "issue", "--out-dir", cwd],
      [
        { expect: /Client name/, send: "carol" + ENTER },
        { expect: /already exists/, send: BACKSPACE.repeat(5) + "bob" + ENTER },
        { expect: /Key type[\s\S]*ed25519/, send: DOWN.repeat(5) + ENTER }, // ed25519
        { expect: /How should nats-server know "bob"\?/, send: DOWN + ENTER }, // uri
        { expect: /URI\(s\) for bob:/, send: "spiffe://example.org/bob" + ENTER },
        { expect: /CA passphrase:/, send: "test-pass" + ENTER },
      ],
      { cwd, env },
    );
    expect(r.missed).toBeNull();
    expect(r.code).toBe(0);
    const bob = JSON.parse(row(url, "bob"));
    expect(bob).toMatchObject({ kind: "client", keyType: "ed25519", sans: { email: [], dns: [], uri: ["spiffe://example.org/bob"], ip: [] } });
    expect(fs.existsSync(path.join(cwd, "bob.key")) && fs.existsSync(path.join(cwd, "bob.crt"))).toBe(true);
  });

  test("server issue --db with no NAME and no --dns/--ip: the name, DNS names and IP addresses asked for", async () => {
    const { url, cwd, env } = dbStore();
    const r = await onPty(
      ["server", "issue", "--out-dir", cwd],
      [
        { expect: /Server name/, send: "nats1" + ENTER },
        { expect: /DNS names/, send: "nats1.example.com" + ENTER },
        { expect: /IP addresses/, send: "10.0.0.7" + ENTER },
      ],
      { cwd, env: { ...env, MTLSCTL_PASSPHRASE: "test-pass" } },
    );
    expect(r.missed).toBeNull();
    expect(r.code).toBe(0);
    expect(JSON.parse(row(url, "nats1")).sans).toEqual({ email: [], dns: ["nats1.example.com"], uri: [], ip: ["10.0.0.7"] });
  });

  test("revoke --db with no NAME: choose among the valid certificates, the reason, confirm; answering no changes nothing", async () => {
    const { url, cwd, env } = dbStore();
    const no = await onPty(["revoke", "--reason", "superseded"], [{ expect: /Revoke which certificate\?/, send: ENTER }, { expect: /Revoke "carol" \(superseded\)\?/, send: "n" + ENTER }], { cwd, env: { ...env, MTLSCTL_PASSPHRASE: "test-pass" } });
    expect(no.missed).toBeNull();
    expect(no.code).toBe(2);
    expect(psql(url, "SELECT count(*) FROM certificates WHERE status = 'revoked'")).toBe("0");
    const r = await onPty(
      ["revoke"],
      [
        { expect: /Revoke which certificate\?[\s\S]*frank/, send: DOWN + ENTER }, // frank
        { expect: /Reason/, send: DOWN + ENTER }, // keyCompromise
        { expect: /Revoke "frank" \(keyCompromise\)\?/, send: "y" + ENTER },
      ],
      { cwd, env: { ...env, MTLSCTL_PASSPHRASE: "test-pass" } },
    );
    expect(r.missed).toBeNull();
    expect(r.code).toBe(0);
    expect(JSON.parse(row(url, "frank"))).toMatchObject({ status: "revoked", revocationReason: "keyCompromise" });
    expect(JSON.parse(row(url, "carol")).status).toBe("valid");
  });

  test("without a terminal: exit 2 naming what is missing, one line, nothing written (the file store's messages)", () => {
    const { url, cwd, env } = dbStore();
    const before = psql(url, "SELECT count(*) || ' ' || (SELECT count(*) FROM audit_events) FROM certificates");
    for (const [args, msg] of [
      [["client", "issue"], /missing required argument 'name': give client issue NAME/],
      [["server", "issue"], /missing required argument 'name': give server issue NAME/],
      [["server", "issue", "nats9"], /--dns or --ip/],
      [["revoke"], /a name or --serial HEX/],
    ] as [string[], RegExp][]) {
      const r = mtls(args, { cwd, env: { ...env, MTLSCTL_PASSPHRASE: undefined } });
      expect([args.join(" "), r.code]).toEqual([args.join(" "), 2]);
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
      expect(r.stderr).toMatch(msg);
    }
    expect(psql(url, "SELECT count(*) || ' ' || (SELECT count(*) FROM audit_events) FROM certificates")).toBe(before);
    expect(fs.readdirSync(cwd)).toEqual([]);
  });
});

describe("mtlsctl init --db on a terminal (the wizard on a database store)", () => {
  test("the CA into the empty database, the leaf files and ca.crt to the directory asked for, a config nats-server accepts; the printed commands make the same store", async () => {
    const url = freshDbUrl();
    const cwd = tmpDir();
    const env = { MTLSCTL_DB: url, PGPASSFILE: process.env.PGPASSFILE };
    const r = await onPty(
      ["init"],
      [
        { expect: /The store: the database postgres:\/\/[\s\S]*?CA name[\s\S]*?\(mtlsctl CA\)/, send: "DB Wizard CA" + ENTER },
        { expect: /Key type[\s\S]*ed25519/, send: ENTER }, // ec-p256
        { expect: /new CA passphrase:/, send: "wizard-db-pass" + ENTER },
        { expect: /new CA passphrase \(again\):/, send: "wizard-db-pass" + ENTER },
        { expect: /Server certificate name[\s\S]*?\(nats\)/, send: ENTER },
        { expect: /DNS names[\s\S]*?\(localhost\)/, send: ENTER },
        { expect: /IP addresses[\s\S]*?\(127\.0\.0\.1\)/, send: ENTER },
        { expect: /First client's name/, send: "alice" + ENTER },
        { expect: /How should nats-server know "alice"\?/, send: ENTER }, // email
        { expect: /Email address\(es\) for alice:/, send: "alice@example.com" + ENTER },
        { expect: /Directory for the keys and certificates[\s\S]*?\(\.\)/, send: "out" + ENTER },
        { expect: /NATS config snippet[\s\S]*?\(mtls\.conf\)/, send: ENTER },
        { expect: /Go ahead\?/, send: "y" + ENTER },
      ],
      { cwd, env },
    );
    expect(r.missed).toBeNull();
    if (r.code !== 0) throw new Error(r.text);
    expect(r.text).not.toContain("wizard-db-pass");
    // the rows, and no leaf key in any
    const rows = (u: string) => (JSON.parse(mtlsOk(["--db", u, "list", "--json"], { cwd, env: {} }).stdout) as { name: string; kind: string; subject: string; sans: object; keyType: string; natsUser: string | null }[]).map((e) => ({ name: e.name, kind: e.kind, subject: e.subject, sans: e.sans, keyType: e.keyType, natsUser: e.natsUser }));
    const made = rows(url);
    expect(made.map((e) => `${e.kind}:${e.name}`).sort()).toEqual(["ca:ca", "client:alice", "server:nats"]);
    expect(made.find((e) => e.name === "alice")?.natsUser).toBe("alice@example.com");
    expect(psql(url, "SELECT count(*) FROM certificates WHERE cert_pem LIKE '%PRIVATE KEY%'")).toBe("0");
    expect(psql(url, "SELECT key_pem LIKE '-----BEGIN ENCRYPTED PRIVATE KEY-----%' FROM ca")).toBe("t");
    // the files: keys 0600, certificates that openssl verifies against the ca.crt written beside them
    const out = path.join(cwd, "out");
    for (const f of ["nats.key", "alice.key"]) expect({ f, mode: fs.statSync(path.join(out, f)).mode & 0o777 }).toEqual({ f, mode: 0o600 });
    expect(openssl(["verify", "-CAfile", path.join(out, "ca.crt"), "-purpose", "sslclient", path.join(out, "alice.crt")]).stdout).toContain(": OK");
    expect(openssl(["verify", "-CAfile", path.join(out, "ca.crt"), "-purpose", "sslserver", path.join(out, "nats.crt")]).stdout).toContain(": OK");
    // the snippet names those files, and nats-server accepts a main config that includes it
    const conf = fs.readFileSync(path.join(cwd, "mtls.conf"), "utf8");
    for (const f of ["ca.crt", "nats.crt", "nats.key"]) expect(conf).toContain(path.join(out, f));
    expect(conf).toContain('"alice@example.com"');
    fs.writeFileSync(path.join(cwd, "nats-server.conf"), 'port: 4222\ninclude "mtls.conf"\n');
    expect(run(tool("nats-server"), ["-t", "-c", path.join(cwd, "nats-server.conf")]).code).toBe(0);
    // the printed commands, run without a terminal against another empty database, make the same store
    const cmds = [...new Set(r.text.split(/\r?\n/).filter((l) => /^  mtlsctl --db /.test(l)).map((l) => l.trim()))];
    expect(cmds.map((c) => c.replace(/'postgres:\/\/[^']*'|postgres:\/\/\S+/, "URL"))).toEqual([
      "mtlsctl --db URL ca init --name 'DB Wizard CA'",
      "mtlsctl --db URL server issue nats --dns localhost --ip 127.0.0.1 --out-dir out",
      "mtlsctl --db URL client issue alice --email alice@example.com --out-dir out",
      "mtlsctl --db URL export ca --out out/ca.crt",
      "mtlsctl --db URL config nats --ca-file out/ca.crt --cert-file out/nats.crt --key-file out/nats.key --out mtls.conf",
    ]);
    const url2 = freshDbUrl();
    const again = tmpDir();
    const shim = path.join(again, "bin");
    fs.mkdirSync(shim);
    fs.writeFileSync(path.join(shim, "mtlsctl"), `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(BIN)} "$@"\n`, { mode: 0o755 });
    const shEnv: NodeJS.ProcessEnv = { ...process.env, PATH: `${shim}:${process.env.PATH}`, MTLSCTL_PASSPHRASE: "other-pass", NO_COLOR: "1" };
    delete shEnv.MTLSCTL_DIR;
    delete shEnv.MTLSCTL_DB;
    const sh = run("/bin/sh", ["-ec", cmds.map((c) => c.replace(/'postgres:\/\/[^']*'|postgres:\/\/\S+/, `'${url2}'`)).join("\n")], { cwd: again, env: shEnv });
    if (sh.code !== 0) throw new Error(sh.stdout + sh.stderr);
    expect(rows(url2)).toEqual(made);
    // the same snippet but for when, from which database, the serials and where the files are
    const norm = (t: string) => t.replace(/^# Generated .*\n/, "").replace(/serial [0-9a-f]+/g, "serial S").replace(/\/[^"\s]*\/out\//g, "OUT/");
    expect(norm(fs.readFileSync(path.join(again, "mtls.conf"), "utf8"))).toEqual(norm(conf));
  });

  test("a database that holds a store: refused before the first question, exit 3, nothing written", async () => {
    const { url, cwd, env } = dbStore();
    const before = psql(url, "SELECT count(*) FROM certificates");
    const r = await onPty(["init"], [], { cwd, env });
    expect(r.code).toBe(3);
    expect(r.text).toMatch(/the database already holds a store: init makes a new CA, in an empty database/);
    expect(r.text).not.toMatch(/CA name/);
    expect(psql(url, "SELECT count(*) FROM certificates")).toBe(before);
    expect(fs.readdirSync(cwd)).toEqual([]);
  });
});
