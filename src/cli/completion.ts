/**
 * `completion bash|zsh`: a completion script made at run time from the command tree (commander's
 * commands, options, arguments and choices), so that it never falls behind the CLI. Values:
 * choices (--key, --format, --map, --reason, ...) are offered as words; file and directory
 * options complete paths; options and arguments that name a certificate in the store (export,
 * renew, revoke, config curl, --include, ...) complete the names in <dir>/issued/.
 */
import type { Command, Option, Argument } from "commander";
import { Ctx } from "./context";
import { writeOut } from "./out";
import { KEY_TYPES } from "../pki/keys";
import { REASON_NAMES } from "../lifecycle/crl";

/** How the value of an option or argument is completed. */
export type ValueKind = { words: string[] } | "file" | "dir" | "name" | "nkey" | "text";

export interface OptionSpec {
  flags: string[]; // "--key", and "-k" when there is a short form
  description: string;
  value: ValueKind | null; // null: a flag without a value
}

export interface CommandSpec {
  path: string; // "" for the program, "client issue", ...
  description: string;
  subcommands: { name: string; description: string }[];
  options: OptionSpec[];
  /** The kind of each positional argument; the last repeats when variadic. */
  args: ValueKind[];
  variadic: boolean;
}

/** Options whose value is a certificate name in the store (<dir>/issued/<name>.crt). */
const NAME_OPTIONS = new Set(["--include", "--exclude", "--server", "--client", "--cert"]);
/** Positional NAME arguments that make a new name (nothing to complete) rather than pick one. */
const NEW_NAME_COMMANDS = new Set(["client csr", "client issue", "server issue", "nkey create"]);
/** Positional NAME arguments that pick an NKey (<dir>/nkeys/<name>.nk). */
const NKEY_NAME_COMMANDS = new Set(["config nkey-client"]);

function optionValue(opt: Option): ValueKind | null {
  if (!opt.required && !opt.optional) return null;
  if (opt.argChoices?.length) return { words: [...opt.argChoices] };
  const long = opt.long ?? "";
  if (long === "--key") return { words: [...KEY_TYPES] };
  if (long === "--reason") return { words: [...REASON_NAMES] };
  if (NAME_OPTIONS.has(long)) return "name";
  const placeholder = (opt.flags.match(/[<[]([^>\]]+)[>\]]/)?.[1] ?? "").toLowerCase();
  if (placeholder === "dir") return "dir";
  if (placeholder === "file") return "file";
  return "text";
}

function argValue(path: string, a: Argument): ValueKind {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const choices = (a as any).argChoices as string[] | undefined;
  if (choices?.length) return { words: [...choices] };
  const n = a.name().toLowerCase();
  if (n === "name") return NEW_NAME_COMMANDS.has(path) ? "text" : NKEY_NAME_COMMANDS.has(path) ? "nkey" : "name";
  if (n === "dir") return "dir";
  if (/cert|csr|file|conf|crt|key|\./.test(n)) return "file"; // <cert>, <csr>, <ca.crt>, <ca.key>, <nats.conf>
  return "text";
}

const visible = (c: Command) => !(c as unknown as { _hidden?: boolean })._hidden;

/** Walks the tree: one spec per command, the program first. */
export function commandSpecs(program: Command): CommandSpec[] {
  const out: CommandSpec[] = [];
  const walk = (cmd: Command, path: string) => {
    const options: OptionSpec[] = cmd.options
      .filter((o) => !o.hidden)
      .map((o) => ({ flags: [o.long, o.short].filter((f): f is string => !!f), description: o.description, value: optionValue(o) }));
    options.push({ flags: ["--help", "-h"], description: "show help", value: null });
    const args = cmd.registeredArguments.map((a) => argValue(path, a));
    const subs = cmd.commands.filter(visible);
    out.push({
      path,
      description: cmd.description(),
      subcommands: subs.map((c) => ({ name: c.name(), description: c.description() })),
      options,
      args,
      variadic: cmd.registeredArguments.some((a) => a.variadic),
    });
    for (const c of subs) walk(c, path ? `${path} ${c.name()}` : c.name());
  };
  walk(program, "");
  return out;
}

