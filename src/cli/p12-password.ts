/**
 * PKCS#12 passwords (design.md, Secrets): from `--password-file` (or `--p12-password-file` when
 * reading), else MTLSCTL_P12_PASSWORD, else a masked prompt on a terminal. The CLI settles the
 * password here and passes it to src/export/pkcs12.ts as a parameter: the library never reads a
 * terminal or the environment, and keeps no secret in module state.
 *
 * Writing refuses an empty password (macOS Keychain will not import such a file) unless
 * --allow-empty-password. Reading tries the empty password by itself before asking, so a file
 * made without one opens without a prompt.
 */
import * as fs from "node:fs";
import { Ctx, envSecret, getSecret, readSecretFile } from "./context";
import { inputError } from "../errors";
import { isPkcs12File } from "../export/p12-detect";
import { P12_ENV, passwordOpens } from "../export/pkcs12";

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
  const env = envSecret(P12_ENV);
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

/**
 * The password to open these PKCS#12 files with: the file's, else the environment's, else "" when
 * every file opens without one, else a prompt on a terminal. Undefined when there is no terminal to
 * ask on: the reader then opens only files made without a password, and otherwise fails naming the
 * file and the options.
 */
export async function passwordForReading(p12Files: string[], o: Record<string, unknown>): Promise<string | undefined> {
  const file = o.p12PasswordFile as string | undefined;
  if (file !== undefined) return readSecretFile(file, "PKCS#12 password");
  const env = envSecret(P12_ENV);
  if (env !== undefined && env !== "") return env;
  // a file made with an empty password opens without asking
  const opensEmpty = (f: string) => {
    try {
      return passwordOpens(fs.readFileSync(f), "");
    } catch {
      return false;
    }
  };
  if (p12Files.every(opensEmpty)) return "";
  const ctx = new Ctx(o);
  if (!ctx.interactive) return undefined;
  return getSecret(ctx, { what: `PKCS#12 password of ${p12Files.length === 1 ? p12Files[0] : p12Files.length + " files"}`, fileFlag: "--p12-password-file", env: P12_ENV });
}

interface HookCommand {
  processedArgs: unknown[];
  optsWithGlobals(): Record<string, unknown>;
  setOptionValue(key: string, value: unknown): unknown;
}

/**
 * commander preAction hook for `explain` and `verify`: when a certificate argument is a .p12/.pfx,
 * settles its password before the action (file, environment, or a masked prompt), so that the
 * synchronous readers never have to ask. The action finds it in its options as `p12Password`
 * (this command's own state, not a module's), and passes it to readPresentedChain.
 */
export async function p12PasswordHook(_program: unknown, cmd: HookCommand): Promise<void> {
  const files = cmd.processedArgs.flat().filter((a): a is string => typeof a === "string");
  const p12s = files.filter(isPkcs12File);
  if (p12s.length === 0) return;
  const password = await passwordForReading(p12s, cmd.optsWithGlobals());
  if (password !== undefined) cmd.setOptionValue("p12Password", password);
}
