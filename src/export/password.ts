/**
 * PKCS#12 passwords (design.md, Secrets): from `--password-file` (or `--p12-password-file` when
 * reading), else MTLSCTL_P12_PASSWORD, else a masked prompt on a terminal.
 *
 * Writing refuses an empty password (macOS Keychain will not import such a file) unless
 * --allow-empty-password. Reading tries the empty password by itself before asking, so a file
 * made without one opens without a prompt.
 */
import * as fs from "node:fs";
import { Ctx, getSecret, readSecretFile } from "../cli/context";
import { inputError, MtlsError, ExitCode } from "../errors";

export const P12_ENV = "MTLSCTL_P12_PASSWORD";

const EMPTY_REFUSED = "an empty PKCS#12 password is refused (macOS Keychain will not import such a file); pass --allow-empty-password to write one anyway";

/** The first line of a secret file, which may be empty (only with --allow-empty-password). */
function readPossiblyEmpty(file: string): string {
  if (file !== "-") {
    try {
      if (fs.statSync(file).isDirectory()) throw inputError("is a directory, not a file", file);
    } catch (e) {
      if ((e as { exitCode?: number }).exitCode) throw e;
      throw inputError("cannot read the PKCS#12 password", file);
    }
  }
  let text: string;
  try {
    text = fs.readFileSync(file === "-" ? 0 : file, "utf8");
  } catch {
    throw inputError("cannot read the PKCS#12 password", file === "-" ? "<stdin>" : file);
  }
  return text.split(/\r?\n/, 1)[0];
}

/** The password of a PKCS#12 file about to be written (asked twice at a prompt). */
export async function exportPassword(ctx: Ctx, o: { passwordFile?: string; allowEmptyPassword?: boolean }): Promise<string> {
  const allowEmpty = !!o.allowEmptyPassword;
  if (o.passwordFile !== undefined) {
    const pw = readPossiblyEmpty(o.passwordFile);
    if (pw === "" && !allowEmpty) throw inputError(EMPTY_REFUSED, o.passwordFile === "-" ? "<stdin>" : o.passwordFile);
    return pw;
  }
  const env = process.env[P12_ENV];
  if (env !== undefined) {
    if (env !== "") return env;
    if (allowEmpty) return "";
    throw inputError(`${P12_ENV} is set but empty: ${EMPTY_REFUSED}`);
  }
  if (allowEmpty && ctx.interactive) {
    const { password } = require("@inquirer/prompts") as typeof import("@inquirer/prompts");
    const io = { output: process.stderr };
    for (;;) {
      const first = await password({ message: "PKCS#12 password (may be empty):", mask: "*" }, io);
      const again = await password({ message: "PKCS#12 password (again):", mask: "*" }, io);
      if (again === first) return first;
      process.stderr.write("mtlsctl: they differ, try again\n");
    }
  }
  return getSecret(ctx, { what: "PKCS#12 password", fileFlag: "--password-file", env: P12_ENV, confirm: true });
}

// ---------------------------------------------------------------- reading (explain, verify)

let settled: string | undefined;

/** Run by the preAction hook of explain/verify: settle the password of the PKCS#12 arguments. */
export async function preparePasswordForReading(p12Files: string[], o: Record<string, unknown>): Promise<void> {
  const file = o.p12PasswordFile as string | undefined;
  if (file !== undefined) {
    settled = readSecretFile(file, "PKCS#12 password");
    return;
  }
  const env = process.env[P12_ENV];
  if (env !== undefined && env !== "") {
    settled = env;
    return;
  }
  // a file made with an empty password opens without asking
  const { passwordOpens } = require("./pkcs12") as typeof import("./pkcs12");
  const opensEmpty = (f: string) => {
    try {
      return passwordOpens(fs.readFileSync(f), "");
    } catch {
      return false;
    }
  };
  if (p12Files.every(opensEmpty)) {
    settled = "";
    return;
  }
  const ctx = new Ctx(o);
  if (!ctx.interactive) return; // the reader fails, naming the file and the options
  settled = await getSecret(ctx, { what: `PKCS#12 password of ${p12Files.length === 1 ? p12Files[0] : p12Files.length + " files"}`, fileFlag: "--p12-password-file", env: P12_ENV });
}

/** The password to open `file` with, for the synchronous readers. */
export function passwordForReading(data: Buffer, file: string): string {
  if (settled !== undefined) return settled;
  const env = process.env[P12_ENV];
  if (env !== undefined && env !== "") return env;
  const { passwordOpens } = require("./pkcs12") as typeof import("./pkcs12");
  if (passwordOpens(data, "")) return "";
  throw new MtlsError(`the PKCS#12 password is needed: give --p12-password-file F or set ${P12_ENV} (no terminal to ask on)`, { file, exitCode: ExitCode.USAGE });
}
