/**
 * The proof against the real server: certificates issued by mtlsctl, a snippet written by
 * `mtlsctl config nats`, the Debian nats-server 2.9.10 binary, and the npm `nats` client.
 * For every client, the user the server reports in /connz?auth=true must be exactly the
 * natsUser that `mtlsctl list --json` predicts, and the value written here by hand.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { makeStore, mtlsOk, openssl, run, tool } from "./helpers/cli";
import { startNatsServer, stopAllNatsServers, NatsServer, ConnectResult } from "./helpers/nats";

jest.setTimeout(60_000);

type Store = ReturnType<typeof makeStore>;

interface Client {
  name: string;
  /** The user string the server must report, written by hand. */
  expect: string;
  /** With `config nats --map dn`: the user string, written by hand. */
  expectDn: string;
  /** The tier the server's debug log must name, written by hand. */
  via: "email" | "dns" | "uri" | "dn";
  key: string; // path of the private key
  cert: string;
}

const store: Store = makeStore({ name: "Proof CA" });
const other: Store = makeStore({ name: "Other CA" });
const work = path.join(store.cwd, "work");
fs.mkdirSync(work);
const caFile = path.join(store.dir, "ca.crt");
const cli = (args: string[], s: Store = store) => mtlsOk(args, { cwd: s.cwd, env: s.env });
const issued = (s: Store, name: string) => path.join(s.dir, "issued", `${name}.crt`);
const privKey = (s: Store, name: string) => path.join(s.dir, "private", `${name}.key`);

const clients: Client[] = [];
function issueClient(name: string, args: string[], expect: string, via: Client["via"], expectDn: string): void {
  cli(["client", "issue", name, ...args]);
  clients.push({ name, expect, via, expectDn, key: privKey(store, name), cert: issued(store, name) });
}

function describeResult(r: ConnectResult, server: NatsServer): string {
  return r.ok ? `mapped to ${JSON.stringify(r.user)}` : `refused: ${r.error} (${r.code})\n--- server log (tail)\n${server.log().split("\n").slice(-30).join("\n")}`;
}

/** Connects as the client; fails with the server's log when the connection is refused. */
async function mappedUser(server: NatsServer, c: { cert: string; key: string }): Promise<{ user: string | null; account: string | null; via: string | null }> {
  const r = await server.connectAs(c.cert, c.key, caFile);
  if (!r.ok) throw new Error(`${c.cert}: ${describeResult(r, server)}`);
  return { user: r.user, account: r.account, via: r.via };
}

let natsUsers: Record<string, string | null> = {};
/** `config nats --json`: each client's user string and the tier mtlsctl says it maps by. */
let configUsers: Record<string, { user: string; kind: string }> = {};
let main: NatsServer;

