/**
 * mtlsctl as a library, as a user gets it: `npm pack`, the tarball installed into an empty project,
 * then a CommonJS script (the README's example, taken from the README), an ES module script and
 * `tsc --noEmit --strict` (skipLibCheck off) on TypeScript that uses the API; the README's database
 * store example runs on a fresh database of the real PostgreSQL (test/helpers/pg.ts).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { execFileSync } from "node:child_process";
import { ROOT, run, tmpDir, tool } from "./helpers/cli";
import { dropAll, freshDbUrl, pgBase } from "./helpers/pg";

const npm = () => tool("npm");
let consumer: string;
let tarball: string;

/** A README library example: the js block after the `<!-- example: library -->` (or `library-pg`) marker. */
function readmeExample(which: "library" | "library-pg" = "library"): string {
  const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
  const m = new RegExp(`<!-- example: ${which}(?![\\w-])[^>]*-->\\s*\`\`\`js\\n([\\s\\S]*?)\`\`\``).exec(readme);
  if (!m) throw new Error(`README.md has no ${which} example block`);
  return m[1];
}

const version = (pkg: string) => JSON.parse(fs.readFileSync(path.join(ROOT, "node_modules", pkg, "package.json"), "utf8")).version as string;

beforeAll(() => {
  const packDir = tmpDir("mtlsctl-pack-");
  const packed = run(npm(), ["pack", "--pack-destination", packDir, "--json"], { cwd: ROOT });
  expect(packed.code).toBe(0);
  tarball = path.join(packDir, JSON.parse(packed.stdout)[0].filename);
  consumer = tmpDir("mtlsctl-consumer-");
  fs.writeFileSync(path.join(consumer, "package.json"), JSON.stringify({ name: "consumer", version: "1.0.0", private: true }));
  // the same TypeScript and @types/node as this repository (from npm's cache when it has them)
  const inst = run(npm(), ["install", "--no-audit", "--no-fund", "--prefer-offline", tarball, `typescript@${version("typescript")}`, `@types/node@${version("@types/node")}`], { cwd: consumer });
  if (inst.code !== 0) throw new Error(`npm install failed:\n${inst.stdout}\n${inst.stderr}`);
}, 300_000);
afterAll(() => dropAll());

test("the tarball ships the library entry point and its typings, and no source map without its sources", () => {
  const files = run(tool("tar"), ["tzf", tarball]).stdout.split("\n").filter(Boolean);
  expect(files).toContain("package/dist/index.js");
  expect(files).toContain("package/dist/index.d.ts");
  const maps = files.filter((f) => f.endsWith(".map"));
  for (const m of maps) {
    const map = JSON.parse(fs.readFileSync(path.join(consumer, "node_modules", "mtlsctl", m.slice("package/".length)), "utf8"));
    expect(map.sourcesContent?.length).toBe(map.sources.length); // the sources travel inside the map
  }
  const pkg = JSON.parse(fs.readFileSync(path.join(consumer, "node_modules", "mtlsctl", "package.json"), "utf8"));
  expect(pkg.exports["."]).toEqual({ types: "./dist/index.d.ts", default: "./dist/index.js" });
});

test("the README's example runs as written (CommonJS) in the consumer project", () => {
  const work = tmpDir("mtlsctl-example-");
  fs.writeFileSync(path.join(work, "example.js"), readmeExample());
  const r = run(process.execPath, ["example.js"], { cwd: work, env: { ...process.env, NODE_PATH: path.join(consumer, "node_modules") } });
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
  const lines = r.stdout.trim().split("\n");
  expect(lines[0]).toBe("alice@example.com");
  expect(lines[1]).toBe("true alice@example.com email");
  expect(lines[2]).toContain("'alice@example.com'");
  expect(lines[3]).toMatch(/^refused: "alice" already exists \(serial [0-9a-f]+; use --force to replace it\)$/);
  expect(fs.statSync(path.join(work, "pki", "private", "ca.key")).mode & 0o777).toBe(0o600);
});

test("the README's database store example runs as written on a fresh database: keys in outDir, none in the database", () => {
  pgBase();
  const url = freshDbUrl();
  const text = readmeExample("library-pg");
  expect(text).toContain("postgres://mtlsctl@127.0.0.1:5432/pki");
  const work = tmpDir("mtlsctl-example-pg-");
  fs.writeFileSync(path.join(work, "example.js"), text.split("postgres://mtlsctl@127.0.0.1:5432/pki").join(url));
  const r = run(process.execPath, ["example.js"], { cwd: work, env: { ...process.env, NODE_PATH: path.join(consumer, "node_modules") } });
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
  expect(r.stdout.trim().split("\n")).toEqual(["bob@example.com keys/bob.key", "ca:valid nats1:valid bob:valid", "true", "1", "refused: exists"]);
  expect(fs.readdirSync(path.join(work, "keys")).sort()).toEqual(["bob.crt", "bob.key", "nats1.crt", "nats1.key"]);
  expect(fs.statSync(path.join(work, "keys", "bob.key")).mode & 0o777).toBe(0o600);
  const psql = (sql: string) => execFileSync("psql", [url, "-qAtc", sql], { encoding: "utf8", env: process.env }).trim();
  expect(psql("SELECT count(*) FROM certificates WHERE status = 'revoked'")).toBe("1");
  expect(psql("SELECT count(*) FROM certificates WHERE cert_pem LIKE '%PRIVATE KEY%' OR record::text LIKE '%PRIVATE KEY%'")).toBe("0");
}, 60_000);

