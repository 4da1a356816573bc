#!/usr/bin/env bash
# Start a private, throwaway PostgreSQL on 127.0.0.1:<free port> (data in a temp dir, no system cluster touched).
# Installs Debian's postgresql when missing (as root). Prints shell assignments: PGPORT, PGDATA_DIR, PG_PID, PG_CONN
# (Npgsql connection string).   Usage: start-postgres.sh [datadir]    stop: stop-postgres.sh <datadir>
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$HERE/lib.sh"
pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true; }
PGBIN=$(pg_bin)
if [ -z "$PGBIN" ] || [ ! -x "$PGBIN/initdb" ]; then
  need_packages postgresql
  PGBIN=$(pg_bin)
fi
DIR=${1:-$(mktemp -d /tmp/pgtest.XXXXXX)}
mkdir -p "$DIR"
# initdb/postgres refuse to run as root: run them as the 'postgres' system user (created by the Debian package)
if [ "$(id -u)" = 0 ]; then RUN=(runuser -u postgres --); chown postgres:postgres "$DIR"; else RUN=(); fi
chmod 700 "$DIR"
PORT=$(free_port)
"${RUN[@]}" "$PGBIN/initdb" -D "$DIR/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 --no-sync >"$DIR/initdb.log" 2>&1 \
  || { cat "$DIR/initdb.log" >&2; exit 1; }
# durability off: this is a test database
"${RUN[@]}" "$PGBIN/pg_ctl" -D "$DIR/data" -l "$DIR/postgres.log" -w -t 30 start -o \
  "-p $PORT -k $DIR -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" >/dev/null \
  || { cat "$DIR/postgres.log" >&2; exit 1; }
watch_owner "$HERE/stop-postgres.sh" "$DIR"
echo "PGPORT=$PORT"
echo "PGDATA_DIR=$DIR"
echo "PG_PID=$(head -1 "$DIR/data/postmaster.pid")"
echo "PG_CONN='Host=127.0.0.1;Port=$PORT;Username=postgres;Password=postgres;Database=postgres'"
