/**
 * `mtlsctl lint` (issue 7).
 *
 *  1. The corpus: test/fixtures/lint/*.conf, each built to trigger exactly one finding (code,
 *     severity, line), and clean.conf with none. Every fixture but the two that are meant to fail
 *     passes `nats-server -t`, so each is a config the server really runs.
 *  2. Certificates (--store, --certs): unmapped, ambiguous, wrong user, password, TLS, EKU,
 *     expiry, pins.
 *  3. For every finding about runtime behaviour, the real nats-server 2.9.10 shows what the
 *     finding predicts (random picks, a trailing '+', passwords, restarts, system roots, MQTT by
 *     name, ...), on the very config that lint is run on.
 */
import { spawn, spawnSync, ChildProcess } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as http from "node:http";
import * as net from "node:net";
import * as path from "node:path";
import { connect, NatsConnection } from "@nats-io/transport-node";
import { mtls, mtlsOk, makeStore, tmpDir, tool } from "./helpers/cli";
import { freePort, natsServerMatrix } from "./helpers/nats";
import * as der from "../src/asn1/der";
import { OID } from "../src/asn1/oids";
import { buildCertificate, ext, KeyUsage, randomSerial } from "../src/pki/cert";
import { generateKey, keyIdentifier, signerFor, spkiOf } from "../src/pki/keys";
import { encodeSans } from "../src/pki/san";
import { CODES } from "../src/lint/codes";

jest.setTimeout(180_000);

const FIX = path.join(__dirname, "fixtures", "lint");
const V = "2.9.10";

interface Finding {
  code: string;
  severity: string;
  file: string;
  line: number | null;
  message: string;
  versions: string;
  fix: string;
}

/** Every code some test below has seen mtlsctl report (the last test checks all are covered). */
const seen = new Set<string>();

function lint(args: string[], o: { cwd?: string; env?: Record<string, string>; version?: string | null } = {}): { code: number; findings: Finding[]; stdout: string; stderr: string } {
  const ver = o.version === undefined ? ["--server-version", V] : o.version === null ? [] : ["--server-version", o.version];
  const r = mtls(["lint", ...args, ...ver, "--json"], { cwd: o.cwd ?? FIX, env: o.env });
  if (r.code !== 0 && r.code !== 1) throw new Error(`mtlsctl lint ${args.join(" ")} exited ${r.code}\n${r.stdout}\n${r.stderr}`);
  const json = JSON.parse(r.stdout) as { findings: Finding[] };
  for (const f of json.findings) seen.add(f.code);
  const errors = json.findings.some((f) => f.severity === "error");
  if ((r.code === 1) !== errors) throw new Error(`exit ${r.code} but ${errors ? "an" : "no"} error-level finding:\n${r.stdout}`);
  return { code: r.code, findings: json.findings, stdout: r.stdout, stderr: r.stderr };
}

const codesOf = (fs: Finding[]) => fs.map((f) => f.code).sort();

// =============================================================================================
// 1. the corpus

/** fixture, the one code it must yield, its severity, its line. */
const CORPUS: [string, string, "error" | "warning" | "info", number | null][] = [
  ["nats000-refused.conf", "NATS000", "error", 8],
  ["nats001-equal-dn.conf", "NATS001", "error", 12],
  ["nats002-reordered-tie.conf", "NATS002", "error", 12],
  ["nats003-semicolon.conf", "NATS003", "error", 11],
  ["nats004-leading-hash.conf", "NATS004", "error", 11],
  ["nats005-oid.conf", "NATS005", "error", 11],
  ["nats006-unknown-type.conf", "NATS006", "error", 11],
  ["nats007-unmatchable.conf", "NATS007", "error", 11],
  ["nats008-equals.conf", "NATS008", "warning", 11],
  ["nats009-trailing-plus.conf", "NATS009", "error", 11],
  ["nats010-trailing-empty.conf", "NATS010", "warning", 11],
  ["nats011-empty-dn.conf", "NATS011", "error", 11],
  ["nats012-duplicate-rdn.conf", "NATS012", "error", 11],
  ["nats013-empty-value.conf", "NATS013", "warning", 11],
  ["nats020-password.conf", "NATS020", "warning", 12],
  ["nats021-mqtt-by-name.conf", "NATS021", "error", 13],
  ["nats022-no-map.conf", "NATS022", "error", 3],
  ["nats023-verify-random.conf", "NATS023", "error", 8],
  ["nats024-verify-redundant.conf", "NATS024", "info", 8],
  ["nats025-random-option.conf", "NATS025", "error", 11],
  ["nats026-server-warning.conf", "NATS026", "warning", 3],
  ["nats027-startup.conf", "NATS027", "error", 3],
  ["nats027-leafnode-account.conf", "NATS027", "error", 11],
  ["nats030-no-ca-file.conf", "NATS030", "error", 3],
  ["nats031-insecure.conf", "NATS031", "warning", 8],
];

