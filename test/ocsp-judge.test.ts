/**
 * OCSP responses judged by pkilint's RFC 6960 linter (lint_ocsp_response; zlint reads no OCSP):
 * good, revoked (with a reason), unknown, each with and without a nonce, for leaves carrying the
 * AIA/CDP that `ca set` adds. No WARNING, ERROR or FATAL finding.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { makeStore, mtlsOk, openssl, run, tmpDir } from "./helpers/cli";
import { FileStore } from "../src/store/store";
import { openFileStore } from "../src/store/file-api";
import { keySigner } from "../src/pki/signer";
import { readCertificates } from "../src/pki/cert";
import { createOcspResponder } from "../src/service/ocsp";

const SETUP = path.join(__dirname, "..", "scripts", "judges-setup.sh");

test("lint_ocsp_response: good, revoked, unknown, with and without nonce: no warning or error", async () => {
  const r = run("bash", [SETUP, "--check"]);
  if (r.code !== 0) throw new Error(`the judges are not installed: ${r.stderr.trim() || r.stdout.trim()}`);
  const python = r.stdout.split("\n").find((l) => l.startsWith("python "))!.split(" ")[1];
  const lint = path.join(path.dirname(python), "lint_ocsp_response");
  const s = makeStore();
  const cli = (args: string[]) => mtlsOk(args, { cwd: s.cwd, env: s.env });
  cli(["ca", "set", "--ocsp-url", "http://127.0.0.1:8080/ocsp", "--crl-url", "http://127.0.0.1:8080/crl"]);
  cli(["client", "issue", "alice", "--email", "alice@example.com"]);
  cli(["server", "issue", "gone", "--dns", "gone.example.com"]);
  cli(["revoke", "gone", "--reason", "keyCompromise"]);
  const caFile = path.join(s.dir, "ca.crt");
  const caCert = readCertificates(fs.readFileSync(caFile), caFile)[0];
  const responder = createOcspResponder({ store: openFileStore(s.dir), signer: keySigner(new FileStore(s.dir).caKey("test-pass", caCert)), caCert });
  const work = tmpDir();
  const cases: [string, string[], string][] = [
    ["good", ["-cert", path.join(s.dir, "issued", "alice.crt")], "good"],
    ["revoked", ["-cert", path.join(s.dir, "issued", "gone.crt")], "revoked"],
    ["unknown", ["-serial", "0x0123456789abcdef"], "unknown"],
  ];
  const findings: string[] = [];
  for (const [label, sel, want] of cases) {
    for (const nonce of [true, false]) {
      const req = path.join(work, `${label}-${nonce}.req`);
      expect(openssl(["ocsp", "-issuer", caFile, ...sel, "-reqout", req, ...(nonce ? [] : ["-no_nonce"])]).code).toBe(0);
      const a = await responder.respond(fs.readFileSync(req));
      expect(a.status).toBe(want);
      const resp = path.join(work, `${label}-${nonce}.der`);
      fs.writeFileSync(resp, a.der);
      const l = run(lint, ["lint", "-s", "WARNING", "-f", "JSON", resp]);
      const j = JSON.parse(l.stdout);
      for (const x of j.results) for (const f of x.finding_descriptions) if (["WARNING", "ERROR", "FATAL"].includes(f.severity)) findings.push(`${label}/nonce=${nonce}: ${f.severity} ${f.code} at ${x.node_path}`);
    }
  }
  expect(findings).toEqual([]);
});
