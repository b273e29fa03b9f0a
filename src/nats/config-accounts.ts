/**
 * `config nats`: where each user goes (issue 10). Users without an account stay in
 * `authorization { users }` (the global account, $G); users with one go to
 * `accounts { "NAME": { users = [...] } }`. nats-server 2.9.10 (opts.go) keeps one table of user
 * strings and nkeys across authorization and every account and refuses the file on a repeat
 * ("Duplicate user ... detected"), so each user appears once; authorization users and accounts
 * coexist as long as authorization has no single user/password or token. Each entry carries its
 * own permissions, else the config-wide default (--allow-pub ...): the server never merges them.
 */
import { quoteConfString } from "./confstring";
import { inputError } from "../errors";
import { ACCOUNT_RULE, permissionsText, UserPermissions } from "./permissions";

export interface UserEntry {
  /** The store name (for comments and messages). */
  name: string;
  /** The `# ...` comment line, without indentation or `#`. */
  comment: string;
  /** `user: "..."` or `nkey: "U..."`. */
  head: string;
  account: string | null;
  /** The permissions written for it (its own, else the default), or null. */
  permissions: UserPermissions | null;
}

export interface AccountsLayout {
  /** The lines inside authorization { users = [ ... ] }. */
  usersText: string;
  /** The accounts {} block (with a leading blank line), or "". */
  accountsText: string;
  /** The accounts written, in order, with their users' store names. */
  accounts: { name: string; users: string[] }[];
  /** E.g. allow_responses closing a user's publishing. */
  warnings: string[];
}

/** An account name from the inventory, checked again (the file may have been edited by hand). */
export function accountKey(name: string, file: string, who: string): string {
  if (!ACCOUNT_RULE.test(name) || name === "$G" || name === "$SYS" || name.includes(".."))
    throw inputError(`${who}: account ${JSON.stringify(name)} in the inventory is not an account name mtlsctl writes (set it again with client set / nkey set)`, file);
  return quoteConfString(name, "account"); // a quoted key: the lexer takes no escapes there, and the rule leaves none to take
}

/**
 * `extraAccounts`: accounts that must exist though no user of this snippet is in them (a leafnode
 * user's account): nats-server 2.9.10 refuses to start when a leafnode user names an account that
 * accounts {} does not define ("cannot find local account"), though `nats-server -t` passes.
 */
export function layoutUsers(entries: UserEntry[], file: string, emptyNote: string, extraAccounts: string[] = []): AccountsLayout {
  const line = (e: UserEntry, indent: string) => `${indent}# ${e.comment}\n${indent}{ ${e.head}${permissionsText(e.permissions)} }`;
  const global = entries.filter((e) => e.account === null);
  const byAccount = new Map<string, UserEntry[]>();
  for (const e of entries) if (e.account !== null) byAccount.set(e.account, [...(byAccount.get(e.account) ?? []), e]);
  for (const a of extraAccounts) if (a !== "$G" && a !== "$SYS" && !byAccount.has(a)) byAccount.set(a, []);
  const names = [...byAccount.keys()].sort();
  const warnings = entries
    .filter((e) => e.permissions?.allowResponses && !e.permissions.publish?.allow?.length)
    .map((e) => `${e.name}: allow_responses with no publish allow list: nats-server then lets it publish only replies to requests it received (add --allow-pub for anything else)`);
  let usersText = global.map((e) => line(e, "    ")).join("\n");
  if (!usersText) usersText = names.length ? "    # (every user is in an account: see accounts {} below)" : emptyNote;
  if (!names.length) return { usersText, accountsText: "", accounts: [], warnings };
  const blocks = names.map((n) => {
    const members = byAccount.get(n)!;
    const key = accountKey(n, file, members[0]?.name ?? "a leafnode user");
    if (!members.length) return `  # ${n}: no client users here; a leafnode user lands in it\n  ${key} {}`;
    return `  ${key} {\n    users = [\n${members.map((e) => line(e, "      ")).join("\n")}\n    ]\n  }`;
  });
  const head =
    "\n\n# Accounts: each is its own subject space; a client mapped to a user below lands in that account" +
    "\n# and sees only its messages. Users above (authorization) are in the global account.";
  return {
    usersText,
    accountsText: `${head}\naccounts {\n${blocks.join("\n")}\n}`,
    accounts: names.map((n) => ({ name: n, users: byAccount.get(n)!.map((e) => e.name) })),
    warnings,
  };
}
