#!/usr/bin/env node
/**
 * The CLI's start-up build (issue 9), run by `npm run build` after `tsc`:
 *
 * 1. dist/mtlsctl.js: one CommonJS bundle of dist/cli/run.js (tsc's output, so the same code the tests
 *    and the library run) with everything it can require from dist/ and commander. Each module stays a
 *    lazy wrapper, run on its first require, exactly as before: only the invoked command's modules run.
 *    What it saves is Node's per-module work (resolving, stat, reading, compiling ~35 files).
 *    The other dependencies (pkijs, @inquirer/prompts, nkeys.js, ...) stay external, loaded from
 *    node_modules as before. The bundle sits in dist/ itself, so __dirname (templates.ts) is unchanged.
 *    Its first line is `/*mtlsctl-bundle <hash>*\/`; the rest is the module's wrapper function,
 *    `(function (exports, require, module, __filename, __dirname) {...})`, which bin/mtlsctl compiles.
 * 2. dist/mtlsctl.js.cache: V8's code cache for the bundle, made by a training run in a child process
 *    (--help, ca init, client issue, explain in a temporary store): the bytecode of the functions those
 *    commands compiled, so the next processes skip parsing and compiling them. bin/mtlsctl uses it only
 *    when its header names this very bundle (a hash of it); V8 itself rejects it under another Node
 *    version or other V8 flags, and then the bundle is compiled as usual.
 *
 * bin/mtlsctl runs dist/cli/run.js (the unbundled files) when the bundle is missing or older than
 * dist/cli/run.js (tsc run alone after a build).
 */
"use strict";
const crypto = require("node:crypto");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const { spawnSync } = require("node:child_process");

const ROOT = path.resolve(__dirname, "..");
const DIST = path.join(ROOT, "dist");
const BUNDLE = path.join(DIST, "mtlsctl.js");
const CACHE = BUNDLE + ".cache";
const ID_LEN = 24; // hex characters of the bundle's hash, in its first line and the cache's header
const ID_LINE = "/*mtlsctl-bundle " + "0".repeat(ID_LEN) + "*/"; // same length as the final line: the source map stays right

function fail(msg) {
  process.stderr.write(`scripts/build.js: ${msg}\n`);
  process.exit(1);
}

/**
 * commander's command.js loads node:child_process at its top (a few ms: net, streams) for one thing,
 * spawning executable subcommands, which mtlsctl never uses. In the bundle it is loaded on first use.
 */