describe("lint: the fixture corpus", () => {
  test("every fixture in test/fixtures/lint is in the table (or is clean.conf)", () => {
    const files = fs.readdirSync(FIX).filter((f) => f.endsWith(".conf")).sort();
    expect(files).toEqual(["clean.conf", ...CORPUS.map((c) => c[0])].sort());
  });

  test("clean.conf: no findings, exit 0", () => {
    const r = lint(["clean.conf"]);
    expect(r.findings).toEqual([]);
    expect(r.code).toBe(0);
  });

  test.each(CORPUS)("%s yields exactly %s (%s, line %s)", (file, code, severity, line) => {
    const r = lint([file]);
    expect(r.findings.map((f) => [f.code, f.severity, f.line])).toEqual([[code, severity, line]]);
    const f = r.findings[0];
    expect(f.file).toBe(file);
    expect(f.message.length).toBeGreaterThan(20);
    expect(f.fix.length).toBeGreaterThan(5);
    expect(f.versions).toBe((CODES as Record<string, { versions: string }>)[code].versions);
    expect(r.code).toBe(severity === "error" ? 1 : 0);
  });

  test("the fixtures are configs nats-server 2.9.10 really runs: `nats-server -t` accepts all but the two meant to fail", () => {
    const bin = tool("nats-server");
    for (const [file] of [["clean.conf"], ...CORPUS]) {
      const r = spawnSync(bin, ["-t", "-c", file], { cwd: FIX, encoding: "utf8" });
      const expectOk = file !== "nats000-refused.conf" && file !== "nats026-server-warning.conf";
      if ((r.status === 0) !== expectOk) throw new Error(`nats-server -t -c ${file} exited ${r.status}: ${r.stdout}${r.stderr}`);
    }
  });

  test.each(["nats027-startup.conf", "nats027-leafnode-account.conf"])("%s: the real server does refuse to start, in the words lint quotes", (file) => {
    const quoted = lint([file]).findings[0].message.replace(/^.*refuses to start: /, "");
    const r = spawnSync("timeout", ["5", tool("nats-server"), "-c", file], { cwd: FIX, encoding: "utf8" });
    expect(r.status).toBe(1); // not 124: it stopped by itself
    expect(r.stdout + r.stderr).toContain(quoted);
  });

  test("each finding says what the server actually compares (the DN its parser reads)", () => {
    const msg = (file: string) => lint([file]).findings[0].message;
    expect(msg("nats009-trailing-plus.conf")).toContain('reads it as "CN=alice"');
    expect(msg("nats010-trailing-empty.conf")).toContain('reads it as "CN=alice,O=Acme"');
    expect(msg("nats003-semicolon.conf")).toContain('reads it as "alice;O=Acme"');
    expect(msg("nats008-equals.conf")).toContain('reads it as "a=b,O=Acme"');
    expect(lint(["nats005-oid.conf"]).findings[0].fix).toContain('"CN=alice,O=Acme"');
    expect(lint(["nats004-leading-hash.conf"]).findings[0].fix).toContain(String.raw`"CN=\\#1,O=Acme"`);
  });

  test("human output: `file:line: severity CODE message`, then an indented fix line", () => {
    const r = mtls(["lint", "nats009-trailing-plus.conf", "--server-version", V], { cwd: FIX });
    expect(r.code).toBe(1);
    const lines = r.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^nats009-trailing-plus\.conf:11: error NATS009 user "CN=alice,O=Acme\+" ends with '\+'/);
    expect(lines[1]).toMatch(/^ {4}fix: remove the trailing '\+'/);
    expect(lines[2]).toMatch(/1 error\(s\), 0 warning\(s\), 0 info \(modelled: nats-server 2\.9\.10\)/);
    const clean = mtls(["lint", "clean.conf", "--server-version", V], { cwd: FIX });
    expect(clean.code).toBe(0);
    expect(clean.stdout).toMatch(/^clean\.conf: no findings/);
  });

  test("findings apply only to the versions they name (--server-version)", () => {
    // the set-style RDNsMatch was fixed in 2.11.15 / 2.12.6 / 2.14.0; the MQTT hole in 2.14.4
    expect(codesOf(lint(["nats012-duplicate-rdn.conf"], { version: "2.12.5" }).findings)).toEqual(["NATS012"]);
    expect(lint(["nats012-duplicate-rdn.conf"], { version: "2.12.6" }).findings).toEqual([]);
    expect(lint(["nats012-duplicate-rdn.conf"], { version: "2.14.5" }).findings).toEqual([]);
    expect(codesOf(lint(["nats021-mqtt-by-name.conf"], { version: "2.14.3" }).findings)).toEqual(["NATS021"]);
    expect(lint(["nats021-mqtt-by-name.conf"], { version: "2.14.4" }).findings).toEqual([]);
    // backported to 2.12.14 (there is no 2.12.13)
    expect(codesOf(lint(["nats021-mqtt-by-name.conf"], { version: "2.12.12" }).findings)).toEqual(["NATS021"]);
    expect(lint(["nats021-mqtt-by-name.conf"], { version: "2.12.14" }).findings).toEqual([]);
    expect(lint(["nats021-mqtt-by-name.conf"], { version: "2.12.15" }).findings).toEqual([]);
    expect(lint(["nats012-duplicate-rdn.conf"]).findings[0].versions).toBe(">=2.9.10 <2.11.15 || >=2.12.0 <2.12.6");
  });

  test("exit 3 only when the file cannot be read or lexed; any other refusal is finding NATS000", () => {
    const dir = tmpDir();
    const missing = mtls(["lint", path.join(dir, "nope.conf"), "--json"]);
    expect(missing.code).toBe(3);
    expect(JSON.parse(missing.stdout)).toMatchObject({ file: expect.stringContaining("nope.conf") });
    fs.writeFileSync(path.join(dir, "lex.conf"), 'authorization { users = [ { user: "a\\q" } ] }\n');
    const lexed = mtls(["lint", path.join(dir, "lex.conf")]);
    expect(lexed.code).toBe(3);
    expect(lexed.stderr).toMatch(/Invalid escape character 'q'/);
    // parsed but refused: a variable that does not exist
    fs.writeFileSync(path.join(dir, "var.conf"), "authorization { users = [ { user: $NOPE_NOT_SET } ] }\n");
    const v = lint([path.join(dir, "var.conf")], { env: {} });
    expect(v.findings.map((f) => [f.code, f.line])).toEqual([["NATS000", 1]]);
    // option errors: every one is reported, with the rest of the lint
    fs.writeFileSync(
      path.join(dir, "dup.conf"),
      ['authorization { users = [', '  { user: "CN=a,O=b" }', '  { user: "CN=a,O=b" }', '  { user: "CN=x;O=y" }', "] }", "bogus_key: 1", ""].join("\n"),
    );
    const d = lint([path.join(dir, "dup.conf")]);
    expect(codesOf(d.findings)).toEqual(["NATS000", "NATS000", "NATS003"]);
  });

  test("users in included files and accounts: positions point into the file that holds them", () => {
    const dir = tmpDir();
    fs.writeFileSync(path.join(dir, "users.conf"), ["users = [", '  { user: "cn=alice,o=Acme" }', "]", ""].join("\n"));
    fs.writeFileSync(
      path.join(dir, "main.conf"),
      [
        "tls {",
        `  cert_file: ${JSON.stringify(path.join(FIX, "server.crt"))}`,
        `  key_file: ${JSON.stringify(path.join(FIX, "server.key"))}`,
        `  ca_file: ${JSON.stringify(path.join(FIX, "ca.crt"))}`,
        "  verify_and_map: true",
        "}",
        'accounts { A { users = [ { user: "CN=alice,O=Acme" } ] }, B { include users.conf } }',
        "",
      ].join("\n"),
    );
    const r = lint(["main.conf"], { cwd: dir });
    expect(r.findings.map((f) => [f.code, f.file, f.line])).toEqual([["NATS001", "users.conf", 2]]);
    expect(r.findings[0].message).toContain('"CN=alice,O=Acme" (main.conf:7)');
  });
});

