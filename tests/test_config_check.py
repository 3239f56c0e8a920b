"""`-n` checks a site file: OK for the shipped examples; for bad files a
message naming file, line, column and key, and a non-zero exit."""
import json
import os
import subprocess

from owtest import *

for f in ("site-sample.json", "site-large.json", "site-substation.json", "site-telecom.json",
          "two-gateways.json"):
    prog = ALARMD if f == "two-gateways.json" else BUSD  # busd would need -g
    r = subprocess.run([prog, "-n", "-f", os.path.join(ROOT, "etc", f)], capture_output=True,
                       text=True)
    check(r.returncode == 0 and "configuration OK" in r.stdout, "%s is OK (%s)" % (f, r.stderr))
    check("warning" not in r.stderr, "%s: no threshold contradicts its battery: %r" % (f, r.stderr))

d = tmpdir()
bad = os.path.join(d, "bad.json")
with open(os.path.join(ROOT, "etc", "site-sample.json")) as f:
    text = f.read()
# Break one value in place and find where it is.
needle = '"modules": 9'
i = text.index(needle)
line = text.count("\n", 0, i) + 1
col = i - (text.rfind("\n", 0, i) + 1) + 1 + len('"modules": ')
with open(bad, "w") as f:
    f.write(text[:i] + '"modules": 900' + text[i + len(needle):])
r = subprocess.run([BUSD, "-n", "-f", bad], capture_output=True, text=True)
check(r.returncode == 1, "bad file exits 1")
want = "%s:%d:%d: gateways[0].strings[0].modules" % (bad, line, col)
check(want in r.stderr, "error names file:line:col and key: want %r in %r" % (want, r.stderr))

with open(bad, "w") as f:
    f.write(text.replace('"poll_ms"', '"pol_ms"', 1) if '"poll_ms"' in text else
            text.replace('"id"', '"idd"', 1))
r = subprocess.run([BUSD, "-n", "-f", bad], capture_output=True, text=True)
check(r.returncode == 1 and "unknown key" in r.stderr, "unknown key refused: %r" % r.stderr)

with open(bad, "w") as f:
    f.write(text[:-3])
r = subprocess.run([BUSD, "-n", "-f", bad], capture_output=True, text=True)
check(r.returncode == 1 and bad + ":" in r.stderr, "parse error names the file: %r" % r.stderr)

# A gateway of 520 modules: the G.BMS map ends at module 512, so the check
# refuses it with the reason instead of serving 513-520 with no registers.
big = json.loads(text)
big["gateways"][0]["strings"] = [{"modules": 260}, {"modules": 260}]
with open(bad, "w") as f:
    json.dump(big, f, indent=2)
for prog in (ALARMD, BUSD):
    r = subprocess.run([prog, "-n", "-f", bad], capture_output=True, text=True)
    check(r.returncode == 1 and "gateways[0].strings: 520 modules in all; the G.BMS map addresses "
          "at most 512 (guide: 512 modules in 16 strings)" in r.stderr,
          "520 modules refused by %s: %r" % (os.path.basename(prog), r.stderr))
big["gateways"][0]["strings"] = [{"modules": 256}, {"modules": 256}]
with open(bad, "w") as f:
    json.dump(big, f, indent=2)
r = subprocess.run([ALARMD, "-n", "-f", bad], capture_output=True, text=True)
check(r.returncode == 0 and "configuration OK" in r.stdout, "512 modules accepted: %r" % r.stderr)

# A scenario with a bad event is part of the check.
scen = os.path.join(d, "s.json")
with open(scen, "w") as f:
    f.write('{"name": "x", "events": [\n  {"at_s": 1, "type": "discharge", "current_a": -5}\n]}\n')
r = subprocess.run([BUSD, "-n", "-f", os.path.join(ROOT, "etc", "site-sample.json"), "-S", scen],
                   capture_output=True, text=True)
check(r.returncode == 1 and "%s:2:" % scen in r.stderr and "current_a" in r.stderr,
      "bad scenario refused with position: %r" % r.stderr)

# A field device: the map is part of the check, and the site must fit it.
import json
mapf = os.path.join(d, "map.json")
with open(mapf, "w") as f:
    f.write('{"name": "m",\n "modules": [{"first": 1, "last": 9, "address": 0, "stride": 2,\n'
            '   "values": {"voltage_v": {"at": 0, "type": "u48"}}}]}\n')
field = json.loads(text)
g = field["gateways"][0]
g.update({"source": "modbus-tcp", "ambient_sensor": False, "hydrogen_sensor": False,
          "modbus": {"host": "127.0.0.1", "map": mapf}})
with open(bad, "w") as f:
    json.dump(field, f, indent=1)
