"""`ohmwatch status` against two busd processes side by side (two
webmanagers): both gateways' strings shown with plausible values."""
import os
import re
import subprocess

from owtest import *

d = tmpdir()
cfg = os.path.join(d, "site.json")
site(cfg, [{"id": "wm1", "name": "UPS A/B"},
           {"id": "wm2", "name": "Charger C", "strings": [{"name": "DC C", "modules": 12}],
            "sim": {"seed": 7}}], name="Two webmanagers")
b1 = start([BUSD, "-f", cfg, "-g", "wm1", "-s", "10"])
b2 = start([BUSD, "-f", cfg, "-g", "wm2", "-s", "10"])
r = subprocess.run([CLI, "-f", cfg, "status", "--once", "--timeout", "20"],
                   capture_output=True, text=True, timeout=60)
stop(b1)
stop(b2)
out = r.stdout
check(r.returncode == 0, "status --once exits 0 (%d: %s)" % (r.returncode, r.stderr[-300:]))
for name in ("String UPS A", "String UPS B", "String DC C", "Gateway wm1", "Gateway wm2"):
    check(name in out, "shows " + name)

rows = re.findall(r"^\s+(\d+)\s+(\d+\.\d{3})\s+(-?\d+\.\d)\s+(\d+\.\d\d)\s", out, re.M)
check(len(rows) == 9 + 9 + 12, "one row per block (%d)" % len(rows))
for no, v, t, ri in rows:
    v, t, ri = float(v), float(t), float(ri)
    check(13.2 < v < 14.0, "float voltage plausible: %s" % v)
    check(15 < t < 40, "temperature plausible: %s" % t)
    check(2 < ri < 10, "impedance plausible for 50 Ah 12 V: %s" % ri)
sums = re.findall(r"Σ Voltage (\d+\.\d\d) V", out)
check(len(sums) == 3, "a sum voltage per string")
check(all(115 < float(s) < 126 for s in sums[:2]), "9-block sums plausible %s" % sums[:2])
check(155 < float(sums[2]) < 168, "12-block sum plausible %s" % sums[2:])

# Nothing running: status says so instead of hanging.
r = subprocess.run([CLI, "-f", cfg, "status", "--once", "--timeout", "1"],
                   capture_output=True, text=True, timeout=30)
check(r.returncode != 0 and "no complete poll cycle" in r.stderr, "clear error without busd")
done("test_status")