beforeAll(async () => {
  tool("nats-server"); // missing binary: fail here, never skip
  cli(["server", "issue", "nats1", "--dns", "localhost", "--ip", "127.0.0.1"]);

  // one client per mapping path and key type
  issueClient("alice", ["--email", "alice@example.com"], "alice@example.com", "email", "CN=alice");
  issueClient("web", ["--dns", "web.example.com"], "web.example.com", "dns", "CN=web"); // DNS SAN only; subject CN=web
  issueClient("svc", ["--uri", "spiffe://example.org/svc"], "spiffe://example.org/svc", "uri", "CN=svc");
  issueClient("carol", ["--subject", "CN=carol,OU=ops,O=Acme"], "CN=carol,OU=ops,O=Acme", "dn", "CN=carol,OU=ops,O=Acme");
  // RFC 4514 escaping on input: `,` `+` `"` `\` and non-ASCII; written in canonical order O, OU, CN
  issueClient(
    "smith",
    ["--subject", String.raw`CN=Smith\, John \+ José,OU=Back\\slash,O=Acme \"Q\" Inc`],
    String.raw`CN=Smith\, John \+ José,OU=Back\\slash,O=Acme \"Q\" Inc`,
    "dn",
    String.raw`CN=Smith\, John \+ José,OU=Back\\slash,O=Acme \"Q\" Inc`,
  );
  // `=` in a value: Go's string leaves it bare, the DN stage needs `\=`; a leading `#` and edge spaces
  issueClient("eq", ["--subject", String.raw`CN=k\=v,O=Acme`], String.raw`CN=k\=v,O=Acme`, "dn", String.raw`CN=k\=v,O=Acme`);
  issueClient("pad", ["--subject", String.raw`CN=\ pad\ ,O=\#1`], String.raw`CN=\ pad\ ,O=\#1`, "dn", String.raw`CN=\ pad\ ,O=\#1`);
  // other key types
  issueClient("rsa1", ["--email", "rsa1@example.com", "--key", "rsa-2048"], "rsa1@example.com", "email", "CN=rsa1");
  issueClient("ed1", ["--subject", "CN=ed1,O=Acme", "--key", "ed25519"], "CN=ed1,O=Acme", "dn", "CN=ed1,O=Acme");

  // client csr (on the client's machine) then client sign (on the CA)
  const csrDir = path.join(work, "csr");
  fs.mkdirSync(csrDir);
  mtlsOk(["client", "csr", "dave", "--email", "dave@example.com", "--out-dir", csrDir], { cwd: work, env: {} });
  cli(["client", "sign", path.join(csrDir, "dave.csr")]);
  clients.push({ name: "dave", expect: "dave@example.com", via: "email", expectDn: "CN=dave", key: path.join(csrDir, "dave.key"), cert: issued(store, "dave") });
  mtlsOk(["client", "csr", "frank", "--subject", "CN=frank,O=Acme", "--key", "ec-p384", "--out-dir", csrDir], { cwd: work, env: {} });
  cli(["client", "sign", path.join(csrDir, "frank.csr")]);
  clients.push({ name: "frank", expect: "CN=frank,O=Acme", via: "dn", expectDn: "CN=frank,O=Acme", key: path.join(csrDir, "frank.key"), cert: issued(store, "frank") });

  // CSRs made by OpenSSL, signed by mtlsctl (the CSR's subject bytes are kept)
  const ossl = (name: string, subj: string, extra: string[]) => {
    const r = openssl(
      ["req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", subj, ...extra],
      { cwd: csrDir },
    );
    if (r.code !== 0) throw new Error(`openssl req: ${r.stdout}${r.stderr}`);
    cli(["client", "sign", path.join(csrDir, `${name}.csr`)]);
  };
  ossl("erin", "/O=Acme/CN=erin", ["-addext", "subjectAltName=email:erin@example.com"]);
  clients.push({ name: "erin", expect: "erin@example.com", via: "email", expectDn: "CN=erin,O=Acme", key: path.join(csrDir, "erin.key"), cert: issued(store, "erin") });
  // OpenSSL's order (CN first in DER): the DN stage reads it as O=Acme,CN=gina; Go's string says CN=gina,O=Acme
  ossl("gina", "/CN=gina/O=Acme", []);
  clients.push({ name: "gina", expect: "O=Acme,CN=gina", via: "dn", expectDn: "O=Acme,CN=gina", key: path.join(csrDir, "gina.key"), cert: issued(store, "gina") });

  const list = JSON.parse(cli(["list", "--json"]).stdout) as { name: string; natsUser: string | null }[];
  natsUsers = Object.fromEntries(list.map((e) => [e.name, e.natsUser]));

  const snippet = path.join(work, "mtls.conf");
  const out = JSON.parse(cli(["config", "nats", "--out", snippet, "--json"]).stdout) as { users: { name: string; user: string; kind: string }[] };
  configUsers = Object.fromEntries(out.users.map((u) => [u.name, { user: u.user, kind: u.kind }]));
  main = await startNatsServer(snippet);
}, 120_000);

afterAll(async () => {
  await stopAllNatsServers();
  for (const s of [store, other]) fs.rmSync(s.cwd, { recursive: true, force: true });
});

describe("nats-server 2.9.10 maps every mtlsctl client to the natsUser mtlsctl predicts", () => {
  test("the hand-written expectations are what `mtlsctl list --json` reports", () => {
    expect(Object.fromEntries(clients.map((c) => [c.name, natsUsers[c.name]]))).toEqual(Object.fromEntries(clients.map((c) => [c.name, c.expect])));
  });

  test("the snippet lists exactly those users, by the tiers written by hand", () => {
    expect(configUsers).toEqual(Object.fromEntries(clients.map((c) => [c.name, { user: c.expect, kind: c.via }])));
  });

  const names = ["alice", "web", "svc", "carol", "smith", "eq", "pad", "rsa1", "ed1", "dave", "frank", "erin", "gina"];
  test.each(names)("%s", async (name) => {
    const c = clients.find((x) => x.name === name);
    expect(c).toBeDefined();
    const got = await mappedUser(main, c!);
    expect(got.user).toBe(c!.expect);
    expect(got.user).toBe(natsUsers[name]);
    expect(got.via).toBe(c!.via); // the server's own log names the tier mtlsctl predicted
    expect(got.account).toBeNull(); // the global account
  });

  test("every client of the store is covered above", () => {
    const inStore = Object.entries(natsUsers)
      .filter(([, u]) => u !== null)
      .map(([n]) => n)
      .sort();
    expect(inStore).toEqual([...names].sort());
  });

  test("a certificate from another CA is refused, even with a configured user's email", async () => {
    mtlsOk(["client", "issue", "alice", "--email", "alice@example.com"], { cwd: other.cwd, env: other.env });
    const otherList = JSON.parse(mtlsOk(["list", "--json"], { cwd: other.cwd, env: other.env }).stdout) as { name: string; natsUser: string | null }[];
    expect(otherList.find((e) => e.name === "alice")?.natsUser).toBe("alice@example.com");
    const r = await main.connectAs(issued(other, "alice"), privKey(other, "alice"), caFile);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.code).not.toBe("AUTHORIZATION_VIOLATION"); // refused by TLS, before any mapping
    // the server says why
    const deadline = Date.now() + 3000;
    while (!/unknown authority/.test(main.log()) && Date.now() < deadline) await new Promise((res) => setTimeout(res, 50));
    expect(main.log()).toMatch(/TLS handshake error: .*certificate signed by unknown authority/);
    // and the right client still maps
    expect((await mappedUser(main, clients[0])).user).toBe("alice@example.com");
  });
});

