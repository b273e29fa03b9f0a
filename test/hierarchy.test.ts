/**
 * Issue 10, parts 1 and 2: intermediate CAs (online and offline) and name constraints.
 *
 * Proof against the real tools: the real nats-server 2.9.10 with `config nats` output (ca_file =
 * roots.pem, the server's cert_file = leaf + intermediate) maps a client of the intermediate through
 * the chain, and refuses at TLS a client that violates the intermediate's name constraints (built with
 * openssl, since mtlsctl refuses to sign it) and a client that sends its leaf alone; `openssl verify`
 * with the chain agrees; `mtlsctl verify --config` agrees with the server on each.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { hashTree, mtls, mtlsOk, openssl, tmpDir, tool } from "./helpers/cli";
import { startNatsServer, stopAllNatsServers, NatsServer } from "./helpers/nats";
import { dn, issue, makeCa, OID, San, writePair } from "./helpers/certs";
import { nameConstraintsExtension, NameConstraintsSpec } from "../src/pki/constraints";
import { verifyClientChain } from "../src/verify/chain";
import { parseCertificate } from "../src/pki/cert";
import { readInventory } from "./helpers/inventory";

jest.setTimeout(120_000);

const cwd = tmpDir("mtlsctl-hier-");
const env = { MTLSCTL_PASSPHRASE: "inter-pass", MTLSCTL_ROOT_PASSPHRASE: "root-pass", MTLSCTL_DIR: undefined };
const rootDir = path.join(cwd, "pki-root");
const dir = path.join(cwd, "pki");
const cli = (args: string[], extraEnv: Record<string, string | undefined> = {}) => mtlsOk(args, { cwd, env: { ...env, ...extraEnv } });
const cliRaw = (args: string[], extraEnv: Record<string, string | undefined> = {}) => mtls(args, { cwd, env: { ...env, ...extraEnv } });
const certsIn = (file: string) => (fs.readFileSync(file, "utf8").match(/-----BEGIN CERTIFICATE-----/g) ?? []).length;
const subjectOf = (file: string) => openssl(["x509", "-in", file, "-noout", "-subject", "-nameopt", "RFC2253"]).stdout.trim().replace(/^subject=/, "");
const fingerprintOf = (pem: string) => openssl(["x509", "-noout", "-fingerprint", "-sha256"], { input: pem }).stdout.trim();
const pemBlocks = (file: string) => fs.readFileSync(file, "utf8").match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----\n/g) ?? [];
const issued = (name: string, d = dir) => path.join(d, "issued", `${name}.crt`);
const fullchain = (name: string, d = dir) => path.join(d, "issued", `${name}.fullchain.pem`);
const keyOf = (name: string, d = dir) => path.join(d, "private", `${name}.key`);

beforeAll(() => {
  tool("openssl");
  tool("nats-server");
  cli(["ca", "init", "--dir", rootDir, "--name", "Hier Root", "--path-len", "1", "--passphrase-file", writeSecret("root-pass")]);
  cli([
    "ca", "init", "--intermediate", "--root-dir", rootDir, "--dir", dir, "--name", "Hier Issuing", "--path-len", "0",
    "--permit-email-domain", "example.com", "--permit-dns", "example.com", "--permit-dns", "localhost", "--exclude-dns", "bad.example.com",
  ]);
});

afterAll(async () => {
  await stopAllNatsServers();
  fs.rmSync(cwd, { recursive: true, force: true });
});

function writeSecret(s: string): string {
  const f = path.join(cwd, `secret-${s}`);
  fs.writeFileSync(f, s + "\n", { mode: 0o600 });
  return f;
}

describe("ca init --intermediate --root-dir (online)", () => {
  test("the store holds the intermediate, chain.pem (it alone) and roots.pem (the root)", () => {
    expect(subjectOf(path.join(dir, "ca.crt"))).toBe("CN=Hier Issuing");
    expect(certsIn(path.join(dir, "chain.pem"))).toBe(1);
    expect(pemBlocks(path.join(dir, "chain.pem"))[0]).toBe(fs.readFileSync(path.join(dir, "ca.crt"), "utf8"));
    expect(pemBlocks(path.join(dir, "roots.pem"))).toEqual([fs.readFileSync(path.join(rootDir, "ca.crt"), "utf8")]);
    // openssl: the intermediate chains to the root, and carries pathlen:0 and critical name constraints
    expect(openssl(["verify", "-CAfile", path.join(dir, "roots.pem"), path.join(dir, "ca.crt")]).code).toBe(0);
    const text = openssl(["x509", "-in", path.join(dir, "ca.crt"), "-noout", "-text"]).stdout;
    expect(text).toMatch(/CA:TRUE, pathlen:0/);
    expect(text).toMatch(/X509v3 Name Constraints: critical\s+Permitted:\s+email:example\.com\s+DNS:example\.com\s+DNS:localhost\s+Excluded:\s+DNS:bad\.example\.com/);
    expect(text).toMatch(/X509v3 Authority Key Identifier/);
  });

  test("the root store records the intermediate it signed (list, kind ca)", () => {
    const list = JSON.parse(cli(["list", "--json", "--dir", rootDir]).stdout) as { name: string; kind: string; subject: string; status: string }[];
    const sub = list.find((r) => r.subject === "CN=Hier Issuing");
    expect(sub).toMatchObject({ name: "Hier-Issuing", kind: "ca", status: "valid" });
    expect(fs.existsSync(path.join(rootDir, "issued", "Hier-Issuing.crt"))).toBe(true);
  });

  test("ca show: path length, constraints, chain and roots", () => {
    const show = JSON.parse(cli(["ca", "show", "--json", "--dir", dir]).stdout);
    expect(show.pathLen).toBe(0);
    expect(show.nameConstraints.permitted).toEqual({ dns: ["example.com", "localhost"], email: ["example.com"], uri: [], ip: [] });
    expect(show.nameConstraints.excluded.dns).toEqual(["bad.example.com"]);
    expect(show.chain.map((c: { subject: string }) => c.subject)).toEqual(["CN=Hier Issuing"]);
    expect(show.roots.map((c: { subject: string }) => c.subject)).toEqual(["CN=Hier Root"]);
  });
});

describe("path length", () => {
  test("a CA with path length 0 cannot sign a sub-CA: exit 3, nothing written", () => {
    const before = hashTree(dir);
    const r = cliRaw(["ca", "init", "--intermediate", "--root-dir", dir, "--dir", path.join(cwd, "sub"), "--name", "Too Deep"], { MTLSCTL_ROOT_PASSPHRASE: "inter-pass" });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/^mtlsctl: the CA "CN=Hier Issuing" has path length 0: it allows no intermediate below it/);
    expect(fs.existsSync(path.join(cwd, "sub"))).toBe(false);
    expect(hashTree(dir)).toEqual(before);
  });

  test("a root with path length 1 allows one level: a second level under the intermediate is refused by openssl too", () => {
    // build the too-deep chain by hand with openssl: root(pathlen 1) -> inter(pathlen 0) -> sub -> leaf
    const w = path.join(cwd, "deep");
    fs.mkdirSync(w);
    const ext = path.join(w, "ext.cnf");
    fs.writeFileSync(ext, "[ca]\nbasicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n[leaf]\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n");
    const ok = (r: { code: number; stdout: string; stderr: string }) => {
      if (r.code !== 0) throw new Error(r.stdout + r.stderr);
    };
    ok(openssl(["req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", "sub.key", "-out", "sub.csr", "-subj", "/CN=Deep Sub"], { cwd: w }));
    ok(openssl(["x509", "-req", "-in", "sub.csr", "-CA", path.join(dir, "ca.crt"), "-CAkey", path.join(dir, "private", "ca.key"), "-passin", "pass:inter-pass", "-set_serial", "0x5542", "-days", "30", "-extfile", ext, "-extensions", "ca", "-out", "sub.crt"], { cwd: w }));
    ok(openssl(["req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", "leaf.key", "-out", "leaf.csr", "-subj", "/CN=deep"], { cwd: w }));
    ok(openssl(["x509", "-req", "-in", "leaf.csr", "-CA", "sub.crt", "-CAkey", "sub.key", "-set_serial", "0x4c45", "-days", "30", "-extfile", ext, "-extensions", "leaf", "-out", "leaf.crt"], { cwd: w }));
    fs.writeFileSync(path.join(w, "untrusted.pem"), fs.readFileSync(path.join(w, "sub.crt"), "utf8") + fs.readFileSync(path.join(dir, "ca.crt"), "utf8"));
    const v = openssl(["verify", "-CAfile", path.join(dir, "roots.pem"), "-untrusted", path.join(w, "untrusted.pem"), "-purpose", "sslclient", path.join(w, "leaf.crt")]);
    expect(v.code).not.toBe(0);
    expect(v.stdout + v.stderr).toMatch(/path length constraint exceeded/);
    // mtlsctl's verifier (Go's rules) refuses it too
    fs.writeFileSync(path.join(w, "sent.pem"), fs.readFileSync(path.join(w, "leaf.crt"), "utf8") + fs.readFileSync(path.join(w, "untrusted.pem"), "utf8"));
    const e = JSON.parse(cliRaw(["explain", path.join(w, "sent.pem"), "--ca", path.join(dir, "roots.pem"), "--json", "--dir", dir]).stdout);
    expect(e.checks.ok).toBe(false);
    expect(e.checks.error).toBe("x509: too many intermediates for path length constraint");
  });
});

describe("name constraints at signing", () => {
  test("a client outside the constraints is refused: exit 3 naming the SAN and the constraint, nothing written", () => {
    const before = hashTree(dir);
    const r = cliRaw(["client", "issue", "mallory", "--email", "mallory@evil.com", "--dir", dir]);
    expect(r.code).toBe(3);
    expect(r.stderr).toBe('mtlsctl: email SAN "mallory@evil.com" is outside the name constraints of CA "CN=Hier Issuing" (permitted: example.com): nats-server would refuse the certificate\n');
    // every permitted constraint is named when there are several
    expect(cliRaw(["server", "issue", "x1", "--dns", "x.example.net", "--dir", dir]).stderr).toMatch(/DNS SAN "x\.example\.net" is outside the name constraints of CA "CN=Hier Issuing" \(permitted: example\.com, localhost\)/);
    expect(hashTree(dir)).toEqual(before);
  });

  test("an excluded DNS name is refused, naming the exclusion", () => {
    const r = cliRaw(["server", "issue", "bad1", "--dns", "nats.bad.example.com", "--dir", dir]);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/DNS SAN "nats\.bad\.example\.com" is excluded by the name constraint "bad\.example\.com" of CA "CN=Hier Issuing"/);
  });

  test("a root's constraints bind leaves of its intermediates too", () => {
    const r2 = path.join(cwd, "root2");
    const i2 = path.join(cwd, "inter2");
    cli(["ca", "init", "--dir", r2, "--name", "Root Two", "--permit-email-domain", ".corp.example", "--no-encrypt"]);
    cli(["ca", "init", "--intermediate", "--root-dir", r2, "--dir", i2, "--name", "Inter Two", "--no-encrypt"]);
    cli(["client", "issue", "ok2", "--email", "a@eng.corp.example", "--dir", i2]);
    const r = cliRaw(["client", "issue", "no2", "--email", "a@corp.example", "--dir", i2]);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/email SAN "a@corp\.example" is outside the name constraints of CA "CN=Root Two" \(permitted: \.corp\.example\)/);
  });

  test("bulk issuance refuses the violating row and issues the rest, with their fullchain files", () => {
    const csv = path.join(cwd, "users.csv");
    fs.writeFileSync(csv, "name,email\nbulk1,bulk1@example.com\nbulk2,bulk2@evil.com\n");
    const r = cliRaw(["client", "issue", "--from", csv, "--dir", dir, "--json"]);
    expect(r.stdout + r.stderr).toMatch(/bulk2@evil\.com" is outside the name constraints of CA "CN=Hier Issuing"/);
    expect(fs.existsSync(issued("bulk1"))).toBe(true);
    expect(fs.existsSync(issued("bulk2"))).toBe(false);
    expect(pemBlocks(fullchain("bulk1"))).toEqual([fs.readFileSync(issued("bulk1"), "utf8"), fs.readFileSync(path.join(dir, "ca.crt"), "utf8")]);
    const inv = readInventory(dir);
    expect(inv.certificates.find((c: { name: string }) => c.name === "bulk1").chainFile).toBe("issued/bulk1.fullchain.pem");
  });

  test("bad constraint values are refused before anything is made", () => {
    for (const [flag, value, msg] of [
      ["--permit-ip", "10.0.0.1/8", /the address has bits set beyond the \/8 prefix/],
      ["--permit-uri-domain", "10.1.2.3", /an IP address cannot be a URI constraint/],
      ["--permit-dns", "*.example.com", /wildcards have no meaning/],
      // RFC 5280 has no "subdomains only" form for dNSName constraints (pkilint and Python cryptography refuse it)
      ["--exclude-dns", ".example.com", /a DNS name constraint has no leading-"\." form .*give example\.com, which covers example\.com and every name under it/],
      ["--exclude-email-domain", "a..b@example.com", /not a valid mailbox/],
    ] as const) {
      const d = path.join(cwd, `bad-${flag.slice(2)}-${value.length}`);
      const r = cliRaw(["ca", "init", "--dir", d, "--no-encrypt", flag, value]);
      expect(r.code).toBe(3);
      expect(r.stderr).toMatch(msg);
      expect(fs.existsSync(d)).toBe(false);
    }
  });
});

describe("the real nats-server 2.9.10, openssl and mtlsctl verify agree", () => {
  let server: NatsServer;
  let snippet: string;
  const w = () => path.join(cwd, "nats");
  const mallory = () => path.join(w(), "mallory");

  beforeAll(async () => {
    fs.mkdirSync(w(), { recursive: true });
    // the npm client checks the name "localhost" (hence --permit-dns localhost on the intermediate)
    cli(["server", "issue", "nats1", "--dns", "localhost", "--dns", "nats.example.com", "--ip", "127.0.0.1", "--dir", dir]);
    cli(["client", "issue", "alice", "--email", "alice@example.com", "--dir", dir]);
    // the violating client, signed by the intermediate's key with openssl (mtlsctl refuses to)
    fs.mkdirSync(mallory());
    const ext = path.join(mallory(), "ext.cnf");
    fs.writeFileSync(ext, "[leaf]\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\nsubjectAltName=email:mallory@evil.com\n");
    const steps = [
      ["req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", "mallory.key", "-out", "mallory.csr", "-subj", "/CN=mallory"],
      ["x509", "-req", "-in", "mallory.csr", "-CA", path.join(dir, "ca.crt"), "-CAkey", path.join(dir, "private", "ca.key"), "-passin", "pass:inter-pass", "-set_serial", "0x4d41", "-days", "30", "-extfile", ext, "-extensions", "leaf", "-out", "mallory.crt"],
    ];
    for (const s of steps) {
      const r = openssl(s, { cwd: mallory() });
      if (r.code !== 0) throw new Error(`openssl ${s.join(" ")}: ${r.stdout}${r.stderr}`);
    }
    fs.writeFileSync(path.join(mallory(), "mallory.fullchain.pem"), fs.readFileSync(path.join(mallory(), "mallory.crt"), "utf8") + fs.readFileSync(path.join(dir, "chain.pem"), "utf8"));
    // every user the config lists, mallory included, so that only the TLS stage can refuse her
    snippet = path.join(w(), "mtls.conf");
    cli(["config", "nats", "--out", snippet, "--dir", dir]);
    const text = fs.readFileSync(snippet, "utf8");
    expect(text).toMatch(/users = \[\n/);
    fs.writeFileSync(snippet, text.replace(/users = \[\n/, (m) => `${m}    { user: "mallory@evil.com" }\n`));
    server = await startNatsServer(snippet);
  });

  test("config nats: cert_file is the server's leaf + intermediate, ca_file is roots.pem", () => {
    const text = fs.readFileSync(snippet, "utf8");
    expect(text).toContain(`cert_file: "${fullchain("nats1")}"`);
    expect(text).toContain(`ca_file: "${path.join(dir, "roots.pem")}"`);
    expect(pemBlocks(fullchain("nats1"))).toEqual([fs.readFileSync(issued("nats1"), "utf8"), fs.readFileSync(path.join(dir, "ca.crt"), "utf8")]);
    expect(text).toContain('{ user: "mallory@evil.com" }');
  });

  test("openssl verify: the intermediate's client passes; the openssl-built violating one is refused", () => {
    const args = (f: string) => ["verify", "-CAfile", path.join(dir, "roots.pem"), "-untrusted", path.join(dir, "chain.pem"), "-purpose", "sslclient", f];
    const good = openssl(args(issued("alice")));
    expect(good.code).toBe(0);
    expect(good.stdout).toMatch(/: OK/);
    const bad = openssl(args(path.join(mallory(), "mallory.crt")));
    expect(bad.code).not.toBe(0);
    expect(bad.stdout + bad.stderr).toMatch(/permitted subtree violation/);
  });

  test("alice (leaf + intermediate) maps to her user through the chain; verify --config agrees", async () => {
    const r = await server.connectAs(fullchain("alice"), keyOf("alice"), path.join(dir, "roots.pem"));
    if (!r.ok) throw new Error(`refused: ${r.error}\n${server.log().split("\n").slice(-20).join("\n")}`);
    expect(r.user).toBe("alice@example.com");
    expect(r.via).toBe("email");
    const v = JSON.parse(cli(["verify", fullchain("alice"), "--config", server.configFile, "--server-version", "2.9.10", "--json"]).stdout);
    expect(v).toMatchObject({ accepted: true, user: "alice@example.com", matchedBy: "email", stage: null });
  });

  test("mallory (violates the name constraints) is refused at TLS; verify --config agrees", async () => {
    const r = await server.connectAs(path.join(mallory(), "mallory.fullchain.pem"), path.join(mallory(), "mallory.key"), path.join(dir, "roots.pem"));
    expect(r.ok).toBe(false);
    expect(server.log()).toMatch(/x509: a root or intermediate certificate is not authorized to sign for this name: email address "mallory@evil\.com" is not permitted by any constraint/);
    const v = cliRaw(["verify", path.join(mallory(), "mallory.fullchain.pem"), "--config", server.configFile, "--server-version", "2.9.10", "--json"]);
    expect(v.code).toBe(1);
    const j = JSON.parse(v.stdout);
    expect(j).toMatchObject({ accepted: false, stage: "tls", user: null });
    expect(j.reason).toMatch(/email address "mallory@evil\.com" is not permitted by any constraint/);
  });

  test("alice sending her leaf alone (no intermediate) is refused at TLS; verify --config agrees", async () => {
    const r = await server.connectAs(issued("alice"), keyOf("alice"), path.join(dir, "roots.pem"));
    expect(r.ok).toBe(false);
    expect(server.log()).toMatch(/certificate signed by unknown authority/);
    const v = cliRaw(["verify", issued("alice"), "--config", server.configFile, "--server-version", "2.9.10", "--json"]);
    expect(v.code).toBe(1);
    expect(JSON.parse(v.stdout)).toMatchObject({ accepted: false, stage: "tls" });
    // explain in the store says what the client must send
    const e = JSON.parse(cliRaw(["explain", issued("alice"), "--json", "--dir", dir]).stdout);
    expect(e.checks.hint).toMatch(/must send its intermediate/);
  });

  test("a CN that looks like a host name outside the DNS constraints: Go (nats-server) accepts, OpenSSL refuses; mtlsctl signs with a warning", async () => {
    const r = cli(["client", "issue", "cnhost", "--subject", "CN=cnhost.evil.com", "--email", "cnhost@example.com", "--dir", dir]);
    expect(r.stderr).toMatch(/the subject CN "cnhost\.evil\.com" looks like a host name outside the DNS name constraints of CA "CN=Hier Issuing": nats-server \(Go\) ignores the CN, but OpenSSL-based verifiers refuse/);
    const o = openssl(["verify", "-CAfile", path.join(dir, "roots.pem"), "-untrusted", path.join(dir, "chain.pem"), "-purpose", "sslclient", issued("cnhost")]);
    expect(o.code).not.toBe(0);
    expect(o.stdout + o.stderr).toMatch(/permitted subtree violation/);
    // the server (with cnhost listed: regenerate the config) accepts it
    const snip2 = path.join(w(), "mtls2.conf");
    cli(["config", "nats", "--out", snip2, "--dir", dir]);
    const s2 = await startNatsServer(snip2);
    const c = await s2.connectAs(fullchain("cnhost"), keyOf("cnhost"), path.join(dir, "roots.pem"));
    if (!c.ok) throw new Error(`refused: ${c.error}`);
    expect(c.user).toBe("cnhost@example.com");
    const v = JSON.parse(cli(["verify", fullchain("cnhost"), "--config", s2.configFile, "--server-version", "2.9.10", "--json"]).stdout);
    expect(v).toMatchObject({ accepted: true, user: "cnhost@example.com" });
    await s2.stop();
  });
});

describe("ca init --intermediate --csr-out, ca sign, ca install (offline root)", () => {
  const off = () => path.join(cwd, "pki-off");
  const csr = () => path.join(cwd, "off.csr");
  const crt = () => path.join(cwd, "off.crt");

  test("the pending store holds the key and the request; other commands say it is pending", () => {
    cli(["ca", "init", "--intermediate", "--csr-out", csr(), "--dir", off(), "--name", "Offline Issuing"]);
    expect(fs.readFileSync(csr(), "utf8")).toBe(fs.readFileSync(path.join(off(), "reqs", "ca.csr"), "utf8"));
    expect(fs.statSync(path.join(off(), "private", "ca.key")).mode & 0o777).toBe(0o600);
    expect(fs.readFileSync(path.join(off(), "private", "ca.key"), "utf8")).toMatch(/ENCRYPTED PRIVATE KEY/);
    expect(fs.existsSync(path.join(off(), "ca.crt"))).toBe(false);
    const r = cliRaw(["client", "issue", "x", "--email", "x@example.org", "--dir", off()]);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/pending: .*run `mtlsctl ca install/);
    expect(cliRaw(["ca", "init", "--dir", off()]).code).toBe(3); // not replaced without --force
  });

  test("ca sign on the root records it; ca install refuses a wrong root, then completes the store", () => {
    const s = cli(["ca", "sign", csr(), "--dir", rootDir, "--out", crt(), "--path-len", "0", "--permit-uri-domain", "example.org", "--passphrase-file", writeSecret("root-pass"), "--json"]);
    expect(JSON.parse(s.stdout)).toMatchObject({ name: "Offline-Issuing", subject: "CN=Offline Issuing", pathLen: 0 });
    expect(openssl(["x509", "-in", crt(), "-noout", "-text"]).stdout).toMatch(/Permitted:\s+URI:example\.org/);

    const before = hashTree(off());
    const wrong = cliRaw(["ca", "install", crt(), "--root", path.join(cwd, "root2", "ca.crt"), "--dir", off()]);
    expect(wrong.code).toBe(3);
    expect(wrong.stderr).toMatch(/does not chain to the root given by --root \(x509: certificate signed by unknown authority\)/);
    const notCa = cliRaw(["ca", "install", issued("alice"), "--root", path.join(rootDir, "ca.crt"), "--dir", off()]);
    expect(notCa.code).toBe(3);
    expect(notCa.stderr).toMatch(/not for this store's key/);
    expect(hashTree(off())).toEqual(before);

    cli(["ca", "install", crt(), "--root", path.join(rootDir, "ca.crt"), "--dir", off()]);
    expect(pemBlocks(path.join(off(), "chain.pem"))).toEqual(pemBlocks(crt()));
    expect(pemBlocks(path.join(off(), "roots.pem"))).toEqual(pemBlocks(path.join(rootDir, "ca.crt")));
    expect(cliRaw(["ca", "install", crt(), "--root", path.join(rootDir, "ca.crt"), "--dir", off()]).code).toBe(3); // nothing pending now

    cli(["client", "issue", "svc", "--uri", "spiffe://example.org/svc", "--dir", off()]);
    const v = openssl(["verify", "-CAfile", path.join(off(), "roots.pem"), "-untrusted", path.join(off(), "chain.pem"), "-purpose", "sslclient", issued("svc", off())]);
    expect(v.code).toBe(0);
    const r = cliRaw(["client", "issue", "svc2", "--uri", "spiffe://evil.org/svc", "--dir", off()]);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/URI SAN "spiffe:\/\/evil\.org\/svc" is outside the name constraints of CA "CN=Offline Issuing" \(permitted: example\.org\)/);
  });
});

describe("exports follow the chain", () => {
  test("export --format chain: leaf, intermediate, root", () => {
    const out = cli(["export", "alice", "--format", "chain", "--dir", dir]).stdout;
    const blocks = out.match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----\n/g) ?? [];
    expect(blocks.map(fingerprintOf)).toEqual([issued("alice"), path.join(dir, "ca.crt"), path.join(rootDir, "ca.crt")].map((f) => fingerprintOf(fs.readFileSync(f, "utf8"))));
  });

  test("PKCS#12 carries the leaf, the intermediate and the root", () => {
    const p12 = path.join(cwd, "alice.p12");
    cli(["export", "alice", "--format", "p12", "--out", p12, "--password-file", writeSecret("p12pw"), "--dir", dir]);
    const r = openssl(["pkcs12", "-in", p12, "-nokeys", "-passin", "pass:p12pw"]);
    expect(r.code).toBe(0);
    const subjects = [...r.stdout.matchAll(/^subject=(.*)$/gm)].map((m) => m[1].trim());
    expect(subjects).toEqual(expect.arrayContaining(["CN = alice", "CN = Hier Issuing", "CN = Hier Root"]));
    expect(subjects).toHaveLength(3);
  });

  test("the Java trust store holds the root (roots.pem), not the intermediate", () => {
    const ts = path.join(cwd, "trust.p12");
    cli(["export", "ca", "--format", "truststore", "--out", ts, "--password-file", writeSecret("tspw"), "--dir", dir]);
    const r = openssl(["pkcs12", "-in", ts, "-nokeys", "-passin", "pass:tspw"]);
    expect([...r.stdout.matchAll(/^subject=(.*)$/gm)].map((m) => m[1].trim())).toEqual(["CN = Hier Root"]);
  });
});

describe("lifecycle in a hierarchy", () => {
  test("renew rewrites the fullchain file for the new certificate; the old record keeps only its .crt", () => {
    const before = readInventory(dir).certificates.find((c: { name: string; status: string }) => c.name === "alice" && c.status === "valid");
    cli(["renew", "alice", "--dir", dir]);
    const inv = readInventory(dir);
    const old = inv.certificates.find((c: { serial: string }) => c.serial === before.serial);
    const cur = inv.certificates.find((c: { name: string; renews?: string }) => c.name === "alice" && c.renews === before.serial);
    expect(old.chainFile).toBeNull();
    expect(old.certFile).toBe(`renewed/${before.serial}.crt`);
    expect(cur.chainFile).toBe("issued/alice.fullchain.pem");
    expect(pemBlocks(fullchain("alice"))).toEqual([fs.readFileSync(issued("alice"), "utf8"), fs.readFileSync(path.join(dir, "ca.crt"), "utf8")]);
    expect(openssl(["x509", "-in", fullchain("alice"), "-noout", "-serial"]).stdout.trim().toLowerCase()).toBe(`serial=${cur.serial}`);
  });

  test("the root store can revoke the intermediate it signed: its CRL lists it", () => {
    const serial = openssl(["x509", "-in", path.join(dir, "ca.crt"), "-noout", "-serial"]).stdout.trim().replace(/^serial=/, "").toUpperCase();
    cli(["revoke", "Hier-Issuing", "--reason", "cessationOfOperation", "--dir", rootDir, "--passphrase-file", writeSecret("root-pass")]);
    const crl = openssl(["crl", "-in", path.join(rootDir, "crl.pem"), "-noout", "-text"]).stdout;
    expect(crl).toContain(`Serial Number: ${serial}`);
    expect(openssl(["crl", "-in", path.join(rootDir, "crl.pem"), "-noout", "-CAfile", path.join(rootDir, "ca.crt")]).code).toBe(0);
  });
});

describe("crashes and leftovers", () => {
  test("ca install killed at each crash point: the store stays pending (install again) or is complete", () => {
    const pristine = path.join(cwd, "crash-pending");
    cli(["ca", "init", "--intermediate", "--csr-out", path.join(cwd, "crash.csr"), "--dir", pristine, "--name", "Crash Issuing", "--no-encrypt"]);
    cli(["ca", "sign", path.join(cwd, "crash.csr"), "--dir", rootDir, "--out", path.join(cwd, "crash.crt"), "--passphrase-file", writeSecret("root-pass")]);
    const install = (d: string, kill?: number) =>
      cliRaw(["ca", "install", path.join(cwd, "crash.crt"), "--root", path.join(rootDir, "ca.crt"), "--dir", d], kill ? { MTLSCTL_TEST_KILL_AT: String(kill) } : {});
    let kills = 0;
    for (let n = 1; n < 60; n++) {
      const d = path.join(cwd, `crash-${n}`);
      fs.cpSync(pristine, d, { recursive: true });
      const r = install(d, n);
      if (r.code === 0) break; // ran past its last crash point
      kills++;
      const probe = cliRaw(["list", "--json", "--dir", d]);
      if (probe.code === 0) {
        expect(JSON.parse(probe.stdout)[0].subject).toBe("CN=Crash Issuing"); // the new state: complete
      } else {
        expect(probe.stderr).toMatch(/pending/); // the old state: install again
        expect(install(d).code).toBe(0);
      }
      cli(["client", "issue", "after", "--email", "after@example.com", "--dir", d]);
      expect(fs.existsSync(fullchain("after", d))).toBe(true);
    }
    expect(kills).toBeGreaterThan(3);
  });

  test("an unlisted fullchain file (a killed issue) is removed by the next command that takes the lock", () => {
    fs.writeFileSync(fullchain("ghost"), fs.readFileSync(path.join(dir, "ca.crt")));
    fs.writeFileSync(issued("ghost"), fs.readFileSync(path.join(dir, "ca.crt")));
    // the killed writer's lock, still held by its dead PID: the next locker takes it over and sweeps
    fs.writeFileSync(path.join(dir, ".lock"), String(require("node:child_process").spawnSync("true").pid));
    cli(["client", "issue", "living", "--email", "living@example.com", "--dir", dir]);
    expect(fs.existsSync(fullchain("ghost"))).toBe(false);
    expect(fs.existsSync(issued("ghost"))).toBe(false);
    expect(fs.existsSync(fullchain("living"))).toBe(true);
  });
});

/**
 * The matcher (src/pki/constraints.ts, shared by signing and the verifier) against the real server:
 * one intermediate per case, its constraints built by mtlsctl's own extension builder, a leaf with
 * the case's SANs; the TLS stage passes (and the client is mapped: every user string is listed) or fails,
 * and the verifier must say the same, with Go's error text in the server's log for each refusal.
 */
