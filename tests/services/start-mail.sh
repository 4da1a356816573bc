#!/usr/bin/env bash
# Private mail stack on loopback: Dovecot IMAP (+LMTP) and an aiosmtpd SMTP server delivering into it.
# Any user name logs in to IMAP with password "secret"; mail to <name>@anything lands in <name>'s INBOX.
# Needs root (Dovecot master); installs the Debian packages dovecot-imapd dovecot-lmtpd python3-aiosmtpd when missing.
# Prints SMTP_PORT, IMAP_PORT, DOVECOT_PID, SMTP_PID.  Usage: start-mail.sh <workdir>; stop: stop-mail.sh <workdir>
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$HERE/lib.sh"
DIR=${1:-$(mktemp -d /tmp/mail.XXXXXX)}
if [ "$(id -u)" != 0 ]; then
  echo "start-mail.sh needs root (Dovecot's master process switches to the 'mail' user); or start the mail stack as root and set SMTP_PORT and IMAP_PORT" >&2
  exit 1
fi
need=()
{ [ -x /usr/sbin/dovecot ] && [ -x /usr/lib/dovecot/imap ]; } || need+=(dovecot-imapd)
[ -x /usr/lib/dovecot/lmtp ] || need+=(dovecot-lmtpd)
/usr/bin/python3 -c 'import aiosmtpd' 2>/dev/null || need+=(python3-aiosmtpd)
need_packages "${need[@]}"
mkdir -p "$DIR/run" "$DIR/state" "$DIR/mail"
chown mail:mail "$DIR/mail"
IMAP_PORT=$(free_port); SMTP_PORT=$(free_port)
cat > "$DIR/dovecot.conf" <<CONF
instance_name = dovecot-test-$IMAP_PORT
base_dir = $DIR/run
state_dir = $DIR/state
log_path = $DIR/dovecot.log
protocols = imap lmtp
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_username_format = %Ln
first_valid_uid = 1
mail_location = maildir:$DIR/mail/%n
passdb {
  driver = static
  args = password=secret
}
userdb {
  driver = static
  args = uid=mail gid=mail home=$DIR/mail/%n
}
namespace inbox {
  inbox = yes
  mailbox Sent {
    special_use = \Sent
    auto = subscribe
  }
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = $IMAP_PORT
  }
  inet_listener imaps {
    port = 0
  }
}
service lmtp {
  unix_listener lmtp {
    mode = 0666
  }
}
service stats {
  unix_listener stats-writer {
    mode = 0666
  }
}
CONF
/usr/sbin/dovecot -c "$DIR/dovecot.conf" </dev/null >>"$DIR/dovecot.out" 2>&1  # daemon must not keep the caller's stdout/stderr open
nohup /usr/bin/python3 "$HERE/smtp-to-lmtp.py" "$SMTP_PORT" "$DIR/run/lmtp" >"$DIR/smtp.log" 2>&1 &
echo $! > "$DIR/smtp.pid"
for p in $IMAP_PORT $SMTP_PORT; do
  wait_port "$p" 100 || { echo "the mail stack did not listen on 127.0.0.1:$p:" >&2; cat "$DIR/dovecot.out" "$DIR/dovecot.log" "$DIR/smtp.log" >&2 2>/dev/null; "$HERE/stop-mail.sh" "$DIR"; exit 1; }
done
watch_owner "$HERE/stop-mail.sh" "$DIR"
echo "SMTP_PORT=$SMTP_PORT"
echo "IMAP_PORT=$IMAP_PORT"
echo "DOVECOT_PID=$(cat "$DIR/run/master.pid")"
echo "SMTP_PID=$(cat "$DIR/smtp.pid")"
