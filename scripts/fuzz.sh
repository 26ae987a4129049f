#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/, one binary with a target switch) and runs each for a
# bounded time on a working copy of its committed seed corpus.
#
# Usage: scripts/fuzz.sh [target...]      (no argument: every target)
#   FUZZ_SECONDS   run time per target, seconds (default 60)
#   FUZZ_RSS_MB    memory bound per target, MB: above it libFuzzer stops with an oom finding (default 2048)
#   FUZZ_MAX_LEN   largest input, bytes (default 4096; 16384 for config, whose seed is the whole
#                  commented config/reprise.yaml)
#   FUZZ_WORK      where the working corpora go (default: a new temporary folder, kept and printed)
#
# Findings (crash-*, oom-*, timeout-*, leak-*) are left in fuzz/findings/<target>/; the script
# then exits non-zero. Reproduce one with:
#   REPRISE_FUZZ_TARGET=<target> fuzz/.build/release/reprise-fuzz fuzz/findings/<target>/crash-...
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh

all_targets=(cache-control json-key entry-codec sse resp http-date namespace config http-request)
targets=("$@")
if ((${#targets[@]} == 0)); then targets=("${all_targets[@]}"); fi
for target in "${targets[@]}"; do
  if [[ ! " ${all_targets[*]} " =~ " ${target} " ]]; then
    echo "fuzz: unknown target '$target' (known: ${all_targets[*]})" >&2
    exit 2
  fi
done
seconds=${FUZZ_SECONDS:-60}
rss_mb=${FUZZ_RSS_MB:-2048}
work=${FUZZ_WORK:-$(mktemp -d -t reprise-fuzz.XXXXXX)}
mkdir -p "$work"

# Release with the fuzzer's coverage instrumentation and AddressSanitizer on every module. Swift
# traps (index out of range, overflow, force unwrap, failed preconditions) are findings as such.
# One combined `-sanitize=fuzzer,address`: SwiftPM's `--sanitize=fuzzer --sanitize=address`
# hands swiftc two options, and the last one wins (no coverage instrumentation at all).
build=(swift build --package-path fuzz --scratch-path fuzz/.build -c release
       -Xswiftc -sanitize=fuzzer,address -Xcc -fsanitize=fuzzer-no-link,address)
echo "fuzz: building (${build[*]})"
if ! "${build[@]}" >"$work/build.log" 2>&1; then
  grep -E "error" "$work/build.log" | head -30 >&2
  echo "fuzz: the build failed (log: $work/build.log)" >&2
  exit 1
fi
binary="$("${build[@]}" --show-bin-path)/reprise-fuzz"
[[ -x "$binary" ]] || { echo "fuzz: the build produced no $binary" >&2; exit 1; }

failed=()
summary=()
for target in "${targets[@]}"; do
  corpus="$work/$target"
  findings="fuzz/findings/$target"
  mkdir -p "$corpus" "$findings"
  before=$(find "$findings" -type f | wc -l)
  cp -n fuzz/corpus/"$target"/* "$corpus"/ 2>/dev/null || true
  max_len=${FUZZ_MAX_LEN:-$([[ $target == config ]] && echo 16384 || echo 4096)}
  log="$work/$target.log"
  echo "fuzz: $target for ${seconds}s (corpus $corpus, log $log)"
  status=0
  # Leak detection is off: the Swift runtime's metadata caches live until exit by design.
  REPRISE_FUZZ_TARGET="$target" ASAN_OPTIONS="detect_leaks=0:${ASAN_OPTIONS:-}" "$binary" \
    -max_total_time="$seconds" -rss_limit_mb="$rss_mb" -malloc_limit_mb="$rss_mb" -max_len="$max_len" \
    -timeout=10 -print_final_stats=1 -artifact_prefix="$findings/" "$corpus" >"$log" 2>&1 || status=$?
  executions=$(grep -Eo 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -Eo '[0-9]+$' | tail -1 || true)
  speed=$(grep -Eo 'stat::average_exec_per_sec: *[0-9]+' "$log" | grep -Eo '[0-9]+$' | tail -1 || true)
  last=$(grep -E '^#[0-9]+.*cov: ' "$log" | tail -1 || true)
  cov=$(grep -Eo 'cov: [0-9]+' <<<"$last" | grep -Eo '[0-9]+' || true)
  ft=$(grep -Eo 'ft: [0-9]+' <<<"$last" | grep -Eo '[0-9]+' || true)
  units=$(find "$corpus" -type f | wc -l)
  found=$(($(find "$findings" -type f | wc -l) - before))
  line=$(printf '%-14s executions %-10s exec/s %-7s cov %-6s ft %-7s corpus %-6s findings %s' \
    "$target" "${executions:-?}" "${speed:-?}" "${cov:-?}" "${ft:-?}" "$units" "$found")
  summary+=("$line")
  echo "fuzz: $line"
  if ((status != 0 || found > 0)); then
    failed+=("$target")
    grep -E 'ERROR|Fatal error|SUMMARY|deadly signal|out-of-memory|Test unit written' "$log" | head -20 >&2 || true
  fi
done

echo "fuzz: summary (${seconds}s per target; working corpora in $work)"
printf '  %s\n' "${summary[@]}"
if ((${#failed[@]})); then
  echo "fuzz: findings in ${failed[*]}: inputs in fuzz/findings/<target>/, logs in $work" >&2
  exit 1
fi
