"""modbusd follows alarmd across restarts even for what alarmd never
publishes: alarmd sends its flag words only when they change, so a state it
restored from its state file (a runtime threshold change and the alarm it
raised) is not in its new epoch's stream. modbusd, started while alarmd is
down (no snapshot at start), must still show that alarm once alarmd is back,
by asking for a snapshot again (on alarmd's epoch change, or every 10 s);
then alarmd restarted under a changed threshold (the runtime change
dropped): the alarm must go from modbusd's registers too."""
import json
import os
import socket
import struct
import subprocess
import time

from owtest import *

d = tmpdir()
cfg = os.path.join(d, "site.json")
s = site_with_alarmd(cfg, d, [{"id": "wm1"}])
port = free_port()
s["services"]["modbusd"] = {"listen": "127.0.0.1:%d" % port, "allow": ["127.0.0.1"]}
with open(cfg, "w") as f:
    json.dump(s, f, indent=2)
state_file = s["services"]["alarmd"]["state_file"]
WARN, ALARM = "thresholds.voltage_v.high_warn", "thresholds.voltage_v.high_alarm"
VOLTAGE_HIGH, GENERAL = 0x0004, 0x0001  # Alarm Flags (register 1002)


def cli(*args):
    return subprocess.run([CLI, "-f", cfg] + list(args), capture_output=True, text=True,
                          timeout=30)


def alarm_flags():
    """Register 1002 (Alarm Flags) of unit 1, or None."""
    try:
        c = socket.create_connection(("127.0.0.1", port), 2)
        c.settimeout(2)
        c.sendall(struct.pack(">HHHBBHH", 7, 0, 6, 1, 3, 1002, 1))
        r = c.recv(64)
        c.close()
        return struct.unpack(">H", r[9:11])[0] if len(r) == 11 else None
    except OSError:
        return None


# alarmd comes to hold a runtime change: the block's float voltage (~13.62 V)
# above a lowered high alarm threshold raises voltage-high alarms.
busd = start([BUSD, "-f", cfg, "-s", "10"])
alarmd = start([ALARMD, "-f", cfg])
check(wait_for(lambda: cli("thresholds", "get", ALARM).returncode == 0, 10), "alarmd answers")
check(cli("thresholds", "set", WARN, "13.4").returncode == 0, "high_warn set to 13.4")
check(cli("thresholds", "set", ALARM, "13.5").returncode == 0, "high_alarm set to 13.5")
check(wait_for(lambda: "bacsAlarmVoltageHigh" in cli("alarms").stdout, 20),
      "voltage high alarms raised under the runtime change")
stop(alarmd)

# modbusd starts while alarmd is down: no snapshot, no flags.
log = os.path.join(d, "modbusd.log")
mb = start([MODBUSD, "-f", cfg], stderr=open(log, "w"))
check(wait_for(lambda: alarm_flags() is not None, 10), "modbusd answers")
check(alarm_flags() == 0, "no alarm flags before alarmd is back: %s" % alarm_flags())

t0 = time.monotonic()
alarmd = start([ALARMD, "-f", cfg])
want = VOLTAGE_HIGH | GENERAL
check(wait_for(lambda: (alarm_flags() or 0) & want == want, 15),
      "alarmd back with its restored alarm: register 1002 shows voltage high + general "
      "(0x%04x)" % (alarm_flags() or 0))
print("restored alarm visible over Modbus %.1f s after alarmd started" % (time.monotonic() - t0))

# alarmd restarted under a changed threshold: the runtime change dropped from
# its state file while it is down, so the site file's 15.5 V applies again.
stop(alarmd)
with open(state_file) as f:
    st = json.load(f)
st["overrides"] = {}
with open(state_file, "w") as f:
    json.dump(st, f)
t0 = time.monotonic()
alarmd = start([ALARMD, "-f", cfg])
check(wait_for(lambda: cli("thresholds", "get", ALARM).stdout.strip().endswith("= 15.5"), 10),
      "alarmd restarted with high_alarm 15.5")
check(wait_for(lambda: alarm_flags() is not None and alarm_flags() & VOLTAGE_HIGH == 0, 15),
      "register 1002 no longer shows voltage high (0x%04x)" % (alarm_flags() or 0))
print("cleared over Modbus %.1f s after the second restart" % (time.monotonic() - t0))
stop(mb)
with open(log) as f:
    err = f.read()
check("settings refreshed from alarmd" in err, "the refresh is logged")
stop(alarmd)
stop(busd)
done("modbusd_alarmd_restart")