const lazyChildProcess = {
  name: "commander-lazy-child-process",
  setup(b) {
    b.onLoad({ filter: /[\\/]commander[\\/]lib[\\/]command\.js$/ }, (args) => {
      const src = fs.readFileSync(args.path, "utf8");
      const from = "const childProcess = require('node:child_process');";
      if (!src.includes(from)) throw new Error(`${args.path}: the line \`${from}\` is gone (a new commander?): update scripts/build.js`);
      const to = "let childProcess_; const childProcess = { spawn: (...a) => (childProcess_ ??= require('node:child_process')).spawn(...a) };";
      if (/childProcess\.(?!spawn\()/.test(src)) throw new Error(`${args.path}: uses childProcess beyond spawn(): update scripts/build.js`);
      return { contents: src.replace(from, to), loader: "js" };
    });
  },
};

async function bundle() {
  let esbuild;
  try {
    esbuild = require("esbuild");
  } catch {
    fail("esbuild is not installed: it is a devDependency (npm ci; or npm install --no-save esbuild)");
  }
  const pkg = require(path.join(ROOT, "package.json"));
  const external = [...Object.keys(pkg.dependencies || {}), ...Object.keys(pkg.optionalDependencies || {})]
    .filter((d) => d !== "commander")
    .flatMap((d) => [d, `${d}/*`]);
  const r = await esbuild.build({
    entryPoints: [path.join(DIST, "cli", "run.js")],
    outfile: BUNDLE,
    write: false,
    bundle: true,
    platform: "node",
    format: "cjs",
    target: "node20",
    external,
    plugins: [lazyChildProcess],
    minifyWhitespace: true, // a smaller file to read; names are kept (stack traces, .name)
    charset: "ascii",
    legalComments: "none",
    sourcemap: "linked",
    logLevel: "warning",
    // the file is the module's function itself, so that bin/mtlsctl compiles it as read (no copy of 600 KiB to wrap it)
    banner: { js: `${ID_LINE}\n(function (exports, require, module, __filename, __dirname) {` },
    footer: { js: "})" },
  });
  const out = (ext) => r.outputFiles.find((f) => f.path.endsWith(ext)).text;
  let code = out(".js");
  // esbuild leaves non-ASCII characters in regular expressions (µs in a duration pattern): as \uXXXX the file
  // is ASCII, which V8 holds as a one-byte string (half the memory, a faster read)
  if (/\\[^\x00-\x7f]/.test(code)) throw new Error("an escaped non-ASCII character in the bundle: update scripts/build.js");
  code = code.replace(/[^\x00-\x7f]/g, (c) => "\\u" + c.charCodeAt(0).toString(16).padStart(4, "0"));
  const id = crypto.createHash("sha256").update(code).digest("hex").slice(0, ID_LEN);
  code = code.replace(ID_LINE, `/*mtlsctl-bundle ${id}*/`);
  // written beside, then renamed: a build running at the same time never sees half a file
  const tmp = `${BUNDLE}.${process.pid}.tmp`;
  fs.writeFileSync(tmp + ".map", out(".map"));
  fs.renameSync(tmp + ".map", BUNDLE + ".map");
  fs.rmSync(CACHE, { force: true });
  fs.writeFileSync(tmp, code);
  fs.renameSync(tmp, BUNDLE);
  return id;
}

/** The training run: a child process that loads the bundle as bin/mtlsctl does, runs a few commands, writes the cache. */
function train() {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "mtlsctl-build-"));
  try {
    const env = { ...process.env, MTLSCTL_DIR: path.join(work, "pki"), MTLSCTL_PASSPHRASE: "build-training", NO_COLOR: "1" };
    for (const k of ["MTLSCTL_CRASH_AT", "NODE_OPTIONS"]) delete env[k];
    const r = spawnSync(process.execPath, [__filename, "--train", work], { env, stdio: ["ignore", "ignore", "pipe"], encoding: "utf8", timeout: 120_000 });
    if (r.status !== 0) fail(`the code-cache training run failed (${r.status ?? r.signal}): ${r.stderr}`);
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

async function trainChild(work) {
  const { loadBundle } = require(path.join(ROOT, "bin", "mtlsctl"));
  const b = loadBundle({ cache: false });
  if (!b) throw new Error("the bundle did not load");
  const cert = path.join(work, "pki", "issued", "t1.crt");
  const runs = [["--help"], ["ca", "init", "--name", "Training CA"], ["client", "issue", "t1", "--email", "t1@example.com"], ["explain", cert]];
  for (const args of runs) {
    const code = await b.runCli(["node", "mtlsctl", ...args]);
    if (code !== 0) throw new Error(`mtlsctl ${args.join(" ")}: exit ${code}`);
  }
  process.exitCode = 0;
  const data = b.script.createCachedData();
  const tmp = `${CACHE}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, Buffer.concat([Buffer.from(b.id, "latin1"), data]));
  fs.renameSync(tmp, CACHE);
}

if (process.argv[2] === "--train") {
  trainChild(process.argv[3]).catch((e) => {
    process.stderr.write(String(e?.stack ?? e) + "\n");
    process.exit(1);
  });
} else {
  (async () => {
    if (!fs.existsSync(path.join(DIST, "cli", "run.js"))) fail("dist/cli/run.js is missing: run tsc first (npm run build does)");
    await bundle();
    train();
    const kb = (f) => Math.round(fs.statSync(f).size / 1024);
    process.stdout.write(`scripts/build.js: dist/mtlsctl.js (${kb(BUNDLE)} KiB), dist/mtlsctl.js.cache (${kb(CACHE)} KiB)\n`);
  })().catch((e) => {
    // no stale bundle beside a fresh dist/: bin/mtlsctl then runs dist/cli/run.js
    for (const f of [BUNDLE, CACHE]) fs.rmSync(f, { force: true });
    fail(String(e?.stack ?? e));
  });
}
