/* fuzz_config_main.c: libFuzzer entry point for fuzz_config (tests/fuzz/harness_config.c); built by scripts/fuzz. */
#include "harness.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) { return fuzz_config(data, size); }
