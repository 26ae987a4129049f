#!/usr/bin/env bash
# CPU time Reprise spends per request: process CPU ticks (utime+stime from /proc) over a wrk run,
# divided by the requests served. Steadier than req/s on a shared machine, because it does not
# depend on how much CPU the other processes got. Release binaries from bench/run.sh's build.
#
# Usage: bench/probes/cpu-per-request.sh [unique|fixed] [connections] [seconds] [event loops]
#   unique: a new body per request (misses through the mock upstream); fixed: cache hits.
# Environment: CACHE=false runs Reprise with the cache off (pure pass-through);
#              BIN_DIR (default .build-bench/release).
set -euo pipefail
cd "$(dirname "$0")/../.."
script=${1:-unique}; conc=${2:-32}; seconds=${3:-5}; loops=${4:-1}
bin=${BIN_DIR:-.build-bench/release}
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
mock_port=$(free_port); proxy_port=$(free_port)
cat > "$work/reprise.yaml" <<YAML
server:
  listen: 127.0.0.1:$proxy_port
  threads: $loops
upstream:
  url: http://127.0.0.1:$mock_port
logging:
  level: warning
cache:
  enabled: ${CACHE:-true}
YAML
"$bin/reprise-mock-upstream" --port "$mock_port" --threads 1 > "$work/mock.log" 2>&1 &
mock_pid=$!
"$bin/reprise" --config "$work/reprise.yaml" > "$work/reprise.log" 2>&1 &
proxy_pid=$!
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$proxy_port/healthz" >/dev/null && break; sleep 0.1; done
export BENCH_WRK_DIR=bench/wrk BENCH_NONCE="cpu$RANDOM$$"
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
# One short run first: the hit scenario needs its entry stored, and connections warm up.
wrk -t1 -c1 -d1s -s "bench/wrk/$script.lua" "http://127.0.0.1:$proxy_port/v1/chat/completions" >/dev/null
before=$(ticks "$proxy_pid")
out=$(wrk -t1 -c"$conc" -d"${seconds}s" -s "bench/wrk/$script.lua" "http://127.0.0.1:$proxy_port/v1/chat/completions")
after=$(ticks "$proxy_pid")
requests=$(echo "$out" | awk '/requests in/{print $1}')
hz=$(getconf CLK_TCK)
echo "$out" | grep -E "Requests/sec|Non-2xx" || true
echo "reprise CPU: $((after - before)) ticks (${hz}/s) for $requests requests = $(( (after - before) * 1000000 / hz / requests )) us per request"
