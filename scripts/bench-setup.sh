#!/usr/bin/env bash
# Installs the peers that `npm run bench` measures mtlsctl against (Debian/Ubuntu packages):
# mkcert, easy-rsa (/usr/share/easy-rsa/easyrsa), golang-cfssl (cfssl, cfssljson) and openssl.
# Run as root, or with sudo available. The bench never skips a missing peer silently: its row
# says "not installed (apt-get install X)".
set -euo pipefail
pkgs=(mkcert easy-rsa golang-cfssl openssl)
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "bench peers already installed: ${pkgs[*]}"
else
  echo "installing: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}"
fi
for c in mkcert cfssl cfssljson openssl; do printf '%-10s %s\n' "$c" "$(command -v "$c" || echo MISSING)"; done
printf '%-10s %s\n' easyrsa "$( [ -x /usr/share/easy-rsa/easyrsa ] && echo /usr/share/easy-rsa/easyrsa || echo MISSING)"
