#!/usr/bin/env bash
# A throwaway PostgreSQL server on 127.0.0.1, for tests and for trying Sluice's Postgres connectors.
#
#   scripts/postgres.sh start [--port P] [--dir D]   initdb a fresh cluster in D, start it, wait; prints `url postgres://sluice@127.0.0.1:P/sluice`
#   scripts/postgres.sh stop  [--port P] [--dir D]   stop it (fast shutdown) and remove D
#
# Uses Debian's postgresql (apt-get install postgresql): the newest /usr/lib/postgresql/*/bin.
# Postgres refuses to run as root: as root the cluster belongs to the `postgres` user (runuser).
# Settings: trust authentication on 127.0.0.1 only, the superuser `sluice`, wal_level=logical (for
# change data capture), max_prepared_transactions=10. Each start formats fresh storage under D
# (default ${TMPDIR:-/tmp}/sluice-postgres-P).
set -euo pipefail

usage() {
  echo "usage: scripts/postgres.sh start|stop [--port P] [--dir D]" >&2
  exit 2
}

command="${1:-}"
[ "$command" = start ] || [ "$command" = stop ] || usage
shift
port=5432
dir=""
while [ "$#" -gt 0 ]; do
  case "$1" in
    --port) port="${2:?--port needs a number}"; shift 2 ;;
    --dir) dir="${2:?--dir needs a directory}"; shift 2 ;;
    *) usage ;;
  esac
done
[[ "$port" =~ ^[0-9]+$ ]] && [ "$port" -ge 1 ] && [ "$port" -le 65535 ] || { echo "postgres.sh: --port $port: give a port number from 1 to 65535" >&2; exit 2; }
dir="${dir:-${TMPDIR:-/tmp}/sluice-postgres-$port}"
bindir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)"
[ -n "$bindir" ] && [ -x "$bindir/initdb" ] || { echo "postgres.sh: no PostgreSQL server found; install it: apt-get install postgresql" >&2; exit 1; }

as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

if [ "$command" = stop ]; then
  if [ -f "$dir/data/postmaster.pid" ]; then as_owner "$bindir/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null || true; fi
  rm -rf "$dir"
  echo "stopped postgres on port $port"
  exit 0
fi

rm -rf "$dir"
mkdir -p "$dir"
if [ "$(id -u)" = 0 ]; then chown postgres: "$dir"; fi
chmod 700 "$dir"
as_owner "$bindir/initdb" -D "$dir/data" -U sluice -A trust -E UTF8 --no-instructions >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
cat >>"$dir/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir'
wal_level = logical
max_wal_senders = 10
max_replication_slots = 10
max_prepared_transactions = 10
max_connections = 100
CONF
as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start >/dev/null || { cat "$dir/server.log" >&2; exit 1; }
as_owner "$bindir/createdb" -h 127.0.0.1 -p "$port" -U sluice sluice
echo "url postgres://sluice@127.0.0.1:$port/sluice"
