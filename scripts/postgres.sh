#!/usr/bin/env bash
# A throwaway PostgreSQL server on loopback for tests and benchmarks, from Debian's packages
# (installed with apt-get when missing; no Docker):
#   scripts/postgres.sh start DIR   initdb into DIR, start on a free 127.0.0.1 port, create the
#                                   database sfnlite; prints its URL (postgres://…/sfnlite)
#   scripts/postgres.sh restart DIR stops it (fast shutdown, connections cut) and starts it again
#   scripts/postgres.sh stop DIR    stops it (fast shutdown)
# The server runs as the postgres user when this runs as root (PostgreSQL refuses root).
# fsync is off (the data is thrown away with DIR) unless SFNLITE_PG_FSYNC=1, as the benchmark
# sets it to measure durable commits.
set -euo pipefail
cmd="${1:?start or stop}"
dir="${2:?a directory}"

find_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1; }
bin="$(find_bin)"
if [ -z "$bin" ]; then
  apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql >/dev/null
  bin="$(find_bin)"
fi

as_server() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "$cmd" in
  start)
    mkdir -p "$dir/data"
    if [ "$(id -u)" = 0 ]; then chown -R postgres "$dir"; fi
    as_server "$bin/initdb" -D "$dir/data" -U postgres -A trust --no-sync -E UTF8 >/dev/null
    port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
    nosync="-F"
    if [ "${SFNLITE_PG_FSYNC:-0}" = 1 ]; then nosync=""; fi
    as_server "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
      -o "-h 127.0.0.1 -p $port -k $dir $nosync -c max_connections=200" start >/dev/null
    as_server "$bin/psql" -q -h 127.0.0.1 -p "$port" -U postgres -c "CREATE DATABASE sfnlite" >/dev/null
    echo "postgres://postgres@127.0.0.1:$port/sfnlite"
    ;;
  restart)
    as_server "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -m fast -w restart >/dev/null
    ;;
  stop)
    as_server "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
    ;;
  *)
    echo "usage: $0 start|restart|stop DIR" >&2
    exit 2
    ;;
esac
