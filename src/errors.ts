/** Exit codes of the shared contract (design.md). */
export const ExitCode = {
  OK: 0,
  NEGATIVE: 1,
  USAGE: 2,
  INPUT: 3,
} as const;

/**
 * An error the user can act on: one line, optionally naming the file it concerns.
 * `exitCode` is 3 (input or state) unless it is a usage error (2).
 */
export class MtlsError extends Error {
  readonly file?: string;
  readonly exitCode: number;
  constructor(message: string, opts: { file?: string; exitCode?: number } = {}) {
    super(message);
    this.name = "MtlsError";
    this.file = opts.file;
    this.exitCode = opts.exitCode ?? ExitCode.INPUT;
  }
}

export const usageError = (message: string): MtlsError => new MtlsError(message, { exitCode: ExitCode.USAGE });
export const inputError = (message: string, file?: string): MtlsError => new MtlsError(message, { file });
