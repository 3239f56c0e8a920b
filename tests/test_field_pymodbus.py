"""busd's field driver against a Modbus server nobody here wrote: a pymodbus
server holds (unit 1) a G.BMS register image of 16 strings and 512 modules
with known values, negative temperatures and currents among them; (unit 2)
an image without its GX_R_AUX registers, so that request gets exception 02;
(unit 3) a 520-cell image of another monitor for the example map
etc/maps/sentry-style.json (input registers, 32-bit, float, coils and
discrete inputs). One busd per unit; every decoded value is checked on the
wire (python zmq), and the exception is logged with its register range and
counted."""
import json
import os
import subprocess
import struct
import sys
import time

from owtest import *

PY = "/usr/bin/python3"
d = tmpdir()
port = free_port()

# ---- the register images ----
def gbms_image(nstrings, per_string, aux=True):
    r = {}
    n = nstrings * per_string
    r.update({1000: 0x0041, 1001: 0x0002, 1002: 0x0004, 1003: nstrings, 1004: n})
    for s in range(1, 17):
        base = 1010 + 5 * (s - 1) if s <= 10 else 2710 + 5 * (s - 11)
        for k in range(5):
            r[base + k] = 0
        r[base] = (-1000 + 150 * s) & 0xffff             # -85.0 .. +140.0 A
        r[base + 3] = s                                   # 0.s A AC
        if s <= 10:
            r[base + 1] = 1080 + s                        # 108.s V
            r[base + 2] = 12000 + s                       # 12.00s V
    for m in range(1, 513):
        base = 1060 + 5 * (m - 1) if m <= 330 else 2740 + 5 * (m - 331)
        r[base] = (30 + 7 * m) % 110                      # T = (x - 78) / 2: -39 .. +15.5
        r[base + 1] = 12000 + (37 * m) % 2000             # mV
        r[base + 2] = 300 + m                             # 0.01 mOhm
        r[base + 3] = {5: 0x0002, 7: 0x0040}.get(m, 0)    # 5: comm lost, 7: another flag
        r[base + 4] = m % 50                              # % equalizing
    for i in range(16):
        r[3650 + i] = 1 if i in (0, 5, 15) else 0
        r[3666 + i] = 1 if i in (1, 15) else 0
    if not aux:
        for a in range(3650, 3682):
            del r[a]
    return r


def sentry_image():
    ir = {0: 0x0101, 1: 4, 2: 520, 3: 0}
    f = struct.unpack(">HH", struct.pack(">f", -7.25))
    ir[4], ir[5] = f
    for a in range(6, 20):
        ir[a] = 0
    for s in range(1, 17):
        cur = (-2500 * s) & 0xffffffff                    # -25.00 A x s, low word first
        ir[100 + 4 * (s - 1)] = cur & 0xffff
        ir[101 + 4 * (s - 1)] = cur >> 16
        mv = 260000 + s                                   # 260.00s V
        ir[102 + 4 * (s - 1)] = mv & 0xffff
        ir[103 + 4 * (s - 1)] = mv >> 16
    for c in range(1, 521):
        b = 1000 + 3 * (c - 1)
        ir[b] = 2000 + c % 300 if c != 77 else 65535      # cell 77: not measured
        ir[b + 1] = 150 + c                               # uOhm
        ir[b + 2] = (-105 + c) & 0xffff                   # 0.1 degC: -10.4 .. +41.5
    di = {i: 1 if i in (2, 9) else 0 for i in range(16)}
    co = {i: 1 if i == 3 else 0 for i in range(16)}
    return ir, di, co


images = {"1": gbms_image(16, 32), "2": gbms_image(1, 9, aux=False)}
ir3, di3, co3 = sentry_image()
with open(os.path.join(d, "images.json"), "w") as f:
    json.dump({"gbms": images, "ir3": ir3, "di3": di3, "co3": co3}, f)

server = start([PY, "-c", r"""
import json, sys
from pymodbus.server import StartTcpServer
from pymodbus.datastore import ModbusSparseDataBlock, ModbusSlaveContext, ModbusServerContext
img = json.load(open(sys.argv[1]))
def blk(d):
    return ModbusSparseDataBlock({int(k): v for k, v in d.items()})
slaves = {}
for unit, regs in img["gbms"].items():
    b = blk(regs)
    slaves[int(unit)] = ModbusSlaveContext(hr=b, ir=b, zero_mode=True)
slaves[3] = ModbusSlaveContext(ir=blk(img["ir3"]), di=blk(img["di3"]), co=blk(img["co3"]),
                               hr=blk({"0": 0}), zero_mode=True)
StartTcpServer(context=ModbusServerContext(slaves=slaves, single=False),
               address=("127.0.0.1", int(sys.argv[2])))
""", os.path.join(d, "images.json"), str(port)], stderr=subprocess.DEVNULL)
check(wait_for(lambda: tcp_listening(port), 20), "pymodbus server listening")

# ---- the site: three field gateways ----
cfg = os.path.join(d, "site.json")
common = {"source": "modbus-tcp", "poll_ms": 300, "ambient_sensor": False,
          "hydrogen_sensor": False}
