# Sourced by the build scripts: sets $go to the one Go toolchain every script uses — $MTLSCTL_GO, else
# the machine's (/usr/local/go on these machines), else `go` on PATH — never an older distribution go
# that happens to be earlier on PATH. Fails (exit 1) when there is none.
go="${MTLSCTL_GO:-}"
if [ -z "$go" ]; then
  for g in /usr/local/go/bin/go "$(command -v go || true)"; do
    [ -n "$g" ] && [ -x "$g" ] && { go="$g"; break; }
  done
fi
if [ -z "$go" ] || ! "$go" version >/dev/null 2>&1; then
  echo "$0: no Go toolchain (expected /usr/local/go/bin/go)" >&2
  exit 1
fi
