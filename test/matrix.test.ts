/**
 * Every nats-server of the matrix (Debian's 2.9.10 and scripts/nats-versions.txt, built by
 * scripts/nats-servers.sh): the snippet `config nats` writes loads, and each client certificate —
 * mapped by email, DNS, URI and subject DN — logs in as the user `verify --server-version V`
 * predicts; a certificate of another CA is refused at the handshake on every version.
 */
import * as path from "node:path";
import { makeStore, mtls, mtlsOk, tmpDir } from "./helpers/cli";
import { natsServerMatrix, startNatsServer, stopAllNatsServers } from "./helpers/nats";

const matrix = natsServerMatrix();
let dir: string;
let foreign: { dir: string; env: Record<string, string> };
const env = () => ({ MTLSCTL_DIR: path.join(dir, "pki"), MTLSCTL_PASSPHRASE: "matrix" });
const CLIENTS: [string, string[], string][] = [
  ["alice", ["--email", "alice@example.com"], "alice@example.com"],
  ["bob", ["--subject", "CN=bob,OU=ops,O=Acme"], "CN=bob,OU=ops,O=Acme"],
  ["carol", ["--uri", "spiffe://example.org/carol"], "spiffe://example.org/carol"],
  ["dave", ["--dns", "dave.example.com"], "dave.example.com"],
];

beforeAll(() => {
  dir = tmpDir("mtlsctl-matrix-");
  mtlsOk(["ca", "init", "--name", "Matrix CA"], { env: env() });
  mtlsOk(["server", "issue", "nats1", "--dns", "localhost", "--ip", "127.0.0.1"], { env: env() });
  for (const [name, flags] of CLIENTS) mtlsOk(["client", "issue", name, ...flags], { env: env() });
  mtlsOk(["config", "nats", "--out", path.join(dir, "mtls.conf")], { env: env() });
  foreign = makeStore({ name: "Foreign CA" });
  mtlsOk(["client", "issue", "alice", "--email", "alice@example.com"], { env: foreign.env });
});

afterAll(() => stopAllNatsServers());

test("the matrix has every pinned version and Debian's 2.9.10", () => {
  expect(matrix.map((m) => m.version)).toEqual(expect.arrayContaining(["2.9.10", "2.10.27", "2.11.17", "2.12.15", "2.14.10", "2.15.3"]));
});

describe.each(matrix)("nats-server $version", ({ version, bin }) => {
  test("maps each client as verify predicts, and refuses another CA's certificate", async () => {
    const server = await startNatsServer(path.join(dir, "mtls.conf"), { bin, dir: tmpDir(`mtlsctl-matrix-${version}-`) });
    try {
      const ca = path.join(dir, "pki", "ca.crt");
      for (const [name, , user] of CLIENTS) {
        const cert = path.join(dir, "pki", "issued", `${name}.crt`);
        const seen = await server.connectAs(cert, path.join(dir, "pki", "private", `${name}.key`), ca);
        const predicted = JSON.parse(mtls(["verify", cert, "--config", path.join(dir, "mtls.conf"), "--server-version", version, "--json"], { env: env() }).stdout);
        expect({ name, ok: seen.ok, user: seen.ok ? seen.user : null }).toEqual({ name, ok: predicted.accepted, user: predicted.user });
        expect(seen).toMatchObject({ ok: true, user });
      }
      const other = await server.connectAs(path.join(foreign.dir, "issued", "alice.crt"), path.join(foreign.dir, "private", "alice.key"), ca);
      expect(other.ok).toBe(false);
      const predicted = JSON.parse(mtls(["verify", path.join(foreign.dir, "issued", "alice.crt"), "--config", path.join(dir, "mtls.conf"), "--server-version", version, "--json"], { env: env() }).stdout);
      expect(predicted).toMatchObject({ accepted: false, stage: "tls" });
    } finally {
      await server.stop();
    }
  }, 60_000);
});