// =============================================================================================
// Certificates for the tests, built with mtlsctl's own DER code (any subject, EKU or date)

type Attr = [string, string];
const TYPES: Record<string, string> = { CN: OID.CN, O: OID.O, OU: OID.OU, C: OID.C, emailAddress: OID.emailAddress };

/** A Name with one attribute per RDN, in DER order (most significant first). */
function subject(...attrs: Attr[]): Buffer {
  return der.seq(
    ...attrs.map(([t, v]) => {
      const oid = TYPES[t] ?? t;
      const tag = oid === OID.C ? der.Tag.PrintableString : oid === OID.emailAddress ? der.Tag.IA5String : der.Tag.UTF8String;
      return der.setOf(der.seq(der.oid(oid), der.tlv(tag, Buffer.from(v, tag === der.Tag.UTF8String ? "utf8" : "latin1"))));
    }),
  );
}

interface Made {
  pem: string;
  key: crypto.KeyObject;
  subject: Buffer;
  spki: Buffer;
}
const DAY = 86_400_000;

function make(o: { subject: Buffer; issuer?: Made; ca?: boolean; eku?: string[]; email?: string[]; dns?: string[]; ip?: string[]; notBefore?: Date; notAfter?: Date }): Made {
  const key = generateKey("ec-p256");
  const spki = spkiOf(key);
  const exts = o.ca
    ? [ext.basicConstraints(true), ext.keyUsage([KeyUsage.keyCertSign, KeyUsage.cRLSign]), ext.subjectKeyIdentifier(keyIdentifier(spki))]
    : [ext.basicConstraints(false), ext.keyUsage([KeyUsage.digitalSignature]), ext.extKeyUsage(o.eku ?? [OID.clientAuth]), ext.subjectKeyIdentifier(keyIdentifier(spki))];
  if (o.issuer) exts.push(ext.authorityKeyIdentifier(keyIdentifier(o.issuer.spki)));
  const sans = { email: o.email ?? [], dns: o.dns ?? [], uri: [], ip: o.ip ?? [] };
  const emptySubject = der.children(der.parseOne(o.subject)).length === 0;
  if (sans.email.length + sans.dns.length + sans.ip.length) exts.push(ext.subjectAltName(sans, emptySubject));
  const cert = buildCertificate(
    { serial: randomSerial(), issuer: (o.issuer ?? { subject: o.subject }).subject, subject: o.subject, notBefore: o.notBefore ?? new Date(Date.now() - DAY), notAfter: o.notAfter ?? new Date(Date.now() + 90 * DAY), spki, extensions: exts },
    signerFor((o.issuer ?? { key }).key),
  );
  const b64 = cert.toString("base64").replace(/(.{64})/g, "$1\n").replace(/\n$/, "");
  return { pem: `-----BEGIN CERTIFICATE-----\n${b64}\n-----END CERTIFICATE-----\n`, key, subject: o.subject, spki };
}

function write(dir: string, name: string, c: Made): { cert: string; key: string } {
  const cert = path.join(dir, `${name}.crt`);
  const key = path.join(dir, `${name}.key`);
  fs.writeFileSync(cert, c.pem);
  fs.writeFileSync(key, c.key.export({ type: "pkcs8", format: "pem" }) as string, { mode: 0o600 });
  return { cert, key };
}

const W = tmpDir("mtlsctl-lint-");
const CA1 = make({ subject: subject(["CN", "Lint Test CA"]), ca: true });
const CA2 = make({ subject: subject(["CN", "Some Public CA"]), ca: true });
const ca1File = write(W, "ca1", CA1).cert;
const ca2File = write(W, "ca2", CA2).cert;
const serverPair = write(W, "server", make({ subject: subject(["CN", "localhost"]), issuer: CA1, eku: [OID.serverAuth], dns: ["localhost"], ip: ["127.0.0.1"] }));
const client = (name: string, attrs: Attr[], o: Partial<Parameters<typeof make>[0]> = {}) => write(W, name, make({ subject: subject(...attrs), issuer: CA1, ...o }));

// =============================================================================================
// 2. certificates

