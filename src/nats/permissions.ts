/**
 * NATS subject permissions (issue 10): what a user may publish and subscribe to.
 *
 *  - the stored form (a client's or NKey's `permissions` in the inventory) and the flags that make
 *    it (--allow-pub/--deny-pub/--allow-sub/--deny-sub/--allow-responses), checked with the server's
 *    own subject rule and written into a config with quoteConfString;
 *  - the permissions nats-server v2.9.10 binds to a user, read from its config (a user's own
 *    `permissions`, else its account's `default_permissions`, else authorization's for the global
 *    users: opts.go applyDefaultPermissions; never merged);
 *  - the server's decision for one PUB or SUB (client.go pubAllowedFullCheck / canSubscribe over
 *    sublist.go matchLevel): allow list first (none = everything), then deny, which wins.
 * Written from the server's rules; it is not the server's code.
 */
import { inputError } from "../errors";
import { quoteConfString } from "./confstring";
import type { ConfValue } from "./conf/parser";

// ---------------------------------------------------------------- subjects

/** The server's IsValidSubject (v2.9.10): non-empty tokens, `>` only last, no whitespace. */
export function isValidSubject(s: string): boolean {
  if (s === "") return false;
  let sawFwc = false;
  for (const t of s.split(".")) {
    if (t.length === 0 || sawFwc) return false;
    if (/[\t\n\f\r ]/.test(t)) return false;
    if (t === ">") sawFwc = true;
  }
  return true;
}

/**
 * One permission pattern against one subject, as the server's sublist matches it: the pattern's
 * `*` takes one token, `>` one or more; every other token (and every token of `subject`, even `*`
 * or `>`) is compared literally.
 */
export function subjectMatches(pattern: string, subject: string): boolean {
  const p = pattern.split(".");
  const s = subject.split(".");
  for (let i = 0; i < p.length; i++) {
    if (p[i] === ">") return s.length > i;
    if (i >= s.length) return false;
    if (p[i] !== "*" && p[i] !== s[i]) return false;
  }
  return p.length === s.length;
}

/** sublist.go subjectIsSubsetMatch(subject, test): every subject `subject` matches, `test` matches too. */
export function subjectIsSubset(subject: string, test: string): boolean {
  const tokens = subject.split(".");
  const tt = test.split(".");
  for (let i = 0; i < tt.length; i++) {
    if (i >= tokens.length) return false;
    const t2 = tt[i];
    if (t2 === "") return false;
    if (t2 === ">") return true;
    const t1 = tokens[i];
    if (t1 === "" || t1 === ">") return false;
    if (t1 === "*") {
      if (t2 !== "*") return false;
      continue;
    }
    if (t2 !== "*" && t1 !== t2) return false;
  }
  return tokens.length === tt.length;
}

/** A subscribe entry "subject" or "subject queue" (client.go splitSubjectQueue). */
export function splitSubjectQueue(sq: string): { subject: string; queue: string | null } | null {
  const f = sq.trim().split(/[\t\n\v\f\r \u0085\u00a0]+/).filter((x) => x !== "");
  if (f.length === 0 || f.length > 2) return null;
  return { subject: f[0], queue: f[1] ?? null };
}

// ---------------------------------------------------------------- the stored form

import type { SubjectRule, UserPermissions } from "../model/permissions";
export type { SubjectRule, UserPermissions } from "../model/permissions";

export interface PermissionFlags {
  allowPub?: string[];
  denyPub?: string[];
  allowSub?: string[];
  denySub?: string[];
  allowResponses?: boolean;
}

const CTRL = /[\u0000-\u001f\u007f]/g;

/** Checks one flag's subjects (exit 3 naming the flag); subscribe entries may name a queue ("subject queue"). */
export function checkSubjects(flag: string, list: string[] | undefined, subscribe: boolean): string[] {
  const out: string[] = [];
  for (const raw of list ?? []) {
    const s = subscribe ? raw.trim().replace(/\s+/g, " ") : raw;
    const sq = subscribe ? splitSubjectQueue(s) : null;
    const subject = sq ? sq.subject : s;
    if (/[\u0000-\u001f\u007f]/.test(raw) || !isValidSubject(subject) || (subscribe && !sq))
      throw inputError(
        `${flag} "${raw.replace(CTRL, "?")}" is not a valid NATS subject (dot-separated non-empty tokens, no spaces; * matches one token, > the rest and only at the end${subscribe ? '; "subject queue" names a queue group' : ""})`,
      );
    quoteConfString(s, `${flag} "${s}"`);
    if (!out.includes(s)) out.push(s);
  }
  return out;
}

