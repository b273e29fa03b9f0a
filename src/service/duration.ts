/** Durations as the service contracts write them (design.md): `90s`, `15m`, `12h`, `30d`; a bare number is days. */
import { inputError } from "../errors";

const UNIT: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Milliseconds of a duration; `what` names the option in the error (e.g. "--ttl"). */
export function parseDuration(v: string, what: string): number {
  const m = /^\s*(\d+)\s*([smhd]?)\s*$/.exec(v);
  if (!m) throw inputError(`${what}: "${v}" is not a duration (90s, 15m, 12h, 30d; a bare number is days)`);
  const ms = Number(m[1]) * UNIT[m[2] || "d"];
  if (!Number.isSafeInteger(ms) || ms <= 0) throw inputError(`${what}: "${v}" must be more than zero and at most 100 years`);
  if (ms > 36_500 * UNIT.d) throw inputError(`${what}: "${v}" is longer than 100 years`);
  return ms;
}

/** A duration back as text (the largest unit that divides it). */
export function formatDuration(ms: number): string {
  for (const u of ["d", "h", "m"] as const) if (ms % UNIT[u] === 0) return `${ms / UNIT[u]}${u}`;
  return `${Math.round(ms / 1000)}s`;
}
