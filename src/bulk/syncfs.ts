import { ChildProcess, spawn } from "node:child_process";

/**
 * syncfs(2) on demand: Node has no binding for it, so a small shell runs `sync -f DIR...` (GNU
 * coreutils, busybox) each time it reads a line, and answers "ok" or "fail". One process for the
 * whole run: forking this (large) process once per batch would cost more.
 */
export class Syncfs {
  private readonly waiters: ((ok: boolean) => void)[] = [];
  private dead = false;
  private out = "";

  private constructor(private readonly child: ChildProcess | null) {
    if (!child) {
      this.dead = true;
      return;
    }
    const die = () => {
      this.dead = true;
      for (const w of this.waiters.splice(0)) w(false);
    };
    child.on("error", die);
    child.on("exit", die);
    child.stdin!.on("error", die);
    child.stdout!.setEncoding("latin1");
    child.stdout!.on("data", (d: string) => {
      this.out += d;
      let nl: number;
      while ((nl = this.out.indexOf("\n")) >= 0) {
        const line = this.out.slice(0, nl);
        this.out = this.out.slice(nl + 1);
        this.waiters.shift()?.(line === "ok");
      }
    });
  }

  static start(dirs: string[]): Syncfs {
    try {
      const script = 'while read -r _; do if sync -f "$@"; then echo ok; else echo fail; fi; done';
      // by absolute path, with a minimal environment: no secret of this process reaches the child
      // (MTLSCTL_TEST_SYNC_DIR: a test's failing `sync`, found first, to exercise the per-file fallback)
      const testDir = process.env.MTLSCTL_TEST_SYNC_DIR;
      const PATH = `${testDir ? testDir + ":" : ""}/usr/bin:/bin:/usr/sbin:/sbin`;
      return new Syncfs(spawn("/bin/sh", ["-c", script, "sh", ...dirs], { stdio: ["pipe", "pipe", "ignore"], env: { PATH } }));
    } catch {
      return new Syncfs(null);
    }
  }

  /** Flushes the file systems of the directories; false when that is not available. */
  sync(): Promise<boolean> {
    if (this.dead || !this.child) return Promise.resolve(false);
    return new Promise((resolve) => {
      this.waiters.push(resolve);
      this.child!.stdin!.write("\n");
    });
  }

  close(): void {
    this.child?.stdin?.end();
  }
}
