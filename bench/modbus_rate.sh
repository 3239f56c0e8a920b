#!/usr/bin/env bash
# Requests/s of 125-register reads (FC 03 at 1060) with 1 and 8 concurrent
# clients, in the same run, against: ohmwatch-modbusd (image of the sample
# site, no busd needed), a pymodbus 3 TCP server holding the same map, and the
# minimal libmodbus loop (bench/modbus_loop.c: one client at a time, as in
# libmodbus's examples, so its 8-client figure is what one client gets).
# Clients are processes with raw sockets (a pymodbus client would measure
# itself). Usage: bench/modbus_rate.sh [BUILD_DIR] [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
B=${1:-build}
T=${2:-3}
PY=/usr/bin/python3
tmp=$(mktemp -d)
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$tmp"' EXIT
# CURVE keys for the run, as a deployment has them (docs/security.md)
export OHMWATCH_KEYS_DIR=$tmp/keys
"$B/cli/ohmwatch" keygen -d "$OHMWATCH_KEYS_DIR" > /dev/null
port() { $PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

P1=$(port); P2=$(port); P3=$(port)
$PY - "$tmp/site.json" "$P1" <<'PY'
import json, sys
s = json.load(open("etc/site-sample.json"))
s.setdefault("services", {})["modbusd"] = {"listen": "127.0.0.1:%s" % sys.argv[2]}
json.dump(s, open(sys.argv[1], "w"))
PY
"$B/services/modbusd/ohmwatch-modbusd" -f "$tmp/site.json" 2>"$tmp/modbusd.log" & pids+=($!)
"$B/bench/ow-bench-modbus-loop" "$P3" & pids+=($!)
$PY - "$P2" <<'PY' 2>/dev/null & pids+=($!)
import sys
from pymodbus.server import StartTcpServer
from pymodbus.datastore import ModbusSequentialDataBlock, ModbusSlaveContext, ModbusServerContext
blk = ModbusSequentialDataBlock(1000, [0] * 2682)
ctx = ModbusServerContext(slaves=ModbusSlaveContext(hr=blk, ir=blk, zero_mode=True), single=True)
StartTcpServer(context=ctx, address=("127.0.0.1", int(sys.argv[1])))
PY
sleep 3

$PY - "$T" "modbusd:$P1" "pymodbus:$P2" "libmodbus-loop:$P3" <<'PY'
import multiprocessing as mp, socket, struct, sys, time
T = float(sys.argv[1])

def client(port, q):
    n = 0
    try:
        s = socket.create_connection(("127.0.0.1", port), 2)
        s.settimeout(2)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        req = struct.pack(">HHHBBHH", 1, 0, 6, 1, 3, 1060, 125)
        end = time.time() + T
        while time.time() < end:
            s.sendall(req)
            got = 0
            while got < 259:
                b = s.recv(4096)
                if not b:
                    raise OSError("closed")
                got += len(b)
            n += 1
    except OSError:
        pass
    q.put(n)

for target in sys.argv[2:]:
    name, port = target.split(":")
    for k in (1, 8):
        q = mp.Queue()
        ps = [mp.Process(target=client, args=(int(port), q)) for _ in range(k)]
        for p in ps: p.start()
        for p in ps: p.join()
        tot = sum(q.get() for _ in ps)
        print("%-15s %d client(s): %8.0f requests/s (125 registers)" % (name, k, tot / T))
PY