// ---------------------------------------------------------------- shell text helpers

/** A word for a single-quoted shell string. */
const sq = (s: string) => "'" + s.replace(/'/g, "'\\''") + "'";

const kindCode = (k: ValueKind): string => (typeof k === "string" ? { file: "f", dir: "d", name: "n", nkey: "k", text: "t" }[k] : "w:" + k.words.join(" "));

function oneLine(s: string): string {
  return s.replace(/\s+/g, " ").trim();
}

/** The case arms shared by both shells (their case syntax is the same). */
function caseArms(specs: CommandSpec[], globals: OptionSpec[], zsh: boolean) {
  const subs: string[] = [];
  const opts: string[] = [];
  const vals: string[] = [];
  const args: string[] = [];
  const desc = (name: string, d: string) => sq(`${name.replace(/:/g, "\\:")}:${oneLine(d)}`);
  for (const s of specs) {
    if (s.subcommands.length)
      subs.push(`    ${sq(s.path)}) reply=(${s.subcommands.map((c) => (zsh ? desc(c.name, c.description) : sq(c.name))).join(" ")}) ;;`);
    // program options are recognised anywhere, so every command offers them (--version only first)
    const all = s.path === "" ? s.options : [...s.options, ...globals.filter((g) => !g.flags.includes("--version"))];
    const words = all.flatMap((o) => o.flags.filter((f) => f.startsWith("--")).map((f) => (zsh ? desc(f, o.description) : sq(f))));
    opts.push(`    ${sq(s.path)}) reply=(${words.join(" ")}) ;;`);
    for (const o of s.options) if (o.value) for (const f of o.flags) vals.push(`    ${sq(s.path + "|" + f)}) REPLY=${sq(kindCode(o.value))} ;;`);
    if (s.args.length) args.push(`    ${sq(s.path)}) REPLY=${sq(s.args.map(kindCode).join(","))}; variadic=${s.variadic ? 1 : 0} ;;`);
  }
  // the program's own options (--dir, ...) in any command
  for (const g of globals) if (g.value) for (const f of g.flags) vals.push(`    *${sq("|" + f)}) REPLY=${sq(kindCode(g.value))} ;;`);
  return { subs, opts, vals, args };
}

/** The table functions both scripts share (same shell syntax in bash and zsh), from caseArms. */
function tableFunctions({ subs, opts, vals, args }: ReturnType<typeof caseArms>): string {
  return `_mtlsctl_subs() {
  reply=()
  case "$1" in
${subs.join("\n")}
  esac
}

_mtlsctl_opts() {
  reply=()
  case "$1" in
${opts.join("\n")}
  esac
}

# how an option's value completes: w:<words> | f (file) | d (directory) | n (certificate name) | k (NKey name) | t (text); empty: no value
_mtlsctl_optval() {
  REPLY=""
  case "$1|$2" in
${vals.join("\n")}
  esac
}

# the kinds of a command's positional arguments, comma-separated
_mtlsctl_args() {
  REPLY=""
  variadic=0
  case "$1" in
${args.join("\n")}
  esac
}`;
}

function header(shell: string, version: string): string {
  return `# ${shell} completion for mtlsctl ${version}, made by \`mtlsctl completion ${shell}\` from its command tree.\n`;
}

export function bashScript(program: Command): string {
  const specs = commandSpecs(program);
  const globals = specs[0].options.filter((o) => o.flags[0] !== "--help");
  const arms = caseArms(specs, globals, false);
  return `${header("bash", program.version() ?? "")}# Use: source <(mtlsctl completion bash), or save it in /etc/bash_completion.d/mtlsctl.

${tableFunctions(arms)}

# completes a value of kind $1 for the word in $cur; $2 is the store directory
_mtlsctl_value() {
  local kind="$1" d="$2" f names=""
  case "$kind" in
    w:*) COMPREPLY=($(compgen -W "\${kind#w:}" -- "$cur")) ;;
    f) compopt -o filenames 2>/dev/null; local IFS=$'\\n'; COMPREPLY=($(compgen -f -- "$cur")) ;;
    d) compopt -o filenames 2>/dev/null; local IFS=$'\\n'; COMPREPLY=($(compgen -d -- "$cur")) ;;
    n)
      [[ "$d" == "~/"* ]] && d="$HOME/\${d#"~/"}"
      for f in "$d"/issued/*.crt; do
        [[ -e "$f" ]] || continue
        f="\${f##*/}"
        names+="\${f%.crt} "
      done
      [[ "$cmdpath" == export ]] && names+="ca"
      COMPREPLY=($(compgen -W "$names" -- "$cur"))
      ;;
    k)
      [[ "$d" == "~/"* ]] && d="$HOME/\${d#"~/"}"
      for f in "$d"/nkeys/*.nk; do
        [[ -e "$f" ]] || continue
        f="\${f##*/}"
        names+="\${f%.nk} "
      done
      COMPREPLY=($(compgen -W "$names" -- "$cur"))
      ;;
  esac
}

_mtlsctl() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" cmdpath="" w pending="" dir="\${MTLSCTL_DIR:-pki}" nargs=0 i=1 variadic=0 REPLY
  local -a reply
  COMPREPLY=()
  # --opt=value: bash splits it into "--opt" "=" "value"
  if [[ "$cur" == "=" ]]; then
    pending="\${COMP_WORDS[COMP_CWORD-1]}"
    cur=""
  elif (( COMP_CWORD >= 2 )) && [[ "\${COMP_WORDS[COMP_CWORD-1]}" == "=" ]]; then
    pending="\${COMP_WORDS[COMP_CWORD-2]}"
  fi
  # the words before the cursor: the command path, option values and positional arguments
  while (( i < COMP_CWORD )); do
    w="\${COMP_WORDS[i]}"
    if [[ "$w" == "--" ]]; then
      break
    elif [[ "$w" == -* ]]; then
      _mtlsctl_optval "$cmdpath" "$w"
      if [[ -n "$REPLY" ]]; then
        if [[ "\${COMP_WORDS[i+1]}" == "=" ]]; then
          [[ "$w" == --dir ]] && dir="\${COMP_WORDS[i+2]}"
          i=$((i + 3))
          continue
        fi
        if (( i + 1 >= COMP_CWORD )); then
          [[ -z "$pending" ]] && pending="$w"
          break
        fi
        [[ "$w" == --dir ]] && dir="\${COMP_WORDS[i+1]}"
        i=$((i + 2))
        continue
      fi
    else
      _mtlsctl_subs "$cmdpath"
      if [[ " \${reply[*]} " == *" $w "* ]]; then
        cmdpath="\${cmdpath:+$cmdpath }$w"
      else
        nargs=$((nargs + 1))
      fi
    fi
    i=$((i + 1))
  done
  if [[ -n "$pending" ]]; then
    _mtlsctl_optval "$cmdpath" "$pending"
    _mtlsctl_value "$REPLY" "$dir"
    return 0
  fi
  if [[ "$cur" == -* ]]; then
    _mtlsctl_opts "$cmdpath"
    COMPREPLY=($(compgen -W "\${reply[*]}" -- "$cur"))
    return 0
  fi
  _mtlsctl_subs "$cmdpath"
  if (( \${#reply[@]} )); then
    COMPREPLY=($(compgen -W "\${reply[*]}" -- "$cur"))
    return 0
  fi
  _mtlsctl_args "$cmdpath"
  [[ -z "$REPLY" ]] && return 0
  local -a kinds
  IFS=, read -r -a kinds <<< "$REPLY"
  if (( nargs >= \${#kinds[@]} )); then
    (( variadic )) || return 0
    nargs=$((\${#kinds[@]} - 1))
  fi
  _mtlsctl_value "\${kinds[nargs]}" "$dir"
  return 0
}

complete -F _mtlsctl mtlsctl
`;
}

export function zshScript(program: Command): string {
  const specs = commandSpecs(program);
  const globals = specs[0].options.filter((o) => o.flags[0] !== "--help");
  const arms = caseArms(specs, globals, true);
  return `#compdef mtlsctl
${header("zsh", program.version() ?? "")}# Use: source <(mtlsctl completion zsh) after compinit, or save it as _mtlsctl in a directory of $fpath.

${tableFunctions(arms)}

_mtlsctl_value() {
  local kind="$1" d="$2"
  local -a names
  case "$kind" in
    w:*) compadd -- \${=kind#w:} ;;
    f) _files ;;
    d) _files -/ ;;
    n)
      [[ "$d" == "~/"* ]] && d="$HOME/\${d#"~/"}"
      names=("$d"/issued/*.crt(N:t:r))
      [[ "$cmdpath" == export ]] && names+=(ca)
      compadd -- "\${names[@]}"
      ;;
    k)
      [[ "$d" == "~/"* ]] && d="$HOME/\${d#"~/"}"
      names=("$d"/nkeys/*.nk(N:t:r))
      compadd -- "\${names[@]}"
      ;;
  esac
}

_mtlsctl() {
  local cur="\${words[CURRENT]}" cmdpath="" w pending="" dir="\${MTLSCTL_DIR:-pki}" REPLY
  local -i nargs=0 i=2 variadic=0
  local -a reply kinds
  while (( i < CURRENT )); do
    w="\${words[i]}"
    if [[ "$w" == "--" ]]; then
      break
    elif [[ "$w" == --*=* ]]; then
      [[ "\${w%%=*}" == --dir ]] && dir="\${w#*=}"
    elif [[ "$w" == -* ]]; then
      _mtlsctl_optval "$cmdpath" "$w"
      if [[ -n "$REPLY" ]]; then
        if (( i + 1 >= CURRENT )); then
          pending="$w"
          break
        fi
        [[ "$w" == --dir ]] && dir="\${words[i+1]}"
        i=$((i + 2))
        continue
      fi
    else
      _mtlsctl_subs "$cmdpath"
      if (( \${reply[(I)$w:*]} )); then
        cmdpath="\${cmdpath:+$cmdpath }$w"
      else
        nargs=$((nargs + 1))
      fi
    fi
    i=$((i + 1))
  done
  if [[ -z "$pending" && "$cur" == --*=* ]]; then
    pending="\${cur%%=*}"
    compset -P '*='
  fi
  if [[ -n "$pending" ]]; then
    _mtlsctl_optval "$cmdpath" "$pending"
    _mtlsctl_value "$REPLY" "$dir"
    return
  fi
  if [[ "$cur" == -* ]]; then
    _mtlsctl_opts "$cmdpath"
    _describe -t options 'option' reply
    return
  fi
  _mtlsctl_subs "$cmdpath"
  if (( \${#reply} )); then
    _describe -t commands 'command' reply
    return
  fi
  _mtlsctl_args "$cmdpath"
  [[ -z "$REPLY" ]] && return
  kinds=("\${(@s:,:)REPLY}")
  if (( nargs >= \${#kinds} )); then
    (( variadic )) || return
    nargs=$((\${#kinds} - 1))
  fi
  _mtlsctl_value "\${kinds[nargs+1]}" "$dir"
}

if [[ "\${funcstack[1]}" == "_mtlsctl" ]]; then
  _mtlsctl "$@"
else
  compdef _mtlsctl mtlsctl
fi
`;
}

export function run([shell]: string[], o: Record<string, any>, cmd: Command): void {
  const ctx = new Ctx(o);
  let root = cmd;
  while (root.parent) root = root.parent;
  const script = shell === "zsh" ? zshScript(root) : bashScript(root);
  if (ctx.json) ctx.result({ shell, script }, () => "");
  else writeOut(script);
}
