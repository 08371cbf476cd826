#!/usr/bin/env bash
# Start a throwaway PostgreSQL on loopback for the test suite and print its URL.
# Uses the machine's PostgreSQL when it has one, installs Debian's `postgresql` when it does not.
set -euo pipefail
PORT="${PGPORT_TEST:-55432}"
DATA="${PGDATA_TEST:-/tmp/crm-dq-pg}"

pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }
if [ -z "$(pg_bin)" ]; then
  echo "installing PostgreSQL from Debian's packages" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2 && apt-get install -y -qq postgresql >&2
fi
BIN="$(pg_bin)"
run_as_postgres() { if [ "$(id -u)" = 0 ]; then su postgres -s /bin/bash -c "$*"; else bash -c "$*"; fi; }

if ! run_as_postgres "'$BIN/pg_ctl' -D '$DATA' status" >/dev/null 2>&1; then
  rm -rf "$DATA"; mkdir -p "$DATA"
  [ "$(id -u)" = 0 ] && chown postgres "$DATA"
  run_as_postgres "'$BIN/initdb' -D '$DATA' -U postgres -A trust" >/dev/null
  run_as_postgres "'$BIN/pg_ctl' -D '$DATA' -o '-p $PORT -k /tmp -c listen_addresses=127.0.0.1 -c fsync=off' -l '$DATA/log' -w start" >/dev/null
fi
run_as_postgres "'$BIN/psql' -h 127.0.0.1 -p $PORT -U postgres -tc \"SELECT 1 FROM pg_database WHERE datname='crm_dq_test'\"" | grep -q 1 \
  || run_as_postgres "'$BIN/createdb' -h 127.0.0.1 -p $PORT -U postgres crm_dq_test"
echo "postgresql://postgres@127.0.0.1:$PORT/crm_dq_test"