s = site(cfg, [
    dict(common, id="wm1", aux_units=4, strings=[{"modules": 32}] * 16,
         modbus={"host": "127.0.0.1", "port": port, "unit": 1}),
    dict(common, id="wm2", aux_units=4, strings=[{"modules": 9}],
         modbus={"host": "127.0.0.1", "port": port, "unit": 2}),
    dict(common, id="wm3", aux_units=4, module_type="C40", ambient_sensor=True,
         strings=[{"modules": 128}] * 4,  # 512, the most a gateway holds
         modbus={"host": "127.0.0.1", "port": port, "unit": 3,
                 "map": os.path.join(ROOT, "etc", "maps", "sentry-style.json")}),
])
for g in s["gateways"]:
    g["thresholds"]["string_voltage_v"] = {"low_alarm": 0, "low_warn": 1, "high_warn": 2000,
                                           "high_alarm": 2000}
with open(cfg, "w") as f:
    json.dump(s, f, indent=2)
for gw in ("wm1", "wm2", "wm3"):
    r = subprocess.run([BUSD, "-n", "-f", cfg, "-g", gw], capture_output=True, text=True)
    check(r.returncode == 0 and "configuration OK" in r.stdout, "-n %s: %s" % (gw, r.stderr))

listeners, procs = {}, {}
for g in s["gateways"]:
    listeners[g["id"]] = Listener(g["publish"])
    procs[g["id"]] = start([BUSD, "-f", cfg, "-g", g["id"]], stderr=subprocess.PIPE, text=True,
                           errors="replace")


def cycle(gw):
    """The messages of one complete poll cycle (between two heartbeats)."""
    def ready():
        return len(listeners[gw].kind("heartbeat")) >= 3
    wait_for(ready, 30)
    with listeners[gw].lock:
        msgs = list(listeners[gw].msgs)
    hb = [i for i, m in enumerate(msgs) if m["kind"] == "heartbeat"]
    return msgs[hb[-2] + 1:hb[-1] + 1] if len(hb) >= 2 else []


# ---- wm1: the whole G.BMS map, every value ----
c = cycle("wm1")
mods = {m["module"]: m for m in c if m["kind"] == "module"}
check(len(mods) == 512, "wm1: 512 module readings per cycle (%d)" % len(mods))
img = images["1"]
bad = []
for m in range(1, 513):
    base = 1060 + 5 * (m - 1) if m <= 330 else 2740 + 5 * (m - 331)
    got = mods.get(m)
    if got is None:
        bad.append((m, "missing"))
        continue
    if m == 5:
        if got["status"] != 1 or got["voltage_v"] is not None or got["temp_c"] is not None:
            bad.append((m, got))
        continue
    want = {"temp_c": (img[base] - 78) / 2, "voltage_v": img[base + 1] / 1000,
            "impedance_mohm": img[base + 2] / 100, "eq_pct": img[base + 4]}
    for k, v in want.items():
        if got[k] is None or abs(got[k] - v) > 1e-6:
            bad.append((m, k, got[k], v))
    st = (2 if img[base + 4] > 0 else 0) | 4  # first cycles: every impedance is new
    if got["status"] & 3 != st & 3:
        bad.append((m, "status", got["status"]))
    s_, b_ = (m - 1) // 32 + 1, (m - 1) % 32 + 1
    if got["string"] != s_ or got["block"] != b_:
        bad.append((m, "place", got["string"], got["block"]))
check(not bad, "wm1: every module value as the guide's formulas give: %r" % bad[:5])
check(any(x["temp_c"] is not None and x["temp_c"] < 0 for x in mods.values()),
      "wm1: negative temperatures decoded")
check(mods[330]["temp_c"] == (img[2705] - 78) / 2 and mods[331]["voltage_v"] == img[2741] / 1000
      and mods[512]["impedance_mohm"] == img[3647] / 100, "wm1: both module sections, up to 512")
strs = {x["string"]: x for x in c if x["kind"] == "string"}
bad = []
for s_ in range(1, 17):
    x = strs.get(s_)
    cur = (-1000 + 150 * s_) / 10
    if x is None or abs(x["current_a"] - cur) > 1e-6 or abs(x["ac_current_a"] - s_ / 10) > 1e-6:
        bad.append((s_, x))
        continue
    if s_ <= 10:
        ok = abs(x["sum_voltage_v"] - (1080 + s_) / 10) < 1e-6 and \
             abs(x["avg_voltage_v"] - (12000 + s_) / 1000) < 1e-6
    else:  # the guide has no string voltages for 11-16: from the blocks
        vs = [mods[m]["voltage_v"] for m in range((s_ - 1) * 32 + 1, s_ * 32 + 1)
              if mods[m]["voltage_v"] is not None]
        ok = abs(x["sum_voltage_v"] - sum(vs)) < 1e-6 and \
            abs(x["avg_voltage_v"] - sum(vs) / len(vs)) < 1e-6
    lost = 1 if s_ == 1 else 0
    if not ok or x["modules_lost"] != lost or x["modules"] != 32:
        bad.append((s_, x))
