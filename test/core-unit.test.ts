import * as der from "../src/asn1/der";
import { OID } from "../src/asn1/oids";
import { parseRfc4514, canonicalOrder, encodeName, decodeName, formatRfc4514, unpredictableReasons } from "../src/pki/name";
import { checkDns, checkEmail, checkIp, checkUri, decodeSans, encodeSans, ipBytes, ipString } from "../src/pki/san";
import { quoteConfString } from "../src/nats/confstring";
import { goSubjectString, goDcString, dnStageDn, dnStageString, goEscape, hasSubject } from "../src/nats/subject";
import { natsUserFor, goUriString } from "../src/nats/user";
import { MtlsError } from "../src/errors";
import { openssl, tmpDir } from "./helpers/cli";
import * as fs from "node:fs";
import * as path from "node:path";

/** Builds a raw Name from [type, value, tag?] RDNs in DER order (single-valued unless an array of arrays). */
function rawName(rdns: [string, string, number?][][]): Buffer {
  return der.seq(...rdns.map((rdn) => der.setOf(...rdn.map(([t, v, tag]) => der.seq(der.oid(t), der.stringOf(tag ?? der.Tag.UTF8String, v))))));
}

describe("DER", () => {
  test("OIDs round-trip, including large arcs", () => {
    for (const o of ["2.5.4.3", "1.2.840.113549.1.9.14", "0.9.2342.19200300.100.1.25", "2.999.1", "1.3.6.1.4.1.311.60.2.1.3"]) expect(der.readOid(der.parseOne(der.oid(o)))).toBe(o);
    expect(der.oid("2.5.4.3").toString("hex")).toBe("0603550403");
  });
  test("INTEGER is minimal and positive", () => {
    expect(der.uint(Buffer.from([0x00, 0x00, 0x7f])).toString("hex")).toBe("02017f");
    expect(der.uint(Buffer.from([0x80])).toString("hex")).toBe("02020080");
    expect(der.smallInt(0).toString("hex")).toBe("020100");
    expect(der.smallInt(256).toString("hex")).toBe("02020100");
  });
  test("long lengths and named bits", () => {
    const big = der.octets(Buffer.alloc(300));
    expect(big.subarray(0, 4).toString("hex")).toBe("0482012c");
    expect(der.parseOne(big).content.length).toBe(300);
    expect(der.namedBits([0]).toString("hex")).toBe("03020780"); // digitalSignature
    expect(der.namedBits([0, 2]).toString("hex")).toBe("030205a0"); // + keyEncipherment
    expect(der.namedBits([5, 6]).toString("hex")).toBe("03020106"); // keyCertSign, cRLSign
    expect(der.readNamedBits(der.parseOne(der.namedBits([5, 6])))).toEqual([5, 6]);
  });
  test("times: UTCTime until 2049, GeneralizedTime after", () => {
    const a = new Date(Date.UTC(2049, 11, 31, 23, 59, 59));
    const b = new Date(Date.UTC(2050, 0, 1, 0, 0, 0));
    expect(der.time(a)[0]).toBe(der.Tag.UTCTime);
    expect(der.time(b)[0]).toBe(der.Tag.GeneralizedTime);
    expect(der.readTime(der.parseOne(der.time(a))).getTime()).toBe(a.getTime());
    expect(der.readTime(der.parseOne(der.time(b))).getTime()).toBe(b.getTime());
  });
  test("the reader refuses truncation, indefinite and non-minimal lengths, trailing bytes", () => {
    expect(() => der.parseOne(Buffer.from("3005020101", "hex"))).toThrow(der.DerError);
    expect(() => der.parseOne(Buffer.from("3080020101", "hex"))).toThrow(/indefinite/);
    expect(() => der.parseOne(Buffer.from("30810102", "hex"))).toThrow(/non-minimal/);
    expect(() => der.parseOne(Buffer.from("05000500", "hex"))).toThrow(/trailing/);
  });
  test("SET OF members are sorted", () => {
    const s = der.setOf(Buffer.from("0401ff", "hex"), Buffer.from("040100", "hex"));
    expect(s.toString("hex")).toBe("3106040100" + "0401ff");
  });
});

