#!/usr/bin/env bash
# test.sh: installs what is missing, builds with warnings as errors under ASan/UBSan, and runs
# every test (cmocka unit tests, black-box tests against the real daemon, headless chromium
# page tests) through ctest. Extra arguments go to ctest, e.g. ./scripts/test.sh -L unit
# --build-only (first argument): install and build, run nothing (scripts/flaky builds this way).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_ONLY=0
if [ "${1:-}" = --build-only ]; then BUILD_ONLY=1; shift; fi
./scripts/deps.sh --test
if [ -f tests/browser/package-lock.json ] && [ ! -d tests/browser/node_modules ] ||
   [ tests/browser/package-lock.json -nt tests/browser/node_modules ]; then
  (cd tests/browser && npm ci --no-audit --no-fund --loglevel=error)
fi
./scripts/build.sh release    # run.sh's build must stay warning-free too
./scripts/build.sh asan
[ "$BUILD_ONLY" = 1 ] && exit 0
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
cd build-asan
ctest --output-on-failure --no-tests=error -j2 "$@"
