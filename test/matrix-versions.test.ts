/**
 * `--server-version`: every server of the matrix is proven (no note); another patch of a proven
 * minor is modelled as that minor's proven server and says so; a minor outside the matrix (2.13 was
 * never released, 2.16 does not exist yet) is said plainly to be unproven. The proven list is the
 * matrix itself (scripts/nats-versions.txt and Debian's 2.9.10).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { mtls, mtlsOk, tmpDir } from "./helpers/cli";
import { natsServerMatrix } from "./helpers/nats";
import { NEWEST_MODELLED, PROVEN_VERSIONS, versionProof } from "../src/nats/versions";

test("the proven versions are exactly the matrix, and the newest modelled is its newest", () => {
  const matrix = natsServerMatrix().map((m) => m.version);
  expect([...PROVEN_VERSIONS].sort()).toEqual([...matrix].sort());
  expect(NEWEST_MODELLED).toBe(matrix[matrix.length - 1]);
});

test.each([
  ["2.9.10", null],
  ["2.15.3", null],
  ["2.10.5", /nats-server 2\.10\.5 has not been run against here: it is modelled as 2\.10\.27/],
  ["2.9.20", /modelled as 2\.9\.10 and 2\.9\.25/],
  ["2.13.1", /2\.13\.1 is not a version mtlsctl has been proven against/],
  ["2.16.0", /2\.16\.0 is not a version mtlsctl has been proven against/],
])("versionProof(%s)", (v, want) => {
  const got = versionProof(v);
  if (want === null) expect(got).toBeNull();
  else expect(got).toMatch(want);
});

test("verify says so in its notes (and --json), and accepts any patch", () => {
  const dir = tmpDir("mtlsctl-matrix-versions-");
  const env = { MTLSCTL_DIR: path.join(dir, "pki"), MTLSCTL_PASSPHRASE: "v" };
  mtlsOk(["ca", "init", "--name", "V CA"], { env });
  mtlsOk(["client", "issue", "alice", "--email", "alice@example.com"], { env });
  mtlsOk(["config", "nats", "--out", path.join(dir, "mtls.conf")], { env });
  const cert = path.join(dir, "pki", "issued", "alice.crt");
  const run = (v: string) => mtls(["verify", cert, "--config", path.join(dir, "mtls.conf"), "--server-version", v], { env });
  expect(run("2.14.10").stdout).not.toMatch(/not been run against|not a version/);
  const patch = run("2.14.2");
  expect(patch.code).toBe(0);
  expect(patch.stdout).toMatch(/note: nats-server 2\.14\.2 has not been run against here: it is modelled as 2\.14\.10/);
  const json = JSON.parse(mtls(["verify", cert, "--config", path.join(dir, "mtls.conf"), "--server-version", "2.16.0", "--json"], { env }).stdout);
  expect(json).toMatchObject({ accepted: true, serverVersion: "2.16.0" });
  expect(json.notes.join("\n")).toMatch(/2\.16\.0 is not a version mtlsctl has been proven against/);
  fs.rmSync(dir, { recursive: true, force: true });
});
