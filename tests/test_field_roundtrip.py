"""Round trip: stack A (the simulator in the middle of a discharge with a lost
module, alarmd, modbusd) serves its G.BMS map over Modbus TCP and, on a socat
pty pair, Modbus RTU; busd B polls it over each; B's readings equal A's
last cycle within the registers' resolution, B's device words are A's
flag words, and once busd A has stopped (gone quiet), B reads A's modules
as not answering rather than A's last values."""
import json
import math
import os
import subprocess
import time

from owtest import *

d = tmpdir()
socat, pa, pb = pty_pair(d)

# ---- stack A ----
cfg_a = os.path.join(d, "a.json")
sa = site_with_alarmd(cfg_a, d, [{"id": "wm1"}])
port = free_port()
sa["services"]["modbusd"] = {"listen": "127.0.0.1:%d" % port,
                             "rtu": {"device": pa, "baud": 115200, "parity": "E"}}
with open(cfg_a, "w") as f:
    json.dump(sa, f, indent=2)
GA = sa["gateways"][0]
alarmd = start([ALARMD, "-f", cfg_a])
LA = Listener(GA["publish"])
AL = Listener(sa["services"]["alarmd"]["publish"])
mb = start([MODBUSD, "-f", cfg_a])
check(wait_for(lambda: tcp_listening(port), 15), "modbusd A listens")
# ---- busd B: one gateway over TCP, one over RTU, both reading A ----
# B polls all along. A's last cycle is served for three polls' silence (3 s
# at least, lib/ow_quiet.h) after busd A stops; then modbusd A serves its
# modules as not answering, and B must see that too.
cfg_b = os.path.join(d, "b.json")
field = {"poll_ms": 500, "ambient_sensor": False, "hydrogen_sensor": False}
sb = site(cfg_b, [
    dict(field, id="btcp", source="modbus-tcp", modbus={"host": "127.0.0.1", "port": port}),
    dict(field, id="brtu", source="modbus-rtu",
         modbus={"device": pb, "baud": 115200, "parity": "E", "timeout_ms": 500}),
])
with open(cfg_b, "w") as f:
    json.dump(sb, f, indent=2)
B = {}
for g in sb["gateways"]:
    gid = g["id"]
    r = subprocess.run([BUSD, "-n", "-f", cfg_b, "-g", gid], capture_output=True, text=True)
    check(r.returncode == 0, "-n %s: %s" % (gid, r.stderr))
    B[gid] = (Listener(g["publish"]), start([BUSD, "-f", cfg_b, "-g", gid], stderr=subprocess.PIPE,
                                            text=True, errors="replace"))
for gid, (L, _) in B.items():
    check(wait_for(lambda: len(L.kind("heartbeat")) >= 2, 30), "%s: cycles" % gid)

# Demo scenario at 6 s per cycle: 320 cycles reach t = 1920 s, string 1
# discharging (from 1800 s), string 2 block 3 lost (600-2100 s). Then busd A
# stops polling but stays up.
busd_a = start([BUSD, "-f", cfg_a, "-S", os.path.join(ROOT, "etc", "scenarios", "demo.json"),
                "-s", "600", "--cycles", "320", "--linger", "120"])
check(wait_for(lambda: any(m["state"] == "stopping" for m in LA.kind("heartbeat")), 60),
      "busd A ran its cycles")
# alarmd A then raises the gateway's communication lost (A went quiet); once
# that is in, A's flag words stay as they are.
check(wait_for(lambda: any(a["type"] == 20 and a["action"] == "raise" for a in AL.alarms()), 30),
      "alarmd A: A's readings stopped")

with LA.lock:
    msgs = list(LA.msgs)
hb = [i for i, m in enumerate(msgs) if m["kind"] == "heartbeat" and m["state"] == "running"]
last = msgs[hb[-2] + 1:hb[-1]] if len(hb) >= 2 else []
a_mod = {m["module"]: m for m in last if m["kind"] == "module"}
a_str = {m["string"]: m for m in last if m["kind"] == "string"}
a_aux = [m for m in last if m["kind"] == "aux"]
check(len(a_mod) == 18 and len(a_str) == 2 and a_aux, "A's last cycle")
check(a_str.get(1, {}).get("current_a", 0) < -1, "A: string 1 discharging (%r)" %
      a_str.get(1, {}).get("current_a"))
check(a_mod.get(12, {}).get("status", 0) & 1, "A: string 2 block 3 (module 12) lost")
a_lost = {k for k, m in a_mod.items() if m["status"] & 1}


