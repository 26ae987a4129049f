#!/usr/bin/env bash
# The reference for `cpu-per-request.sh fixed`: CPU time one nginx worker spends per cached hit
# (bench/nginx/cache.conf, 1 worker), measured the same way (worker CPU ticks over a wrk run,
# divided by the requests served).
#
# Usage: bench/probes/nginx-cpu-per-hit.sh [connections] [seconds]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
conc=${1:-32}; seconds=${2:-5}
bin=${BIN_DIR:-.build-bench/release}
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; [[ -f $work/nginx.pid ]] && kill "$(cat "$work/nginx.pid")" 2>/dev/null; rm -rf "$work"' EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
mock_port=$(free_port); port=$(free_port)
mkdir -p "$work"/{cache,client_body,proxy_temp,fastcgi_temp,uwsgi_temp,scgi_temp}
user_line=""; [[ $(id -u) == 0 ]] && user_line="user root;"
sed -e "s#{{USER_LINE}}#$user_line#" -e "s#{{WORKERS}}#1#" -e "s#{{PREFIX}}#$work#g" \
    -e "s#{{UPSTREAM}}#127.0.0.1:$mock_port#" -e "s#{{LISTEN}}#127.0.0.1:$port#" bench/nginx/cache.conf > "$work/nginx.conf"
"$bin/reprise-mock-upstream" --port "$mock_port" --threads 1 > "$work/mock.log" 2>&1 &
nginx=$(command -v nginx || echo /usr/sbin/nginx)
"$nginx" -p "$work" -e "$work/error.log" -c "$work/nginx.conf" -g 'daemon off;' &
for _ in $(seq 50); do [[ -s $work/nginx.pid ]] && curl -s -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.1; done
export BENCH_WRK_DIR=bench/wrk BENCH_NONCE="cpu$RANDOM$$"
url="http://127.0.0.1:$port/v1/chat/completions"
# The first requests store the answer; later ones are hits.
wrk -t1 -c1 -d1s -s bench/wrk/fixed.lua "$url" >/dev/null
worker=$(pgrep -P "$(cat "$work/nginx.pid")" | head -1)
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
before=$(ticks "$worker")
out=$(wrk -t1 -c"$conc" -d"${seconds}s" -s bench/wrk/fixed.lua "$url")
after=$(ticks "$worker")
requests=$(echo "$out" | awk '/requests in/{print $1}')
hz=$(getconf CLK_TCK)
echo "$out" | grep -E "Requests/sec|Non-2xx" || true
echo "nginx worker CPU: $((after - before)) ticks (${hz}/s) for $requests requests = $(( (after - before) * 1000000 / hz / requests )) us per request"
