#!/usr/bin/env bash
# alarmd's control throughput and latency: PEERS concurrent DEALER clients,
# each asking again as soon as it has its answer (get and snapshot, in
# turn), against a running alarmd fed by a simulated busd. In the same run,
# the same crowd against a bare pyzmq ROUTER that answers every request with
# a canned reply of the same size (one frame for get, the snapshot's frames
# for snapshot): the floor of the Python client and libzmq, the reference.
# Both figures are bounded by the one-threaded Python client; alarmd near the
# reference means its own work per request is small beside the client's.
# Usage: bench/control_latency.sh [BUILD_DIR] [PEERS] [PER_PEER]
set -euo pipefail
cd "$(dirname "$0")/.."
B=$(cd "${1:-build}" && pwd)
PEERS=${2:-50}
PER=${3:-40}
OW_BUILD=$B PYTHONPATH=tests exec /usr/bin/python3 - "$PEERS" "$PER" <<'PY'
import os, subprocess, sys, threading
import zmq
from owtest import *
from test_control_load import crowd, pct

peers, per = int(sys.argv[1]), int(sys.argv[2])


def report(what, lat, wall):
    print("%-28s %5d requests, %3d peers: %6.0f req/s, p50 %6.2f ms, p99 %6.2f ms" %
          (what, len(lat), peers, len(lat) / wall, pct(lat, 0.5) * 1e3, pct(lat, 0.99) * 1e3))


d = tmpdir()
cfg = os.path.join(d, "site.json")
s = site_with_alarmd(cfg, d, [{"id": "wm1"}])
A = s["services"]["alarmd"]
busd = start([BUSD, "-f", cfg, "-s", "10"], stderr=subprocess.DEVNULL)
alarmd = start([ALARMD, "-f", cfg], stderr=subprocess.DEVNULL)
if not wait_for(lambda: snapshot_modules(A["control"]) == 18, 15):
    sys.exit("alarmd did not come up with the gateway's readings")
snap = ctl_call(A["control"], control("snapshot"))[1]
report("alarmd (get + snapshot):", *crowd(A["control"], peers, per, 120))

# Reference: a ROUTER that answers at once with an answer of alarmd's size.
ep = "tcp://127.0.0.1:%d" % free_port()
ctx = zmq.Context.instance()
r = curve_server(ctx.socket(zmq.ROUTER), "alarmd")  # CURVE too, as alarmd's is
r.bind(ep)
head = json.dumps({"v": 1, "kind": "reply", "ok": True, "value": 14.1, "req": "t1"}).encode()
frames = []
for m in snap:
    frames += [b"topic/of/a/reading", json.dumps(m).encode()]
stop_echo = False


def echo():
    while not stop_echo:
        if r.poll(100):
            f = r.recv_multipart()
            r.send_multipart([f[0], head] + (frames if b'"snapshot"' in f[-1] else []))


t = threading.Thread(target=echo, daemon=True)
t.start()
report("reference (pyzmq ROUTER):", *crowd(ep, peers, per, 120))
stop_echo = True
t.join()
stop(alarmd)
stop(busd)
PY
