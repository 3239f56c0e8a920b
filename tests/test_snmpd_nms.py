"""ohmwatch-snmpd as the NMS tools that monitor BACS webmanagers see it,
walked with net-snmp's snmpget/snmpwalk on a running stack (busd, alarmd,
snmpd). Each tool's detection and parse is written here from its published
behaviour (none of their code is in the project):

- Checkmk's BACS plugins (bacs_battery, "BACS Module N"; bacs_string), from
  the Checkmk Exchange: a host is a BACS device when sysObjectID.0 starts
  with .1.3.6.1.2.1.33 (the UPS-MIB); they fetch bacsModuleTable columns 1
  (index), 2 (voltage), 3 (temperature), 5 (resistance), 6 (state) and
  bacsSettings; the item is the index, plus 1 when the first index reads 0
  (the guide's minus-one index); voltage / 100 V, temperature / 10 degC,
  resistance / 100 mOhm. bacs_string fetches bacsStringTable columns 1-4,
  each / 100.
- Schneider/APC's device definition "Generex BACS2" (StruxureWare /
  NetBotz DDF): a BACS device when the tree 1.3.6.1.2.1.33.5 exists.

Then bacsTemperatureUnit's SET (issue 17, read-write where the guide says
so): a write user switches it to fahrenheit and back, the temperature
objects change scale at once, 2 is refused (wrongValue), a read-only user
and a bacsImpcPollRate of 0 are refused; the unit is alarmd's setting, so
it is still fahrenheit after alarmd and snmpd restart; services.snmpd's
sys_object_id / sys_descr are served when set, and a bad OID is refused by
-n with its place."""
import json
import os
import re
import subprocess
import time

from owtest import *

SNMPD = os.path.join(BUILD, "services", "snmpd", "ohmwatch-snmpd")
ROOTOID = "1.3.6.1.2.1.33.5"
ENV = dict(os.environ, MIBS="")

d = tmpdir()
cfg = os.path.join(d, "site.json")
s = site_with_alarmd(cfg, d, [{"id": "wm1", "sim": {"seed": 5, "speed": 10}}])
port = free_port()
s["services"]["snmpd"] = {
    "listen": "udp:127.0.0.1:%d" % port, "community": "public",
    "state_dir": os.path.join(d, "snmpd-state"),
    "users": [{"name": "ops", "auth_pass": "opsauth123", "priv_pass": "opspriv123",
               "write": True},
              {"name": "viewer", "auth_pass": "viewauth123", "priv_pass": "viewpriv123"}]}
with open(cfg, "w") as f:
    json.dump(s, f, indent=2)
AGENT = "127.0.0.1:%d" % port
V2 = ["-v2c", "-c", "public"]
OPS = ["-v3", "-l", "authPriv", "-u", "ops", "-a", "SHA", "-A", "opsauth123", "-x", "AES",
       "-X", "opspriv123"]
VIEWER = ["-v3", "-l", "authPriv", "-u", "viewer", "-a", "SHA", "-A", "viewauth123", "-x",
          "AES", "-X", "viewpriv123"]


def tool(name, auth, *args):
    return subprocess.run([name, "-On", "-Oqte", "-t", "3", "-r", "1"] + auth + [AGENT] +
                          list(args), capture_output=True, text=True, env=ENV)


def parse(out):
    vals = {}
    for line in out.splitlines():
        parts = line.split(None, 1)
        if len(parts) == 2 and parts[0].startswith(".1."):
            vals[parts[0]] = parts[1].strip().strip('"')
    return vals


def get(*oids):
    return parse(tool("snmpget", V2, *oids).stdout)


def columns(base, cols):
    """An NMS's table fetch: each column walked, rows joined by the index
    (the OID's end), as Checkmk's SNMPTree does."""
    rows = {}
    for c in cols:
        for o, v in parse(tool("snmpwalk", V2, "%s.%s" % (base, c)).stdout).items():
            end = tuple(int(x) for x in o[len(base) + len(str(c)) + 2:].split("."))
            rows.setdefault(end, {})[c] = v
    return [[r.get(c, "") for c in cols] for _, r in sorted(rows.items())]


