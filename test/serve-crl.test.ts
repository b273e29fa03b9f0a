/**
 * `GET /crl` (issue 17): the store's current CRL in DER (application/pkix-crl), on the HTTPS listener
 * and on the plain-HTTP `--http-listen` one (which serves nothing else); a CLI revoke beside the running
 * service shows in the next answer.
 */
import * as fs from "node:fs";
import * as http from "node:http";
import * as path from "node:path";
import { makeStore, mtlsOk, openssl } from "./helpers/cli";
import { freePort } from "./helpers/nats";
import { request, startServe, Served } from "./helpers/serve";

const store = makeStore({ name: "CRL CA" });
const caFile = path.join(store.dir, "ca.crt");
const cli = (args: string[]) => mtlsOk(args, { cwd: store.cwd, env: store.env });
let svc: Served;
let httpPort: number;

function get(port: number, p: string): Promise<{ status: number; type: string | undefined; body: Buffer }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: "127.0.0.1", port, path: p, agent: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, type: res.headers["content-type"], body: Buffer.concat(chunks) }));
      })
      .on("error", reject);
  });
}
const crlText = (der: Buffer) => {
  const f = path.join(store.cwd, "crl.der");
  fs.writeFileSync(f, der);
  return openssl(["crl", "-inform", "DER", "-in", f, "-noout", "-text", "-CAfile", caFile]).stdout;
};

beforeAll(async () => {
  cli(["server", "issue", "srv", "--dns", "localhost", "--ip", "127.0.0.1"]);
  cli(["client", "issue", "alice", "--email", "alice@example.com"]);
  httpPort = await freePort();
  svc = await startServe(store.env, ["--http-listen", `127.0.0.1:${httpPort}`]);
});
afterAll(async () => {
  await svc?.stop();
});

test("the CRL over plain HTTP and HTTPS, signed fresh when the store has none; a CLI revoke shows in the next answer", async () => {
  const a = await get(httpPort, "/crl");
  expect([a.status, a.type]).toEqual([200, "application/pkix-crl"]);
  expect(crlText(a.body)).toMatch(/No Revoked Certificates/);
  const serial = (JSON.parse(cli(["list", "--json"]).stdout) as { name: string; serial: string }[]).find((c) => c.name === "alice")!.serial;
  cli(["revoke", "alice", "--reason", "keyCompromise"]);
  const b = await request(svc.port, { path: "/crl", caFile });
  expect(b.status).toBe(200);
  const c = await get(httpPort, "/crl");
  expect(crlText(c.body).toLowerCase()).toContain(serial.replace(/^0+/, ""));
  expect(crlText(c.body)).toContain("Key Compromise");
  // the plain listener serves nothing else
  expect((await get(httpPort, "/health")).status).toBe(404);
  expect((await get(httpPort, "/.well-known/est/cacerts")).status).toBe(404);
});
