#!/usr/bin/env bash
# The demo: installs what is missing, builds, starts busd on the guide's
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
./build/services/busd/ohmwatch-busd -f "$SITE" -S "$SCENARIO" -s "$SPEED" 2> run/busd.log &
busd=$!
trap 'kill $busd 2>/dev/null; wait $busd 2>/dev/null || true' EXIT INT TERM
echo "busd started (pid $busd, log run/busd.log); readings on the sample site at ${SPEED}x"
if [ -n "${DEMO_SECONDS:-}" ] || [ ! -t 1 ]; then
  sleep "${DEMO_SECONDS:-3}"
  ./build/cli/ohmwatch -f "$SITE" status --once
else
  ./build/cli/ohmwatch -f "$SITE" status
fi
