"""busd and a subscriber as separate processes: a scenario's discharge shows
in the published readings with the sag physics predicts, then recharge."""
import json
import os
import subprocess

from owtest import *

d = tmpdir()
cfg = os.path.join(d, "site.json")
scen = os.path.join(d, "discharge.json")
I = 25.0  # 0.5 C for the sample site's 50 Ah blocks
T0 = 120  # discharge starts 120 s of simulated time after the start
DUR = 1800
with open(scen, "w") as f:
    json.dump({"name": "test discharge", "events": [
        {"at_s": T0, "type": "discharge", "string": 0, "current_a": I, "duration_s": DUR}]}, f)
site(cfg, [{"id": "wm1"}])

out = os.path.join(d, "tail.jsonl")
cycles = T0 + DUR + 600  # one poll per simulated second
with open(out, "w") as f:
    # The subscriber asks for the whole journal on first contact, so it does
    # not matter which process starts first.
    tail = start([CLI, "-f", cfg, "tail", "--json", "--from-start", "--idle", "3"], stdout=f)
    busd = start([BUSD, "-f", cfg, "-S", scen, "-s", "600", "--cycles", str(cycles),
                  "--linger", "5"])
    tail.wait(timeout=120)
stop(busd)
check(busd.returncode == 0, "busd exits cleanly after --cycles (rc %s)" % busd.returncode)

msgs = read_json_lines(out)
seqs = [m["seq"] for m in msgs]
check(len(msgs) > 0, "subscriber received messages")
check(seqs == list(range(1, len(seqs) + 1)), "every sequence number once, in order")
mods = [m for m in msgs if m["kind"] == "module"]
strs = [m for m in msgs if m["kind"] == "string"]
check(len(mods) >= 18 * (cycles - 5), "18 module readings per poll (%d)" % len(mods))
t_start = msgs[0]["ts_us"]


def at(ms, t_s):
    return [m for m in ms if abs((m["ts_us"] - t_start) / 1e6 - t_s) < 0.6]


def rel(m):
    return (m["ts_us"] - t_start) / 1e6


# Float before the discharge: charger holds ~2.27 V/cell, small current.
pre = [m for m in mods if T0 - 30 < rel(m) < T0 - 2]
check(all(13.2 < m["voltage_v"] < 14.0 for m in pre), "float block voltages 13.2..14.0 V")
pre_s = [s for s in strs if T0 - 30 < rel(s) < T0 - 2]
check(all(0 <= s["current_a"] < 1.0 for s in pre_s), "float current small and positive")

# During the discharge: current is -I, each block sags at once by at least
# the ohmic drop I*R (R as the module reports it) plus the float surcharge.
dis_s = [s for s in strs if T0 + 5 < rel(s) < T0 + DUR - 5]
check(len(dis_s) > 100, "string readings during discharge")
check(all(abs(s["current_a"] + I) < 1.0 for s in dis_s), "string current = -%g A" % I)
for blk in range(1, 19):
    before = [m for m in pre if m["module"] == blk][-1]
    first = [m for m in mods if m["module"] == blk and T0 + 2 < rel(m) < T0 + 10][0]
    last = [m for m in mods if m["module"] == blk and T0 + DUR - 10 < rel(m) < T0 + DUR - 2][-1]
    sag = before["voltage_v"] - first["voltage_v"]
    ir = I * first["impedance_mohm"] / 1000.0
    check(ir < sag < 2.5, "block %d sag %.3f V > I*R %.3f V and < 2.5 V" % (blk, sag, ir))
    check(first["voltage_v"] < 12.9 - ir * 0.9,
          "block %d under load %.3f below open-circuit 12.9 - I*R" % (blk, first["voltage_v"]))
    check(last["voltage_v"] < first["voltage_v"] - 0.05,
          "block %d voltage falls during discharge (%.3f -> %.3f)" %
          (blk, first["voltage_v"], last["voltage_v"]))
    check(last["voltage_v"] > 10.5, "block %d stays above 1.75 V/cell at 50%% DoD" % blk)

# String voltage is the sum of its blocks.
for s in dis_s[:50]:
    blocks = [m for m in mods if m["ts_us"] == s["ts_us"] and m["string"] == s["string"]]
    check(abs(sum(m["voltage_v"] for m in blocks) - s["sum_voltage_v"]) < 0.02,
          "sum voltage = sum of blocks")

# After the discharge the charger recharges: positive current above float.
post = [s for s in strs if T0 + DUR + 30 < rel(s) < T0 + DUR + 300]
check(len(post) > 0 and all(s["current_a"] > 1.0 for s in post),
      "recharge current after the discharge (%s)" %
      ([round(s["current_a"], 2) for s in post[:3]]))
done("test_busd_discharge")
