"""busd (a discharge scenario), alarmd and the historian against a real
PostgreSQL started by the test: the discharge is stored at full rate while
float readings follow the normal log rate, and the alarm and discharge
events are in their tables."""
import os

from owtest import *

db = pg()
d = tmpdir()
cfg = os.path.join(d, "site.json")
scen = os.path.join(d, "s.json")
T0, DUR = 3600, 1800
with open(scen, "w") as f:
    json.dump({"name": "ingest", "events": [
        {"at_s": T0, "type": "discharge", "string": 0, "current_a": 25, "duration_s": DUR}]}, f)
# log_rate_s 600: one float reading per 10 min; log_rate_charge_s 0: all.
s = site_full(cfg, d, [{"id": "wm1", "log_rate_s": 600, "log_rate_charge_s": 0}], db.dsn)
hist = start([HISTORIAN, "-f", cfg])
alarmd = start([ALARMD, "-f", cfg])
time.sleep(0.5)
CYCLES = (T0 + DUR + 3600) // 6  # speed 600: 6 s of measurement time per reading
busd = start([BUSD, "-f", cfg, "-S", scen, "-s", "600", "--cycles", str(CYCLES), "--linger", "60"])


def last_seq():
    return db.scalar("SELECT seq FROM ingest_positions WHERE pub = 'busd.wm1'")


# busd publishes CYCLES x (18 + 2 + 1 + 1) messages plus 2 heartbeats.
total = CYCLES * 22 + 2
check(wait_for(lambda: last_seq() >= total - 1, 120, 0.5),
      "historian's position reached busd's last message (%d of %d)" % (last_seq(), total))
check(wait_for(lambda: db.scalar("SELECT count(*) FROM discharge_events WHERE end_at IS NOT NULL")
               == 2, 30, 0.5), "two discharge events completed")
stop(busd)
stop(alarmd)
stop(hist)
check(hist.returncode == 0, "historian stops cleanly")

t_start = db.query("SELECT min(ts) FROM module_readings")[0][0]
dis = db.query("SELECT string, start_at, end_at, duration_s, ah_removed, mode FROM "
               "discharge_events ORDER BY string")
for row in dis:
    check(abs(row[3] - DUR) <= 12 and abs(row[4] - 12.5) <= 0.15 and row[5] == "current",
          "discharge of string %d: %.0f s, %.2f Ah" % (row[0], row[3], row[4]))
start_at, end_at = dis[0][1], dis[0][2]

# Full rate during the discharge: every reading of every module.
n_dis = db.query("SELECT count(*) FROM module_readings WHERE ts >= %s AND ts < %s",
                 (start_at, end_at))[0][0]
cycles_dis = db.query("SELECT count(*) FROM string_readings WHERE string = 1 AND ts >= %s AND "
                      "ts < %s", (start_at, end_at))[0][0]
check(cycles_dis >= DUR // 6 - 2, "a string reading every cycle (%d)" % cycles_dis)
check(n_dis == 18 * cycles_dis, "all 18 modules at every cycle of the discharge (%d = 18 x %d)" %
      (n_dis, cycles_dis))
# Float before it: one reading per module per 600 s window.
pre = db.query("SELECT module, count(*) FROM module_readings WHERE ts < %s - interval '60 s' "
               "GROUP BY module", (start_at,))
span = db.query("SELECT extract(epoch FROM %s::timestamptz - min(ts)) FROM module_readings",
                (start_at,))[0][0]
want = int(span // 600)
check(len(pre) == 18 and all(abs(c - want) <= 1 for _, c in pre),
      "float: one reading per 10 min per module (%s, expected ~%d)" % (pre[:3], want))
check(db.query("SELECT count(*) FROM string_readings")[0][0] >= 2 * (CYCLES - 2),
      "every string reading stored")
# Real Power as busd computed it (migration 006), to the watt against the
# row's own voltage and current (real columns: float precision); a
# discharge's is negative.
bad = db.query("SELECT count(*) FROM string_readings WHERE power_kw IS NULL OR "
               "abs(power_kw - sum_voltage_v * current_a / 1000) > 0.0006")[0][0]
check(bad == 0, "power_kw = sum_voltage_v x current_a / 1000 in every row (%d off)" % bad)
pmin = db.query("SELECT max(power_kw) FROM string_readings WHERE ts >= %s AND ts < %s",
                (start_at, end_at))[0][0]
check(pmin is not None and -3.6 < pmin < -2.3,
      "25 A out of 9 x 12 V blocks: -2.3..-3.6 kW (weakest %s)" % pmin)
check(db.query("SELECT count(*) FROM string_readings WHERE ripple_v IS NULL")[0][0] == 0,
      "ripple_v stored with every simulated reading")
# Alarm events: discharging raised and cleared, stopped raised.
ev = db.query("SELECT type, action, count(*) FROM alarm_events GROUP BY 1, 2")
evd = {(t, a): n for t, a, n in ev}
check(evd.get((24, "raise")) == 2 and evd.get((24, "clear")) == 2,
      "bacsAlarmDischarging raised and cleared per string: %s" % evd)
check(evd.get((25, "raise"), 0) == 2, "bacsAlarmDischargingStopped per string")
check(db.query("SELECT count(*) FROM alarm_events WHERE name = 'bacsAlarmDischarging'")[0][0] == 4,
      "alarm names from the catalogue")
check(db.query("SELECT count(*) FROM gateway_states WHERE general & 8 = 8")[0][0] >= 1,
      "state words over time, DISCHARGING seen")
# Rollups agree with the raw rows they summarise.
r = db.query("SELECT sum(n) FROM module_readings_1m")[0][0]
check(r == db.query("SELECT count(*) FROM module_readings")[0][0], "1 m rollup counts every row")
r = db.query("SELECT max(abs(r.v_sum / r.v_n - x.a)) FROM module_readings_1h r JOIN "
             "(SELECT gw, module, date_trunc('hour', ts) b, avg(voltage_v) a FROM module_readings "
             "GROUP BY 1, 2, 3) x ON x.gw = r.gw AND x.module = r.module AND x.b = r.bucket")[0][0]
check(r is not None and r < 1e-3, "1 h rollup averages equal the raw averages (%s)" % r)
# Grafana's role reads but does not write.
import psycopg2
ro = psycopg2.connect(db.dsn.replace("user=ohmwatch_writer", "user=grafana_reader")
                      .replace("password=ohmwatch", "password=grafana"))
cur = ro.cursor()
cur.execute("SELECT count(*) FROM module_readings")
check(cur.fetchone()[0] > 0, "grafana_reader can read")
try:
    cur.execute("DELETE FROM module_readings")
    check(False, "grafana_reader must not write")
except psycopg2.Error:
    check(True, "grafana_reader cannot write")
ro.close()
done("test_historian_ingest")
