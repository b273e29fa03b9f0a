import * as der from "../src/asn1/der";
import { OID } from "../src/asn1/oids";
import { dnStageDn, parseDnEscape, type LdapDn } from "../src/nats/subject";
import {
  attrEqual,
  byteString,
  byteText,
  dnEqual,
  DnParseError,
  dnStageCandidates,
  equalFold,
  escapeDnValue,
  formatDn,
  goRunes,
  parseDn,
  parseServerVersion,
  rdnEqual,
  rdnsMatch,
  rdnsMatchConsumesOnce,
  tryParseDn,
} from "../src/nats/ldapdn";

/** [type, value] pairs per RDN, as byte strings. */
const plain = (dn: LdapDn) => dn.map((rdn) => rdn.map((a) => [a.type, a.value]));

/**
 * What FromRawCertSubject gives for a subject written in DER order (first = most significant):
 * RDNs last to first, the attributes inside an RDN last to first, string values as their UTF-8 bytes
 * (the representation ldapdn.ts documents); `raw` values (T61String) are byte strings already.
 */
function certDn(...rdns: [string, string, "raw"?][][]): LdapDn {
  return rdns
    .slice()
    .reverse()
    .map((rdn) => rdn.slice().reverse().map(([type, v, raw]) => ({ type, value: raw ? v : byteString(v) })));
}
const A = certDn([["O", "Acme"]], [["CN", "alice"]]);

const equalTo = (user: string, cert: LdapDn) => dnEqual(parseDn(user), cert);
const reorderedTo = (user: string, cert: LdapDn, version = "2.9.10") => rdnsMatch(parseDn(user), cert, version);

