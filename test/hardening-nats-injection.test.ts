/**
 * Issue 8, item 2: config injection. Clients whose SANs and subjects hold what could break out of a
 * NATS config string — quotes, braces, `$`, `#`, `//`, `include`, `;`, backslashes, escaped
 * newlines in DNs, non-ASCII — are issued; `mtlsctl config nats` writes the snippet; then:
 *  - `nats-server -t` accepts it (startNatsServer) and the server starts with it;
 *  - the config reader (readServerConfig) finds exactly the intended users, as many as intended;
 *  - each certificate connects and the server's /connz?auth=true authorized_user is exactly the
 *    intended user (written by hand here, and what `list --json` predicts);
 *  - a certificate of another CA with a listed email, and a client left out by --exclude, are refused;
 *  - values that cannot be expressed (a newline in a DN: `\0A`) are refused at issue, never emitted.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { makeStore, mtls, mtlsOk, openssl, tool } from "./helpers/cli";
import { startNatsServer, stopAllNatsServers, NatsServer } from "./helpers/nats";
import { readServerConfig } from "../src/nats/conf/server-config";

jest.setTimeout(180_000);

type Store = ReturnType<typeof makeStore>;
const store: Store = makeStore({ name: "Injection CA" });
const other: Store = makeStore({ name: "Other CA" });
const cli = (args: string[], s: Store = store) => mtlsOk(args, { cwd: s.cwd, env: s.env });
const caFile = path.join(store.dir, "ca.crt");

interface Client {
  name: string;
  args: string[];
  /** The users[] entry the server must map this certificate to, written by hand. */
  user: string;
}

// Every email's local part is printable ASCII (what mtlsctl accepts); subjects are RFC 4514.
const CORPUS: Client[] = [
  { name: "e-quote", args: ["--email", 'q"uote@example.com'], user: 'q"uote@example.com' },
  { name: "e-close", args: ["--email", '"}]x@example.com'], user: '"}]x@example.com' },
  { name: "e-braces", args: ["--email", "{br}ace{s@example.com"], user: "{br}ace{s@example.com" },
  { name: "e-dollar", args: ["--email", "$USER@example.com"], user: "$USER@example.com" },
  { name: "e-dollar-brace", args: ["--email", "${HOME}x@example.com"], user: "${HOME}x@example.com" },
  { name: "e-hash", args: ["--email", "#not-a-comment@example.com"], user: "#not-a-comment@example.com" },
  { name: "e-slashes", args: ["--email", "//not-a-comment@example.com"], user: "//not-a-comment@example.com" },
  { name: "e-include", args: ["--email", 'include"x.conf"@example.com'], user: 'include"x.conf"@example.com' },
  { name: "e-backslash", args: ["--email", "back\\slash\\n\\x41\\u0041@example.com"], user: "back\\slash\\n\\x41\\u0041@example.com" },
  { name: "e-punct", args: ["--email", "a;b,c=d:e'f`g|h&i*j?k!l~m^@example.com"], user: "a;b,c=d:e'f`g|h&i*j?k!l~m^@example.com" },
  { name: "e-brackets", args: ["--email", "[a](b)<c>@example.com"], user: "[a](b)<c>@example.com" },
  { name: "e-percent", args: ["--email", "%0a%22@example.com"], user: "%0a%22@example.com" },
  { name: "d-underscore", args: ["--dns", "_svc.include.example.com"], user: "_svc.include.example.com" },
  { name: "u-query", args: ["--uri", "spiffe://example.org/a$b;c,d'e(f)*g+h!i@j"], user: "spiffe://example.org/a$b;c,d'e(f)*g+h!i@j" },
  { name: "u-frag", args: ["--uri", "urn:x:include#frag//x"], user: "urn:x:include#frag//x" },
  { name: "u-amp", args: ["--uri", "https://h.example.com/p?x=$y&z=[1]"], user: "https://h.example.com/p?x=$y&z=[1]" },
  { name: "s-quote", args: ["--subject", 'CN=quote\\"s}{,O=Acme'], user: 'CN=quote\\"s}{,O=Acme' },
  { name: "s-dollar", args: ["--subject", "CN=$VAR ${X},O=Acme"], user: "CN=$VAR ${X},O=Acme" },
  { name: "s-hash", args: ["--subject", "CN=\\#hash # not a comment,O=Acme"], user: "CN=\\#hash # not a comment,O=Acme" },
  { name: "s-slashes", args: ["--subject", "CN=// not a comment,O=Acme"], user: "CN=// not a comment,O=Acme" },
  { name: "s-include", args: ["--subject", "CN=include other.conf,O=Acme"], user: "CN=include other.conf,O=Acme" },
  { name: "s-backslash-n", args: ["--subject", "CN=literal\\\\n not a newline,O=Acme"], user: "CN=literal\\\\n not a newline,O=Acme" },
  { name: "s-separators", args: ["--subject", "CN=a\\+b\\,c\\;d\\<e\\>,OU=x\\=y,O=Acme"], user: "CN=a\\+b\\,c\\;d\\<e\\>,OU=x\\=y,O=Acme" },
  // 🎉 is outside the BMP (a surrogate pair in JavaScript): it once became two U+FFFD in the certificate
  { name: "s-unicode", args: ["--subject", "CN=Zoë Ünïcødé 日本語 🎉,O=Ãcme"], user: "CN=Zoë Ünïcødé 日本語 🎉,O=Ãcme" },
  { name: "s-rtl", args: ["--subject", "CN=\u202eevil\u202c,O=Acme"], user: "CN=\u202eevil\u202c,O=Acme" },
  { name: "s-brace-block", args: ["--subject", "CN=} authorization { users = [ { user: x } ] },O=Acme"], user: "CN=} authorization { users \\= [ { user: x } ] },O=Acme" }, // "=" is escaped for the server's DN stage
];

