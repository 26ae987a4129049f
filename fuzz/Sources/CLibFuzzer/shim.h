#ifndef REPRISE_CLIBFUZZER_SHIM_H
#define REPRISE_CLIBFUZZER_SHIM_H
// libFuzzer's driver as a library call (compiler-rt's FuzzerInterface.h; linked by
// -sanitize=fuzzer). SwiftPM renames an executable's `main` and points the linker's `main` at
// it, so libFuzzer's own `main` is never linked: ours runs the driver instead.
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*UserCb)(const uint8_t *Data, size_t Size));
#endif