check(not bad, "wm1: every string value (negative currents, 11-16 summed): %r" % bad[:3])
aux = [x for x in c if x["kind"] == "aux"]
check(len(aux) == 1 and aux[0]["inputs"] == 0x8021 and aux[0]["outputs"] == 0x8002 and
      aux[0]["aux_units"] == 4, "wm1: GX_R_AUX inputs/outputs: %r" % aux)
dev = [x for x in c if x["kind"] == "device"]
check(len(dev) == 1 and dev[0]["link"] == "up" and dev[0]["general"] == 0x41 and
      dev[0]["battery"] == 2 and dev[0]["alarm"] == 4 and dev[0]["modules_reported"] == 512 and
      dev[0]["strings_reported"] == 16, "wm1: the device's own words: %r" %
      {k: v for k, v in (dev[0] if dev else {}).items() if k != "module_flags"})
check(dev and dev[0]["cycle_requests"] == 23, "wm1: 23 requests per cycle for 512 modules: %r" %
      (dev[0]["cycle_requests"] if dev else None))
check(dev and len(dev[0]["module_flags"]) == 512 and dev[0]["module_flags"][4] == 2 and
      dev[0]["module_flags"][6] == 0x40 and sum(dev[0]["module_flags"]) == 0x42,
      "wm1: module alarm words")
hb = [x for x in c if x["kind"] == "heartbeat"]
check(hb and hb[0]["source"] == "modbus-tcp" and hb[0]["modules_lost"] == 1 and
      hb[0]["modules"] == 512, "wm1: heartbeat: %r" % hb)

# ---- wm2: exception 02 on the GX_R_AUX request ----
c = cycle("wm2")
mods = [x for x in c if x["kind"] == "module"]
check(len(mods) == 9 and sum(1 for x in mods if x["status"] & 1) == 1,
      "wm2: modules still read (module 5 flagged lost)")
check(not [x for x in c if x["kind"] == "aux"], "wm2: no aux reading when its request failed")
dev = [x for x in c if x["kind"] == "device"]
check(dev and dev[0]["link"] == "partial" and dev[0]["exceptions"] >= 1 and
      dev[0]["timeouts"] == 0, "wm2: exception counted, link partial: %r" %
      {k: v for k, v in (dev[0] if dev else {}).items() if k != "module_flags"})
n_exc = dev[0]["exceptions"] if dev else 0
time.sleep(1.0)
dev2 = listeners["wm2"].kind("device")[-1]
check(dev2["exceptions"] > n_exc, "wm2: counted every cycle (%d -> %d)" %
      (n_exc, dev2["exceptions"]))

# ---- wm3: 512 of the 520 cells of another monitor (the site allows 512) ----
c = cycle("wm3")
mods = {m["module"]: m for m in c if m["kind"] == "module"}
check(len(mods) == 512, "wm3: 512 module readings (%d)" % len(mods))
bad = []
for cell in range(1, 513):
    x = mods.get(cell)
    b = 1000 + 3 * (cell - 1)
    if x is None:
        bad.append((cell, None))
        continue
    v = None if cell == 77 else ir3[b] / 1000
    if (x["voltage_v"] is None) != (v is None) or (v is not None and
                                                    abs(x["voltage_v"] - v) > 1e-9):
        bad.append((cell, "v", x["voltage_v"], v))
    if abs(x["impedance_mohm"] - ir3[b + 1] / 1000) > 1e-9:
        bad.append((cell, "r", x["impedance_mohm"]))
    t = ((ir3[b + 2] ^ 0x8000) - 0x8000) / 10
    if abs(x["temp_c"] - t) > 1e-9 or x["status"] & 1:
        bad.append((cell, "t", x["temp_c"], t))
check(not bad, "wm3: every cell value (u16, s16 negatives, 'not measured' as null): %r" % bad[:5])
strs = {x["string"]: x for x in c if x["kind"] == "string"}
check(len(strs) == 4 and all(abs(strs[k]["current_a"] + 25.0 * k) < 1e-9 and
                             abs(strs[k]["sum_voltage_v"] - (260000 + k) / 1000) < 1e-9
                             for k in strs), "wm3: s32/u32 low word first: %r" % strs.get(2))
aux = [x for x in c if x["kind"] == "aux"]
check(aux and aux[0]["ambient_c"] == -7.25 and aux[0]["inputs"] == (1 << 2 | 1 << 9) and
      aux[0]["outputs"] == 1 << 3, "wm3: float32 ambient, FC 02 inputs, FC 01 outputs: %r" % aux)
dev = [x for x in c if x["kind"] == "device"]
check(dev and dev[0]["link"] == "up" and dev[0]["general"] == 0x0101 and
      dev[0]["modules_reported"] == 520 and dev[0]["module_flags"] == [],
      "wm3: device words, no module flags in this map")

for gw, p in procs.items():
    check(stop(p) == 0, "%s: busd stops cleanly" % gw)
    listeners[gw].close()
err2 = procs["wm2"].stderr.read()
check("FC03 holding 3650-3681" in err2 and "exception response" in err2 and
      err2.count("3650-3681") == 1, "wm2: the exception logged once with its range: %r" %
      err2[-600:])
stop(server)
done("field_pymodbus")
