/**
 * Revocation where a server does read CRLs: a Node.js https server given mtlsctl's CRL (the `crl`
 * option of tls.createServer, from `mtlsctl crl` and <dir>/crl.pem as `revoke` leaves it) refuses
 * the revoked client at the handshake and accepts the others. The client is the real curl
 * (--cert/--key/--cacert, never -k).
 */
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as https from "node:https";
import * as path from "node:path";
import type { AddressInfo } from "node:net";
import type { TLSSocket } from "node:tls";
import { makeStore, mtlsOk, openssl, tool } from "./helpers/cli";

jest.setTimeout(120_000);

const s = makeStore({ name: "CRL Test CA" });
const cli = (args: string[]) => mtlsOk(args, { cwd: s.cwd, env: s.env });
cli(["server", "issue", "web", "--dns", "localhost", "--ip", "127.0.0.1"]);
for (const n of ["alice", "bob", "carol"]) cli(["client", "issue", n, "--email", `${n}@example.com`]);
cli(["revoke", "bob", "--reason", "keyCompromise"]);
const crlFromRevoke = fs.readFileSync(path.join(s.dir, "crl.pem"), "utf8"); // revoke signs a CRL too
const crlFromCommand = cli(["crl"]).stdout; // a fresh CRL on stdout (and in pki/crl.pem)
const file = (...p: string[]) => path.join(s.dir, ...p);

interface Curl {
  code: number;
  stdout: string;
  stderr: string;
}

/** curl, asynchronously (the server runs in this process). */
function curl(port: number, client: string | null): Promise<Curl> {
  const args = ["-sS", "--max-time", "20", "--cacert", file("ca.crt"), "--resolve", `localhost:${port}:127.0.0.1`];
  if (client) args.push("--cert", file("issued", `${client}.crt`), "--key", file("private", `${client}.key`));
  args.push(`https://localhost:${port}/`);
  return new Promise((resolve) => {
    execFile(tool("curl"), args, { encoding: "utf8" }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? -1) : 0, stdout, stderr });
    });
  });
}

async function withServer<T>(crl: string | undefined, fn: (port: number, refusals: string[]) => Promise<T>): Promise<T> {
  const refusals: string[] = [];
  const server = https.createServer(
    {
      key: fs.readFileSync(file("private", "web.key")),
      cert: fs.readFileSync(file("issued", "web.crt")),
      ca: fs.readFileSync(file("ca.crt")),
      crl,
      requestCert: true,
      rejectUnauthorized: true,
    },
    (req, res) => {
      const peer = (req.socket as TLSSocket).getPeerCertificate();
      res.end(`hello ${peer.subject.CN}\n`);
    },
  );
  // Node refuses after the handshake: it closes the connection (no TLS alert) and says why in
  // the socket's authorizationError, passed along with tlsClientError
  server.on("tlsClientError", (_e, socket) => refusals.push(String((socket as TLSSocket).authorizationError ?? _e.message)));
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  try {
    return await fn((server.address() as AddressInfo).port, refusals);
  } finally {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
}

test("the CRL from `mtlsctl crl` is the one in <dir>/crl.pem, signed by the CA, listing bob", () => {
  expect(crlFromCommand).toBe(fs.readFileSync(file("crl.pem"), "utf8"));
  expect(crlFromRevoke).toMatch(/BEGIN X509 CRL/);
  const v = openssl(["crl", "-in", file("crl.pem"), "-CAfile", file("ca.crt"), "-noout", "-text"]);
  expect(v.stdout + v.stderr).toMatch(/verify OK/);
  const bob = JSON.parse(cli(["list", "--json"]).stdout).find((e: { name: string }) => e.name === "bob");
  expect(v.stdout.replace(/:/g, "").toLowerCase()).toContain(bob.serial.toLowerCase().replace(/^0+/, ""));
});

describe.each([
  ["`mtlsctl crl` output", () => crlFromCommand],
  ["pki/crl.pem as revoke left it", () => crlFromRevoke],
])("a Node https server with the CRL from %s", (_what, crl) => {
  test("accepts alice and carol, refuses bob (revoked) and a client without a certificate", async () => {
    await withServer(crl(), async (port, refusals) => {
      const alice = await curl(port, "alice");
      expect(alice.stderr).toBe("");
      expect(alice.stdout).toBe("hello alice\n");
      const carol = await curl(port, "carol");
      expect(carol.stdout).toBe("hello carol\n");

      const bob = await curl(port, "bob");
      expect(bob.code).not.toBe(0);
      expect(bob.stdout).toBe("");
      expect(refusals).toEqual(["CERT_REVOKED"]);

      const none = await curl(port, null);
      expect(none.code).not.toBe(0);
      expect(none.stdout).toBe("");
      expect(refusals.length).toBe(2);
    });
  });
});

test("the control: the same server without the CRL accepts bob (the CRL is what refuses him)", async () => {
  await withServer(undefined, async (port) => {
    const bob = await curl(port, "bob");
    expect(bob.stdout).toBe("hello bob\n");
  });
});