describe("parseDn reproduces the server's ParseDN", () => {
  // Expected results observed by running nats-server v2.9.10's internal/ldap ParseDN (Go 1.19.8) on
  // these inputs in a throwaway harness outside the repository; values are byte strings.
  // The same harness agreed with parseDn on 20,000 random strings over a specials-heavy alphabet,
  // error messages included.
  const TABLE: [string, [string, string][][] | { error: string }][] = [
    ["", []],
    [" ", []],
    ["CN=", []],
    ["O=", []],
    ["=", []],
    ["CN=alice,O=Acme", [[["CN", "alice"]], [["O", "Acme"]]]],
    ["CN = alice , O = Acme", [[["CN", "alice"]], [["O", "Acme"]]]],
    ["  CN  =  alice  ", [[["CN", "alice"]]]],
    ["CN=alice,O=Acme,OU=", [[["CN", "alice"]], [["O", "Acme"]]]],
    ["CN=alice,O=Acme,", [[["CN", "alice"]], [["O", "Acme"]]]],
    ["CN=alice,O=Acme+", [[["CN", "alice"]]]],
    ["CN=alice,O=Acme+OU=", [[["CN", "alice"]]]],
    ["O=,CN=x", [[["O", ""]], [["CN", "x"]]]],
    ["CN=x+O=,OU=y", [[["CN", "x"], ["O", ""]], [["OU", "y"]]]],
    ["CN=a=b", [[["a", "b"]]]],
    ["CN=a=b=c", [[["b", "c"]]]],
    ["CN==x", { error: "DN ended with incomplete type, value pair" }],
    ["=x", { error: "DN ended with incomplete type, value pair" }],
    ["CN=#1", { error: "unsupported BER encoding" }],
    ["CN=\\#1", [[["CN", "#1"]]]],
    ["CN=a#", [[["CN", "a#"]]]],
    ["CN= #1", [[["CN", "#1"]]]],
    ["CN=a=#b", { error: "unsupported BER encoding" }],
    ["CN= alice ", [[["CN", "alice"]]]],
    ["CN=\\ alice\\ ", [[["CN", " alice "]]]],
    ["CN=a \\ ", [[["CN", "a  "]]]],
    ["CN=a \\20", [[["CN", "a  "]]]],
    ["CN=a\\20 ", [[["CN", "a "]]]],
    ["CN=Jos\\C3\\A9", [[["CN", "Jos\xc3\xa9"]]]],
    ["CN=Jos\\c3\\a9", [[["CN", "Jos\xc3\xa9"]]]],
    ["CN=Jos\\E9", [[["CN", "Jos\xe9"]]]],
    ["CN=Jos\u00e9", [[["CN", "Jos\xc3\xa9"]]]],
    ["CN=alice;O=Acme", [[["alice;O", "Acme"]]]],
    ["CN=a\"b", [[["CN", "a\"b"]]]],
    ["CN=a\\\"b", [[["CN", "a\"b"]]]],
    ["CN=a\\\\b", [[["CN", "a\\b"]]]],
    ["CN=a<b>c", [[["CN", "a<b>c"]]]],
    ["CN=a\\<b\\>c", [[["CN", "a<b>c"]]]],
    ["CN=a\\;b", [[["CN", "a;b"]]]],
    ["CN=a\\=b", [[["CN", "a=b"]]]],
    ["CN=a+b", { error: "DN ended with incomplete type, value pair" }],
    ["CN=a\\+b", [[["CN", "a+b"]]]],
    ["CN=a\\,b", [[["CN", "a,b"]]]],
    ["CN=Acme\\2C Inc.", [[["CN", "Acme, Inc."]]]],
    ["CN=alice,O=Acme, Inc.", { error: "DN ended with incomplete type, value pair" }],
    ["2.5.4.3=alice,2.5.4.10=Acme", [[["2.5.4.3", "alice"]], [["2.5.4.10", "Acme"]]]],
    ["commonName=alice", [[["commonName", "alice"]]]],
    ["cn=alice+o=Acme,dc=org", [[["cn", "alice"], ["o", "Acme"]], [["dc", "org"]]]],
    ["CN=a\\", [[["CN", "a"]]]],
    ["CN=\\", []],
    ["CN=a\\4", { error: "got corrupted escaped character" }],
    ["CN=a\\4g", { error: "failed to decode escaped character: invalid byte: U+0067 'g'" }],
    ["CN=a\\g1", { error: "failed to decode escaped character: invalid byte: U+0067 'g'" }],
    ["CN=a\\x", { error: "got corrupted escaped character" }],
    ["CN=a\\\u00e9", { error: "failed to decode escaped character: invalid byte: U+00C3 '\u00c3'" }],
    ["alice", { error: "DN ended with incomplete type, value pair" }],
    ["bob@example.com", { error: "DN ended with incomplete type, value pair" }],
    ["CN=a,,O=b", { error: "incomplete type, value pair" }],
    [",CN=a", { error: "incomplete type, value pair" }],
    ["+CN=a", { error: "incomplete type, value pair" }],
    ["CN=a,O", { error: "DN ended with incomplete type, value pair" }],
    ["CN=a,O ", { error: "DN ended with incomplete type, value pair" }],
    ["CN=a, O =b", [[["CN", "a"]], [["O", "b"]]]],
    ["C N=a", [[["C N", "a"]]]],
    ["CN=\\00", [[["CN", "\x00"]]]],
    ["CN=a\x0ab", [[["CN", "a\x0ab"]]]],
    ["OU=testuser@MacBook-Pro.local (Test User),O=mkcert development certificate", [[["OU", "testuser@MacBook-Pro.local (Test User)"]], [["O", "mkcert development certificate"]]]],
    ["CN=x#y}z$HOME'q", [[["CN", "x#y}z$HOME'q"]]]],
  ];
  test.each(TABLE)("%j", (input, expected) => {
    if (Array.isArray(expected)) expect(plain(parseDn(input))).toEqual(expected);
    else {
      expect(() => parseDn(input)).toThrow(DnParseError);
      expect(() => parseDn(input)).toThrow(expected.error);
      expect(tryParseDn(input)).toBeNull();
    }
  });

  test("errors carry the byte offset where the parser stopped", () => {
    const at = (s: string) => {
      try {
        parseDn(s);
      } catch (e) {
        expect(e).toBeInstanceOf(DnParseError);
        return (e as DnParseError).offset;
      }
      return -1;
    };
    expect(at("CN=#1")).toBe(3);
    expect(at("CN=a,,O=b")).toBe(5);
    expect(at("CN=a\\4g")).toBe(6);
    expect(at("alice")).toBe(5);
  });

  test("a Buffer is parsed as raw bytes; a string as its UTF-8 bytes", () => {
    // A config string "CN=Jos\xe9" holds the raw byte 0xE9 (U1), not UTF-8.
    expect(plain(parseDn(Buffer.from("434e3d4a6f73e9", "hex")))).toEqual([[["CN", "Jos\xe9"]]]);
    expect(plain(parseDn("CN=Jos\u00e9"))).toEqual([[["CN", "Jos\xc3\xa9"]]]);
    expect(plain(parseDn("CN=\u{1F600}"))).toEqual([[["CN", "\xf0\x9f\x98\x80"]]]);
  });

  test("the byte representation round-trips text", () => {
    expect(byteString("Jos\u00e9")).toBe("Jos\xc3\xa9");
    expect(byteText("Jos\xc3\xa9")).toBe("Jos\u00e9");
    // Go's decoding: one U+FFFD per invalid byte (a truncated sequence gives two here, not one).
    expect(byteText("a\xe2\x82b")).toBe("a\ufffd\ufffdb");
    expect(goRunes("\xed\xa0\x80")).toEqual([0xfffd, 0xfffd, 0xfffd]); // an encoded surrogate
    expect(goRunes("\xc0\xaf")).toEqual([0xfffd, 0xfffd]); // overlong
    expect(goRunes("\xf4\x90\x80\x80")).toEqual([0xfffd, 0xfffd, 0xfffd, 0xfffd]); // above U+10FFFF
  });
});

