#!/usr/bin/env bash
# The cache-hit path over HTTPS (TLS terminated by Reprise, keep-alive) next to the same over
# plain HTTP, on the same reprise process (both listeners, one cache). Interleaved rounds
# (HTTPS then HTTP, N times) with wrk and bench/tls/post.lua; prints each round and the median of
# the paired HTTPS/HTTP ratios of requests/s and p99 latency.
#
#   bench/tls/run.sh [--rounds N] [--duration SECONDS] [--connections C] [--threads T] [--skip-build]
#
# Defaults: 5 rounds, 10 s per run, 16 connections, 1 wrk thread. Builds release binaries in
# .build-bench-tls (BENCH_TLS_BIN_DIR=DIR uses existing binaries instead). Every run is bounded
# by `timeout`; everything started here is stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$PWD

rounds=5 duration=10 connections=16 threads=1 skip_build=0
while (($#)); do
  case "$1" in
    --rounds) rounds=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --connections) connections=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --skip-build) skip_build=1; shift ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
((rounds >= 1)) || { echo "--rounds must be at least 1" >&2; exit 2; }

for tool in wrk openssl curl python3; do
  command -v "$tool" >/dev/null || { echo "bench/tls: $tool is missing (apt-get install -y $tool)" >&2; exit 2; }
done

if [[ -n "${BENCH_TLS_BIN_DIR:-}" ]]; then
  bin_dir=$BENCH_TLS_BIN_DIR
else
  scratch=$repo/.build-bench-tls
  if ! command -v swift >/dev/null && [[ -x /opt/swift/usr/bin/swift ]]; then export PATH=/opt/swift/usr/bin:$PATH; fi
  if ((skip_build == 0)); then
    echo "bench/tls: building release binaries in $scratch" >&2
    swift build -c release --scratch-path "$scratch" --product reprise >&2
    swift build -c release --scratch-path "$scratch" --product reprise-mock-upstream >&2
  fi
  bin_dir=$scratch/release
fi
for binary in reprise reprise-mock-upstream; do
  [[ -x "$bin_dir/$binary" ]] || { echo "bench/tls: $bin_dir/$binary is missing" >&2; exit 1; }
done

work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A throwaway PKI: CA and an ECDSA P-256 server certificate for localhost / 127.0.0.1.
bench/lib/make-pki.sh "$work"

# Waits for a `listening on` line in FILE matching PATTERN and prints the port.
wait_port() {
  local file=$1 pattern=$2 pid=$3
  for _ in $(seq 1 600); do
    local port
    port=$(grep -oE "$pattern" "$file" 2>/dev/null | head -1 | grep -oE '[0-9]+$' || true)
    if [[ -n "$port" ]]; then echo "$port"; return 0; fi
    kill -0 "$pid" 2>/dev/null || { echo "bench/tls: process exited: $(cat "$file")" >&2; return 1; }
    sleep 0.1
  done
  echo "bench/tls: no listening line in $file" >&2
  return 1
}

"$bin_dir/reprise-mock-upstream" --host 127.0.0.1 --port 0 --threads 1 >"$work/mock.out" 2>&1 &
pids+=($!)
mock_port=$(wait_port "$work/mock.out" 'listening on [^ ]+:[0-9]+' "${pids[-1]}")

cat >"$work/reprise.yaml" <<YAML
server:
  tls:
    listen: 127.0.0.1:0
    certificate: $work/server.pem
    private_key: $work/server.key
logging:
  level: warning
YAML
"$bin_dir/reprise" --config "$work/reprise.yaml" --listen 127.0.0.1:0 --upstream "http://127.0.0.1:$mock_port" \
  >"$work/reprise.out" 2>"$work/reprise.err" &
pids+=($!)
reprise_pid=${pids[-1]}
https_port=$(wait_port "$work/reprise.out" 'listening on https://[^ ]+:[0-9]+' "$reprise_pid")
http_port=$(wait_port "$work/reprise.out" 'listening on http://[^ ]+:[0-9]+' "$reprise_pid")

