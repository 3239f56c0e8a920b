"""busd restarted at speed > 1 starts its simulated clock at the wall clock
again, behind the clock of the busd before it, so alarmd's histories see
time go back. alarmd must go on judging, and the state it saves must load
when it restarts: before diag.c's push_point dropped the "later" points, the
state file held a history out of time order and alarmd refused to start
("diag: strings[0].vhist: point N: not in time order")."""
import os
import signal

from owtest import *

d = tmpdir()
cfg = os.path.join(d, "site.json")
scen = os.path.join(d, "s.json")
with open(scen, "w") as f:
    # a discharge from the start fills the slope histories at once
    json.dump({"name": "clock-back", "time_of_day_s": 43200, "events": [
        {"at_s": 0, "type": "discharge", "string": 0, "current_a": 10, "duration_s": 3000}]}, f)
s = site_with_alarmd(cfg, d, [{"id": "wm1"}])
A = s["services"]["alarmd"]
G = s["gateways"][0]
alarmd = start([ALARMD, "-f", cfg], stderr=subprocess.PIPE, text=True, errors="replace")
L = Listener(G["publish"], b"mod/")


def cli(*args):
    return subprocess.run([CLI, "-f", cfg] + list(args), capture_output=True, text=True,
                          timeout=30)


def last_ts():
    m = L.msgs[-1:] if L.msgs else []
    return m[0]["ts_us"] if m else 0


busd = start([BUSD, "-f", cfg, "-S", scen, "-s", "600"])
check(wait_for(lambda: last_ts() > 0, 15), "busd publishes")
t_first = last_ts()
# at 600x the simulated clock runs ahead of the wall clock: 40 minutes here
check(wait_for(lambda: last_ts() - t_first > 2400 * 10**6, 30), "busd's clock ran ahead")
ahead = last_ts()
busd.send_signal(signal.SIGKILL)
busd.wait()
n = len(L.msgs)
busd = start([BUSD, "-f", cfg, "-S", scen, "-s", "600"])
check(wait_for(lambda: any(m["ts_us"] < ahead - 600 * 10**6 for m in L.msgs[n:]), 20),
      "the restarted busd's readings are older than the last ones alarmd judged")
# alarmd judges a few cycles of the new clock (its health needs them current)
check(wait_for(lambda: cli("health", "alarmd").returncode == 0, 20), "alarmd follows the new busd")
time.sleep(2)
stop(alarmd)
err = alarmd.stderr.read()
check(alarmd.returncode == 0, "alarmd stopped cleanly: %r" % err[-500:])
alarmd = start([ALARMD, "-f", cfg], stderr=subprocess.PIPE, text=True, errors="replace")
ok = wait_for(lambda: alarmd.poll() is not None or cli("health", "alarmd").returncode == 0, 20)
check(alarmd.poll() is None, "alarmd starts from the state it saved")
check(ok and cli("health", "alarmd").returncode == 0, "alarmd healthy after the restart")
stop(alarmd)
err = alarmd.stderr.read()
check("not in time order" not in err, "no history refused: %r" % err[-500:])
L.close()
stop(busd)
done("test_busd_clock_back")
