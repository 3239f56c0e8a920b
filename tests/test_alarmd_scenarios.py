"""busd's simulator driving alarmd, as separate processes: a discharge is
detected in both modes (current sensor, block voltages alone) with its
duration and Ah; thermal runaway raises its alarm and opens the breaker
through busd; a lost module; an impedance rise against its baseline."""
import os
import subprocess
import sys

from owtest import *

SPEED = 600  # simulated seconds per real second; one reading per 6 s


def run(name, gateway, events, until, extra=None):
    """Start busd (scenario) and alarmd on a fresh site; return (listener,
    procs, site) once `until(listener)` holds or 60 s passed."""
    d = tmpdir()
    cfg = os.path.join(d, "site.json")
    scen = os.path.join(d, "scenario.json")
    with open(scen, "w") as f:
        json.dump({"name": name, "events": events}, f)
    s = site_with_alarmd(cfg, d, [gateway])
    s["path"] = cfg
    L = Listener(s["services"]["alarmd"]["publish"])
    hb = Listener(s["gateways"][0]["publish"], b"hb/")  # busd's clock, for at_s
    alarmd = start([ALARMD, "-f", cfg])
    busd = start([BUSD, "-f", cfg, "-S", scen, "-s", str(SPEED)])
    ok = wait_for(lambda: until(L), 90, 0.2)
    check(ok, "%s: expected events within 90 s" % name)
    beats = hb.kind("heartbeat")
    hb.close()
    # the simulation's t = 0 is busd's epoch (docs/scenarios.md)
    L.t0 = beats[0]["epoch"] if beats else 0
    return L, (busd, alarmd), s


def finish(L, procs):
    L.close()
    for p in procs:
        stop(p)


def ev(L, code, action, **kw):
    return [a for a in L.alarms(action) if a["type"] == code and
            all(a[k] == v for k, v in kw.items())]


# 1. Discharge with a current sensor: 25 A for 1800 s from t = 300 s.
L, procs, s = run("discharge", {"id": "wm1"},
                  [{"at_s": 300, "type": "discharge", "string": 0, "current_a": 25,
                    "duration_s": 1800}],
                  lambda L: len([x for x in L.kind("discharge") if x["action"] == "end"]) >= 2)
ends = [x for x in L.kind("discharge") if x["action"] == "end"]
starts = [x for x in L.kind("discharge") if x["action"] == "start"]
check(sorted(x["string"] for x in starts) == [1, 2], "a start per string")
for e in ends:
    check(e["mode"] == "current", "current mode")
    check(abs(e["duration_s"] - 1800) <= 12, "duration 1800 s (+-2 readings): %.1f" % e["duration_s"])
    check(abs(e["ah_removed"] - 12.5) <= 0.15, "Ah removed 12.5 (25 A x 0.5 h): %.3f" %
          e["ah_removed"])
    check(abs(e["min_current_a"] + 25) < 0.5, "min current -25 A: %.2f" % e["min_current_a"])
    check(11.0 < e["min_voltage_v"] < 12.6 and e["min_module"] >= 1, "lowest block reported")
    check(e["end_us"] - e["start_us"] == int(e["duration_s"] * 1e6), "start/end consistent")
    check(300e6 <= e["start_us"] - L.t0 <= 306e6, "started at t = 300 s, first reading after: %.1f s" %
          ((e["start_us"] - L.t0) / 1e6))
check(ev(L, 24, "raise") and ev(L, 24, "clear"), "bacsAlarmDischarging raised and cleared")
check(ev(L, 25, "raise"), "bacsAlarmDischargingStopped raised at the end")
states = L.kind("state")
check(any(st["general"] & 0x0008 for st in states), "general DISCHARGING seen")
check(any(st["general"] & 0x0020 for st in states), "general DISCHARGING_STOPPED seen")
finish(L, procs)

# 2. The same without a current sensor: detected from block voltages.
L, procs, s = run("discharge-voltage", {"id": "wm1", "current_sensor": False},
                  [{"at_s": 300, "type": "discharge", "string": 0, "current_a": 25,
                    "duration_s": 1800}],
                  lambda L: len([x for x in L.kind("discharge") if x["action"] == "end"]) >= 2)
for e in [x for x in L.kind("discharge") if x["action"] == "end"]:
    check(e["mode"] == "voltage", "voltage mode")
    check(abs(e["duration_s"] - 1800) <= 60, "duration from voltages: %.1f" % e["duration_s"])
    check(e["ah_removed"] is None, "Ah unknown without a current sensor")
    check(300e6 <= e["start_us"] - L.t0 <= 318e6, "started at the sag, t = 300 s: %.1f s" %
          ((e["start_us"] - L.t0) / 1e6))
gens = [st["general"] for st in L.kind("state")]
check(any(g & 0x0008 for g in gens) and any(g & 0x0020 for g in gens),
      "general DISCHARGING, then DISCHARGING_STOPPED, from voltages")
finish(L, procs)

# 3. Thermal runaway on string 2: alarm, breaker command, breaker open.
L, procs, s = run("thermal-runaway",
                  {"id": "wm1", "thresholds": {"thermal_runaway": {"breaker_output": 1}}},
                  [{"at_s": 600, "type": "thermal_runaway", "string": 2, "rate": 1}],
                  lambda L: ev(L, 21, "raise"))
