/**
 * Issue 16 §4, for the models of nats-server and the verifier: src/nats never imports src/verify
 * (or the CLI, or lint), and src/nats, src/verify, src/lint and src/nkeys load the project's own
 * modules with static imports only (a lazy require() hides the edge from every tool; lazy loading
 * of third-party packages and node: modules stays). Read from the sources, import by import.
 */
import * as fs from "node:fs";
import * as path from "node:path";

const SRC = path.join(__dirname, "..", "src");

function files(dir: string): string[] {
  return fs.readdirSync(path.join(SRC, dir), { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(path.join(dir, e.name)) : e.name.endsWith(".ts") ? [path.join(dir, e.name)] : []));
}

/** Every module a file names: import/export ... from "x", import("x"), require("x"). */
function specifiers(file: string): { spec: string; how: "import" | "require" }[] {
  const text = fs.readFileSync(path.join(SRC, file), "utf8");
  const out: { spec: string; how: "import" | "require" }[] = [];
  for (const m of text.matchAll(/\b(?:from|import)\s*\(?\s*"([^"]+)"/g)) out.push({ spec: m[1], how: "import" });
  for (const m of text.matchAll(/\brequire\(\s*"([^"]+)"\s*\)/g)) out.push({ spec: m[1], how: "require" });
  return out;
}

const target = (file: string, spec: string) => path.relative(SRC, path.resolve(SRC, path.dirname(file), spec));

test("src/nats imports nothing from src/verify, src/lint or src/cli", () => {
  const bad = files("nats").flatMap((f) => specifiers(f).filter((s) => s.spec.startsWith(".") && /^(verify|lint|cli)\//.test(target(f, s.spec))).map((s) => `${f} -> ${s.spec}`));
  expect(bad).toEqual([]);
});

test("no lazy require() of the project's own modules in src/nats, src/verify, src/lint, src/nkeys", () => {
  // verify/input.ts loads export/pkcs12 (and with it pkijs) only for a PKCS#12 input; export/ is
  // outside this change, and a static import would load pkijs for every verify and explain
  const allowed = new Set(["verify/input.ts -> ../export/pkcs12"]);
  const bad = ["nats", "verify", "lint", "nkeys"].flatMap((d) =>
    files(d).flatMap((f) =>
      specifiers(f)
        .filter((s) => s.how === "require" && s.spec.startsWith("."))
        .map((s) => `${f} -> ${s.spec}`)
        .filter((x) => !allowed.has(x)),
    ),
  );
  expect(bad).toEqual([]);
});

test("no source file over 600 lines (issue 16; the config lexer's single state machine excepted)", () => {
  const long = files("")
    .filter((f) => f !== path.join("nats", "conf", "lexer.ts"))
    .map((f) => [f, fs.readFileSync(path.join(SRC, f), "utf8").split("\n").length] as const)
    .filter(([, n]) => n > 600);
  expect(long).toEqual([]);
});
