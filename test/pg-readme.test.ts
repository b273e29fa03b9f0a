/**
 * README "Sharing a CA": its `<!-- sharing-pg -->` block run as written (bash, no start-up files), with
 * the two database URLs made fresh ones; the restore from pg_dump answers `list` as the original did.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { mtlsOk, ROOT, run, tmpDir, tool } from "./helpers/cli";
import { dropAll, freshDbUrl, pgBase } from "./helpers/pg";

jest.setTimeout(120_000);
beforeAll(() => pgBase());
afterAll(() => dropAll());

test("the README's PostgreSQL block runs as written, and pg_restore gives back the same store", () => {
  const m = /<!-- sharing-pg -->\s*```sh\n([\s\S]*?)```/.exec(fs.readFileSync(path.join(ROOT, "README.md"), "utf8"));
  expect(m).not.toBeNull();
  const db = freshDbUrl();
  const restored = freshDbUrl();
  const text = m![1].split("postgres://mtlsctl@127.0.0.1:5432/pki_restored").join(restored).split("postgres://mtlsctl@127.0.0.1:5432/pki").join(db);
  expect(text).not.toMatch(/5432\/pki/);
  const dir = tmpDir("mtlsctl-sharing-");
  const env: NodeJS.ProcessEnv = { ...process.env, PATH: `${path.join(ROOT, "bin")}:${process.env.PATH}`, MTLSCTL_PASSPHRASE: "sharing", NO_COLOR: "1" };
  for (const k of ["BASH_ENV", "ENV", "MTLSCTL_DIR", "MTLSCTL_DB"]) delete env[k];
  const r = run(tool("bash"), ["--noprofile", "--norc", "-euo", "pipefail", "-c", text], { cwd: dir, env });
  if (r.code !== 0) throw new Error(`the block failed (${r.code}):\n${r.stdout}\n${r.stderr}`);
  expect(fs.statSync(path.join(dir, "alice.key")).mode & 0o777).toBe(0o600);
  expect(fs.existsSync(path.join(dir, "crl.pem"))).toBe(true);
  const list = (url: string) => JSON.parse(mtlsOk(["--db", url, "list", "--json"], { cwd: dir }).stdout);
  expect(list(restored)).toEqual(list(db));
  expect(list(db).map((e: { name: string }) => e.name)).toEqual(["ca", "ca1", "alice", "nats1", "alice"]);
  // config nats --db: the files the block named, the renewed alice as the user
  const conf = fs.readFileSync(path.join(dir, "mtls.conf"), "utf8");
  expect(conf).toMatch(/ca_file: "\/\S+\/ca\.pem"\n/);
  expect(conf).toMatch(/key_file: "\/\S+\/nats1\.key"\n/);
  expect(conf).toMatch(/\{ user: "alice@example\.com" \}/);
});
