import { goUrlFormatBytes, goUrlParseBytes, goUrlParseError, goUrlString, goX509UriString } from "../src/nats/gourl";

const X509_REJECTS = null;

describe("goUrlString: the reference's URI table (§2.6, observed on the 2.9.10 server)", () => {
  test.each([
    ["SPIFFE://Example.org/A", "spiffe://Example.org/A"], // scheme lower-cased, host case kept
    ["HTTP://t:8080/x", "http://t:8080/x"],
    ["spiffe://t/x#", "spiffe://t/x"], // an empty fragment is dropped
    ["spiffe://t/x?", "spiffe://t/x?"], // an empty query is kept
    ["http://t/a b", "http://t/a%20b"], // the path is re-escaped
    ["spiffe://t/x#a b", "spiffe://t/x#a%20b"],
    ["spiffe://t/%41", "spiffe://t/%41"], // a valid raw encoding is kept
    ["spiffe://t/a%2fb", "spiffe://t/a%2fb"],
    ["spiffe://t/a%7eb", "spiffe://t/a%7eb"],
    ["spiffe:/x", "spiffe:/x"],
    ["spiffe:///x", "spiffe:///x"],
    ["urn:uuid:6e8bc430-9c3a-11d9-9669-0800200c9a66", "urn:uuid:6e8bc430-9c3a-11d9-9669-0800200c9a66"],
    ["spiffe://user@t/x", "spiffe://user@t/x"],
  ])("%j → %j", (raw, want) => {
    expect(goUrlString(raw)).toBe(want);
  });
});

