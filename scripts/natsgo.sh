#!/usr/bin/env bash
# Builds the nats.go test client (test/go/natsclient: github.com/nats-io/nats.go pinned by its go.mod and
# go.sum; issues 20 §1 and 21 §3) with the machine's Go and the Go module proxy, into a cache outside the
# repository keyed by the hash of its sources:
#   ${MTLSCTL_CACHE:-$HOME/.cache/mtlsctl}/natsgo/<hash>/natsclient
# Fresh: a few seconds with the module cache warm; cached: instant. A failed build fails this script
# (never a silent skip). Prints the binary's path.  --check: build nothing, exit 1 when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/go-env.sh
src=test/go/natsclient
hash="$(cat "$src/go.mod" "$src/go.sum" "$src/main.go" | sha256sum | cut -c1-16)"
dir="${MTLSCTL_CACHE:-$HOME/.cache/mtlsctl}/natsgo/$hash"
if [ ! -x "$dir/natsclient" ]; then
  if [ "${1:-}" = "--check" ]; then echo "scripts/natsgo.sh: the nats.go client is not built: run bash scripts/natsgo.sh" >&2; exit 1; fi
  echo "scripts/natsgo.sh: building test/go/natsclient with $("$go" version | cut -d' ' -f3)" >&2
  tmp="$dir.tmp.$$"
  rm -rf "$tmp" && mkdir -p "$tmp"
  (cd "$src" && GOFLAGS=-mod=readonly CGO_ENABLED=0 "$go" build -o "$tmp/natsclient" .) >&2
  rm -rf "$dir" && mv "$tmp" "$dir"
fi
echo "$dir/natsclient"