const FLAG_NAMES = { allowPub: "--allow-pub", denyPub: "--deny-pub", allowSub: "--allow-sub", denySub: "--deny-sub" } as const;

/** The stored permissions that flags describe; null when no flag is given. */
export function permissionsFromFlags(f: PermissionFlags, names: Record<"allowPub" | "denyPub" | "allowSub" | "denySub", string> = FLAG_NAMES): UserPermissions | null {
  const rule = (allow: string[], deny: string[]): SubjectRule | undefined =>
    allow.length || deny.length ? { ...(allow.length ? { allow } : {}), ...(deny.length ? { deny } : {}) } : undefined;
  const publish = rule(checkSubjects(names.allowPub, f.allowPub, false), checkSubjects(names.denyPub, f.denyPub, false));
  const subscribe = rule(checkSubjects(names.allowSub, f.allowSub, true), checkSubjects(names.denySub, f.denySub, true));
  if (!publish && !subscribe && !f.allowResponses) return null;
  return { ...(publish ? { publish } : {}), ...(subscribe ? { subscribe } : {}), ...(f.allowResponses ? { allowResponses: true } : {}) };
}

/** Whether any permission flag is given. */
export function hasPermissionFlags(f: PermissionFlags): boolean {
  return !!(f.allowPub?.length || f.denyPub?.length || f.allowSub?.length || f.denySub?.length || f.allowResponses);
}

/** A stored value read back from the inventory: well-formed, or an error naming the file. */
export function checkStoredPermissions(p: unknown, what: string, file: string): UserPermissions | null {
  if (p === undefined || p === null) return null;
  const bad = () => inputError(`${what}: the inventory's permissions are malformed`, file);
  if (typeof p !== "object" || Array.isArray(p)) throw bad();
  const o = p as Record<string, unknown>;
  const list = (r: unknown, k: string): string[] => {
    const v = (r as Record<string, unknown>)[k];
    if (v === undefined) return [];
    if (!Array.isArray(v) || !v.every((x) => typeof x === "string")) throw bad();
    return v as string[];
  };
  for (const k of ["publish", "subscribe"]) if (o[k] !== undefined && (typeof o[k] !== "object" || o[k] === null || Array.isArray(o[k]))) throw bad();
  try {
    return permissionsFromFlags({
      allowPub: list(o.publish ?? {}, "allow"),
      denyPub: list(o.publish ?? {}, "deny"),
      allowSub: list(o.subscribe ?? {}, "allow"),
      denySub: list(o.subscribe ?? {}, "deny"),
      allowResponses: o.allowResponses === true,
    });
  } catch (e) {
    throw inputError(`${what}: ${(e as Error).message}`, file);
  }
}

/** `, permissions: { publish: { allow: [...], deny: [...] }, subscribe: {...}, allow_responses: true }` for a users[] entry, or "". */
export function permissionsText(p: UserPermissions | null | undefined): string {
  if (!p) return "";
  const list = (xs: string[]) => `[${xs.map((s) => quoteConfString(s, "subject")).join(", ")}]`;
  const rule = (r: SubjectRule) => [r.allow?.length ? `allow: ${list(r.allow)}` : "", r.deny?.length ? `deny: ${list(r.deny)}` : ""].filter(Boolean).join(", ");
  const parts: string[] = [];
  if (p.publish && rule(p.publish)) parts.push(`publish: { ${rule(p.publish)} }`);
  if (p.subscribe && rule(p.subscribe)) parts.push(`subscribe: { ${rule(p.subscribe)} }`);
  if (p.allowResponses) parts.push("allow_responses: true");
  return parts.length ? `, permissions: { ${parts.join(", ")} }` : "";
}

/** One line for people: "publish allow a, b; deny c; subscribe allow d; allow_responses". */
export function describePermissions(p: UserPermissions | null | undefined): string {
  if (!p) return "no permissions (everything allowed)";
  const r = (what: string, x?: SubjectRule) => (x ? [x.allow?.length ? `${what} allow ${x.allow.join(", ")}` : "", x.deny?.length ? `${what} deny ${x.deny.join(", ")}` : ""].filter(Boolean) : []);
  return [...r("publish", p.publish), ...r("subscribe", p.subscribe), ...(p.allowResponses ? ["allow_responses"] : [])].join("; ") || "no permissions (everything allowed)";
}

