#!/usr/bin/env bash
# A throw-away PostgreSQL on loopback for the test suite: trust auth, data under DIR.
#   scripts/pg.sh start DIR PORT   -> prints the store URL
#   scripts/pg.sh stop DIR
# Installs Debian's postgresql when it is missing and we are root (CI, fresh machines).
# Adapted from ../shared/bench/pg_local.sh.
set -euo pipefail
cmd=${1:?start|stop}; dir=${2:?DIR}; port=${3:-54329}
find_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1; }
bin=$(find_bin || true)
if [ -z "$bin" ] && [ "$cmd" = start ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "installing Debian's postgresql package…" >&2
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql) >&2
    bin=$(find_bin)
  else
    echo "PostgreSQL is not installed: apt-get install postgresql (as root)" >&2; exit 1
  fi
fi
as_pg() { if [ "$(id -u)" = 0 ]; then su postgres -s /bin/bash -c "$*"; else bash -c "$*"; fi; }
case $cmd in
  start)
    mkdir -p "$dir"; [ "$(id -u)" = 0 ] && chown postgres: "$dir"
    if [ ! -f "$dir/data/PG_VERSION" ]; then
      as_pg "$bin/initdb -D '$dir/data' -U postgres -A trust -E UTF8 --no-locale >'$dir/initdb.log' 2>&1"
    fi
    if ! as_pg "$bin/pg_ctl -D '$dir/data' status" >/dev/null 2>&1; then
      as_pg "$bin/pg_ctl -D '$dir/data' -l '$dir/server.log' -w -t 60 start \
        -o \"-c listen_addresses=127.0.0.1 -p $port -k '$dir' -c fsync=off -c max_connections=200\"" >/dev/null
    fi
    as_pg "$bin/psql -h 127.0.0.1 -p $port -U postgres -tAc 'select 1' >/dev/null"
    echo "postgresql://postgres@127.0.0.1:$port/postgres"
    ;;
  stop)
    [ -n "$bin" ] && [ -f "$dir/data/PG_VERSION" ] && as_pg "$bin/pg_ctl -D '$dir/data' -m fast -w -t 60 stop" >/dev/null || true
    ;;
  *) echo "usage: $0 start|stop DIR [PORT]" >&2; exit 2 ;;
esac
