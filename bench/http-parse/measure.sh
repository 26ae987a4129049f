#!/usr/bin/env bash
# Instructions and heap allocations per parse of one 6-header chat request (head, 90-byte body,
# end): RequestHeadParser alone, LLHTTPRequestDecoder and NIO's HTTPRequestDecoder (both in an
# EmbeddedChannel; `channel` is that channel with a decoder that only discards, its share of
# the two). Each figure is the difference between a run of 2N and one of N requests,
# divided by N, so start-up and the first request's allocations cancel out.
#   bench/http-parse/measure.sh [N]      (default 1000; needs valgrind)
set -euo pipefail
cd "$(dirname "$0")/../.."
n=${1:-1000}
build=(swift build -c release --scratch-path .build-rel --product HTTPParseBench)
"${build[@]}" >/dev/null
work=$(mktemp -d)
# valgrind 3.19 cannot read Swift 6.3's DWARF 5: measure a copy without debug information.
bin="$work/HTTPParseBench"
objcopy --strip-debug "$("${build[@]}" --show-bin-path)/HTTPParseBench" "$bin"
instructions() { # parser count
  valgrind --tool=callgrind --callgrind-out-file="$work/cg.$1.$2" "$bin" "$1" "$2" >/dev/null 2>"$work/cg.log"
  grep -E '^summary:' "$work/cg.$1.$2" | awk '{print $2}'
}
allocations() { # parser count
  valgrind --tool=memcheck --leak-check=no "$bin" "$1" "$2" 2>&1 >/dev/null | grep -Eo 'total heap usage: [0-9,]+ allocs' | grep -Eo '[0-9,]+' | tr -d ,
}
printf '%-8s %14s %12s\n' parser "instr/parse" "mallocs/parse"
for parser in parser llhttp nio channel; do
  i1=$(instructions "$parser" "$n"); i2=$(instructions "$parser" $((2 * n)))
  a1=$(allocations "$parser" "$n"); a2=$(allocations "$parser" $((2 * n)))
  awk -v p="$parser" -v i1="$i1" -v i2="$i2" -v a1="$a1" -v a2="$a2" -v n="$n" \
    'BEGIN { printf "%-8s %14.0f %12.2f\n", p, (i2 - i1) / n, (a2 - a1) / n }'
done
rm -rf "$work"