describe("lint with certificates", () => {
  test("--store: each valid client certificate against the config (unmapped, ambiguous, other user, password, expiring) and the pins", () => {
    const s = makeStore({ name: "Lint Store CA" });
    const cli = (args: string[]) => mtlsOk(args, { cwd: s.cwd, env: s.env });
    cli(["server", "issue", "nats1", "--dns", "localhost"]);
    cli(["client", "issue", "alice", "--subject", "CN=alice,O=Acme"]);
    cli(["client", "issue", "bob", "--email", "bob@example.com"]);
    cli(["client", "issue", "dave", "--subject", "CN=dave", "--days", "10"]);
    cli(["client", "issue", "erin", "--subject", "CN=erin"]);
    cli(["client", "issue", "frank", "--subject", "CN=frank"]);
    cli(["client", "issue", "gina", "--subject", "CN=gina"]);
    cli(["client", "issue", "carol", "--subject", "CN=carol"]);
    cli(["revoke", "carol"]);
    const pki = s.dir;
    const conf = path.join(s.cwd, "nats.conf");
    const tlsLines = (extra: string[] = []) => ["tls {", `  cert_file: "${pki}/issued/nats1.crt"`, `  key_file: "${pki}/private/nats1.key"`, `  ca_file: "${pki}/ca.crt"`, "  verify_and_map: true", ...extra, "}"];
    fs.writeFileSync(
      conf,
      [
        ...tlsLines(),
        "authorization { users = [",
        '  { user: "CN=alice,O=Acme" }',
        '  { user: "bob@example.com", password: "pw" }',
        '  { user: "CN=dave" }',
        '  { user: "CN=frank" }',
        '  { user: "cn=frank" }',
        '  { user: "CN=gina,O=Acme+" }',
        "] }",
        "",
      ].join("\n"),
    );
    const r = lint([conf, "--store"], { cwd: s.cwd, env: s.env });
    const byFile = (name: string) => codesOf(r.findings.filter((f) => f.file === `pki/issued/${name}.crt`));
    expect(byFile("alice")).toEqual([]);
    expect(byFile("bob")).toEqual(["NATS046"]);
    expect(byFile("dave")).toEqual(["NATS047"]);
    expect(byFile("erin")).toEqual(["NATS040"]);
    expect(byFile("frank")).toEqual(["NATS041"]);
    expect(byFile("gina")).toEqual(["NATS042"]);
    expect(byFile("carol")).toEqual([]); // revoked: not a certificate anyone should use
    expect(r.findings.find((f) => f.code === "NATS040")!.message).toContain('"CN=erin"');
    expect(r.findings.find((f) => f.code === "NATS042")!.message).toMatch(/logs in as "CN=gina,O=Acme\+".*the inventory's user is "CN=gina"/);
    expect(r.findings.every((f) => f.file === "nats.conf" || f.line === null)).toBe(true);
    // and the config's own findings
    expect(codesOf(r.findings.filter((f) => f.file === "nats.conf"))).toEqual(["NATS001", "NATS009", "NATS020"]);

    // pins: one of a revoked certificate (still lets it in), one that is nobody's
    const pin = (name: string) => crypto.createHash("sha256").update(crypto.createPublicKey(fs.readFileSync(path.join(pki, "issued", `${name}.crt`))).export({ type: "spki", format: "der" })).digest("hex");
    const nobody = crypto.createHash("sha256").update("nobody").digest("hex");
    fs.writeFileSync(conf, [...tlsLines([`  pinned_certs: [ "${pin("alice")}",`, `    "${pin("carol")}",`, `    "${nobody}" ]`]), 'authorization { users = [ { user: "CN=alice,O=Acme" } ] }', ""].join("\n"));
    const p = lint([conf, "--store"], { cwd: s.cwd, env: s.env });
    const cfgFindings = p.findings.filter((f) => f.file === "nats.conf").map((f) => [f.code, f.line]);
    expect(cfgFindings).toEqual([
      ["NATS033", 7],
      ["NATS032", 8],
    ]);
    // the others are not pinned: the TLS stage refuses them
    expect(codesOf(p.findings.filter((f) => f.file === "pki/issued/bob.crt"))).toEqual(["NATS043"]);
    expect(p.findings.find((f) => f.file === "pki/issued/bob.crt")!.message).toContain("not pinned");
    expect(codesOf(p.findings.filter((f) => f.file === "pki/issued/alice.crt"))).toEqual([]);
  });

  test("a config written by `mtlsctl config nats` lints clean against its own store (hostile DNs, e-mail, DNS, URI, --pinned)", () => {
    const s = makeStore({ name: "Clean Store CA" });
    const cli = (args: string[]) => mtlsOk(args, { cwd: s.cwd, env: s.env });
    cli(["server", "issue", "nats1", "--dns", "localhost", "--ip", "127.0.0.1"]);
    cli(["client", "issue", "alice", "--email", "alice@example.com"]);
    cli(["client", "issue", "web", "--dns", "web.example.com"]);
    cli(["client", "issue", "svc", "--uri", "spiffe://example.org/svc"]);
    cli(["client", "issue", "carol", "--subject", "CN=carol,OU=ops,O=Acme"]);
    cli(["client", "issue", "smith", "--subject", String.raw`CN=Smith\, John \+ José,OU=Back\\slash,O=Acme \"Q\" Inc`]);
    cli(["client", "issue", "eq", "--subject", String.raw`CN=k\=v,O=Acme`]);
    cli(["client", "issue", "pad", "--subject", String.raw`CN=\ pad\ ,O=\#1`]);
    cli(["config", "nats", "--out", "nats.conf"]);
    const r = lint(["nats.conf", "--store"], { cwd: s.cwd, env: s.env });
    expect(r.findings).toEqual([]);
    cli(["config", "nats", "--pinned", "--out", "pinned.conf"]);
    expect(lint(["pinned.conf", "--store"], { cwd: s.cwd, env: s.env }).findings).toEqual([]);
  });

  test("--certs DIR: EKU, expiry, an untrusted CA, and a file that holds no certificate", () => {
    const dir = tmpDir();
    const put = (name: string, c: Made) => fs.writeFileSync(path.join(dir, `${name}.crt`), c.pem);
    put("ok", make({ subject: subject(["O", "Acme"], ["CN", "ok"]), issuer: CA1 }));
    put("server-eku", make({ subject: subject(["O", "Acme"], ["CN", "srv"]), issuer: CA1, eku: [OID.serverAuth] }));
    put("expired", make({ subject: subject(["O", "Acme"], ["CN", "old"]), issuer: CA1, notBefore: new Date(Date.now() - 20 * DAY), notAfter: new Date(Date.now() - DAY) }));
    put("foreign", make({ subject: subject(["O", "Acme"], ["CN", "ok"]), issuer: CA2 }));
    fs.writeFileSync(path.join(dir, "notes.pem"), "not a certificate\n");
    const conf = path.join(dir, "nats.conf");
    fs.writeFileSync(
      conf,
      ["tls {", `  cert_file: "${serverPair.cert}"`, `  key_file: "${serverPair.key}"`, `  ca_file: "${ca1File}"`, "  verify_and_map: true", "}", 'authorization { users = [ { user: "CN=ok,O=Acme" }, { user: "CN=srv,O=Acme" }, { user: "CN=old,O=Acme" } ] }', ""].join("\n"),
    );
    const r = lint([conf, "--certs", dir], { cwd: dir });
    expect(r.findings.map((f) => [f.file, f.code])).toEqual([
      ["expired.crt", "NATS045"],
      ["foreign.crt", "NATS043"],
      ["notes.pem", "NATS049"],
      ["server-eku.crt", "NATS044"],
    ]);
    expect(r.findings.find((f) => f.code === "NATS043")!.message).toContain("unknown authority");
    expect(r.findings.find((f) => f.code === "NATS044")!.message).toContain("incompatible key usage");
    // a directory that is not there: exit 3
    expect(mtls(["lint", conf, "--certs", path.join(dir, "missing")]).code).toBe(3);
    expect(mtls(["lint", conf, "--certs", dir, "--store"]).code).toBe(2);
  });

  test("verify and explain carry the config's findings as notes", () => {
    const pair = client("note-alice", [["O", "Acme"], ["CN", "alice"]]);
    const conf = path.join(W, "notes.conf");
    fs.writeFileSync(conf, ["tls {", `  cert_file: "${serverPair.cert}"`, `  key_file: "${serverPair.key}"`, `  ca_file: "${ca1File}"`, "  verify_and_map: true", "}", 'authorization { users = [ { user: "CN=alice,O=Acme" }, { user: "cn=alice,o=Acme" } ] }', ""].join("\n"));
    const v = mtls(["verify", pair.cert, "--config", conf, "--server-version", V, "--json"]);
    const verdict = JSON.parse(v.stdout);
    expect(verdict.ambiguous).toBe(true);
    expect(verdict.notes.some((n: string) => n.startsWith("lint NATS001 (error)"))).toBe(true);
    const e = mtls(["explain", pair.cert, "--config", conf, "--server-version", V, "--json"]);
    expect(JSON.parse(e.stdout).verdict.notes.some((n: string) => n.startsWith("lint NATS001 (error)"))).toBe(true);
    const h = mtls(["verify", pair.cert, "--config", conf, "--server-version", V]);
    expect(h.stdout).toMatch(/note: lint NATS001 \(error\) .*notes\.conf:7: users "CN=alice,O=Acme" \(line 7\), "cn=alice,o=Acme" \(line 7\) parse to the same DN/);
  });
});

// =============================================================================================
// 3. the real nats-server 2.9.10 shows what each runtime finding predicts

interface Srv {
  port: number;
  http: number;
  mqtt: number;
  conf: string;
  log(): string;
  stop(): Promise<void>;
}
const servers = new Set<Srv>();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** GET a monitoring URL as JSON, on a connection of its own that is closed afterwards (no keep-alive left behind). */
function getJson(url: string, timeoutMs = 5000): Promise<any> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: false, timeout: timeoutMs }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d) => (body += d));
      res.on("end", () => {
        try {
          resolve(JSON.parse(body));
        } catch (e) {
          reject(e);
        }
      });
    });
    req.on("timeout", () => req.destroy(new Error(`timeout: ${url}`)));
    req.on("error", reject);
  });
}

