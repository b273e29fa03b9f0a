/**
 * The README's walk-through, run as written: its `<!-- walkthrough -->` shell blocks in one bash, in an
 * empty directory, with bin/ on PATH as the README's set-up says (only the listen and http ports are
 * made free ones); then the real nats-server serves the result and alice and bob connect as their users.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { ROOT, run, tmpDir, tool } from "./helpers/cli";
import { freePort, launchNatsServer, connectAs, NatsServer, stopAllNatsServers } from "./helpers/nats";

const readme = () => fs.readFileSync(path.join(ROOT, "README.md"), "utf8");

/** The sh blocks that follow a `<!-- MARK -->` line, in order. */
function blocks(mark: string): string[] {
  const re = new RegExp(`<!-- ${mark} -->\\s*\`\`\`sh\\n([\\s\\S]*?)\`\`\``, "g");
  return [...readme().matchAll(re)].map((m) => m[1]);
}

afterAll(() => stopAllNatsServers());

/** The environment a user's fresh shell would have for these commands: no store variable, no start-up file sourced (BASH_ENV). */
function plainEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const k of ["BASH_ENV", "ENV", "MTLSCTL_DIR", "MTLSCTL_PASSPHRASE"]) delete env[k];
  return env;
}

test("the set-up's PATH line gives a working `mtlsctl`", () => {
  const setup = /```sh\n(export PATH="\$PWD\/bin:\$PATH".*\nmtlsctl --version\n)```/.exec(readme());
  expect(setup).not.toBeNull();
  const r = run(tool("bash"), ["--noprofile", "--norc", "-euo", "pipefail", "-c", setup![1]], { cwd: ROOT, env: plainEnv() });
  expect(r.stderr).toBe("");
  expect(r.stdout.trim()).toBe(JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")).version);
});

test("the walk-through runs as written, and nats-server maps alice and bob as it says", async () => {
  const script = blocks("walkthrough");
  expect(script.length).toBe(3);
  const dir = tmpDir("mtlsctl-walkthrough-");
  const port = await freePort();
  const monitorPort = await freePort();
  const text = script.join("\n").replace("127.0.0.1:4222", `127.0.0.1:${port}`).replace("127.0.0.1:8222", `127.0.0.1:${monitorPort}`);
  const env = { ...plainEnv(), PATH: `${path.join(ROOT, "bin")}:${path.dirname(tool("nats-server"))}:${process.env.PATH}`, MTLSCTL_PASSPHRASE: "walk-through", NO_COLOR: "1" };
  const r = run(tool("bash"), ["--noprofile", "--norc", "-euo", "pipefail", "-c", text], { cwd: dir, env });
  if (r.code !== 0) throw new Error(`walk-through failed (${r.code}):\n${r.stdout}\n${r.stderr}`);
  expect(r.stdout + r.stderr).toContain("nats-server: configuration file nats-server.conf is valid");
  expect(r.stdout).toContain('"alice@example.com"'); // list shows the NATS user
  const conf = fs.readFileSync(path.join(dir, "mtls.conf"), "utf8");
  expect(conf).toContain('{ user: "alice@example.com" }');
  expect(conf).toContain('{ user: "CN=bob,OU=ops,O=Acme" }');

  const launched = await launchNatsServer({ configFile: path.join(dir, "nats-server.conf"), dir, port, monitorPort, env: process.env, debug: true, startTimeoutMs: 10_000, pollMs: 50 });
  const server = { port, monitorPort, dir, configFile: path.join(dir, "nats-server.conf"), debug: true, log: launched.log, stop: launched.stop } as unknown as NatsServer;
  try {
    const ca = path.join(dir, "pki", "ca.crt");
    const alice = await connectAs(server, path.join(dir, "pki", "issued", "alice.crt"), path.join(dir, "pki", "private", "alice.key"), ca);
    const bob = await connectAs(server, path.join(dir, "pki", "issued", "bob.crt"), path.join(dir, "bob.key"), ca);
    expect(alice).toMatchObject({ ok: true, user: "alice@example.com" });
    expect(bob).toMatchObject({ ok: true, user: "CN=bob,OU=ops,O=Acme" });
  } finally {
    await launched.stop();
  }
}, 120_000);
