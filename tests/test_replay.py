"""A subscriber killed with SIGKILL and restarted at its last sequence gets
the range it missed through busd's replay: no gap, no duplicate."""
import json
import os
import signal
import time

from owtest import *

d = tmpdir()
cfg = os.path.join(d, "site.json")
site(cfg, [{"id": "wm1"}])
busd = start([BUSD, "-f", cfg, "-s", "20"])  # 20 polls/s: ~420 messages/s

out1 = os.path.join(d, "tail1.txt")
with open(out1, "w") as f:
    t1 = start([CLI, "-f", cfg, "tail"], stdout=f)
    check(wait_for(lambda: os.path.getsize(out1) > 20000, 15), "first subscriber receives")
    t1.send_signal(signal.SIGKILL)
    t1.wait()


def parse(path):
    rows = []
    with open(path) as f:
        for line in f:
            if not line.endswith("\n"):
                continue  # torn by the kill
            topic, rest = line.split(" ", 1)
            replayed = rest.rstrip().endswith("(replayed)")
            body = json.loads(rest.replace(" (replayed)", ""))
            rows.append((body["pub"], body["epoch"], body["seq"], replayed))
    return rows


r1 = parse(out1)
pub, epoch, last = r1[-1][0], r1[-1][1], r1[-1][2]
time.sleep(2.0)  # busd goes on publishing ~800 messages we miss

out2 = os.path.join(d, "tail2.txt")
with open(out2, "w") as f:
    t2 = start([CLI, "-f", cfg, "tail", "--since", "%s:%d:%d" % (pub, epoch, last),
                "--count", "2000"], stdout=f)
    t2.wait(timeout=30)
r2 = parse(out2)
stop(busd)

seqs1 = [r[2] for r in r1]
seqs2 = [r[2] for r in r2]
check(seqs1 == list(range(seqs1[0], seqs1[0] + len(seqs1))), "first run contiguous")
check(len(seqs2) == 2000, "second run delivered 2000 (%d)" % len(seqs2))
check(seqs2[0] == last + 1, "second run starts right after the last seen (%d vs %d)" %
      (seqs2[0], last + 1))
check(seqs2 == list(range(last + 1, last + 1 + len(seqs2))), "no gap, no duplicate")
missed = [r for r in r2 if r[3]]
check(len(missed) > 300, "the missed range came through replay (%d replayed)" % len(missed))
check(all(r[1] == epoch for r in r2), "same publisher epoch")
done("test_replay")
