"""alarmd killed with SIGKILL mid-scenario and restarted: no alarm is raised
twice, none is lost. The reference is the same scenario run without a kill:
the episodes (type, string, module, action) must be the same, and every
(id, action) is published for one episode only."""
import os
import signal

from owtest import *

EVENTS = [
    {"at_s": 300, "type": "module_lost", "string": 1, "block": 5, "duration_s": 900},
    {"at_s": 600, "type": "discharge", "string": 0, "current_a": 25, "duration_s": 1800},
    {"at_s": 3000, "type": "module_lost", "string": 2, "block": 2, "duration_s": 600},
]
CYCLES = 900  # 900 readings x 6 s = 5400 s simulated


def scenario_run(kill_at):
    d = tmpdir()
    cfg = os.path.join(d, "site.json")
    scen = os.path.join(d, "s.json")
    with open(scen, "w") as f:
        # The time of day pinned: the two runs start a minute apart, and the
        # daily swing of the room would make them differ (a block at 30.25
        # degC rounds to a warning in one run and not in the other).
        json.dump({"name": "restart", "time_of_day_s": 43200, "events": EVENTS}, f)
    s = site_with_alarmd(cfg, d, [{"id": "wm1"}])
    A = s["services"]["alarmd"]
    L = Listener(A["publish"], b"alm/")
    alarmd = start([ALARMD, "-f", cfg])
    time.sleep(0.5)
    # busd runs the whole scenario and keeps answering replay afterwards.
    busd = start([BUSD, "-f", cfg, "-S", scen, "-s", "600", "--cycles", str(CYCLES),
                  "--linger", "30"])
    if kill_at:
        wait_for(lambda: len(L.alarms()) >= kill_at, 60)
        alarmd.send_signal(signal.SIGKILL)
        alarmd.wait()
        time.sleep(2.0)  # busd goes on; alarmd misses ~300 readings
        alarmd = start([ALARMD, "-f", cfg])
    wait_for(lambda: busd.poll() is not None or False, 1)
    # Done when busd finished its cycles and alarmd caught up (events settle).
    n = -1
    while n != len(L.alarms()) or busd.poll() is None:
        n = len(L.alarms())
        time.sleep(1.5)
        if busd.poll() is not None and n == len(L.alarms()):
            break
    # Events the new alarmd published before the listener reconnected are
    # in its journal: merge them (a message is its (epoch, seq)).
    msgs = L.alarms()
    have = {(m["epoch"], m["seq"]) for m in msgs}
    msgs += [m for m in replay_all(A["replay"], "alm/") if (m["epoch"], m["seq"]) not in have]
    L.close()
    stop(alarmd)
    stop(busd)
    return msgs


ref = scenario_run(0)
got = scenario_run(3)


def episodes(msgs):
    """(type, string, module, action) once per (id, action), in order."""
    seen, out = set(), []
    for m in msgs:
        if (m["id"], m["action"]) in seen:
            continue
        seen.add((m["id"], m["action"]))
        out.append((m["type"], m["string"], m["module"], m["action"]))
    return out


check(len(ref) >= 6, "reference run raised and cleared alarms (%d events)" % len(ref))
check(sorted(episodes(got)) == sorted(episodes(ref)),
      "same episodes with a kill -9 as without:\n  ref %s\n  got %s" %
      (sorted(episodes(ref)), sorted(episodes(got))))
# A re-published event (same id, same action) must be identical, and no
# condition may have got a second id.
by_key = {}
for m in got:
    by_key.setdefault((m["id"], m["action"]), []).append(m)
check(all(len({(x["type"], x["string"], x["module"], x["raised_us"]) for x in v}) == 1
          for v in by_key.values()), "a repeated (id, action) is the same event")
raised = [(m["type"], m["string"], m["module"], m["raised_us"]) for m in got
          if m["action"] == "raise"]
ids_per_episode = {}
for m in got:
    if m["action"] == "raise":
        ids_per_episode.setdefault((m["type"], m["string"], m["module"], m["raised_us"]),
                                   set()).add(m["id"])
check(all(len(v) == 1 for v in ids_per_episode.values()), "one id per alarm episode")
done("test_alarmd_restart")
