#!/usr/bin/env bash
# `npm run demo`: a CA, a server certificate, three clients, exports, a NATS config, an explanation,
# and (when nats-server is installed) a real server that maps each client to its user.
set -euo pipefail
cd "$(dirname "$0")/.."
out="$PWD/${DEMO_DIR:-demo-out}"
rm -rf "$out" && mkdir -p "$out"
export MTLSCTL_DIR="$out/pki"
export MTLSCTL_PASSPHRASE="${MTLSCTL_PASSPHRASE:-demo-passphrase}"   # the CA key is encrypted with it
m() { echo "\$ mtlsctl $*"; node bin/mtlsctl "$@"; echo; }

m ca init --name "Demo NATS CA"
m server issue nats1 --dns localhost --ip 127.0.0.1
m client issue alice --email alice@example.com
m client issue bob --subject "CN=bob,OU=ops,O=Acme"
echo "# carol makes her own key and request; only the request travels to the CA"
m client csr carol --uri spiffe://example.org/carol --out-dir "$out"
m client sign "$out/carol.csr"
m export alice --format chain --out "$out/alice-chain.pem"
m export ca --format der --out "$out/ca.der"
m config nats --out "$out/mtls.conf"
cat "$out/mtls.conf"
echo
m list
m explain "$out/pki/issued/bob.crt"

nats_server="$(command -v nats-server || echo /usr/sbin/nats-server)"
if [ -x "$nats_server" ]; then
  port=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
  mport=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
  printf 'listen: 127.0.0.1:%s\nhttp: 127.0.0.1:%s\ninclude "mtls.conf"\n' "$port" "$mport" > "$out/nats-server.conf"
  echo "\$ nats-server -t -c nats-server.conf"
  "$nats_server" -t -c "$out/nats-server.conf"
  echo
  "$nats_server" -c "$out/nats-server.conf" > "$out/nats-server.log" 2>&1 &
  pid=$!
  trap 'kill $pid 2>/dev/null || true' EXIT
  for _ in $(seq 50); do curl -fs "http://127.0.0.1:$mport/varz" >/dev/null 2>&1 && break; sleep 0.1; done
  echo "# nats-server is running with that config; each client connects with its certificate:"
  node scripts/demo-connect.js "$port" "$mport" "$out/pki/ca.crt" \
    "alice:$out/pki/issued/alice.crt:$out/pki/private/alice.key" \
    "bob:$out/pki/issued/bob.crt:$out/pki/private/bob.key" \
    "carol:$out/pki/issued/carol.crt:$out/carol.key"
else
  echo "# nats-server is not installed (apt-get install nats-server) - skipping the live connection"
fi
echo
echo "# The fleet path: the online CA (EST), a one-time token, and the agent that enrols and renews"
sport=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
echo "\$ mtlsctl token create dave --email dave@example.com > dave.token"
node bin/mtlsctl token create dave --email dave@example.com > "$out/dave.token"
echo "\$ mtlsctl serve --listen 127.0.0.1:$sport &"
node bin/mtlsctl serve --listen "127.0.0.1:$sport" > "$out/serve.log" 2>&1 &
spid=$!
trap 'kill $spid 2>/dev/null || true; kill ${pid:-} 2>/dev/null || true' EXIT
for _ in $(seq 100); do grep -q "listening on" "$out/serve.log" 2>/dev/null && break; sleep 0.1; done
agent() { m agent --ca-url "https://127.0.0.1:$sport" --ca-file "$out/pki/ca.crt" --cert "$out/dave.crt" --key "$out/dave.key" "$@"; }
agent --name dave --token-file "$out/dave.token" --once
echo "# renew it once now (--renew-before 99%: due at once), with a new key"
agent --once --renew-before 99%
m config nats --out "$out/mtls-fleet.conf" --force
m verify "$out/dave.crt" --config "$out/mtls-fleet.conf"
kill -TERM "$spid"; wait "$spid" 2>/dev/null || true
echo "# serve stopped (SIGTERM)"
echo
echo "Demo files are in $out"
