/**
 * revoke writes the inventory, then crl.pem: if it is interrupted in between, crl.pem lags behind.
 * `status` must say so (and how to fix it), and `mtlsctl crl` must bring it back in step.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { makeStore, mtls, mtlsOk } from "./helpers/cli";

test("status notices a crl.pem older than the inventory, and crl repairs it", () => {
  const s = makeStore();
  for (const n of ["a1", "a2"]) mtlsOk(["client", "issue", n, "--email", `${n}@example.com`], { cwd: s.cwd, env: s.env });
  mtlsOk(["revoke", "a1"], { cwd: s.cwd, env: s.env });
  const crlFile = path.join(s.dir, "crl.pem");
  const first = fs.readFileSync(crlFile);
  mtlsOk(["revoke", "a2"], { cwd: s.cwd, env: s.env });
  expect(mtls(["status"], { cwd: s.cwd, env: s.env }).stderr).not.toMatch(/older than the inventory/);
  fs.writeFileSync(crlFile, first); // as if the second revoke died before writing crl.pem
  const r = mtls(["status"], { cwd: s.cwd, env: s.env });
  expect(r.stderr).toMatch(/crl\.pem \(CRL number 1\) is older than the inventory's latest CRL \(number 2\).*mtlsctl crl/);
  mtlsOk(["crl"], { cwd: s.cwd, env: s.env });
  expect(mtls(["status"], { cwd: s.cwd, env: s.env }).stderr).not.toMatch(/older than the inventory/);
});
