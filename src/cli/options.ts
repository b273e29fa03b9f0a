/** Option parsers for the command tree. Kept free of heavy imports: `--help` loads only this. */
import { usageError } from "../errors";

/** Collects a repeatable option. */
export const collect = (v: string, prev: string[] = []): string[] => [...prev, v];

/** Parses a whole-number option value. */
export function intOption(flag: string): (v: string) => number {
  return (v: string) => {
    if (!/^\d+$/.test(v)) throw usageError(`${flag} takes a whole number (got "${v}")`);
    return Number(v);
  };
}
