"""busd's simulator driving alarmd, as separate processes: a discharge of
string 1 tagged as a capacity test (the control 'captest', as `ohmwatch
captest` sends it) ends with an IEEE 450 time-adjusted capacity %, while an
untagged outage of string 2 reports only its depth of discharge. The numbers
are checked against the message's own duration and temperature, so that the
test holds whatever the simulator's C10 lasts (docs/battery.md)."""
import os
import sys

from owtest import *

SPEED = 1200  # simulated seconds per real second
C10 = 50.0    # the sample site's blocks
RATED_H = 10.0

# IEEE 450 temperature correction K_c by deg F (capacity.c's table)
K_TABLE = [(25, 1.520), (30, 1.430), (35, 1.350), (40, 1.300), (45, 1.250), (50, 1.190),
           (55, 1.150), (60, 1.110), (65, 1.080), (70, 1.045), (75, 1.014), (77, 1.000),
           (80, 0.980), (85, 0.956), (90, 0.933), (95, 0.913), (100, 0.894), (105, 0.876),
           (110, 0.859), (115, 0.843), (120, 0.828), (125, 0.813)]


def k_c(temp_c):
    f = temp_c * 9 / 5 + 32
    for (fa, ka), (fb, kb) in zip(K_TABLE, K_TABLE[1:]):
        if fa <= f <= fb:
            return ka + (kb - ka) * (f - fa) / (fb - fa)
    return None


d = tmpdir()
cfg = os.path.join(d, "site.json")
scen = os.path.join(d, "scenario.json")
with open(scen, "w") as f:
    # string 1: a C10 test (5 A) stopped after 6 h; string 2: a 30 min outage at 0.5C
    json.dump({"name": "captest", "events": [
        {"at_s": 300, "type": "discharge", "string": 1, "current_a": 5, "duration_s": 6 * 3600},
        {"at_s": 300, "type": "discharge", "string": 2, "current_a": 25, "duration_s": 1800}]}, f)
s = site_with_alarmd(cfg, d, [{"id": "wm1"}])
A = s["services"]["alarmd"]
L = Listener(A["publish"])
alarmd = start([ALARMD, "-f", cfg])
# tag before busd starts: the next discharge of string 1 is the test
rep = None
for _ in range(50):
    try:
        rep, _ = ctl_call(A["control"], control("captest", "wm1", "end_v_per_cell=1.75", RATED_H, 1),
                          timeout=1000)
        break
    except Exception:
        time.sleep(0.1)
check(rep is not None and rep["ok"], "captest accepted: %s" % rep)
bad, _ = ctl_call(A["control"], control("captest", "wm1", "", RATED_H, 9))
check(not bad["ok"], "captest of a string the gateway lacks is refused")
busd = start([BUSD, "-f", cfg, "-S", scen, "-s", str(SPEED)])


def ends(L):
    return [x for x in L.kind("discharge") if x["action"] == "end"]


ok = wait_for(lambda: len(ends(L)) >= 2, 120, 0.2)
check(ok, "both discharges ended within 120 s")
by = {e["string"]: e for e in ends(L)}
t = by.get(1)
if check(t is not None, "string 1 ended"):
    check(t["test"] is True and t["method"] == "time-adjusted", "string 1 is a capacity test")
    check(t["rated_h"] == RATED_H and abs(t["end_v_per_cell"] - 1.75) < 1e-9, "its parameters")
    check(t["temp_c"] is not None and k_c(t["temp_c"]) is not None, "temperature %s" % t["temp_c"])
    want = t["duration_s"] / 3600 / (RATED_H / k_c(t["temp_c"])) * 100
    check(t["capacity_pct"] is not None and abs(t["capacity_pct"] - want) < 1e-6,
          "capacity %s %% == duration / (rated x K_t) x 100 = %.4f" % (t["capacity_pct"], want))
    check(abs(t["duration_s"] - 6 * 3600) <= 30, "6 h test: %.0f s" % t["duration_s"])
    check(abs(t["dod_pct"] - t["ah_removed"] / C10 * 100) < 1e-3, "dod = Ah / C10")
    check(t["time_to_go_s"] is None, "no time-to-go at the end")
o = by.get(2)
if check(o is not None, "string 2 ended"):
    check(o["test"] is False and o["method"] == "" and o["capacity_pct"] is None,
          "an outage has no capacity: %s" % o)
    check(o["rated_h"] is None, "nor a rating")
    check(abs(o["dod_pct"] - o["ah_removed"] / C10 * 100) < 1e-3 and 20 < o["dod_pct"] < 30,
          "outage depth of discharge %.2f %% (12.5 Ah of 50)" % o["dod_pct"])
prog = [x for x in L.kind("discharge") if x["action"] == "progress" and x["string"] == 1]
check(len(prog) >= 100, "progress every minute of the 6 h test: %d" % len(prog))
ttg = [p["time_to_go_s"] for p in prog if p["time_to_go_s"] is not None]
check(ttg and all(a >= b for a, b in zip(ttg, ttg[1:])) is not None, "time-to-go published")
if ttg:
    # at 5 A (the 10 h rate) a fresh 50 Ah battery has 10 h minus what went out
    mid = prog[len(prog) // 2]
    want = (C10 / k_c(t["temp_c"]) - mid["ah_removed"]) / 5.0 * 3600 if t else None
    check(want and abs(mid["time_to_go_s"] - want) <= 0.1 * want,
          "time-to-go half way %.0f s vs (C10/K - Ah)/I = %.0f s" % (mid["time_to_go_s"], want))
if t and o:
    print("test: %.0f s at %.1f C -> capacity %.2f %%, dod %.2f %%; outage: dod %.2f %%"
          % (t["duration_s"], t["temp_c"], t["capacity_pct"], t["dod_pct"], o["dod_pct"]))
L.close()
stop(busd)
stop(alarmd)
done("test_alarmd_capacity")
