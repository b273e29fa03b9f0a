/** Exit codes of the shared contract (design.md). */
export const ExitCode = {
  OK: 0,
  NEGATIVE: 1,
  USAGE: 2,
  INPUT: 3,
} as const;

/**
 * Stable error codes for library users (`err.code`). The CLI maps them to exit codes: "usage" is 2,
 * every other code is 3 (input or state). New codes may be added; existing ones never change meaning.
 * - usage: a missing or contradictory option or argument
 * - input: a malformed or unreadable input (file, PEM, DER, CSR, value such as an email or a DN)
 * - config: a nats-server config that the server would refuse to load
 * - passphrase: a wrong CA (or PKCS#12) passphrase, or a corrupted encrypted key
 * - exists: the target already exists (`force` replaces it)
 * - no-store: the store (or its CA) does not exist
 * - locked: another process holds the store's lock for longer than the wait
 * - unsupported: a store URL or feature this version does not support
 */
export type ErrorCode = "usage" | "input" | "config" | "passphrase" | "exists" | "no-store" | "locked" | "unsupported" | "unavailable"; // unavailable: the database cannot be reached (exit 3; serve: 503)

/**
 * An error the user can act on: one line, optionally naming the file it concerns.
 * `code` is stable (ErrorCode); `exitCode` is what the CLI exits with (2 for "usage", else 3).
 */
export class MtlsctlError extends Error {
  readonly file?: string;
  readonly code: ErrorCode;
  readonly exitCode: number;
  constructor(message: string, opts: { file?: string; exitCode?: number; code?: ErrorCode } = {}) {
    super(message);
    this.name = "MtlsctlError";
    this.file = opts.file;
    this.code = opts.code ?? (opts.exitCode === ExitCode.USAGE ? "usage" : "input");
    this.exitCode = opts.exitCode ?? (this.code === "usage" ? ExitCode.USAGE : ExitCode.INPUT);
  }
}

/** The name the core used before it was a library; the same class. */
export const MtlsError = MtlsctlError;
export type MtlsError = MtlsctlError;

export const usageError = (message: string): MtlsctlError => new MtlsctlError(message, { exitCode: ExitCode.USAGE });
/**
 * The code of an input/state error, from the kind of refusal its message states. One table here
 * instead of a code at each of the ~300 call sites; test/library.test.ts pins each row.
 */
const CODE_OF_MESSAGE: [RegExp, ErrorCode][] = [
  [/already exists/, "exists"],
  [/^wrong passphrase|wrong password/, "passphrase"],
  [/^no store here|not a store|^the store directory does not exist/, "no-store"],
  [/^the store is locked/, "locked"],
];

export const inputError = (message: string, file?: string, code?: ErrorCode): MtlsctlError =>
  new MtlsctlError(message, { file, code: code ?? CODE_OF_MESSAGE.find(([re]) => re.test(message))?.[1] ?? "input" });
