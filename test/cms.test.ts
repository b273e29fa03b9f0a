/** src/pki/cms.ts: certs-only SignedData judged by openssl pkcs7, and read back. */
import * as fs from "node:fs";
import * as path from "node:path";
import { makeStore, mtlsOk, openssl, tmpDir } from "./helpers/cli";
import { readCertificates } from "../src/pki/cert";
import { certsOnly, certsFromCms } from "../src/pki/cms";

test("certsOnly: openssl prints the certificates in order; certsFromCms reads them back; garbage is refused", () => {
  const s = makeStore();
  mtlsOk(["client", "issue", "alice", "--email", "alice@example.com"], { cwd: s.cwd, env: s.env });
  const ca = readCertificates(fs.readFileSync(path.join(s.dir, "ca.crt")), "ca.crt")[0];
  const alice = readCertificates(fs.readFileSync(path.join(s.dir, "issued", "alice.crt")), "alice.crt")[0];
  const p7 = certsOnly([alice.der, ca.der]);
  const f = path.join(tmpDir(), "x.p7");
  fs.writeFileSync(f, p7);
  const r = openssl(["pkcs7", "-inform", "DER", "-in", f, "-print_certs"]);
  expect(r.code).toBe(0);
  const subjects = [...r.stdout.matchAll(/^subject=(.*)$/gm)].map((m) => m[1]);
  expect(subjects).toHaveLength(2);
  expect(subjects[0]).toMatch(/alice/);
  expect(subjects[1]).toMatch(/Test CA/);
  const back = certsFromCms(p7);
  expect(back.map((b) => b.equals(alice.der))).toEqual([true, false]);
  expect(back[1].equals(ca.der)).toBe(true);
  // openssl's own certs-only (crl2pkcs7 -nocrl) reads the same
  const pem = path.join(tmpDir(), "both.pem");
  fs.writeFileSync(pem, fs.readFileSync(path.join(s.dir, "issued", "alice.crt"), "utf8") + fs.readFileSync(path.join(s.dir, "ca.crt"), "utf8"));
  const o = path.join(tmpDir(), "o.p7");
  expect(openssl(["crl2pkcs7", "-nocrl", "-certfile", pem, "-outform", "DER", "-out", o]).code).toBe(0);
  expect(certsFromCms(fs.readFileSync(o)).length).toBe(2);
  expect(certsOnly([]).length).toBeGreaterThan(0);
  expect(certsFromCms(certsOnly([]))).toEqual([]);
  expect(() => certsFromCms(Buffer.from("garbage"))).toThrow(/not a CMS certs-only SignedData/);
});
