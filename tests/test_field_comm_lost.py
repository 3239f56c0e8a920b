"""A field device disappears and comes back. busd polls a pymodbus server
holding a small G.BMS image; the server is killed (connection refused), then
replaced by one that accepts and never answers (timeouts), then by one that
answers every request with a reply one register short (malformed: counted
and logged with the register range, not taken for a timeout), then comes
back with other values. In between every module is published as not
answering with null values (never a stale number), heartbeats keep their period,
reconnects back off, alarmd raises communication lost for every module and
clears it when the device answers again, and the first readings after are
the new values."""
import json
import os
import signal
import socket
import subprocess
import threading
import time

from owtest import *

PY = "/usr/bin/python3"
d = tmpdir()
port = free_port()

SERVER = r"""
import sys
from pymodbus.server import StartTcpServer
from pymodbus.datastore import ModbusSparseDataBlock, ModbusSlaveContext, ModbusServerContext
base = int(sys.argv[2])
r = {a: 0 for a in list(range(1000, 1005)) + list(range(1010, 1105))
     + list(range(3650, 3670))}
r.update({1003: 1, 1004: 9})
for m in range(1, 10):
    b = 1060 + 5 * (m - 1)
    r[b], r[b + 1], r[b + 2] = 100, base + m, 450
blk = ModbusSparseDataBlock(r)
StartTcpServer(context=ModbusServerContext(slaves=ModbusSlaveContext(hr=blk, ir=blk,
               zero_mode=True), single=True), address=("127.0.0.1", int(sys.argv[1])))
"""


def modbus_server(base):
    p = start([PY, "-c", SERVER, str(port), str(base)], stderr=subprocess.DEVNULL)
    check(wait_for(lambda: tcp_listening(port), 20), "pymodbus server (base %d) listening" % base)
    return p


cfg = os.path.join(d, "site.json")
s = site_with_alarmd(cfg, d, [{"id": "wm1", "source": "modbus-tcp", "poll_ms": 200,
                               "ambient_sensor": False, "hydrogen_sensor": False,
                               "current_sensor": False, "strings": [{"modules": 9}],
                               "modbus": {"host": "127.0.0.1", "port": port, "timeout_ms": 150,
                                          "retries": 1, "backoff_max_ms": 800}}])
G = s["gateways"][0]
srv = modbus_server(12500)
L = Listener(G["publish"])
AL = Listener(s["services"]["alarmd"]["publish"])
alarmd = start([ALARMD, "-f", cfg])
busd = start([BUSD, "-f", cfg], stderr=subprocess.PIPE, text=True, errors="replace")


def mods():
    return L.kind("module")


check(wait_for(lambda: len([m for m in mods() if m["status"] == 4 or m["status"] == 0]) >= 27,
               20), "readings from the device")
time.sleep(1.0)

# ---- the device disappears: connection refused ----
t_kill = time.time()
srv.send_signal(signal.SIGKILL)
srv.wait()
check(wait_for(lambda: len([a for a in AL.alarms("raise") if a["type"] == 1]) >= 9, 15),
      "alarmd raises communication lost for all 9 modules")
hb_before = len(L.kind("heartbeat"))
time.sleep(2.0)
hb_down = L.kind("heartbeat")[hb_before:]
check(8 <= len(hb_down) <= 12 and all(h["modules_lost"] == 9 for h in hb_down),
      "heartbeats every 200 ms while the device is away, all modules lost: %d" % len(hb_down))
devs = L.kind("device")
check(devs[-1]["link"] == "down", "device link down")
tried = [x["cycle_requests"] for x in devs[-10:]]
check(tried.count(0) >= 6, "reconnects back off (requests per cycle: %r)" % tried)

# ---- then something that accepts and never answers: timeouts ----
hang = socket.socket()
hang.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
hang.bind(("127.0.0.1", port))
hang.listen(8)
held, stop_hang = [], threading.Event()


def accept():
    hang.settimeout(0.1)
    while not stop_hang.is_set():
        try:
            c, _ = hang.accept()
            held.append(c)
        except OSError:
            pass


th = threading.Thread(target=accept, daemon=True)
th.start()
t0 = devs[-1]["timeouts"]
check(wait_for(lambda: L.kind("device")[-1]["timeouts"] >= t0 + 2, 10),
      "a device that does not answer: timeouts counted")