tr = ev(L, 22, "raise")
check(len(tr) == 1 and tr[0]["string"] == 2, "bacsAlarmThermalRunaway on string 2 only")
cmds = L.kind("control")
check(any(c["cmd"] == "output" and c["index"] == 1 and c["value"] == 1 for c in cmds),
      "breaker command published (output 1 on)")
check(ev(L, 21, "raise"), "bacsAlarmBatteryBreakerOpen once busd opened it")
check(any(st["battery"] & 0x000c == 0x000c for st in L.kind("state")),
      "battery flags THERMAL_RUNAWAY|BREAKER_OPEN")
finish(L, procs)

# 4. A module that stops answering for 30 min.
L, procs, s = run("module-lost", {"id": "wm1"},
                  [{"at_s": 300, "type": "module_lost", "string": 1, "block": 5,
                    "duration_s": 1800}],
                  lambda L: ev(L, 1, "clear"))
check(len(ev(L, 1, "raise", module=5)) == 1 and len(ev(L, 1, "clear", module=5)) == 1,
      "module 5 lost once, recovered once")
finish(L, procs)

# 5. Impedance rising against its baseline (IEEE 1188), polls every minute.
L, procs, s = run("impedance", {"id": "wm1", "impedance_poll_min": 1},
                  [{"at_s": 600, "type": "impedance_rise", "string": 1, "block": 4,
                    "rate": 300}],
                  lambda L: ev(L, 102, "raise"))
check(len(ev(L, 101, "raise", module=4)) == 1, "baseline warning (20 %) on module 4")
check(len(ev(L, 102, "raise", module=4)) == 1, "baseline alarm (50 %) on module 4")
w, a = ev(L, 101, "raise")[0], ev(L, 102, "raise")[0]
check(w["raised_us"] < a["raised_us"], "warning before alarm")
check(20 <= w["value"] < 30 and 50 <= a["value"] < 60, "deviations %.1f %% / %.1f %%" %
      (w["value"], a["value"]))
bl = [b for b in L.kind("baseline") if b["module"] == 4]
check(len(bl) > 5, "baseline events for every fresh measurement")
last = bl[-1]
check(last["slope_pct_per_year"] is not None and last["slope_pct_per_year"] > 1000,
      "rising trend in %/year")
# The projection (linear trend) made half-way between warning and alarm
# names the time the alarm was actually raised, within 15 % of the time to
# go (the readings step once per poll; the baseline is the mean of the first
# three).
mid = [b for b in bl if b["ts_us"] < a["raised_us"] and b["deviation_pct"] >= 35]
check(mid and mid[0]["alarm_at_us"] > mid[0]["ts_us"] and
      abs(mid[0]["alarm_at_us"] - a["raised_us"]) <= 0.15 * (a["raised_us"] - mid[0]["ts_us"]),
      "projected crossing %.1f min from the actual alarm" %
      ((mid[0]["alarm_at_us"] - a["raised_us"]) / 60e6 if mid else float("nan")))
print("impedance: projected at %.1f %% -> alarm in %.1f min, raised %.1f min later" %
      (mid[0]["deviation_pct"], (mid[0]["alarm_at_us"] - mid[0]["ts_us"]) / 60e6,
       (a["raised_us"] - mid[0]["ts_us"]) / 60e6) if mid else "no projection")
others = [b for b in L.kind("baseline") if b["module"] != 4]
check(all(abs(b["deviation_pct"]) < 10 for b in others), "other modules stay near baseline")
finish(L, procs)
# 6. The webmanager's common alarm contact and buzzer on GX_R_AUX outputs 2
# and 3, switched by alarmd through busd and read back from busd's aux
# readings: both on with the alarm, the buzzer off at `ohmwatch ack`, the
# contact off when the alarm clears.
L, procs, s = run("alarm-outputs",
                  {"id": "wm1", "thresholds": {"common_alarm_output": 2,
                                               "audible_alarm_output": 3}},
                  [{"at_s": 300, "type": "module_lost", "string": 1, "block": 5,
                    "duration_s": 9000}],
                  lambda L: ev(L, 1, "raise"))
AX = Listener(s["gateways"][0]["publish"], b"aux/")


def outputs():
    a = AX.kind("aux")
    return a[-1]["outputs"] & 0x6 if a else None


check(wait_for(lambda: outputs() == 0x6, 10), "contact and buzzer on with the alarm: %s" %
      outputs())
cmds = [c for c in L.kind("control") if c["cmd"] == "output"]
check(any(c["index"] == 2 and c["value"] == 1 for c in cmds) and
      any(c["index"] == 3 and c["value"] == 1 for c in cmds), "alarmd commanded outputs 2 and 3")
r = subprocess.run([CLI, "-f", s["path"], "ack", "--all"], capture_output=True, text=True, timeout=30)
check(r.returncode == 0, "ohmwatch ack: %r" % r.stderr)
check(wait_for(lambda: outputs() == 0x2, 10), "buzzer off, contact on after ack: %s" % outputs())
check(not ev(L, 1, "clear"), "the alarm is still active")
check(wait_for(lambda: ev(L, 1, "clear"), 30), "module back")
check(wait_for(lambda: outputs() == 0, 10), "contact off when the alarm clears: %s" % outputs())
AX.close()
finish(L, procs)
done("test_alarmd_scenarios")
