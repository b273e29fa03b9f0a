#!/usr/bin/env bash
# The one test command (README, CI): installs what the tests need on a fresh Debian machine,
# then builds, type-checks and runs every test. Nothing is skipped: a missing tool fails.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
have() { command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ] || [ -x "/usr/bin/$1" ]; }
have nats-server || need+=(nats-server)
have openssl || need+=(openssl)
have curl || need+=(curl)
{ have java && have keytool && have javac; } || need+=(default-jdk-headless)
have script || need+=(bsdutils)
have zsh || need+=(zsh)
have pkcs11-tool || need+=(opensc)   # pkcs11-tool lists the token objects in test/pkcs11.test.ts   # the zsh completion is parsed and driven by zsh in the tests
have tar || need+=(tar)
have pk12util || need+=(libnss3-tools)
if [ ${#need[@]} -gt 0 ]; then
  echo "scripts/test.sh: installing ${need[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}"
fi

# One Go: the machine's toolchain (/usr/local/go on these machines), with the Go module proxy. It builds
# the nats-server matrix and the Go programs under test; Debian's older golang-go cannot build them.
go=/usr/local/go/bin/go
[ -x "$go" ] || go="$(command -v go || true)"
if [ -z "$go" ] || ! "$go" version >/dev/null 2>&1; then
  echo "scripts/test.sh: no Go toolchain (expected /usr/local/go/bin/go): the nats-server matrix and the Go tests need it" >&2
  exit 1
fi
export MTLSCTL_GO="$go"
# the nats-server matrix (scripts/nats-versions.txt), built once and cached outside the repository
start=$(date +%s)
bash scripts/nats-servers.sh >/dev/null
echo "scripts/test.sh: nats-server matrix ready ($(( $(date +%s) - start )) s): 2.9.10 (Debian) and $(grep -c '^v' scripts/nats-versions.txt) built"
bash scripts/est-tools.sh >/dev/null     # globalsign/est estclient + estserver (the EST peers of the service and agent tests), cached
bash scripts/natsgo.sh >/dev/null        # the nats.go test client (test/go/natsclient, nats.go pinned), cached
bash scripts/judges-setup.sh >/dev/null  # the judges of test/judges.test.ts (pkilint, zlint, Go x509, certtool, NSS, cryptography), cached
bash scripts/softhsm.sh >/dev/null     # SoftHSM2 (Debian softhsm2): the PKCS#11 token of test/pkcs11*.test.ts
bash scripts/postgres.sh >/dev/null    # PostgreSQL (Debian postgresql): started, a role and database for test/pg*.test.ts and the store conformance

# npm ci when node_modules is missing or does not match the lock file
if [ ! -d node_modules ] || ! npm ls --depth=0 >/dev/null 2>&1; then
  npm ci --no-audit --no-fund
fi

npm run build
npm run typecheck
results="$(mktemp)"
status=0
npx jest --ci --json --outputFile="$results" "$@" || status=$?
node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  console.log(`${r.numPassedTests} passed, ${r.numFailedTests} failed` + (r.numPendingTests ? `, ${r.numPendingTests} skipped` : ""));
' "$results" || true
rm -f "$results"
exit $status
