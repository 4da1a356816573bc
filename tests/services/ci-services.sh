#!/usr/bin/env bash
# ci-services.sh start <dir>  -> installs (if missing) and starts PostgreSQL, mosquitto, Dovecot+SMTP on 127.0.0.1,
#                                writes <dir>/services.env (source it before dotnet test)
# ci-services.sh stop <dir>   -> stops them by PID and removes <dir>
# The test fixtures start the same services themselves from these scripts when the variables are not set; this
# starts them once up front (faster when many test assemblies need them).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd); CMD=${1:-}; DIR=${2:-}
[ -n "$CMD" ] && [ -n "$DIR" ] || { echo "usage: ci-services.sh start|stop <dir>" >&2; exit 2; }
# shellcheck source=lib.sh
. "$HERE/lib.sh"
case $CMD in
start)
  need=()
  compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || need+=(postgresql)
  [ -x /usr/sbin/mosquitto ] || need+=(mosquitto)
  command -v mosquitto_pub >/dev/null || need+=(mosquitto-clients)
  { [ -x /usr/sbin/dovecot ] && [ -x /usr/lib/dovecot/imap ]; } || need+=(dovecot-imapd)
  [ -x /usr/lib/dovecot/lmtp ] || need+=(dovecot-lmtpd)
  /usr/bin/python3 -c 'import aiosmtpd' 2>/dev/null || need+=(python3-aiosmtpd)
  [ -x /usr/bin/chromium ] || need+=(chromium fonts-liberation)
  need_packages "${need[@]}"
  mkdir -p "$DIR"
  "$HERE/start-postgres.sh"  "$DIR/pg"   >  "$DIR/services.env"
  "$HERE/start-mosquitto.sh" "$DIR/mqtt" >> "$DIR/services.env"
  "$HERE/start-mail.sh"      "$DIR/mail" >> "$DIR/services.env"
  sed -i 's/^/export /' "$DIR/services.env"
  cat "$DIR/services.env" ;;
stop)
  "$HERE/stop-postgres.sh" "$DIR/pg" || true
  "$HERE/stop-mosquitto.sh" "$DIR/mqtt" || true
  "$HERE/stop-mail.sh" "$DIR/mail" || true
  rm -rf "$DIR" ;;
*) echo "usage: ci-services.sh start|stop <dir>" >&2; exit 2 ;;
esac
