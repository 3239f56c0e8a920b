#!/usr/bin/env bash
# What CURVE costs (docs/security.md): busd's publish rate (bench/busd_rate.sh)
# and alarmd's alarm latency (bench/alarm_latency.sh) with CURVE on and with
# plain TCP, one after the other in the same run, on the same machine state.
# The real load of a full webmanager is 512 module readings per second (one
# poll a second); RATE is far above it, to show where each mode saturates.
# Usage: bench/curve.sh [BUILD_DIR] [CYCLES] [SECONDS] [RATE]
set -euo pipefail
cd "$(dirname "$0")/.."
B=${1:-build}
CYCLES=${2:-300}
SECS=${3:-8}
RATE=${4:-10000}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for c in 1 0; do
  CURVE=$c bash bench/busd_rate.sh "$B" "$CYCLES" 2>/dev/null >"$tmp/rate$c"
  CURVE=$c bash bench/alarm_latency.sh "$B" "$SECS" "$RATE" 2>/dev/null >"$tmp/lat$c"
done
rate() { sed -n 's/.*bytes, \([0-9]*\) msg\/s received.*/\1/p' "$1"; }
p() { sed -n "s/.*alarm received, us: p50 \([0-9]*\).*p99 \([0-9]*\).*/\\$2/p" "$1"; }
printf '%-44s %12s %12s\n' "" "CURVE" "plain TCP"
printf '%-44s %12s %12s\n' "busd publish rate, large site (msg/s)" "$(rate "$tmp/rate1")" "$(rate "$tmp/rate0")"
printf '%-44s %12s %12s\n' "alarmd latency at $RATE readings/s, p50 (us)" "$(p "$tmp/lat1" 1)" "$(p "$tmp/lat0" 1)"
printf '%-44s %12s %12s\n' "alarmd latency at $RATE readings/s, p99 (us)" "$(p "$tmp/lat1" 2)" "$(p "$tmp/lat0" 2)"
grep -h "trend" "$tmp/lat1" | sed 's/^ */CURVE: /'
grep -h "trend" "$tmp/lat0" | sed 's/^ */plain: /'
grep -h "raw libzmq" "$tmp/rate0" | sed 's/^/reference: /'
