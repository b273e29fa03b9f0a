/**
 * Issue 21 §2, "Secrets leak to child processes": no program mtlsctl starts sees a secret variable.
 *  - every secret variable the source reads is in SECRET_ENV (src/secret-env.ts), which the CLI takes
 *    out of process.env when it starts (takeEnvSecrets) and the agent's --exec hook is started without;
 *  - the `sh` that bulk issuance starts for syncfs(2) (src/bulk/syncfs.ts): by absolute path, and its
 *    environment, read from /proc/<pid>/environ while it runs, is PATH alone, though this process has
 *    MTLSCTL_PASSPHRASE & co. set.
 * (The agent's hook, end to end through the CLI: test/agent.test.ts, "--exec ... environment".)
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { makeStore } from "./helpers/cli";
import { SECRET_ENV, withoutSecrets } from "../src/secret-env";
import { envSecret, takeEnvSecrets } from "../src/cli/context";
import { Store } from "../src/store/store";
import { keySigner } from "../src/pki/signer";
import { csvRows } from "../src/bulk/input";
import { bulkIssue } from "../src/bulk/issue";

jest.setTimeout(120_000);

const SRC = path.join(__dirname, "..", "src");
const sources = (dir: string): string[] =>
  fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sources(path.join(dir, e.name)) : e.name.endsWith(".ts") ? [path.join(dir, e.name)] : []));

test("SECRET_ENV names every secret variable the source reads (getSecret's env, process.env.X, *_ENV constants)", () => {
  const read = new Set<string>();
  for (const f of sources(SRC)) {
    const text = fs.readFileSync(f, "utf8");
    for (const re of [/\benv: "([A-Z][A-Z0-9_]*)"/g, /process\.env\.([A-Z][A-Z0-9_]*)/g, /process\.env\["([A-Z][A-Z0-9_]*)"\]/g, /_ENV = "([A-Z][A-Z0-9_]*)"/g, /envSecret\("([A-Z][A-Z0-9_]*)"\)/g]) {
      for (const m of text.matchAll(re)) read.add(m[1]);
    }
  }
  const secret = [...read].filter((v) => /PASS|PASSWORD|PIN|SECRET|TOKEN/.test(v)).sort();
  // the two that the audit found missing, among them
  expect(secret).toEqual(expect.arrayContaining(["MTLSCTL_NEW_PASSPHRASE", "MTLSCTL_KEY_PASSPHRASE", "MTLSCTL_PASSPHRASE", "PGPASSWORD"]));
  expect(secret.filter((v) => !(SECRET_ENV as readonly string[]).includes(v))).toEqual([]);
});

test("takeEnvSecrets takes every one out of the environment, and envSecret still answers; withoutSecrets keeps the rest", () => {
  const env: NodeJS.ProcessEnv = { PATH: "/usr/bin:/bin", HOME: "/home/x" };
  SECRET_ENV.forEach((k, i) => (env[k] = `secret-${i}`));
  expect(Object.keys(withoutSecrets(env)).sort()).toEqual(["HOME", "PATH"]);
  expect(Object.keys(env).length).toBe(2 + SECRET_ENV.length); // a copy: env untouched
  takeEnvSecrets(env);
  expect(env).toEqual({ PATH: "/usr/bin:/bin", HOME: "/home/x" });
  SECRET_ENV.forEach((k, i) => expect(envSecret(k)).toBe(`secret-${i}`));
});

/** The processes whose parent is this one, with their argv and initial environment (/proc). */
function children(): { pid: number; argv: string[]; env: string[] }[] {
  const out: { pid: number; argv: string[]; env: string[] }[] = [];
  for (const d of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${d}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid !== process.pid) continue;
      const argv = fs.readFileSync(`/proc/${d}/cmdline`, "utf8").split("\0").filter(Boolean);
      const env = fs.readFileSync(`/proc/${d}/environ`, "utf8").split("\0").filter(Boolean);
      out.push({ pid: Number(d), argv, env });
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

test("bulk issuance: the sh it starts for syncfs is /bin/sh, and its environment holds PATH alone, no secret", async () => {
  expect(process.platform).toBe("linux"); // syncfs mode is Linux's; /proc is read below
  const s = makeStore();
  const store = new Store(s.dir);
  const caCert = store.caCertificate();
  const signer = keySigner(store.caKey(s.env.MTLSCTL_PASSPHRASE, caCert));
  const file = path.join(s.cwd, "users.csv");
  fs.writeFileSync(file, ["name,email", ...Array.from({ length: 30 }, (_, i) => `u${i},u${i}@example.com`)].join("\n") + "\n");
  const saved = { ...process.env };
  SECRET_ENV.forEach((k, i) => (process.env[k] = `leak-me-${i}`));
  process.env.J21_MARK = "not-a-secret";
  const seen: { pid: number; argv: string[]; env: string[] }[] = [];
  try {
    // after each batch's commit (its syncfs answered, so the sh has exec'd), look at the children
    const sum = await bulkIssue(store, signer, caCert, csvRows(file), {
      file,
      defaults: { keyType: "ec-p256" },
      batchSize: 5,
      flush: "syncfs",
      onProgress: () => {
        for (const c of children()) if (c.argv[1] === "-c" && c.argv[2]?.includes("sync -f") && !seen.some((x) => x.pid === c.pid)) seen.push(c);
      },
    });
    expect(sum).toMatchObject({ issued: 30, failed: 0 });
  } finally {
    for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
    Object.assign(process.env, saved);
  }
  // one sh for the whole run, started by absolute path
  expect(seen.length).toBe(1);
  expect(seen[0].argv[0]).toBe("/bin/sh");
  expect(seen[0].env.map((e) => e.split("=")[0])).toEqual(["PATH"]);
  expect(seen[0].env.join("\n")).not.toMatch(/leak-me|not-a-secret/);
});
