/**
 * TLS to the database (issue 19): the URL's sslmode and sslrootcert pass through to node-postgres. A
 * cluster of the test's own that accepts TLS only (hostssl), with a server certificate that mtlsctl
 * itself issued: sslmode=verify-full with the CA as root works; another root is refused with one
 * line (exit 3); without TLS the server refuses.
 */
import * as path from "node:path";
import { makeStore, mtls, mtlsOk, tmpDir } from "./helpers/cli";
import { throwawayCluster } from "./helpers/pg";
import { freePort } from "./helpers/nats";

jest.setTimeout(120_000);

let cluster: ReturnType<typeof throwawayCluster> | null = null;
afterAll(() => cluster?.destroy());

test("sslmode=verify-full with mtlsctl's CA as sslrootcert; a wrong root or no TLS: refused (exit 3, one line)", async () => {
  const s = makeStore({ name: "Db TLS CA" });
  mtlsOk(["server", "issue", "db", "--dns", "localhost", "--ip", "127.0.0.1"], s);
  const port = await freePort();
  cluster = throwawayCluster(port, { ssl: { certFile: path.join(s.dir, "issued", "db.crt"), keyFile: path.join(s.dir, "private", "db.key") } });
  const ca = path.join(s.dir, "ca.crt");
  const url = `postgres://mtlsctl@localhost:${port}/pki?sslmode=verify-full&sslrootcert=${encodeURIComponent(ca)}`;
  const r = JSON.parse(mtlsOk(["store", "copy", "--from", s.dir, "--to", url, "--json"], s).stdout);
  expect(r.certificates).toBe(1);
  expect(JSON.parse(mtlsOk(["--db", url, "list", "--json"], s).stdout).map((x: { name: string }) => x.name)).toEqual(["ca", "db"]);
  // another CA as the root: the server's certificate is not trusted
  const other = makeStore({ name: "Other CA" });
  const bad = mtls(["--db", url.replace(encodeURIComponent(ca), encodeURIComponent(path.join(other.dir, "ca.crt"))), "list"], s);
  expect(bad.code).toBe(3);
  expect(bad.stderr).toMatch(/^mtlsctl: postgres:\/\/mtlsctl@localhost:\d+\/pki\?sslmode=verify-full&sslrootcert=[^ ]+: cannot use the database: .*certificate.*\n$/);
  // no TLS: the server's hostssl refuses it
  const plain = mtls(["--db", `postgres://mtlsctl@127.0.0.1:${port}/pki?sslmode=disable`, "list"], { cwd: tmpDir() });
  expect(plain.code).toBe(3);
  expect(plain.stderr).toMatch(/no pg_hba\.conf entry|SSL off|cannot use the database/);
});
