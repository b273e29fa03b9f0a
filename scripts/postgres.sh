#!/usr/bin/env bash
# A real PostgreSQL for the database-store tests (issue 19), on a fresh Debian machine or this one:
# installs Debian's `postgresql` when missing, starts the cluster (pg_ctlcluster <ver> main start, or a
# throwaway initdb cluster owned by the postgres user when there is no packaged cluster), then makes the
# role and database the tests use. Idempotent; any failure fails loudly (set -e, a message, exit 1).
# Prints the URL the tests use (MTLSCTL_TEST_PG, default postgres://mtlsctl@127.0.0.1:5432/mtlsctl_test);
# the password is in a PGPASSFILE (~/.cache/mtlsctl/pgpass), never in the URL.
set -euo pipefail
fail() { echo "scripts/postgres.sh: $*" >&2; exit 1; }
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
if ! command -v pg_ctlcluster >/dev/null 2>&1 || ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
  echo "scripts/postgres.sh: installing postgresql" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq postgresql >/dev/null || fail "apt-get install postgresql failed"
fi
ver="$(ls /usr/lib/postgresql | sort -V | tail -1)"
[ -n "$ver" ] || fail "no PostgreSQL server under /usr/lib/postgresql"
asuser() {
  if [ "$(id -un)" = postgres ]; then "$@"
  elif [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"
  else sudo -u postgres "$@"; fi
}
PORT="${MTLSCTL_TEST_PG_PORT:-5432}"
if pg_lsclusters -h 2>/dev/null | awk -v v="$ver" '$1==v && $2=="main"' | grep -q .; then
  if ! pg_lsclusters -h | awk -v v="$ver" '$1==v && $2=="main" {print $4}' | grep -q online; then
    $SUDO pg_ctlcluster "$ver" main start || fail "pg_ctlcluster $ver main start failed (see /var/log/postgresql/postgresql-$ver-main.log)"
  fi
  PORT="$(pg_lsclusters -h | awk -v v="$ver" '$1==v && $2=="main" {print $3}')"
else
  # no packaged cluster: a throwaway one, owned by postgres, outside the repository
  data=/var/tmp/mtlsctl-pg-$ver
  bin=/usr/lib/postgresql/$ver/bin
  if [ ! -f "$data/PG_VERSION" ]; then
    $SUDO mkdir -p "$data" && $SUDO chown postgres:postgres "$data" && $SUDO chmod 700 "$data"
    asuser "$bin/initdb" -D "$data" -A scram-sha-256 --auth-local=peer -U postgres >/dev/null || fail "initdb $data failed"
  fi
  if ! asuser "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1; then
    asuser "$bin/pg_ctl" -D "$data" -l "$data/log" -o "-p $PORT -k /var/run/postgresql" -w start >/dev/null || fail "pg_ctl start failed (see $data/log)"
  fi
fi
for _ in $(seq 1 30); do asuser psql -p "$PORT" -qAtc "select 1" >/dev/null 2>&1 && break; sleep 0.5; done
asuser psql -p "$PORT" -qAtc "select 1" >/dev/null || fail "PostgreSQL $ver on port $PORT does not answer"

cache="${MTLSCTL_CACHE:-$HOME/.cache/mtlsctl}"
mkdir -p "$cache"
pwfile="$cache/pgpass"
if [ ! -s "$cache/pg-password" ]; then
  (umask 077; head -c 18 /dev/urandom | base64 | tr -d '/+=' > "$cache/pg-password")
fi
pw="$(cat "$cache/pg-password")"
(umask 077; printf '127.0.0.1:%s:*:mtlsctl:%s\nlocalhost:%s:*:mtlsctl:%s\n' "$PORT" "$pw" "$PORT" "$pw" > "$pwfile")
asuser psql -p "$PORT" -v ON_ERROR_STOP=1 -qAt >/dev/null <<SQL || fail "creating the role mtlsctl failed"
DO \$\$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'mtlsctl') THEN CREATE ROLE mtlsctl LOGIN CREATEDB; END IF;
END \$\$;
ALTER ROLE mtlsctl LOGIN CREATEDB PASSWORD '$pw';
SQL
if ! asuser psql -p "$PORT" -qAtc "select 1 from pg_database where datname='mtlsctl_test'" | grep -q 1; then
  asuser createdb -p "$PORT" -O mtlsctl mtlsctl_test || fail "createdb mtlsctl_test failed"
fi
PGPASSFILE="$pwfile" psql "postgres://mtlsctl@127.0.0.1:$PORT/mtlsctl_test" -qAtc "select 1" >/dev/null \
  || fail "cannot log in as mtlsctl over TCP on 127.0.0.1:$PORT (pg_hba.conf must allow scram-sha-256 or md5 for 127.0.0.1)"
echo "postgres://mtlsctl@127.0.0.1:$PORT/mtlsctl_test $pwfile"
