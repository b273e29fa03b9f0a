/**
 * The nats-server configuration reader (src/nats/conf): the lexer and parser rules of
 * nats-server 2.9.10 (reference §3.1), the server-side checks (§2.1, §3.3), a table of fixtures
 * whose verdict is checked against the real `nats-server -t -c` of every server of the matrix (the
 * reader told that version), and a round trip of hostile
 * strings through the writer's quoteConfString.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { spawnSync } from "node:child_process";
import { lexConfig } from "../src/nats/conf/lexer";
import { parseConfigText, parseConfigFile, toPlain, ConfigError, ConfMap, ConfValue } from "../src/nats/conf/parser";
import { readServerConfig, ServerConfig, goQuote, parseGoDuration, isValidPublicNkey } from "../src/nats/conf/server-config";
import { quoteConfString } from "../src/nats/confstring";
import { openssl, tmpDir, tool } from "./helpers/cli";
import { natsServerMatrix } from "./helpers/nats";
import { atLeast } from "../src/nats/versions";

const FIXTURES = path.join(__dirname, "fixtures", "conf");
const L = "listen: 127.0.0.1:4222\n";

/** Parses text into plain JS values (ints as numbers). */
function plain(text: string, env: NodeJS.ProcessEnv = {}, file = "t.conf"): Record<string, unknown> {
  return toPlain(parseConfigText(text, file, { env }).root) as Record<string, unknown>;
}

