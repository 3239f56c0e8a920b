#!/usr/bin/env bash
# Configure and build into a directory (default build/). Extra arguments go to
# cmake's configure step, e.g. scripts/build.sh build-asan -DOW_SANITIZE=ON.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-build}
shift || true
cmake -S . -B "$dir" -DOW_WERROR=ON "$@" >/dev/null
cmake --build "$dir" -j"$(nproc)" -- -s
