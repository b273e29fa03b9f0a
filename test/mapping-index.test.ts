/**
 * The verifier's user index must find exactly the users the server's own scan finds: compare it,
 * on random DNs, with a brute-force scan over parseDn/dnEqual/rdnsMatch (themselves checked
 * against the server's Go code in ldapdn.test.ts).
 */
import { UserIndex } from "../src/verify/mapping";
import { tryParseDn, dnEqual, rdnsMatch, type LdapDn } from "../src/nats/ldapdn";

// a small deterministic PRNG so a failure can be reproduced
function rng(seed: number) {
  return () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x7fffffff;
  };
}

const TYPES = ["CN", "cn", "Cn", "O", "o", "OU", "ST", "\u017FT", "DC", "C\u212A", "X", "SERIALNUMBER", "serialnumber"];
const VALUES = ["a", "b", "A", "x y", "a,b", "é"];

function randomUserString(r: () => number): string {
  const nRdn = 1 + Math.floor(r() * 3);
  const rdns: string[] = [];
  for (let i = 0; i < nRdn; i++) {
    const nAttr = r() < 0.8 ? 1 : 2;
    const attrs: string[] = [];
    for (let j = 0; j < nAttr; j++) {
      const t = TYPES[Math.floor(r() * TYPES.length)];
      const v = VALUES[Math.floor(r() * VALUES.length)].replace(",", "\\,");
      attrs.push(`${t}=${v}`);
    }
    rdns.push(attrs.join("+"));
  }
  return rdns.join(",");
}

/** A certificate DN as dnStageDn gives it: types from the server's table, values as byte strings. */
function randomCertDn(r: () => number): LdapDn {
  const certTypes = ["CN", "O", "OU", "ST", "DC", "SERIALNUMBER"];
  const n = 1 + Math.floor(r() * 3);
  const dn: LdapDn = [];
  for (let i = 0; i < n; i++) {
    const rdn = [{ type: certTypes[Math.floor(r() * certTypes.length)], value: Buffer.from(VALUES[Math.floor(r() * VALUES.length)], "utf8").toString("latin1") }];
    if (r() < 0.15) rdn.push({ type: certTypes[Math.floor(r() * certTypes.length)], value: "a" });
    dn.push(rdn);
  }
  return dn;
}

for (const version of ["2.9.10", "2.14.5"]) {
  test(`the index agrees with a full scan (nats-server ${version})`, () => {
    const r = rng(version === "2.9.10" ? 7 : 11);
    let checked = 0;
    let hits = 0;
    for (let round = 0; round < 60; round++) {
      const names = [...new Set(Array.from({ length: 80 }, () => randomUserString(r)))];
      const users = names.map((user) => ({ user, account: null }));
      const index = new UserIndex(users, version);
      const parsed = names.map((n) => ({ n, dn: tryParseDn(n) })).filter((x) => x.dn);
      for (let k = 0; k < 40; k++) {
        const cert = randomCertDn(r);
        const wantEqual = parsed.filter((x) => dnEqual(x.dn!, cert)).map((x) => x.n);
        const wantReordered = parsed.filter((x) => rdnsMatch(x.dn!, cert, version)).map((x) => x.n);
        expect(index.dnEqual(cert, "STANDARD").map((u) => u.user)).toEqual(wantEqual);
        expect(index.dnReordered(cert, "STANDARD").map((u) => u.user)).toEqual(wantReordered);
        checked++;
        hits += wantEqual.length + wantReordered.length;
      }
    }
    expect(checked).toBe(2400);
    expect(hits).toBeGreaterThan(100); // the random corpus really exercises matches
  });
}

test("connection types filter the DN tiers", () => {
  const users = [
    { user: "CN=a,O=b", account: null, allowedConnectionTypes: ["WEBSOCKET"] },
    { user: "O=b,CN=a", account: null },
  ];
  const ix = new UserIndex(users, "2.9.10");
  const cert: LdapDn = [[{ type: "CN", value: "a" }], [{ type: "O", value: "b" }]];
  expect(ix.dnEqual(cert, "STANDARD")).toEqual([]);
  expect(ix.dnReordered(cert, "STANDARD").map((u) => u.user)).toEqual(["O=b,CN=a"]);
  expect(ix.dnEqual(cert, "WEBSOCKET").map((u) => u.user)).toEqual(["CN=a,O=b"]);
});
