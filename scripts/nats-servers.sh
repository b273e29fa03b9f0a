#!/usr/bin/env bash
# Builds the nats-server matrix pinned in scripts/nats-versions.txt with the machine's Go toolchain and
# the Go module proxy, into a cache outside the repository keyed by version:
#   ${MTLSCTL_CACHE:-$HOME/.cache/mtlsctl}/nats-server/<version>/nats-server
# A version already built is reused; a build that fails fails this script (never a silent skip).
# Prints one line per version: <version> <path>.
set -euo pipefail
cd "$(dirname "$0")/.."
cache="${MTLSCTL_CACHE:-$HOME/.cache/mtlsctl}/nats-server"
. scripts/go-env.sh  # $go: the machine's Go, never an older distribution go earlier on PATH
mkdir -p "$cache"
while read -r v; do
  case "$v" in ''|'#'*) continue ;; esac
  bin="$cache/$v/nats-server"
  if [ ! -x "$bin" ]; then
    echo "scripts/nats-servers.sh: building nats-server $v with $("$go" version | cut -d' ' -f3)" >&2
    rm -rf "$cache/$v.tmp" && mkdir -p "$cache/$v.tmp"
    GOBIN="$cache/$v.tmp" GOFLAGS=-mod=mod CGO_ENABLED=0 "$go" install "github.com/nats-io/nats-server/v2@$v" >&2
    rm -rf "$cache/$v" && mv "$cache/$v.tmp" "$cache/$v"
  fi
  got="$("$bin" --version)"
  case "$got" in *"${v#v}"*) ;; *) echo "scripts/nats-servers.sh: $bin says '$got', not $v" >&2; exit 1 ;; esac
  echo "$v $bin"
done < scripts/nats-versions.txt
