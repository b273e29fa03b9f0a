/**
 * The source's structure (issue 16 §4; README, "Layout"): no import cycles, layers in one direction,
 * nothing outside src/cli/ importing from it, and no lazy require() of the project's own modules
 * outside the CLI's command loader. Every import counts: `import type`, `export ... from`,
 * `require("...")` and `typeof import("...")` alike, because each is an edge a reader (and madge)
 * has to follow.
 *
 * The cycle check is madge's (`madge --circular --extensions ts --ts-config tsconfig.json src`, a
 * devDependency), the check CI runs; the layer and require checks read the imports with the
 * TypeScript parser, below.
 *
 * KNOWN, KNOWN_LAYER_EDGES and KNOWN_LAZY list what is wrong today and is being fixed elsewhere: the
 * test fails on anything new, and also on a listed entry that is gone (remove it then), so the lists
 * only shrink.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as ts from "typescript";

const ROOT = path.resolve(__dirname, "..");
const SRC = path.join(ROOT, "src");

// ------------------------------------------------------------------------------------------------
// The layer table: the one place it is written (README's "Layout" paragraph says the same in words).
// A module belongs to the first entry whose `paths` prefix matches its path under src/; it may import
// modules of its own layer and of the layers in `may`, nothing else. The layers, lowest first:

const LAYERS: { layer: string; paths: string[]; may: string[] }[] = [
  { layer: "errors", paths: ["errors.ts"], may: [] },
  // plain data types that several layers name (no code): the stored form of NATS permissions
  { layer: "model", paths: ["model/"], may: [] },
  // Go-compatibility parsers (net/url, domain labels) as nats-server's Go runs them
  { layer: "gocompat", paths: ["gocompat/"], may: ["errors", "model"] },
  { layer: "asn1", paths: ["asn1/"], may: ["errors", "model", "gocompat"] },
  { layer: "pki", paths: ["pki/"], may: ["errors", "model", "gocompat", "asn1"] },
  { layer: "store", paths: ["store/"], may: ["errors", "model", "gocompat", "asn1", "pki"] },
  { layer: "nats", paths: ["nats/"], may: ["errors", "model", "gocompat", "asn1", "pki"] },
  { layer: "verify", paths: ["verify/"], may: ["errors", "model", "gocompat", "asn1", "pki", "nats"] },
  // the rest of the library: issuance (ca.ts, hierarchy.ts, bulk/), config/ (the `config nats` writer),
  // lifecycle/, export/, nkeys/, lint/, input.ts, and api/ (the public operations, src/index.ts)
  { layer: "core", paths: [""], may: ["errors", "model", "gocompat", "asn1", "pki", "store", "nats", "verify"] },
];
/** src/cli/ may import anything; nothing else may import it (no layer's `may` names it). */
const CLI = "cli/";

/**
 * The Go-compatibility parsers (Go's net/url, domain and DN handling, as nats-server runs them) sit at
 * the bottom whichever directory holds them: each may import only errors.ts, asn1/ and another parser.
 * Who may import one follows its directory: nats/gourl.ts and nats/ldapdn.ts are in nats/, above
 * pki/ (pki/constraints.ts' use of gourl is one of the violations the issue lists).
 */
const GO_PARSERS = ["gocompat/gourl.ts", "gocompat/domain.ts", "nats/ldapdn.ts", "pki/name.ts"];
const PARSER_MAY = (to: string) => to === "errors.ts" || to.startsWith("asn1/") || GO_PARSERS.includes(to);

/** Lazy require() of the project's own modules is kept only in the CLI's command loader. */
const LAZY_ALLOWED = ["cli/main.ts", "cli/main-online.ts"]; // the command loader (main-online.ts: its online-CA and store verbs)

// ------------------------------------------------------------------------------------------------
// What is wrong today, fixed on other branches (emptied as they merge). "from -> to", paths under src/.

/** Import cycles madge finds, each as madge prints it (any rotation matches). */
const KNOWN: string[][] = [];

/** Imports against the layers. */
const KNOWN_LAYER_EDGES: string[] = [
];

/** Lazy require()s of the project's own modules outside the loader: `file -> the module it requires`. */
const KNOWN_LAZY: string[] = [];

// ------------------------------------------------------------------------------------------------

function sourceFiles(dir = SRC): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? sourceFiles(path.join(dir, e.name)) : e.name.endsWith(".ts") && !e.name.endsWith(".d.ts") ? [path.join(dir, e.name)] : []));
}

