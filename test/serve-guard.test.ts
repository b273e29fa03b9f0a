/**
 * The mapping guard (issue 17): `serve --nats-config F` runs the embedded verifier on each certificate
 * before it is stored; a certificate F would refuse, or map to another user than `config nats` writes
 * for it, or to another user than the token's --expect-user, is not issued (403, the reason), and
 * nothing is written.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { execFileSync } from "node:child_process";
import { hashTree, makeStore, mtlsOk, openssl } from "./helpers/cli";
import { basic, request, startServe, Served } from "./helpers/serve";

jest.setTimeout(60_000);

const store = makeStore({ name: "Guard CA" });
const caFile = path.join(store.dir, "ca.crt");
const work = path.join(store.cwd, "work");
fs.mkdirSync(work);
const cli = (args: string[]) => mtlsOk(args, { cwd: store.cwd, env: store.env });
let svc: Served;

function csr(name: string, subj: string): string {
  const k = path.join(work, `${name}.key`);
  openssl(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", k]);
  return execFileSync("openssl", ["req", "-new", "-key", k, "-subj", subj, "-outform", "DER"]).toString("base64");
}
const enroll = (user: string, pass: string, body: string) =>
  request(svc.port, { path: "/.well-known/est/simpleenroll", caFile, body, headers: { "Content-Type": "application/pkcs10", Authorization: basic(user, pass) } });
const token = (name: string, ...args: string[]) => cli(["token", "create", name, ...args]).stdout.trim();

beforeAll(async () => {
  cli(["server", "issue", "srv", "--dns", "localhost", "--ip", "127.0.0.1"]);
  cli(["client", "issue", "alice", "--email", "alice@example.com"]);
  cli(["client", "issue", "dave", "--subject", "CN=dave"]);
  cli(["config", "nats", "--out", path.join(work, "mtls.conf")]);
  svc = await startServe(store.env, ["--nats-config", path.join(work, "mtls.conf"), "--rate-limit", "0"]);
});
afterAll(async () => {
  await svc?.stop();
});

test("a certificate the config maps to its own user is issued; --expect-user that matches", async () => {
  const t = token("alice-laptop", "--email", "alice@example.com", "--expect-user", "alice@example.com");
  const r = await enroll("alice-laptop", t, csr("alice-laptop", "/CN=alice-laptop"));
  expect(r.status).toBe(200);
});

test("refused: a user the config does not list, another user than config nats writes, another than --expect-user", async () => {
  const cases: [string, string[], RegExp][] = [
    ["carol", ["--email", "carol@example.com"], /would refuse this certificate/],
    // email dave2@ is not listed, so the server falls through to the subject "CN=dave": dave's user, not dave2@'s
    ["dave2", ["--email", "dave2@example.com", "--subject", "CN=dave"], /would map this certificate to "CN=dave", not to "dave2@example.com"/],
    ["alice-phone", ["--email", "alice@example.com", "--expect-user", "bob@example.com"], /token expects "bob@example.com"/],
  ];
  for (const [name, args, reason] of cases) {
    const t = token(name, ...args);
    const before = hashTree(store.dir);
    const r = await enroll(name, t, csr(name, "/"));
    expect({ name, status: r.status, body: r.body }).toEqual({ name, status: 403, body: expect.stringMatching(reason) });
    expect(hashTree(store.dir)).toEqual(before);
  }
  const states = Object.fromEntries((JSON.parse(cli(["token", "list", "--json"]).stdout) as { name: string; state: string }[]).map((x) => [x.name, x.state]));
  expect(states).toMatchObject({ carol: "active", dave2: "active", "alice-phone": "active" });
});
