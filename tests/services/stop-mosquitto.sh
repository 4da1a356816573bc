#!/usr/bin/env bash
# Usage: stop-mosquitto.sh <workdir-from-start-mosquitto>   (stops the broker, then deletes the dir)
DIR=$1
if [ -f "$DIR/mosquitto.pid" ] && pid=$(cat "$DIR/mosquitto.pid") && kill "$pid" 2>/dev/null; then
  for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
fi
rm -rf "$DIR"
exit 0
