#!/usr/bin/env bash
# Start a private mosquitto broker on 127.0.0.1:<free port>, installing Debian's mosquitto (and mosquitto-clients)
# when missing (as root). Prints "MQTT_PORT=<port>" and "MQTT_PID=<pid>".
# Usage: start-mosquitto.sh <workdir>   stop: stop-mosquitto.sh <workdir>
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$HERE/lib.sh"
DIR=${1:-$(mktemp -d /tmp/mqtt.XXXXXX)}
mkdir -p "$DIR"
need=()
[ -x /usr/sbin/mosquitto ] || need+=(mosquitto)
command -v mosquitto_pub >/dev/null || need+=(mosquitto-clients)
need_packages "${need[@]}"
PORT=$(free_port)
cat > "$DIR/mosquitto.conf" <<CONF
# 'user' is only honoured when started as root; keep root so it can write into $DIR
user $(id -un)
pid_file $DIR/mosquitto.pid
persistence false
log_dest file $DIR/mosquitto.log
log_type error
log_type warning
log_type notice
listener $PORT 127.0.0.1
allow_anonymous true
CONF
/usr/sbin/mosquitto -c "$DIR/mosquitto.conf" -d </dev/null >>"$DIR/mosquitto.out" 2>&1
wait_port "$PORT" 50 || { echo "mosquitto did not listen on 127.0.0.1:$PORT:" >&2; cat "$DIR/mosquitto.out" "$DIR/mosquitto.log" >&2 2>/dev/null; exit 1; }
watch_owner "$HERE/stop-mosquitto.sh" "$DIR"
echo "MQTT_PORT=$PORT"
echo "MQTT_PID=$(cat "$DIR/mosquitto.pid")"
