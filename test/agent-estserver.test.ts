/**
 * The agent against an EST server nobody here wrote (issue 18): globalsign's estserver, its mock CA
 * set to a store's CA. estserver copies the request's raw subject and SAN into the certificate, and on
 * re-enrolment compares them with the current certificate's byte for byte (RFC 7030 §4.2.2): the
 * agent enrols with --subject/--email, then renews with a new key; openssl verifies both against the
 * CA, and the renewed certificate has the same subject and SAN bytes, a new serial and a new key.
 */
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as net from "node:net";
import * as path from "node:path";
import { spawn, ChildProcess } from "node:child_process";
import { makeStore, mtls, mtlsOk, openssl, tmpDir } from "./helpers/cli";
import { estTools } from "./helpers/est";
import { freePort } from "./helpers/nats";
import { readCertificates } from "../src/pki/cert";

jest.setTimeout(120_000);

const store = makeStore({ name: "Agent EST CA", noEncrypt: true });
mtlsOk(["server", "issue", "est", "--dns", "localhost", "--ip", "127.0.0.1"], { cwd: store.cwd, env: store.env });
const anchor = path.join(store.dir, "ca.crt");
let est: ChildProcess;
let port: number;

beforeAll(async () => {
  const { estserver } = estTools();
  port = await freePort();
  const cfg = path.join(store.cwd, "estserver.json");
  fs.writeFileSync(
    cfg,
    JSON.stringify({
      mock_ca: { certificates: anchor, private_key: path.join(store.dir, "private", "ca.key") },
      tls: { listen_address: `127.0.0.1:${port}`, certificates: path.join(store.dir, "issued", "est.crt"), private_key: path.join(store.dir, "private", "est.key"), client_cas: [anchor] },
      allowed_hosts: ["localhost", "127.0.0.1"],
      rate_limit: 0,
      timeout: 30,
    }),
  );
  est = spawn(estserver, ["-config", cfg], { stdio: ["ignore", "pipe", "pipe"] });
  let log = "";
  est.stdout!.on("data", (d) => (log += d));
  est.stderr!.on("data", (d) => (log += d));
  for (let i = 0; ; i++) {
    const up = await new Promise<boolean>((r) => {
      const c = net.connect(port, "127.0.0.1", () => (c.destroy(), r(true)));
      c.on("error", () => r(false));
    });
    if (up) break;
    if (i > 100 || est.exitCode !== null) throw new Error(`estserver did not start:\n${log}`);
    await new Promise((r) => setTimeout(r, 100));
  }
});
afterAll(() => {
  est?.kill("SIGTERM");
});

test("enrol and re-enrol against globalsign's estserver", () => {
  const dir = tmpDir("mtlsctl-agent-est-");
  fs.writeFileSync(path.join(dir, "token"), "unused-by-estserver\n");
  const base = ["agent", "--ca-url", `https://127.0.0.1:${port}`, "--ca-file", anchor, "--cert", path.join(dir, "dev.crt"), "--key", path.join(dir, "dev.key"), "--json", "--once"];
  const env = { MTLSCTL_DIR: "/nonexistent", MTLSCTL_PASSPHRASE: undefined };
  const first = mtls([...base, "--name", "dev1", "--token-file", path.join(dir, "token"), "--subject", "CN=dev1,O=Fleet", "--email", "dev1@example.com"], { cwd: dir, env });
  expect([first.code, first.stderr]).toEqual([0, first.stderr]);
  expect(JSON.parse(first.stdout.trim()).event).toBe("enrolled");
  const leaf = () => readCertificates(fs.readFileSync(path.join(dir, "dev.crt")), "dev.crt")[0];
  const a = leaf();
  expect(a.sans.email).toEqual(["dev1@example.com"]);
  expect(openssl(["x509", "-in", path.join(dir, "dev.crt"), "-noout", "-subject"]).stdout).toMatch(/CN\s*=\s*dev1, O\s*=\s*Fleet|O\s*=\s*Fleet, CN\s*=\s*dev1/);
  expect(openssl(["verify", "-CAfile", anchor, path.join(dir, "dev.crt")]).stdout).toContain("OK");

  // due now whatever the serial's jitter draws: more left to renew before than the whole lifetime
  // (99% left it to the serial: renewAt = notBefore + 1% of the lifetime - jitter, due only when the draw exceeded 10%)
  const again = mtls([...base, "--renew-before", "36500d", "--jitter", "0%"], { cwd: dir, env });
  expect([again.code, again.stderr]).toEqual([0, again.stderr]);
  const ev = JSON.parse(again.stdout.trim());
  expect(ev).toMatchObject({ event: "renewed", previous: a.serialHex });
  const b = leaf();
  expect(b.serialHex).toBe(ev.serial);
  expect(b.subjectRaw).toEqual(a.subjectRaw);
  expect(b.extensions.find((e) => e.oid === "2.5.29.17")!.value).toEqual(a.extensions.find((e) => e.oid === "2.5.29.17")!.value);
  expect(b.spki.equals(a.spki)).toBe(false);
  const keySpki = crypto.createPublicKey(fs.readFileSync(path.join(dir, "dev.key"))).export({ type: "spki", format: "der" });
  expect(b.spki.equals(keySpki)).toBe(true);
  expect(openssl(["verify", "-CAfile", anchor, path.join(dir, "dev.crt")]).stdout).toContain("OK");
});
