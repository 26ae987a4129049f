#!/usr/bin/env bash
# Instructions Reprise executes per cached hit, and its malloc-family calls, counted by
# valgrind's callgrind over a wrk run (warm-up first, counters zeroed, then the measured run).
# Counts, not times: the same build and scenario give the same figures on a busy machine, which
# makes small differences (a copy, an allocation) visible. Under callgrind Reprise runs ~50x
# slower, so the request rate printed is not a result. wrk's connections are opened inside the
# measured run: with PROXY_TLS=1 their handshakes (one per connection) are counted too,
# spread over the requests.
#
# Needs valgrind and objcopy (valgrind 3.19 cannot read Swift 6.3's DWARF 5: Reprise runs from
# a copy made with `objcopy --strip-debug`).
# Usage: bench/probes/instructions-per-hit.sh [connections] [seconds]   (defaults 8 and 10)
# Environment: PROXY_TLS=1 (hits over HTTPS), BIN_DIR and the rest as for common.sh.
conc=${1:-8}; seconds=${2:-10}; loops=1
for tool in valgrind callgrind_control objcopy wrk; do
    command -v "$tool" >/dev/null || { echo "instructions-per-hit: $tool is missing" >&2; exit 2; }
done
source_bin=${BIN_DIR:-.build-bench/release}
stripped=$(mktemp -d)
cp "$source_bin/reprise" "$stripped/reprise"
objcopy --strip-debug "$stripped/reprise"
ln -s "$(cd "$source_bin" && pwd)/reprise-mock-upstream" "$stripped/reprise-mock-upstream"
export BIN_DIR=$stripped
REPRISE_WRAPPER="valgrind --tool=callgrind --dump-instr=no --callgrind-out-file=$stripped/callgrind.%p"
START_SECONDS=120
source "$(dirname "$0")/common.sh"
trap 'kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null; rm -rf "$work" "$stripped"' EXIT
export BENCH_NONCE="callgrind$RANDOM$$"
url="$proxy_url/v1/chat/completions"
curl -sf "http://127.0.0.1:$proxy_port/healthz" >/dev/null || { echo "instructions-per-hit: Reprise did not start" >&2; exit 1; }
wrk -t1 -c"$conc" -d5s -s bench/wrk/fixed.lua "$url" >/dev/null  # the first request fills the cache
callgrind_control -z "$proxy_pid" >/dev/null
out=$(wrk -t1 -c"$conc" -d"${seconds}s" -s bench/wrk/fixed.lua "$url")
callgrind_control -d "$proxy_pid" >/dev/null
requests=$(echo "$out" | awk '/requests in/{print $1}')
echo "$out" | grep -E "Non-2xx|Socket errors" || true
dump=""
for _ in $(seq 600); do  # the dump of the measured run: callgrind.PID.1
    dump=$(ls "$stripped/callgrind.$proxy_pid".* 2>/dev/null | head -1 || true)
    [[ -n "$dump" && -s "$dump" ]] && break
    sleep 0.1
done
[[ -n "$dump" ]] || { echo "instructions-per-hit: no callgrind dump" >&2; exit 1; }
sleep 1  # written in full
python3 - "$dump" "$requests" <<'PY'
import sys
sys.path.insert(0, "bench/lib")
from callgrind import parse_dump
total, calls = parse_dump(sys.argv[1])
n = int(sys.argv[2])
mallocs = sum(calls[name] for name in ("malloc", "calloc", "realloc", "posix_memalign", "aligned_alloc"))
print(f"reprise: {n} hits, {total / n:,.0f} instructions per hit, malloc-family calls {mallocs / n:.2f} per hit"
      f" (swift_allocObject {calls['swift_allocObject'] / n:.2f})")
PY
