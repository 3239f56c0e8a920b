"""alarmd as its own process, fed by a gateway whose readings the test
chooses: each threshold type raises and clears with the configured delay and
hysteresis, with the exact events and flag words of the G.BMS tables."""
import os

from owtest import *

d = tmpdir()
cfg = os.path.join(d, "site.json")
s = site_with_alarmd(cfg, d, [{"id": "wm1"}])
gwc = s["gateways"][0]
A = s["services"]["alarmd"]

gw = FakeGateway(gwc)
alarmd = start([ALARMD, "-f", cfg])
L = Listener(A["publish"])
time.sleep(0.5)


def ev(code, action, module=None, string=None):
    return [a for a in L.alarms(action) if a["type"] == code and
            (module is None or a["module"] == module) and (string is None or a["string"] == string)]


def settle(pred, what, timeout=10):
    return check(wait_for(pred, timeout), what)


def last_state():
    st = L.kind("state")
    return st[-1] if st else None


for _ in range(3):
    gw.cycle()
settle(lambda: last_state() and last_state()["general"] & 0x1, "RUNNING after first cycles")
check(last_state()["general"] == 0x0041, "running + float: 0x0041 (got 0x%04x)" %
      last_state()["general"])

# --- block voltage high, 10 s delay, 0.05 V hysteresis (module 4) ---
t0 = gw.ts + 1000000
for i in range(10):  # t0 .. t0+9 s: violating, but not yet for 10 s
    gw.cycle(volts={4: 15.6})
time.sleep(0.5)
check(not ev(6, "raise") and not ev(13, "raise"), "no voltage alarm before the delay")
gw.cycle(volts={4: 15.6})  # t0+10 s
settle(lambda: ev(6, "raise", 4) and ev(13, "raise", 4), "voltage high alarm+warning raised")
r6 = ev(6, "raise", 4)[0]
check(r6["raised_us"] == t0 + 10 * 1000000, "raised exactly at t0+delay")
check(r6["severity"] == 2 and r6["string"] == 1 and abs(r6["threshold"] - 15.5) < 1e-9 and
      abs(r6["value"] - 15.6) < 1e-9, "event carries severity, source, value, threshold")
settle(lambda: last_state()["module_flags"][3] == 0x0005, "module 4 word = VOLTAGE_HIGH|GENERAL")
st = last_state()
check(st["general"] & 0x0200, "general VOLTAGE_OUTOFRANGE set")
check(st["battery"] & 0x0001 and st["alarm"] & 0x0005 == 0x0005, "battery and 1002 general alarm")
check(st["audible"] is True and st["module_alarms"] == 1, "audible, one module in alarm")
for _ in range(3):
    gw.cycle(volts={4: 15.47})  # inside the hysteresis band: stays
time.sleep(0.5)
check(not ev(6, "clear"), "15.47 V (within 0.05 V of 15.5) does not clear")
gw.cycle(volts={4: 15.44})
settle(lambda: ev(6, "clear", 4), "15.44 V clears the alarm")
check(ev(6, "clear", 4)[0]["id"] == r6["id"], "clear carries the raise's id")
check(not ev(13, "clear"), "warning (14.1 V) still active at 15.44 V")
gw.cycle()
settle(lambda: ev(13, "clear", 4), "warning clears back at float")
settle(lambda: last_state()["module_flags"][3] == 0, "module word back to 0")

# --- acknowledge mutes the audible alarm without clearing ---
gw.cycle(temps={10: 4.0})  # temperature low alarm + warning at once (no delay)
settle(lambda: ev(9, "raise", 10) and ev(16, "raise", 10), "temperature low alarm+warning")
settle(lambda: last_state()["audible"] is True, "audible again for a new alarm")
rep, _ = ctl_call(A["control"], control("ack", "wm1"))
check(rep["ok"] and rep["value"] >= 2, "ack accepted (%s)" % rep)
settle(lambda: ev(9, "ack", 10), "ack event for the alarm")
settle(lambda: last_state()["audible"] is False, "audible muted")
check(not ev(9, "clear"), "ack does not clear")
gw.cycle(temps={10: 5.5})  # within 1 degC hysteresis of 5
time.sleep(0.4)
check(not ev(9, "clear"), "5.5 degC within hysteresis keeps the low alarm")
gw.cycle(temps={10: 6.5})
settle(lambda: ev(9, "clear", 10), "6.5 degC clears the low alarm")
gw.cycle()
settle(lambda: ev(16, "clear", 10), "25 degC clears the low warning")

