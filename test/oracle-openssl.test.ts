/**
 * The verifier against the real nats-server 2.9.10, with certificates made by OpenSSL from config
 * files (independent of mtlsctl's own encoder): multi-valued RDNs, DC/UID/emailAddress in the DN,
 * unknown OIDs, BMPString and T61String values, escaped characters, an empty subject, and SANs in
 * an unusual order. For each certificate the server's choice (read from /connz?auth=true) must be
 * the reference's expected user, and `mtlsctl verify --server-version 2.9.10 --json` must agree.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { openssl, tmpDir, tool } from "./helpers/cli";
import { startServer, probe, verifyCli, stopAll, Server, UserSpec } from "./helpers/oracle";

interface OCase {
  id: string;
  why: string;
  /** openssl -subj (with -multivalue-rdn when it has "+") */
  subj: string;
  /** req config string_mask (default utf8only) */
  mask?: string;
  san?: string;
  /** the user the server must pick (reference §5), or null for a refusal at mapping */
  want: string | null;
  /** the user entry to configure (defaults to `want`) */
  user?: UserSpec["user"];
}

const CASES: OCase[] = [
  { id: "O1", why: "multi-valued RDN {O+OU} / CN: Go flattens it (D13)", subj: "/O=Acme+OU=eng/CN=mv", want: "CN=mv,OU=eng,O=Acme" },
  { id: "O2", why: "multi-valued RDN: the DN stage sees it whole (D12)", subj: "/O=Acme2+OU=eng2/CN=mv2", want: "CN=mv2,OU=eng2+O=Acme2" },
  { id: "O3", why: "DC, DC, UID, CN: the DC string (D18)", subj: "/DC=org/DC=example/UID=u1/CN=dcuser", want: "CN=dcuser,DC=org,DC=example" },
  { id: "O4", why: "emailAddress in the DN: no DN stage, Go string (E7)", subj: "/O=Acme/CN=emailer/emailAddress=emailer@example.com", want: "CN=emailer,O=Acme" },
  { id: "O5", why: "an unknown OID is dropped from Go's string", subj: "/1.3.6.1.4.1.99999.7=odd/CN=oidman", want: "CN=oidman" },
  { id: "O6", why: "BMPString value decoded to UTF-8 (D30)", subj: "/CN=Zoë", mask: "pkix", want: "CN=Zoë" },
  { id: "O7", why: "T61String raw byte: Go's string has U+FFFD (U2)", subj: "/CN=Josè", mask: "default", want: "CN=Jos\uFFFD" },
  { id: "O8", why: "escaped comma and plus in values", subj: "/O=Acme\\, Inc./CN=a\\+b", want: "CN=a\\+b,O=Acme\\, Inc." },
  { id: "O9", why: "PrintableString reordered RDNs match order-insensitively (D2)", subj: "/CN=rev/O=RevCo", want: "O=RevCo,CN=rev" },
  { id: "O10", why: "empty subject with an email SAN (E15)", subj: "/", san: "email:nobody@example.com", want: "nobody@example.com" },
  { id: "O11", why: "SANs in URI, DNS, email order: email first (E4)", subj: "/CN=order", san: "URI:spiffe://example.org/order,DNS:order.example.com,email:order@example.com", want: "order@example.com" },
  { id: "O12", why: "URI with an upper-case scheme, as Go rewrites it (E11)", subj: "/CN=urix", san: "URI:SPIFFE://Example.org/UriX", want: "spiffe://Example.org/UriX" },
  { id: "O13", why: "value case differs: no match (D4)", subj: "/CN=Casey/O=Acme", want: null, user: "CN=casey,O=Acme" },
  { id: "O14", why: "IP SANs are never used (E8)", subj: "/CN=iponly", san: "IP:127.0.0.9", want: null, user: "127.0.0.9" },
];

let work = "";
const servers: Server[] = [];
const results = new Map<string, { server: { connected: boolean; user: string | null }; verifier: { accepted: boolean; user: string | null } }>();

function sh(args: string[], cwd: string) {
  const r = openssl(args, { cwd });
  if (r.code !== 0) throw new Error(`openssl ${args.join(" ")}: ${r.stdout}${r.stderr}`);
}

beforeAll(async () => {
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

  const users: UserSpec[] = CASES.map((c) => ({ user: c.user ?? c.want! }));
  const spec = { tls: { caFile: path.join(work, "client-ca.crt"), certFile: path.join(work, "server.crt"), keyFile: path.join(work, "server.key") }, users };
  const server = await startServer(work, "openssl-oracle", spec);
  servers.push(server);
  const verdicts = await verifyCli(server.configFile, CASES.map((c) => path.join(work, `${c.id}.crt`)), { dir: work, serverVersion: "2.9.10", serverCwd: work });
  for (const [i, c] of CASES.entries()) {
    const o = await probe(server, { cert: path.join(work, `${c.id}.crt`), key: path.join(work, `${c.id}.key`) }, path.join(work, "server-ca.crt"));
    results.set(c.id, { server: { connected: o.connected, user: o.user }, verifier: { accepted: verdicts[i].accepted, user: verdicts[i].user } });
  }
  await server.stop();
}, 90_000);

afterAll(async () => {
  await stopAll(servers);
  const agree = [...results.values()].filter((r) => r.server.connected === r.verifier.accepted && r.server.user === r.verifier.user).length;
  console.log(`agreement: ${agree}/${CASES.length} (openssl-made certificates, nats-server 2.9.10)`);
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

test.each(CASES.map((c) => [`${c.id}: ${c.why}`, c] as const))("%s", (_t, c) => {
  const r = results.get(c.id);
  if (!r) throw new Error(`${c.id}: no outcome (setup failed)`);
  const want = { connected: c.want !== null, user: c.want };
  // the real server does what the reference says, and the verifier predicts exactly that
  expect({ id: c.id, server: r.server }).toEqual({ id: c.id, server: want });
  expect({ id: c.id, verifier: r.verifier }).toEqual({ id: c.id, verifier: { accepted: want.connected, user: want.user } });
});