def close(a, b, res):
    if a is None or (isinstance(a, float) and math.isnan(a)):
        a = 0.0  # modbusd writes an unmeasured value as 0
    return b is not None and abs(a - b) <= res / 2 + 1e-9


def cycles(L):
    with L.lock:
        bm = list(L.msgs)
    hbs = [i for i, m in enumerate(bm) if m["kind"] == "heartbeat"]
    return [bm[hbs[i] + 1:hbs[i + 1]] for i in range(len(hbs) - 1)]


def lost(cyc):
    return {m["module"] for m in cyc if m["kind"] == "module" and m["status"] & 1}


for gid, (L, p) in B.items():
    # modbusd A stops serving A's last values once busd A is quiet: B's
    # modules then all read as not answering.
    check(wait_for(lambda: any(len(lost(c)) == 18 for c in cycles(L)[-3:]), 30),
          "%s: A's modules not answering once busd A went quiet" % gid)
    n0 = len(cycles(L))
    check(wait_for(lambda: len(cycles(L)) >= n0 + 2, 10), "%s: two more cycles" % gid)
    cs = cycles(L)
    # Its last cycle before that: A's last cycle, served for the quiet's 3 s.
    before = [c for c in cs if lost(c) == a_lost and len(lost(c)) < 18]
    check(before, "%s: a cycle read A's last image (%d cycles)" % (gid, len(cs)))
    cyc = before[-1] if before else []
    b_mod = {m["module"]: m for m in cyc if m["kind"] == "module"}
    b_str = {m["string"]: m for m in cyc if m["kind"] == "string"}
    b_aux = [m for m in cyc if m["kind"] == "aux"]
    bad = []
    for k, a in a_mod.items():
        b = b_mod.get(k)
        if b is None:
            bad.append((k, "missing"))
        elif a["status"] & 1:
            if not b["status"] & 1 or any(b[q] is not None for q in
                                           ("voltage_v", "temp_c", "impedance_mohm", "eq_pct")):
                bad.append((k, "lost in A, not in B", b))
        elif b["status"] & 1 or not (
                close(a["voltage_v"], b["voltage_v"], 0.001) and
                close(a["temp_c"], b["temp_c"], 0.5) and
                close(a["impedance_mohm"], b["impedance_mohm"], 0.01) and
                close(a["eq_pct"], b["eq_pct"], 1.0) and
                bool(b["status"] & 2) == (round(a["eq_pct"]) > 0)):
            bad.append((k, a, b))
        elif b["string"] != a["string"] or b["block"] != a["block"]:
            bad.append((k, "place"))
    check(not bad and len(b_mod) == 18, "%s: modules equal A's within resolution: %r" %
          (gid, bad[:3]))
    bad = []
    for k, a in a_str.items():
        b = b_str.get(k)
        if b is None or not (close(a["current_a"], b["current_a"], 0.1) and
                             close(a["sum_voltage_v"], b["sum_voltage_v"], 0.1) and
                             close(a["avg_voltage_v"], b["avg_voltage_v"], 0.001) and
                             close(a["ac_current_a"], b["ac_current_a"], 0.1) and
                             a["modules_lost"] == b["modules_lost"] and
                             a["modules"] == b["modules"]):
            bad.append((a, b))
    check(not bad, "%s: strings equal A's within resolution: %r" % (gid, bad[:2]))
    check(b_aux and b_aux[0]["inputs"] == a_aux[0]["inputs"] & 0xf and
          b_aux[0]["outputs"] == a_aux[0]["outputs"] & 0xf,
          "%s: GX_R_AUX unit 1 as A's: %r vs %r" % (gid, b_aux, a_aux))
    # The device words of B's last cycle (well after alarmd A's Communication
    # lost): A's flag words, every module's with Communication lost (0x0002).
    a_state = AL.kind("state")[-1] if AL.kind("state") else {}
    b_dev = [m for m in cs[-1] if m["kind"] == "device"]
    dv = b_dev[0] if b_dev else {}
    want = dict(a_state, module_flags=[f | 2 for f in a_state.get("module_flags", [])])
    check(a_state and dv.get("link") == "up" and dv.get("cycle_requests") == 4 and
          all(dv.get(k) == want[k] for k in ("general", "battery", "alarm", "module_flags")),
          "%s: device words are A's flag words: %r vs %r" %
          (gid, dv, {k: want.get(k) for k in ("general", "battery", "alarm", "module_flags")}))
for gid, (L, p) in B.items():
    check(stop(p) == 0, "%s stops cleanly" % gid)
    L.close()

stop(busd_a)
stop(mb)
stop(alarmd)
stop(socat)
LA.close()
AL.close()
done("field_roundtrip")
