/**
 * The README's no-install client path (issue 17): curl and openssl alone enrol with a token and renew
 * with the certificate against `mtlsctl serve`; the block after `<!-- example: est-curl -->` runs as
 * written in bash, with bin/ on PATH, EST the service's URL and ca.crt exported from the store.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { makeStore, mtlsOk, openssl, ROOT, run, tool } from "./helpers/cli";
import { startServe, Served } from "./helpers/serve";

jest.setTimeout(60_000);

const store = makeStore({ name: "Curl CA" });
const cli = (args: string[]) => mtlsOk(args, { cwd: store.cwd, env: store.env });
let svc: Served;

beforeAll(async () => {
  cli(["server", "issue", "srv", "--dns", "localhost", "--ip", "127.0.0.1"]);
  svc = await startServe(store.env);
});
afterAll(async () => {
  await svc?.stop();
});

test("the README's curl + openssl block enrols and renews", () => {
  const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
  const m = /<!-- example: est-curl -->\s*```sh\n([\s\S]*?)```/.exec(readme);
  expect(m).not.toBeNull();
  const work = path.join(store.cwd, "client");
  fs.mkdirSync(work);
  cli(["export", "ca", "--out", path.join(work, "ca.crt")]);
  const env: NodeJS.ProcessEnv = { ...process.env, ...store.env, PATH: `${path.join(ROOT, "bin")}:${process.env.PATH}`, EST: `https://127.0.0.1:${svc.port}` };
  delete env.BASH_ENV;
  const r = run(tool("bash"), ["--noprofile", "--norc", "-euo", "pipefail", "-c", m![1]], { cwd: work, env });
  if (r.code !== 0) throw new Error(`the README block exited ${r.code}\n${r.stdout}${r.stderr}\n--- serve log\n${svc.log()}`);
  expect(r.stdout).toContain("dev1-renewed.crt: OK");
  const x = (f: string, ...a: string[]) => openssl(["x509", "-in", path.join(work, f), "-noout", ...a]).stdout;
  expect(x("dev1.crt", "-ext", "subjectAltName")).toContain("email:dev1@example.com");
  expect(x("dev1-renewed.crt", "-subject")).toBe(x("dev1.crt", "-subject"));
  expect(x("dev1-renewed.crt", "-serial")).not.toBe(x("dev1.crt", "-serial"));
  const list = JSON.parse(cli(["list", "--json"]).stdout) as { name: string; status: string; natsUser: string | null }[];
  expect(list.filter((c) => c.name === "dev1").map((c) => [c.status, c.natsUser])).toEqual([
    ["superseded", null],
    ["valid", "dev1@example.com"],
  ]);
});
