/**
 * The verifier against every real nats-server of the matrix (Debian's 2.9.10 and
 * scripts/nats-versions.txt), with certificates made by OpenSSL from config files (independent of
 * mtlsctl's own encoder): multi-valued RDNs, DC/UID/emailAddress in the DN, unknown OIDs, BMPString
 * and T61String values, escaped characters, an empty subject, and SANs in an unusual order. For each
 * certificate and each server the server's choice (read from /connz?auth=true) must be the expected
 * user for that version (observed, case by case), and `mtlsctl verify --server-version V --json` must
 * agree. One server at a time, stopped after its version's block.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { openssl, tmpDir, tool } from "./helpers/cli";
import { startServer, probe, verifyCli, stopAll, Server, UserSpec } from "./helpers/oracle";
import { natsServerMatrix } from "./helpers/nats";
import { atLeast } from "../src/nats/versions";

/** A user, or null for a refusal at mapping; `since` when servers differ: each entry from that version on. */
type Want = string | null | { since: [version: string, user: string | null][] };

interface OCase {
  id: string;
  why: string;
  /** openssl -subj (with -multivalue-rdn when it has "+") */
  subj: string;
  /** req config string_mask (default utf8only) */
  mask?: string;
  san?: string;
  /** the user the server must pick (reference §5), or null for a refusal at mapping; per version where they differ */
  want: Want;
  /** the user entry to configure (defaults to every user `want` names) */
  user?: UserSpec["user"];
}

const CASES: OCase[] = [
  { id: "O1", why: "multi-valued RDN {O+OU} / CN: Go flattens it (D13)", subj: "/O=Acme+OU=eng/CN=mv", want: "CN=mv,OU=eng,O=Acme" },
  { id: "O2", why: "multi-valued RDN: the DN stage sees it whole (D12)", subj: "/O=Acme2+OU=eng2/CN=mv2", want: "CN=mv2,OU=eng2+O=Acme2" },
  { id: "O3", why: "DC, DC, UID, CN: the DC string (D18)", subj: "/DC=org/DC=example/UID=u1/CN=dcuser", want: "CN=dcuser,DC=org,DC=example" },
  { id: "O4", why: "emailAddress in the DN: no DN stage, Go string (E7)", subj: "/O=Acme/CN=emailer/emailAddress=emailer@example.com", want: "CN=emailer,O=Acme" },
  { id: "O5", why: "an unknown OID is dropped from Go's string", subj: "/1.3.6.1.4.1.99999.7=odd/CN=oidman", want: "CN=oidman" },
  { id: "O6", why: "BMPString value decoded to UTF-8 (D30)", subj: "/CN=Zoë", mask: "pkix", want: "CN=Zoë" },
  // Go 1.19 (Debian's 2.9.10) keeps the T61String's raw byte; the matrix's Go 1.26 builds decode it as ISO 8859-1
  { id: "O7", why: "T61String raw byte: U+FFFD in Go 1.19's string (U2), Latin-1 from 2.9.25 (Go 1.26)", subj: "/CN=Josè", mask: "default", want: { since: [["2.9.10", "CN=Jos\uFFFD"], ["2.9.25", "CN=Josè"]] } },
  { id: "O8", why: "escaped comma and plus in values", subj: "/O=Acme\\, Inc./CN=a\\+b", want: "CN=a\\+b,O=Acme\\, Inc." },
  { id: "O9", why: "PrintableString reordered RDNs match order-insensitively (D2)", subj: "/CN=rev/O=RevCo", want: "O=RevCo,CN=rev" },
  { id: "O10", why: "empty subject with an email SAN (E15)", subj: "/", san: "email:nobody@example.com", want: "nobody@example.com" },
  { id: "O11", why: "SANs in URI, DNS, email order: email first (E4)", subj: "/CN=order", san: "URI:spiffe://example.org/order,DNS:order.example.com,email:order@example.com", want: "order@example.com" },
  { id: "O12", why: "URI with an upper-case scheme, as Go rewrites it (E11)", subj: "/CN=urix", san: "URI:SPIFFE://Example.org/UriX", want: "spiffe://Example.org/UriX" },
  { id: "O13", why: "value case differs: no match (D4)", subj: "/CN=Casey/O=Acme", want: null, user: "CN=casey,O=Acme" },
  { id: "O14", why: "IP SANs are never used (E8)", subj: "/CN=iponly", san: "IP:127.0.0.9", want: null, user: "127.0.0.9" },
  // the two mapping changes of the matrix, on OpenSSL-made certificates
  { id: "O15", why: "set-style RDNsMatch: CN=setcn,CN=setcn matches O=Acme/CN=setcn until 2.11.15 and 2.12.6 (D20)", subj: "/O=Acme/CN=setcn", user: "CN=setcn,CN=setcn", want: { since: [["2.9.10", "CN=setcn,CN=setcn"], ["2.11.15", null], ["2.12.0", "CN=setcn,CN=setcn"], ["2.12.6", null]] } },
  { id: "O16", why: "empty subject with only a DNS SAN: 'User required in cert, none found' before 2.12.9 and 2.14.1 (E14)", subj: "/", san: "DNS:dnsonly.example.com", user: "dnsonly.example.com", want: { since: [["2.9.10", null], ["2.12.9", "dnsonly.example.com"], ["2.13.0", null], ["2.14.1", "dnsonly.example.com"]] } },
];

