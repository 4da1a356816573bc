#!/usr/bin/env bash
# Usage: stop-mail.sh <workdir-from-start-mail>   (stops the SMTP front and Dovecot, then deletes the dir)
DIR=$1; pids=()
for f in "$DIR/smtp.pid" "$DIR/run/master.pid"; do
  [ -f "$f" ] && pid=$(cat "$f") && kill "$pid" 2>/dev/null && pids+=("$pid")
done
for pid in "${pids[@]}"; do for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done; done
rm -rf "$DIR"
exit 0