describe("the DN stage against certificate DNs (reference §5)", () => {
  test("D1 baseline: Equal", () => {
    expect(equalTo("CN=alice,O=Acme", A)).toBe(true);
  });
  test("D2 OpenSSL order: not Equal, but RDNsMatch", () => {
    expect(equalTo("O=Acme,CN=alice", A)).toBe(false);
    expect(reorderedTo("O=Acme,CN=alice", A)).toBe(true);
  });
  test("D3 types are case-insensitive", () => {
    expect(equalTo("cn=alice,o=Acme", A)).toBe(true);
    expect(equalTo("Cn=alice,oU=x", certDn([["OU", "x"]], [["CN", "alice"]]))).toBe(true);
  });
  test("D4 values are case-sensitive", () => {
    expect(equalTo("CN=Alice,O=Acme", A)).toBe(false);
    expect(reorderedTo("CN=Alice,O=Acme", A)).toBe(false);
  });
  test("D5 spaces around types and values are dropped", () => {
    expect(equalTo("CN = alice , O = Acme", A)).toBe(true);
  });
  const inc = certDn([["O", "Acme, Inc."]], [["CN", "alice"]]);
  test("D6, D7 an escaped comma, backslash or hex", () => {
    expect(equalTo("CN=alice,O=Acme\\, Inc.", inc)).toBe(true);
    expect(equalTo("CN=alice,O=Acme\\2C Inc.", inc)).toBe(true);
    expect(equalTo("CN=alice,O=Acme\\2c Inc.", inc)).toBe(true);
  });
  test("D8 an unescaped comma splits the RDN (and here leaves a value without a type)", () => {
    expect(tryParseDn("CN=alice,O=Acme, Inc.")).toBeNull();
  });
  const ous = certDn([["O", "Acme"]], [["OU", "a"]], [["OU", "b"]], [["CN", "x"]]);
  test("D9, D11 a multi-valued spelling of separate OUs never matches in the DN stage", () => {
    for (const u of ["CN=x,OU=a+OU=b,O=Acme", "CN=x,OU=b+OU=a,O=Acme"]) {
      expect(equalTo(u, ous)).toBe(false);
      expect(reorderedTo(u, ous)).toBe(false);
    }
  });
  test("D10 the true reversed order is Equal", () => {
    expect(equalTo("CN=x,OU=b,OU=a,O=Acme", ous)).toBe(true);
    expect(equalTo("CN=x,OU=a,OU=b,O=Acme", ous)).toBe(false);
    expect(reorderedTo("CN=x,OU=a,OU=b,O=Acme", ous)).toBe(true);
  });
  const multi = certDn([["O", "Acme"], ["OU", "eng"]], [["CN", "x"]]);
  test("D12 a multi-valued RDN matches in either attribute order", () => {
    expect(equalTo("CN=x,OU=eng+O=Acme", multi)).toBe(true);
    expect(equalTo("CN=x,O=Acme+OU=eng", multi)).toBe(true);
    expect(equalTo("CN=x,O=Acme+OU=eng+OU=eng", multi)).toBe(false); // attribute count differs
  });
  test("D13 flattening the multi-valued RDN fails the DN stage", () => {
    expect(equalTo("CN=x,OU=eng,O=Acme", multi)).toBe(false);
    expect(reorderedTo("CN=x,OU=eng,O=Acme", multi)).toBe(false);
  });
  test("D14, D15 a single CN never matches a two-CN subject in the DN stage", () => {
    const two = certDn([["CN", "a"]], [["CN", "b"]]);
    for (const u of ["CN=a", "CN=b"]) expect(reorderedTo(u, two)).toBe(false);
    expect(equalTo("CN=b,CN=a", two)).toBe(true);
  });
  test("D16, D17 DC takes part in the DN stage", () => {
    const dc = certDn([["DC", "org"]], [["DC", "example"]], [["O", "Acme"]], [["CN", "alice"]]);
    expect(equalTo("CN=alice,O=Acme,DC=example,DC=org", dc)).toBe(true);
    expect(equalTo("cn=alice,o=Acme,dc=example,dc=org", dc)).toBe(true);
    expect(reorderedTo("CN=alice,O=Acme", dc)).toBe(false);
  });
  test("D20 duplicate user RDNs: set-style up to the fix, consume-once after", () => {
    expect(equalTo("CN=alice,CN=alice", A)).toBe(false);
    expect(reorderedTo("CN=alice,CN=alice", A, "2.9.10")).toBe(true);
    expect(reorderedTo("CN=alice,CN=alice", A, "2.14.0")).toBe(false);
  });
  test("D21 two spellings that are both Equal: an ambiguous tier", () => {
    expect(dnStageCandidates(["CN=alice,O=Acme", "cn=alice,o=Acme"], A)).toEqual({ tier: "Equal", users: ["CN=alice,O=Acme", "cn=alice,o=Acme"], unparsed: [] });
    expect(dnEqual(parseDn("CN=alice,O=Acme"), parseDn("cn=alice,o=Acme"))).toBe(true);
  });
  test("D22 Equal beats RDNsMatch", () => {
    expect(dnStageCandidates(["O=Acme,CN=alice", "CN=alice,O=Acme"], A)).toMatchObject({ tier: "Equal", users: ["CN=alice,O=Acme"] });
  });
  test("D23, D24 trailing empty attribute or comma is dropped", () => {
    expect(equalTo("CN=alice,O=Acme,OU=", A)).toBe(true);
    expect(equalTo("CN=alice,O=Acme,", A)).toBe(true);
  });
  test("D25 an unescaped '=' restarts the type", () => {
    const eq = certDn([["CN", "a=b"]]);
    expect(equalTo("CN=a=b", eq)).toBe(false);
    expect(plain(parseDn("CN=a=b"))).toEqual([[["a", "b"]]]);
    expect(equalTo("CN=a\\=b", eq)).toBe(true);
  });
  test("D26 a leading '#' must be escaped", () => {
    const hash = certDn([["CN", "#1"]]);
    expect(dnStageCandidates(["CN=#1", "CN=\\#1"], hash)).toEqual({ tier: "Equal", users: ["CN=\\#1"], unparsed: [{ user: "CN=#1", error: expect.any(DnParseError) }] });
  });
  test("D27 edge spaces must be escaped", () => {
    const sp = certDn([["CN", " alice "]]);
    expect(equalTo("CN= alice ", sp)).toBe(false);
    expect(equalTo("CN=\\ alice\\ ", sp)).toBe(true);
  });
  test("D28, D29, D30 non-ASCII: literal UTF-8 or hex-escaped UTF-8 bytes", () => {
    const jose = certDn([["CN", "Jos\u00e9"]]);
    expect(equalTo("CN=Jos\u00e9", jose)).toBe(true);
    expect(equalTo("CN=Jos\\C3\\A9", jose)).toBe(true);
    expect(equalTo("CN=Jos\\E9", jose)).toBe(false); // Latin-1 byte, not UTF-8
    expect(equalTo("CN=Zo\u00eb", certDn([["CN", "Zo\u00eb"]]))).toBe(true); // a BMPString decodes to the same UTF-8
  });
  test("U1-U3 a T61String keeps its raw bytes", () => {
    const t61 = certDn([["CN", "Jos\xe9", "raw"]]);
    expect(dnEqual(parseDn(Buffer.from("CN=Jos\xe9", "latin1")), t61)).toBe(true); // U1: config "CN=Jos\xe9"
    expect(equalTo("CN=Jos\\E9", t61)).toBe(true); // U3
    expect(equalTo("CN=Jos\ufffd", t61)).toBe(false); // U2 matches only through Go's string
    expect(equalTo("CN=Jos\u00e9", t61)).toBe(false);
  });
  test("D31 the serial number and folded types", () => {
    expect(equalTo("serialnumber=42,CN=alice", certDn([["CN", "alice"]], [["SERIALNUMBER", "42"]]))).toBe(true);
  });
  test("D32 dotted OIDs and long names are not type names", () => {
    expect(reorderedTo("2.5.4.3=alice,2.5.4.10=Acme", A)).toBe(false);
    expect(reorderedTo("commonName=alice,organizationName=Acme", A)).toBe(false);
  });
  test("D33 Go's canonical order matches by RDNsMatch", () => {
    const six = certDn([["CN", "x"]], [["OU", "u"]], [["C", "US"]], [["O", "o"]], [["L", "LA"]], [["ST", "CA"]]);
    expect(equalTo("CN=x,OU=u,O=o,L=LA,ST=CA,C=US", six)).toBe(false);
    expect(reorderedTo("CN=x,OU=u,O=o,L=LA,ST=CA,C=US", six)).toBe(true);
  });
  test("D34 ';' is not a separator", () => {
    expect(plain(parseDn("CN=alice;O=Acme"))).toEqual([[["alice;O", "Acme"]]]);
    expect(reorderedTo("CN=alice;O=Acme", A)).toBe(false);
  });
  test("D35, D36 quote and backslash", () => {
    expect(equalTo('CN=a\\"b', certDn([["CN", 'a"b']]))).toBe(true);
    expect(equalTo("CN=a\\\\b", certDn([["CN", "a\\b"]]))).toBe(true);
  });
  test("D37, D38, D39 newline, the mkcert subject, config-hostile characters", () => {
    expect(equalTo("CN=a\nb", certDn([["CN", "a\nb"]]))).toBe(true);
    const mk = certDn([["O", "mkcert development certificate"]], [["OU", "testuser@MacBook-Pro.local (Test User)"]]);
    expect(equalTo("OU=testuser@MacBook-Pro.local (Test User),O=mkcert development certificate", mk)).toBe(true);
    expect(equalTo("CN=x#y}z$HOME'q", certDn([["CN", "x#y}z$HOME'q"]]))).toBe(true);
  });
  test("D41 '+' must be escaped", () => {
    const plus = certDn([["CN", "a+b"]]);
    expect(tryParseDn("CN=a+b")).toBeNull();
    expect(equalTo("CN=a\\+b", plus)).toBe(true);
  });
  test("D43 a trailing '+' drops the whole last RDN", () => {
    expect(equalTo("CN=alice,O=Acme+", certDn([["CN", "alice"]]))).toBe(true);
    expect(equalTo("CN=alice,O=Acme+", A)).toBe(false);
  });
  test("D44 'CN=' is the empty DN and equals an empty subject", () => {
    for (const u of ["CN=", " ", "", "O=", "CN=\\"]) expect(equalTo(u, [])).toBe(true);
    expect(equalTo("CN=", A)).toBe(false);
  });
  test("D45 the upstream fix's own case", () => {
    const nats = certDn([["O", "NATS"]], [["OU", "Users"]], [["CN", "Alice"]]);
    expect(reorderedTo("CN=Alice,CN=Alice,O=NATS", nats, "2.9.10")).toBe(true);
    expect(reorderedTo("CN=Alice,CN=Alice,O=NATS", nats, "v2.14.0")).toBe(false);
    expect(reorderedTo("O=NATS,CN=Alice,OU=Users", nats, "v2.14.0")).toBe(true);
  });
  test("D46, C1 two reordered spellings: an ambiguous RDNsMatch tier", () => {
    expect(dnStageCandidates(["O=Acme,CN=alice", "o=Acme,cn=alice", "alice@example.com"], A)).toEqual({
      tier: "RDNsMatch",
      users: ["O=Acme,CN=alice", "o=Acme,cn=alice"],
      unparsed: [{ user: "alice@example.com", error: expect.any(DnParseError) }],
    });
  });
  test("D47 a name that merely looks like a DN inside an email is a different DN", () => {
    expect(tryParseDn("CN=alice,O=Acme@x")).not.toBeNull();
    expect(equalTo("CN=alice,O=Acme@x", A)).toBe(false);
  });
  test("an empty value in the middle is kept", () => {
    expect(equalTo("O=,CN=x", certDn([["CN", "x"]], [["O", ""]]))).toBe(true);
    expect(equalTo("O=,CN=x", certDn([["CN", "x"]]))).toBe(false);
  });
  test("no user matches: no tier", () => {
    expect(dnStageCandidates(["CN=bob,O=Acme"], A)).toEqual({ tier: null, users: [], unparsed: [] });
  });
});