// ---------------------------------------------------------------- accounts

/**
 * Account names mtlsctl writes: letters, digits and `_ - . @ $` (a quoted map key in the config:
 * the server's lexer takes no escapes in keys). "$G" is the global account (the server refuses it
 * in accounts {}); "$SYS" is the system account and is refused here (its users would see every
 * account's $SYS traffic): put system users in the config by hand.
 */
export const ACCOUNT_RULE = /^[A-Za-z0-9_$@-][A-Za-z0-9_$@.-]*$/;

export function checkAccountName(name: string, flag = "--account"): string {
  const shown = name.replace(CTRL, "?");
  if (name === "$G") throw inputError(`${flag} "$G": the global account is where users without an account go (nats-server refuses "$G" in accounts {}); leave --account out instead`);
  if (name === "$SYS") throw inputError(`${flag} "$SYS": the system account is not handed out by mtlsctl (its users see the server's system traffic); configure system users by hand`);
  if (!ACCOUNT_RULE.test(name) || name.length > 128 || name.includes(".."))
    throw inputError(`${flag} "${shown}" is not an account name mtlsctl writes (letters, digits, "_", "-", ".", "@", "$"; not starting with "."; no "..")`);
  return name;
}

// ---------------------------------------------------------------- what the server binds

/** The permissions nats-server binds to a connection (null lists: no list, everything passes that step). */
export interface BoundPermissions {
  publish: { allow: string[] | null; deny: string[] } | null;
  subscribe: { allow: string[] | null; deny: string[] } | null;
  /** allow_responses as the server resolves it (max replies per request, expiry in ms); null when off. */
  allowResponses: { maxMsgs: number; expiresMs: number } | null;
  /** Where they come from. */
  source: "user" | "account default_permissions" | "authorization default_permissions";
  /** Facts a reader needs (e.g. allow_responses closing publish). */
  notes: string[];
}

const strs = (v: ConfValue): string[] | null => {
  if (v.kind === "string") return [v.value];
  if (v.kind === "array") return v.items.filter((i): i is Extract<ConfValue, { kind: "string" }> => i.kind === "string").map((i) => i.value);
  return null;
};