# --- impedance high (module 18) ---
gw.cycle(imps={18: 55.0})
settle(lambda: ev(10, "raise", 18) and ev(17, "raise", 18), "impedance alarm+warning")
settle(lambda: last_state()["module_flags"][17] == 0x0041, "module 18 word RESISTOR_HIGH|GENERAL")
check(last_state()["general"] & 0x0800, "general RESISTOR_OUTOFRANGE")
gw.cycle(imps={18: 49.6})
time.sleep(0.4)
check(not ev(10, "clear"), "49.6 within 0.5 hysteresis stays")
gw.cycle(imps={18: 49.4})
settle(lambda: ev(10, "clear", 18), "49.4 clears")
gw.cycle()
settle(lambda: ev(17, "clear", 18), "warning clears")

# --- module communication lost after 3 polls (module 7) ---
gw.cycle(lost={7})
gw.cycle(lost={7})
time.sleep(0.4)
check(not ev(1, "raise"), "not lost after 2 polls")
gw.cycle(lost={7})
settle(lambda: ev(1, "raise", 7), "bacsAlarmSystemError after 3 missed polls")
settle(lambda: last_state()["module_flags"][6] == 0x0003, "module 7 word COMM_LOST|GENERAL")
check(last_state()["general"] & 0x0004, "general MODULE_LOST")
gw.cycle()
settle(lambda: ev(1, "clear", 7), "cleared by the next answer")

# --- string voltage (string 1 sum 136 V) ---
gw.cycle(sums={1: 136.0})
settle(lambda: ev(27, "raise", string=1) and ev(29, "raise", string=1),
       "string voltage high alarm+warning")
gw.cycle()
settle(lambda: ev(27, "clear", string=1) and ev(29, "clear", string=1), "string voltage clears")

# --- string current high, and deviation between the strings on charge ---
gw.cycle(currents={1: 16.0, 2: 0.05})
settle(lambda: ev(31, "raise", string=1) and ev(33, "raise", string=1), "current high alarm+warn")
settle(lambda: ev(38, "raise", string=1), "charge current deviation warning (7.98 A > 5 A)")
settle(lambda: last_state()["string_flags2"][0] & 0x1005 == 0x1005,
       "string 1 flags2: CURRENT_HIGH|HIGH_WARN|DEV_CHARGE_WARN (0x1000)")
gw.cycle()
settle(lambda: ev(31, "clear", string=1) and ev(38, "clear", string=1), "current alarms clear")

# --- bus silence: no readings for 3 poll periods of wall time ---
time.sleep(4.0)
settle(lambda: ev(20, "raise"), "bacsAlarmCommunicationLost when busd is silent")
settle(lambda: last_state()["general"] & 0x0100 and not last_state()["general"] & 0x0001,
       "SYSTEM_FAILURE set, RUNNING cleared")
check(last_state()["alarm"] & 0x0002, "1002 COMMUNICATION_LOST")
gw.cycle()
settle(lambda: ev(20, "clear"), "cleared by the next reading")

# Every raise has its own id; every clear refers to a raised id.
raises = L.alarms("raise")
ids = [a["id"] for a in raises]
check(len(ids) == len(set(ids)), "alarm ids unique")
check(all(c["id"] in ids for c in L.alarms("clear")), "clears refer to raised alarms")

L.close()
stop(alarmd)
gw.close()
check(alarmd.returncode == 0, "alarmd stops cleanly")
done("test_alarmd_thresholds")
