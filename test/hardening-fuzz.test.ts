/**
 * Issue 8, item 5: the fuzz targets of scripts/fuzz.js (fast-check) in the normal test run, with
 * FUZZ_RUNS inputs each (default 2,000 here; `FUZZ_RUNS=100000 node scripts/fuzz.js` for the long
 * run). Each target runs in its own process with a time limit, so a hang fails the test instead
 * of stalling jest. Only clean errors are allowed (MtlsError, ConfigError, DnParseError).
 */
import { spawnSync } from "node:child_process";
import * as path from "node:path";

const RUNS = Number(process.env.FUZZ_RUNS || 2000);
const SCRIPT = path.resolve(__dirname, "..", "scripts", "fuzz.js");
jest.setTimeout(Math.max(120_000, RUNS * 10));

test("fast-check loads under jest (CommonJS)", () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const fc = require("fast-check") as typeof import("fast-check");
  expect(fc.sample(fc.integer({ min: 1, max: 3 }), 5).every((n) => n >= 1 && n <= 3)).toBe(true);
  const fuzz = require(SCRIPT) as { TARGETS: Record<string, unknown> };
  expect(Object.keys(fuzz.TARGETS).sort()).toEqual(["config", "csr", "der", "ldapdn", "pem", "quote", "rfc4514"]);
});

test.each(["pem", "der", "csr", "rfc4514", "ldapdn", "config", "quote"])(`%s: ${RUNS} generated inputs, only clean errors`, (target) => {
  const r = spawnSync(process.execPath, [SCRIPT, "--json", target], { encoding: "utf8", env: { ...process.env, FUZZ_RUNS: String(RUNS) }, timeout: Math.max(110_000, RUNS * 9) });
  if (r.error) throw r.error; // ETIMEDOUT: a hang
  const line = r.stdout.trim().split("\n").pop() ?? "";
  let result: { ok: boolean; runs: number; accepted: number; refused: number; error?: string; seed?: number };
  try {
    result = JSON.parse(line);
  } catch {
    throw new Error(`scripts/fuzz.js ${target} exited ${r.status} (${r.signal}):\n${r.stdout}\n${r.stderr}`);
  }
  if (!result.ok) throw new Error(`${target}: ${JSON.stringify(result, null, 2)}`);
  expect(r.status).toBe(0);
  expect(result.runs).toBe(RUNS);
  expect(result.accepted + result.refused).toBeGreaterThanOrEqual(RUNS);
});
