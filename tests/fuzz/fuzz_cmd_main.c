/* fuzz_cmd_main.c: libFuzzer entry point for fuzz_cmd (tests/fuzz/harness_cmd.c); built by scripts/fuzz. */
#include "harness.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) { return fuzz_cmd(data, size); }
