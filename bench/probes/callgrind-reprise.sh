# Sourced by the callgrind probes (instructions-per-hit.sh, instructions-per-miss.sh) before
# common.sh: Reprise runs under valgrind's callgrind, from a copy made with
# `objcopy --strip-debug` (valgrind 3.19 cannot read Swift 6.3's DWARF 5), with
# bench/lib/valgrind-sigsuspend.c preloaded (valgrind dies when Swift's async main parks in
# sigsuspend). Sets `stripped` (the copy's directory, where the dumps go: callgrind.PID.N),
# BIN_DIR, REPRISE_WRAPPER and START_SECONDS (Reprise starts ~50x slower).
# Needs `probe` (the caller's name, for messages).
for tool in valgrind callgrind_control objcopy cc; do
    command -v "$tool" >/dev/null || { echo "$probe: $tool is missing" >&2; exit 2; }
done
source_bin=${BIN_DIR:-.build-bench/release}
stripped=$(mktemp -d)
cp "$source_bin/reprise" "$stripped/reprise"
objcopy --strip-debug "$stripped/reprise"
ln -s "$(cd "$source_bin" && pwd)/reprise-mock-upstream" "$stripped/reprise-mock-upstream"
cc -shared -fPIC -O2 -o "$stripped/libvalgrind-sigsuspend.so" bench/lib/valgrind-sigsuspend.c
export BIN_DIR=$stripped
valgrind=(valgrind --tool=callgrind --dump-instr=no "--callgrind-out-file=$stripped/callgrind.%p")
REPRISE_WRAPPER="env LD_PRELOAD=$stripped/libvalgrind-sigsuspend.so ${valgrind[*]}"
START_SECONDS=120
