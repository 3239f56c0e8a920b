"""A healthy battery raises nothing with the default thresholds: busd's
simulator and alarmd, as processes, on the shipped example sites (the
guide's sample, a substation's 60 x 2 V flooded cells, a telecom room's
16 x 32 x 12 V VRLA blocks) for 2 h of simulated float. Every warning and
alarm alarmd would publish is a threshold that does not fit the battery."""
import json
import os
import time

from owtest import *

FLOAT_S = 2 * 3600

# Per site: the simulator's acceleration and, for the 512-block site, a
# longer poll period so that 2 h take seconds without flooding two shared
# cores (the period only spaces the readings; the model steps the same).
SITES = [("site-sample.json", 600, None),
         ("site-substation.json", 600, None),
         ("site-telecom.json", 1200, 30000)]


def prepare(name, poll_ms):
    """The shipped site with private ports and state, thresholds untouched."""
    d = tmpdir()
    with open(os.path.join(ROOT, "etc", name)) as f:
        s = json.load(f)
    for g in s["gateways"]:
        g["publish"] = "tcp://127.0.0.1:%d" % free_port()
        g["replay"] = "tcp://127.0.0.1:%d" % free_port()
        if poll_ms:
            g["poll_ms"] = poll_ms
    s["services"] = alarmd_services(d)
    cfg = os.path.join(d, "site.json")
    with open(cfg, "w") as f:
        json.dump(s, f, indent=2)
    return cfg, s


def saved(state_file, gw):
    """alarmd's saved state of gateway gw (None until written)."""
    try:
        with open(state_file) as f:
            st = json.load(f)
    except (OSError, ValueError):
        return None
    return st.get("engine", {}).get("gateways", {}).get(gw)


for name, speed, poll_ms in SITES:
    cfg, s = prepare(name, poll_ms)
    gw = s["gateways"][0]
    A = s["services"]["alarmd"]
    r = subprocess.run([ALARMD, "-n", "-f", cfg], capture_output=True, text=True)
    check(r.returncode == 0 and "warning" not in r.stderr, "%s: -n clean: %r" % (name, r.stderr))
    L = Listener(A["publish"], replay=A["replay"])
    hb = Listener(gw["publish"], b"hb/")
    alarmd = start([ALARMD, "-f", cfg])
    busd = start([BUSD, "-f", cfg, "-s", str(speed)])
    t_start = time.time()

    # busd's epoch is the simulation's t = 0 (docs/scenarios.md).
    def sim_s():
        beats = hb.kind("heartbeat")
        return (beats[-1]["ts_us"] - beats[0]["epoch"]) / 1e6 if beats else 0

    check(wait_for(lambda: sim_s() >= FLOAT_S, 240, 0.2),
          "%s: 2 h simulated within 240 s (at %.0f s)" % (name, sim_s()))
    end_us = hb.kind("heartbeat")[-1]["ts_us"] if hb.kind("heartbeat") else 0
    hb.close()
    # alarmd has judged every reading up to the end once its saved state says so.
    done_ = wait_for(lambda: (saved(A["state_file"], gw["id"]) or {}).get("cycle", {})
                     .get("last_ts_us", 0) >= end_us - 60e6, 60, 0.2)
    check(done_, "%s: alarmd caught up with 2 h of readings" % name)
    t_sim = time.time() - t_start
    stop(busd)
    time.sleep(0.5)
    st = saved(A["state_file"], gw["id"]) or {}
    flags = st.get("flags", {})
    raised = L.alarms("raise")
    check(not raised, "%s: no warning or alarm in 2 h of float: %d raised, e.g. %s" %
          (name, len(raised), "; ".join(a.get("text", "") for a in raised[:8])))
    check(flags.get("alarms_active", -1) == 0 and flags.get("module_alarms", -1) == 0 and
          flags.get("module_warnings", -1) == 0,
          "%s: alarms_active == 0 in alarmd's state: %s" %
          (name, {k: flags.get(k) for k in ("alarms_active", "module_alarms", "module_warnings")}))
    states = L.kind("state")
    check(not states or states[-1]["alarms_active"] == 0,
          "%s: last published state has no active alarm" % name)
    print("%s: %d modules, 2 h simulated and judged in %.1f s, %d alarm messages" %
          (name, sum(x["modules"] for x in gw["strings"]), t_sim, len(L.alarms())))
    L.close()
    stop(alarmd)
done("test_healthy_sites")