describe("equality rules", () => {
  const at = (type: string, value: string) => ({ type, value });
  test("RDN equality is set-style containment with equal counts", () => {
    expect(rdnEqual([at("CN", "a"), at("CN", "a"), at("O", "b")], [at("CN", "a"), at("O", "b"), at("O", "b")])).toBe(true);
    expect(rdnEqual([at("CN", "a"), at("O", "b")], [at("O", "b"), at("cn", "a")])).toBe(true);
    expect(rdnEqual([at("CN", "a")], [at("CN", "a"), at("CN", "a")])).toBe(false);
    expect(attrEqual(at("CN", "a"), at("CN", "A"))).toBe(false);
  });
  test("DN Equal is positional", () => {
    expect(dnEqual(parseDn("CN=a,O=b"), parseDn("O=b,CN=a"))).toBe(false);
    expect(dnEqual(parseDn("CN=a+O=b,C=x"), parseDn("o=b+cn=a,c=x"))).toBe(true);
    expect(dnEqual([], [])).toBe(true);
  });
  // Each result below agrees with Go 1.19.8's strings.EqualFold (checked in a throwaway harness on
  // 20,000 random byte strings and on every unicode.SimpleFold orbit).
  test("types fold like Go's EqualFold", () => {
    expect(equalFold("CN", "cn")).toBe(true);
    expect(equalFold(byteString("k"), byteString("\u212a"))).toBe(true); // KELVIN SIGN
    expect(equalFold(byteString("S"), byteString("\u017f"))).toBe(true); // LONG S
    expect(equalFold(byteString("\u03a3"), byteString("\u03c2"))).toBe(true); // final sigma
    expect(equalFold(byteString("\u00df"), byteString("\u1e9e"))).toBe(true); // sharp s
    expect(equalFold(byteString("\u0130"), "i")).toBe(false); // dotted capital I: no simple folding
    expect(equalFold(byteString("\u0131"), "I")).toBe(false);
    expect(equalFold("ss", byteString("\u00df"))).toBe(false); // simple, not full, folding
    expect(equalFold("@", "`")).toBe(false);
    expect(equalFold("[", "{")).toBe(false);
    // Invalid bytes are U+FFFD each, so they fold equal to each other and to a real U+FFFD.
    expect(equalFold("\xe9", "\xff")).toBe(true);
    expect(equalFold("\xe9", byteString("\ufffd"))).toBe(true);
    expect(equalFold("\xe9\xe9", "\xe9")).toBe(false);
    // Pairs that Unicode added after Go 1.19's tables (Unicode 13) do not fold.
    expect(equalFold(byteString("\u2c2f"), byteString("\u2c5f"))).toBe(false);
    expect(equalFold(byteString("\u019b"), byteString("\ua7dc"))).toBe(false);
  });
  test("a type is compared by folding in a DN too", () => {
    expect(dnEqual(parseDn("\u212a=x"), parseDn("k=x"))).toBe(true);
  });
});

