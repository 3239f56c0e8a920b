"""`ohmwatch thresholds get/set`, `alarms` and `ack` against a running
alarmd: values validated, applied, persisted across a restart and announced
as config events; bad values and bad requests refused with a reason; SIGHUP
reloads the site file and keeps the old one when the new one is broken."""
import os
import signal
import subprocess

from owtest import *

d = tmpdir()
cfg = os.path.join(d, "site.json")
s = site_with_alarmd(cfg, d, [{"id": "wm1"}])
A = s["services"]["alarmd"]
busd = start([BUSD, "-f", cfg, "-s", "10"])
alarmd = start([ALARMD, "-f", cfg], stderr=subprocess.PIPE, text=True, errors="replace")
L = Listener(A["publish"], replay=A["replay"])  # alarmd may publish its first state before we join
KEY = "thresholds.voltage_v.high_warn"


def cli(*args):
    return subprocess.run([CLI, "-f", cfg] + list(args), capture_output=True, text=True,
                          timeout=30)


check(wait_for(lambda: L.kind("state"), 10), "alarmd publishes state")
r = cli("thresholds", "get", KEY)
check(r.returncode == 0 and r.stdout.strip() == KEY + " = 14.1", "get: %r %r" % (r.stdout, r.stderr))
r = cli("thresholds", "get")
check(r.returncode == 0 and "wm1 thresholds.temp_c.high_alarm = 35" in r.stdout,
      "list of all thresholds")

# Refusals leave everything as it was.
for args, why in ((("thresholds.voltage_v.low_warn", "15"), "above"),
                  (("thresholds.voltage_v.high_alarm", "1000"), "between"),
                  (("thresholds.nonsense", "1"), "unknown key"),
                  (("thresholds.comm_lost_polls", "2.5"), "")):
    r = cli("thresholds", "set", *args)
    check(r.returncode == 1 and "refused" in r.stderr and why in r.stderr,
          "set %s refused: %r" % (args, r.stderr))
r = cli("thresholds", "get", "thresholds.voltage_v.low_warn")
check(r.stdout.strip().endswith("= 12.4"), "low_warn unchanged after refusal")

