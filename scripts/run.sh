#!/usr/bin/env bash
# run.sh: installs what is missing, builds, and starts the demo hall (embedded Redis,
# simulated GPIO). Extra arguments go to hallkeeper, e.g. ./scripts/run.sh --listen 127.0.0.1:9090
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/deps.sh
./scripts/build.sh release
exec ./build/hallkeeper --data ./data "$@"
