#!/usr/bin/env bash
# webd: dashboard of a 512-module gateway ready in headless Chromium (every module cell filled), target < 1 s; reference: a static page of 512 filled cells in the same browser.
# The stack (busd simulating etc/site-large.json, alarmd, webd over HTTPS on
# loopback) and the measurement are bench/webd_bench.py's.
# Usage: bench/webd_dashboard.sh [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
exec /usr/bin/python3 bench/webd_bench.py dashboard "${1:-build}"