describe("goUrlString and goX509UriString against Go 1.19.8", () => {
  // [input, Go's url.Parse(input).String() or null when Parse fails, and when it differs, what
  // Go's x509.ParseCertificate yields for a certificate carrying the input as its one URI SAN
  // (X509_REJECTS = the certificate does not parse)].
  // Every expected value was observed by running Debian's Go 1.19.8 (golang-1.19-go 1.19.8-2, the
  // toolchain of the pinned nats-server 2.9.10 binary) on these inputs in a throwaway program
  // outside the repository. The same program agreed with this module on 30,000 random URLs built
  // from a specials-heavy alphabet (url.Parse + String and the x509 SAN check).
  const TABLE: [string, string | null, (string | null)?][] = [
    ["SPIFFE://Example.org/A", "spiffe://Example.org/A"],
    ["HTTP://t:8080/x", "http://t:8080/x"],
    ["spiffe://t/x#", "spiffe://t/x"],
    ["spiffe://t/x?", "spiffe://t/x?"],
    ["http://t/a b", "http://t/a%20b"],
    ["spiffe://t/x#a b", "spiffe://t/x#a%20b"],
    ["spiffe://t/%41", "spiffe://t/%41"],
    ["spiffe://t/a%2fb", "spiffe://t/a%2fb"],
    ["spiffe://t/a%7eb", "spiffe://t/a%7eb"],
    ["spiffe:/x", "spiffe:/x"],
    ["spiffe:///x", "spiffe:///x"],
    ["urn:uuid:6e8bc430-9c3a-11d9-9669-0800200c9a66", "urn:uuid:6e8bc430-9c3a-11d9-9669-0800200c9a66"],
    ["spiffe://user@t/x", "spiffe://user@t/x"],
    ["spiffe://trust.example/ns/prod/sa/web", "spiffe://trust.example/ns/prod/sa/web"],
    ["http://t/x?a=b&c=d", "http://t/x?a=b&c=d"],
    ["http://t/x?a b", "http://t/x?a b"],
    ["http://t/x?#", "http://t/x?"],
    ["http://t/x??", "http://t/x??"],
    ["http://t/x?a?b", "http://t/x?a?b"],
    ["http://t/x#a#b", "http://t/x#a%23b"],
    ["http://t/x#%41", "http://t/x#%41"],
    ["http://t/x#a%20b", "http://t/x#a%20b"],
    ["http://t/x#%zz", null],
    ["http://t/%zz", null],
    ["http://t/%4", null],
    ["http://t/%", null],
    ["mailto:Bob@Example.com", "mailto:Bob@Example.com"],
    ["mailto:a b", "mailto:a b"],
    ["urn:ISBN:0451450523", "urn:ISBN:0451450523"],
    ["spiffe:", "spiffe:"],
    ["spiffe:?q", "spiffe:?q"],
    ["spiffe:#f", "spiffe:#f"],
    ["spiffe://", "spiffe:"],
    ["spiffe://t", "spiffe://t"],
    ["spiffe://t/", "spiffe://t/"],
    ["spiffe://T:443/", "spiffe://T:443/"],
    ["spiffe://t:/x", "spiffe://t:/x"],
    ["spiffe://t:x/y", null],
    ["spiffe://t:8080:9/y", "spiffe://t:8080:9/y"],
    ["http://[::1]:80/x", "http://[::1]:80/x"],
    ["http://[fe80::1%25en0]/x", "http://[fe80::1%25en0]/x"],
    ["http://[fe80::1%en0]/x", null],
    ["http://[::1/x", null],
    ["http://[::1]x/y", null],
    ["http://a b/x", null],
    ["http://a%20b/x", null],
    ["http://a%C3%A9b/x", "http://a%C3%A9b/x", X509_REJECTS],
    ["http://h%25/x", "http://h%25/x"],
    ["http://h_x/x", "http://h_x/x"],
    ["http://h!$&'()*+,;=/x", "http://h!$&'()*+,;=/x"],
    ["http://u:p@h/x", "http://u:p@h/x"],
    ["http://u:p:q@h/x", "http://u:p%3Aq@h/x"],
    ["http://u%40v@h/x", "http://u%40v@h/x"],
    ["http://u@v@h/x", "http://u%40v@h/x"],
    ["http://u!@h/x", "http://u%21@h/x"],
    ["http://u%zz@h/x", null],
    ["http://u p@h/x", null],
    ["http://@h/x", "http://@h/x"],
    ["http://:@h/x", "http://:@h/x"],
    ["http://h./x", "http://h./x", X509_REJECTS],
    ["http://.h/x", "http://.h/x"],
    ["http://a..b/x", "http://a..b/x", X509_REJECTS],
    ["http://./x", "http://./x", X509_REJECTS],
    ["http://h/a!b", "http://h/a!b"],
    ["http://h/a'b", "http://h/a'b"],
    ["http://h/a(b)*", "http://h/a(b)*"],
    ["http://h/a[b]", "http://h/a[b]"],
    ["http://h/a%5Bb", "http://h/a%5Bb"],
    ["http://h/a\"b", "http://h/a%22b"],
    ["http://h/a<b>", "http://h/a%3Cb%3E"],
    ["http://h/a{b}", "http://h/a%7Bb%7D"],
    ["http://h/a|b", "http://h/a%7Cb"],
    ["http://h/a^b", "http://h/a%5Eb"],
    ["http://h/a`b", "http://h/a%60b"],
    ["http://h/a\\b", "http://h/a%5Cb"],
    ["http://h/\u00e9", "http://h/%C3%A9", X509_REJECTS],
    ["http://h/%C3%A9", "http://h/%C3%A9"],
    ["http://h/%c3%a9", "http://h/%c3%a9"],
    ["http://h/a%2Fb", "http://h/a%2Fb"],
    ["http://h/a;b,c", "http://h/a;b,c"],
    ["http://h/a:b@c", "http://h/a:b@c"],
    ["http://h/~x", "http://h/~x"],
    ["http://h/%7E", "http://h/%7E"],
    ["http://h/a+b", "http://h/a+b"],
    ["http://h/a%2Bb", "http://h/a%2Bb"],
    ["http://h/x#a!b", "http://h/x#a!b"],
    ["http://h/x#a'b", "http://h/x#a'b"],
    ["http://h/x#a[b]", "http://h/x#a[b]"],
    ["http://h/x#a\"b", "http://h/x#a%22b"],
    ["http://h/x#\u00e9", "http://h/x#%C3%A9", X509_REJECTS],
    ["http://h/x#%C3%A9", "http://h/x#%C3%A9"],
    ["http://h/x#a%23b", "http://h/x#a%23b"],
    ["http://h/x#\u0001", "http://h/x#%01"],
    ["http://h/\u0001", null],
    ["http://h/\u007f", null],
    ["http://h/x?\t", null],
    ["*", "*"],
    ["", ""],
    ["a", "a"],
    ["a/b", "a/b"],
    ["/a/b", "/a/b"],
    ["//h/x", "//h/x"],
    ["///x", "///x"],
    ["//", ""],
    ["a:b", "a:b"],
    ["a%3Ab", "a%3Ab"],
    ["a%3A b", "./a:%20b"],
    ["./a:b", "./a:b"],
    ["1http://x", null],
    ["+x:y", null],
    [":x", null],
    ["-x:y", null],
    ["x+y-z.w:p", "x+y-z.w:p"],
    ["HtTp://h/X", "http://h/X"],
    ["http:h", "http:h"],
    ["http:h/x", "http:h/x"],
    ["http:/h/x", "http:/h/x"],
    ["http:////x", "http:////x"],
    ["http://h//x", "http://h//x"],
    ["file:///etc/passwd", "file:///etc/passwd"],
    ["file:/etc", "file:/etc"],
    ["spiffe://t/x?a#", "spiffe://t/x?a"],
    ["spiffe://t/x?#a", "spiffe://t/x?#a"],
    ["http://h/x%", null],
    ["x:%zz", "x:%zz"],
    ["x:/%zz", null],
    ["x:?%zz", "x:?%zz"],
    ["http://h?x", "http://h?x"],
    ["http://h#f", "http://h#f"],
    ["http://h:80", "http://h:80"],
    ["http://[::1]", "http://[::1]"],
    ["http://[::1]:", "http://[::1]:"],
    ["http://[::1]:8x", null],
    ["http://h:-1/", null],
    ["http://%41/", null],
    ["http://%E9/", "http://%E9/", X509_REJECTS],
    ["http://h/\u00e9x", "http://h/%C3%A9x", X509_REJECTS],
    ["x:\u00e9", "x:\u00e9", X509_REJECTS],
    ["x:/\u00e9", "x:/%C3%A9", X509_REJECTS],
    ["http://h/x?\u00e9", "http://h/x?\u00e9", X509_REJECTS],
    ["http://\u00e9/x", "http://%C3%A9/x", X509_REJECTS],
    ["http://u\u00e9@h/", null],
  ];
  test.each(TABLE)("%j", (raw, want, ...x509) => {
    expect(goUrlString(raw)).toBe(want);
    const x = x509.length ? x509[0] : want;
    // The x509 variant reads the SAN's bytes; non-ASCII input stands for its UTF-8 bytes here.
    expect(goX509UriString(Buffer.from(raw, "utf8").toString("latin1"))).toBe(x);
  });
});

