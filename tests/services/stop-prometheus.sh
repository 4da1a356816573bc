#!/usr/bin/env bash
# Usage: stop-prometheus.sh <workdir-from-start-prometheus>   (stops the server, then deletes the dir)
DIR=$1
if [ -f "$DIR/prometheus.pid" ] && pid=$(cat "$DIR/prometheus.pid") && kill "$pid" 2>/dev/null; then
  for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null
fi
rm -rf "$DIR"
exit 0