describe("names", () => {
  test("RFC 4514 parsing: reversed into DER order, escapes, spaces, multi-valued RDNs", () => {
    const rdns = parseRfc4514("CN=Smith\\, John,OU= ops ,O=Acme \\\"Q\\\" \\+ Co");
    expect(rdns.map((r) => r.map((a) => [a.type, a.value]))).toEqual([[[OID.O, 'Acme "Q" + Co']], [[OID.OU, "ops"]], [[OID.CN, "Smith, John"]]]);
    expect(parseRfc4514("CN=Jos\\C3\\A9")[0][0].value).toBe("José");
    expect(parseRfc4514("CN=\\ x\\ ")[0][0].value).toBe(" x ");
    expect(parseRfc4514("cn=a+uid=b")[0].map((a) => a.type)).toEqual([OID.CN, OID.UID]);
  });
  test("RFC 4514 refusals", () => {
    for (const bad of ["", "CN", "CN=", "CN=a;O=b", "FOO=x", "CN=#0101", "CN=a,", "C=USA", "CN=a\u0000b", "CN=a\nb", "CN=" + "x".repeat(65), "CN=a\\q"])
      expect(() => parseRfc4514(bad)).toThrow(MtlsError);
  });
  test("canonical order is C, ST, L, STREET, POSTALCODE, O, OU, CN, SERIALNUMBER", () => {
    const rdns = canonicalOrder(parseRfc4514("CN=x,OU=u,C=US,O=o,L=LA,ST=CA,SERIALNUMBER=42"));
    expect(rdns.map((r) => r[0].type)).toEqual([OID.C, OID.ST, OID.L, OID.O, OID.OU, OID.CN, OID.SERIALNUMBER]);
    expect(unpredictableReasons(rdns)).toEqual([]);
    expect(formatRfc4514(decodeName(encodeName(rdns)))).toBe("SERIALNUMBER=42,CN=x,OU=u,O=o,L=LA,ST=CA,C=US");
  });
  test("unpredictable subjects are explained", () => {
    expect(unpredictableReasons(canonicalOrder(parseRfc4514("CN=a,OU=x,OU=y"))).join()).toMatch(/repeated OU/);
    expect(unpredictableReasons(canonicalOrder(parseRfc4514("UID=u,CN=a"))).join()).toMatch(/UID/);
    expect(unpredictableReasons(parseRfc4514("CN=a+O=b")).join()).toMatch(/multi-valued/);
  });
  test("string types: C printable, others UTF8, DC IA5", () => {
    const n = decodeName(encodeName(canonicalOrder(parseRfc4514("CN=José,DC=example,C=US"))));
    expect(n.map((r) => r[0].tag)).toEqual([der.Tag.IA5String, der.Tag.PrintableString, der.Tag.UTF8String]);
  });
  test("openssl reads our encoded name in the intended order", () => {
    const d = tmpDir();
    const f = path.join(d, "n.der");
    fs.writeFileSync(f, encodeName(canonicalOrder(parseRfc4514("CN=alice,OU=eng,O=Acme,C=US"))));
    const r = openssl(["asn1parse", "-inform", "DER", "-in", f]);
    expect(r.code).toBe(0);
    const order = [...r.stdout.matchAll(/:(countryName|organizationName|organizationalUnitName|commonName)/g)].map((m) => m[1]);
    expect(order).toEqual(["countryName", "organizationName", "organizationalUnitName", "commonName"]);
  });
});

