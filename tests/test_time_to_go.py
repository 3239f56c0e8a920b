"""Time-to-go against the simulator's own end of discharge, busd and alarmd
as processes (sample site, 25 degC): string 1 at C10 (5 A), string 2 at
0.5C (25 A), both to 1.75 V/cell average. alarmd's progress message half way
through each discharge gives a time-to-go within +-10 % (C10) and +-15 %
(0.5C) of the time the discharge then actually lasted (docs/battery.md,
"Time-to-go"). The simulated blocks differ in capacity (3 % spread), so the
weakest one, which ends the discharge, is not the rated one."""
import os

from owtest import *
SPEED = 2400
d = tmpdir()
cfg = os.path.join(d, "site.json"); scen = os.path.join(d, "scenario.json")
with open(scen, "w") as f:
    json.dump({"name": "ttg", "events": [
        {"at_s": 300, "type": "discharge", "string": 1, "current_a": 5, "duration_s": 14 * 3600, "end_v_per_cell": 1.75},
        {"at_s": 300, "type": "discharge", "string": 2, "current_a": 25, "duration_s": 14 * 3600, "end_v_per_cell": 1.75}]}, f)
s = site_with_alarmd(cfg, d, [{"id": "wm1", "sim": {"ambient_c": 25}}])
A = s["services"]["alarmd"]
L = Listener(A["publish"], replay=A["replay"])
alarmd = start([ALARMD, "-f", cfg])
busd = start([BUSD, "-f", cfg, "-S", scen, "-s", str(SPEED)])
def ends():
    return [x for x in L.kind("discharge") if x["action"] == "end"]
check(wait_for(lambda: len(ends()) >= 2, 90, 0.5), "both discharges ended")
TOL = {1: 0.10, 2: 0.15}
for e in ends():
    s_ = e["string"]; dur = e["duration_s"]
    prog = [x for x in L.kind("discharge") if x["action"] == "progress" and x["string"] == s_]
    half = min(prog, key=lambda x: abs(x["duration_s"] - dur / 2)) if prog else None
    if half:
        actual = dur - half["duration_s"]
        print("string %d: lasted %.2f h; at %.2f h time-to-go %.0f min, actual %.0f min, ratio %.3f" %
              (s_, dur / 3600, half["duration_s"] / 3600, half["time_to_go_s"] / 60, actual / 60,
               half["time_to_go_s"] / actual))
    check(half is not None and abs(half["time_to_go_s"] / actual - 1) <= TOL[s_],
          "string %d: time-to-go half way within %d %% of the actual remaining time" %
          (s_, TOL[s_] * 100))
for p in (busd, alarmd):
    stop(p)
L.close()
done("test_time_to_go")
