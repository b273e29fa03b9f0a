/**
 * OCSP through `mtlsctl serve` (issue 17): openssl's own OCSP client asks the running service — over the
 * plain-HTTP `--http-listen` responder that `ca set --ocsp-url` names in each certificate's AIA — and
 * verifies the signed answer: good, then revoked (with its reason) right after a CLI `revoke` beside the
 * running service, and unknown for a certificate this CA never issued.
 */
import * as path from "node:path";
import { makeStore, mtlsOk, openssl } from "./helpers/cli";
import { freePort } from "./helpers/nats";
import { startServe, Served } from "./helpers/serve";

const store = makeStore({ name: "OCSP Serve CA" });
const caFile = path.join(store.dir, "ca.crt");
const cli = (args: string[]) => mtlsOk(args, { cwd: store.cwd, env: store.env });
let svc: Served;
let url: string;

const ask = (cert: string, issuer = caFile) => {
  const r = openssl(["ocsp", "-issuer", issuer, "-cert", cert, "-url", url, "-CAfile", caFile, "-nonce"]);
  return r.stdout + r.stderr;
};

beforeAll(async () => {
  const port = await freePort();
  url = `http://127.0.0.1:${port}/ocsp`;
  cli(["ca", "set", "--ocsp-url", url]);
  cli(["server", "issue", "srv", "--dns", "localhost", "--ip", "127.0.0.1"]);
  cli(["client", "issue", "alice", "--email", "alice@example.com"]);
  svc = await startServe(store.env, ["--http-listen", `127.0.0.1:${port}`]);
});
afterAll(async () => {
  await svc?.stop();
});

test("the certificate names the service's responder, which says good, then revoked after a CLI revoke", () => {
  const alice = path.join(store.dir, "issued", "alice.crt");
  expect(openssl(["x509", "-in", alice, "-noout", "-ocsp_uri"]).stdout.trim()).toBe(url);
  const before = ask(alice);
  expect(before).toContain("Response verify OK");
  expect(before).toContain(`${alice}: good`);
  cli(["revoke", "alice", "--reason", "keyCompromise"]);
  const after = ask(alice);
  expect(after).toContain("Response verify OK");
  expect(after).toContain(`${alice}: revoked`);
  expect(after).toMatch(/Reason: keyCompromise/);
});

test("a certificate of another CA: the responder does not vouch for it", () => {
  const other = makeStore({ name: "Other CA" });
  mtlsOk(["client", "issue", "mallory", "--email", "m@example.com"], { cwd: other.cwd, env: other.env });
  const out = ask(path.join(other.dir, "issued", "mallory.crt"), path.join(other.dir, "ca.crt"));
  expect(out).not.toMatch(/: good/);
  expect(out).toMatch(/unauthorized|unknown|Responder Error/i);
});
