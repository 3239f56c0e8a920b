#!/usr/bin/env bash
# busd's publish rate for the large example site (16 strings, 512 modules),
# polling back-to-back, as received by a subscriber over loopback TCP; and in
# the same run a bare libzmq PUB/SUB of same-sized messages as the reference.
# CURVE=0 runs the links plain (services.security.curve false); the default
# is CURVE with keys made for the run (bench/curve.sh compares the two).
# Usage: bench/busd_rate.sh [BUILD_DIR] [CYCLES]
set -euo pipefail
cd "$(dirname "$0")/.."
B=${1:-build}
CYCLES=${2:-400}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Private endpoints so a running demo is not disturbed.
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
P1=$(port); P2=$(port)
sed -e "s#tcp://127.0.0.1:7721#tcp://127.0.0.1:$P1#" -e "s#tcp://127.0.0.1:7722#tcp://127.0.0.1:$P2#" \
    etc/site-large.json > "$tmp/site.json"
export OHMWATCH_KEYS_DIR=$tmp/keys
"$B/cli/ohmwatch" keygen -d "$OHMWATCH_KEYS_DIR" > /dev/null
python3 - "$tmp/site.json" "${CURVE:-1}" << 'EOF2'
import json, sys
s = json.load(open(sys.argv[1]))
s.setdefault("services", {})["security"] = {"curve": sys.argv[2] != "0"}
json.dump(s, open(sys.argv[1], "w"))
EOF2

"$B/bench/ow-bench-zmq" sink "tcp://127.0.0.1:$P1" 2000 "$tmp/site.json" > "$tmp/sink.txt" &
sink=$!
sleep 0.5
"$B/services/busd/ohmwatch-busd" -f "$tmp/site.json" --no-wait --cycles "$CYCLES" 2> "$tmp/busd.log"
wait $sink
# shellcheck disable=SC2046
set -- $(cat "$tmp/sink.txt")
busd_n=$2; busd_mean=$5; busd_rate=$7

"$B/bench/ow-bench-zmq" raw "$busd_n" 16 "$busd_mean" > "$tmp/raw.txt"
set -- $(cat "$tmp/raw.txt")
raw_rate=${10}

echo "busd large site ($CYCLES poll cycles of 512 modules, no deadlines, CURVE=${CURVE:-1}): $busd_n messages," \
     "mean body $busd_mean bytes, $busd_rate msg/s received"
echo "raw libzmq PUB/SUB, same count and size: $raw_rate msg/s"
python3 -c "print('ratio busd/raw: %.2f' % ($busd_rate / $raw_rate))"