describe("SANs", () => {
  test("validation", () => {
    expect(checkEmail("a.b+c@example.com")).toBe("a.b+c@example.com");
    for (const e of ["nope", "a@", "@b", "a b@c.d", "a@b@c", "é@x.org"]) expect(() => checkEmail(e)).toThrow(MtlsError);
    expect(checkDns("*.example.com")).toBe("*.example.com");
    for (const d of ["a b.com", "-a.com", "a..b", "a.*.com", "x".repeat(64) + ".com"]) expect(() => checkDns(d)).toThrow(MtlsError);
    expect(checkUri("spiffe://example.org/ns/a")).toBeTruthy();
    for (const u of ["/relative", "no-scheme", "http://a b", "http://x/%zz", "http://x/{y}"]) expect(() => checkUri(u)).toThrow(MtlsError);
    for (const a of ["1.2.3.4", "::1", "fe80::1:2"]) expect(checkIp(a)).toBe(a);
    for (const a of ["1.2.3", "300.1.1.1", "localhost"]) expect(() => checkIp(a)).toThrow(MtlsError);
  });
  test("IP encoding round-trips (v4, v6, compressed, embedded v4)", () => {
    expect(ipBytes("127.0.0.1").toString("hex")).toBe("7f000001");
    expect(ipBytes("::1").toString("hex")).toBe("00000000000000000000000000000001");
    expect(ipBytes("2001:db8::8:800:200c:417a").toString("hex")).toBe("20010db8000000000008080020 0c417a".replace(" ", ""));
    expect(ipBytes("::ffff:1.2.3.4").toString("hex")).toBe("00000000000000000000ffff01020304");
    for (const a of ["::1", "2001:db8::1", "fe80::1:2", "1:2:3:4:5:6:7:8", "2001:db8:0:0:1::1"]) expect(ipString(ipBytes(a))).toBe(a === "2001:db8:0:0:1::1" ? "2001:db8::1:0:0:1" : a);
  });
  test("GeneralNames round-trip in kind order", () => {
    const s = { email: ["a@x.org", "b@x.org"], dns: ["h.x.org"], uri: ["spiffe://x/y"], ip: ["10.0.0.1", "::1"] };
    expect(decodeSans(encodeSans(s))).toEqual({ ...s, other: 0 });
  });
});

describe("NATS config strings (reference §3.2)", () => {
  test("escapes exactly backslash, quote, CR, LF, TAB and control bytes", () => {
    expect(quoteConfString('CN=a\\"b')).toBe('"CN=a\\\\\\"b"');
    expect(quoteConfString("a\nb\rc\td")).toBe('"a\\nb\\rc\\td"');
    expect(quoteConfString("x\u0001\u007f")).toBe('"x\\x01\\x7f"');
    expect(quoteConfString("#}{[]',;:=$HOME // include")).toBe(`"#}{[]',;:=$HOME // include"`);
    expect(quoteConfString("José")).toBe('"José"');
  });
  test("refuses what cannot be expressed", () => {
    expect(() => quoteConfString("")).toThrow(MtlsError);
    expect(() => quoteConfString("a\u0000b")).toThrow(MtlsError);
    expect(() => quoteConfString("a\ud800b")).toThrow(MtlsError);
  });
});

describe("the server's subject views (reference §2.4, §2.5)", () => {
  const A = rawName([[[OID.O, "Acme"]], [[OID.CN, "alice"]]]);
  test("canonical subject: DN form, Go string and display coincide", () => {
    expect(goSubjectString(A)).toBe("CN=alice,O=Acme");
    expect(dnStageString(A)).toBe("CN=alice,O=Acme");
  });
  test("Go merges repeated OU, keeps the last CN, drops DC and unknown types (D9, D14, D17, E7)", () => {
    expect(goSubjectString(rawName([[[OID.O, "Acme"]], [[OID.OU, "a"]], [[OID.OU, "b"]], [[OID.CN, "x"]]]))).toBe("CN=x,OU=a+OU=b,O=Acme");
    expect(goSubjectString(rawName([[[OID.CN, "a"]], [[OID.CN, "b"]]]))).toBe("CN=b");
    const dc = rawName([[[OID.DC, "org", der.Tag.IA5String]], [[OID.DC, "example", der.Tag.IA5String]], [[OID.O, "Acme"]], [[OID.CN, "alice"]]]);
    expect(goSubjectString(dc)).toBe("CN=alice,O=Acme");
    expect(goDcString(dc)).toBe("CN=alice,O=Acme,DC=org,DC=example");
    expect(dnStageString(dc)).toBe("CN=alice,O=Acme,DC=example,DC=org");
    const withEmail = rawName([[[OID.O, "Acme"]], [[OID.CN, "alice"]], [[OID.emailAddress, "alice@example.com", der.Tag.IA5String]]]);
    expect(dnStageDn(withEmail)).toBeNull();
    expect(goSubjectString(withEmail)).toBe("CN=alice,O=Acme");
  });
  test("Go reorders to SERIALNUMBER, CN, OU, O, POSTALCODE, STREET, L, ST, C (D33)", () => {
    const n = rawName([[[OID.CN, "x"]], [[OID.OU, "u"]], [[OID.C, "US", der.Tag.PrintableString]], [[OID.O, "o"]], [[OID.L, "LA"]], [[OID.ST, "CA"]]]);
    expect(goSubjectString(n)).toBe("CN=x,OU=u,O=o,L=LA,ST=CA,C=US");
  });
  test("Go escaping: specials always, space at the edges, # first, = never (D25, D26, D27, D41)", () => {
    expect(goEscape("a=b")).toBe("a=b");
    expect(goEscape("#1")).toBe("\\#1");
    expect(goEscape("a#1")).toBe("a#1");
    expect(goEscape(" alice ")).toBe("\\ alice\\ ");
    expect(goEscape("a+b,c;d<e>f\"g\\h")).toBe('a\\+b\\,c\\;d\\<e\\>f\\"g\\\\h');
    expect(goEscape("a\nb")).toBe("a\nb");
  });
  test("empty subject", () => {
    const empty = der.seq();
    expect(hasSubject(empty)).toBe(false);
    expect(goSubjectString(empty)).toBe("");
  });
});

