/**
 * `mtlsctl serve` against a client no one here wrote: globalsign/est's estclient (Go, pinned by
 * scripts/est-tools.sh). cacerts, enroll with a one-time token, reenroll with the issued certificate;
 * each result judged by openssl and used to log in to the real nats-server (2.9.10 on PATH) as the
 * intended user.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { makeStore, mtlsOk, openssl, run, tool } from "./helpers/cli";
import { estTools } from "./helpers/est";
import { startNatsServer, stopAllNatsServers, NatsServer } from "./helpers/nats";
import { startServe, Served } from "./helpers/serve";

jest.setTimeout(90_000);

const store = makeStore({ name: "EST CA" });
const caFile = path.join(store.dir, "ca.crt");
const work = path.join(store.cwd, "work");
fs.mkdirSync(work);
const cli = (args: string[]) => mtlsOk(args, { cwd: store.cwd, env: store.env });
const w = (f: string) => path.join(work, f);
let svc: Served;
let estclient: string;
let nats: NatsServer | undefined;

function est(args: string[]): string {
  const r = run(estclient, args, { cwd: work });
  if (r.code !== 0) throw new Error(`estclient ${args.join(" ")} exited ${r.code}\n${r.stdout}${r.stderr}\n--- serve log\n${svc.log()}`);
  return r.stdout;
}
const server = () => ["-server", `127.0.0.1:${svc.port}`, "-explicit", caFile];
const x509 = (file: string, ...what: string[]) => openssl(["x509", "-in", file, "-noout", ...what]).stdout;
const serialOf = (file: string) => x509(file, "-serial").trim().replace(/^serial=/, "").toLowerCase();
const newKey = (file: string) => openssl(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", file]);

beforeAll(async () => {
  tool("nats-server");
  estclient = estTools().estclient;
  cli(["server", "issue", "srv", "--dns", "localhost", "--ip", "127.0.0.1"]);
  svc = await startServe(store.env, ["--audit-log", w("audit.jsonl")]);
});

afterAll(async () => {
  await svc?.stop();
  await stopAllNatsServers();
});

test("estclient cacerts: the CA certificate, as certs-only CMS", () => {
  est(["cacerts", ...server(), "-out", w("cacerts.pem")]);
  const fp = (f: string) => openssl(["x509", "-in", f, "-noout", "-fingerprint", "-sha256"]).stdout;
  expect(fp(w("cacerts.pem"))).toBe(fp(caFile));
});

test("estclient enroll with a token, reenroll with the certificate: openssl verifies each, nats-server maps each to the intended user", async () => {
  // alice: by her email SAN; bob: by his subject DN
  const aliceToken = cli(["token", "create", "alice", "--email", "alice@example.com"]).stdout.trim();
  const bobToken = cli(["token", "create", "bob", "--subject", "CN=bob,OU=ops,O=Acme"]).stdout.trim();
  newKey(w("alice.key"));
  newKey(w("bob.key"));
  est(["enroll", ...server(), "-user", "alice", "-pass", aliceToken, "-key", w("alice.key"), "-cn", "alice", "-emails", "alice@example.com", "-out", w("alice.crt")]);
  est(["enroll", ...server(), "-user", "bob", "-pass", bobToken, "-key", w("bob.key"), "-cn", "bob", "-ou", "ops", "-org", "Acme", "-out", w("bob.crt")]);
  for (const n of ["alice", "bob"]) expect(openssl(["verify", "-CAfile", caFile, "-purpose", "sslclient", w(`${n}.crt`)]).stdout).toContain(": OK");
  expect(x509(w("alice.crt"), "-ext", "subjectAltName")).toContain("email:alice@example.com");
  expect(x509(w("bob.crt"), "-subject", "-nameopt", "RFC2253")).toContain("CN=bob,OU=ops,O=Acme");
  // the key is the client's: the certificate's public key is the one estclient's CSR carried
  const pub = (f: string, cert: boolean) => openssl(cert ? ["x509", "-in", f, "-noout", "-pubkey"] : ["pkey", "-in", f, "-pubout"]).stdout;
  expect(pub(w("alice.crt"), true)).toBe(pub(w("alice.key"), false));

  // recorded like anything else, the tokens spent
  const list = JSON.parse(cli(["list", "--json"]).stdout) as { name: string; serial: string; status: string; natsUser: string | null }[];
  expect(list.find((r) => r.name === "alice")).toMatchObject({ serial: serialOf(w("alice.crt")), status: "valid", natsUser: "alice@example.com" });
  expect(list.find((r) => r.name === "bob")).toMatchObject({ serial: serialOf(w("bob.crt")), status: "valid", natsUser: "CN=bob,OU=ops,O=Acme" });
  const tokens = JSON.parse(cli(["token", "list", "--json"]).stdout) as { name: string; state: string; serial: string }[];
  expect(tokens.map((t) => [t.name, t.state, t.serial])).toEqual([
    ["alice", "claimed", serialOf(w("alice.crt"))],
    ["bob", "claimed", serialOf(w("bob.crt"))],
  ]);

  cli(["config", "nats", "--out", w("mtls.conf")]);
  nats = await startNatsServer(w("mtls.conf"));
  const as = async (cert: string, key: string) => {
    const r = await nats!.connectAs(cert, key, caFile);
    if (!r.ok) throw new Error(`${cert}: refused: ${r.error}`);
    return r.user;
  };
  expect(await as(w("alice.crt"), w("alice.key"))).toBe("alice@example.com");
  expect(await as(w("bob.crt"), w("bob.key"))).toBe("CN=bob,OU=ops,O=Acme");

  // reenroll: authenticated by the TLS client certificate; estclient builds the CSR from it, same key
  est(["reenroll", ...server(), "-key", w("alice.key"), "-certs", w("alice.crt"), "-out", w("alice2.crt")]);
  expect(openssl(["verify", "-CAfile", caFile, w("alice2.crt")]).stdout).toContain(": OK");
  expect(serialOf(w("alice2.crt"))).not.toBe(serialOf(w("alice.crt")));
  expect(x509(w("alice2.crt"), "-ext", "subjectAltName")).toContain("email:alice@example.com");
  expect(x509(w("alice2.crt"), "-subject")).toBe(x509(w("alice.crt"), "-subject"));
  // the old one superseded (still valid until it expires), the new one current, with the same user
  const after = JSON.parse(cli(["list", "--json"]).stdout) as { name: string; serial: string; status: string; renews: string | null }[];
  expect(after.find((r) => r.serial === serialOf(w("alice.crt")))?.status).toBe("superseded");
  expect(after.find((r) => r.serial === serialOf(w("alice2.crt")))).toMatchObject({ status: "valid", renews: serialOf(w("alice.crt")) });
  expect(await as(w("alice2.crt"), w("alice.key"))).toBe("alice@example.com");

  // bob rekeys: a CSR with a new key (estclient csr), sent over TLS with his current certificate and key
  newKey(w("bob2.key"));
  est(["csr", "-key", w("bob2.key"), "-cn", "bob", "-ou", "ops", "-org", "Acme", "-out", w("bob2.csr")]);
  est(["reenroll", ...server(), "-csr", w("bob2.csr"), "-key", w("bob.key"), "-certs", w("bob.crt"), "-out", w("bob2.crt")]);
  expect(pub(w("bob2.crt"), true)).toBe(pub(w("bob2.key"), false));
  expect(await as(w("bob2.crt"), w("bob2.key"))).toBe("CN=bob,OU=ops,O=Acme");

  // the audit log: one line per issuance and renewal, no token in it
  const audit = fs.readFileSync(w("audit.jsonl"), "utf8");
  const lines = audit.trim().split("\n").map((l) => JSON.parse(l));
  expect(lines.map((l) => [l.endpoint, l.name, l.outcome])).toEqual([
    ["simpleenroll", "alice", "issued"],
    ["simpleenroll", "bob", "issued"],
    ["simplereenroll", "alice", "renewed"],
    ["simplereenroll", "bob", "renewed"],
  ]);
  expect(lines[0]).toMatchObject({ client: "127.0.0.1", serial: serialOf(w("alice.crt")), status: 200 });
  expect(audit).not.toContain(aliceToken);
  expect(audit).not.toContain(bobToken);
});