# ---- the system group from services.snmpd (a bad OID refused) ----
bad = json.loads(json.dumps(s))
bad["services"]["snmpd"]["sys_object_id"] = "1.3.6.x"
badf = os.path.join(d, "bad.json")
with open(badf, "w") as f:
    json.dump(bad, f, indent=2)
r = subprocess.run([SNMPD, "-n", "-f", badf], capture_output=True, text=True)
check(r.returncode == 1 and re.search(r"bad\.json:\d+:\d+: services\.snmpd\.sys_object_id: "
                                      r"a dotted OID", r.stderr),
      "a bad sys_object_id refused with its place: %r" % r.stderr)

busd = start([BUSD, "-f", cfg, "-g", "wm1"])
alarmd = start([ALARMD, "-f", cfg])
BL = Listener(s["gateways"][0]["publish"])
time.sleep(1.0)
agent = start([SNMPD, "-f", cfg])
check(wait_for(lambda: "." + ROOTOID + ".1.3.0" in get(ROOTOID + ".1.3.0"), 10), "snmpd answers")
time.sleep(1.5)
stop(busd)  # freeze: what snmpd serves is busd's last readings
time.sleep(1.5)
mods = {}
for m in BL.kind("module"):
    mods[m["module"]] = m
strs = {}
for m in BL.kind("string"):
    strs[m["string"]] = m
check(len(mods) == 18 and len(strs) == 2, "busd published 18 modules, 2 strings")

# ---- detection ----
sysgrp = get("1.3.6.1.2.1.1.1.0", "1.3.6.1.2.1.1.2.0")
sys_oid = sysgrp.get(".1.3.6.1.2.1.1.2.0", "")
check(sys_oid == ".1.3.6.1.2.1.33.5", "sysObjectID is the BACS MIB root: %r" % sys_oid)
check(sys_oid.startswith(".1.3.6.1.2.1.33"), "Checkmk's BACS detection matches")
check("BACS" in sysgrp.get(".1.3.6.1.2.1.1.1.0", ""), "sysDescr names BACS: %r" % sysgrp)
tree = parse(tool("snmpwalk", V2, ROOTOID).stdout)
check(len(tree) > 100, "the DDF's oidMustExist tree %s exists (%d)" % (ROOTOID, len(tree)))


# ---- Checkmk bacs_battery: fetch and parse ----
def checkmk_bacs_battery():
    data = columns("." + ROOTOID + ".2.5.1", [1, 2, 3, 5, 6])
    settings = columns("." + ROOTOID, [1])
    modifier = 1 if data and int(data[0][0]) == 0 else 0
    parsed = {}
    for bat_id, volt, temp, res, state in data:
        parsed[str(int(bat_id) + modifier)] = (int(volt) / 100.0, int(temp) / 10.0,
                                               int(res) / 100.0, int(state))
    return parsed, settings


def near(a, b, step):
    return abs(a - b) <= step / 2 + 1e-9


parsed, settings = checkmk_bacs_battery()
check(sorted(parsed, key=int) == [str(m) for m in range(1, 19)],
      "Checkmk discovers BACS Module 1..18: %r" % sorted(parsed, key=int))
check(settings, "Checkmk's second tree (bacsSettings) has rows")
bad_cells = []
for m, msg in mods.items():
    volt, temp, res, _ = parsed.get(str(m), (None, None, None, None))
    if volt is None or not (near(volt, msg["voltage_v"], 0.01) and near(temp, msg["temp_c"], 0.1)
                            and near(res, msg["impedance_mohm"], 0.01)):
        bad_cells.append((m, parsed.get(str(m)), msg["voltage_v"], msg["temp_c"],
                          msg["impedance_mohm"]))
check(not bad_cells, "Checkmk's BACS Module values equal busd's readings: %r" % bad_cells[:3])

# ---- Checkmk bacs_string ----
srows = columns("." + ROOTOID + ".2.7.1", [1, 2, 3, 4])
sparsed = {r[0]: {"power": int(r[1]) / 100.0, "overall": int(r[2]) / 100.0,
                  "average": int(r[3]) / 100.0} for r in srows}
check(sorted(sparsed) == ["0", "1"], "bacs_string items are the string index: %r" % sparsed)
for n, msg in strs.items():
    p = sparsed.get(str(n - 1), {})
    check(p and near(p["overall"], msg["sum_voltage_v"], 0.01) and
          near(p["average"], msg["avg_voltage_v"], 0.01) and
          near(p["power"], msg["current_a"], 0.01),
          "string %d: bacs_string %r, busd %r" % (n, p, (msg["sum_voltage_v"],
                                                         msg["avg_voltage_v"], msg["current_a"])))

