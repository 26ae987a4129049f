#!/usr/bin/env bash
# CPU time Reprise spends per request: process CPU ticks (utime+stime from /proc) over a wrk run,
# divided by the requests served. Steadier than req/s on a shared machine, because it does not
# depend on how much CPU the other processes got. Release binaries from bench/run.sh's build.
#
# Usage: bench/probes/cpu-per-request.sh [unique|fixed] [connections] [seconds] [event loops]
#   unique: a new body per request (misses through the mock upstream); fixed: cache hits.
# Environment: CACHE=false runs Reprise with the cache off (pure pass-through);
#              UPSTREAM_TLS=1 calls the mock over https:// (a private CA, see common.sh);
#              CACHE=redis serves from Redis only (L1 off; a redis-server on a free port, whose
#              own CPU per request is printed too);
#              BIN_DIR (default .build-bench/release).
script=${1:-unique}; conc=${2:-32}; seconds=${3:-5}; loops=${4:-1}
source "$(dirname "$0")/common.sh"
export BENCH_NONCE="cpu$RANDOM$$"
# One short run first: the hit scenario needs its entry stored, and connections warm up.
wrk -t1 -c1 -d1s -s "bench/wrk/$script.lua" "http://127.0.0.1:$proxy_port/v1/chat/completions" >/dev/null
before=$(ticks "$proxy_pid"); redis_before=${redis_pid:+$(ticks "$redis_pid")}
out=$(wrk -t1 -c"$conc" -d"${seconds}s" -s "bench/wrk/$script.lua" "http://127.0.0.1:$proxy_port/v1/chat/completions")
after=$(ticks "$proxy_pid"); redis_after=${redis_pid:+$(ticks "$redis_pid")}
requests=$(echo "$out" | awk '/requests in/{print $1}')
hz=$(getconf CLK_TCK)
echo "$out" | grep -E "Requests/sec|Non-2xx" || true
echo "reprise CPU: $((after - before)) ticks (${hz}/s) for $requests requests = $(( (after - before) * 1000000 / hz / requests )) us per request"
if [[ -n $redis_pid ]]; then
    echo "redis-server CPU: $(( (redis_after - redis_before) * 1000000 / hz / requests )) us per request"
fi
