/**
 * The verifier decodes a certificate's subject once (issue 16 §4): every view nats-server compares
 * (the DN stage's DN and its user string, Go's subject string, the DC string, whether there is a
 * subject at all) comes from one decoded Name, kept per certificate. A spy on decodeName counts the
 * decodes of the subject's bytes over a whole verification and an explain, and the views' values
 * are checked, so that decoding once changes no answer.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as name from "../src/pki/name";
import { readCertificates } from "../src/pki/cert";
import { verifyConnection, type VerifierConfig } from "../src/verify/verdict";
import { certIdentities } from "../src/verify/identities";
import { natsUserFor } from "../src/nats/user";
import { subjectViews } from "../src/nats/subject";
import { dn, issue, makeCa } from "./helpers/certs";
import { tmpDir } from "./helpers/cli";

const ca = makeCa("Views CA");
const leaf = issue({ subject: dn(["DC", "org"], ["DC", "example"], ["O", "Acme"], ["CN", "alice"]), issuer: ca, sans: [{ email: "alice@example.com" }] });
const dir = tmpDir();
fs.writeFileSync(path.join(dir, "ca.crt"), ca.pem);

/** A users table that matches no view, so that the mapping stage tries every tier. */
const cfg: VerifierConfig = {
  file: path.join(dir, "nats.conf"),
  tls: { caFile: "ca.crt", verify: true, verifyAndMap: true, mapVerifyConflict: false },
  users: [{ user: "nobody", account: null }],
  nkeys: [],
};

function subjectDecodes<T>(f: () => T): { value: T; decodes: number } {
  const spy = jest.spyOn(name, "decodeName");
  try {
    const value = f();
    return { value, decodes: spy.mock.calls.filter(([raw]) => raw.equals(leaf.subject)).length };
  } finally {
    spy.mockRestore();
  }
}

test("one verification and one explain decode the subject once (the certificate's parse)", () => {
  const run = subjectDecodes(() => {
    const [cert] = readCertificates(Buffer.from(leaf.pem), "alice.crt");
    const verdict = verifyConnection(cert, [], cfg, { version: "2.9.10", serverCwd: dir });
    const ids = certIdentities(cert, "2.9.10");
    const again = verifyConnection(cert, [], cfg, { version: "2.14.5", serverCwd: dir });
    return { verdict, ids, again, user: natsUserFor(cert) };
  });
  // before the views were kept, this run decoded the subject 19 times: once to parse, then again
  // for each view each step computed (goParseError, hasSubject, goSubjectString, dnStageDn,
  // goDcString, dnStageString, in each verification and in the identities)
  expect(run.decodes).toBe(1);
  const { verdict, ids, again } = run.value;
  expect(verdict).toMatchObject({ accepted: false, stage: "map", matchedBy: null, reason: 'User in cert ["CN=alice,O=Acme"], not found' });
  expect(again.reason).toBe(verdict.reason);
  expect(ids.identities.map((i) => [i.kind, i.value])).toEqual([
    ["email", "alice@example.com"],
    ["dn", "CN=alice,O=Acme,DC=example,DC=org"],
    ["subject-dc", "CN=alice,O=Acme,DC=org,DC=example"],
    ["subject", "CN=alice,O=Acme"],
  ]);
  expect(run.value.user.user).toBe("alice@example.com");
});

test("the views of one subject are computed once and shared", () => {
  const [cert] = readCertificates(Buffer.from(leaf.pem), "alice.crt");
  const v = subjectViews(cert.subjectRaw);
  expect(subjectViews(cert.subjectRaw)).toBe(v);
  expect(v.hasSubject).toBe(true);
  expect(v.goSubjectString).toBe("CN=alice,O=Acme");
  expect(v.goDcString).toBe("CN=alice,O=Acme,DC=org,DC=example");
  expect(v.dnStageString).toBe("CN=alice,O=Acme,DC=example,DC=org");
  expect(v.dnStageBytes).toEqual([[{ type: "CN", value: "alice" }], [{ type: "O", value: "Acme" }], [{ type: "DC", value: "example" }], [{ type: "DC", value: "org" }]]);
  // equal bytes in another Buffer: the same answers (decoded again, once)
  const copy = Buffer.from(cert.subjectRaw);
  const w = subjectDecodes(() => [subjectViews(copy).goSubjectString, subjectViews(copy).dnStageString, subjectViews(copy).goDcString]);
  expect(w.value).toEqual([v.goSubjectString, v.dnStageString, v.goDcString]);
  expect(w.decodes).toBe(1);
});