# ---- bacsTemperatureUnit: SET by a write user ----
UNIT = ROOTOID + ".1.20.0"
TEMP1 = "." + ROOTOID + ".2.5.1.3.1"
HA = ROOTOID + ".1.11.0"  # bacsTemperatureHighAlarm


def refused(auth, reason, *setargs):
    before = get(UNIT, TEMP1[1:])
    r = tool("snmpset", auth, *setargs)
    check(r.returncode != 0 and reason in r.stderr and get(UNIT, TEMP1[1:]) == before,
          "refused with %s, nothing changed: %r" % (reason, r.stderr))


c_temp = mods[1]["temp_c"]
ha_c = int(get(HA)["." + HA])
check(get(UNIT)["." + UNIT] == "0", "celsius at start")
check(get(TEMP1[1:])[TEMP1] == str(cround(c_temp / 0.1)), "module 1 in 0.1 degC")
refused(OPS, "wrongValue", UNIT, "i", "2")
refused(OPS, "wrongType", UNIT, "s", "F")
refused(VIEWER, "noAccess", UNIT, "i", "1")
refused(V2, "noAccess", UNIT, "i", "1")
refused(OPS, "wrongValue", ROOTOID + ".1.7.0", "i", "0")  # bacsImpcPollRate: 1..44640 min
r = tool("snmpset", OPS, UNIT, "i", "1")
check(r.returncode == 0, "SET bacsTemperatureUnit = 1: %r" % r.stderr)
after = get(UNIT, TEMP1[1:], HA)
check(after.get("." + UNIT) == "1", "reads back fahrenheit")
check(after.get(TEMP1) == str(cround((c_temp * 9 / 5 + 32) / 0.1)),
      "module 1 now in 0.1 degF: %r for %g degC" % (after.get(TEMP1), c_temp))
check(after.get("." + HA) == str(cround((ha_c * 0.1 * 9 / 5 + 32) / 0.1)),
      "the temperature alarm level too: %r" % after.get("." + HA))
parsed_f, _ = checkmk_bacs_battery()
check(near(parsed_f["1"][1], c_temp * 9 / 5 + 32, 0.1), "an NMS's /10 reads degF now")
r = tool("snmpset", OPS, UNIT, "i", "0")
check(r.returncode == 0 and get(TEMP1[1:])[TEMP1] == str(cround(c_temp / 0.1)) and
      get(HA)["." + HA] == str(ha_c), "back to celsius: %r" % r.stderr)
r = tool("snmpset", OPS, UNIT, "i", "1")  # and fahrenheit again, across the restarts below
check(r.returncode == 0, "SET bacsTemperatureUnit = 1 again: %r" % r.stderr)
check(stop(agent) == 0 and stop(alarmd) == 0, "snmpd and alarmd stop cleanly")

# ---- configured system group ----
s["services"]["snmpd"]["sys_object_id"] = ".1.3.6.1.4.1.99999.1"
s["services"]["snmpd"]["sys_descr"] = "BACS webmanager (ohmwatch)"
with open(cfg, "w") as f:
    json.dump(s, f, indent=2)
alarmd = start([ALARMD, "-f", cfg])
agent = start([SNMPD, "-f", cfg])
check(wait_for(lambda: ".1.3.6.1.2.1.1.2.0" in get("1.3.6.1.2.1.1.2.0"), 10), "snmpd answers")
sysgrp = get("1.3.6.1.2.1.1.1.0", "1.3.6.1.2.1.1.2.0")
check(sysgrp.get(".1.3.6.1.2.1.1.2.0") == ".1.3.6.1.4.1.99999.1" and
      sysgrp.get(".1.3.6.1.2.1.1.1.0") == "BACS webmanager (ohmwatch)",
      "sys_object_id and sys_descr served: %r" % sysgrp)
check(wait_for(lambda: get(UNIT).get("." + UNIT) == "1", 10),
      "the unit is alarmd's, kept across both restarts: %r" % get(UNIT))
check(stop(agent) == 0, "snmpd stops cleanly")
done("snmpd_nms")