interface Issued extends Client {
  cert: string;
  key: string;
}
const issued: Issued[] = [];
let natsUsers: Record<string, string | null> = {};
let snippet: string;
let server: NatsServer;

beforeAll(async () => {
  tool("nats-server");
  cli(["server", "issue", "nats1", "--dns", "localhost", "--ip", "127.0.0.1"]);
  for (const c of CORPUS) {
    cli(["client", "issue", c.name, ...c.args]);
    issued.push({ ...c, cert: path.join(store.dir, "issued", `${c.name}.crt`), key: path.join(store.dir, "private", `${c.name}.key`) });
  }
  // a CSR made by OpenSSL with hostile subject bytes; client sign keeps them
  const r = openssl(
    ["req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", "ossl.key", "-out", "ossl.csr", "-subj", '/O=Acme/CN=x"}{$y #z \\/\\/w', "-utf8"],
    { cwd: store.cwd },
  );
  expect(r.code).toBe(0);
  cli(["client", "sign", "ossl.csr"]);
  issued.push({ name: "ossl", args: [], user: 'CN=x\\"}{$y #z //w,O=Acme', cert: path.join(store.dir, "issued", "ossl.crt"), key: path.join(store.cwd, "ossl.key") });
  // left out of the snippet
  cli(["client", "issue", "excluded", "--email", "excluded@example.com"]);

  natsUsers = Object.fromEntries((JSON.parse(cli(["list", "--json"]).stdout) as any[]).map((e) => [e.name, e.natsUser]));
  snippet = path.join(store.cwd, "mtls.conf");
  cli(["config", "nats", "--exclude", "excluded", "--out", snippet]);
  server = await startNatsServer(snippet); // runs nats-server -t first: it must accept the snippet
}, 120_000);

afterAll(async () => {
  await stopAllNatsServers();
});

test("the hand-written users are what list --json predicts", () => {
  expect(Object.fromEntries(issued.map((c) => [c.name, natsUsers[c.name]]))).toEqual(Object.fromEntries(issued.map((c) => [c.name, c.user])));
});

test("the config reader finds exactly the intended users, as many as intended, and nothing else", () => {
  const conf = readServerConfig(server.configFile, {}, { cwd: server.dir });
  const users = conf.users.map((u) => u.user);
  expect(users).toHaveLength(issued.length);
  expect(new Set(users)).toEqual(new Set(issued.map((c) => c.user)));
  expect(conf.users.every((u) => u.account === null && u.password === undefined && u.nkey === undefined)).toBe(true);
  expect(conf.accounts).toEqual([]);
  // nothing but tls {} and authorization {} at the top of the snippet (no injected block or include)
  const top = readServerConfig(snippet, {}, { cwd: server.dir, checkFiles: false });
  expect([...top.tree.entries.values()].map((e) => e.key).sort()).toEqual(["authorization", "tls"]);
  expect(top.files).toEqual([snippet]);
  expect(top.variables).toEqual([]);
});

describe("each hostile certificate maps to exactly its user on the real server", () => {
  test.each(CORPUS.map((c) => c.name).concat(["ossl"]))("%s", async (name) => {
    const c = issued.find((x) => x.name === name)!;
    const r = await server.connectAs(c.cert, c.key, caFile);
    if (!r.ok) throw new Error(`${name} refused: ${r.error}\n${server.log().split("\n").slice(-20).join("\n")}`);
    expect(r.user).toBe(c.user);
    expect(r.account).toBeNull();
  });
});

test("a certificate not in the store is refused (another CA, a listed email), and so is an excluded client", async () => {
  cli(["client", "issue", "e-quote", "--email", 'q"uote@example.com'], other);
  const forged = await server.connectAs(path.join(other.dir, "issued", "e-quote.crt"), path.join(other.dir, "private", "e-quote.key"), caFile);
  expect(forged.ok).toBe(false);
  const excluded = await server.connectAs(path.join(store.dir, "issued", "excluded.crt"), path.join(store.dir, "private", "excluded.key"), caFile);
  expect(excluded.ok).toBe(false);
  if (!excluded.ok) expect(excluded.error).toMatch(/Authorization Violation/i);
});

test("values that cannot be expressed are refused at issue and never reach a snippet", () => {
  for (const args of [
    ["--subject", "CN=a\\0Ainclude x.conf,O=Acme"], // a newline escaped in the DN
    ["--subject", "CN=a\\0D\\0Ab"],
    ["--subject", "CN=a\\00b"],
    ["--email", "a\nb@example.com"],
    ["--uri", 'urn:x:"quoted"'],
    ["--uri", "urn:x:{brace}"],
  ]) {
    const r = mtls(["client", "issue", "refused-value", ...args], { cwd: store.cwd, env: store.env });
    expect({ args, code: r.code }).toEqual({ args, code: 3 });
  }
  const text = fs.readFileSync(snippet, "utf8");
  expect(text).not.toMatch(/refused-value|include x\.conf/);
  // and every quoted string in the snippet is one line
  for (const line of text.split("\n")) expect((line.match(/(?<!\\)"/g) ?? []).length % 2).toBe(0);
});
