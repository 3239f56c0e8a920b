#!/usr/bin/env bash
# The demo: installs what is missing, builds, starts busd, alarmd and the
# historian (with a private PostgreSQL cluster) on the guide's
# sample site (2 strings x 9 FIAMM 12SLA50L blocks) with the demo scenario at
# 60x time, and shows the live dashboard. Ctrl-C stops everything.
# DEMO_SECONDS=N runs non-interactively for N seconds and prints one snapshot.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh --demo
bash scripts/build.sh build
mkdir -p run
# CURVE keys for the demo's processes (docs/security.md), made once.
export OHMWATCH_KEYS_DIR=${OHMWATCH_KEYS_DIR:-$PWD/run/keys}
./build/cli/ohmwatch keygen -d "$OHMWATCH_KEYS_DIR" >/dev/null
SITE=${SITE:-etc/site-sample.json}
SCENARIO=${SCENARIO:-etc/scenarios/demo.json}
SPEED=${SPEED:-60}
# History in a private PostgreSQL cluster, unless a database is given. It
# lives under /tmp: as root the cluster runs as "postgres", which must be able
# to reach it whatever the permissions of the checkout's parents.
PGDIR=${PGDIR:-/tmp/ohmwatch-demo-pg}
if [ -z "${OHMWATCH_PG_DSN:-}" ]; then
  OHMWATCH_PG_DSN=$(bash scripts/pg.sh start "$PGDIR" "${PGPORT:-55432}")
  export OHMWATCH_PG_DSN
  stop_pg=1
fi
./build/services/historian/ohmwatch-historian -f "$SITE" 2> run/historian.log &
historian=$!
./build/services/alarmd/ohmwatch-alarmd -f "$SITE" 2> run/alarmd.log &
alarmd=$!
./build/services/busd/ohmwatch-busd -f "$SITE" -S "$SCENARIO" -s "$SPEED" 2> run/busd.log &
busd=$!
cleanup() {
  kill "$busd" "$alarmd" "$historian" 2>/dev/null || true
  wait "$busd" "$alarmd" "$historian" 2>/dev/null || true
  [ "${stop_pg:-0}" = 1 ] && bash scripts/pg.sh stop "$PGDIR"
}
trap cleanup EXIT INT TERM
echo "busd, alarmd and the historian started (logs in run/); history in PostgreSQL:"
echo "  $OHMWATCH_PG_DSN"
echo "the sample site at ${SPEED}x time. In another terminal:"
echo "  OHMWATCH_KEYS_DIR=$OHMWATCH_KEYS_DIR build/cli/ohmwatch alarms"
if [ -n "${DEMO_SECONDS:-}" ] || [ ! -t 1 ]; then
  sleep "${DEMO_SECONDS:-3}"
  ./build/cli/ohmwatch -f "$SITE" status --once
else
  ./build/cli/ohmwatch -f "$SITE" status
fi
