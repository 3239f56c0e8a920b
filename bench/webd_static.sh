#!/usr/bin/env bash
# webd: HTTPS requests/s of a static file (wrk) from webd and from nginx serving a file of the same size with the same certificate, same run (installs wrk with apt when missing).
# The stack (busd simulating etc/site-large.json, alarmd, webd over HTTPS on
# loopback) and the measurement are bench/webd_bench.py's.
# Usage: bench/webd_static.sh [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
exec /usr/bin/python3 bench/webd_bench.py static "${1:-build}"