r = subprocess.run([BUSD, "-n", "-f", bad], capture_output=True, text=True)
check(r.returncode == 1 and "%s:3:46: modules[0].values.voltage_v.type: must be one of" % mapf
      in r.stderr, "bad map refused with its file:line:col and key: %r" % r.stderr)
g["modbus"]["map"] = "gbms"
g["strings"] = [{"modules": 260}, {"modules": 260}]
with open(bad, "w") as f:
    json.dump(field, f, indent=1)
r = subprocess.run([BUSD, "-n", "-f", bad], capture_output=True, text=True)
check(r.returncode == 1 and "gateways[0].strings: 520 modules in all; the G.BMS map addresses "
      "at most 512" in r.stderr,
      "520 modules refused (by the site check, before the map's own): %r" % r.stderr)
g["strings"] = [{"modules": 9}]
g["ambient_sensor"] = True
with open(bad, "w") as f:
    json.dump(field, f, indent=1)
r = subprocess.run([BUSD, "-n", "-f", bad], capture_output=True, text=True)
check(r.returncode == 1 and "gateways[0].ambient_sensor: the map" in r.stderr,
      "a sensor the map cannot read is refused: %r" % r.stderr)
g["ambient_sensor"] = False
with open(bad, "w") as f:
    json.dump(field, f, indent=1)
r = subprocess.run([BUSD, "-n", "-f", bad], capture_output=True, text=True)
check(r.returncode == 0 and "configuration OK" in r.stdout, "a fitting field gateway is OK: %r" %
      r.stderr)
g["source"], g["modbus"] = "modbus-rtu", {"device": "/dev/ttyS9", "unit": 0}
with open(bad, "w") as f:
    json.dump(field, f, indent=1)
r = subprocess.run([BUSD, "-n", "-f", bad], capture_output=True, text=True)
check(r.returncode == 1 and "gateways[0].modbus.unit: must be 1-247 on a serial line" in r.stderr,
      "unit 0 (broadcast) refused on a serial line: %r" % r.stderr)
# Thresholds that contradict the battery warn but do not fail: the guide's
# 12 V sample thresholds on 60 x 2 V 1000 Ah flooded cells (0.24 mOhm, 135 V
# at the top of the float band), from every daemon's -n.
sub = json.loads(text)
g = sub["gateways"][0]
g.update({"module_type": "C40", "strings": [{"name": "Main", "modules": 60}]})
g["battery"] = {"capacity_ah": 1000}
for k in ("voltage_v", "equalizing_min_v", "equalizing_max_v"):
    del g["thresholds"][k]
with open(bad, "w") as f:
    json.dump(sub, f, indent=2)
with open(bad) as f:
    lines = f.read().split("\n")
at = [i for i, l in enumerate(lines) if '"impedance_mohm": {' in l][0]
la = at + 1 + [i for i, l in enumerate(lines[at:]) if '"low_alarm"' in l][0] - 1
col = lines[la].index("1.1") + 1
for prog in (BUSD, ALARMD):
    r = subprocess.run([prog, "-n", "-f", bad], capture_output=True, text=True)
    name = os.path.basename(prog)
    check(r.returncode == 0 and "configuration OK" in r.stdout,
          "%s: a contradiction is a warning, not an error: %r" % (name, r.stderr))
    want = ("%s: warning: %s:%d:%d: gateways[0].thresholds.impedance_mohm.low_alarm: 1.1 mOhm is "
            "at or above the nominal impedance (battery.impedance_mohm), 0.24 mOhm: every healthy "
            "block is in alarm" % (name, bad, la + 1, col))
    check(want in r.stderr, "%s: warning names file:line:col, key, value and figure: want %r in %r"
          % (name, want, r.stderr))
    check("gateways[0].thresholds.string_voltage_v.high_warn: 125 V is at or below string "
          "\"Main\" (60 blocks: 135.0 V at the top of the float band)" in r.stderr,
          "%s: string high warning below the string's float voltage: %r" % (name, r.stderr))
    check(r.stderr.count("warning:") == 3, "%s: three warnings: %r" % (name, r.stderr))
r = subprocess.run([CLI, "-f", bad, "check"], capture_output=True, text=True)
check(r.returncode == 0 and "configuration OK" in r.stdout and r.stderr.count("warning:") == 3 and
      "ohmwatch: warning: %s:%d:%d: gateways[0].thresholds.impedance_mohm.low_alarm" %
      (bad, la + 1, col) in r.stderr, "ohmwatch check warns the same: %r" % r.stderr)
r = subprocess.run([CLI, "-f", os.path.join(ROOT, "etc", "two-gateways.json"), "check"],
                   capture_output=True, text=True)
check(r.returncode == 0 and "configuration OK" in r.stdout and not r.stderr,
      "ohmwatch check: two-gateways.json is OK: %r" % r.stderr)
done("test_config_check")
