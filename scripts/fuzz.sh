#!/usr/bin/env bash
# Run every libFuzzer target of a fuzz build for a bounded time each.
#
#   scripts/fuzz.sh [BUILD_DIR [SECONDS [NAME_REGEX]]]
#
# BUILD_DIR (default build-fuzz, relative to the repository root) is a build
# configured with -DOW_FUZZ=ON
# (scripts/build.sh build-fuzz -DOW_FUZZ=ON -DCMAKE_C_COMPILER=clang ...).
# Every executable named *_fuzz in it runs for SECONDS (default
# $FUZZ_SECONDS_EACH, else 30), one after the other, on a copy of its seed
# corpus, the directory <dir>/fuzz-corpus/<name>/ of the source tree (the
# convention: a target without one is an error). NAME_REGEX picks targets
# (e.g. 'site|scenario'). Per target it prints the runs, the coverage
# reached and the result; it exits 1 if any target crashed, leaked, hit
# undefined behaviour, hung or had no corpus.
#
# What a run leaves, in BUILD_DIR/fuzz-out/<name>/: log (libFuzzer's output),
# corpus (the seeds plus what the run found) and crash-*/leak-*/timeout-*
# (the input that failed: reproduce with `BUILD_DIR/.../<name> FILE`).
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2

dir=${1:-build-fuzz}
secs=${2:-${FUZZ_SECONDS_EACH:-30}}
pick=${3:-.}
[ -d "$dir" ] || {
    echo "fuzz.sh: no build directory $dir (build it with -DOW_FUZZ=ON)" >&2
    exit 2
}
# UBSan only reports unless told to stop; a report is a failure here.
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}

mapfile -t targets < <(find "$dir" -type f -name '*_fuzz' -perm -u+x -not -path '*/fuzz-out/*' |
    sort)
[ ${#targets[@]} -gt 0 ] || {
    echo "fuzz.sh: no *_fuzz executable under $dir" >&2
    exit 2
}

failed=0
ran=0
printf '%-16s %10s %8s %8s %10s  %s\n' target runs cov ft corpus result
for exe in "${targets[@]}"; do
    name=$(basename "$exe")
    [[ $name =~ $pick ]] || continue
    ran=$((ran + 1))
    # Its corpus: the one source directory fuzz-corpus/<name>, outside builds.
    mapfile -t seeds < <(find . -path ./.git -prune -o -path "./$dir" -prune -o \
        -path './build*' -prune -o -type d -path "*/fuzz-corpus/$name" -print)
    if [ ${#seeds[@]} -ne 1 ]; then
        printf '%-16s %10s %8s %8s %10s  %s\n' "$name" - - - - \
            "FAILED: ${#seeds[@]} directories */fuzz-corpus/$name (want 1)"
        failed=$((failed + 1))
        continue
    fi
    out=$dir/fuzz-out/$name
    rm -rf "$out"
    mkdir -p "$out/corpus"
    cp -r "${seeds[0]}"/. "$out/corpus/"
    nseeds=$(find "$out/corpus" -type f | wc -l)
    # From inside out/, so relative paths an input names land there; stdin
    # is /dev/null so no input can make a target wait on the terminal.
    bin=$(realpath "$exe")
    (cd "$out" && "$bin" -max_total_time="$secs" -timeout=10 -print_final_stats=1 \
        -artifact_prefix=./ corpus) </dev/null >"$out/log" 2>&1
    rc=$?
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out/log" | tail -n 1)
    last=$(grep -E '^#[0-9]+.*cov: ' "$out/log" | tail -n 1)
    cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
    ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
    ncorp=$(find "$out/corpus" -type f | wc -l)
    if [ $rc -eq 0 ] && ! grep -q 'runtime error:' "$out/log"; then
        result="ok ($nseeds seeds -> $ncorp inputs, ${secs}s)"
    else
        art=$(cd "$out" && ls -d crash-* leak-* timeout-* oom-* slow-unit-* 2>/dev/null | head -n 1)
        result="FAILED rc=$rc ${art:+input $out/$art}"
        failed=$((failed + 1))
    fi
    printf '%-16s %10s %8s %8s %10s  %s\n' "$name" "${runs:-?}" "${cov:-?}" "${ft:-?}" \
        "$ncorp" "$result"
    if [[ $result == FAILED* ]]; then
        grep -E -m 1 -A 25 'ERROR: |runtime error:|WARNING: .*Sanitizer' "$out/log" | sed 's/^/    /'
    fi
done
[ $ran -gt 0 ] || {
    echo "fuzz.sh: no target matches '$pick'" >&2
    exit 2
}
if [ $failed -ne 0 ]; then
    echo "fuzz.sh: $failed of $ran targets failed (logs in $dir/fuzz-out/)"
    exit 1
fi
echo "fuzz.sh: $ran targets, no failure"
