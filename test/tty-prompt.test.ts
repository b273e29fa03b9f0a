/**
 * On a terminal, a missing CA passphrase is asked for with a masked prompt (twice for a new CA);
 * without one it is a usage error. The terminal is a real pseudo-terminal from util-linux `script`.
 */
import { spawn } from "node:child_process";
import * as path from "node:path";
import * as fs from "node:fs";
import { BIN, mtls, openssl, tmpDir, tool } from "./helpers/cli";

function onPty(cmd: string, inputs: string[], env: Record<string, string> = {}): Promise<{ code: number; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(tool("script"), ["-qec", cmd, "/dev/null"], { env: { ...process.env, ...env, MTLSCTL_PASSPHRASE: "" }, stdio: ["pipe", "pipe", "pipe"] });
    let out = "";
    const pending = [...inputs];
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString("utf8");
      // answer each prompt once it has been drawn
      const asked = (out.match(/passphrase[^:\n]*:/g) ?? []).length;
      while (pending.length && asked > inputs.length - pending.length) child.stdin.write(pending.shift() + "\r");
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, out });
    });
  });
}

test("ca init asks twice for the passphrase on a terminal, masked, and encrypts the key with it", async () => {
  const dir = path.join(tmpDir(), "pki");
  const r = await onPty(`${process.execPath} ${BIN} --dir ${dir} ca init --name PtyCA`, ["s3cret-pass", "s3cret-pass"]);
  expect(r.code).toBe(0);
  expect(r.out).toContain("new CA passphrase");
  expect(r.out).toContain("***********"); // 11 mask characters
  expect(r.out).not.toContain("s3cret-pass");
  const key = path.join(dir, "private", "ca.key");
  expect(fs.readFileSync(key, "utf8")).toContain("BEGIN ENCRYPTED PRIVATE KEY");
  expect(openssl(["pkey", "-in", key, "-passin", "pass:s3cret-pass", "-noout"]).code).toBe(0);
  expect(openssl(["pkey", "-in", key, "-passin", "pass:wrong", "-noout"]).code).not.toBe(0);
});

test("client issue asks for the CA passphrase on a terminal", async () => {
  const cwd = tmpDir();
  const dir = path.join(cwd, "pki");
  expect(mtls(["--dir", dir, "ca", "init", "--name", "T"], { env: { MTLSCTL_PASSPHRASE: "pw-for-ca" } }).code).toBe(0);
  const r = await onPty(`${process.execPath} ${BIN} --dir ${dir} client issue alice --email alice@example.com`, ["pw-for-ca"]);
  expect(r.code).toBe(0);
  expect(r.out).toContain("CA passphrase");
  expect(fs.existsSync(path.join(dir, "issued", "alice.crt"))).toBe(true);
});

test("without a terminal a missing passphrase is a usage error naming the options", () => {
  const dir = path.join(tmpDir(), "pki");
  const r = mtls(["--dir", dir, "ca", "init"], { env: { MTLSCTL_PASSPHRASE: undefined } });
  expect(r.code).toBe(2);
  expect(r.stderr.trim().split("\n")).toHaveLength(1);
  expect(r.stderr).toMatch(/--passphrase-file/);
  expect(r.stderr).toMatch(/MTLSCTL_PASSPHRASE/);
  expect(fs.existsSync(dir)).toBe(false);
});

test("--yes never prompts, even on a terminal", async () => {
  const dir = path.join(tmpDir(), "pki");
  const r = await onPty(`${process.execPath} ${BIN} --yes --dir ${dir} ca init`, []);
  expect(r.code).toBe(2);
  expect(r.out).toMatch(/MTLSCTL_PASSPHRASE/);
  expect(fs.existsSync(dir)).toBe(false);
});