test("an ES module sees named exports", () => {
  const file = path.join(consumer, "esm.mjs");
  fs.writeFileSync(
    file,
    `import { verify, explain, lint, openStore, createVerifier, MtlsctlError } from "mtlsctl";
import * as all from "mtlsctl";
const store = openStore(process.argv[2]);
await store.initCa({ name: "ESM CA", passphrase: null });
await store.issueServer("srv", { dns: ["localhost"] });
const bob = await store.issueClient("bob", { subject: "CN=bob,O=Acme" });
const config = await store.natsConfig();
const v = verify({ config, certificate: bob.certFile, serverVersion: "2.9.10" });
const many = createVerifier({ config, serverVersion: "2.9.10" });
let code = null;
try { verify({ config: "tls { verify_and_map: maybe }", certificate: bob.certFile }); } catch (e) { code = e instanceof MtlsctlError ? e.code : "other"; }
console.log(JSON.stringify({ user: v.user, again: many.verify(bob.certFile).user, ids: explain(bob.certFile).identities.length, lint: typeof lint, code, names: Object.keys(all).sort() }));
`,
  );
  const r = run(process.execPath, [file, path.join(tmpDir(), "pki")], { cwd: consumer });
  expect(r.stderr).toBe("");
  const out = JSON.parse(r.stdout);
  expect(out.user).toBe("CN=bob,O=Acme");
  expect(out.again).toBe("CN=bob,O=Acme");
  expect(out.ids).toBeGreaterThan(0);
  expect(out.code).toBe("config");
  expect(out.names).toEqual(expect.arrayContaining(["verify", "explain", "lint", "openStore", "createVerifier", "MtlsctlError", "KEY_TYPES", "CaStore", "DbCaStore"]));
});

test("the typings compile under tsc --strict with skipLibCheck off, and catch a misuse", () => {
  const tsconfig = { compilerOptions: { strict: true, skipLibCheck: false, noEmit: true, module: "nodenext", moduleResolution: "nodenext", target: "es2022", types: ["node"] } };
  fs.writeFileSync(path.join(consumer, "tsconfig.json"), JSON.stringify(tsconfig));
  fs.writeFileSync(
    path.join(consumer, "use.ts"),
    `import { verify, explain, lint, openStore, MtlsctlError, type VerifyResult, type ErrorCode, type LintReport, type DbCaStore, type PostgresUrl, type IssuedJson } from "mtlsctl";
export async function main(dir: string, conf: string): Promise<string> {
  const store = openStore(dir);
  const issued = await store.issueClient("carol", { email: ["carol@example.com"], passphrase: async () => "pw" });
  const r: VerifyResult = verify({ config: conf, certificate: Buffer.from(issued.certFile) });
  const accepted: boolean = r.accepted;
  const report: LintReport = lint(conf, { serverVersion: "2.9.10" });
  const ids: string[] = explain(issued.certFile).identities.map((i) => i.value);
  const list = await store.list({ expiringDays: 30 });
  try { await store.revoke("carol", { reason: "keyCompromise", passphrase: "pw" }); } catch (e) { if (e instanceof MtlsctlError) { const c: ErrorCode = e.code; return c; } }
  return \`\${accepted} \${report.summary.errors} \${ids.length} \${list.length} \${r.user ?? ""}\`;
}
export async function db(url: string): Promise<string> {
  const literal: DbCaStore = openStore("postgres://ca@db.example.com/pki");
  await literal.close();
  const store = openStore(url as PostgresUrl, { dbPassword: "db-pw", outDir: "keys" });
  await store.initCa({ name: "DB CA", passphrase: null });
  const issued: IssuedJson = await store.issueClient("dave", { email: ["dave@example.com"], outDir: "elsewhere", passphrase: () => "pw" });
  const key: string | null = issued.keyFile;
  const conf: string = await store.natsConfig({ caFile: "ca.pem", certFile: "n.crt", keyFile: "n.key" });
  const rows = await store.list({ expiringDays: 30 });
  const crl = await store.crl({ format: "der", passphrase: "pw" });
  try { await store.revoke({ serial: rows[0].serial ?? "" }, { passphrase: "pw" }); } catch (e) { if (e instanceof MtlsctlError && e.code === "unavailable") return e.message; }
  await store.close();
  return \`\${key} \${conf.length} \${rows.length} \${crl.number} \${store.location}\`;
}
`,
  );
  const tsc = path.join(consumer, "node_modules", ".bin", "tsc");
  const ok = run(tsc, ["-p", "."], { cwd: consumer });
  expect(ok.stdout + ok.stderr).toBe("");
  expect(ok.code).toBe(0);
  // a wrong use is a type error: the API is typed, not `any`
  fs.writeFileSync(path.join(consumer, "misuse.ts"), `import { verify } from "mtlsctl";\nconst n: number = verify({ config: "x.conf" }).accepted;\nexport default n;\n`);
  const bad = run(tsc, ["-p", "."], { cwd: consumer });
  expect(bad.code).not.toBe(0);
  expect(bad.stdout).toContain("misuse.ts(2,7): error TS2322: Type 'boolean' is not assignable to type 'number'.");
  fs.unlinkSync(path.join(consumer, "misuse.ts"));
  // a database store keeps no key: the file store's keyOut is not one of its options
  fs.writeFileSync(path.join(consumer, "misuse.ts"), `import { openStore } from "mtlsctl";\nexport const p = openStore("postgres://u@h/db").issueClient("a", { keyOut: "a.key" });\n`);
  const bad2 = run(tsc, ["-p", "."], { cwd: consumer });
  expect(bad2.code).not.toBe(0);
  expect(bad2.stdout).toMatch(/misuse\.ts\(2,\d+\): error TS2353: Object literal may only specify known properties, and 'keyOut' does not exist in type 'DbIssueOptions'/);
  fs.unlinkSync(path.join(consumer, "misuse.ts"));
});