/** The ConfigError a parse throws. */
function parseError(text: string, env: NodeJS.ProcessEnv = {}): ConfigError {
  try {
    parseConfigText(text, "t.conf", { env });
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error(`no error for ${JSON.stringify(text)}`);
}

function entry(m: ConfMap, key: string): ConfValue {
  const e = m.entries.get(key);
  if (!e) throw new Error(`no key ${key}`);
  return e.value;
}

let scratch: string;
beforeAll(() => {
  scratch = tmpDir("conf-reader-");
});
afterAll(() => {
  fs.rmSync(scratch, { recursive: true, force: true });
});

/** Writes files under a fresh directory; returns the directory. */
function files(spec: Record<string, string | Buffer>): string {
  const dir = fs.mkdtempSync(path.join(scratch, "case-"));
  for (const [p, t] of Object.entries(spec)) {
    fs.mkdirSync(path.dirname(path.join(dir, p)), { recursive: true });
    fs.writeFileSync(path.join(dir, p), t);
  }
  return dir;
}

function readConf(text: string, env: NodeJS.ProcessEnv = {}, extra: Record<string, string> = {}): ServerConfig {
  const dir = files({ "s.conf": text, ...extra });
  return readServerConfig(path.join(dir, "s.conf"), env, { cwd: dir });
}

function readError(text: string, env: NodeJS.ProcessEnv = {}, extra: Record<string, string> = {}): ConfigError {
  try {
    readConf(text, env, extra);
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error(`no error for ${JSON.stringify(text)}`);
}

// ---------------------------------------------------------------------------------------------

describe("lexer and parser: the rules of nats-server 2.9.10's config language", () => {
  test("key separators: '=', ':' and plain whitespace", () => {
    expect(plain("a = 1\nb: 2\nc 3\nd=4\ne:5\n")).toEqual({ a: 1, b: 2, c: 3, d: 4, e: 5 });
    // a map or an array may follow the key directly
    expect(plain("m { x: 1 }\nl [1, 2 ]\n")).toEqual({ m: { x: 1 }, l: [1, 2] });
  });

  test("maps: entries end at a newline, ',' or ';'", () => {
    expect(plain("m { a: 1, b: 2; c: 3\n d: 4 }")).toEqual({ m: { a: 1, b: 2, c: 3, d: 4 } });
    expect(plain('m {\n  a: "x",\n  b: "y"\n}\n')).toEqual({ m: { a: "x", b: "y" } });
  });

  test("after a quoted value in a map, another key needs a separator (reference example)", () => {
    const e = parseError('authorization { user: "a" password: "pw" }');
    expect(e.reason).toBe(`Expected a map value terminator "," or a map terminator "}", but got 'p' instead.`);
    expect(e.serverMessage).toBe(`Parse error on line 1: 'Expected a map value terminator "," or a map terminator "}", but got 'p' instead.'`);
    expect(e.line).toBe(1);
    expect(e.col).toBe(27);
    expect(e.file).toBe("t.conf");
    expect(e).toBeInstanceOf(ConfigError);
    expect(e.exitCode).toBe(3);
    expect(plain('authorization { user: "a", password: "pw" }')).toEqual({ authorization: { user: "a", password: "pw" } });
  });

  test("arrays: elements end at ',' or a newline; ';' and a leading ',' are errors", () => {
    expect(plain("a [x, y,\n z\n]\n")).toEqual({ a: ["x", "y", "z"] });
    expect(plain("a [x, y,]\n")).toEqual({ a: ["x", "y"] });
    expect(parseError("a [x; y]").reason).toBe(`Expected an array value terminator "," or an array terminator "]", but got ';' instead.`);
    expect(parseError("a [,x]").reason).toBe("Unexpected array value terminator ','.");
  });

  test("a value starting with a digit that is not a number keeps the deciding character: [1] is the string '1]'", () => {
    // 1 then ']' -> the bare string "1]", and the array is left open
    expect(parseError("a [1]\n").reason).toMatch(/^Expected an array value terminator/);
    // a ',' ends the number, a ']' after a bare word ends the word
    expect(plain("a [1, x]")).toEqual({ a: [1, "x"] });
    expect(plain("a = 1#x\nb = 1'x\nc = 1\\x41\n")).toEqual({ a: "1#x", b: "1'x", c: "1\\x41" });
  });

  test("double-quoted strings: \\t \\n \\r \\\" \\\\ and \\xHH (one raw byte)", () => {
    const r = parseConfigText('a: "t\\tn\\nr\\rq\\"b\\\\x\\x41\\xff"', "t.conf", { env: {} }).root;
    const v = entry(r, "a");
    expect(v.kind).toBe("string");
    if (v.kind !== "string") return;
    expect(v.bytes).toEqual(Buffer.concat([Buffer.from('t\tn\nr\rq"b\\xA'), Buffer.from([0xff])]));
    expect(plain('a: "line1\nline2 # } \' $HOME"')).toEqual({ a: "line1\nline2 # } ' $HOME" });
  });

  test("any other escape is an error with the server's own message", () => {
    const e = parseError('x = "\\u0041"');
    expect(e.reason).toBe("Invalid escape character 'u'. Only the following escape characters are allowed: \\xXX, \\t, \\n, \\r, \\\", \\\\.");
    expect(parseError('x = "a\\/b"').reason).toBe("Invalid escape character '/'. Only the following escape characters are allowed: \\xXX, \\t, \\n, \\r, \\\", \\\\.");
    expect(parseError('x = "\\xZZ"').reason).toBe("Expected two hexadecimal digits after '\\x', but got 'ZZ'");
    expect(parseError('x = "\\x4"').reason).toBe("Expected two hexadecimal digits after '\\x', but got '4\"'");
  });

  test("single-quoted strings are raw", () => {
    expect(plain("a: 'c:\\new\\u'\nb: 'two\nlines'\n")).toEqual({ a: "c:\\new\\u", b: "two\nlines" });
  });

  test("bare strings: end at whitespace , ; ] }; '#' is literal inside; a quote ends them and is swallowed", () => {
    expect(plain("a: al#ice # a comment\nb: x{y}\n")).toEqual({ a: "al#ice", b: "x{y" });
    expect(plain("a: ab'\n")).toEqual({ a: "ab" });
    expect(parseError("a: ab'cd\n").reason).toBe("Expected a top-level value to end with a new line, comment or EOF, but got 'c' instead.");
    // escapes work in bare strings too
    expect(plain("a: x\\ty\n")).toEqual({ a: "x\ty" });
    expect(parseError("a: x\\qy\n").reason).toMatch(/^Invalid escape character 'q'/);
    // a bare word with a quote is not checked for bool or variable
    expect(plain("a: true'\nb: $x'\n")).toEqual({ a: "true", b: "$x" });
  });

  test("block strings include the newline after '(' and the one before ')' (reference example)", () => {
    expect(plain("a (\nline1\n)\nb = 2\n")).toEqual({ a: "\nline1\n", b: 2 });
    expect(plain("a (first\n  x) not the end\n)\n")).toEqual({ a: "first\n  x) not the end\n" });
    // at the very end of the file the ')' stays in the value
    expect(plain("a (\nline1\n)")).toEqual({ a: "\nline1\n)" });
    expect(parseError("a (\nline1\n) x\n").reason).toBe("Unexpected EOF processing block.");
  });

  test("comments: '#' and '//' where a key or the end of a value is expected", () => {
    expect(plain("# c1\n// c2\na = 1 # c3\nb = 2 // c4\nm { # c5\n x = 1 // c6\n}\nl [ # c7\n 1 // c8\n]\n")).toEqual({ a: 1, b: 2, m: { x: 1 }, l: [1] });
  });

  test("bool words, case-insensitive: true false yes no on off", () => {
    expect(plain("a TRUE\nb False\nc yes\nd NO\ne On\nf off\n")).toEqual({ a: true, b: false, c: true, d: false, e: true, f: false });
    expect(plain('a "true"\n')).toEqual({ a: "true" });
  });

  test("integers with size suffixes: 1MB = 1048576, 1m = 1000000 (reference example)", () => {
    expect(plain("a 1MB\nb 1m\nc 1k\nd 1Ki\ne 1kib\nf 2G\ng 1gb\nh 1T\ni 1P\nj 1E\nk 1EB\nl -2k\n")).toEqual({
      a: 1048576,
      b: 1000000,
      c: 1000,
      d: 1024,
      e: 1024,
      f: 2000000000,
      g: 1073741824,
      h: 1e12,
      i: 1e15,
      j: 1e18,
      k: 1152921504606846976,
      l: -2000,
    });
    const big = entry(parseConfigText("a 1E", "t", { env: {} }).root, "a");
    expect(big.kind === "int" && big.exact).toBe(1000000000000000000n);
    // Go's int64 arithmetic wraps around
    const wrapped = entry(parseConfigText("a 10E", "t", { env: {} }).root, "a");
    expect(wrapped.kind === "int" && wrapped.exact).toBe(BigInt.asIntN(64, 10n ** 19n));
    expect(parseError("a 99999999999999999999").reason).toBe("integer '99999999999999999999' is out of the range");
    // durations are strings, except the ones that look like a suffixed number
    expect(plain("a 10ms\nb 2s\nc 1h\n")).toEqual({ a: "10ms", b: "2s", c: "1h" });
    // an unknown suffix sets nothing at all (the key is dropped)
    expect(plain("a = 1kbb\nb = 2\n")).toEqual({ b: 2 });
  });

  test("floats, datetimes and addresses", () => {
    expect(plain("a 1.5\nb -0.25\nc 127.0.0.1:4222\nd 10.0.0.1\n")).toEqual({ a: 1.5, b: -0.25, c: "127.0.0.1:4222", d: "10.0.0.1" });
    const d = entry(parseConfigText("t 2021-01-02T03:04:05Z", "t", { env: {} }).root, "t");
    expect(d.kind).toBe("datetime");
    expect(d.kind === "datetime" && d.value.toISOString()).toBe("2021-01-02T03:04:05.000Z");
    expect(parseError("t 2021-02-29T00:00:00Z").reason).toBe("expected Zulu formatted DateTime, but got '2021-02-29T00:00:00Z'");
    expect(parseError("t 12-34").reason).toBe("All ISO8601 dates must be in full Zulu form.");
    expect(parseError("t .5").reason).toBe("Floats must start with a digit");
    expect(parseError("t -foo").reason).toBe("Expected a digit but got 'f'.");
  });

  test("include: relative to the including file, also inside blocks, keys merged into the current map", () => {
    const dir = files({
      "main.conf": "a = 1\ninclude sub/one.conf\nm {\n  x = 1\n  include 'sub/inner.conf'\n}\n",
      "sub/one.conf": 'b = 2\ninclude "two.conf"\n', // relative to sub/, not to main.conf
      "sub/two.conf": "c = 3\n",
      "sub/inner.conf": "y = 2\nz { k = v }\n",
    });
    const p = parseConfigFile(path.join(dir, "main.conf"), { env: {} });
    expect(toPlain(p.root)).toEqual({ a: 1, b: 2, c: 3, m: { x: 1, y: 2, z: { k: "v" } } });
    expect(p.files.map((f) => path.relative(dir, f))).toEqual(["main.conf", "sub/one.conf", "sub/two.conf", "sub/inner.conf"]);
    // positions point into the included file
    const c = p.root.entries.get("c")!;
    expect(path.relative(dir, c.keyPos.file)).toBe("sub/two.conf");
    expect(c.keyPos.line).toBe(1);
  });

  test("include: a missing file, a bad included file, and the keyword rules", () => {
    const dir = files({ "main.conf": "include nope.conf\n", "bad.conf": "include inc.conf\n", "inc.conf": "\n\nx = \"\\q\"\n" });
    let e: ConfigError | undefined;
    try {
      parseConfigFile(path.join(dir, "main.conf"), { env: {} });
    } catch (err) {
      e = err as ConfigError;
    }
    expect(e?.serverMessage).toBe(`error parsing include file 'nope.conf', open ${path.join(dir, "nope.conf")}: no such file or directory`);
    try {
      parseConfigFile(path.join(dir, "bad.conf"), { env: {} });
    } catch (err) {
      e = err as ConfigError;
    }
    // located in the included file, with the server's full text
    expect(path.basename(e!.file)).toBe("inc.conf");
    expect(e!.line).toBe(3);
    expect(e!.reason).toMatch(/^Invalid escape character 'q'/);
    expect(e!.serverMessage).toMatch(/^error parsing include file 'inc.conf', Parse error on line 3: 'Invalid escape character 'q'/);
    // `include` is a keyword only when followed by a space; quoted it is an ordinary key
    expect(plain('"include" x\n')).toEqual({ include: "x" });
    expect(plain("include=x\n")).toEqual({ include: "x" });
    // followed by a space it is the keyword, even before '=': the path here is "="
    expect(parseError("include = x\n").reason).toMatch(/^error parsing include file '=', open =: no such file or directory$/);
    expect(parseError("include\nx.conf\n").reason).toBe("Expected include value but found new line");
  });

  test("include cycles are refused (the server dies of a stack overflow)", () => {
    const dir = files({ "loop.conf": "include loop.conf\n" });
    expect(() => parseConfigFile(path.join(dir, "loop.conf"), { env: {} })).toThrow(/includes nest without end/);
  });

  test("variables: enclosing maps innermost first, keys defined earlier", () => {
    expect(plain("v = outer\nm { v = inner\n a = $v }\nb = $v\n")).toEqual({ v: "outer", m: { v: "inner", a: "inner" }, b: "outer" });
    expect(plain("v = 1\nm { a = [ { x = $v } ] }\n")).toEqual({ v: 1, m: { a: [{ x: 1 }] } });
    // not yet defined, or defined in a sibling map: falls through to the environment
    expect(parseError("a = $v\nv = 1\n").reason).toBe("variable reference for 'v' on line 1 can not be found");
    expect(parseError("m { v = 1 }\na = $v\n").reason).toBe("variable reference for 'v' on line 2 can not be found");
    // names are case-sensitive
    expect(parseError("V = 1\na = $v\n").reason).toBe("variable reference for 'v' on line 2 can not be found");
    // a variable can stand for a whole map
    expect(plain("m { x: 1 }\nn: $m\n")).toEqual({ m: { x: 1 }, n: { x: 1 } });
  });

  test("variables: then the environment, re-parsed as a config value (reference example)", () => {
    expect(plain("a = $SIZE\n", { SIZE: "1MB" })).toEqual({ a: 1048576 });
    expect(plain("a = $B\n", { B: "yes" })).toEqual({ a: true });
    expect(plain("a = $S\n", { S: '"a b"' })).toEqual({ a: "a b" });
    expect(plain("a = $M\n", { M: "{ x: 1, y: [a] }" })).toEqual({ a: { x: 1, y: ["a"] } });
    expect(plain("a = $E\n", { E: "" })).toEqual({ a: "" });
    expect(plain("a = $X\n", { X: "$Y", Y: "chained" })).toEqual({ a: "chained" });
    expect(parseError("a = $S\n", { S: "a b" }).reason).toBe(
      "variable reference for 'S' on line 1 could not be parsed: Parse error on line 1: 'Expected a top-level value to end with a new line, comment or EOF, but got 'b' instead.'",
    );
    expect(parseError("a = $SELF\n", { SELF: "$SELF" }).reason).toMatch(/refer to each other without end/);
    // the scope wins over the environment
    expect(plain("SIZE = 5\na = $SIZE\n", { SIZE: "1MB" })).toEqual({ SIZE: 5, a: 5 });
  });

  test("variables: a bare $2a$ is a bcrypt hash, $2b$ is a variable", () => {
    expect(plain("p = $2a$11$abcdefghijklmnopqrstuv\n")).toEqual({ p: "$2a$11$abcdefghijklmnopqrstuv" });
    expect(parseError("p = $2b$11$abc\n").reason).toBe("variable reference for '2b$11$abc' on line 1 can not be found");
    expect(plain('p = "$2b$11$abc"\n')).toEqual({ p: "$2b$11$abc" });
  });

  test("variables: references are tracked and the referenced definition is marked", () => {
    const p = parseConfigText("u = 4222\nport = $u\nn = 1\nx = $E\n", "t.conf", { env: { E: "1" } });
    expect(p.variables.map((v) => [v.name, v.source, v.pos.line])).toEqual([
      ["u", "scope", 2],
      ["E", "env", 4],
    ]);
    expect(p.variables[0].definedAt).toEqual({ file: "t.conf", line: 1, col: 1 });
    expect(entry(p.root, "u").usedVariable).toBe(true);
    expect(entry(p.root, "n").usedVariable).toBe(false);
    expect(entry(p.root, "port").fromVariable).toBe("u");
    expect(entry(p.root, "x").fromEnv).toBe(true);
  });

  test("duplicate keys: the last one wins (exact, case-sensitive keys)", () => {
    expect(plain('m { user: "a", user: "b" }\n')).toEqual({ m: { user: "b" } });
    expect(plain("a = 1\nb = 2\na = 3\n")).toEqual({ b: 2, a: 3 });
    expect(plain("a = 1\nA = 2\n")).toEqual({ a: 1, A: 2 });
  });

  test("the top level may be wrapped in braces (JSON-like files)", () => {
    expect(plain('{\n  "listen": "127.0.0.1:4222",\n  "authorization": { "users": [ { "user": "a" } ] }\n}\n')).toEqual({
      listen: "127.0.0.1:4222",
      authorization: { users: [{ user: "a" }] },
    });
  });

  test("odd inputs behave as in the server", () => {
    // a key with no value before '}' leaves the map's key pending: the map lands on the inner key
    expect(plain("m { a }\n")).toEqual({ a: {} });
    // a key at the end of the file, or a quote with nothing after it, ends the file quietly
    expect(plain("a = 1\nb")).toEqual({ a: 1 });
    expect(plain('a = 1\nb = "')).toEqual({ a: 1 });
    expect(parseError('a = 1\nb = "x').reason).toBe("Unexpected EOF.");
    // a '/' that does not start a comment is dropped at a map key, and is a separator after a map value
    expect(plain("m { /k = 1 }\n")).toEqual({ m: { k: 1 } });
    expect(plain('m { a = "x" / b = 2 }\n')).toEqual({ m: { a: "x", b: 2 } });
    // after '=' at the top level the value must be on the same line; in a map it need not be
    expect(parseError("a =\n1\n").reason).toBe("Expected value but found new line");
    expect(plain("a\n1\nm { b =\n 2 }\n")).toEqual({ a: 1, m: { b: 2 } });
    // a NUL byte reads like the end of input
    expect(plain("a = x\u0000b\n")).toEqual({ a: "x" });
  });

  test("positions: 1-based line and column of every key and value", () => {
    const r = parseConfigText('a = 1\nm {\n  k: "v"\n  l: [x, "y"]\n}\n', "f.conf", { env: {} }).root;
    const m = r.entries.get("m")!;
    expect(m.keyPos).toEqual({ file: "f.conf", line: 2, col: 1 });
    expect(m.value.pos).toEqual({ file: "f.conf", line: 2, col: 3 });
    if (m.value.kind !== "map") throw new Error("not a map");
    const k = m.value.entries.get("k")!;
    expect(k.keyPos).toEqual({ file: "f.conf", line: 3, col: 3 });
    expect(k.value.pos).toEqual({ file: "f.conf", line: 3, col: 7 });
    const l = m.value.entries.get("l")!.value;
    if (l.kind !== "array") throw new Error("not an array");
    expect(l.items.map((i) => [i.pos.line, i.pos.col])).toEqual([
      [4, 7],
      [4, 11],
    ]);
  });

  test("the lexer keeps exact bytes and Go's rune rules", () => {
    const toks = lexConfig(Buffer.from([0x61, 0x20, 0x22, 0xc3, 0xa9, 0xff, 0x22, 0x0a]));
    expect(toks.map((t) => t.kind)).toEqual(["key", "string", "eof"]);
    expect(toks[1].bytes).toEqual(Buffer.from([0xc3, 0xa9, 0xff]));
    // U+00A0 is a space to Go between a key and its value, but not inside a bare value
    expect(plain("a\u00a0b\u00a0c\n")).toEqual({ a: "b\u00a0c" });
  });
});

// ---------------------------------------------------------------------------------------------

describe("readServerConfig: what the verifier needs, with the server's checks", () => {
  test("the tls block, collected (keys are case-insensitive; paths kept as written)", () => {
    const dir = files({});
    const c = readServerConfig(
      writeIn(
        dir,
        "s.conf",
        L +
          "tls {\n  CERT_FILE: c.pem\n  Key_File: k.pem\n  ca_file: ca.pem\n  verify_and_map: yes\n  timeout: \"1.5s\"\n  insecure: true\n" +
          `  pinned_certs: ["${"AB".repeat(32)}"]\n  cipher_suites: [TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256]\n  curve_preferences: [X25519]\n  connection_rate_limit: 10\n}\n`,
      ),
      {},
      { cwd: dir, checkFiles: false },
    );
    expect(c.tls).toMatchObject({
      certFile: "c.pem",
      keyFile: "k.pem",
      caFile: "ca.pem",
      verify: true,
      map: true,
      verifyAndVerifyAndMap: false,
      verifyUncertain: false,
      insecure: true,
      timeout: 1.5,
      pinnedCerts: ["ab".repeat(32)],
      cipherSuites: ["TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"],
      curvePreferences: ["X25519"],
      connectionRateLimit: 10,
    });
    expect(c.tls!.pos.line).toBe(2);
  });

  test("verify and verify_and_map both present: noted; verify_and_map true with verify false is random", () => {
    const dir = files({});
    const read = (body: string) => readServerConfig(writeIn(dir, "v.conf", L + `tls { ${body} }\n`), {}, { cwd: dir, checkFiles: false });
    expect(read("verify: true, verify_and_map: true").tls).toMatchObject({ verify: true, map: true, verifyAndVerifyAndMap: true, verifyUncertain: false });
    const r = read("verify_and_map: true, verify: false");
    expect(r.tls).toMatchObject({ map: true, verifyAndVerifyAndMap: true, verifyUncertain: true });
    expect(r.warnings.some((w) => w.kind === "random" && /random key order/.test(w.message))).toBe(true);
    expect(read("verify: true").tls).toMatchObject({ verify: true, map: false, verifyAndVerifyAndMap: false });
    expect(read("verify_and_map: false, verify: true").tls).toMatchObject({ verify: true, map: false, verifyUncertain: false });
  });

  test("an unknown tls key is refused with the server's text", () => {
    const e = readError(L + "tls {\n  cert_store: x\n}\n");
    expect(e.reason).toBe('error parsing tls config, unknown field ["cert_store"]');
    expect(e.line).toBe(3);
    expect(readError(L + "tls { verify: \"true\" }\n").reason).toBe("error parsing tls config, expected 'verify' to be a boolean");
    expect(readError(L + "tls { verify_cert_and_check_known_urls: true }\n").reason).toBe("verify_cert_and_check_known_urls not supported in this context");
  });

  test("the tls files are loaded as the server does, relative to its working directory", () => {
    const dir = files({});
    makeKeyPair(dir);
    const ok = readServerConfig(writeIn(dir, "t.conf", L + "tls { cert_file: tls/cert.pem, key_file: tls/key.pem, ca_file: tls/cert.pem }\n"), {}, { cwd: dir });
    expect(ok.tls?.certFile).toBe("tls/cert.pem");
    const e = (body: string) => {
      try {
        readServerConfig(writeIn(dir, "t.conf", L + `tls { ${body} }\n`), {}, { cwd: dir });
      } catch (err) {
        return (err as ConfigError).reason;
      }
      return "accepted";
    };
    expect(e("cert_file: tls/cert.pem")).toBe("missing 'key_file' in TLS configuration");
    expect(e("cert_file: tls/none.pem, key_file: tls/key.pem")).toBe("error parsing X509 certificate/key pair: open tls/none.pem: no such file or directory");
    expect(e("cert_file: tls/key.pem, key_file: tls/cert.pem")).toMatch(/PEM inputs may have been switched/);
    expect(e("cert_file: tls/cert.pem, key_file: tls/key.pem, ca_file: tls/key.pem")).toBe("failed to parse root ca certificate");
    // from another working directory the same relative paths fail, as they do for the server
    expect(() => readServerConfig(path.join(dir, "t.conf"), {}, { cwd: scratch })).toThrow(ConfigError);
  });

  test("authorization and accounts users, merged into one table", () => {
    const c = readConf(
      L +
        "authorization {\n  users = [\n    { USER: alice, PassWord: pw1 }\n    { username: \"CN=bob,O=Acme\", permissions: { publish: \"a.>\" }, allowed_connection_types: [\"standard\", mqtt] }\n" +
        "    { nkey: UDXU4RCSJNZOIQHZNWXHXORDPRTGNJAHAHFRGZNEEJCPQTT2M7NLCNF4 }\n  ]\n}\n" +
        "accounts {\n  A { users = [ { user: carol, pass: pw3, clients: websocket } ] }\n  B { }\n}\nno_auth_user: alice\n",
    );
    expect(c.users.map((u) => [u.user, u.password, u.nkey, u.account, u.allowedConnectionTypes])).toEqual([
      ["alice", "pw1", undefined, null, undefined],
      ["CN=bob,O=Acme", undefined, undefined, null, ["STANDARD", "MQTT"]],
      [undefined, undefined, "UDXU4RCSJNZOIQHZNWXHXORDPRTGNJAHAHFRGZNEEJCPQTT2M7NLCNF4", null, undefined],
      ["carol", "pw3", undefined, "A", ["WEBSOCKET"]],
    ]);
    expect(c.users[1].permissions && toPlain(c.users[1].permissions)).toEqual({ publish: "a.>" });
    expect(c.users[0].pos.line).toBe(4);
    expect(c.accounts.map((a) => [a.name, a.users.length])).toEqual([
      ["A", 1],
      ["B", 0],
    ]);
    expect(c.noAuthUser).toBe("alice");
    expect(c.authorization?.hasUsers).toBe(true);
    expect(c.startupProblems).toEqual([]);
  });

  test("websocket, mqtt and leafnodes with their own tls blocks", () => {
    const dir = files({});
    const c = readServerConfig(
      writeIn(
        dir,
        "l.conf",
        L +
          "websocket { port: 8443, tls { cert_file: c, key_file: k, verify_and_map: true } }\n" +
          "mqtt { port: 1883, tls { cert_file: c, key_file: k, verify: true }, no_auth_user: x }\n" +
          "leafnodes { port: 7422, tls { cert_file: c, key_file: k, verify_and_map: true }, authorization { users = [ { user: leaf, password: p, account: A } ] } }\n",
      ),
      {},
      { cwd: dir, checkFiles: false },
    );
    expect(c.websocket?.tls).toMatchObject({ map: true, verify: true });
    expect(c.mqtt?.tls).toMatchObject({ map: false, verify: true });
    expect(c.mqtt?.noAuthUser).toBe("x");
    expect(c.leafnodes?.tls).toMatchObject({ map: true });
    expect(c.leafnodes?.authorization?.users).toMatchObject([{ user: "leaf", password: "p", account: "A" }]);
    expect(c.tls).toBeUndefined();
  });

  test("the server's checks on users", () => {
    const users = (list: string) => L + `authorization { users = [ ${list} ] }\n`;
    expect(readError(users("{user: a}, {user: a}")).reason).toBe('Duplicate user "a" detected');
    expect(readError(users("{user: a}") + "accounts { X { users = [ {user: a} ] } }\n").reason).toBe('Duplicate user "a" detected');
    expect(readError(users('{user: ""}')).reason).toBe("User entry requires a user");
    expect(readError(users("{password: x}")).reason).toBe("User entry requires a user");
    expect(readError(users("{user: 1234}")).reason).toBe("interface conversion: interface {} is int64, not string");
    expect(readError(users("{user: yes}")).reason).toBe("interface conversion: interface {} is bool, not string");
    expect(readError(users("{user: a, foo: 1}")).reason).toBe('unknown field "foo"');
    expect(readError(users('{user: a, clients: ["nope"]}')).reason).toBe('invalid connection types ["NOPE"]');
    expect(readError(users("{nkey: UDXU4RCSJNZOIQHZNWXHXORDPRTGNJAHAHFRGZNEEJCPQTT2M7NLCNF4, user: x}")).reason).toBe("Nkey users do not take usernames or passwords");
    expect(readError(users("{nkey: UDXU4RCSJNZOIQHZNWXHXORDPRTGNJAHAHFRGZNEEJCPQTT2M7NLCNF5}")).reason).toBe("Not a valid public nkey for a user");
    expect(readError(L + "authorization { user: a, users = [ {user: b} ] }\n").reason).toBe("Can not have a single user/pass and a users array");
    expect(readError(L + "authorization { user: a }\naccounts { X { users = [ {user: b} ] } }\n").reason).toBe("Can not have a single user/pass and accounts");
    expect(readError(L + "authorization { token: t, users = [ {user: b} ] }\n").reason).toBe("Can not have a token and a users array");
    expect(readError(L + "authorization { token: t, user: b }\n").reason).toBe("Cannot have a user/pass and token");
    expect(readError(L + "authorization { users = [ {user: a, permissions: { publish: \"a..b\" }} ] }\n").reason).toBe('subject "a..b" is not a valid subject');
  });

  test("a file that cannot be read", () => {
    const missing = path.join(scratch, "no-such.conf");
    expect(() => readServerConfig(missing, {})).toThrow(new ConfigError(`open ${missing}: no such file or directory`, { file: missing, line: 0, col: 0 }));
    try {
      readServerConfig(missing, {});
    } catch (e) {
      expect((e as ConfigError).message).toBe(`open ${missing}: no such file or directory`);
      expect((e as ConfigError).file).toBe(missing);
    }
  });

  test("several problems: the first is thrown, the others travel with it", () => {
    const e = readError(L + "foo: 1\nbar: 2\n");
    expect(e.reason).toBe('unknown field "foo"');
    expect(e.others.map((o) => o.reason)).toEqual(['unknown field "bar"']);
  });

  test("an unreferenced top-level variable is an unknown field; a referenced one is not", () => {
    expect(readError("uvar = 4222\n" + L).reason).toBe('unknown field "uvar"');
    expect(readConf("uvar = 4222\n" + L + "port: $uvar\n").variables.map((v) => v.name)).toEqual(["uvar"]);
    // redefined after its use: the new definition is unreferenced
    expect(readError("p = 1\n" + L + "port: $p\np = 2\n").reason).toBe('unknown field "p"');
    // inside blocks too
    expect(readConf(L + "authorization { p = pw\n users = [ {user: a, password: $p} ] }\n").users[0].password).toBe("pw");
  });

  test("the same field given twice in different case is picked at random by the server: reported", () => {
    const c = readConf(L + "authorization { users = [ { user: a, USER: b } ] }\n");
    expect(c.users[0].randomFields).toEqual(["user"]);
    expect(c.warnings.some((w) => w.kind === "random")).toBe(true);
  });

  test("server warnings do not refuse the file (but make `nats-server -t` exit 1)", () => {
    const c = readConf(L + "ping_interval: 60\n");
    expect(c.warnings).toEqual([
      expect.objectContaining({ kind: "server", message: 'invalid use of field "ping_interval": ping_interval should be converted to a duration' }),
    ]);
  });

  test("no_auth_user is checked only at startup, as in the server", () => {
    expect(readConf(L + "no_auth_user: ghost\n").startupProblems.map((p) => p.message)).toEqual(['no_auth_user: "ghost" present, but users are not defined']);
    expect(readConf(L + "no_auth_user: ghost\nauthorization { users = [ {user: a} ] }\n").startupProblems.map((p) => p.message)).toEqual([
      'no_auth_user: "ghost" not present as user in authorization block or account configuration',
    ]);
  });

  test("Go formatting helpers", () => {
    expect(goQuote('a"b\\c\n\u0001é')).toBe('"a\\"b\\\\c\\n\\x01é"');
    expect(parseGoDuration("1m30s")).toBe(90);
    expect(parseGoDuration("1.5h")).toBe(5400);
    expect(parseGoDuration("2")).toBe('time: missing unit in duration "2"');
    expect(parseGoDuration("2q")).toBe('time: unknown unit "q" in duration "2q"');
    expect(isValidPublicNkey("UDXU4RCSJNZOIQHZNWXHXORDPRTGNJAHAHFRGZNEEJCPQTT2M7NLCNF4", 20 << 3)).toBe(true);
    expect(isValidPublicNkey("UDXU4RCSJNZOIQHZNWXHXORDPRTGNJAHAHFRGZNEEJCPQTT2M7NLCNF4", 0)).toBe(false);
  });
});

function writeIn(dir: string, name: string, text: string): string {
  const p = path.join(dir, name);
  fs.writeFileSync(p, text);
  return p;
}

/** A throw-away self-signed key pair in <dir>/tls/{cert,key}.pem. */
function makeKeyPair(dir: string): void {
  fs.mkdirSync(path.join(dir, "tls"), { recursive: true });
  const r = openssl(
    ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "tls/key.pem", "-out", "tls/cert.pem", "-days", "3650", "-subj", "/CN=localhost"],
    { cwd: dir },
  );
  if (r.code !== 0) throw new Error(`openssl failed: ${r.stderr}`);
}

// ---------------------------------------------------------------------------------------------

interface Fixture {
  name: string;
  /** The verdict of Debian's 2.9.10 (`# expect:`). */
  expect: "accept" | "refuse";
  /** 2.9.10's words (`# reason:`). */
  reason?: string;
  env: Record<string, string>;
  /** `# since V: accept|refuse` lines: from V on (the newest step not above the server applies), as observed on the matrix. */
  since: [version: string, verdict: "accept" | "refuse"][];
}

/** The fixture's verdict on this server version. */
function expectFor(fx: Fixture, version: string): "accept" | "refuse" {
  let v = fx.expect;
  for (const [since, verdict] of fx.since) if (atLeast(version, since)) v = verdict;
  return v;
}

/** Fixtures: every *.conf at the top of test/fixtures/conf, with `# expect:`, `# reason:`, `# since V:` and `# env:` header lines. */
function loadFixtures(): Fixture[] {
  return fs
    .readdirSync(FIXTURES)
    .filter((f) => f.endsWith(".conf"))
    .sort()
    .map((f) => {
      const text = fs.readFileSync(path.join(FIXTURES, f), "latin1");
      const fx: Fixture = { name: f, expect: "accept", env: {}, since: [] };
      for (const line of text.split("\n")) {
        if (!line.startsWith("# ")) break;
        const s = /^# since (\d+\.\d+\.\d+): (accept|refuse)\b/.exec(line);
        if (s) {
          fx.since.push([s[1], s[2] as "accept" | "refuse"]);
          continue;
        }
        const m = /^# (expect|reason|env): (.*)$/.exec(line);
        if (!m) continue;
        if (m[1] === "expect") fx.expect = m[2] === "refuse" ? "refuse" : "accept";
        else if (m[1] === "reason") {
          if (m[2]) fx.reason = Buffer.from(m[2], "latin1").toString("utf8");
        }
        else {
          const v = Buffer.from(m[2], "latin1").toString("utf8");
          const i = v.indexOf("=");
          fx.env[v.slice(0, i)] = v.slice(i + 1);
        }
      }
      return fx;
    });
}

const fixtures = loadFixtures();

test("there are fixtures for both verdicts", () => {
  expect(fixtures.length).toBeGreaterThan(150);
  expect(fixtures.filter((f) => f.expect === "accept").length).toBeGreaterThan(50);
  expect(fixtures.filter((f) => f.expect === "refuse").length).toBeGreaterThan(50);
  // and some whose verdict changes across the matrix
  expect(fixtures.filter((f) => f.since.length > 0).length).toBeGreaterThan(10);
});

/**
 * Every fixture on every server of the matrix, one version after another: the server's verdict is
 * the one recorded for that version, and the reader, told the version, gives it too, in the words
 * that server prints (on 2.9.10, also exactly the `# reason:` line, which is 2.9.10's).
 */
describe.each(natsServerMatrix())("fixtures: the reader's verdict equals `nats-server -t -c` ($version)", ({ version, bin }) => {
  let run: string;
  beforeAll(() => {
    run = fs.mkdtempSync(path.join(scratch, "fixtures-"));
    fs.cpSync(FIXTURES, run, { recursive: true });
    makeKeyPair(run);
  });

  test.each(fixtures.map((f) => [f.name, f] as const))("%s", (_name, fx) => {
    // the reader, as `nats-server -t` judges: refused on an error, and on a server warning
    let verdict: "accept" | "refuse" = "accept";
    let reason: string | undefined;
    try {
      const c = readServerConfig(path.join(run, fx.name), fx.env, { cwd: run, serverVersion: version });
      const w = c.warnings.find((x) => x.kind === "server");
      if (w) {
        verdict = "refuse";
        reason = w.message;
      }
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      verdict = "refuse";
      // the server was given a relative path, the reader an absolute one
      reason = e.reason.split(run + path.sep).join("");
    }
    // the real server
    const r = spawnSync(bin, ["-t", "-c", fx.name], { cwd: run, env: { PATH: process.env.PATH ?? "", ...fx.env }, encoding: "latin1", timeout: 60_000 });
    const serverVerdict = r.status === 0 ? "accept" : "refuse";
    const serverText = Buffer.from(r.stderr ?? "", "latin1").toString("utf8");
    const want = expectFor(fx, version);
    expect({ version, server: serverVerdict, serverText: serverVerdict === want ? undefined : serverText.trim().split("\n").slice(0, 3).join("\n") }).toEqual({ version, server: want, serverText: undefined });
    if (version !== "2.9.10") {
      expect({ version, reader: verdict, reason: verdict === want ? undefined : reason }).toEqual({ version, reader: want, reason: undefined });
      // in the server's words: what it prints holds the reader's reason ("A || B": either, by Go's map
      // order; a stack overflow is a crash with no message of its own)
      if (verdict === "refuse") {
        const alternatives = fx.reason?.split(" || ");
        const words = alternatives?.includes(reason!) ? alternatives : reason!.includes("crashes with a stack overflow") ? ["fatal error: stack overflow"] : [reason!];
        expect({ version, serverText, saysOneOf: words.some((w) => serverText.includes(w)) }).toEqual({ version, serverText, saysOneOf: true });
      }
      return;
    }
    // "A || B": the server reports either, depending on the order it visits its keys (Go map order)
    const alternatives = fx.reason?.split(" || ");
    expect({ reader: verdict, reason: alternatives && alternatives.includes(reason!) ? fx.reason : reason }).toEqual({ reader: fx.expect, reason: fx.reason ?? reason });
    if (alternatives) expect({ serverText, saysOneOf: alternatives.some((a) => serverText.includes(a)) }).toEqual({ serverText, saysOneOf: true });
  });
});

// ---------------------------------------------------------------------------------------------

/**
 * The tls keys later servers added, each in a config of its own, on every server of the matrix:
 * `nats-server -t` decides, and the reader told that version must decide the same, in the same words
 * where it refuses for a reason other than an unknown key (2.10 changed the quoting of that message).
 * `want` records what was observed (the first version of the matrix that takes the key).
 */
/** `accepted`: the first server of the matrix that takes it (null: none does); `noPair`: the block has no cert_file/key_file. */
const LATER_KEYS: { key: string; lines: string[]; accepted: string | null; refusal?: string; noPair?: boolean }[] = [
  { key: "handshake_first", lines: ["handshake_first: true"], accepted: "2.10.27" },
  // Windows' certificate stores: known from 2.9.20, refused on any other system
  { key: "cert_store", lines: ['cert_store: "WindowsCurrentUser"'], accepted: null, refusal: "cert_store not compatible with current operating system" },
  { key: "cert_store (unknown store)", lines: ['cert_store: "MacKeychain"'], accepted: null, refusal: "cert store type not implemented" },
  { key: "cert_match_by", lines: ['cert_match_by: "Subject"'], accepted: "2.9.25" },
  { key: "cert_match_by (unknown)", lines: ['cert_match_by: "Serial"'], accepted: null, refusal: "cert match by type not implemented" },
  { key: "cert_match", lines: ['cert_match: "CN=localhost"'], accepted: "2.9.25" },
  { key: "certs", lines: ['certs: [ { cert_file: "tls/cert.pem", key_file: "tls/key.pem" } ]'], accepted: "2.10.27", noPair: true },
  { key: "certs with cert_file", lines: ['certs: [ { cert_file: "tls/cert.pem", key_file: "tls/key.pem" } ]'], accepted: null, refusal: "error parsing tls config, cannot combine 'cert_file' option with 'certs' option" },
  { key: "ca_certs_match", lines: ['ca_certs_match: ["CN=localhost"]'], accepted: "2.10.27" },
  { key: "cert_match_skip_invalid", lines: ["cert_match_skip_invalid: true"], accepted: "2.10.27" },
  { key: "allow_insecure_cipher_suites", lines: ["allow_insecure_cipher_suites: true"], accepted: "2.12.15" },
];

describe.each(natsServerMatrix())("later tls keys on nats-server $version: the reader's verdict equals `nats-server -t`", ({ version, bin }) => {
  let run: string;
  beforeAll(() => {
    run = fs.mkdtempSync(path.join(scratch, "later-keys-"));
    makeKeyPair(run);
  });
  const order = ["2.9.10", "2.9.25", "2.10.27", "2.11.17", "2.12.15", "2.14.10", "2.15.3"];
  test.each(LATER_KEYS.map((k) => [k.key, k] as const))("%s", (_k, k) => {
    const pair = k.noPair ? [] : ['  cert_file: "tls/cert.pem"', '  key_file: "tls/key.pem"'];
    const name = `${k.key.replace(/\W+/g, "-")}.conf`;
    fs.writeFileSync(path.join(run, name), ["listen: 127.0.0.1:4222", "tls {", ...pair, ...k.lines.map((l) => `  ${l}`), "}", ""].join("\n"));
    const r = spawnSync(bin, ["-t", "-c", name], { cwd: run, env: { PATH: process.env.PATH ?? "" }, encoding: "utf8", timeout: 30_000 });
    const server = { ok: r.status === 0, said: r.stderr.trim().split("\n").pop()! };
    let reader: { ok: boolean; reason?: string };
    try {
      readServerConfig(path.join(run, name), {}, { cwd: run, serverVersion: version });
      reader = { ok: true };
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      reader = { ok: false, reason: e.reason };
    }
    // what was observed: accepted from the recorded version on; else refused, as unknown before the key's release
    const want = k.accepted !== null && order.indexOf(version) >= order.indexOf(k.accepted);
    expect({ version, server: server.ok, said: server.said }).toEqual({ version, server: want, said: server.said });
    expect({ version, reader: reader.ok, reason: reader.reason }).toEqual({ version, reader: server.ok, reason: reader.reason });
    if (!server.ok) {
      const unknown = /unknown field/.test(server.said);
      expect({ version, said: server.said, readerSays: reader.reason }).toEqual({ version, said: expect.stringContaining(unknown ? "unknown field" : reader.reason!), readerSays: unknown ? expect.stringContaining("unknown field") : expect.any(String) });
      if (k.refusal && !unknown) expect(reader.reason).toBe(k.refusal);
    }
  });
});

describe("round trip: quoteConfString's output reads back exactly", () => {
  const HOSTILE = [
    'a"b',
    "back\\slash\\\\",
    "cr\rlf\ntab\t",
    "# not a comment",
    "// not a comment either",
    "}]{[",
    "it's",
    "$HOME",
    "$2a$10$abcdefghijklmnopqrstuv",
    "true",
    "no",
    "1MB",
    "123",
    "-1",
    "1.5",
    "2021-01-02T03:04:05Z",
    "127.0.0.1:4222",
    "  padded  ",
    "a;b,c",
    "key = value",
    "a: b",
    "include foo.conf",
    "(block)",
    ")",
    "Jürgen ☃ 日本語 😀",
    "\u0001\u007f\u001b[31m",
    "\u2028\u00a0\u0085",
    "OU=testuser@MacBook-Pro.local (Test User),O=mkcert development certificate",
    'CN=a\\"b,O=x\\,y',
    "spiffe://example.org/ns/a b#",
  ];

  test.each(HOSTILE.map((s) => [JSON.stringify(s), s] as const))("%s", (_label, s) => {
    const q = quoteConfString(s);
    const root = parseConfigText(`a = ${q}\nm { user: ${q}, password: ${q} }\nl [ ${q}, ${q} ]\n`, "rt.conf", { env: {} }).root;
    expect(toPlain(root)).toEqual({ a: s, m: { user: s, password: s }, l: [s, s] });
  });

  test.each(natsServerMatrix())("nats-server $version accepts every hostile string as a user and a password, and the reader returns them exactly", ({ version, bin }) => {
    const list = HOSTILE.map((s) => `    { user: ${quoteConfString(s)}, password: ${quoteConfString(s)} }`).join("\n");
    const dir = files({ "rt.conf": `${L}authorization {\n  users = [\n${list}\n  ]\n}\n` });
    const r = spawnSync(bin, ["-t", "-c", "rt.conf"], { cwd: dir, encoding: "utf8", env: { PATH: process.env.PATH ?? "" } });
    expect({ version, status: r.status, stderr: r.stderr }).toEqual({ version, status: 0, stderr: expect.stringContaining("is valid") });
    const c = readServerConfig(path.join(dir, "rt.conf"), {}, { cwd: dir, serverVersion: version });
    expect(c.users.map((u) => u.user)).toEqual(HOSTILE);
    expect(c.users.map((u) => u.password)).toEqual(HOSTILE);
    expect(c.users.map((u) => u.userBytes)).toEqual(HOSTILE.map((s) => Buffer.from(s, "utf8")));
  });
});