describe("RDNsMatch by server version", () => {
  test.each([
    ["2.9.10", false],
    ["v2.9.25", false],
    ["2.10.29", false],
    ["2.11.14", false],
    ["2.11.15", true],
    ["2.12.5", false],
    ["2.12.6", true],
    ["2.12.15", true],
    ["2.13.0", true],
    ["2.14.0-RC.1", true],
    ["v2.14.0", true],
    ["2.14.5", true],
    ["3.0.0", true],
  ])("%s consumes each cert RDN once: %s", (version, fixed) => {
    expect(rdnsMatchConsumesOnce(version as string)).toBe(fixed);
    expect(reorderedTo("CN=alice,CN=alice", A, version as string)).toBe(!fixed);
  });
  test("the default version is the pinned 2.9.10", () => {
    expect(rdnsMatch(parseDn("CN=alice,CN=alice"), A)).toBe(true);
  });
  test("multiset matching after the fix", () => {
    const cert = certDn([["CN", "a"]], [["CN", "a"]], [["O", "b"]]);
    expect(reorderedTo("CN=a,O=b,CN=a", cert, "2.14.0")).toBe(true);
    expect(reorderedTo("O=b,O=b,CN=a", cert, "2.14.0")).toBe(false);
    expect(reorderedTo("O=b,O=b,CN=a", cert, "2.9.10")).toBe(true);
    expect(reorderedTo("CN=a,O=b", cert, "2.9.10")).toBe(false); // counts differ
  });
  test("versions are parsed strictly", () => {
    expect(parseServerVersion("v2.14.0-RC.3")).toEqual([2, 14, 0]);
    expect(() => parseServerVersion("latest")).toThrow(/not a nats-server version/);
    expect(() => rdnsMatch([], [], "2.9")).toThrow();
  });
});

