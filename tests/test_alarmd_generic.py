"""The guide's generic alarms (bacsAlarmVoltage 4, ...) through alarmd as its
own process, read from its publisher: a block voltage high alarm on one
module raises 4 once for the gateway, a second module's raises no second
one, the state file keeps it across a restart, clearing one module keeps it
and clearing the last clears it with the raise's id; the same for an
impedance warning (2) and alarm (3). The expected codes and severities are
written from the guide's wording (docs/alarms.md, "Generic alarms"), not
read from proto/ow_gbms.c."""
import os

from owtest import *

d = tmpdir()
cfg = os.path.join(d, "site.json")
s = site_with_alarmd(cfg, d, [{
    "id": "wm1",
    "strings": [{"name": "S%d" % i, "modules": 9} for i in (1, 2)],
    "thresholds": {
        "voltage_v": {"low_alarm": 12.0, "low_warn": 12.4, "high_warn": 14.1,
                      "high_alarm": 15.5, "hysteresis": 0.05, "delay_s": 0},
        "impedance_mohm": {"low_alarm": 1.1, "low_warn": 1.2, "high_warn": 40,
                           "high_alarm": 50, "hysteresis": 0.5, "delay_s": 0},
        "max_voltage_diff_v": 0, "equalizing_min_v": 1, "equalizing_max_v": 99}}])
A = s["services"]["alarmd"]
gw = FakeGateway(s["gateways"][0], strings=2, blocks=9)
alarmd = start([ALARMD, "-f", cfg])
L = Listener(A["publish"])
time.sleep(0.5)


def ev(code, action, **kw):
    return [a for a in L.alarms(action) if a["type"] == code and
            all(a[k] == v for k, v in kw.items())]


def last_state():
    st = L.kind("state")
    return st[-1] if st else None


def settle(pred, what, timeout=10):
    return check(wait_for(pred, timeout), what)


for _ in range(3):
    gw.cycle()
settle(lambda: last_state() and last_state()["general"] == 0x0041, "running + float")

# Module 4 above the high alarm: 13 and 6 on (1, 4), and one 4 for wm1.
gw.cycle(volts={4: 15.6})
settle(lambda: ev(4, "raise"), "bacsAlarmVoltage raised")
g = ev(4, "raise")
check(len(g) == 1 and g[0]["string"] == 0 and g[0]["module"] == 0,
      "4 once, for the gateway (string 0, module 0): %s" % g)
check(g[0]["severity"] == 2, "4 is an alarm (severity 2): %s" % g[0]["severity"])
six = ev(6, "raise", module=4)
check(len(six) == 1 and g[0]["raised_us"] == six[0]["raised_us"] and g[0]["id"] > six[0]["id"],
      "raised at the reading that raised 6, after it")
check(g[0]["text"].startswith("Gateway wm1: bacsAlarmVoltage: "), "text: %r" % g[0]["text"])
gid = g[0]["id"]
# 13, 6 and 4 are active; the general alarm is 6's alone.
settle(lambda: last_state()["alarms_active"] == 3, "bacsAlarmsPresent 3 (13, 6, 4): %s" %
       last_state()["alarms_active"])
check(last_state()["module_alarms"] == 1, "one module in alarm")

# Module 13 (string 2) as well: its own 6, no second 4.
gw.cycle(volts={4: 15.6, 13: 15.6})
settle(lambda: ev(6, "raise", module=13), "6 on module 13")
time.sleep(0.3)
check(len(ev(4, "raise")) == 1, "no second bacsAlarmVoltage")
settle(lambda: last_state()["alarms_active"] == 5, "bacsAlarmsPresent 5")

# Restart: the state file keeps 4 active with its id.
stop(alarmd)
alarmd = start([ALARMD, "-f", cfg])
time.sleep(1.0)

# Module 4 back: its 6 and 13 clear, 4 stays.
gw.cycle(volts={13: 15.6})
settle(lambda: ev(6, "clear", module=4), "6 on module 4 cleared after the restart")
time.sleep(0.3)
check(not ev(4, "clear"), "4 stays while module 13's 6 is active")
check(len(ev(4, "raise")) == 1, "the restart raised no second 4")

# Module 13 back: the last member clears, and 4 with it, with the raise's id.
gw.cycle()
settle(lambda: ev(4, "clear"), "bacsAlarmVoltage cleared with the last member")
c = ev(4, "clear")
c6 = ev(6, "clear", module=13)
check(len(c) == 1 and c[0]["id"] == gid, "one clear, the raise's id %d: %s" % (gid, c))
check(c6 and c[0]["cleared_us"] == c6[0]["cleared_us"], "cleared at the reading that cleared 6")
settle(lambda: last_state()["alarms_active"] == 0 and last_state()["alarm"] == 0,
       "nothing active")

# Impedance of module 6: a warning raises 2 (a warning), the alarm 3 (an
# alarm); back to normal both clear.
gw.cycle(imps={6: 45})
settle(lambda: ev(2, "raise"), "bacsAlarmResistWarn raised by the impedance warning")
check(ev(2, "raise")[0]["severity"] == 1 and not ev(3, "raise"), "2 is a warning; no 3 yet")
gw.cycle(imps={6: 55})
settle(lambda: ev(3, "raise"), "bacsAlarmResistAlarm raised by the impedance alarm")
check(ev(3, "raise")[0]["severity"] == 2 and len(ev(2, "raise")) == 1, "3 is an alarm; one 2")
gw.cycle()
settle(lambda: ev(2, "clear") and ev(3, "clear"), "2 and 3 cleared with 17 and 10")
check({a["type"] for a in L.alarms("raise")} == {2, 3, 4, 6, 10, 13, 17},
      "exactly these raised: %s" % sorted({a["type"] for a in L.alarms("raise")}))

L.close()
stop(alarmd)
gw.close()
check(alarmd.returncode == 0, "alarmd stops cleanly")
done("test_alarmd_generic")
