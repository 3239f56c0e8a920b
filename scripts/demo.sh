#!/usr/bin/env bash
# The demo: installs what is missing, builds, starts busd and alarmd on the guide's
# sample site (2 strings x 9 FIAMM 12SLA50L blocks) with the demo scenario at
# 60x time, and shows the live dashboard. Ctrl-C stops everything.
# DEMO_SECONDS=N runs non-interactively for N seconds and prints one snapshot.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh --demo
bash scripts/build.sh build
mkdir -p run
SITE=${SITE:-etc/site-sample.json}
SCENARIO=${SCENARIO:-etc/scenarios/demo.json}
SPEED=${SPEED:-60}
./build/services/alarmd/ohmwatch-alarmd -f "$SITE" 2> run/alarmd.log &
alarmd=$!
./build/services/busd/ohmwatch-busd -f "$SITE" -S "$SCENARIO" -s "$SPEED" 2> run/busd.log &
busd=$!
trap 'kill $busd $alarmd 2>/dev/null; wait $busd $alarmd 2>/dev/null || true' EXIT INT TERM
echo "busd (pid $busd, log run/busd.log) and alarmd (pid $alarmd, log run/alarmd.log) started;"
echo "the sample site at ${SPEED}x time. In another terminal: build/cli/ohmwatch alarms"
if [ -n "${DEMO_SECONDS:-}" ] || [ ! -t 1 ]; then
  sleep "${DEMO_SECONDS:-3}"
  ./build/cli/ohmwatch -f "$SITE" status --once
else
  ./build/cli/ohmwatch -f "$SITE" status
fi