/** Writes `<W>/<name>.conf` from `body(ports)` and runs nats-server on it (cwd W, optional env); resolves once /varz answers. */
async function startServer(name: string, body: (p: { port: number; http: number; mqtt: number }) => string, env: Record<string, string> = {}, bin = tool("nats-server")): Promise<Srv> {
  const port = await freePort();
  let httpPort = await freePort();
  while (httpPort === port) httpPort = await freePort();
  let mqtt = await freePort();
  while (mqtt === port || mqtt === httpPort) mqtt = await freePort();
  const conf = path.join(W, `${name}.conf`);
  fs.writeFileSync(conf, body({ port, http: httpPort, mqtt }));
  const logFile = path.join(W, `${name}-${port}.log`);
  const out = fs.openSync(logFile, "w");
  const child: ChildProcess = spawn(bin, ["-D", "-c", conf], { cwd: W, stdio: ["ignore", out, out], env: { ...process.env, ...env } });
  fs.closeSync(out);
  const log = () => (fs.existsSync(logFile) ? fs.readFileSync(logFile, "utf8") : "");
  const exited = () => child.exitCode !== null || child.signalCode !== null;
  const srv: Srv = {
    port,
    http: httpPort,
    mqtt,
    conf,
    log,
    async stop() {
      servers.delete(srv);
      if (exited()) return;
      const done = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([done, new Promise((r) => (timer = setTimeout(r, 5000)))]);
      clearTimeout(timer);
      if (!exited()) {
        child.kill("SIGKILL");
        await done;
      }
    },
  };
  servers.add(srv);
  for (const deadline = Date.now() + 15_000; ; ) {
    if (exited()) throw new Error(`nats-server exited early with ${conf}:\n${log()}`);
    try {
      // /varz answers before the MQTT listener is up (it starts after JetStream): wait for its log line too
      const mqttUp = !/^\s*mqtt\s*\{/m.test(fs.readFileSync(conf, "utf8")) || log().includes("Listening for MQTT clients on");
      if ((await getJson(`http://127.0.0.1:${httpPort}/varz`, 1000)).port === port && mqttUp) break;
    } catch {
      /* not yet */
    }
    if (Date.now() > deadline) {
      await srv.stop();
      throw new Error(`nats-server did not start with ${conf}:\n${log()}`);
    }
    await sleep(25);
  }
  return srv;
}
afterAll(async () => {
  await Promise.all([...servers].map((s) => s.stop()));
  if (!process.env.MTLSCTL_KEEP_NATS) fs.rmSync(W, { recursive: true, force: true }); // this file's own temporary directory
});

const listen = (p: { port: number; http: number }) => [`listen: 127.0.0.1:${p.port}`, `http: 127.0.0.1:${p.http}`];
function tls(o: { ca?: string | null; lines?: string[] } = {}): string[] {
  const ca = o.ca === undefined ? ca1File : o.ca;
  return ["tls {", `  cert_file: "${serverPair.cert}"`, `  key_file: "${serverPair.key}"`, ...(ca ? [`  ca_file: "${ca}"`] : []), ...(o.lines ?? ["  verify_and_map: true"]), "  timeout: 5", "}"];
}
const users = (...entries: string[]) => ["authorization {", "  users = [", ...entries.map((e) => `    ${e}`), "  ]", "}"];

type Outcome = { ok: true; user: string | null } | { ok: false; error: string };
let seq = 0;

/** One connection with the key pair (and an optional CONNECT user/password); who the server says it is. */
async function connectAs(srv: Srv, pair: { cert: string; key: string } | null, as: { user?: string; pass?: string } = {}): Promise<Outcome> {
  const name = `lint-${process.pid}-${++seq}`;
  let nc: NatsConnection;
  try {
    nc = await connect({
      servers: `127.0.0.1:${srv.port}`,
      tls: pair ? { certFile: pair.cert, keyFile: pair.key, caFile: ca1File } : { caFile: ca1File },
      name,
      reconnect: false,
      maxReconnectAttempts: 0,
      timeout: 5000,
      ...(as.user !== undefined || as.pass !== undefined ? { authenticator: (() => ({ ...(as.user !== undefined ? { user: as.user } : {}), ...(as.pass !== undefined ? { pass: as.pass } : {}) })) as never } : {}),
    });
    await nc.flush();
  } catch (e) {
    return { ok: false, error: String((e as Error)?.message ?? e) };
  }
  try {
    const connz = await getJson(`http://127.0.0.1:${srv.http}/connz?auth=true&limit=10000`);
    const c = (connz.connections ?? []).find((x: { name?: string }) => x.name === name);
    return { ok: true, user: c?.authorized_user ?? null };
  } finally {
    await nc.close().catch(() => undefined);
  }
}

/** Connects up to `max` times and collects the users seen, stopping once `enough` distinct ones were seen. */
async function usersSeen(srv: Srv, pair: { cert: string; key: string }, max: number, enough: number): Promise<{ users: Set<string>; tries: number }> {
  const out = new Set<string>();
  let tries = 0;
  while (tries < max && out.size < enough) {
    tries++;
    const r = await connectAs(srv, pair);
    if (!r.ok) throw new Error(`refused: ${r.error}\n${srv.log().split("\n").slice(-20).join("\n")}`);
    out.add(String(r.user));
  }
  return { users: out, tries };
}

/** A raw MQTT 3.1.1 CONNECT with a user name (no password, no TLS); the CONNACK return code (0 = accepted, 5 = not authorized). */
function mqttConnect(port: number, user: string): Promise<number> {
  const str = (s: string) => {
    const b = Buffer.from(s, "utf8");
    return Buffer.concat([Buffer.from([b.length >> 8, b.length & 0xff]), b]);
  };
  const variable = Buffer.concat([str("MQTT"), Buffer.from([4, 0x80 | 0x02, 0, 30])]); // level 4, flags: user name + clean session, keep-alive 30 s
  const payload = Buffer.concat([str(`lint-${++seq}`), str(user)]);
  const body = Buffer.concat([variable, payload]);
  if (body.length > 127) throw new Error("keep the MQTT test packet short");
  const packet = Buffer.concat([Buffer.from([0x10, body.length]), body]);
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, "127.0.0.1", () => sock.write(packet));
    let buf = Buffer.alloc(0);
    const t = setTimeout(() => {
      sock.destroy();
      reject(new Error("no CONNACK"));
    }, 10_000);
    sock.on("data", (d) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length >= 4) {
        clearTimeout(t);
        sock.destroy();
        if (buf[0] !== 0x20) reject(new Error(`not a CONNACK: ${buf.toString("hex")}`));
        else resolve(buf[3]);
      }
    });
    sock.on("error", (e) => {
      clearTimeout(t);
      reject(e);
    });
  });
}

