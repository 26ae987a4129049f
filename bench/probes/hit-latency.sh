#!/usr/bin/env bash
# Requests/s and latency (p50, p99 in µs) of cache hits at a given concurrency, for A/B checks
# of two builds: run it alternately with BIN_DIR=<build A> and BIN_DIR=<build B> and compare
# the pairs (the machine is noisy; one pair proves nothing).
#
# Usage: bench/probes/hit-latency.sh [connections] [seconds] [event loops]
# Environment: CACHE (true: L1, the default; redis: Redis only), BIN_DIR.
conc=${1:-1}; seconds=${2:-3}; loops=${3:-2}
source "$(dirname "$0")/common.sh"
export BENCH_NONCE="lat$RANDOM$$"
wrk -t1 -c1 -d1s -s bench/wrk/fixed.lua "http://127.0.0.1:$proxy_port/v1/chat/completions" >/dev/null
wrk -t1 -c"$conc" -d"${seconds}s" -s bench/wrk/fixed.lua "http://127.0.0.1:$proxy_port/v1/chat/completions" | python3 -c '
import json, re, sys
text = sys.stdin.read()
rps = re.search(r"Requests/sec:\s+([\d.]+)", text).group(1)
summary = json.loads(text.split("BENCH-JSON ", 1)[1].splitlines()[0])
p50, p99 = summary["latency_us"]["p50"], summary["latency_us"]["p99"]
print(f"req/s {rps} p50 {p50} us p99 {p99} us")'