describe("writing a DN back", () => {
  test("formatDn output parses back to an equal DN, whatever the bytes", () => {
    const dns: LdapDn[] = [
      A,
      certDn([["O", "Acme, Inc."]], [["CN", " a+b=c;d<e>f\"g\\h "]]),
      certDn([["CN", "#x"]], [["O", "a#"]]),
      certDn([["CN", "Jos\u00e9 \u{1F600}"]]),
      certDn([["CN", "Jos\xe9", "raw"]]),
      certDn([["CN", "\x00\x1f\x7f\xff\xc3", "raw"]]),
      certDn([["O", "Acme"], ["OU", "eng"]], [["CN", ""]]),
      certDn([["CN", "a\nb"]]),
    ];
    for (const dn of dns) expect(dnEqual(parseDn(formatDn(dn)), dn)).toBe(true);
    expect(formatDn(A)).toBe("CN=alice,O=Acme");
    expect(formatDn(certDn([["CN", "Jos\xe9\xc3", "raw"]]))).toBe("CN=Jos\\e9\\c3");
  });
  test("for valid UTF-8 the escaping is subject.ts's parseDnEscape", () => {
    for (const v of ["alice", " a ", "#a#", "a,b+c\"d\\e<f>g;h=i", "Jos\u00e9", "a\nb\u007f", "\u{1F600}", "\ufffd", ""]) {
      expect(escapeDnValue(byteString(v))).toBe(parseDnEscape(v));
    }
  });
});