describe("the include line that `config nats --out` suggests", () => {
  test("loads in nats-server when written into a config beside the snippet (an absolute include would not)", () => {
    const dir = path.join(work, "etc-nats");
    fs.mkdirSync(dir);
    const snippet = path.join(dir, "mtls.conf");
    const r = cli(["config", "nats", "--out", snippet]);
    const m = r.stderr.match(/include "([^"]+)"/);
    expect(m).not.toBeNull();
    const conf = path.join(dir, "nats-server.conf");
    fs.writeFileSync(conf, `listen: 127.0.0.1:4222\ninclude "${m![1]}"\n`);
    const ok = run(tool("nats-server"), ["-t", "-c", conf], { cwd: "/" });
    expect(ok.stdout + ok.stderr).toMatch(/is valid/);
    expect(ok.code).toBe(0);
    // nats-server 2.9.10 joins even an absolute include path onto the config's directory
    fs.writeFileSync(conf, `listen: 127.0.0.1:4222\ninclude ${JSON.stringify(snippet)}\n`);
    const abs = run(tool("nats-server"), ["-t", "-c", conf], { cwd: "/" });
    expect(abs.code).not.toBe(0);
    expect(abs.stdout + abs.stderr).toContain(path.join(dir, snippet));
  });
});

describe("config nats --exclude", () => {
  let server: NatsServer;
  beforeAll(async () => {
    const snippet = path.join(work, "mtls-excl.conf");
    cli(["config", "nats", "--exclude", "carol", "--out", snippet]);
    expect(fs.readFileSync(snippet, "utf8")).not.toContain('"CN=carol,OU=ops,O=Acme"');
    server = await startNatsServer(snippet);
  });

  test("the excluded client is refused with Authorization Violation", async () => {
    const carol = clients.find((c) => c.name === "carol")!;
    const r = await server.connectAs(carol.cert, carol.key, caFile);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.code).toBe("AUTHORIZATION_VIOLATION");
    expect(r.error).toMatch(/Authorization Violation/);
  });

  test("every other client still maps to its natsUser", async () => {
    const got: Record<string, string | null> = {};
    for (const c of clients.filter((x) => x.name !== "carol")) got[c.name] = (await mappedUser(server, c)).user;
    const want = Object.fromEntries(clients.filter((x) => x.name !== "carol").map((c) => [c.name, natsUsers[c.name]]));
    expect(got).toEqual(want);
  });
});

describe("config nats --map dn", () => {
  let server: NatsServer;
  let dnUsers: Record<string, string> = {};
  beforeAll(async () => {
    const snippet = path.join(work, "mtls-dn.conf");
    const out = JSON.parse(cli(["config", "nats", "--map", "dn", "--out", snippet, "--json"]).stdout) as { users: { name: string; user: string; kind: string }[] };
    dnUsers = Object.fromEntries(out.users.map((u) => [u.name, u.user]));
    server = await startNatsServer(snippet);
  });

  test("the users of --map dn are the subjects, as written by hand", () => {
    expect(dnUsers).toEqual(Object.fromEntries(clients.map((c) => [c.name, c.expectDn])));
  });

  test("an email certificate maps by its DN", async () => {
    const alice = clients.find((c) => c.name === "alice")!;
    const got = await mappedUser(server, alice);
    expect(got.user).toBe("CN=alice");
    expect(got.via).toBe("dn");
  });

  test("every client maps by its DN", async () => {
    const got: Record<string, string | null> = {};
    for (const c of clients) got[c.name] = (await mappedUser(server, c)).user;
    expect(got).toEqual(dnUsers);
  });
});
