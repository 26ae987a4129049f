# Shared by the Reprise probes: starts the mock upstream and Reprise (release build) on free
# loopback ports with `server.threads: $loops` and any extra YAML in $extra_yaml; stops them and
# removes the work directory on exit. Sets mock_port, proxy_port, proxy_pid, work.
#
# CACHE (environment): true (default: L1 in memory), false (the cache off: pure pass-through),
# or redis (Redis only, L1 off: a redis-server on a free port, whose pid is redis_pid).
# CACHE_ENCRYPTION=1: Redis entries sealed (`cache.encryption_key` from an environment variable
# holding a random key made here), for the cost of encryption at rest per Redis hit and store.
# LOG_LEVEL (default warning, which silences the access log): info turns the access log on.
# UPSTREAM_TLS=1: the mock serves HTTPS with a certificate of a private CA made here (openssl
# CLI, in the work directory), and Reprise calls https://localhost:PORT trusting that CA
# (`upstream.ca_file`).
# PROXY_TLS=1: Reprise also serves HTTPS (`server.tls`, a certificate of a private CA made here)
# and `proxy_url` is its https:// address: the probes then measure hits over TLS.
# REPRISE_WRAPPER: a command Reprise runs under (e.g. valgrind); START_SECONDS (default 5): how
# long to wait for it to answer /healthz.
# Sets proxy_url too: http://127.0.0.1:$proxy_port, or the HTTPS listener's with PROXY_TLS=1.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
bin=${BIN_DIR:-.build-bench/release}
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
# Process CPU time (user + system) in clock ticks.
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
mock_port=$(free_port); proxy_port=$(free_port)
redis_pid=""
if [[ ${CACHE:-true} == redis ]]; then
    redis_port=$(free_port)
    redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no >/dev/null 2>&1 &
    redis_pid=$!
    for _ in $(seq 50); do redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break; sleep 0.1; done
    cache_yaml="cache:
  enabled: true
  memory:
    enabled: false
  redis:
    url: redis://127.0.0.1:$redis_port"
    if [[ ${CACHE_ENCRYPTION:-0} == 1 ]]; then
        REPRISE_BENCH_CACHE_KEY=$(openssl rand -hex 32)
        export REPRISE_BENCH_CACHE_KEY
        cache_yaml+="
  encryption_key: env:REPRISE_BENCH_CACHE_KEY"
    fi
else
    cache_yaml="cache:
  enabled: ${CACHE:-true}"
fi
upstream_url=http://127.0.0.1:$mock_port
upstream_tls_yaml=""
mock_tls=()
if [[ ${UPSTREAM_TLS:-0} == 1 || ${PROXY_TLS:-0} == 1 ]]; then
    bench/lib/make-pki.sh "$work"
fi
if [[ ${UPSTREAM_TLS:-0} == 1 ]]; then
    upstream_url=https://localhost:$mock_port
    upstream_tls_yaml="  ca_file: $work/ca.pem"
    mock_tls=(--tls-certificate "$work/server.pem" --tls-key "$work/server.key")
fi
proxy_url=http://127.0.0.1:$proxy_port
proxy_tls_yaml=""
if [[ ${PROXY_TLS:-0} == 1 ]]; then
    tls_port=$(free_port)
    proxy_url=https://127.0.0.1:$tls_port
    proxy_tls_yaml="  tls:
    listen: 127.0.0.1:$tls_port
    certificate: $work/server.pem
    private_key: $work/server.key"
fi
cat > "$work/reprise.yaml" <<YAML
server:
  listen: 127.0.0.1:$proxy_port
  threads: ${loops:-1}
$proxy_tls_yaml
upstream:
  url: $upstream_url
$upstream_tls_yaml
logging:
  level: ${LOG_LEVEL:-warning}
$cache_yaml
${extra_yaml:-}
YAML
"$bin/reprise-mock-upstream" --port "$mock_port" --threads 1 "${mock_tls[@]}" > "$work/mock.log" 2>&1 &
${REPRISE_WRAPPER:-} "$bin/reprise" --config "$work/reprise.yaml" > "$work/reprise.log" 2>"$work/reprise.err" &
proxy_pid=$!
for _ in $(seq $((${START_SECONDS:-5} * 10))); do curl -sf "http://127.0.0.1:$proxy_port/healthz" >/dev/null && break; sleep 0.1; done
export BENCH_WRK_DIR=bench/wrk
