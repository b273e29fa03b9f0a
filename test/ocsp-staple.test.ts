/**
 * Stapling e2e: the real nats-server 2.9.10 with top-level `ocsp { mode: always }` fetches its own
 * certificate's status from the AIA URL that `ca set --ocsp-url` put in it (answered by
 * createOcspResponder behind a plain-HTTP harness, until `mtlsctl serve` is on main), and staples it:
 * a Node TLS client with requestOCSP (after the plaintext INFO line) sees a good staple. After
 * `mtlsctl revoke` of that certificate, a server started with it refuses to run (observed: it exits).
 */
import * as fs from "node:fs";
import * as http from "node:http";
import * as net from "node:net";
import * as path from "node:path";
import * as tls from "node:tls";
import { AddressInfo } from "node:net";
import { makeStore, mtlsOk, openssl, tmpDir } from "./helpers/cli";
import { freePort, launchNatsServer, stopAllNatsServers } from "./helpers/nats";
import { FileStore } from "../src/store/store";
import { openFileStore } from "../src/store/file-api";
import { keySigner } from "../src/pki/signer";
import { readCertificates } from "../src/pki/cert";
import { createOcspResponder } from "../src/service/ocsp";

jest.setTimeout(60_000);
afterAll(() => stopAllNatsServers());

function staple(port: number, ca: string): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, "127.0.0.1");
    let buf = "";
    const onData = (d: Buffer) => {
      buf += d.toString("latin1");
      if (!buf.includes("\r\n")) return;
      sock.off("data", onData);
      let resp: Buffer | null = null;
      // requestOCSP is a tls.connect option (Node docs) that @types/node lists only on TLSSocket's constructor options
      const t = tls.connect({ socket: sock, ca: fs.readFileSync(ca), servername: "localhost", requestOCSP: true } as tls.ConnectionOptions & { requestOCSP: boolean });
      t.on("OCSPResponse", (r: Buffer) => (resp = r));
      t.on("secureConnect", () => {
        t.destroy();
        resolve(resp);
      });
      t.on("error", reject);
    };
    sock.on("data", onData);
    sock.on("error", reject);
  });
}

test("nats-server 2.9.10 staples a good response from mtlsctl's responder; revoked: it will not run", async () => {
  const s = makeStore();
  const cli = (args: string[]) => mtlsOk(args, { cwd: s.cwd, env: s.env });
  const caFile = path.join(s.dir, "ca.crt");
  const caCert = readCertificates(fs.readFileSync(caFile), caFile)[0];
  const responder = createOcspResponder({ store: openFileStore(s.dir), signer: keySigner(new FileStore(s.dir).caKey("test-pass", caCert)), caCert });
  const seen: string[] = [];
  const harness = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", async () => {
      const body = req.method === "POST" ? Buffer.concat(chunks) : Buffer.from(decodeURIComponent((req.url ?? "").slice("/ocsp/".length)), "base64");
      const a = await responder.respond(body);
      seen.push(`${req.method} ${a.status}`);
      res.writeHead(200, { "Content-Type": "application/ocsp-response" }).end(a.der);
    });
  });
  await new Promise<void>((r) => harness.listen(0, "127.0.0.1", r));
  const hport = (harness.address() as AddressInfo).port;
  try {
    cli(["ca", "set", "--ocsp-url", `http://127.0.0.1:${hport}/ocsp`]);
    cli(["server", "issue", "nats1", "--dns", "localhost", "--ip", "127.0.0.1"]);
    const dir = tmpDir();
    const [port, monitorPort] = [await freePort(), await freePort()];
    const conf = path.join(dir, "server.conf");
    fs.writeFileSync(conf, `listen: 127.0.0.1:${port}\nhttp: 127.0.0.1:${monitorPort}\nocsp { mode: always }\ntls {\n  cert_file: "${path.join(s.dir, "issued", "nats1.crt")}"\n  key_file: "${path.join(s.dir, "private", "nats1.key")}"\n  ca_file: "${caFile}"\n}\n`);
    const srv = await launchNatsServer({ configFile: conf, dir, port, monitorPort, debug: false, startTimeoutMs: 15_000, pollMs: 100 });
    const der = await staple(port, caFile);
    await srv.stop();
    expect(der).not.toBeNull();
    const f = path.join(dir, "staple.der");
    fs.writeFileSync(f, der!);
    const v = openssl(["ocsp", "-respin", f, "-CAfile", caFile, "-issuer", caFile, "-cert", path.join(s.dir, "issued", "nats1.crt"), "-no_nonce"]);
    expect(v.stdout + v.stderr).toMatch(/nats1\.crt: good[\s\S]*Response verify OK/);
    expect(seen.some((x) => x.endsWith(" good"))).toBe(true);
    // revoked: the server (mode always) shuts down on a revoked staple; observed at start-up
    cli(["revoke", "nats1", "--reason", "keyCompromise"]);
    const [port2, monitorPort2] = [await freePort(), await freePort()];
    const conf2 = path.join(dir, "server2.conf");
    fs.writeFileSync(conf2, fs.readFileSync(conf, "utf8").replace(`127.0.0.1:${port}`, `127.0.0.1:${port2}`).replace(`127.0.0.1:${monitorPort}`, `127.0.0.1:${monitorPort2}`));
    await expect(launchNatsServer({ configFile: conf2, dir, port: port2, monitorPort: monitorPort2, debug: false, startTimeoutMs: 15_000, pollMs: 100 })).rejects.toThrow(/exited early[\s\S]*revoked/i);
    expect(seen.some((x) => x.endsWith(" revoked"))).toBe(true);
  } finally {
    harness.close();
  }
});
