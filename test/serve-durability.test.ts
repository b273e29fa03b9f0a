/**
 * Durable before the answer (issue 17): `mtlsctl serve` answers a re-enrolment only after the group
 * commit that records it. Eight clients re-enrol concurrently, each with the certificate of its last
 * answer; serve is killed with SIGKILL while their requests are in flight. Then, read by the CLI
 * (which takes the dead process's lock and repairs what it left): every answered certificate has
 * its record (same serial, same SHA-256 fingerprint, valid or superseded), and its certificate file
 * holds it byte for byte (issued/<name>.crt, or renewed/<serial>.crt once a later renewal was
 * committed unanswered). A restarted serve re-enrols every client from its last answer: 200 (a
 * renewal, or the committed-but-unanswered one again for the same key).
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { execFileSync } from "node:child_process";
import { makeStore, mtlsOk } from "./helpers/cli";
import { readInventory } from "./helpers/inventory";
import { request, startServe } from "./helpers/serve";

jest.setTimeout(120_000);

const store = makeStore({ name: "Durability CA" });
const cli = (args: string[]) => mtlsOk(args, { cwd: store.cwd, env: store.env });
const work = path.join(store.cwd, "work");
fs.mkdirSync(work);
const caFile = path.join(store.dir, "ca.crt");
const N = 8;
const PKCS10 = { "Content-Type": "application/pkcs10" };

/** The certificate (PEM) in a certs-only CMS answer (base64), read by openssl. */
function certPemOf(body: string): string {
  const out = execFileSync("openssl", ["pkcs7", "-inform", "DER", "-print_certs"], { input: Buffer.from(body, "base64") }).toString();
  const m = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n/.exec(out);
  if (!m) throw new Error(`no certificate in the answer: ${out}`);
  return m[0];
}
const derOf = (pem: string) => Buffer.from(pem.replace(/-----[^-]+-----|\s+/g, ""), "base64");
const sha256 = (b: Buffer) => createHash("sha256").update(b).digest("hex");

interface Client {
  name: string;
  key: string;
  csr: string;
  certFile: string;
}

beforeAll(() => {
  cli(["server", "issue", "srv", "--dns", "localhost", "--ip", "127.0.0.1"]);
});

test("kill -9 under concurrent re-enrolment: every answered certificate is recorded and on disk; a restart re-enrols all", async () => {
  const clients: Client[] = [];
  for (let i = 0; i < N; i++) {
    const name = `dur${i}`;
    cli(["client", "issue", name]);
    const key = path.join(store.dir, "private", `${name}.key`);
    const certFile = path.join(work, `${name}.crt`);
    fs.copyFileSync(path.join(store.dir, "issued", `${name}.crt`), certFile);
    const csr = execFileSync("openssl", ["req", "-new", "-key", key, "-subj", `/CN=${name}`, "-outform", "DER"]).toString("base64");
    clients.push({ name, key, csr, certFile });
  }
  const svc = await startServe(store.env, ["--rate-limit", "0"]);
  const answered: { name: string; der: Buffer }[] = [];
  let killed = false;
  let inFlightAtKill = 0;
  let inFlight = 0;
  const loops = clients.map(async (c) => {
    while (!killed) {
      inFlight++;
      try {
        const r = await request(svc.port, { path: "/.well-known/est/simplereenroll", caFile, body: c.csr, headers: PKCS10, cert: c.certFile, key: c.key });
        if (r.status !== 200) throw new Error(`re-enrolment of ${c.name}: ${r.status} ${r.body}`);
        const pem = certPemOf(r.body);
        answered.push({ name: c.name, der: derOf(pem) });
        fs.writeFileSync(c.certFile, pem);
      } catch (e) {
        if (!killed) throw e; // after the kill: a request cut off, never answered
      } finally {
        inFlight--;
      }
    }
  });
  // kill once a good number were answered, while the clients are still sending
  const deadline = Date.now() + 60_000;
  while (answered.length < 60 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  expect(answered.length).toBeGreaterThanOrEqual(60);
  inFlightAtKill = inFlight;
  killed = true;
  svc.proc.kill("SIGKILL");
  expect(await svc.exited).toBeNull(); // killed, not exited
  await Promise.all(loops);
  expect(inFlightAtKill).toBeGreaterThan(0); // the kill cut requests off mid-flight

  // the CLI reads the store after the kill (takes over the dead lock, repairs)
  const list = JSON.parse(cli(["list", "--json"]).stdout) as { serial: string; name: string; fingerprint: string; status: string }[];
  const bySerial = new Map(list.map((r) => [r.serial, r]));
  const inv = readInventory(store.dir);
  const recs = new Map<string, { certFile: string }>(inv.certificates.map((r: { serial: string; certFile: string }) => [r.serial, r]));
  for (const a of answered) {
    const serial = execFileSync("openssl", ["x509", "-inform", "DER", "-noout", "-serial"], { input: a.der }).toString().trim().replace(/^serial=/, "").toLowerCase().replace(/^0+/, "");
    const rec = bySerial.get(serial) ?? [...bySerial.values()].find((r) => r.serial.replace(/^0+/, "") === serial);
    expect({ name: a.name, serial, recorded: !!rec }).toEqual({ name: a.name, serial, recorded: true });
    expect(rec!.name).toBe(a.name);
    expect(rec!.fingerprint.replace(/:/g, "").toLowerCase()).toBe(sha256(a.der));
    expect(["valid", "superseded"]).toContain(rec!.status);
    const file = path.join(store.dir, recs.get(rec!.serial)!.certFile);
    expect(derOf(fs.readFileSync(file, "utf8"))).toEqual(a.der);
  }

  // a restarted service: every client re-enrols from its last answer
  const again = await startServe(store.env, ["--rate-limit", "0"]);
  try {
    for (const c of clients) {
      const r = await request(again.port, { path: "/.well-known/est/simplereenroll", caFile, body: c.csr, headers: PKCS10, cert: c.certFile, key: c.key });
      expect({ name: c.name, status: r.status, body: r.status === 200 ? "" : r.body }).toEqual({ name: c.name, status: 200, body: "" });
    }
  } finally {
    await again.stop();
  }
});
