#!/usr/bin/env bash
# alarmd's alarm latency (reading published -> alarm event received) for the
# large example site (16 strings x 32 blocks) at RATE module readings/s:
# ow-bench-alarm plays gateway big1 in place of busd, with a block crossing the
# high voltage alarm every few cycles; in the same run a bare libzmq
# PUB->SUB->PUB->SUB relay is the reference for the two hops.
# CURVE=0 runs the links plain; the default is CURVE with keys made for the
# run (bench/curve.sh compares the two).
# Usage: bench/alarm_latency.sh [BUILD_DIR] [SECONDS] [RATE]
set -euo pipefail
cd "$(dirname "$0")/.."
B=${1:-build}
SECONDS_=${2:-10}
RATE=${3:-50000}
ALARMD=$B/services/alarmd/ohmwatch-alarmd
BENCH=$B/bench/ow-bench-alarm

for f in "$ALARMD" "$BENCH"; do
    if [ ! -x "$f" ]; then
        echo "alarm_latency: $f is missing: build it first (cmake --build $B)" >&2
        exit 1
    fi
done

tmp=$(mktemp -d)
alarmd=
cleanup() {
    if [ -n "$alarmd" ]; then
        kill -TERM "$alarmd" 2> /dev/null || true
        wait "$alarmd" 2> /dev/null || true
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT

# Private endpoints so a running demo is not disturbed; a fresh state file so
# nothing is restored; no voltage delay, so an alarm is raised by the very
# reading that crosses (that reading's publication is what the bench times).
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
export OHMWATCH_KEYS_DIR=$tmp/keys
"$B/cli/ohmwatch" keygen -d "$OHMWATCH_KEYS_DIR" > /dev/null
python3 - "$tmp" "$(port)" "$(port)" "$(port)" "$(port)" "$(port)" "${CURVE:-1}" << 'EOF'
import json, sys
tmp, gw_pub, gw_rep, a_pub, a_ctl, a_rep = sys.argv[1:7]
site = json.load(open("etc/site-large.json"))
g = site["gateways"][0]
g["publish"] = "tcp://127.0.0.1:" + gw_pub
g["replay"] = "tcp://127.0.0.1:" + gw_rep
g.setdefault("thresholds", {}).setdefault("voltage_v", {})["delay_s"] = 0
site.setdefault("services", {}).setdefault("alarmd", {}).update({
    "publish": "tcp://127.0.0.1:" + a_pub,
    "control": "tcp://127.0.0.1:" + a_ctl,
    "replay": "tcp://127.0.0.1:" + a_rep,
    "state_file": tmp + "/alarmd-state.json",
})
site["services"]["security"] = {"curve": sys.argv[7] != "0"}
json.dump(site, open(tmp + "/site.json", "w"), indent=2)
EOF

if ! "$ALARMD" -n -f "$tmp/site.json" > /dev/null; then
    echo "alarm_latency: alarmd refuses the bench site (above)" >&2
    exit 1
fi
"$ALARMD" -f "$tmp/site.json" 2> "$tmp/alarmd.log" &
alarmd=$!
sleep 0.5
if ! kill -0 "$alarmd" 2> /dev/null; then
    echo "alarm_latency: alarmd exited at once; its log:" >&2
    cat "$tmp/alarmd.log" >&2
    alarmd=
    exit 1
fi

if ! "$BENCH" "$tmp/site.json" "$SECONDS_" "$RATE" > "$tmp/result.txt" 2> "$tmp/bench.log"; then
    cat "$tmp/bench.log" >&2
    echo "alarm_latency: no result: alarmd is not functional yet (no voltage alarm for a block" \
         "at 16 V), or it failed; the last lines of its log:" >&2
    tail -n 20 "$tmp/alarmd.log" >&2
    exit 1
fi
kill -TERM "$alarmd"
wait "$alarmd" || true
alarmd=
cat "$tmp/result.txt"