# Fill the cache once (through the plain listener; the HTTPS one shares the cache) and check that
# the benchmarked request is a hit over both.
body=$(sed -n "s/^wrk.body = '\(.*\)'$/\1/p; s/^  \.\. '\(.*\)'$/\1/p" bench/tls/post.lua | tr -d '\n')
for url in "http://127.0.0.1:$http_port" "http://127.0.0.1:$http_port" "https://127.0.0.1:$https_port"; do
  status=$(curl -sS --max-time 30 --cacert "$work/ca.pem" -o /dev/null -D - -X POST "$url/v1/chat/completions" \
    -H 'Content-Type: application/json' -H 'Authorization: Bearer sk-bench-tls-000000000000' --data-binary "$body" |
    tr -d '\r' | awk 'tolower($1)=="x-cache:"{print $2}')
  echo "bench/tls: warm-up $url -> X-Cache: $status" >&2
done
[[ "$status" == HIT ]] || { echo "bench/tls: the HTTPS request is not a cache hit ($status)" >&2; exit 1; }

run_wrk() {  # scheme port -> the BENCH-TLS line
  local scheme=$1 port=$2 line
  line=$(timeout $((duration + 60)) wrk -t "$threads" -c "$connections" -d "${duration}s" --timeout 10s \
    -s bench/tls/post.lua "$scheme://127.0.0.1:$port/v1/chat/completions" | grep '^BENCH-TLS' || true)
  [[ -n "$line" ]] || { echo "bench/tls: wrk gave no summary for $scheme" >&2; exit 1; }
  echo "$line"
}

echo "bench/tls: $rounds rounds of ${duration}s, $connections connections, $threads wrk thread(s); HTTPS then HTTP each round" >&2
results=$work/results.txt
: >"$results"
for round in $(seq 1 "$rounds"); do
  https=$(run_wrk https "$https_port")
  http=$(run_wrk http "$http_port")
  echo "round $round https $https" | tee -a "$results" >&2
  echo "round $round http $http" | tee -a "$results" >&2
done

python3 - "$results" "$rounds" "$duration" "$connections" "$threads" <<'PY'
import re, statistics, sys
path, rounds, duration, connections, threads = sys.argv[1:]
runs = {}
for line in open(path):
    m = re.match(r"round (\d+) (https?) BENCH-TLS (.*)", line.strip())
    if m:
        fields = dict(kv.split("=") for kv in m.group(3).split())
        runs[(int(m.group(1)), m.group(2))] = {k: float(v) for k, v in fields.items()}
rps_ratios, p99_ratios = [], []
print(f"TLS cache-hit bench: {rounds} interleaved rounds x {duration}s, {connections} keep-alive connections, wrk -t{threads}")
print(f"{'round':>5} {'https req/s':>12} {'http req/s':>11} {'ratio':>6} {'https p99 ms':>13} {'http p99 ms':>12} {'ratio':>6} {'errors':>7}")
for r in range(1, int(rounds) + 1):
    s, p = runs[(r, "https")], runs[(r, "http")]
    rps_ratio = s["rps"] / p["rps"]
    p99_ratio = s["p99_us"] / p["p99_us"]
    rps_ratios.append(rps_ratio)
    p99_ratios.append(p99_ratio)
    errors = int(s["errors"] + s["non2xx"] + p["errors"] + p["non2xx"])
    print(f"{r:>5} {s['rps']:>12.0f} {p['rps']:>11.0f} {rps_ratio:>6.2f} {s['p99_us']/1000:>13.2f} {p['p99_us']/1000:>12.2f} {p99_ratio:>6.2f} {errors:>7}")
print(f"median HTTPS/HTTP requests/s ratio: {statistics.median(rps_ratios):.2f}")
print(f"median HTTPS/HTTP p99 ratio:        {statistics.median(p99_ratios):.2f}")
print(f"median req/s: https {statistics.median(runs[(r,'https')]['rps'] for r in range(1,int(rounds)+1)):.0f}, "
      f"http {statistics.median(runs[(r,'http')]['rps'] for r in range(1,int(rounds)+1)):.0f}")
PY
