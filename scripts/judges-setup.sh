#!/usr/bin/env bash
# Installs the independent judges that test/judges.test.ts runs on every artifact mtlsctl writes
# (issue 21 §1), into a cache outside the repository, pinned and keyed by version:
#   ${MTLSCTL_CACHE:-$HOME/.cache/mtlsctl}/venv/judges-<hash>/      pkilint + cryptography (test/judges/requirements.txt)
#   ${MTLSCTL_CACHE:-$HOME/.cache/mtlsctl}/zlint/<version>/zlint    zlint (go install, the machine's Go)
#   ${MTLSCTL_CACHE:-$HOME/.cache/mtlsctl}/gox509/<hash>/gox509     the crypto/x509 judge (test/judges/gox509)
#   GnuTLS certtool (Debian gnutls-bin) and NSS certutil/pk12util (libnss3-tools), apt-get when missing.
# Fresh: about 35 s (pip, go install) plus the apt-get; cached: about half a second.
# Idempotent. A failed install fails this
# script (never a silent skip). Prints one line per tool: <name> <path>.
#   --check  install nothing: print the paths, or name what is missing and exit 1 (test/judges.test.ts)
set -euo pipefail
cd "$(dirname "$0")/.."
check=""
[ "${1:-}" = "--check" ] && check=1
missing() {
  echo "scripts/judges-setup.sh: $1 is missing: run bash scripts/judges-setup.sh (scripts/test.sh does)" >&2
  exit 1
}

ZLINT_VERSION=v3.7.3

cache="${MTLSCTL_CACHE:-$HOME/.cache/mtlsctl}"
mkdir -p "$cache"

# --- Debian packages: GnuTLS certtool, NSS certutil
need=()
have() { command -v "$1" >/dev/null 2>&1 || [ -x "/usr/bin/$1" ]; }
have certtool || need+=(gnutls-bin)
have certutil || need+=(libnss3-tools)
have python3 || need+=(python3 python3-venv)
[ ${#need[@]} -eq 0 ] || [ -z "$check" ] || missing "${need[*]}"
if [ ${#need[@]} -gt 0 ]; then
  echo "scripts/judges-setup.sh: installing ${need[*]}" >&2
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >&2
fi
python3 -c 'import venv, ensurepip' 2>/dev/null || {
  [ -z "$check" ] || missing python3-venv
  echo "scripts/judges-setup.sh: installing python3-venv" >&2
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq python3-venv >&2
}

# --- Python: pkilint and cryptography, every package pinned in test/judges/requirements.txt, in a venv
# keyed by that file's hash (a venv records its own path: it is built under its final name, and a
# marker written last says it is complete)
PKILINT_VERSION="$(sed -n 's/^pkilint==//p' test/judges/requirements.txt)"
CRYPTOGRAPHY_VERSION="$(sed -n 's/^cryptography==//p' test/judges/requirements.txt)"
venv="$cache/venv/judges-$(sha256sum test/judges/requirements.txt | cut -c1-16)"
if [ ! -f "$venv/.complete" ]; then
  [ -z "$check" ] || missing "the venv $venv (pkilint $PKILINT_VERSION, cryptography $CRYPTOGRAPHY_VERSION)"
  echo "scripts/judges-setup.sh: creating $venv (pkilint $PKILINT_VERSION, cryptography $CRYPTOGRAPHY_VERSION)" >&2
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install -q --disable-pip-version-check --no-deps -r test/judges/requirements.txt >&2
  "$venv/bin/python" -m pip check >&2
  touch "$venv/.complete"
fi
got="$("$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("pkilint"), m.version("cryptography"))')"
[ "$got" = "$PKILINT_VERSION $CRYPTOGRAPHY_VERSION" ] || { echo "scripts/judges-setup.sh: $venv has '$got'" >&2; exit 1; }
"$venv/bin/lint_pkix_cert" validations >/dev/null

# --- zlint, built with the machine's Go (one Go: /usr/local/go on these machines)
. scripts/go-env.sh  # $go: the one Go toolchain
zdir="$cache/zlint/$ZLINT_VERSION"
if [ ! -x "$zdir/zlint" ]; then
  [ -z "$check" ] || missing "zlint $ZLINT_VERSION ($zdir/zlint)"
  echo "scripts/judges-setup.sh: building zlint $ZLINT_VERSION with $("$go" version | cut -d' ' -f3)" >&2
  rm -rf "$zdir.tmp" && mkdir -p "$zdir.tmp"
  GOBIN="$zdir.tmp" GOFLAGS=-mod=mod CGO_ENABLED=0 "$go" install "github.com/zmap/zlint/v3/cmd/zlint@$ZLINT_VERSION" >&2
  rm -rf "$zdir" && mv "$zdir.tmp" "$zdir"
fi
"$zdir/zlint" -list-lints-source >/dev/null

# --- the Go crypto/x509 judge (test/judges/gox509), built once per source hash
gsum="$(cat test/judges/gox509/go.mod test/judges/gox509/main.go | sha256sum | cut -c1-16)"
gbin="$cache/gox509/$gsum/gox509"
if [ ! -x "$gbin" ]; then
  [ -z "$check" ] || missing "the crypto/x509 judge built from test/judges/gox509 ($gbin)"
  echo "scripts/judges-setup.sh: building the crypto/x509 judge" >&2
  rm -rf "$cache/gox509/$gsum.tmp" && mkdir -p "$cache/gox509/$gsum.tmp"
  (cd test/judges/gox509 && CGO_ENABLED=0 "$go" build -o "$cache/gox509/$gsum.tmp/gox509" .) >&2
  rm -rf "$cache/gox509/$gsum" && mv "$cache/gox509/$gsum.tmp" "$cache/gox509/$gsum"
fi

echo "python $venv/bin/python"
echo "zlint $zdir/zlint"
echo "gox509 $gbin"
echo "certtool $(command -v certtool)"
echo "certutil $(command -v certutil)"
echo "pk12util $(command -v pk12util)"
