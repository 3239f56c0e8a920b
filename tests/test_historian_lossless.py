"""Nothing lost, nothing twice: the historian killed with SIGKILL
mid-stream and restarted; PostgreSQL stopped for a while (the historian
spools, is killed while spooling, restarts on its spool) and started
again. Afterwards the stored readings are exactly the published ones: same
count, same set of sequence numbers, no duplicates."""
import os
import signal

from owtest import *

db = pg()
d = tmpdir()
cfg = os.path.join(d, "site.json")
# Every reading kept (log rate 1 s = the poll period), so stored must equal published.
s = site_full(cfg, d, [{"id": "wm1", "log_rate_s": 1, "log_rate_charge_s": 0,
                        "journal_messages": 1000000}], db.dsn, {"batch_ms": 50})
CYCLES = 2500  # at 50 cycles/s: 50 s
busd = start([BUSD, "-f", cfg, "-s", "50", "--cycles", str(CYCLES), "--linger", "120"])
hist = start([HISTORIAN, "-f", cfg])


def stored():
    return db.scalar("SELECT count(*) FROM module_readings")


check(wait_for(lambda: stored() > 5000, 30, 0.2), "historian is storing")
# 1. SIGKILL mid-stream, a pause, restart.
hist.send_signal(signal.SIGKILL)
hist.wait()
time.sleep(2.0)
hist = start([HISTORIAN, "-f", cfg])
check(wait_for(lambda: stored() > 20000, 40, 0.2), "storing again after kill -9")

# 2. PostgreSQL away: the historian spools; kill it while it spools and
# restart it on its spool; then PostgreSQL comes back.
db.stop()
time.sleep(3.0)
spool = os.path.join(d, "spool")
check(wait_for(lambda: os.path.isdir(spool) and
               sum(os.path.getsize(os.path.join(spool, f)) for f in os.listdir(spool)) > 0, 10),
      "readings go to the spool while PostgreSQL is down")
hist.send_signal(signal.SIGKILL)
hist.wait()
hist = start([HISTORIAN, "-f", cfg])
time.sleep(2.0)
db.start()

# busd publishes 22 messages per cycle plus a starting and a stopping heartbeat.
want = CYCLES * 22 + 2
check(wait_for(lambda: db.scalar("SELECT seq FROM ingest_positions WHERE pub='busd.wm1'")
               >= want, 180, 0.5), "historian's position reached busd's last message")
stop(hist)

published = replay_all(s["gateways"][0]["replay"])
stop(busd)
pub_seqs = {m["seq"] for m in published if m["kind"] in ("module", "string", "aux")}
check(len(published) == want, "busd's journal holds everything it published (%d)" % len(published))
rows = db.query("SELECT seq FROM module_readings UNION ALL SELECT seq FROM string_readings "
                "UNION ALL SELECT seq FROM sensor_readings")
got = [r[0] for r in rows]
check(len(got) == len(set(got)), "no duplicates (%d rows, %d distinct)" % (len(got), len(set(got))))
check(set(got) == pub_seqs, "stored sequence set equals the published one: missing %d, extra %d" %
      (len(pub_seqs - set(got)), len(set(got) - pub_seqs)))
check(len(got) == len(pub_seqs), "count equal: %d stored, %d published" % (len(got), len(pub_seqs)))
# Values too, for a sample: what is stored is what was published.
sample = [m for m in published if m["kind"] == "module"][::997]
ok = True
for m in sample:
    r = db.query("SELECT voltage_v, temp_c, impedance_mohm FROM module_readings WHERE seq = %s",
                 (m["seq"],))
    ok = ok and r and abs(r[0][0] - m["voltage_v"]) < 1e-3 and abs(r[0][1] - m["temp_c"]) < 1e-3
check(ok, "stored values equal published values (%d sampled)" % len(sample))
done("test_historian_lossless")
