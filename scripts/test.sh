#!/usr/bin/env bash
# Every test: installs what is missing, builds with warnings as errors and
# runs the whole CTest suite (unit tests beside each module, multi-process
# tests in tests/); then again under AddressSanitizer+UBSan; then fuzzes the
# wire decoder for a bounded time; then checks the generated docs are current;
# then the deployment: the docker compose stack built, started, each service
# killed in turn (tests/deploy/compose_test.sh; installs and starts Docker).
# FUZZ_SECONDS (default 60) bounds the fuzzing; DEPLOY_TEST=0 skips the stack.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh --test

echo "== build (gcc, -Wall -Wextra -Werror)"
bash scripts/build.sh build
echo "== tests"
(cd build && ctest --output-on-failure --timeout 300)

echo "== build and tests under AddressSanitizer + UndefinedBehaviorSanitizer"
bash scripts/build.sh build-asan -DOW_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug
(cd build-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest --output-on-failure --timeout 600)

echo "== fuzzing the wire decoder (${FUZZ_SECONDS:-60} s)"
bash scripts/build.sh build-fuzz -DOW_FUZZ=ON -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Debug
corpus=$(mktemp -d)
cp proto/fuzz-corpus/* "$corpus"/
./build-fuzz/proto/proto_fuzz -max_total_time="${FUZZ_SECONDS:-60}" -max_len=4096 \
  -print_final_stats=1 "$corpus" 2>&1 | tail -n 12
rm -rf "$corpus"

echo "== formatting matches .clang-format"
git ls-files '*.c' '*.h' | xargs clang-format --dry-run --Werror

echo "== generated docs are current"
bash scripts/gen-docs.sh --check build

if [ "${DEPLOY_TEST:-1}" != 0 ]; then
  echo "== deployment: the docker compose stack, each service killed in turn"
  bash tests/deploy/compose_test.sh
fi
echo "all checks passed"
