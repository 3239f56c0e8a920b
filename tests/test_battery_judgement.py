"""Battery judgement with busd's simulator and alarmd as processes, on the
guide's sample site (2 x 9 x 12 V 50 Ah VRLA, breaker on GX_R_AUX output 1)
at 22 degC:
1. a one-hour 0.5C outage (25 A per string), the recharge to float and six
   hours more: no thermal runaway (22), no breaker alarm (21), no breaker
   command, no impedance baseline alarm (101/102) - the false trip this
   monitor used to make;
2. a string's breaker opens for 6 h: open string (105) on that string within
   5 minutes, not on the other;
3. the charger stops on every string for 48 h: loss of float (106) on both
   within 5 minutes.
The thermal runaway scenario itself (alarm 22 and the breaker command) is
tests/test_alarmd_scenarios.py's case 3."""
import os

from owtest import *

SPEED = 1200  # one reading per 12 simulated seconds


def run(name, events, sim_s, extra=None):
    """busd (scenario) and alarmd on a fresh sample site at 22 degC until
    busd's clock has run sim_s simulated seconds; return the alarmd
    listener, the heartbeat epoch (t = 0) and the procs."""
    d = tmpdir()
    cfg = os.path.join(d, "site.json")
    scen = os.path.join(d, "scenario.json")
    with open(scen, "w") as f:
        json.dump({"name": name, "events": events}, f)
    gw = {"id": "wm1", "sim": {"ambient_c": 22},
          "thresholds": {"thermal_runaway": {"breaker_output": 1}}}
    gw.update(extra or {})
    s = site_with_alarmd(cfg, d, [gw])
    A = s["services"]["alarmd"]
    L = Listener(A["publish"], replay=A["replay"])
    hb = Listener(s["gateways"][0]["publish"], b"hb/")
    alarmd = start([ALARMD, "-f", cfg])
    busd = start([BUSD, "-f", cfg, "-S", scen, "-s", str(SPEED)])

    def clock():
        b = hb.kind("heartbeat")
        return (b[-1]["ts_us"] - b[0]["epoch"]) / 1e6 if b else 0

    ok = wait_for(lambda: clock() >= sim_s, sim_s / SPEED * 3 + 60, 0.2)
    check(ok, "%s: busd ran %.0f of %d simulated s" % (name, clock(), sim_s))
    beats = hb.kind("heartbeat")
    t0 = beats[0]["epoch"] if beats else 0
    hb.close()
    return L, t0, (busd, alarmd)


def finish(L, procs):
    L.close()
    for p in procs:
        stop(p)


def raised(L, code):
    return [a for a in L.alarms("raise") if a["type"] == code]


# 1. Outages and their recharges trip nothing: the 0.5C hour, and a
# 1C discharge to the UPS's cut-off recharged at a 0.25C charger limit
# (blocks about 10 degC above the room after it: the old rule tripped).
OUT_AT = 3600
for name, amps, secs, extra in (("outage-0.5C", 25, 3600, None),
                                ("outage-1C", 50, 3600, {"sim": {"ambient_c": 22,
                                                                 "charge_limit_c": 0.25}})):
    L, t0, procs = run(name, [{"at_s": OUT_AT, "type": "discharge", "string": 0,
                               "current_a": amps, "duration_s": secs}],
                       OUT_AT + secs + 12 * 3600, extra)
    dis = [x for x in L.kind("discharge") if x["action"] == "end"]
    check(len(dis) == 2 and all(x["ah_removed"] > 0.6 * amps * min(secs, 2400) / 3600
                                for x in dis),
          "%s: two discharges: %s Ah" % (name, [x.get("ah_removed") for x in dis]))
    states = L.kind("state")
    check(states and states[-1]["general"] & 0x0040, "%s: back on float at the end" % name)
    for code, what in ((22, "thermal runaway"), (21, "breaker opened"), (101, "baseline warning"),
                       (102, "baseline alarm"), (105, "open string"), (106, "loss of float")):
        check(not raised(L, code), "%s: no %s (%d) after the outage and its recharge: %s" %
              (name, what, code, raised(L, code)[:1]))
    check(not [c for c in L.kind("control") if c["cmd"] == "output"],
          "%s: no breaker command" % name)
    finish(L, procs)

# 2. String 1's breaker opens for 6 h (its current sensor reads 0).
OPEN_AT = 3 * 3600
L, t0, procs = run("open-string",
                   [{"at_s": OPEN_AT, "type": "breaker_open", "string": 1, "duration_s": 6 * 3600}],
                   OPEN_AT + 1800)
op = raised(L, 105)
check(len(op) == 1 and op[0]["string"] == 1, "open string (105) on string 1 only: %s" % op)
if op:
    after = (op[0]["raised_us"] - t0) / 1e6 - OPEN_AT
    check(0 < after <= 300, "open string raised %.0f s after the breaker opened (<= 300)" % after)
    print("open string: raised %.0f s after the breaker opened" % after)
check(not raised(L, 106), "not loss of float: string 2 is held by the charger")
check(not raised(L, 22), "no thermal runaway")
finish(L, procs)

# 3. The charger stops on every string.
OFF_AT = 3 * 3600
L, t0, procs = run("charger-off",
                   [{"at_s": OFF_AT, "type": "charger_off", "string": 0, "duration_s": 48 * 3600}],
                   OFF_AT + 1800)
lf = raised(L, 106)
check(sorted(a["string"] for a in lf) == [1, 2], "loss of float (106) on both strings: %s" % lf)
for a in lf:
    after = (a["raised_us"] - t0) / 1e6 - OFF_AT
    check(0 < after <= 300, "loss of float raised %.0f s after the charger stopped" % after)
    print("loss of float: string %d raised %.0f s after the charger stopped" % (a["string"], after))
check(not raised(L, 105), "not open string: no string is held")
finish(L, procs)
done("test_battery_judgement")