describe("nats-server 2.9.10 does what the findings predict", () => {
  beforeAll(() => {
    tool("nats-server"); // a missing binary fails, never skips
  });

  test("NATS001: two users that parse to the same DN: the server picks one at random per connection", async () => {
    const pair = client("rand-alice", [["O", "Acme"], ["CN", "alice"]]);
    // three users between the two spellings: Go's map walk starts at a random one of 8 slots, so each
    // spelling comes first for 4 of them (measured: 106 to 94 over 200 connections). Connecting until
    // both were seen, at most 40 times, fails falsely with p = 2^-39.
    const srv = await startServer("nats001", (p) =>
      [...listen(p), ...tls(), ...users('{ user: "CN=alice,O=Acme" }', '{ user: "CN=f1" }', '{ user: "CN=f2" }', '{ user: "CN=f3" }', '{ user: "cn=alice, o=Acme" }'), ""].join("\n"),
    );
    const l = lint([srv.conf], { cwd: W });
    expect(codesOf(l.findings)).toEqual(["NATS001"]);
    const { users: got, tries } = await usersSeen(srv, pair, 40, 2);
    expect([...got].sort()).toEqual(["CN=alice,O=Acme", "cn=alice, o=Acme"]);
    expect(tries).toBeLessThanOrEqual(40);
    await srv.stop();
  });

  test("NATS002: the same RDNs in two orders: a certificate in a third order gets either user at random", async () => {
    // DER order OU / O / CN: the DN stage reads CN=alice,O=Acme,OU=eng, which neither user spells
    const pair = client("rand-third", [["OU", "eng"], ["O", "Acme"], ["CN", "alice"]]);
    const srv = await startServer("nats002", (p) =>
      [...listen(p), ...tls(), ...users('{ user: "CN=alice,OU=eng,O=Acme" }', '{ user: "CN=f1" }', '{ user: "CN=f2" }', '{ user: "CN=f3" }', '{ user: "OU=eng,CN=alice,O=Acme" }'), ""].join("\n"),
    );
    const l = lint([srv.conf], { cwd: W });
    expect(codesOf(l.findings)).toEqual(["NATS002"]);
    expect(l.findings[0].message).toContain('"CN=alice,O=Acme,OU=eng"');
    const { users: got } = await usersSeen(srv, pair, 40, 2);
    expect([...got].sort()).toEqual(["CN=alice,OU=eng,O=Acme", "OU=eng,CN=alice,O=Acme"]);
    await srv.stop();
  });

  test("NATS003-NATS007: users that can never match lock their certificates out; NATS008/NATS010/NATS013 match as the finding says", async () => {
    const cases: { user: string; code: string; attrs: Attr[]; accepted: boolean }[] = [
      { user: "CN=alice;O=Acme", code: "NATS003", attrs: [["O", "Acme"], ["CN", "alice"]], accepted: false },
      { user: "CN=#1,O=Acme", code: "NATS004", attrs: [["O", "Acme"], ["CN", "#1"]], accepted: false },
      { user: "2.5.4.3=bob,2.5.4.10=Acme", code: "NATS005", attrs: [["O", "Acme"], ["CN", "bob"]], accepted: false },
      { user: "E=carol@example.com,CN=carol,O=Acme", code: "NATS006", attrs: [["O", "Acme"], ["CN", "carol"], ["emailAddress", "carol@example.com"]], accepted: false },
      { user: "O=Acme,CN=a=b", code: "NATS007", attrs: [["O", "Acme"], ["CN", "a=b"]], accepted: false },
      { user: "CN=k=v,O=Acme", code: "NATS008", attrs: [["O", "Acme"], ["CN", "k=v"]], accepted: true },
      { user: "CN=erin,O=Acme,OU=", code: "NATS010", attrs: [["O", "Acme"], ["CN", "erin"]], accepted: true },
      { user: "CN=frank,OU=,O=Acme", code: "NATS013", attrs: [["O", "Acme"], ["CN", "frank"]], accepted: false },
    ];
    const srv = await startServer("nats003", (p) => [...listen(p), ...tls(), ...users(...cases.map((c) => `{ user: ${JSON.stringify(c.user)} }`)), ""].join("\n"));
    const l = lint([srv.conf], { cwd: W });
    expect(codesOf(l.findings)).toEqual(cases.map((c) => c.code).sort());
    for (const [i, c] of cases.entries()) {
      const r = await connectAs(srv, client(`never-${i}`, c.attrs));
      if (c.accepted) expect(r).toEqual({ ok: true, user: c.user });
      else {
        expect(r.ok).toBe(false);
        expect(!r.ok && r.error).toMatch(/Authorization Violation/i);
      }
    }
    // NATS013: only a certificate that has the empty OU matches
    expect(await connectAs(srv, client("never-empty-ou", [["O", "Acme"], ["OU", ""], ["CN", "frank"]]))).toEqual({ ok: true, user: "CN=frank,OU=,O=Acme" });
    await srv.stop();
  });

  test("NATS009: a trailing '+' drops the last RDN: a certificate with only CN=alice logs in as \"CN=alice,O=Acme+\"", async () => {
    const srv = await startServer("nats009", (p) => [...listen(p), ...tls(), ...users('{ user: "CN=alice,O=Acme+" }'), ""].join("\n"));
    expect(codesOf(lint([srv.conf], { cwd: W }).findings)).toEqual(["NATS009"]);
    expect(await connectAs(srv, client("plus-alice", [["CN", "alice"]]))).toEqual({ ok: true, user: "CN=alice,O=Acme+" });
    expect(await connectAs(srv, client("plus-evil", [["O", "Evil"], ["CN", "alice"]]))).toMatchObject({ ok: false });
    await srv.stop();
  });

  test("NATS011: a user that parses to the empty DN takes any certificate with an empty subject and an unknown e-mail SAN", async () => {
    const srv = await startServer("nats011", (p) => [...listen(p), ...tls(), ...users('{ user: "CN=" }', '{ user: "CN=alice,O=Acme" }'), ""].join("\n"));
    expect(codesOf(lint([srv.conf], { cwd: W }).findings)).toEqual(["NATS011"]);
    expect(await connectAs(srv, client("empty-subject", [], { email: ["nobody@example.com"] }))).toEqual({ ok: true, user: "CN=" });
    await srv.stop();
  });

  test("NATS012: a repeated RDN matches a certificate of another organisation on 2.9.10", async () => {
    const srv = await startServer("nats012", (p) => [...listen(p), ...tls(), ...users('{ user: "CN=alice,CN=alice" }'), ""].join("\n"));
    expect(codesOf(lint([srv.conf], { cwd: W }).findings)).toEqual(["NATS012"]);
    expect(await connectAs(srv, client("dup-evil", [["O", "Evil"], ["CN", "alice"]]))).toEqual({ ok: true, user: "CN=alice,CN=alice" });
    await srv.stop();
  });

  test("NATS020: a mapped user with a password refuses a client that sends only its certificate", async () => {
    const pair = client("pw-alice", [["O", "Acme"], ["CN", "alice"]]);
    const srv = await startServer("nats020", (p) => [...listen(p), ...tls(), ...users('{ user: "CN=alice,O=Acme", password: "s3cret" }'), ""].join("\n"));
    expect(codesOf(lint([srv.conf], { cwd: W }).findings)).toEqual(["NATS020"]);
    const bare = await connectAs(srv, pair);
    expect(bare.ok).toBe(false);
    expect(!bare.ok && bare.error).toMatch(/Authorization Violation/i);
    expect(await connectAs(srv, pair, { pass: "s3cret" })).toEqual({ ok: true, user: "CN=alice,O=Acme" });
    await srv.stop();
  });

  test("NATS021: on an MQTT listener without verify_and_map, the user name alone logs in as a certificate user", async () => {
    const js = path.join(W, "js-nats021");
    const srv = await startServer("nats021", (p) =>
      [...listen(p), "server_name: lint21", `jetstream { store_dir: ${JSON.stringify(js)} }`, ...tls(), `mqtt { listen: 127.0.0.1:${p.mqtt} }`, ...users('{ user: "CN=alice,O=Acme" }'), ""].join("\n"),
    );
    const l = lint([srv.conf], { cwd: W });
    expect(l.findings.map((f) => [f.code, f.versions])).toEqual([["NATS021", ">=2.9.10 <2.12.14 || >=2.13.0 <2.14.4"]]);
    expect(await mqttConnect(srv.mqtt, "CN=alice,O=Acme")).toBe(0); // accepted: no certificate, no password
    expect(await mqttConnect(srv.mqtt, "CN=mallory,O=Acme")).toBe(5); // control: an unknown name is refused
    await srv.stop();
  });

  // on every server of the matrix: lint reports NATS021 for exactly the versions where the name alone logs in
  test.each(natsServerMatrix())("NATS021 on nats-server $version: reported exactly where the user name alone logs in over MQTT", async ({ version, bin }) => {
    const js = path.join(W, `js-nats021-${version}`);
    const srv = await startServer(
      `nats021-${version}`,
      (p) => [...listen(p), `server_name: lint21v${version.replace(/\./g, "")}`, `jetstream { store_dir: ${JSON.stringify(js)} }`, ...tls(), `mqtt { listen: 127.0.0.1:${p.mqtt} }`, ...users('{ user: "CN=alice,O=Acme" }'), ""].join("\n"),
      {},
      bin,
    );
    const byName = await mqttConnect(srv.mqtt, "CN=alice,O=Acme");
    const control = await mqttConnect(srv.mqtt, "CN=mallory,O=Acme");
    await srv.stop();
    const reported = codesOf(lint([srv.conf], { cwd: W, version }).findings).includes("NATS021");
    expect({ version, control }).toEqual({ version, control: 5 }); // an unknown name is refused everywhere
    expect({ version, byName: byName === 0 ? "accepted" : `refused (${byName})`, reported }).toEqual({ version, byName: reported ? "accepted" : "refused (5)", reported });
  });

  test("NATS022: verify without verify_and_map: any trusted certificate plus a user name logs in as that user", async () => {
    const srv = await startServer("nats022", (p) => [...listen(p), ...tls({ lines: ["  verify: true"] }), ...users('{ user: "CN=alice,O=Acme" }'), ""].join("\n"));
    expect(codesOf(lint([srv.conf], { cwd: W }).findings)).toEqual(["NATS022"]);
    const bob = client("v-bob", [["O", "Acme"], ["CN", "bob"]]);
    expect(await connectAs(srv, bob, { user: "CN=alice,O=Acme" })).toEqual({ ok: true, user: "CN=alice,O=Acme" });
    await srv.stop();
  });

  test("NATS023: verify_and_map: true with verify: false gives a different outcome from one restart to the next", async () => {
    // keys in the order verify_and_map, cert_file, key_file, ca_file, verify: Go's map walk starts at a
    // random one of 8 slots, and verify_and_map comes last (mapping on) for 4 of them. Restart until
    // both outcomes were seen, at most 24 times: a false failure then needs 24 equal outcomes (p < 1e-6).
    const pair = client("restart-alice", [["O", "Acme"], ["CN", "alice"]]);
    const body = (p: { port: number; http: number }) =>
      [...listen(p), "tls {", "  verify_and_map: true", `  cert_file: "${serverPair.cert}"`, `  key_file: "${serverPair.key}"`, `  ca_file: "${ca1File}"`, "  verify: false", "}", ...users('{ user: "CN=alice,O=Acme" }'), ""].join("\n");
    const outcomes = new Map<string, number>();
    let lintDone = false;
    for (let i = 0; i < 24 && outcomes.size < 2; i++) {
      const srv = await startServer("nats023", body);
      if (!lintDone) {
        expect(codesOf(lint([srv.conf], { cwd: W }).findings)).toEqual(["NATS023"]);
        lintDone = true;
      }
      const r = await connectAs(srv, pair);
      const k = r.ok ? `mapped to ${r.user}` : /Authorization Violation/i.test(r.error) ? "refused: no certificate requested" : `other: ${r.error}`;
      outcomes.set(k, (outcomes.get(k) ?? 0) + 1);
      if (!r.ok) expect(srv.log()).toMatch(/User required in cert, no peer certificates found/);
      await srv.stop();
    }
    expect([...outcomes.keys()].sort()).toEqual(["mapped to CN=alice,O=Acme", "refused: no certificate requested"]);
  });

  test("NATS030: without ca_file the server trusts the system roots: a certificate from a CA in SSL_CERT_FILE logs in", async () => {
    const bundle = path.join(W, "system-roots.pem");
    fs.writeFileSync(bundle, CA2.pem);
    const outsider = write(W, "outsider", make({ subject: subject(["O", "Acme"], ["CN", "alice"]), issuer: CA2 }));
    const srv = await startServer("nats030", (p) => [...listen(p), ...tls({ ca: null }), ...users('{ user: "CN=alice,O=Acme" }'), ""].join("\n"), { SSL_CERT_FILE: bundle, SSL_CERT_DIR: path.join(W, "no-such-dir") });
    expect(codesOf(lint([srv.conf], { cwd: W }).findings)).toEqual(["NATS030"]);
    expect(await connectAs(srv, outsider)).toEqual({ ok: true, user: "CN=alice,O=Acme" });
    await srv.stop();
    // control: with ca_file, the same certificate fails the handshake
    const pinned = await startServer("nats030-ca", (p) => [...listen(p), ...tls(), ...users('{ user: "CN=alice,O=Acme" }'), ""].join("\n"), { SSL_CERT_FILE: bundle });
    expect((await connectAs(pinned, outsider)).ok).toBe(false);
    expect(pinned.log()).toMatch(/TLS handshake error.*unknown authority/);
    await pinned.stop();
  });

  test("NATS031: insecure: true does not relax client verification", async () => {
    const srv = await startServer("nats031", (p) => [...listen(p), ...tls({ lines: ["  verify_and_map: true", "  insecure: true"] }), ...users('{ user: "CN=alice,O=Acme" }'), ""].join("\n"));
    expect(codesOf(lint([srv.conf], { cwd: W }).findings)).toEqual(["NATS031"]);
    const outsider = write(W, "outsider2", make({ subject: subject(["O", "Acme"], ["CN", "alice"]), issuer: CA2 }));
    expect((await connectAs(srv, outsider)).ok).toBe(false);
    expect(srv.log()).toMatch(/TLS handshake error.*unknown authority/);
    expect(await connectAs(srv, client("ins-alice", [["O", "Acme"], ["CN", "alice"]]))).toEqual({ ok: true, user: "CN=alice,O=Acme" });
    await srv.stop();
  });
});

