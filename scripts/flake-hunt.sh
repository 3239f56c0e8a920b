#!/usr/bin/env bash
# Runs every multi-process test (CTest label "integration") RUNS times under
# AddressSanitizer+UBSan while a busy loop keeps one core at 100%, the way a
# loaded CI machine or a substation server doing other work runs them, and
# prints per test the runs and failures; the output of each failed run is kept
# in BUILD/flakes/TEST.N.log. A test that fails even once has a race to fix
# (issue 13): fix the race, not the timeout.
#   scripts/flake-hunt.sh [RUNS] [BUILD] [REGEX]   default 5 build-asan (all)
set -uo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
build=${2:-build-asan}
regex=${3:-.}
[ -d "$build" ] || bash scripts/build.sh "$build" -DOW_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug
mkdir -p "$build/flakes"
# The load: one process that never sleeps (nice 0, as competing work would be).
sh -c 'while :; do :; done' &
busy=$!
trap 'kill $busy 2>/dev/null' EXIT
tests=$(cd "$build" && ctest -N -L integration -R "$regex" | sed -n 's/^ *Test *#[0-9]*: //p')
printf '%-24s %5s %8s %10s\n' test runs failures "worst s"
total_fail=0
for t in $tests; do
  fails=0
  worst=0
  for i in $(seq "$runs"); do
    s=$(date +%s)
    if ! (cd "$build" && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
      ctest --output-on-failure --timeout 600 -R "^$t\$") >"$build/flakes/$t.$i.log" 2>&1; then
      fails=$((fails + 1))
    else
      rm -f "$build/flakes/$t.$i.log"
    fi
    d=$(($(date +%s) - s))
    [ $d -gt $worst ] && worst=$d
  done
  total_fail=$((total_fail + fails))
  printf '%-24s %5d %8d %10d\n' "$t" "$runs" "$fails" "$worst"
done
[ $total_fail -eq 0 ]