describe("name-constraint semantics: the verifier against nats-server 2.9.10, case by case", () => {
  const none = () => ({ dns: [] as string[], email: [] as string[], uri: [] as string[], ip: [] as string[] });
  const nc = (p: Partial<ReturnType<typeof none>>, x: Partial<ReturnType<typeof none>> = {}): NameConstraintsSpec => ({ permitted: { ...none(), ...p }, excluded: { ...none(), ...x } });
  const cases: [string, NameConstraintsSpec, San[]][] = [
    ["dns subdomain", nc({ dns: ["example.com"] }), [{ dns: "a.example.com" }]],
    ["dns itself", nc({ dns: ["example.com"] }), [{ dns: "example.com" }]],
    ["dns leading dot, itself", nc({ dns: [".example.com"] }), [{ dns: "example.com" }]],
    ["dns label boundary", nc({ dns: ["example.com"] }), [{ dns: "aexample.com" }]],
    ["dns case", nc({ dns: ["EXAMPLE.com"] }), [{ dns: "a.Example.COM" }]],
    ["dns excluded", nc({}, { dns: ["bad.example.com"] }), [{ dns: "x.bad.example.com" }]],
    ["email domain", nc({ email: ["example.com"] }), [{ email: "a@example.com" }]],
    ["email subdomain", nc({ email: ["example.com"] }), [{ email: "a@sub.example.com" }]],
    ["email leading dot, itself", nc({ email: [".example.com"] }), [{ email: "b@example.com" }]],
    ["mailbox local part case", nc({ email: ["alice@example.com"] }), [{ email: "Alice@example.com" }]],
    ["mailbox domain case", nc({ email: ["alice@example.com"] }), [{ email: "alice@EXAMPLE.com" }]],
    ["uri host", nc({ uri: ["example.org"] }), [{ uri: "spiffe://example.org/x" }]],
    ["uri without host", nc({ uri: ["example.org"] }), [{ uri: "urn:x:y" }]],
    ["uri with IP host", nc({ uri: ["example.org"] }), [{ uri: "https://10.0.0.1/x" }]],
    ["uri host with port", nc({ uri: [".example.org"] }), [{ uri: "spiffe://a.example.org:8443/x" }]],
    ["other kind unconstrained (uri)", nc({ dns: ["example.com"] }), [{ uri: "urn:free:1" }]],
    ["other kind unconstrained (email)", nc({ dns: ["example.com"] }), [{ email: "c@evil.com" }]],
    ["ip in range", nc({ ip: ["10.0.0.0/8"] }), [{ ip: "10.1.2.3" }]],
    ["ip outside", nc({ ip: ["10.0.0.0/8"] }), [{ ip: "192.168.1.1" }]],
    ["ip excluded", nc({}, { ip: ["10.0.0.0/8"] }), [{ ip: "10.1.1.1" }]],
    ["second SAN violates", nc({ dns: ["example.com"], email: ["example.com"] }), [{ email: "d@example.com" }, { dns: "evil.com" }]],
  ];
  let server: NatsServer;
  const w = path.join(cwd, "matrix");
  const root = makeCa("Matrix Root");
  const files: { cert: string; key: string }[] = [];
  const model: { ok: boolean; error: string | null }[] = [];

  beforeAll(async () => {
    fs.mkdirSync(w, { recursive: true });
    const users = new Set<string>();
    cases.forEach(([, spec, sans], i) => {
      const inter = issue({ subject: dn(["CN", `Matrix NC ${i}`]), issuer: root, basic: { ca: true }, extraExtensions: [nameConstraintsExtension(spec)] });
      const leaf = issue({ subject: dn(["CN", `leaf-${i}`]), issuer: inter, sans });
      files.push(writePair(w, `leaf-${i}`, leaf, [inter]));
      model.push(verifyClientChain(parseCertificate(leaf.der), [parseCertificate(inter.der)], [parseCertificate(root.der)]));
      for (const s of sans) if (!("ip" in s)) users.add(Object.values(s)[0]);
      users.add(`CN=leaf-${i}`);
    });
    const srv = issue({ subject: dn(["CN", "localhost"]), issuer: root, sans: [{ dns: "localhost" }, { ip: "127.0.0.1" }], eku: [OID.serverAuth] });
    const s = writePair(w, "server", srv);
    fs.writeFileSync(path.join(w, "root.pem"), root.pem);
    const conf = path.join(w, "mtls.conf");
    fs.writeFileSync(conf, `tls {\n  cert_file: ${JSON.stringify(s.cert)}\n  key_file: ${JSON.stringify(s.key)}\n  ca_file: ${JSON.stringify(path.join(w, "root.pem"))}\n  verify_and_map: true\n}\nauthorization {\n  users = [\n${[...users].map((u) => `    { user: ${JSON.stringify(u)} }`).join("\n")}\n  ]\n}\n`);
    server = await startNatsServer(conf);
  });

  test("the matrix has accepted and refused cases", () => {
    expect(model.filter((m) => m.ok).length).toBeGreaterThan(5);
    expect(model.filter((m) => !m.ok).length).toBeGreaterThan(5);
  });

  test.each(cases.map(([name], i) => ({ name, i })))("$name", async ({ i }) => {
    const r = await server.connectAs(files[i].cert, files[i].key, path.join(w, "root.pem"));
    // every user string of the matrix is listed: a certificate that passes TLS is mapped
    expect({ connected: r.ok, error: r.ok ? null : r.error }).toMatchObject({ connected: model[i].ok });
    if (!model[i].ok) expect(server.log()).toContain(model[i].error!); // Go's own words
  });
});