/** Go's time.ParseDuration for the forms allow_responses uses ("2m", "1m30s", "500ms"), in ms; null if not understood. */
function durationMs(s: string): number | null {
  const re = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/gy;
  let sign = 1;
  let t = s;
  if (t.startsWith("-") || t.startsWith("+")) {
    sign = t[0] === "-" ? -1 : 1;
    t = t.slice(1);
  }
  if (t === "0") return 0;
  const unit: Record<string, number> = { ns: 1e-6, us: 1e-3, "µs": 1e-3, "μs": 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  let total = 0;
  let m: RegExpExecArray | null;
  let at = 0;
  re.lastIndex = 0;
  while ((m = re.exec(t))) {
    total += parseFloat(m[1]) * unit[m[2]];
    at = re.lastIndex;
  }
  return at === t.length && at > 0 ? sign * total : null;
}

/**
 * The server's parseUserPermissions + setPermissions for a `permissions` value the config reader
 * already accepted: keys case-insensitively (pub/publish/import, sub/subscribe/export, allow_responses
 * or publish_allow_responses), old style (a subject or list = allow), `{}` = no restriction, an
 * empty allow list = none (parsePermSubjects returns nil for it).
 */
export function boundFrom(v: ConfValue, source: BoundPermissions["source"]): BoundPermissions {
  const out: BoundPermissions = { publish: null, subscribe: null, allowResponses: null, source, notes: [] };
  if (v.kind !== "map") return out;
  const rule = (x: ConfValue): { allow: string[] | null; deny: string[] } | null => {
    if (x.kind === "map") {
      if (x.entries.size === 0) return null;
      let allow: string[] | null = null;
      let deny: string[] = [];
      for (const e of x.entries.values()) {
        const k = e.key.toLowerCase();
        const list = strs(e.value) ?? [];
        if (k === "allow") allow = list.length ? list : null;
        else if (k === "deny") deny = list;
      }
      return { allow, deny };
    }
    const list = strs(x) ?? [];
    return { allow: list.length ? list : null, deny: [] };
  };
  let responses: ConfValue | null = null;
  for (const e of v.entries.values()) {
    const k = e.key.toLowerCase();
    if (k === "pub" || k === "publish" || k === "import") out.publish = rule(e.value);
    else if (k === "sub" || k === "subscribe" || k === "export") out.subscribe = rule(e.value);
    else if (k === "allow_responses" || k === "publish_allow_responses") responses = e.value;
  }
  if (responses) {
    let rp: { maxMsgs: number; expiresMs: number } | null = null;
    if (responses.kind === "bool") rp = responses.value ? { maxMsgs: 1, expiresMs: 120_000 } : null;
    else if (responses.kind === "map") {
      rp = { maxMsgs: 1, expiresMs: 120_000 };
      for (const e of responses.entries.values()) {
        const k = e.key.toLowerCase();
        if (["max", "max_msgs", "max_messages", "max_responses"].includes(k) && e.value.kind === "int" && e.value.value !== 0) rp.maxMsgs = e.value.value;
        if (["expires", "expiration", "ttl"].includes(k) && e.value.kind === "string") {
          const d = durationMs(e.value.value);
          if (d !== null && d !== 0) rp.expiresMs = d;
        }
      }
    }
    if (rp) {
      out.allowResponses = rp;
      if (!out.publish) out.publish = { allow: [], deny: [] };
      if (out.publish.allow === null) {
        out.publish.allow = [];
        out.notes.push("allow_responses with no publish allow list: the server turns publishing off except for replies (publish allow becomes empty)");
      }
    }
  }
  // subscribe: an empty allow list is no list (setPermissions checks len > 0); publish keeps [] (allow_responses)
  if (out.subscribe && out.subscribe.allow !== null && out.subscribe.allow.length === 0) out.subscribe.allow = null;
  // no allow list and no deny list: no restriction at all
  for (const k of ["publish", "subscribe"] as const) if (out[k] && out[k]!.allow === null && out[k]!.deny.length === 0) out[k] = null;
  return out;
}

/** The permissions a configured user is bound to: its own, else its account's or authorization's defaults; null when none. */
export function boundPermissions(own: ConfValue | undefined, accountDefault: ConfValue | undefined, authDefault: ConfValue | undefined, inAccount: boolean): BoundPermissions | null {
  if (own) return boundFrom(own, "user");
  if (inAccount && accountDefault) return boundFrom(accountDefault, "account default_permissions");
  if (!inAccount && authDefault) return boundFrom(authDefault, "authorization default_permissions");
  return null;
}

/** The JSON form for --json: lists as the server holds them (allow null: not restricted). */
export function boundJson(b: BoundPermissions | null) {
  if (!b) return null;
  return { publish: b.publish, subscribe: b.subscribe, allowResponses: b.allowResponses, source: b.source };
}

// ---------------------------------------------------------------- one PUB or SUB

export interface AccessAnswer {
  action: "publish" | "subscribe";
  subject: string;
  queue: string | null;
  allowed: boolean;
  /** The rule that decided, in words (e.g. `allowed by publish allow "orders.>"`). */
  rule: string;
  notes: string[];
}

/** client.go pubAllowedFullCheck for a connection with these permissions (null: none bound). */
export function checkPublish(b: BoundPermissions | null, subject: string): AccessAnswer {
  const ans = (allowed: boolean, rule: string, notes: string[] = []): AccessAnswer => ({ action: "publish", subject, queue: null, allowed, rule, notes });
  if (subject.startsWith("_GR_.")) return ans(false, 'the "_GR_." prefix is reserved for gateway replies: every client publish to it is refused');
  const p = b?.publish;
  if (!p || (p.allow === null && p.deny.length === 0)) return ans(true, "no publish permissions: every subject is allowed");
  const notes: string[] = [];
  if (/(^|\.)[*>](\.|$)/.test(subject)) notes.push("the subject has wildcard tokens: the server compares them literally when publishing");
  let allowed = true;
  let rule = "no publish allow list: allowed unless denied";
  if (p.allow !== null) {
    const hit = p.allow.find((a) => subjectMatches(a, subject));
    allowed = hit !== undefined;
    rule = hit !== undefined ? `allowed by publish allow ${JSON.stringify(hit)}` : p.allow.length ? `not matched by the publish allow list (${p.allow.map((a) => JSON.stringify(a)).join(", ")})` : "the publish allow list is empty";
  }
  if (allowed) {
    const deny = p.deny.find((d) => subjectMatches(d, subject));
    if (deny !== undefined) {
      allowed = false;
      rule = `denied by publish deny ${JSON.stringify(deny)} (deny wins over allow)`;
    }
  }
  if (!allowed && b?.allowResponses)
    notes.push(`allow_responses: still allowed as a reply to a request this client received on that subject (at most ${b.allowResponses.maxMsgs < 0 ? "unlimited" : b.allowResponses.maxMsgs} repl${b.allowResponses.maxMsgs === 1 ? "y" : "ies"} within ${b.allowResponses.expiresMs / 1000} s)`);
  return ans(allowed, rule, notes);
}

/** queueMatches (client.go): the queue against the queue entries that matched the subject. */
function queueMatches(queue: string, qs: string[]): boolean {
  if (!qs.length) return true;
  return qs.some((q) => queue === q || (/(^|\.)[*>](\.|$)/.test(q) && subjectIsSubset(queue, q)));
}

/** client.go canSubscribe for a connection with these permissions; `subject` may have wildcards. */
export function checkSubscribe(b: BoundPermissions | null, subject: string, queue: string | null = null): AccessAnswer {
  const ans = (allowed: boolean, rule: string, notes: string[] = []): AccessAnswer => ({ action: "subscribe", subject, queue, allowed, rule, notes });
  if (queue === "$sys") return ans(false, 'the queue group "$sys" is reserved: the server refuses it');
  const p = b?.subscribe;
  if (!p || (p.allow === null && p.deny.length === 0)) return ans(true, "no subscribe permissions: every subject is allowed");
  const split = (list: string[]) => {
    const plain: string[] = [];
    const queued: { subject: string; queue: string; entry: string }[] = [];
    for (const e of list) {
      const sq = splitSubjectQueue(e);
      if (!sq) continue; // the server logs it and skips the entry
      if (sq.queue === null) plain.push(sq.subject);
      else queued.push({ subject: sq.subject, queue: sq.queue, entry: e });
    }
    return { plain, queued };
  };
  let allowed = true;
  let rule = "no subscribe allow list: allowed unless denied";
  if (p.allow !== null) {
    const { plain, queued } = split(p.allow);
    const hit = plain.find((a) => subjectMatches(a, subject));
    allowed = hit !== undefined;
    rule = hit !== undefined ? `allowed by subscribe allow ${JSON.stringify(hit)}` : `not matched by the subscribe allow list (${p.allow.map((a) => JSON.stringify(a)).join(", ")})`;
    const qhits = queued.filter((q) => subjectMatches(q.subject, subject));
    if (queue !== null && qhits.length) {
      const ok = qhits.find((q) => queueMatches(queue, [q.queue]));
      allowed = ok !== undefined;
      rule = ok ? `allowed by subscribe allow ${JSON.stringify(ok.entry)} (queue group)` : `queue group ${JSON.stringify(queue)} is not among the allowed ones for this subject (${qhits.map((q) => JSON.stringify(q.entry)).join(", ")})`;
    } else if (queue === null && !allowed && qhits.length) rule += `; only queue subscriptions are allowed (${qhits.map((q) => JSON.stringify(q.entry)).join(", ")})`;
  }
  const notes: string[] = [];
  if (allowed && p.deny.length) {
    const { plain, queued } = split(p.deny);
    const hit = plain.find((d) => subjectMatches(d, subject));
    if (hit !== undefined) {
      allowed = false;
      rule = `denied by subscribe deny ${JSON.stringify(hit)} (deny wins over allow)`;
    }
    const qhits = queued.filter((q) => subjectMatches(q.subject, subject));
    if (queue !== null && qhits.length) {
      const bad = qhits.find((q) => queueMatches(queue, [q.queue]));
      allowed = bad === undefined;
      rule = bad ? `denied by subscribe deny ${JSON.stringify(bad.entry)} (queue group)` : `${rule}; the queue group ${JSON.stringify(queue)} is not among the denied ones`;
    }
    if (allowed && /(^|\.)[*>](\.|$)/.test(subject)) {
      const within = plain.filter((d) => subjectIsSubset(d, subject));
      if (within.length) notes.push(`the subscription is allowed, but messages on ${within.map((d) => JSON.stringify(d)).join(", ")} are not delivered to it (the server filters denied subjects out of wildcard subscriptions)`);
    }
  }
  return ans(allowed, rule, notes);
}

// ---------------------------------------------------------------- for explain / verify

/** The permissions the server binds to the user a verdict names (its users[] entry in the config). */
/** What permissionsForVerdict reads of a config (a whole ServerConfig will do). */
export interface PermissionSources {
  users: readonly Pick<import("./conf/server-config").ConfigUser, "user" | "nkey" | "account" | "permissions">[];
  accounts: readonly Pick<import("./conf/server-config").AccountBlock, "name" | "defaultPermissions">[];
  authorization?: Pick<import("./conf/server-config").AuthorizationBlock, "defaultPermissions">;
}

export function permissionsForVerdict(
  sc: PermissionSources,
  v: { accepted: boolean; user: string | null; account: string | null; matchedBy: string | null; ambiguous: boolean },
): BoundPermissions | null {
  if (!v.accepted || v.user === null || v.ambiguous) return null;
  const byNkey = v.matchedBy === "nkey";
  const u = sc.users.find((x) => (byNkey ? x.nkey === v.user : !x.nkey && x.user === v.user) && x.account === v.account);
  if (!u) return null;
  const acc = u.account === null ? undefined : sc.accounts.find((a) => a.name === u.account);
  return boundPermissions(u.permissions, acc?.defaultPermissions, sc.authorization?.defaultPermissions, u.account !== null);
}

/** `--publish S` / `--subscribe "S [QUEUE]"` questions, checked (exit 3 on a malformed one). */
export function accessQuestions(publish: string[] | undefined, subscribe: string[] | undefined): { action: "publish" | "subscribe"; subject: string; queue: string | null }[] {
  const out: { action: "publish" | "subscribe"; subject: string; queue: string | null }[] = [];
  for (const s of publish ?? []) {
    if (/[\u0000-\u001f\u007f]/.test(s) || !isValidSubject(s)) throw inputError(`--publish "${s.replace(CTRL, "?")}" is not a valid NATS subject`);
    out.push({ action: "publish", subject: s, queue: null });
  }
  for (const s of subscribe ?? []) {
    const sq = splitSubjectQueue(s);
    if (/[\u0000-\u001f\u007f]/.test(s) || !sq || !isValidSubject(sq.subject)) throw inputError(`--subscribe "${s.replace(CTRL, "?")}" is not a valid NATS subject (or "SUBJECT QUEUE")`);
    out.push({ action: "subscribe", subject: sq.subject, queue: sq.queue });
  }
  return out;
}

/** The answers for a verdict: empty when the connection is refused or the user is picked at random (then a note says so). */
export function answerQuestions(
  qs: { action: "publish" | "subscribe"; subject: string; queue: string | null }[],
  bound: BoundPermissions | null,
  v: { accepted: boolean; ambiguous: boolean },
): { answers: AccessAnswer[]; note: string | null } {
  if (!qs.length) return { answers: [], note: null };
  if (!v.accepted) return { answers: [], note: "--publish/--subscribe: not answered, the connection is refused" };
  if (v.ambiguous) return { answers: [], note: "--publish/--subscribe: not answered, the server picks the user (and so the permissions) at random" };
  return { answers: qs.map((q) => (q.action === "publish" ? checkPublish(bound, q.subject) : checkSubscribe(bound, q.subject, q.queue))), note: null };
}

/** Human lines for a verdict's permissions and answers. */
export function permissionLines(bound: BoundPermissions | null, answers: AccessAnswer[], bindsUser: boolean, indent = "  "): string[] {
  const lines: string[] = [];
  if (!bound && bindsUser) lines.push(`${indent}permissions: none (the user may publish and subscribe to any subject in its account)`);
  if (bound) {
    const r = (what: string, x: { allow: string[] | null; deny: string[] } | null) =>
      x ? `${what}: allow ${x.allow === null ? "(any)" : x.allow.length ? x.allow.map((s) => JSON.stringify(s)).join(", ") : "(none)"}${x.deny.length ? `, deny ${x.deny.map((s) => JSON.stringify(s)).join(", ")}` : ""}` : `${what}: any subject`;
    lines.push(`${indent}permissions (${bound.source}): ${r("publish", bound.publish)}; ${r("subscribe", bound.subscribe)}${bound.allowResponses ? `; allow_responses (max ${bound.allowResponses.maxMsgs}, ${bound.allowResponses.expiresMs / 1000} s)` : ""}`);
    for (const n of bound.notes) lines.push(`${indent}note: ${n}`);
  }
  for (const a of answers) {
    lines.push(`${indent}${a.action} ${JSON.stringify(a.subject)}${a.queue ? ` (queue ${JSON.stringify(a.queue)})` : ""}: ${a.allowed ? "ALLOWED" : "DENIED"} — ${a.rule}`);
    for (const n of a.notes) lines.push(`${indent}  note: ${n}`);
  }
  return lines;
}
