#!/usr/bin/env bash
# Runs the Swift test suites (unit, Redis, TLS and end to end, which start the sanitized
# `reprise` and mock binaries) under a sanitizer, in a build folder of its own.
# Usage: scripts/sanitize.sh address|thread [swift test arguments, e.g. --filter RepriseCoreTests]
# Every process writes its sanitizer reports under .sanitizer-reports/<sanitizer>/; the run fails
# when a test fails or when any process (a test runner or a binary a test started) reported.
set -euo pipefail
cd "$(dirname "$0")/.."
sanitizer=${1:-}
case "$sanitizer" in
  address|thread) shift ;;
  *) echo "usage: scripts/sanitize.sh address|thread [swift test arguments]" >&2; exit 2 ;;
esac
source scripts/setup.sh --test
scratch=.build-$sanitizer
reports=$PWD/.sanitizer-reports/$sanitizer
rm -rf "$reports"; mkdir -p "$reports"
swift build --build-tests --sanitize="$sanitizer" --scratch-path "$scratch"
# log_path: reports from every process go to files (a child's stderr may be read by a test);
# the suites' own failures are swift test's exit status.
# quarantine_size_mb: ASan holds freed memory back (256 MB by default) to catch late uses;
# the suites' RSS bounds (pipelining floods) measure what the proxy keeps, so a smaller
# quarantine keeps them meaningful while use-after-free within it is still caught.
export ASAN_OPTIONS="log_path=$reports/report:detect_leaks=0:abort_on_error=0:quarantine_size_mb=16${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export TSAN_OPTIONS="log_path=$reports/report:halt_on_error=0:second_deadlock_stack=1:suppressions=$PWD/scripts/tsan-suppressions.txt${TSAN_OPTIONS:+:$TSAN_OPTIONS}"
# Sanitized binaries use more memory (redzones, quarantine, shadow pages): the suites' RSS
# bounds (pipelining floods) are multiplied by this.
if [[ $sanitizer == address ]]; then export REPRISE_TEST_MEMORY_FACTOR=3; else export REPRISE_TEST_MEMORY_FACTOR=5; fi
status=0
swift test --skip-build --no-parallel --sanitize="$sanitizer" --scratch-path "$scratch" "$@" || status=$?
found=$(find "$reports" -type f | wc -l)
if ((found)); then
  echo "sanitize: $found report file(s) under $reports:" >&2
  for report in "$reports"/*; do echo "== $report" >&2; head -n 40 "$report" >&2; done
  status=1
fi
echo "sanitize ($sanitizer): $([[ $status -eq 0 ]] && echo clean || echo FAILED)"
exit "$status"