time.sleep(1.0)
hb = L.kind("heartbeat")
gaps = [(b["ts_us"] - a["ts_us"]) / 1e3 for a, b in zip(hb[-6:], hb[-5:])]
check(all(g < 200 + 2 * 150 + 100 for g in gaps), "the poll loop keeps going (gaps ms %r)" % gaps)
stop_hang.set()
th.join()

# ---- then something that answers, wrongly: one register short ----
# Same listening socket, so busd never finds the port closed in between.
stop_bad = threading.Event()


def answer_short(c):
    c.settimeout(0.1)
    buf = b""
    while not stop_bad.is_set():
        try:
            data = c.recv(512)
        except socket.timeout:
            continue
        except OSError:
            break
        if not data:
            break
        buf += data
        while len(buf) >= 12:  # MBAP (7) + FC 03/04 request (5)
            req, buf = buf[:12], buf[12:]
            count = int.from_bytes(req[10:12], "big")
            pdu = bytes([req[7], 2 * (count - 1)]) + b"\0\0" * (count - 1)
            c.sendall(req[:4] + (len(pdu) + 1).to_bytes(2, "big") + req[6:7] + pdu)
    c.close()


def serve_bad():
    while not stop_bad.is_set():
        try:
            c, _ = hang.accept()
        except OSError:
            continue
        threading.Thread(target=answer_short, args=(c,), daemon=True).start()


th = threading.Thread(target=serve_bad, daemon=True)
th.start()
for c in held:
    c.close()
d0 = L.kind("device")[-1]
check(wait_for(lambda: L.kind("device")[-1]["malformed"] >= d0["malformed"] + 4, 10),
      "replies one register short: counted as malformed")
time.sleep(0.5)
d1 = L.kind("device")[-1]
check(d1["link"] == "down" and d1["timeouts"] == L.kind("device")[-2]["timeouts"] and
      d1["cycle_requests"] == 3 * 2 and all(m["status"] & 1 for m in mods()[-9:]),
      "malformed replies: all 3 requests sent and retried, none a timeout, modules lost: %r" %
      {k: v for k, v in d1.items() if k != "module_flags"})
stop_bad.set()
th.join()
hang.close()

# ---- the device comes back, with other values ----
t_back = time.time()
srv = modbus_server(13000)
check(wait_for(lambda: mods()[-1]["status"] & 1 == 0, 10), "readings again after the outage")
t_seen = time.time()
check(t_seen - t_back < 0.8 + 0.2 + 1.5, "recovered within the backoff (%.2f s)" %
      (t_seen - t_back))
check(wait_for(lambda: len([a for a in AL.alarms("clear") if a["type"] == 1]) >= 9, 10),
      "alarmd clears communication lost for all 9 modules")
time.sleep(0.5)

ms = mods()
first_lost = next(i for i, m in enumerate(ms) if m["status"] & 1)
first_back = next(i for i, m in enumerate(ms) if i > first_lost and not m["status"] & 1)
between = ms[first_lost:first_back]
check(between and all(m["status"] & 1 and m["voltage_v"] is None and m["temp_c"] is None and
                      m["impedance_mohm"] is None for m in between),
      "while away: every module not answering, values null (%d readings)" % len(between))
# The cycle in flight when the server died may end lost half-way; a whole
# cycle later everything is lost until the device is back.
after = ms[first_back:]
check(after and all(m["voltage_v"] is not None and m["voltage_v"] > 13.0 for m in after),
      "after: only the new image's values, nothing stale: %r" %
      [m["voltage_v"] for m in after if m["voltage_v"] is None or m["voltage_v"] <= 13.0][:5])
check(L.kind("device")[-1]["link"] == "up", "device link up again")

check(stop(busd) == 0, "busd stops cleanly")
err = busd.stderr.read()
check("communication lost" in err and "communication restored" in err,
      "outage and recovery logged: %r" % err[-800:])
check("FC03 holding 1000-1004 (5): Invalid data" in err and
      "FC03 holding 1000-1004 answered again" in err,
      "malformed replies logged with the register range, and the recovery: %r" % err[-800:])
# Refused, timed out, reset...: a line when the cause changes, not one per
# cycle (there were dozens).
check(err.count("not answering") <= 5, "the outage is logged per cause, not per cycle: %d" %
      err.count("not answering"))
stop(alarmd)
stop(srv)
L.close()
AL.close()
done("field_comm_lost")
