#!/usr/bin/env bash
# Poll cycle time of busd's field driver over loopback TCP, and the number of
# requests per cycle, next to a bare libmodbus client sending the same
# requests (bench/modbus_reads.c, fed by `ohmwatch-busd --plan`) in the same
# run, as a ratio:
#  - the G.BMS map, 512 modules (the most the map addresses) and 16 strings,
#    against ohmwatch-modbusd serving a simulated 512-module site;
#  - the example map etc/maps/sentry-style.json, 512 of its 520 cells (a
#    gateway holds at most 512) in 4 strings,
#    against the minimal libmodbus server (bench/modbus_loop.c).
# busd polls back to back (--no-wait); its cycle is request, decode and
# publish of every reading (cycle_us in the heartbeat), median of CYCLES.
# Usage: bench/field_cycle.sh [BUILD_DIR] [CYCLES]
set -euo pipefail
cd "$(dirname "$0")/.."
B=${1:-build}
N=${2:-300}
PY=/usr/bin/python3
tmp=$(mktemp -d)
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$tmp"' EXIT
# CURVE keys for the run, as a deployment has them (docs/security.md)
export OHMWATCH_KEYS_DIR=$tmp/keys
"$B/cli/ohmwatch" keygen -d "$OHMWATCH_KEYS_DIR" > /dev/null
port() { $PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

P1=$(port); P2=$(port)
$PY - "$tmp" "$P1" "$P2" <<'PY'
import json, socket, sys
d, p1, p2 = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
def ep():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close()
    return "tcp://127.0.0.1:%d" % p
def alarmd():
    return {"alarmd": {"publish": ep(), "control": ep(), "replay": ep(),
                       "state_file": d + "/alarmd-%s.json" % ep()[-5:]}}
a = json.load(open("etc/site-large.json"))
g = a["gateways"][0]
g.update({"publish": ep(), "replay": ep()})
a["services"] = alarmd()
a["services"]["modbusd"] = {"listen": "127.0.0.1:%d" % p1}
json.dump(a, open(d + "/a.json", "w"))
b = json.loads(json.dumps(a))
g = b["gateways"][0]
g.update({"id": "gbms", "publish": ep(), "replay": ep(), "source": "modbus-tcp",
          "ambient_sensor": False, "hydrogen_sensor": False,
          "modbus": {"host": "127.0.0.1", "port": p1}})
g.pop("sim", None)
b["services"] = alarmd()
json.dump(b, open(d + "/b.json", "w"))
c = json.loads(json.dumps(b))
g = c["gateways"][0]
g.update({"id": "cells", "publish": ep(), "replay": ep(), "module_type": "C40",
          "ambient_sensor": True, "aux_units": 4, "strings": [{"modules": 128}] * 4,
          "modbus": {"host": "127.0.0.1", "port": p2,
                     "map": __import__("os").path.abspath("etc/maps/sentry-style.json")}})
g["thresholds"] = {}
c["services"] = alarmd()
json.dump(c, open(d + "/c.json", "w"))
PY

# Stack A: two cycles of the simulator fill modbusd's image, then busd idles.
"$B/services/modbusd/ohmwatch-modbusd" -f "$tmp/a.json" 2>"$tmp/modbusd.log" & pids+=($!)
"$B/services/busd/ohmwatch-busd" -f "$tmp/a.json" --cycles 2 --linger 600 2>"$tmp/busd-a.log" & pids+=($!)
"$B/bench/ow-bench-modbus-loop" "$P2" 0 2560 & pids+=($!)
sleep 4

# busd back to back for N cycles; the median cycle_us of its heartbeats and
# the requests of its last device message.
run() {
  local site=$1
  $PY - "$site" "$B" "$N" <<'PY'
import json, os, statistics, subprocess, sys, time, zmq, zmq.auth
site, B, N = sys.argv[1], sys.argv[2], int(sys.argv[3])
pub = json.load(open(site))["gateways"][0]["publish"]
keys = os.environ["OHMWATCH_KEYS_DIR"]
s = zmq.Context.instance().socket(zmq.SUB)
s.curve_publickey, s.curve_secretkey = zmq.auth.load_certificate(keys + "/private/cli.key_secret")
s.curve_serverkey = zmq.auth.load_certificate(keys + "/busd.key")[0]
s.setsockopt(zmq.SUBSCRIBE, b"hb/"); s.setsockopt(zmq.SUBSCRIBE, b"dev/")
s.setsockopt(zmq.RCVTIMEO, 20000)
s.connect(pub)
p = subprocess.Popen([B + "/services/busd/ohmwatch-busd", "-f", site, "--no-wait",
                      "--cycles", str(N + 1000)], stderr=subprocess.DEVNULL)
cyc, req, link, msgs = [], None, None, 0
try:
    while True:
        t, body = s.recv_multipart()
        m = json.loads(body)
        if m["kind"] == "device":
            req, link = m["cycle_requests"], m["link"]
        elif m["state"] == "running":
            cyc.append(m["cycle_us"])
        elif m["state"] == "stopping":
            break
finally:  # a failed run must not leave its busd polling for minutes
    if p.poll() is None:
        p.terminate()
    p.wait()
cyc = cyc[-N:]  # the first cycles run before the subscription is through
print(req, int(statistics.median(cyc)), len(cyc), link)
PY
}

report() {
  local what=$1 site=$2 port=$3
  read -r req busd_us n link < <(run "$site")
  "$B/services/busd/ohmwatch-busd" --plan -f "$site" > "$tmp/plan" 2>/dev/null
  ref_us=$("$B/bench/ow-bench-modbus-reads" "$port" 1 "$N" < "$tmp/plan")
  echo "$what"
  $PY -c "
req, busd, ref, n, link = $req, $busd_us, $ref_us, $n, '$link'
print('  %d requests/cycle (link %s); busd poll cycle %.2f ms (median of %d); bare libmodbus, same requests: %.2f ms; ratio %.2f' % (req, link, busd / 1000, n, ref / 1000, busd / ref))"
}

report "G.BMS map, 512 modules + 16 strings, ohmwatch-modbusd over loopback TCP:" "$tmp/b.json" "$P1"
report "example map (sentry-style.json), 512 cells + 4 strings, minimal libmodbus server over loopback TCP:" "$tmp/c.json" "$P2"
