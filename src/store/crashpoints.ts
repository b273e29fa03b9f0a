/**
 * TEST HOOK — deterministic crash points for the crash-safety tests (test/hardening-crash.test.ts).
 *
 *   MTLSCTL_TEST_KILL_AT=N      the process SIGKILLs itself at the N-th crash point it reaches
 *                               (1, 2, ...); unset, empty or 0: never (the normal case)
 *   MTLSCTL_TEST_KILL_TRACE=1   print "mtlsctl: test hook: crash point N: LABEL" on stderr at each
 *                               point (to list them; harmless otherwise)
 *
 * The environment is read once, at the first crash point. Crash points sit where a crash changes
 * what is on disk: around every rename in writeFileAtomic (src/store/atomic.ts), around each
 * inventory write (src/store/store.ts), right after the store lock is taken (src/store/lock.ts), and
 * around the staging-directory renames of `ca init` / `ca import` (createStore in src/ca.ts).
 * The test runs a command with N = 1, 2, ... until it completes without being killed, and checks
 * after each kill that the store holds the old state or the new one and that every command works.
 * Not for production use: nothing else reads these variables.
 */
import * as fs from "node:fs";

let target: number | null | undefined;
let reached = 0;
let trace = false;

export function crashPoint(label: string): void {
  if (target === undefined) {
    const v = process.env.MTLSCTL_TEST_KILL_AT ?? "";
    target = /^[1-9][0-9]*$/.test(v) ? Number(v) : null;
    trace = !!process.env.MTLSCTL_TEST_KILL_TRACE;
  }
  if (target === null && !trace) return;
  reached++;
  if (trace) {
    try {
      fs.writeSync(2, `mtlsctl: test hook: crash point ${reached}: ${label}\n`);
    } catch {
      /* stderr closed */
    }
  }
  if (reached === target) {
    process.kill(process.pid, "SIGKILL");
    // SIGKILL to oneself is delivered before kill() returns; never go on if it somehow is not
    for (;;) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1000);
  }
}