describe("parsed fields", () => {
  const p = (raw: string) => goUrlParseBytes(raw);
  test("scheme, opaque, OmitHost, ForceQuery", () => {
    expect(p("URN:uuid:x?q#f")).toMatchObject({ scheme: "urn", opaque: "uuid:x", rawQuery: "q", fragment: "f", omitHost: false });
    expect(p("spiffe:/x")).toMatchObject({ scheme: "spiffe", host: "", path: "/x", omitHost: true });
    expect(p("spiffe:///x")).toMatchObject({ host: "", path: "/x", omitHost: false });
    expect(p("spiffe://t/x?")).toMatchObject({ forceQuery: true, rawQuery: "" });
    expect(p("spiffe://t/x??")).toMatchObject({ forceQuery: false, rawQuery: "?" });
  });
  test("Path is decoded; RawPath is kept only when the default escaping differs", () => {
    expect(p("http://h/a%2fb")).toMatchObject({ path: "/a/b", rawPath: "/a%2fb" });
    expect(p("http://h/a%20b")).toMatchObject({ path: "/a b", rawPath: "" });
    expect(p("http://h/a b")).toMatchObject({ path: "/a b", rawPath: "/a b" });
    expect(p("http://h/%C3%A9")).toMatchObject({ path: "/\xc3\xa9", rawPath: "" });
  });
  test("userinfo and host", () => {
    expect(p("http://u%40v:p%3Aw@h:80/x")).toMatchObject({ user: { username: "u@v", password: "p:w", passwordSet: true }, host: "h:80" });
    expect(p("http://u@h/")).toMatchObject({ user: { username: "u", password: "", passwordSet: false } });
    expect(p("http://[fe80::1%25en0]:8080/")).toMatchObject({ host: "[fe80::1%en0]:8080" });
    expect(goUrlFormatBytes(p("http://[fe80::1%25en0]:8080/"))).toBe("http://[fe80::1%25en0]:8080/");
  });
});

describe("parse errors name Go's reason", () => {
  test.each([
    ["http://t/%zz", 'invalid URL escape "%zz"'],
    ["spiffe://t:x/y", 'invalid port ":x" after host'],
    ["http://[::1/x", "missing ']' in host"],
    ["http://a b/x", 'invalid character " " in host name'],
    ["http://a%20b/x", 'invalid URL escape "%20"'],
    ["http://u p@h/x", "net/url: invalid userinfo"],
    ["http://h/\u0001", "net/url: invalid control character in URL"],
    ["1http://x", "first path segment in URL cannot contain colon"],
    [":x", "missing protocol scheme"],
  ])("%j", (raw, reason) => {
    expect(goUrlString(raw)).toBeNull();
    expect(goUrlParseError(raw)).toBe(reason);
  });
  test("a good URL has no error", () => {
    expect(goUrlParseError("spiffe://t/x")).toBeNull();
  });
});