# An accepted change is announced, applied and persisted.
tail = subprocess.Popen([CLI, "-f", cfg, "tail", "-g", "wm1", "-t", "alm/", "--json"],
                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
time.sleep(0.5)
r = cli("thresholds", "set", KEY, "13.5")
check(r.returncode == 0 and r.stdout.strip() == KEY + " = 13.5", "set accepted: %r" % r.stderr)
check(wait_for(lambda: [c for c in L.kind("config") if c["key"] == KEY and c["value"] == 13.5 and
                        c["old_value"] == 14.1 and c["source"] == "control"], 5),
      "config event published")
# Float (~13.62 V) is now above the warning: warnings after the 10 s delay.
check(wait_for(lambda: [a for a in L.alarms("raise") if a["type"] == 13], 15),
      "voltage warnings raised under the new threshold")
r = cli("alarms")
check(r.returncode == 0 and "bacsAlarmVoltageWarnHigh" in r.stdout and
      "general status (1000)" in r.stdout, "ohmwatch alarms lists them: %r" % r.stdout[:400])
r = cli("ack", "--all")
check(r.returncode == 0 and "acknowledged" in r.stdout, "ack: %r" % r.stdout)
check(wait_for(lambda: L.alarms("ack"), 5), "ack events published")
# ohmwatch tail (started before the change) showed alarmd's publications
# beside busd's: the raises under the new threshold and their acknowledgements.
tail.send_signal(signal.SIGINT)
out, err = tail.communicate(timeout=10)
tailed = [json.loads(l) for l in out.splitlines() if l.strip()]
check(tail.returncode == 0 and all(m.get("kind") == "alarm" for m in tailed) and
      any(a["type"] == 13 and a["action"] == "raise" for a in tailed) and
      any(a["action"] == "ack" for a in tailed),
      "tail shows alarmd's alarm events: %r %r" % (out[-300:], err[-300:]))
raised_before = {(a["module"], a["type"]) for a in L.alarms("raise")}

# Restart: the setting is still in force and nothing is raised again.
stop(alarmd)
n_raise = len(L.alarms("raise"))
alarmd = start([ALARMD, "-f", cfg], stderr=subprocess.PIPE, text=True, errors="replace")
time.sleep(2.0)
r = cli("thresholds", "get", KEY)
check(r.stdout.strip() == KEY + " = 13.5", "setting survived the restart: %r" % r.stdout)
again = [a for a in L.alarms("raise")[n_raise:] if (a["module"], a["type"]) in raised_before]
check(not again, "active alarms not raised again after restart (%d)" % len(again))

# A malformed request gets a reason, alarmd goes on.
rep, _ = ctl_call(A["control"], b"{not json")
check(rep["ok"] is False and "malformed" in rep["error"], "malformed request refused: %s" % rep)
rep, _ = ctl_call(A["control"], control("explode", "wm1"))
check(rep["ok"] is False and "unknown command" in rep["error"], "unknown command refused")

# SIGHUP: a broken file is refused and the running values kept...
good = open(cfg).read()
with open(cfg, "w") as f:
    f.write(good.replace('"high_alarm"', '"high_alarmm"', 1))
alarmd.send_signal(signal.SIGHUP)
time.sleep(1.0)
check(alarmd.poll() is None, "alarmd survives a broken reload")
with open(cfg, "w") as f:
    f.write(good)
r = cli("thresholds", "get", KEY)
check(r.stdout.strip() == KEY + " = 13.5", "values kept after a refused reload")
# ...and a good one applied (the runtime setting stays on top of it).
s2 = json.loads(good)
s2["gateways"][0].setdefault("thresholds", {}).setdefault("temp_c", {})["high_alarm"] = 36
with open(cfg, "w") as f:
    json.dump(s2, f)
alarmd.send_signal(signal.SIGHUP)
check(wait_for(lambda: [c for c in L.kind("config") if c["key"] == "thresholds.temp_c.high_alarm"
                        and c["value"] == 36 and c["source"] == "reload"], 5),
      "reload announces the changed value")
r = cli("thresholds", "get", KEY)
check(r.stdout.strip() == KEY + " = 13.5", "runtime setting survives the reload")
# The runtime setting hid the file's value; unset hands the key back to the
# file: its value now, and a later edit of the file takes effect.
r = cli("thresholds", "unset", KEY)
check(r.returncode == 0 and r.stdout.strip() == KEY + " = 14.1 (the site file's)",
      "thresholds unset: %r %r" % (r.stdout, r.stderr))
check(cli("thresholds", "get", KEY).stdout.strip() == KEY + " = 14.1", "the file's value in force")
check(wait_for(lambda: [c for c in L.kind("config") if c["key"] == KEY and c["value"] == 14.1
                        and c["new"] == "14.1 (site file)" and c["old"] == "13.5"], 5),
      "the unset announced and audited: 13.5 -> 14.1 (site file)")
s2["gateways"][0]["thresholds"].setdefault("voltage_v", {})["high_warn"] = 14.2
with open(cfg, "w") as f:
    json.dump(s2, f)
alarmd.send_signal(signal.SIGHUP)
check(wait_for(lambda: cli("thresholds", "get", KEY).stdout.strip() == KEY + " = 14.2", 5),
      "after unset, the file's edit takes effect on reload")
r = cli("thresholds", "unset", KEY)
check(r.returncode == 0 and r.stdout.strip() == KEY + " = 14.2 (the site file's)",
      "unset of a key with nothing set: the file's value, no change")
r = cli("thresholds", "set", KEY, "13.5")  # the saved setting the state-file case below edits
check(r.returncode == 0, "set again: %r" % r.stderr)
stop(alarmd)
err = alarmd.stderr.read()
check("reload refused" in err, "refused reload logged")

# A hand-edited state file: a saved setting that is not a number is dropped
# with a warning, not read as 0 (which would disable the hydrogen alarm);
# the good one beside it still applies.
H2 = "thresholds.hydrogen_alarm_pct_lel"
state_file = A["state_file"]
st = json.load(open(state_file))
st["overrides"]["wm1"][H2] = "5"
# ... and a resume position with a negative seq (as uint64 it would be huge,
# and every later reading of busd a "duplicate") is ignored with a warning.
check(any(p["pub"] == "busd.wm1" for p in st.get("positions", [])), "busd's position saved")
for p in st.get("positions", []):
    if p["pub"] == "busd.wm1":
        p["seq"] = -5
with open(state_file, "w") as f:
    json.dump(st, f)
alarmd = start([ALARMD, "-f", cfg], stderr=subprocess.PIPE, text=True, errors="replace")
check(wait_for(lambda: cli("thresholds", "get", H2).returncode == 0, 10), "alarmd back")
r = cli("thresholds", "get", H2)
check(r.stdout.strip() == H2 + " = 40", "non-number override dropped: %r" % r.stdout)
check(wait_for(lambda: cli("health", "alarmd").returncode == 0, 15),
      "busd's readings reach alarmd despite the bad position")
r = cli("thresholds", "get", KEY)
check(r.stdout.strip() == KEY + " = 13.5", "the good override still applies: %r" % r.stdout)
L.close()
stop(alarmd)
stop(busd)
err = alarmd.stderr.read()
check("dropping saved setting %s: not a number" % H2 in err, "dropped setting logged")
check("positions[" in err and "is not {pub, epoch >= 0, seq >= 0}: ignored" in err,
      "bad position logged")
done("test_alarmd_cli")
