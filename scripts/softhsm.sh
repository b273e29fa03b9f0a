#!/usr/bin/env bash
# SoftHSM2 for the PKCS#11 tests: installs Debian's softhsm2 when missing and checks that its module
# loads. Idempotent; fails loudly. The tests make their own tokens (SOFTHSM2_CONF pointing at a
# temporary directory), so nothing here touches the system token directory.
set -euo pipefail
if ! command -v softhsm2-util >/dev/null 2>&1; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get install -y softhsm2 >/dev/null 2>&1 || { $SUDO apt-get update >/dev/null && $SUDO apt-get install -y softhsm2; }
fi
MODULE=""
for m in /usr/lib/softhsm/libsofthsm2.so /usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so /usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so; do
  [ -f "$m" ] && { MODULE="$m"; break; }
done
[ -n "$MODULE" ] || { echo "softhsm.sh: libsofthsm2.so not found after installing softhsm2" >&2; exit 1; }
# smoke: a throwaway token in a temp dir
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
printf 'directories.tokendir = %s\nobjectstore.backend = file\n' "$T" > "$T/softhsm2.conf"
SOFTHSM2_CONF="$T/softhsm2.conf" softhsm2-util --init-token --free --label smoke --pin 1234 --so-pin 5678 >/dev/null \
  || { echo "softhsm.sh: softhsm2-util --init-token failed" >&2; exit 1; }
echo "softhsm2: $MODULE"