describe("the user string for a certificate", () => {
  const subj = rawName([[[OID.O, "Acme"]], [[OID.CN, "alice"]]]);
  const none = { email: [], dns: [], uri: [], ip: [], other: 0 };
  test("email, then DNS, then URI, then DN", () => {
    expect(natsUserFor({ subjectRaw: subj, sans: { ...none, email: ["a@x.org"], dns: ["h"], uri: ["spiffe://t/x"] } })).toMatchObject({ user: "a@x.org", kind: "email" });
    expect(natsUserFor({ subjectRaw: subj, sans: { ...none, dns: ["h"], uri: ["spiffe://t/x"] } })).toMatchObject({ user: "h", kind: "dns" });
    expect(natsUserFor({ subjectRaw: subj, sans: { ...none, uri: ["SPIFFE://T/x#"] } })).toMatchObject({ user: "spiffe://T/x", kind: "uri" });
    expect(natsUserFor({ subjectRaw: subj, sans: { ...none, ip: ["127.0.0.1"] } })).toMatchObject({ user: "CN=alice,O=Acme", kind: "dn" });
    expect(natsUserFor({ subjectRaw: subj, sans: { ...none, email: ["a@x.org"] } }, "dn")).toMatchObject({ user: "CN=alice,O=Acme", kind: "dn" });
  });
  test("a URI SAN whose host starts with '.': mapped (Go 1.19 parses it; test/gourl.test.ts), with a note on later Go", () => {
    const r = natsUserFor({ subjectRaw: subj, sans: { ...none, uri: ["spiffe://.a.example/x"] } });
    expect(r).toMatchObject({ user: "spiffe://.a.example/x", kind: "uri" });
    expect(r.notes.join()).toMatch(/host starts with "\.".*later Go refuse/);
    // the second URI, after userinfo; a dot in the path is no host
    expect(natsUserFor({ subjectRaw: subj, sans: { ...none, uri: ["spiffe://t/x", "spiffe://u@.t/y"] } }).notes).toHaveLength(1);
    expect(natsUserFor({ subjectRaw: subj, sans: { ...none, uri: ["spiffe://t/.x"] } }).notes).toEqual([]);
  });
  test("a DNS-only certificate with an empty subject gets a warning (E14)", () => {
    const r = natsUserFor({ subjectRaw: der.seq(), sans: { ...none, dns: ["h.example.com"] } });
    expect(r.user).toBe("h.example.com");
    expect(r.notes.join()).toMatch(/2\.14\.1/);
  });
  test("URIs as Go writes them back", () => {
    expect(goUriString("SPIFFE://Example.org/A")).toBe("spiffe://Example.org/A");
    expect(goUriString("spiffe://t/x#")).toBe("spiffe://t/x");
    expect(goUriString("spiffe://t/x?")).toBe("spiffe://t/x?");
  });
});
