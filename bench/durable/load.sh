#!/usr/bin/env bash
# Quick local load for the durable-path work (issue #21): the hello-http workflow under wrk, with each persistence mode
# and with group commit on and off, all in one run so the ratios compare like with like on a loaded machine.
#   bench/durable/load.sh [server.dll] [seconds] [connections]
# The server dll defaults to a Release build: dotnet build src/Server/Platform.Server -c Release -p:SkipStudioBundle=true
set -euo pipefail
here="$(cd "$(dirname "$0")/../.." && pwd)"
dll="${1:-$here/src/Server/Platform.Server/bin/Release/net10.0/Platform.Server.dll}"
seconds="${2:-15}"
connections="${3:-50}"
key="bench-admin-key-0123456789abcdef"
port=$((20000 + RANDOM % 20000))
work="$(mktemp -d /tmp/durable-load.XXXXXX)"
trap 'kill $server 2>/dev/null || true; rm -rf "$work"' EXIT

run() { # $1 = group commit batch size, $2 = persistence mode (Full | OnFaultOnly | None)
  local batch="$1" mode="$2" data="$work/data-$1-$2"
  mkdir -p "$data"
  Platform__DataDirectory="$data" Platform__ApiKeys__0__Key="$key" Platform__ApiKeys__0__Role=Admin \
  Platform__RateLimits__Enabled=false Platform__AI__Embeddings__Enabled=false ASPNETCORE_ENVIRONMENT=Production \
  Platform__Database__GroupCommitMaxBatch="$batch" Logging__LogLevel__Default=Warning \
    dotnet "$dll" --urls "http://127.0.0.1:$port" >"$work/server-$batch-$mode.log" 2>&1 &
  server=$!
  for _ in $(seq 1 240); do curl -fsS "http://127.0.0.1:$port/health/ready" >/dev/null 2>&1 && break; sleep 0.5; done
  python3 - "$here/workflows/hello-http.json" "$mode" >"$work/model.json" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
m["definitionId"] = "load-hello"; m["options"]["commitStrategyName"] = sys.argv[2]
for a in m["root"]["activities"]:
    if a["type"] == "Elsa.HttpEndpoint": a["path"]["expression"]["value"] = "load"
print(json.dumps({"model": m, "publish": True}))
PY
  curl -fsS -H "Authorization: ApiKey $key" -H 'Content-Type: application/json' --data @"$work/model.json" \
    "http://127.0.0.1:$port/elsa/api/workflow-definitions" >/dev/null
  curl -fsS "http://127.0.0.1:$port/http/load?name=warm" >/dev/null
  wrk -t2 -c"$connections" -d5s "http://127.0.0.1:$port/http/load?name=Ada" >/dev/null # warm-up
  local alloc0; alloc0=$(curl -fsS -H "Authorization: ApiKey $key" "http://127.0.0.1:$port/api/diagnostics/runtime" | python3 -c 'import json,sys; print(json.load(sys.stdin)["allocatedMb"])')
  local cpu0; cpu0=$(awk '{print $14+$15}' /proc/$server/stat)
  local out; out=$(wrk -t2 -c"$connections" -d"${seconds}s" --latency "http://127.0.0.1:$port/http/load?name=Ada")
  local cpu1; cpu1=$(awk '{print $14+$15}' /proc/$server/stat)
  local alloc1; alloc1=$(curl -fsS -H "Authorization: ApiKey $key" "http://127.0.0.1:$port/api/diagnostics/runtime" | python3 -c 'import json,sys; print(json.load(sys.stdin)["allocatedMb"])')
  local rps; rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
  local p50; p50=$(echo "$out" | awk '$1=="50%" {print $2}')
  local p99; p99=$(echo "$out" | awk '$1=="99%" {print $2}')
  local total; total=$(echo "$out" | awk '/requests in/ {print $1}')
  local errors; errors=$(echo "$out" | awk '/Non-2xx|Socket errors/ {print}' | tr '\n' ' ')
  local ticks; ticks=$(getconf CLK_TCK)
  local cpu_ms; cpu_ms=$(python3 -c "print(round(($cpu1-$cpu0)*1000/$ticks/max(1,$total),3))")
  local kb; kb=$(python3 -c "print(round(($alloc1-$alloc0)*1024/max(1,$total),1))")
  local db; db=$(du -sk "$data" | cut -f1)
  printf '| %s | %s | %s | %s | %s | %s | %s | %s KB | %s |\n' "$mode" "$batch" "$rps" "$p50" "$p99" "$cpu_ms" "$kb" "$db" "$errors"
  kill $server; wait $server 2>/dev/null || true
}

echo "| persistence | group commit batch | req/s | P50 | P99 | server CPU ms/req | allocated KB/req | data dir after run | errors |"
echo "|---|---|---|---|---|---|---|---|---|"
run 1 Full
run 64 Full
run 64 OnFaultOnly
run 64 None
