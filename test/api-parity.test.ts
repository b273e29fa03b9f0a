/**
 * The library's answers are the CLI's `--json` answers: the same inputs through `require("mtlsctl")`
 * (dist/index.js) and through `mtlsctl ... --json` give equal objects.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { mtls, mtlsOk, ROOT, tmpDir } from "./helpers/cli";

// the built library, as a package user loads it
// eslint-disable-next-line @typescript-eslint/no-require-imports
const api = require(path.join(ROOT, "dist", "index.js")) as typeof import("../src/index");

const PASS = "parity-passphrase";
let dir: string;
let store: string;
let conf: string;
const env = () => ({ MTLSCTL_DIR: store, MTLSCTL_PASSPHRASE: PASS });
/** `mtlsctl ARGS --json`'s object; exit 0, or 1 (a negative answer: refused, or a finding). */
const cli = (args: string[]) => {
  const r = mtls([...args, "--json"], { env: env() });
  if (r.code > 1) throw new Error(`mtlsctl ${args.join(" ")} exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout);
};

/** What differs between two issuances of the same identity: serial, key, times, paths. */
const VARYING = ["serial", "fingerprint", "notBefore", "notAfter", "certFile", "keyFile", "csrFile", "name"];
const stable = (o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).filter(([k]) => !VARYING.includes(k)));

beforeAll(() => {
  dir = tmpDir("mtlsctl-parity-");
  store = path.join(dir, "pki");
  mtlsOk(["ca", "init", "--name", "Parity CA"], { env: env() });
  mtlsOk(["server", "issue", "nats1", "--dns", "localhost", "--ip", "127.0.0.1"], { env: env() });
  mtlsOk(["client", "issue", "alice", "--email", "alice@example.com"], { env: env() });
  mtlsOk(["client", "issue", "bob", "--subject", "CN=bob,OU=ops,O=Acme", "--allow-pub", "orders.>"], { env: env() });
  mtlsOk(["client", "issue", "twin", "--subject", "CN=bob,OU=ops,O=Acme", "--force"], { env: env() });
  conf = path.join(dir, "mtls.conf");
  mtlsOk(["config", "nats", "--out", conf], { env: env() });
});

test("verify: one object per certificate, equal to verify --json (accepted, refused, ambiguous, access questions)", () => {
  const certs = ["alice", "bob", "twin", "nats1"].map((n) => path.join(store, "issued", `${n}.crt`));
  const lines = mtls(["verify", ...certs, "--config", conf, "--server-version", "2.9.10", "--publish", "orders.new", "--json"], { env: env() }).stdout.trim().split("\n").map((l) => JSON.parse(l));
  expect(lines).toHaveLength(4);
  for (const [i, c] of certs.entries()) expect(api.verify({ config: conf, certificate: c, serverVersion: "2.9.10", publish: ["orders.new"] })).toEqual(lines[i]);
  expect(lines.map((l) => l.accepted)).toEqual([true, true, true, false]);
  // the config given as text, the certificate as bytes: the same verdict but for the `file` label
  const asText = api.verify({ config: fs.readFileSync(conf, "utf8"), certificate: fs.readFileSync(certs[0]), serverVersion: "2.9.10", publish: ["orders.new"] });
  expect({ ...asText, file: lines[0].file }).toEqual(lines[0]);
  expect(asText.file).toBe("<certificate>");
});

test("verify: a connect user and password, and a config the server refuses (code config, file and line)", () => {
  const pw = path.join(dir, "pw");
  fs.writeFileSync(pw, "secret\n", { mode: 0o600 });
  const cert = path.join(store, "issued", "alice.crt");
  const out = cli(["verify", cert, "--config", conf, "--server-version", "2.9.10", "--connect-user", "someone", "--connect-password-file", pw]);
  expect(api.verify({ config: conf, certificate: cert, serverVersion: "2.9.10", connectUser: "someone", connectPassword: "secret" })).toEqual(out);
  const bad = path.join(dir, "bad.conf");
  fs.writeFileSync(bad, "tls {\n  verify_and_map: 12\n}\n");
  const r = mtls(["verify", cert, "--config", bad, "--json"], { env: env() });
  expect(r.code).toBe(3);
  let err: unknown;
  try {
    api.verify({ config: bad, certificate: cert });
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(api.MtlsctlError);
  expect(err).toBeInstanceOf(api.ConfigError);
  expect((err as InstanceType<typeof api.ConfigError>).code).toBe("config");
  expect((err as InstanceType<typeof api.ConfigError>).file).toBe(bad);
  expect((err as InstanceType<typeof api.ConfigError>).line).toBe(2);
  expect(r.stderr).toContain((err as Error).message);
});

test("explain: equal to explain --json, with and without a config", () => {
  const cert = path.join(store, "issued", "bob.crt");
  expect(api.explain(cert, { dir: store, serverVersion: "2.9.10" })).toEqual(cli(["explain", cert, "--server-version", "2.9.10"]));
  expect(api.explain(cert, { dir: store, config: conf, serverVersion: "2.11.15", subscribe: ["orders.x"] })).toEqual(cli(["explain", cert, "--config", conf, "--server-version", "2.11.15", "--subscribe", "orders.x"]));
});

test("lint: equal to lint --json, alone and with the store's certificates", () => {
  expect(api.lint(conf, { serverVersion: "2.9.10" })).toEqual(cli(["lint", conf, "--server-version", "2.9.10"]));
  const withStore = api.lint(conf, { serverVersion: "2.9.10", store });
  expect(withStore).toEqual(cli(["lint", conf, "--store", "--server-version", "2.9.10"]));
  expect(withStore.certificates).toBe(3); // the client certificates
});

test("list and config nats: equal to list --json and the config nats text", async () => {
  const s = api.openStore(store);
  expect(JSON.parse(JSON.stringify(await s.list()))).toEqual(cli(["list"]));
  expect(await s.list({ expiringDays: 400 })).toHaveLength(4); // the CA (ten years) is not expiring
  // equal but for the time in the header line
  const header = /^# Generated by mtlsctl \S+ on \S+/;
  expect((await s.natsConfig()).replace(header, "")).toBe(mtlsOk(["config", "nats"], { env: env() }).stdout.replace(header, ""));
});

test("issueClient, issueServer, signCsr, revoke and crl: the commands' --json objects", async () => {
  const other = api.openStore(path.join(dir, "api-store"));
  const init = await other.initCa({ name: "Parity CA", passphrase: PASS });
  const cliInit = JSON.parse(mtlsOk(["ca", "init", "--name", "Parity CA", "--dir", path.join(dir, "cli-store"), "--json"], { env: { MTLSCTL_PASSPHRASE: PASS } }).stdout);
  expect(Object.keys(init)).toEqual(Object.keys(cliInit));
  expect({ ...init, dir: 0, serial: 0, fingerprint: 0, notBefore: 0, notAfter: 0, certFile: 0, keyFile: 0 }).toEqual({ ...cliInit, dir: 0, serial: 0, fingerprint: 0, notBefore: 0, notAfter: 0, certFile: 0, keyFile: 0 });

  const viaApi = await other.issueClient("carol", { uri: ["spiffe://example.org/carol"], account: "ORDERS", passphrase: () => PASS });
  const viaCli = cli(["client", "issue", "carol", "--uri", "spiffe://example.org/carol", "--account", "ORDERS"]);
  expect(Object.keys(viaApi)).toEqual(Object.keys(viaCli));
  expect(stable(viaApi as unknown as Record<string, unknown>)).toEqual(stable(viaCli));
  expect(viaApi.natsUser).toBe("spiffe://example.org/carol");

  const srv = await other.issueServer("n2", { dns: ["localhost"], peer: true, passphrase: PASS });
  const srvCli = cli(["server", "issue", "n2", "--dns", "localhost", "--peer"]);
  expect(stable(srv as unknown as Record<string, unknown>)).toEqual(stable(srvCli));

  const csrDir = tmpDir();
  mtlsOk(["client", "csr", "dave", "--email", "dave@example.com", "--out-dir", csrDir]);
  const csr = path.join(csrDir, "dave.csr");
  const signed = await other.signCsr(fs.readFileSync(csr, "utf8"), { name: "dave", passphrase: PASS });
  const signedCli = cli(["client", "sign", csr]);
  expect(stable(signed as unknown as Record<string, unknown>)).toEqual(stable(signedCli));

  const rev = await other.revoke("carol", { reason: "keyCompromise", passphrase: PASS });
  const revCli = cli(["revoke", "carol", "--reason", "keyCompromise"]);
  expect(Object.keys(rev)).toEqual(Object.keys(revCli));
  expect(rev.revoked.map((r) => [r.kind, r.reason])).toEqual(revCli.revoked.map((r: { kind: string; reason: string }) => [r.kind, r.reason]));
  const crl = await other.crl({ passphrase: PASS });
  const crlCli = cli(["crl"]);
  expect(Object.keys(crl)).toEqual(Object.keys(crlCli));
  expect(crl.revoked).toHaveLength(1);
  expect(crl.crl).toMatch(/^-----BEGIN X509 CRL-----/);
});

test("errors carry a stable code and the file: exists, passphrase, no-store, usage, unsupported", async () => {
  const s = api.openStore(store);
  const codeOf = async (p: Promise<unknown>) => p.then(() => "resolved", (e) => (e instanceof api.MtlsctlError ? `${e.code}:${e.exitCode}` : `other:${e}`));
  expect(await codeOf(s.issueClient("alice", { passphrase: PASS }))).toBe("exists:3");
  expect(await codeOf(s.issueClient("erin", { passphrase: "wrong" }))).toBe("passphrase:3");
  expect(await codeOf(s.issueClient("erin", {}))).toBe("passphrase:3");
  expect(await codeOf(api.openStore(path.join(dir, "none")).list())).toBe("no-store:3");
  expect(await codeOf(s.issueServer("srv2", { passphrase: PASS }))).toBe("usage:2");
  expect(await codeOf(Promise.resolve().then(() => api.openStore("postgres://db/x")))).toBe("unsupported:3");
  expect(await codeOf(s.issueClient("bad/name", { passphrase: PASS }))).toBe("input:3");
  // a refused request wrote nothing
  expect(fs.existsSync(path.join(store, "issued", "erin.crt"))).toBe(false);
});
