#!/usr/bin/env bash
# Helpers sourced by the start-*.sh scripts (not run on its own).
#   need_packages PKG...       installs the Debian packages given (apt-get, as root), serialised across processes
#   free_port                  prints a free TCP port on 127.0.0.1
#   wait_port PORT [TENTHS]    waits until 127.0.0.1:PORT accepts connections (default 10 s)
#   watch_owner STOP_CMD...    when SERVICE_OWNER_PID is set (the test fixtures set it), runs STOP_CMD once that
#                              process is gone, so a killed test run does not leave the service behind

need_packages() {
  [ $# -gt 0 ] || return 0
  if [ "$(id -u)" != 0 ]; then
    echo "missing Debian packages: $*. Install them as root: apt-get update && apt-get install -y --no-install-recommends $*" >&2
    return 1
  fi
  local log; log=$(mktemp /tmp/platform-apt.XXXXXX.log)
  # Test assemblies run in parallel and may all need packages at once: one apt-get at a time.
  if ! (
    flock -w 900 9 || { echo "waited 15 min for /tmp/platform-apt.lock" >&2; exit 1; }
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q && apt-get install -y -q --no-install-recommends -o DPkg::Lock::Timeout=300 "$@"
  ) 9>/tmp/platform-apt.lock >"$log" 2>&1; then
    echo "apt-get install $* failed (log: $log):" >&2; tail -n 20 "$log" >&2; return 1
  fi
  rm -f "$log"
}

free_port() {
  if [ -x /usr/bin/python3 ]; then
    /usr/bin/python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'
    return
  fi
  local p
  for _ in $(seq 1 100); do
    p=$((20000 + RANDOM % 40000))
    (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
  done
  echo "no free port found" >&2; return 1
}

wait_port() {
  local i
  for i in $(seq 1 "${2:-100}"); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}

watch_owner() {
  local owner=${SERVICE_OWNER_PID:-}
  [ -n "$owner" ] && kill -0 "$owner" 2>/dev/null || return 0
  # setsid + no inherited stdout/stderr: the caller reading our output must not wait for the watcher.
  setsid bash -c 'while kill -0 "$0" 2>/dev/null; do sleep 3; done; "$@"' "$owner" "$@" </dev/null >/dev/null 2>&1 &
}