const rel = (abs: string) => path.relative(SRC, abs).split(path.sep).join("/");

interface Ref {
  spec: string;
  /** a require() call (not import, export or a type) */
  lazy: boolean;
  line: number;
}

/** Every module a file refers to: import (also `import type`), export ... from, import x = require, require(), import(), typeof import(). */
function refsOf(file: string): Ref[] {
  const text = fs.readFileSync(file, "utf8");
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const out: Ref[] = [];
  const add = (lit: ts.Node | undefined, lazy: boolean) => {
    if (lit && ts.isStringLiteralLike(lit)) out.push({ spec: lit.text, lazy, line: sf.getLineAndCharacterOfPosition(lit.getStart()).line + 1 });
  };
  const visit = (n: ts.Node) => {
    if (ts.isImportDeclaration(n) || ts.isExportDeclaration(n)) add(n.moduleSpecifier, false);
    else if (ts.isImportEqualsDeclaration(n) && ts.isExternalModuleReference(n.moduleReference)) add(n.moduleReference.expression, false);
    else if (ts.isImportTypeNode(n) && ts.isLiteralTypeNode(n.argument)) add(n.argument.literal, false);
    else if (ts.isCallExpression(n) && n.arguments.length >= 1) {
      if (ts.isIdentifier(n.expression) && n.expression.text === "require") add(n.arguments[0], true);
      else if (n.expression.kind === ts.SyntaxKind.ImportKeyword) add(n.arguments[0], true);
    }
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return out;
}

/** The src/ file a relative specifier names (null for packages, node: builtins and files outside src/ such as package.json). */
function resolve(from: string, spec: string): string | null {
  if (!spec.startsWith(".")) return null;
  const base = path.resolve(path.dirname(from), spec);
  if (!base.startsWith(SRC + path.sep)) return null;
  for (const f of [base, base + ".ts", path.join(base, "index.ts")]) if (f.endsWith(".ts") && fs.existsSync(f) && fs.statSync(f).isFile()) return f;
  if (/\.json$/.test(base)) return null;
  throw new Error(`${rel(from)}: cannot resolve "${spec}"`);
}

interface Edge {
  from: string;
  to: string;
  lazy: boolean;
  line: number;
}

const edges: Edge[] = sourceFiles().flatMap((f) =>
  refsOf(f).flatMap((r) => {
    const to = resolve(f, r.spec);
    return to ? [{ from: rel(f), to: rel(to), lazy: r.lazy, line: r.line }] : [];
  }),
);

function layerOf(file: string): string {
  if (file.startsWith(CLI)) return "cli";
  const l = LAYERS.find((x) => x.paths.some((p) => (p.endsWith("/") || p === "" ? file.startsWith(p) : file === p)));
  return l!.layer; // "" matches every path
}

function allowed(e: Edge): boolean {
  if (GO_PARSERS.includes(e.from) && !PARSER_MAY(e.to)) return false;
  const [a, b] = [layerOf(e.from), layerOf(e.to)];
  if (a === "cli" || a === b) return true;
  return LAYERS.find((x) => x.layer === a)!.may.includes(b);
}

const unique = (xs: string[]) => [...new Set(xs)].sort();
const show = (e: Edge) => `${e.from} -> ${e.to}`;
const where = (list: Edge[], key: string) =>
  list
    .filter((e) => show(e) === key)
    .map((e) => `src/${e.from}:${e.line}`)
    .join(", ");

/** New entries (to fix) and stale ones (to remove from the allow-list), with a message naming both. */
function compare(what: string, found: string[], known: string[], locate: (k: string) => string): string {
  const added = found.filter((x) => !known.includes(x));
  const gone = known.filter((x) => !found.includes(x));
  return [
    ...added.map((x) => `${what}: ${x}${locate(x) ? ` (${locate(x)})` : ""}`),
    ...gone.map((x) => `${what} listed in test/layers.test.ts but gone (remove it from the list): ${x}`),
  ].join("\n");
}

test("the layer table names files that exist, and the import reader sees imports of every kind", () => {
  for (const f of GO_PARSERS) expect(fs.existsSync(path.join(SRC, f)) ? f : `${f} (missing: update GO_PARSERS)`).toBe(f);
  expect(edges.length).toBeGreaterThan(100);
  // one of each kind, as they stand in the source today
  const has = (from: string, to: string, lazy: boolean) => edges.some((e) => e.from === from && e.to === to && e.lazy === lazy);
  expect(has("cli/prompt-identity.ts", "cli/prompts.ts", false)).toBe(true); // import { ... }
  expect(has("store/types.ts", "model/permissions.ts", false)).toBe(true); // import type { ... }
  expect(has("cli/main.ts", "cli/explain.ts", true)).toBe(true); // require("./explain") in the loader
});

test("no import cycles (madge --circular; type-only imports and require() included)", async () => {
  let madge: (dir: string, config: object) => Promise<{ circular(): string[][] }>;
  try {
    madge = require("madge");
  } catch {
    throw new Error("madge is a devDependency (npm ci): it finds the import cycles this test refuses");
  }
  // mixedImports: require() calls count too (madge's CLI default skips them: a lazy require hides a cycle);
  // suppressDeprecatedPropertyWarnings: its TypeScript parser would warn, once per file, about madge's own use of TSImportType.argument
  const detective = { skipTypeImports: false, mixedImports: true, suppressDeprecatedPropertyWarnings: true };
  const res = await madge(SRC, { fileExtensions: ["ts"], tsConfig: path.join(ROOT, "tsconfig.json"), detectiveOptions: { ts: detective, tsx: detective } });
  // a cycle as one string, from its smallest member, so that any rotation of it compares equal
  const key = (c: string[]) => {
    const i = c.indexOf([...c].sort()[0]);
    return [...c.slice(i), ...c.slice(0, i)].join(" > ");
  };
  const found = unique(res.circular().map(key));
  expect(compare("import cycle", found, unique(KNOWN.map(key)), () => "")).toBe("");
});

test("nothing outside src/cli/ imports from src/cli/", () => {
  const bad = edges.filter((e) => !e.from.startsWith(CLI) && e.to.startsWith(CLI)).map((e) => `src/${e.from}:${e.line} -> ${e.to}`);
  expect(bad).toEqual([]);
});

test("imports follow the layers: parsers < pki < store, nats < verify < the rest < cli", () => {
  const bad = edges.filter((e) => !allowed(e));
  expect(compare("import against the layers", unique(bad.map(show)), unique(KNOWN_LAYER_EDGES), (k) => where(bad, k))).toBe("");
});

test("lazy require() of the project's own modules only in the CLI's command loader", () => {
  const lazy = edges.filter((e) => e.lazy && !LAZY_ALLOWED.includes(e.from));
  expect(compare("lazy require of a project module (import it statically)", unique(lazy.map(show)), unique(KNOWN_LAZY), (k) => where(lazy, k))).toBe("");
});

/**
 * Issue 16 §3: nothing outside src/store/ touches the inventory's files or builds the store's paths
 * by hand: no "inventory.json", no `.path("...")` of a literal, no string that starts with one of the
 * store's directories. The store's methods (certPath(name), crlFile, lockFile, ...) and LAYOUT
 * (src/store/store.ts) are the one place they are written. Comments are left out (the TypeScript
 * scanner reads string and template literals only).
 */
test("the store's files and paths only through src/store/", () => {
  const STORE_DIRS = /^(issued|private|reqs|renewed|previous|nkeys|db)\//;
  const bad: string[] = [];
  for (const file of sourceFiles()) {
    const r = rel(file);
    if (r.startsWith("store/")) continue;
    const text = fs.readFileSync(file, "utf8");
    const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
    const at = (n: ts.Node) => `src/${r}:${sf.getLineAndCharacterOfPosition(n.getStart()).line + 1}`;
    const visit = (n: ts.Node) => {
      if (ts.isStringLiteral(n) || ts.isNoSubstitutionTemplateLiteral(n) || ts.isTemplateHead(n)) {
        if (n.text === "inventory.json" || n.text.endsWith("/inventory.json")) bad.push(`${at(n)}: "inventory.json"`);
        if (STORE_DIRS.test(n.text)) bad.push(`${at(n)}: a store path by hand (${JSON.stringify(n.text)})`);
      }
      if (ts.isCallExpression(n) && ts.isPropertyAccessExpression(n.expression) && n.expression.name.text === "path" && n.arguments.length && (ts.isStringLiteral(n.arguments[0]) || ts.isTemplateExpression(n.arguments[0]) || ts.isNoSubstitutionTemplateLiteral(n.arguments[0])))
        bad.push(`${at(n)}: .path() of a literal`);
      ts.forEachChild(n, visit);
    };
    visit(sf);
  }
  expect(bad).toEqual([]);
});
