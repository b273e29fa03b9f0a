/**
 * globalsign/est's estclient and estserver, built by scripts/est-tools.sh (scripts/test.sh runs it):
 * the EST peers that mtlsctl's service and agent are proven against. Missing tools fail the test that
 * asks for them (never a skip).
 */
import { execFileSync } from "node:child_process";
import * as path from "node:path";

let tools: { estclient: string; estserver: string } | undefined;

export function estTools(): { estclient: string; estserver: string } {
  if (tools) return tools;
  const out = execFileSync("bash", [path.join(__dirname, "..", "..", "scripts", "est-tools.sh"), "--check"], { encoding: "utf8" });
  const m = new Map(out.trim().split("\n").map((l) => l.split(" ") as [string, string]));
  const estclient = m.get("estclient");
  const estserver = m.get("estserver");
  if (!estclient || !estserver) throw new Error(`scripts/est-tools.sh --check printed no tools:\n${out}`);
  return (tools = { estclient, estserver });
}