describe("with subject.ts's dnStageDn (ASCII subjects, where both representations agree)", () => {
  const rawName = (rdns: [string, string][][]) => der.seq(...rdns.map((rdn) => der.setOf(...rdn.map(([t, v]) => der.seq(der.oid(t), der.stringOf(der.Tag.UTF8String, v))))));
  test("the certificate DNs above are what the server builds", () => {
    expect(dnStageDn(rawName([[[OID.O, "Acme"]], [[OID.CN, "alice"]]]))).toEqual(A);
    const multi = dnStageDn(rawName([[[OID.O, "Acme"], [OID.OU, "eng"]], [[OID.CN, "x"]]]))!;
    expect(equalTo("CN=x,OU=eng+O=Acme", multi)).toBe(true);
    const nats = dnStageDn(rawName([[[OID.O, "NATS"]], [[OID.OU, "Users"]], [[OID.CN, "Alice"]]]))!;
    expect(reorderedTo("CN=Alice,CN=Alice,O=NATS", nats)).toBe(true);
    expect(reorderedTo("CN=Alice,CN=Alice,O=NATS", nats, "2.14.0")).toBe(false);
    const dc = dnStageDn(rawName([[[OID.DC, "org"]], [[OID.DC, "example"]], [[OID.O, "Acme"]], [[OID.CN, "alice"]]]))!;
    expect(equalTo("CN=alice,O=Acme,DC=example,DC=org", dc)).toBe(true);
  });
});
