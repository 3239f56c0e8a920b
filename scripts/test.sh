#!/usr/bin/env bash
# Every test: installs what is missing, builds with warnings as errors and
# runs the whole CTest suite (unit tests beside each module, multi-process
# tests in tests/); then again under AddressSanitizer+UBSan; then runs every
# fuzz target (scripts/fuzz.sh: each *_fuzz of build-fuzz on its seed corpus
# <dir>/fuzz-corpus/<name>/) for a bounded time; then checks the formatting and that the
# generated docs are current; then proves a fresh machine: an empty Debian 12
# container where only scripts/deps.sh installs anything builds and passes a
# smoke (tests/fresh/fresh_machine.sh); then the deployment: the docker compose
# stack built, started, each service killed in turn (tests/deploy/compose_test.sh).
# The last two install and start Docker (root or sudo).
# FUZZ_SECONDS_EACH (default 20) bounds each fuzz target; FRESH_TEST=0 skips the fresh
# machine, DEPLOY_TEST=0 the stack. At the end (on failure too) it prints the
# wall time of each phase.
set -euo pipefail
cd "$(dirname "$0")/.."

phases=()
phase_name=""
phase_t0=0
run_t0=$(date +%s)
phase() { # phase NAME: ends the running phase, starts NAME
  local now
  now=$(date +%s)
  [ -n "$phase_name" ] && phases+=("$(printf '%6ds  %s' $((now - phase_t0)) "$phase_name")")
  phase_name=$1
  phase_t0=$now
  [ -n "$1" ] && echo "== $1"
  return 0
}
report() {
  local rc=$? p
  [ -n "$phase_name" ] && [ $rc -ne 0 ] && phase_name="$phase_name (FAILED)"
  phase ""
  echo "== wall time per phase"
  for p in "${phases[@]}"; do echo "$p"; done
  printf '%6ds  total\n' $(($(date +%s) - run_t0))
  exit $rc
}
trap report EXIT

phase "dependencies (scripts/deps.sh --test)"
bash scripts/deps.sh --test

phase "build (gcc, -Wall -Wextra -Werror)"
bash scripts/build.sh build
phase "tests"
(cd build && ctest --output-on-failure --timeout 300)

phase "build under AddressSanitizer + UndefinedBehaviorSanitizer"
bash scripts/build.sh build-asan -DOW_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug
phase "tests under AddressSanitizer + UndefinedBehaviorSanitizer"
(cd build-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest --output-on-failure --timeout 600)

phase "fuzzing every *_fuzz target (${FUZZ_SECONDS_EACH:-20} s each)"
bash scripts/build.sh build-fuzz -DOW_FUZZ=ON -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Debug
bash scripts/fuzz.sh build-fuzz "${FUZZ_SECONDS_EACH:-20}"

phase "formatting matches .clang-format"
git ls-files '*.c' '*.h' | xargs clang-format --dry-run --Werror

phase "generated docs are current"
bash scripts/gen-docs.sh --check build

phase "fresh machine: an empty Debian 12 container, deps.sh, build, imports, smoke"
bash tests/fresh/fresh_machine.sh

if [ "${DEPLOY_TEST:-1}" != 0 ]; then
  phase "deployment: the docker compose stack, each service killed in turn"
  bash tests/deploy/compose_test.sh
fi
phase ""
echo "all checks passed"
