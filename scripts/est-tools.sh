#!/usr/bin/env bash
# Builds globalsign/est's estclient and estserver (the EST client and server that mtlsctl's service and
# agent are proven against, issues 17 and 18), pinned by scripts/est-tools/go.mod and go.sum, with the
# machine's Go and the Go module proxy, into a cache outside the repository keyed by that pin:
#   ${MTLSCTL_CACHE:-$HOME/.cache/mtlsctl}/est/<hash of go.sum>/{estclient,estserver}
# (`go install …@v1.0.6` cannot be used: the proxy refuses the module's version list, which go install
# reads for deprecations; a build inside a pinned module does not.) estclient needs cgo (its PKCS#11
# support). Fresh: about 40 s; cached: instant. A failed build fails this script, never a silent skip.
# Prints one line per tool: <name> <path>.  --check: build nothing, exit 1 when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/go-env.sh
hash="$(cat scripts/est-tools/go.mod scripts/est-tools/go.sum | sha256sum | cut -c1-16)"
dir="${MTLSCTL_CACHE:-$HOME/.cache/mtlsctl}/est/$hash"
if [ ! -x "$dir/estclient" ] || [ ! -x "$dir/estserver" ]; then
  if [ "${1:-}" = "--check" ]; then echo "scripts/est-tools.sh: estclient/estserver are not built: run bash scripts/est-tools.sh" >&2; exit 1; fi
  echo "scripts/est-tools.sh: building globalsign/est tools with $("$go" version | cut -d' ' -f3)" >&2
  tmp="$dir.tmp.$$"
  rm -rf "$tmp" && mkdir -p "$tmp"
  (cd scripts/est-tools && GOFLAGS=-mod=readonly CGO_ENABLED=1 "$go" build -o "$tmp/" github.com/globalsign/est/cmd/estclient github.com/globalsign/est/cmd/estserver) >&2
  rm -rf "$dir" && mv "$tmp" "$dir"
fi
echo "estclient $dir/estclient"
echo "estserver $dir/estserver"
