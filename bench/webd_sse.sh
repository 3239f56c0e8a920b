#!/usr/bin/env bash
# webd: 50 live SSE clients on a 512-module gateway at 1 poll/s for 30 s: webd's CPU % of one core (target < 10 %); reference: webd with no client and busd, same run.
# The stack (busd simulating etc/site-large.json, alarmd, webd over HTTPS on
# loopback) and the measurement are bench/webd_bench.py's.
# Usage: bench/webd_sse.sh [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
exec /usr/bin/python3 bench/webd_bench.py sse "${1:-build}"