/** The case's expected user on this server version. */
function wantFor(c: OCase, version: string): string | null {
  if (c.want === null || typeof c.want === "string") return c.want;
  let w: string | null | undefined;
  for (const [v, u] of c.want.since) if (atLeast(version, v)) w = u;
  if (w === undefined) throw new Error(`${c.id}: no expectation for ${version}`);
  return w;
}
/** The users[] entries a case needs: its `user`, else every user it expects on some version. */
function usersOf(c: OCase): UserSpec["user"][] {
  if (c.user !== undefined) return [c.user];
  const all = c.want === null || typeof c.want === "string" ? [c.want] : c.want.since.map(([, u]) => u);
  return [...new Set(all.filter((u): u is string => u !== null))];
}

const MATRIX = natsServerMatrix();
let work = "";
const servers: Server[] = [];
/** By `${version}/${case id}`. */
const results = new Map<string, { server: { connected: boolean; user: string | null }; verifier: { accepted: boolean; user: string | null; serverVersion: string } }>();

function sh(args: string[], cwd: string) {
  const r = openssl(args, { cwd });
  if (r.code !== 0) throw new Error(`openssl ${args.join(" ")}: ${r.stdout}${r.stderr}`);
}

let spec: Parameters<typeof startServer>[2];

beforeAll(() => {
  tool("nats-server");
  work = tmpDir("mtlsctl-oracle-openssl-");
  // two CAs made by openssl: one for clients, one for the server (so the client never appends its issuer)
  for (const ca of ["client-ca", "server-ca"]) {
    sh(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", `${ca}.key`, "-out", `${ca}.crt`, "-subj", `/CN=OpenSSL ${ca}`, "-days", "30", "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"], work);
  }
  fs.writeFileSync(path.join(work, "server.ext"), "basicConstraints=critical,CA:FALSE\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n");
  sh(["req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost"], work);
  sh(["x509", "-req", "-in", "server.csr", "-CA", "server-ca.crt", "-CAkey", "server-ca.key", "-CAcreateserial", "-out", "server.crt", "-days", "30", "-extfile", "server.ext"], work);

  for (const c of CASES) {
    const cfg = `[req]\ndistinguished_name = dn\nstring_mask = ${c.mask ?? "utf8only"}\nutf8 = yes\nprompt = no\n[dn]\n`;
    fs.writeFileSync(path.join(work, `${c.id}.cnf`), cfg);
    const ext = ["basicConstraints=critical,CA:FALSE", "keyUsage=critical,digitalSignature", "extendedKeyUsage=clientAuth", ...(c.san ? [`subjectAltName=${c.san}`] : [])];
    fs.writeFileSync(path.join(work, `${c.id}.ext`), ext.join("\n") + "\n");
    const req = ["req", "-new", "-config", `${c.id}.cnf`, "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", `${c.id}.key`, "-out", `${c.id}.csr`, "-utf8", "-subj", c.subj];
    if (c.subj.includes("+")) req.push("-multivalue-rdn");
    sh(req, work);
    sh(["x509", "-req", "-in", `${c.id}.csr`, "-CA", "client-ca.crt", "-CAkey", "client-ca.key", "-CAcreateserial", "-out", `${c.id}.crt`, "-days", "30", "-extfile", `${c.id}.ext`], work);
  }

  const users: UserSpec[] = CASES.flatMap((c) => usersOf(c).map((user) => ({ user })));
  spec = { tls: { caFile: path.join(work, "client-ca.crt"), certFile: path.join(work, "server.crt"), keyFile: path.join(work, "server.key") }, users };
});

afterAll(async () => {
  await stopAll(servers);
  for (const { version } of MATRIX) {
    const agree = CASES.filter((c) => {
      const r = results.get(`${version}/${c.id}`);
      return r && r.server.connected === r.verifier.accepted && r.server.user === r.verifier.user;
    }).length;
    console.log(`agreement on nats-server ${version}: ${agree}/${CASES.length} (openssl-made certificates)`);
  }
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

describe.each(MATRIX)("nats-server $version", ({ version, bin }) => {
  // one server per version, the versions one after another (2 shared cores)
  beforeAll(async () => {
    const server = await startServer(work, `openssl-oracle-v${version}`, spec, { bin });
    servers.push(server);
    try {
      const verifying = verifyCli(server.configFile, CASES.map((c) => path.join(work, `${c.id}.crt`)), { dir: work, serverVersion: version, serverCwd: work });
      verifying.catch(() => undefined); // awaited below
      const observed = [];
      for (const c of CASES) observed.push(await probe(server, { cert: path.join(work, `${c.id}.crt`), key: path.join(work, `${c.id}.key`) }, path.join(work, "server-ca.crt")));
      const verdicts = await verifying;
      for (const [i, c] of CASES.entries()) results.set(`${version}/${c.id}`, { server: { connected: observed[i].connected, user: observed[i].user }, verifier: { accepted: verdicts[i].accepted, user: verdicts[i].user, serverVersion: verdicts[i].serverVersion } });
    } finally {
      await server.stop();
    }
  }, 60_000);

  test.each(CASES.map((c) => [`${c.id}: ${c.why}`, c] as const))("%s", (_t, c) => {
    const r = results.get(`${version}/${c.id}`);
    if (!r) throw new Error(`${c.id}: no outcome on ${version} (setup failed)`);
    const user = wantFor(c, version);
    const want = { connected: user !== null, user };
    // the real server does what the reference says for this version, and the verifier predicts exactly that
    expect({ id: c.id, version, server: r.server }).toEqual({ id: c.id, version, server: want });
    expect({ id: c.id, version, verifier: r.verifier }).toEqual({ id: c.id, version, verifier: { accepted: want.connected, user: want.user, serverVersion: version } });
  });
});