describe("three levels: root -> intermediate -> sub-intermediate, on nats-server 2.9.10", () => {
  test("chain.pem holds both intermediates; a client of the lowest CA maps through the whole chain; verify agrees", async () => {
    const d3 = path.join(cwd, "three");
    fs.mkdirSync(d3);
    const e3 = { MTLSCTL_PASSPHRASE: "p3", MTLSCTL_ROOT_PASSPHRASE: "p3" };
    const c3 = (args: string[]) => mtlsOk(args, { cwd: d3, env: e3 });
    c3(["ca", "init", "--dir", "root", "--name", "Three Root"]);
    c3(["ca", "init", "--intermediate", "--root-dir", "root", "--dir", "int1", "--name", "Three Int1"]);
    c3(["ca", "init", "--intermediate", "--root-dir", "int1", "--dir", "int2", "--name", "Three Int2"]);
    const int2 = path.join(d3, "int2");
    expect(pemBlocks(path.join(int2, "chain.pem")).map((p) => subjectOf(writeTmp(d3, p)))).toEqual(["CN=Three Int2", "CN=Three Int1"]);
    expect(fs.readFileSync(path.join(int2, "roots.pem"), "utf8")).toBe(fs.readFileSync(path.join(d3, "root", "ca.crt"), "utf8"));
    c3(["server", "issue", "nats3", "--dns", "localhost", "--ip", "127.0.0.1", "--dir", int2]);
    c3(["client", "issue", "zoe", "--email", "zoe@example.org", "--dir", int2]);
    expect(certsIn(fullchain("zoe", int2))).toBe(3);
    expect(openssl(["verify", "-CAfile", path.join(int2, "roots.pem"), "-untrusted", path.join(int2, "chain.pem"), "-purpose", "sslclient", issued("zoe", int2)]).code).toBe(0);
    const conf = path.join(d3, "mtls.conf");
    c3(["config", "nats", "--out", conf, "--dir", int2]);
    const srv = await startNatsServer(conf);
    const r = await srv.connectAs(fullchain("zoe", int2), keyOf("zoe", int2), path.join(int2, "roots.pem"));
    if (!r.ok) throw new Error(`refused: ${r.error}\n${srv.log().split("\n").slice(-20).join("\n")}`);
    expect(r.user).toBe("zoe@example.org");
    const v = JSON.parse(c3(["verify", fullchain("zoe", int2), "--config", srv.configFile, "--server-version", "2.9.10", "--json"]).stdout);
    expect(v).toMatchObject({ accepted: true, user: "zoe@example.org", stage: null });
    // the chain without the middle intermediate: both refuse
    const partial = writeTmp(d3, pemBlocks(fullchain("zoe", int2)).slice(0, 2).join(""));
    const r2 = await srv.connectAs(partial, keyOf("zoe", int2), path.join(int2, "roots.pem"));
    expect(r2.ok).toBe(false);
    const v2 = JSON.parse(mtls(["verify", partial, "--config", srv.configFile, "--server-version", "2.9.10", "--json"], { cwd: d3, env: e3 }).stdout);
    expect(v2).toMatchObject({ accepted: false, stage: "tls" });
  });
});

let tmpN = 0;
function writeTmp(d: string, text: string): string {
  const f = path.join(d, `tmp-${++tmpN}.pem`);
  fs.writeFileSync(f, text);
  return f;
}