describe("ocsp_peer (test/ocsp-peer*.test.ts shows what real servers do)", () => {
  test("NATS034 no verify, NATS035 the response cache, NATS036 warn_only, NATS037 a certificate without a responder", () => {
    const s = makeStore({ name: "Lint OCSP CA" });
    const cli = (args: string[]) => mtlsOk(args, { cwd: s.cwd, env: s.env });
    cli(["server", "issue", "nats1", "--dns", "localhost"]);
    cli(["client", "issue", "old", "--email", "old@example.com"]); // before the CA has an OCSP URL
    cli(["ca", "set", "--ocsp-url", "http://127.0.0.1:9/ocsp"]);
    cli(["client", "issue", "new", "--email", "new@example.com"]);
    const conf = (name: string, ocsp: string, top: string[] = []) => {
      const f = path.join(s.cwd, `${name}.conf`);
      const pki = s.dir;
      fs.writeFileSync(f, ["tls {", `  cert_file: "${pki}/issued/nats1.crt"`, `  key_file: "${pki}/private/nats1.key"`, `  ca_file: "${pki}/ca.crt"`, "  verify_and_map: true", `  ${ocsp}`, "}", ...top, 'authorization { users = [ { user: "old@example.com" }, { user: "new@example.com" } ] }', ""].join("\n"));
      return f;
    };
    const opts = { cwd: s.cwd, env: s.env, version: "2.15.3" };
    expect(codesOf(lint([conf("a", "ocsp_peer { ca_timeout: 5 }")], opts).findings)).toEqual(["NATS034"]);
    expect(codesOf(lint([conf("b", "ocsp_peer: true")], opts).findings)).toEqual(["NATS035"]);
    expect(codesOf(lint([conf("c", "ocsp_peer { verify: true, warn_only: true }", ["ocsp_cache: false"])], opts).findings)).toEqual(["NATS036"]);
    const withStore = lint([conf("d", "ocsp_peer: true", ["ocsp_cache: false"]), "--store"], opts).findings.filter((f) => f.code === "NATS037");
    expect(withStore.map((f) => f.message.split(" ")[0])).toEqual(["old"]);
    // before 2.9.21 the key is refused, as the server refuses it
    expect(codesOf(lint([conf("e", "ocsp_peer: true")], { ...opts, version: "2.9.10" }).findings)).toEqual(["NATS000"]);
  });
});

describe("coverage of the codes", () => {
  test("every code in the table was reported by some test above", () => {
    expect([...seen].sort()).toEqual(Object.keys(CODES).sort());
  });
});
