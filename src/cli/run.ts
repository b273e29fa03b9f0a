/** Runs the CLI: maps errors to one line on stderr and the contract's exit codes. */
import { buildProgram, CommanderError } from "./main";
import { MtlsError, ExitCode } from "../errors";
import { writeErr, writeOut } from "./out";
import { takeEnvSecrets } from "./context";

export async function runCli(argv: string[]): Promise<number> {
  takeEnvSecrets(); // no child process inherits MTLSCTL_PASSPHRASE & co.
  const program = buildProgram(argv); // only the invoked command is built (main.ts: onlyInvoked)
  const json = argv.includes("--json");
  try {
    await program.parseAsync(argv);
    return process.exitCode === undefined ? ExitCode.OK : Number(process.exitCode);
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === "commander.helpDisplayed" || e.code === "commander.version" || e.code === "commander.help") return e.exitCode === 0 ? 0 : ExitCode.USAGE;
      return ExitCode.USAGE; // commander has printed the one-line error
    }
    if (e instanceof MtlsError) {
      const line = e.file ? `${e.file}: ${e.message}` : e.message;
      // one line, whatever a file name or an echoed value holds: control characters show as "?"
      writeErr(`mtlsctl: ${line.replace(/[\u0000-\u001f\u007f]/g, "?")}\n`);
      if (json) writeOut(JSON.stringify({ error: e.message, file: e.file ?? null }) + "\n");
      return e.exitCode;
    }
    const err = e as Error;
    if (err && err.name === "ExitPromptError") {
      writeErr("mtlsctl: cancelled\n");
      return ExitCode.USAGE;
    }
    writeErr(`mtlsctl: internal error: ${err?.stack ?? String(e)}\n`);
    if (json) writeOut(JSON.stringify({ error: `internal error: ${err?.message ?? String(e)}`, file: null }) + "\n");
    return 4;
  }
}
