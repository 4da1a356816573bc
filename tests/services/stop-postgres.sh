#!/usr/bin/env bash
# Usage: stop-postgres.sh <datadir-from-start>   (fast shutdown, then delete the dir; nothing to do when it is gone)
set -uo pipefail
DIR=$1
[ -d "$DIR" ] || exit 0
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
if [ "$(id -u)" = 0 ]; then RUN=(runuser -u postgres --); else RUN=(); fi
[ -n "$PGBIN" ] && [ -f "$DIR/data/postmaster.pid" ] && "${RUN[@]}" "$PGBIN/pg_ctl" -D "$DIR/data" -m fast -w stop >/dev/null 2>&1
rm -rf "$DIR"
exit 0
