/**
 * A real PostgreSQL for the database-store tests: scripts/postgres.sh (idempotent) starts it and makes
 * the role; each test store gets a database of its own (CREATE DATABASE, dropped by dropAll()).
 * The password is in a PGPASSFILE, never in a URL.
 */
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";

let base: string | null = null;
export function pgBase(): string {
  if (base) return base;
  const out = execFileSync("bash", [path.resolve(__dirname, "../../scripts/postgres.sh")], { encoding: "utf8" }).trim().split("\n").pop()!;
  const [url, passfile] = out.split(" ");
  process.env.PGPASSFILE = passfile;
  base = url;
  return url;
}

const made: string[] = [];
/** A new empty database; its URL (no password in it). */
export function freshDbUrl(): string {
  const url = new URL(pgBase());
  const name = `mtlsctl_t_${randomBytes(5).toString("hex")}`;
  execFileSync("psql", [url.toString(), "-qAtc", `CREATE DATABASE ${name}`], { env: process.env });
  made.push(name);
  url.pathname = "/" + name;
  return url.toString();
}

export function dropAll(): void {
  const url = pgBase();
  for (const n of made.splice(0)) execFileSync("psql", [url, "-qAtc", `DROP DATABASE IF EXISTS ${n} WITH (FORCE)`], { env: process.env });
}

/**
 * A PostgreSQL cluster of the test's own (initdb in a temporary directory, its own port, trust on
 * 127.0.0.1), for the fault tests that stop and restart the server: the shared cluster stays up for
 * the other test files. Run as the postgres user when the tests run as root.
 */
export function throwawayCluster(port: number, o: { ssl?: { certFile: string; keyFile: string } } = {}): { url: string; start(): void; stop(): void; destroy(): void } {
  const ver = fs.readdirSync("/usr/lib/postgresql").sort().pop()!;
  const bin = `/usr/lib/postgresql/${ver}/bin`;
  const dir = fs.mkdtempSync(path.join("/var/tmp", "mtlsctl-pgfault-"));
  const root = process.getuid?.() === 0;
  if (root) execFileSync("chown", ["postgres:postgres", dir]);
  const as = (cmd: string, args: string[]) => (root ? execFileSync("runuser", ["-u", "postgres", "--", cmd, ...args], { stdio: "pipe" }) : execFileSync(cmd, args, { stdio: "pipe" }));
  as(`${bin}/initdb`, ["-D", dir, "-U", "mtlsctl", "-A", "trust"]);
  let sslOpts = "";
  if (o.ssl) {
    // TLS only over TCP (hostssl): a plain connection is refused by the server itself
    for (const [from, to] of [[o.ssl.certFile, "server.crt"], [o.ssl.keyFile, "server.key"]]) {
      fs.copyFileSync(from, path.join(dir, to));
      fs.chmodSync(path.join(dir, to), 0o600);
      if (root) execFileSync("chown", ["postgres:postgres", path.join(dir, to)]);
    }
    fs.writeFileSync(path.join(dir, "pg_hba.conf"), "local all all trust\nhostssl all all 127.0.0.1/32 trust\n");
    if (root) execFileSync("chown", ["postgres:postgres", path.join(dir, "pg_hba.conf")]);
    sslOpts = " -c ssl=on -c ssl_cert_file=server.crt -c ssl_key_file=server.key";
  }
  const start = () => {
    as(`${bin}/pg_ctl`, ["-D", dir, "-l", path.join(dir, "log"), "-o", `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1${sslOpts}`, "-w", "start"]);
  };
  const stop = () => {
    as(`${bin}/pg_ctl`, ["-D", dir, "-m", "fast", "-w", "stop"]);
  };
  start();
  execFileSync("psql", [`postgres://mtlsctl@127.0.0.1:${port}/postgres${o.ssl ? "?sslmode=require" : ""}`, "-qAtc", "CREATE DATABASE pki"]);
  return {
    url: `postgres://mtlsctl@127.0.0.1:${port}/pki`,
    start,
    stop,
    destroy() {
      try {
        stop();
      } catch {
        /* stopped already */
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
