/** `token create <name> ...`: a one-time enrolment token; the token alone on stdout, its details on stderr. */
import { Ctx } from "../context";
import { withDb } from "../store/open";
import { sansFromOptions } from "../common";
import { writeErr, writeOut } from "../out";
import { createToken } from "../../service/tokens";

export async function run([name]: string[], o: Record<string, any>): Promise<void> {
  const ctx = new Ctx(o);
  const opts = { sans: sansFromOptions(o), subject: o.subject, kind: o.kind, ttl: o.ttl, lifetime: o.lifetime, expectUser: o.expectUser };
  const t = ctx.db !== undefined ? await withDb(ctx, (db) => createToken(db, name, opts)) : await createToken(ctx.dir, name, opts);
  ctx.warnAll(t.warnings);
  if (ctx.json) {
    writeOut(JSON.stringify({ name: t.name, token: t.token, expires: t.expires }) + "\n");
    return;
  }
  writeOut(t.token + "\n");
  if (!ctx.quiet) {
    const sans = Object.entries(t.sans).flatMap(([k, v]) => (v as string[]).map((x) => `${k}:${x}`));
    writeErr(
      [
        `token for ${t.name} (id ${t.id}, ${t.kind}): single use, expires ${t.expires}`,
        `  subject   ${t.subject || "(empty)"}`,
        ...(sans.length ? [`  SANs      ${sans.join(", ")}`] : []),
        ...(t.lifetime ? [`  lifetime  ${t.lifetime}`] : []),
        ...(t.expectUser ? [`  NATS user ${JSON.stringify(t.expectUser)} (checked by serve --nats-config)`] : []),
        `  EST: username ${t.name}, password the token (POST /.well-known/est/simpleenroll)`,
      ].join("\n") + "\n",
    );
  }
}
