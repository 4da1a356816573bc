#!/usr/bin/env bash
# Start a private Prometheus on 127.0.0.1:<free port> with the given scrape configuration (data in <workdir>),
# installing Debian's prometheus when missing (as root). Prints PROMETHEUS_PORT and PROMETHEUS_PID.
# Usage: start-prometheus.sh <workdir> <prometheus.yml>   stop: stop-prometheus.sh <workdir>
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$HERE/lib.sh"
DIR=${1:?usage: start-prometheus.sh <workdir> <prometheus.yml>}; CONFIG=${2:?usage: start-prometheus.sh <workdir> <prometheus.yml>}
[ -f "$CONFIG" ] || { echo "no such configuration file: $CONFIG" >&2; exit 1; }
[ -x /usr/bin/prometheus ] || need_packages prometheus
mkdir -p "$DIR/data"
cp "$CONFIG" "$DIR/prometheus.yml"
PORT=$(free_port)
# setsid + nohup: the server outlives this script but not the caller's stdout (the caller reads it to the end).
setsid nohup /usr/bin/prometheus --config.file="$DIR/prometheus.yml" --storage.tsdb.path="$DIR/data" \
  --web.listen-address="127.0.0.1:$PORT" --web.enable-lifecycle </dev/null >"$DIR/prometheus.log" 2>&1 &
echo $! > "$DIR/prometheus.pid"
ready=0
for _ in $(seq 1 300); do
  if (exec 3<>"/dev/tcp/127.0.0.1/$PORT" && printf 'GET /-/ready HTTP/1.0\r\n\r\n' >&3 && head -1 <&3 | grep -q ' 200') 2>/dev/null; then ready=1; break; fi
  kill -0 "$(cat "$DIR/prometheus.pid")" 2>/dev/null || break
  sleep 0.1
done
if [ $ready != 1 ]; then
  echo "prometheus did not become ready on 127.0.0.1:$PORT:" >&2; tail -n 20 "$DIR/prometheus.log" >&2; "$HERE/stop-prometheus.sh" "$DIR"; exit 1
fi
watch_owner "$HERE/stop-prometheus.sh" "$DIR"
echo "PROMETHEUS_PORT=$PORT"
echo "PROMETHEUS_PID=$(cat "$DIR/prometheus.pid")"
