/**
 * Asking for missing values on a terminal. @inquirer/prompts is loaded only when a prompt is shown
 * (never by `--help` or by a command whose values are all given); prompts draw on stderr so that
 * stdout stays the command's output. Without a terminal, or with --yes, nothing is asked: the
 * caller gets a usage error (exit 2) naming what to give instead.
 *
 * Only the questions themselves are here (nothing of the project but errors); the questions about
 * a certificate's identity, which check answers with the store's and pki's rules, are in
 * ./prompt-identity.ts.
 */
import { MtlsError, usageError } from "../errors";

/**
 * What a prompt needs of the command's context (src/cli/context.ts's Ctx has both). An interface of
 * its own, not an import of Ctx: context.ts asks for secrets through this module.
 */
export interface PromptCtx {
  readonly color: boolean;
  readonly interactive: boolean;
}

type Inquirer = typeof import("@inquirer/prompts");
let lib: Inquirer | undefined;
function inquirer(): Inquirer {
  return (lib ??= require("@inquirer/prompts") as Inquirer);
}

/** Where every prompt draws: stderr (stdout may be a file the user redirected). */
const io = () => ({ output: process.stderr });

const plain = (s: string) => s;
/** The default theme without colour (--no-color, NO_COLOR, or stdout not a terminal). */
const PLAIN_THEME = {
  prefix: { idle: "?", done: "\u2714" },
  spinner: { interval: 80, frames: ["-", "\\", "|", "/"] },
  style: {
    answer: plain,
    message: plain,
    error: (t: string) => `> ${t}`,
    defaultAnswer: (t: string) => `(${t})`,
    help: plain,
    highlight: plain,
    key: (t: string) => `<${t}>`,
    disabled: (t: string) => `- ${t}`,
    description: plain,
    keysHelpTip: (keys: [string, string][]) => keys.map(([k, a]) => `${k} ${a}`).join(" \u2022 "),
  },
};
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const theme = (ctx: PromptCtx): any => (ctx.color ? undefined : PLAIN_THEME);

/** The usage error for a value that cannot be asked for: one line, naming what to give. */
export function cannotAsk(missing: string): MtlsError {
  const why = process.stdin.isTTY && process.stderr.isTTY ? "--yes: not asking" : "no terminal to ask on";
  return usageError(`${missing} (${why})`);
}

/** Throws cannotAsk(missing) unless prompting is allowed (a terminal, and no --yes). */
export function mustAsk(ctx: PromptCtx, missing: string): void {
  if (!ctx.interactive) throw cannotAsk(missing);
}

/** A validator for inquirer from one of ours that throws: true, or the error's message. */
function validator(check?: (v: string) => unknown): (v: string) => true | string {
  return (v: string) => {
    if (!check) return true;
    try {
      check(v.trim());
      return true;
    } catch (e) {
      return (e as Error).message;
    }
  };
}

export async function askText(ctx: PromptCtx, o: { message: string; default?: string; check?: (v: string) => unknown }): Promise<string> {
  const v = await inquirer().input({ message: o.message, default: o.default, validate: validator(o.check), theme: theme(ctx) }, io());
  return v.trim();
}

/** Several values in one line, separated by spaces or commas; each one checked. */
export const splitList = (s: string): string[] => s.split(/[\s,]+/).filter((x) => x !== "");

export async function askList(ctx: PromptCtx, o: { message: string; default?: string; check: (v: string) => unknown; min?: number }): Promise<string[]> {
  const v = await inquirer().input(
    {
      message: o.message,
      default: o.default,
      validate: validator((line) => {
        const items = splitList(line);
        if (items.length < (o.min ?? 0)) throw new Error(o.min === 1 ? "give at least one" : `give at least ${o.min}`);
        items.forEach(o.check);
      }),
      theme: theme(ctx),
    },
    io(),
  );
  return splitList(v);
}

export interface SelectChoice<T> {
  name: string;
  value: T;
  description?: string;
}

export async function askSelect<T>(ctx: PromptCtx, message: string, choices: SelectChoice<T>[], dflt?: T): Promise<T> {
  return inquirer().select<T>({ message, choices, default: dflt, pageSize: 10, theme: theme(ctx) }, io());
}

export async function askConfirm(ctx: PromptCtx, message: string, dflt = true): Promise<boolean> {
  return inquirer().confirm({ message, default: dflt, theme: theme(ctx) }, io());
}

export async function askPassword(ctx: PromptCtx, message: string, nonEmpty = true): Promise<string> {
  return inquirer().password({ message, mask: "*", validate: nonEmpty ? (v: string) => (v.length > 0 ? true : "it cannot be empty") : undefined, theme: theme(ctx) }, io());
}

/** A name in the store, chosen from a list (revoke, ...). */
export async function askStoreName(ctx: PromptCtx, message: string, records: { name: string; kind: string; serial: string; notAfter: string; subject: string }[]): Promise<string> {
  return askSelect(
    ctx,
    message,
    records.map((r) => ({ name: `${r.name} (${r.kind})`, value: r.name, description: `${r.subject || "(empty subject)"}, serial ${r.serial.slice(0, 16)}, until ${r.notAfter.slice(0, 10)}` })),
  );
}
