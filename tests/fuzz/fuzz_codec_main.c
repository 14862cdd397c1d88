/* fuzz_codec_main.c: libFuzzer entry point for fuzz_codec (tests/fuzz/harness_codec.c); built by scripts/fuzz. */
#include "harness.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) { return fuzz_codec(data, size); }
