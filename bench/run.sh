#!/usr/bin/env bash
# Reprise benchmark: builds release binaries, installs wrk/nginx/redis-server when missing, runs
# Reprise, nginx and the mock upstream on loopback, prints one table of medians over interleaved
# rounds and appends it to bench/RESULTS.md. Stops by itself and stops everything it started.
#
# Usage: bench/run.sh [--quick] [--rounds N] [--duration S] [--concurrency 1,32,256] [--scenarios ...]
#                     [--callgrind] [--label TEXT] [--no-record] [--skip-build] ...
#        bench/run.sh --help   (every option)
# Environment: BENCH_SCRATCH (build directory, default .build-bench, kept apart from a debug .build),
#              BENCH_BIN_DIR (use these binaries and skip the build),
#              BENCH_CACHE_L1_YAML / BENCH_CACHE_REDIS_YAML / BENCH_CACHE_OFF_YAML / BENCH_BASE_YAML
#              (Reprise configuration pieces, see bench/lib/systems.py).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD

skip_build=0
callgrind=0
args=()
for arg in "$@"; do
  case "$arg" in
    --skip-build) skip_build=1 ;;
    --callgrind) callgrind=1; args+=("$arg") ;;
    -h|--help) exec python3 bench/lib/bench.py --bin-dir . --help ;;
    *) args+=("$arg") ;;
  esac
done

# Debian packages, only those missing (apt-get update first: a fresh machine has no lists).
missing=()
for tool in wrk:wrk nginx:nginx redis-server:redis-server python3:python3; do
  command -v "${tool%%:*}" >/dev/null 2>&1 || [[ -x "/usr/sbin/${tool%%:*}" ]] || missing+=("${tool#*:}")
done
if ((callgrind)); then
  command -v valgrind >/dev/null 2>&1 || missing+=(valgrind)
  command -v objcopy >/dev/null 2>&1 || missing+=(binutils)
  command -v cc >/dev/null 2>&1 || missing+=(gcc)  # bench/lib/valgrind-sigsuspend.c
fi
for package in libhiredis-dev libssl-dev pkg-config; do  # needed to build Reprise
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if ((${#missing[@]})); then
  echo "bench: installing ${missing[*]}" >&2
  sudo_cmd=()
  if [[ $(id -u) -ne 0 ]]; then sudo_cmd=(sudo); fi
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -qq
  "${sudo_cmd[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
fi
# Stray services the packages may have started are not ours to measure against; the bench
# runs its own instances on free ports.

if [[ -n "${BENCH_BIN_DIR:-}" ]]; then
  bin_dir=$BENCH_BIN_DIR
else
  scratch=${BENCH_SCRATCH:-$repo/.build-bench}
  if ! command -v swift >/dev/null 2>&1 && [[ -x /opt/swift/usr/bin/swift ]]; then
    export PATH=/opt/swift/usr/bin:$PATH
  fi
  if ((skip_build == 0)); then
    echo "bench: building release binaries in $scratch (a first build takes several minutes)" >&2
    swift build -c release --scratch-path "$scratch" --product reprise >&2
    swift build -c release --scratch-path "$scratch" --product reprise-mock-upstream >&2
  fi
  bin_dir=$scratch/release
fi
for binary in reprise reprise-mock-upstream; do
  if [[ ! -x "$bin_dir/$binary" ]]; then
    echo "bench: $bin_dir/$binary is missing (build failed or --skip-build without a build)" >&2
    exit 1
  fi
done

# The interpreter itself, not a wrapper (a pyenv shim would not pass Ctrl-C/SIGTERM on), so the
# runner's handler stops everything it started.
python=$(python3 -c 'import sys; print(sys.executable)')
exec "$python" bench/lib/bench.py --bin-dir "$bin_dir" "${args[@]}"
