#!/usr/bin/env python3
"""Every query of the Grafana dashboards (deploy/grafana/dashboards/*.json),
run against the real schema (services/historian/migrations/001_init.sql) in a
private PostgreSQL cluster filled with generated history, as Grafana's
read-only role.

Grafana is not run: its PostgreSQL data source is emulated the way it
prepares a query: the frontend interpolates template variables (single
value raw, multi-value / All quoted and comma-joined, ${var:sqlstring},
${var:csv}, ...) and $__interval / $__interval_ms (range / maxDataPoints,
rounded like rangeutil.roundInterval, not below the panel's min interval);
the backend then expands the macros exactly as
pkg/tsdb/grafana-postgresql-datasource/macros.go does ($__timeFilter,
$__timeFrom, $__timeTo as RFC 3339 string literals, $__timeGroup as
floor(extract(epoch from col)/secs)*secs, ...).

Checks: no SQL error anywhere (five time ranges, three gateway/string
choices, every panel, variable and annotation query), rows over the
generated range, time series shaped as Grafana needs ("time" first, sorted,
numeric values), rollup-based and raw-based panels agreeing, and the figures
the panels show for the generated history: discharge Ah and depth of discharge %, the
weakest block, active alarm counts, decoded state words, alarm durations,
projected impedance alarms. Needs Debian's python3-psycopg2."""
import datetime
import glob
import io
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import owtest  # noqa: E402
from owtest import check  # noqa: E402

import psycopg2  # noqa: E402
import psycopg2.errors  # noqa: E402

ROOT = owtest.ROOT
GRAFANA = os.path.join(ROOT, "deploy", "grafana")
DASHBOARDS = os.path.join(GRAFANA, "dashboards")
MIGRATIONS = os.path.join(ROOT, "services", "historian", "migrations")
HEADER = os.path.join(ROOT, "proto", "ow_gbms.h")
DS_UID = "ohmwatch-pg"
UTC = datetime.timezone.utc

# ------------------------------------------------------------------ the history
DAY = 86400
T0 = int(datetime.datetime(2024, 3, 4, tzinfo=UTC).timestamp())
DAYS = 3
T_END = T0 + DAYS * DAY            # readings in [T0, T_END)
STEP = 600                         # every 10 minutes
D0 = T0 + DAY + 10 * 3600          # the discharge of gw1 string 1 ...
DDUR = 3600                        # ... one hour, readings every 10 s
DCUR = -45.0                       # A: 45 Ah out of 100 Ah
T_LOST = T0 + 2 * DAY + 3 * 3600   # gw1 module 12 stops answering
T_TR = T0 + 2 * DAY + 6 * 3600     # gw2 module 7 heats up: thermal runaway
NSTR, NBLK = 2, 9
GATEWAYS = {"gw1": ("Substation A - UPS 1", 100.0), "gw2": ("Substation A - UPS 2", 150.0)}
WEAK = 5                           # gw1's weakest block (string 1)
RISING = ("gw2", 7)                # the module whose impedance climbs
SLOPE = 28.0                       # its trend, %/year


def sb(module):
    return (module - 1) // NBLK + 1, (module - 1) % NBLK + 1


def lost(gw, module, t):
    """gw1 module 12 misses every third poll for two hours, then stops answering:
    rollup buckets mixing answered and lost polls (n > v_n) and all-lost ones."""
    if gw != "gw1" or module != 12:
        return False
    return t >= T_LOST or (t >= T_LOST - 7200 and (t // STEP) % 3 == 0)


def volt(gw, module, t):
    s, b = sb(module)
    if lost(gw, module, t):
        return None
    if gw == "gw1" and s == 1:
        if D0 <= t <= D0 + DDUR:
            x = (t - D0) / DDUR
            v = 12.85 - 0.9 * x - 0.35 * x ** 6 - 0.02 * b * x
            if b == WEAK:
                v -= 0.15 * x + 0.5 * x ** 3
            return v
        if D0 + DDUR < t < D0 + DDUR + 4 * 3600:
            return 14.10 - 0.48 * (t - D0 - DDUR) / (4 * 3600) + 0.005 * b
    return 13.62 + 0.01 * ((module * 7) % 5 - 2) + 0.005 * math.sin(2 * math.pi * t / DAY + module)


def temp(gw, module, t):
    if lost(gw, module, t):
        return None
    s, b = sb(module)
    v = 23.0 + 1.5 * math.sin(2 * math.pi * (t / DAY - 0.3)) + 0.2 * b
    if (gw, module) == RISING and t >= T_TR:
        v += min(25.0, (t - T_TR) / 3600 * 5)
    return v


def baseline(module):
    s, b = sb(module)
    return 4.6 + 0.05 * b + 0.1 * (s - 1)


def deviation(gw, module, t):
    if (gw, module) == RISING:
        return SLOPE / 365.0 * (t - (T0 - 364 * DAY)) / DAY
    return 1.5 + 0.8 * math.sin(t / DAY / 9 + module)


def imp(gw, module, t):
    if lost(gw, module, t):
        return None
    return baseline(module) * (1 + deviation(gw, module, t) / 100)


def times(gw, string):
    grid = set(range(T0, T_END, STEP))
    if gw == "gw1" and string == 1:
        grid |= set(range(D0, D0 + DDUR + 1, 10))
    return sorted(grid)


def current(gw, s, t):
    if gw == "gw2":
        return None  # no current sensor
    if s == 1 and D0 <= t <= D0 + DDUR:
        return DCUR
    if s == 1 and t > D0 + DDUR:
        return 0.3 + 20 * math.exp(-(t - D0 - DDUR) / 3600)
    return 0.3


RUN, LOSTM, DIS, CHG, DSTOP, FLOAT, VOOR, TOOR = 1, 4, 8, 16, 32, 64, 512, 1024
# (ts, gw, general, battery, alarm, alarms_active, module_alarms, module_warnings, audible)
STATES = [
    (T0, "gw1", RUN | FLOAT, 0, 0, 0, 0, 0, False),
    (D0, "gw1", RUN | DIS, 0, 0, 1, 0, 0, False),
    (D0 + 2400, "gw1", RUN | DIS, 0, 0, 2, 0, 1, False),
    (D0 + 3300, "gw1", RUN | DIS | VOOR, 1, 9, 3, 1, 1, True),
    (D0 + 3600, "gw1", RUN | CHG | DSTOP | VOOR, 1, 9, 2, 1, 1, True),
    (D0 + 4200, "gw1", RUN | CHG | DSTOP, 0, 0, 1, 0, 1, False),
    (D0 + 5400, "gw1", RUN | CHG | DSTOP, 0, 0, 0, 0, 0, False),
    (D0 + DDUR + 4 * 3600, "gw1", RUN | FLOAT, 0, 0, 0, 0, 0, False),
    (T_LOST, "gw1", RUN | LOSTM | FLOAT, 1, 3, 1, 1, 0, True),
    (T0, "gw2", RUN | FLOAT, 0, 0, 0, 0, 0, False),
    (T0 + 5 * 3600, "gw2", RUN | FLOAT, 0, 0, 1, 0, 1, False),
    (T0 + 6 * 3600, "gw2", RUN | DIS, 0, 0, 2, 0, 1, False),
    (T0 + 6 * 3600 + 120, "gw2", RUN | CHG | DSTOP, 0, 0, 1, 0, 1, False),
    (T0 + 7 * 3600, "gw2", RUN | FLOAT, 0, 0, 0, 0, 0, False),
    (T0 + 12 * 3600, "gw2", RUN | FLOAT, 0, 0, 1, 0, 1, False),
    (T_TR, "gw2", RUN | FLOAT | TOOR, 1, 17, 2, 1, 1, True),
    (T_TR + 300, "gw2", RUN | FLOAT | TOOR, 9, 17, 3, 1, 1, True),
]

# (id, gw, type, name, severity, string, module, value, threshold, raised, cleared, acked, text)
ALARMS = [
    (1, "gw1", 24, "bacsAlarmDischarging", 0, 1, 0, None, None, D0, D0 + DDUR, None,
     "string 1 discharging"),
    (2, "gw1", 14, "bacsAlarmVoltageWarnLow", 1, 1, 5, 11.95, 12.0, D0 + 2400, D0 + 5400,
     D0 + 2700, "block 5 voltage low (warning)"),
    (3, "gw1", 7, "bacsAlarmVoltageLow", 2, 1, 5, 11.39, 11.4, D0 + 3300, D0 + 4200,
     D0 + 3480, "block 5 voltage low"),
    (4, "gw1", 1, "bacsAlarmSystemError", 2, 2, 12, None, None, T_LOST, None, T_LOST + 1200,
     "module 12 does not answer"),
    (5, "gw2", 17, "bacsAlarmResistWarnHigh", 1, 1, 3, 6.1, 6.0, T0 + 5 * 3600, T0 + 7 * 3600,
     None, "block 3 impedance high (warning)"),
    (6, "gw2", 24, "bacsAlarmDischarging", 0, 2, 0, None, None, T0 + 6 * 3600,
     T0 + 6 * 3600 + 120, None, "string 2 discharging"),
    (7, "gw2", 101, "ohmwatchImpedanceBaselineWarn", 1, 1, 7, 21.3, 20.0, T0 + 12 * 3600, None,
     T0 + 13 * 3600, "block 7 impedance 21 % above baseline"),
    (8, "gw2", 8, "bacsAlarmTemperatureHigh", 2, 1, 7, 45.2, 45.0, T_TR, None, None,
     "block 7 temperature high"),
    (9, "gw2", 22, "bacsAlarmThermalRunaway", 2, 1, 0, None, None, T_TR + 300, None, None,
     "thermal runaway on string 1"),
    (13, "gw1", 23, "bacsAlarmSensorCommunicationLost", 1, 0, 0, None, None, T0 - 30 * DAY,
     T0 - 30 * DAY + 3600, T0 - 30 * DAY + 600, "ambient sensor reads nothing"),
] + [(10 + k, "gw2", 13, "bacsAlarmVoltageWarnHigh", 1, 2, 12, 14.45, 14.4,
      T0 + k * DAY + 2 * 3600, T0 + k * DAY + 2 * 3600 + 1200, None,
      "block 3 voltage high (warning)") for k in range(3)]

CONFIG = [(D0 - 1800, "gw1", "thresholds.voltage_v.low_warn", 12.0, 11.8, "control"),
          (T0 + DAY, "gw2", "thresholds.temp_c.high_alarm", 45.0, 50.0, "reload"),
          (T0 - 100 * DAY, "gw1", "thresholds.baseline_warn_pct", 20.0, None, "state")]
# The audit log: the same changes with their authors, and an operator's ack.
WHO = {"control": "cli/alice", "reload": "site-file", "state": "alarmd"}
AUDIT = [(t, gw, WHO[src], key, "" if old is None else "%g" % old, "%g" % val, src, val, old)
         for t, gw, key, val, old, src in CONFIG] + \
        [(D0 - 600, "gw1", "snmpd/nms", "ack.7", "active", "1 acknowledged", "command", 1.0, None)]

# What gw1, polled as a field device, says about itself (device_flags holds
# changes, a connection's first message and keep-alives; device_module_flags
# a module's word when it changes, every one with a connection's first):
# its voltage-low alarm on module 5 during the discharge, a partial link after.
AL_GEN, AL_VLOW = 1, 8
DEVICE = [(T0, "gw1", "up", RUN | FLOAT, 0, 0, "start"),
          (T0 + 600, "gw1", "up", RUN | FLOAT, 0, 0, "keepalive"),
          (D0 + 600, "gw1", "up", RUN | DIS, 0, AL_GEN | AL_VLOW, "change"),
          (D0 + DDUR + 600, "gw1", "partial", RUN | CHG, 0, 0, "change")]
DEVICE_MODULES = [(T0, "gw1", m, 0) for m in range(1, NSTR * NBLK + 1)] + \
    [(D0 + 600, "gw1", 5, AL_GEN | AL_VLOW), (D0 + DDUR + 600, "gw1", 5, 0)]

RANGES = {
    "3d": (T0, T_END),                         # 1-minute rollup branch
    "discharge": (D0 - 3600, D0 + 2 * 3600),   # raw branch
    "mid": (D0 - 3 * 3600, D0 + 3000),         # ends inside the discharge, alarms active
    "all": (T0 - 365 * DAY, T_END),            # 1-hour rollup branch
    "empty": (T0 - 800 * DAY, T0 - 700 * DAY),  # no data at all
}
COMBOS = {"gw1/1": {"gw": "gw1", "string": "1", "module": "5"},
          "gw1/2": {"gw": "gw1", "string": "2", "module": "12"},
          "gw2/1": {"gw": "gw2", "string": "1", "module": "7"}}
# Panels allowed to be empty on a range with data (combo gw1/1): the short
# ranges around the discharge hold no baseline (measured daily at 03:00).
EMPTY_OK = {("discharge", "impedance-trends.json"), ("mid", "impedance-trends.json")}


def iso(t):
    return datetime.datetime.fromtimestamp(t, UTC).isoformat()


def copy(cur, table, cols, rows):
    buf = io.StringIO()
    for r in rows:
        buf.write("\t".join("\\N" if v is None else str(v) for v in r) + "\n")
    buf.seek(0)
    cur.copy_expert("COPY %s (%s) FROM STDIN" % (table, ", ".join(cols)), buf)


def fill(conn):
    """The generated history, as the historian would have stored it."""
    cur = conn.cursor()
    cur.execute("SET TimeZone = 'UTC'")
    for gw, (name, cap) in GATEWAYS.items():
        cur.execute("INSERT INTO gateways (gw, name, module_type, manufacturer, battery_type, "
                    "capacity_ah, installed, location, nstrings, nmodules) VALUES "
                    "(%s, %s, 'gx-m12', 'Generic', 'VRLA 12 V', %s, '2023-03-01', 'room 1', "
                    "%s, %s)", (gw, name, cap, NSTR, NSTR * NBLK))
        for s in range(1, NSTR + 1):
            cur.execute("INSERT INTO strings VALUES (%s, %s, %s, %s, %s)",
                        (gw, s, "String %d" % s, NBLK, (s - 1) * NBLK + 1))
        for m in range(1, NSTR * NBLK + 1):
            cur.execute("INSERT INTO modules VALUES (%s, %s, %s, %s)", (gw, m) + sb(m))
    for d in range(DAYS):
        cur.execute("SELECT ohmwatch_ensure_partitions(%s::date)",
                    (datetime.datetime.fromtimestamp(T0 + d * DAY, UTC).date(),))
    seq = 0
    mods, strs, auxs = [], [], []
    for gw in GATEWAYS:
        for s in range(1, NSTR + 1):
            for t in times(gw, s):
                vs = []
                for b in range(1, NBLK + 1):
                    m = (s - 1) * NBLK + b
                    v = volt(gw, m, t)
                    seq += 1
                    mods.append((iso(t), gw, s, m, b, v, temp(gw, m, t), imp(gw, m, t), 0.0,
                                 1 if lost(gw, m, t) else 0, 1, seq))
                    if v is not None:
                        vs.append(v)
                seq += 1
                cur_a = current(gw, s, t)
                # Real Power as busd computes it: to the watt, null without a sensor
                strs.append((iso(t), gw, s, NBLK, NBLK - len(vs), cur_a,
                             None if cur_a is None else 0.5, sum(vs), sum(vs) / len(vs),
                             None if cur_a is None else owtest.cround(sum(vs) * cur_a) / 1000,
                             0.0, 1, seq))
        for t in range(T0, T_END, STEP):
            seq += 1
            ph = 2 * math.pi * t / DAY
            auxs.append((iso(t), gw, 22 + 2 * math.sin(ph), 45 + 5 * math.sin(ph + 1),
                         0.2 if gw == "gw1" else None, 1, 0,
                         1 if gw == "gw2" and t >= T_TR + 300 else 0, 1, seq))
    copy(cur, "module_readings", ["ts", "gw", "string", "module", "block", "voltage_v", "temp_c",
                                  "impedance_mohm", "eq_pct", "status", "epoch", "seq"], mods)
    copy(cur, "string_readings", ["ts", "gw", "string", "modules", "modules_lost", "current_a",
                                  "ac_current_a", "sum_voltage_v", "avg_voltage_v", "power_kw",
                                  "ripple_v", "epoch", "seq"], strs)
    copy(cur, "sensor_readings", ["ts", "gw", "ambient_c", "humidity_pct", "hydrogen_pct_lel",
                                  "aux_units", "inputs", "outputs", "epoch", "seq"], auxs)
    # Rollups, as the historian maintains them: per module and bucket.
    for table, unit in (("module_readings_1m", "minute"), ("module_readings_1h", "hour")):
        cur.execute(f"""
            INSERT INTO {table} (bucket, gw, module, string, n,
                v_min, v_max, v_sum, v_n, t_min, t_max, t_sum, t_n, r_min, r_max, r_sum, r_n)
            SELECT date_trunc('{unit}', ts), gw, module, min(string), count(*),
                   min(voltage_v), max(voltage_v), sum(voltage_v::float8), count(voltage_v),
                   min(temp_c), max(temp_c), sum(temp_c::float8), count(temp_c),
                   min(impedance_mohm), max(impedance_mohm), sum(impedance_mohm::float8),
                   count(impedance_mohm)
            FROM module_readings GROUP BY 1, 2, 3""")
    copy(cur, "gateway_states", ["ts", "gw", "general", "battery", "alarm", "alarms_active",
                                 "module_alarms", "module_warnings", "audible"],
         [(iso(r[0]),) + r[1:] for r in STATES])
    ev = []
    for (aid, gw, typ, name, sev, s, m, val, thr, raised, cleared, acked, text) in ALARMS:
        base = (aid, gw, typ, name, sev, s, m, val, thr, iso(raised))
        ev.append(base[:1] + ("raise", iso(raised)) + base[1:] + (None, text))
        if cleared is not None:
            ev.append(base[:1] + ("clear", iso(cleared)) + base[1:] + (iso(cleared), text))
        if acked is not None:
            c = iso(cleared) if cleared is not None and cleared <= acked else None
            ev.append(base[:1] + ("ack", iso(acked)) + base[1:] + (c, text))
    copy(cur, "alarm_events", ["id", "action", "ts", "gw", "type", "name", "severity", "string",
                               "module", "value", "threshold", "raised_at", "cleared_at", "text"],
         ev)
    # The discharge as alarmd reports it at its end: its lowest block from the readings.
    cur.execute("""
        INSERT INTO discharge_events (gw, string, start_at, end_at, duration_s, ah_removed,
            min_current_a, min_module, min_voltage_v, end_voltage_v, mode)
        SELECT 'gw1', 1, to_timestamp(%(d0)s), to_timestamp(%(d1)s), %(dur)s, %(ah)s, %(cur)s,
               (SELECT module FROM module_readings WHERE gw = 'gw1' AND string = 1
                  AND ts BETWEEN to_timestamp(%(d0)s) AND to_timestamp(%(d1)s)
                ORDER BY voltage_v LIMIT 1),
               (SELECT min(voltage_v) FROM module_readings WHERE gw = 'gw1' AND string = 1
                  AND ts BETWEEN to_timestamp(%(d0)s) AND to_timestamp(%(d1)s)),
               (SELECT sum_voltage_v FROM string_readings WHERE gw = 'gw1' AND string = 1
                  AND ts = to_timestamp(%(d1)s)),
               'current'""",
                {"d0": D0, "d1": D0 + DDUR, "dur": float(DDUR), "ah": -DCUR * DDUR / 3600,
                 "cur": DCUR})
    cur.execute("INSERT INTO discharge_events VALUES ('gw2', 2, to_timestamp(%s), "
                "to_timestamp(%s), 120, NULL, NULL, 12, 12.9, 117.0, 'voltage')",
                (T0 + 6 * 3600, T0 + 6 * 3600 + 120))
    bl = []
    for k in range(-364, DAYS):
        t = T0 + k * DAY + 3 * 3600
        for gw in GATEWAYS:
            for m in range(1, NSTR * NBLK + 1):
                dev = deviation(gw, m, t)
                slope = None
                if k >= -334:
                    slope = SLOPE if (gw, m) == RISING else 0.3 * math.sin(m + k / 50)
                alarm = None
                if slope is not None and slope > 1:
                    alarm = iso(t + (50 - dev) / slope * 365.25 * DAY)
                bl.append((iso(t), gw, sb(m)[0], m, baseline(m), baseline(m) * (1 + dev / 100),
                           dev, slope, alarm))
    copy(cur, "impedance_baselines", ["ts", "gw", "string", "module", "baseline_mohm",
                                      "impedance_mohm", "deviation_pct", "slope_pct_per_year",
                                      "alarm_at"], bl)
    copy(cur, "config_changes", ["ts", "gw", "key", "value", "old_value", "source"],
         [(iso(r[0]),) + r[1:] for r in CONFIG])
    copy(cur, "audit_log", ["ts", "gw", "who", "what", "old", "new", "source", "value",
                            "old_value"], [(iso(r[0]),) + r[1:] for r in AUDIT])
    copy(cur, "device_flags", ["ts", "gw", "link", "general", "battery", "alarm",
                               "strings_reported", "modules_reported", "why", "requests",
                               "timeouts", "exceptions"],
         [(iso(r[0]),) + r[1:6] + (NSTR, NSTR * NBLK, r[6], 100 * i, 0, 0)
          for i, r in enumerate(DEVICE)])
    copy(cur, "device_module_flags", ["ts", "gw", "module", "flags"],
         [(iso(r[0]),) + r[1:] for r in DEVICE_MODULES])
    conn.commit()
    return len(mods), len(strs), len(ev), len(bl)


# ------------------------------------------------------------- Grafana emulation
def rfc3339nano(t):
    dt = datetime.datetime.fromtimestamp(t, UTC)
    s = dt.strftime("%Y-%m-%dT%H:%M:%S")
    if dt.microsecond:
        s += ("." + "%06d" % dt.microsecond).rstrip("0")
    return s + "Z"


ROUND = [(15, 10), (35, 20), (75, 50), (150, 100), (350, 200), (750, 500), (1500, 1000),
         (3500, 2000), (7500, 5000), (12500, 10000), (17500, 15000), (25000, 20000),
         (45000, 30000), (90000, 60000), (210000, 120000), (450000, 300000), (750000, 600000),
         (1050000, 900000), (1500000, 1200000), (2700000, 1800000), (5400000, 3600000),
         (9000000, 7200000), (16200000, 10800000), (32400000, 21600000),
         (86400000, 43200000), (604800000, 86400000), (1814400000, 604800000),
         (3628800000, 2592000000)]
UNITS = [("y", 31536000000), ("w", 604800000), ("d", 86400000), ("h", 3600000),
         ("m", 60000), ("s", 1000), ("ms", 1)]


def round_interval(ms):
    for limit, value in ROUND:
        if ms < limit:
            return value
    return 31536000000


def parse_interval(text):
    m = re.fullmatch(r"(\d+)(ms|s|m|h|d|w|y)", text.strip().strip("'\""))
    if not m:
        raise ValueError("bad interval %r" % text)
    return int(m.group(1)) * dict(UNITS)[m.group(2)]


def format_interval(ms):
    for unit, size in UNITS:
        if ms >= size and ms % size == 0:
            return "%d%s" % (ms // size, unit)
    return "%dms" % ms


def interval_for(frm, to, panel):
    """$__interval as the frontend computes it for the panel."""
    points = panel.get("maxDataPoints") or 1000
    ms = round_interval((to - frm) * 1000 / points)
    low = parse_interval(panel["interval"]) if panel.get("interval") else 1
    return max(ms, low)


def go_float(x):
    return str(int(x)) if float(x).is_integer() else repr(float(x))


MACRO = re.compile(r"\$([_a-zA-Z0-9]+)\(([^\)]*)\)")


def expand_macros(sql, frm, to):
    """pkg/tsdb/grafana-postgresql-datasource/macros.go, timescaledb off."""
    f, t = rfc3339nano(frm), rfc3339nano(to)

    def group(args, alias):
        if len(args) < 2:
            raise ValueError("macro needs time column and interval")
        secs = go_float(parse_interval(args[1].strip("'")) / 1000)
        g = "floor(extract(epoch from %s)/%s)*%s" % (args[0], secs, secs)
        return g + ' AS "time"' if alias else g

    def repl(m):
        name, args = m.group(1), [a.strip(" ") for a in m.group(2).split(",")]
        if name == "__timeGroup":
            i = sql.find(m.group(0)) + len(m.group(0))
            if i < len(sql) and sql[i] == ",":
                name = "__timeGroupAlias"  # Grafana's pre-5.3 compatibility quirk
        if name == "__time":
            return '%s AS "time"' % args[0]
        if name == "__timeEpoch":
            return 'extract(epoch from %s) as "time"' % args[0]
        if name == "__timeFilter":
            return "%s BETWEEN '%s' AND '%s'" % (args[0], f, t)
        if name == "__timeFrom":
            return "'%s'" % f
        if name == "__timeTo":
            return "'%s'" % t
        if name in ("__timeGroup", "__timeGroupAlias"):
            return group(args, name == "__timeGroupAlias")
        if name == "__unixEpochFilter":
            return "%s >= %d AND %s <= %d" % (args[0], int(frm), args[0], int(to))
        if name == "__unixEpochGroup" or name == "__unixEpochGroupAlias":
            secs = go_float(parse_interval(args[1]) / 1000)
            g = "floor((%s)/%s)*%s" % (args[0], secs, secs)
            return g + ' AS "time"' if name.endswith("Alias") else g
        raise ValueError("unknown macro %r" % name)

    return MACRO.sub(repl, sql)


VAR = re.compile(r"\$(\w+)|\[\[(\w+?)(?::(\w+))?\]\]|\$\{(\w+)(?::([^\}]+))?\}")


def quote(v):
    return "'" + str(v).replace("'", "''") + "'"


def format_var(values, multi, fmt):
    if fmt is None:
        if multi:
            return ",".join(quote(v) for v in values)
        return values[0]
    if fmt == "sqlstring":
        return ",".join(quote(v) for v in values)
    if fmt in ("csv", "raw"):
        return ",".join(values)
    if fmt == "singlequote":
        return ",".join("'" + v.replace("'", "\\'") + "'" for v in values)
    if fmt == "doublequote":
        return ",".join('"' + v.replace('"', '\\"') + '"' for v in values)
    raise ValueError("variable format %r not emulated" % fmt)


def interpolate(sql, variables):
    """The frontend's templateSrv.replace with the SQL data source's interpolateVariable."""
    def repl(m):
        name = m.group(1) or m.group(2) or m.group(4)
        fmt = m.group(3) or m.group(5)
        if name not in variables:
            return m.group(0)
        values, multi = variables[name]
        return format_var(values, multi, fmt)
    return VAR.sub(repl, sql)


def render(sql, variables, frm, to, panel=None):
    v = dict(variables)
    ms = interval_for(frm, to, panel or {})
    v["__interval"] = ([format_interval(ms)], False)
    v["__interval_ms"] = ([str(ms)], False)
    v["__range_s"] = ([str(int(to - frm))], False)
    sql = interpolate(sql, v)
    sql = sql.replace("$__unixEpochFrom()", str(int(frm))).replace("$__unixEpochTo()", str(int(to)))
    return expand_macros(sql, frm, to), ms


def parse_custom(query):
    out = []
    for part in re.findall(r"(?:\\,|[^,])+", query):
        part = part.strip().replace("\\,", ",")
        text, _, value = part.partition(" : ")
        out.append((text.strip(), (value or text).strip()))
    return out


# ---------------------------------------------------------------------- helpers
def run(conn, sql):
    with conn.cursor() as cur:
        cur.execute(sql)
        cols = [d.name for d in cur.description]
        return cols, cur.fetchall()


def panels_of(dash):
    for p in dash.get("panels", []):
        yield p
        for q in p.get("panels", []):  # collapsed rows
            yield q


def num(x):
    return None if x is None else float(x)


def close(a, b, tol=1e-4):
    if a is None or b is None:
        return a is None and b is None
    return abs(float(a) - float(b)) <= tol * max(1.0, abs(float(b)))


def header_flags():
    groups = {"ST": {}, "BAT": {}, "AL": {}}
    with open(HEADER) as f:
        for m in re.finditer(r"#define GBMS_(ST|BAT|AL)_(\w+)\s+0x([0-9A-Fa-f]+)u", f.read()):
            if int(m.group(3), 16):
                groups[m.group(1)][m.group(2)] = int(m.group(3), 16)
    return groups


def decode(word, flags):
    names = [n for n, bit in sorted(flags.items(), key=lambda x: x[1]) if word & bit]
    return " ".join(names) if names else "NONE"


def load_dashboards():
    out = {}
    for path in sorted(glob.glob(os.path.join(DASHBOARDS, "*.json"))):
        with open(path) as f:
            out[os.path.basename(path)] = json.load(f)
    return out


def static_checks(dashes):
    check(sorted(dashes) == ["alarm-log.json", "discharge-report.json", "impedance-trends.json",
                             "site-overview.json", "string-detail.json"],
          "dashboards: %s" % sorted(dashes))
    uids = [d.get("uid") for d in dashes.values()]
    check(len(set(uids)) == len(uids) and all(uids), "dashboard uids unique: %s" % uids)
    for name, d in dashes.items():
        check(d.get("schemaVersion", 0) >= 36 and d.get("title"), "%s: title/schemaVersion" % name)
        ids = [p["id"] for p in panels_of(d)]
        check(len(ids) == len(set(ids)), "%s: panel ids unique" % name)
        for p in panels_of(d):
            if p.get("type") == "row":
                continue
            where = "%s / %s" % (name, p.get("title"))
            check(p.get("datasource", {}).get("uid") == DS_UID, where + ": panel datasource")
            check(p.get("targets"), where + ": has targets")
            for t in p.get("targets", []):
                check(t.get("datasource", {}).get("uid") == DS_UID and t.get("refId")
                      and t.get("rawQuery") is True and t.get("format") in ("time_series", "table")
                      and t.get("rawSql"), where + ": target shape")
                sql = t.get("rawSql", "")
                check(any(m in sql for m in ("$__timeFilter(", "$__timeFrom()", "$__timeTo()",
                                             "$__unixEpochFilter(")),
                      where + ": query is time-filtered")
        for v in d["templating"]["list"]:
            if v["type"] == "query":
                check(v.get("datasource", {}).get("uid") == DS_UID,
                      "%s: variable %s datasource" % (name, v["name"]))
        names = [v["name"] for v in d["templating"]["list"]]
        check("gw" in names, "%s: has the gw variable" % name)
    # The state decoding uses the header's bit names and values.
    sql = " ".join(t["rawSql"] for p in panels_of(dashes["site-overview.json"])
                   for t in p.get("targets", []))
    for group, flags in header_flags().items():
        for n, bit in flags.items():
            check("(%d, '%s')" % (bit, n) in sql,
                  "site-overview decodes GBMS_%s_%s = 0x%x" % (group, n, bit))
    # Provisioning files.
    import yaml  # python3-yaml (scripts/deps.sh --test): checked, never skipped
    with open(os.path.join(GRAFANA, "provisioning", "datasources", "ohmwatch.yaml")) as f:
        ds = yaml.safe_load(f)["datasources"][0]
    check(ds["uid"] == DS_UID and ds["name"] == "ohmwatch" and ds["type"] == "postgres"
          and ds["user"] == "grafana_reader"
          and ds["secureJsonData"]["password"] == "${GRAFANA_DB_PASSWORD}"
          and ds["url"] == "${OHMWATCH_PG_HOST}"
          and ds["jsonData"]["database"] == "ohmwatch"
          and ds["jsonData"]["sslmode"] == "disable"
          and ds["jsonData"]["timescaledb"] is False
          and ds["jsonData"]["postgresVersion"] == 1500, "datasource provisioning: %s" % ds)
    with open(os.path.join(GRAFANA, "provisioning", "dashboards", "ohmwatch.yaml")) as f:
        pr = yaml.safe_load(f)["providers"][0]
    check(pr["type"] == "file"
          and pr["options"]["path"] == "/var/lib/grafana/dashboards/ohmwatch",
          "dashboard provisioning: %s" % pr)


class Runner:
    def __init__(self, conn, dashes):
        self.conn = conn
        self.dashes = dashes
        self.results = {}
        self.executed = 0

    def resolve(self, name, dash, rng, prefs, override):
        frm, to = RANGES[rng]
        out, opts = {}, {}
        for v in dash["templating"]["list"]:
            multi = bool(v.get("multi") or v.get("includeAll"))
            if v["type"] == "custom":
                values = [val for _, val in parse_custom(v["query"])]
            elif v["type"] == "query":
                sql, _ = render(v["query"], out, frm, to)
                try:
                    cols, rows = run(self.conn, sql)
                except psycopg2.Error as e:
                    check(False, "%s: variable %s [%s]: %s\n%s" % (name, v["name"], rng,
                                                                 str(e).strip(), sql))
                    rows, cols = [], ["x"]
                self.executed += 1
                col = cols.index("__value") if "__value" in cols else 0
                values = [str(r[col]) for r in rows]
            else:
                raise ValueError("variable type %s not emulated" % v["type"])
            opts[v["name"]] = values
            if v["name"] in override:
                chosen = override[v["name"]]
            elif multi:
                chosen = values or [""]          # All
            elif prefs.get(v["name"]) in values:
                chosen = [prefs[v["name"]]]
            else:
                chosen = values[:1] or [""]      # Grafana's "None" option
            out[v["name"]] = (chosen, multi)
        return out, opts

    def targets(self, dash):
        for p in panels_of(dash):
            for t in p.get("targets", []):
                yield p, p.get("title"), t
        for a in dash.get("annotations", {}).get("list", []):
            if a.get("datasource", {}).get("uid") == DS_UID:
                yield {}, "annotation " + a["name"], a["target"]

    def run_all(self, combo, rng, override=None, tag=None):
        prefs = COMBOS[combo]
        frm, to = RANGES[rng]
        for name, dash in self.dashes.items():
            variables, _ = self.resolve(name, dash, rng, prefs, override or {})
            for panel, title, t in self.targets(dash):
                where = "%s / %s / %s [%s, %s%s]" % (name, title, t["refId"], rng, combo,
                                                     ", " + tag if tag else "")
                sql, ms = render(t["rawSql"], variables, frm, to, panel)
                try:
                    cols, rows = run(self.conn, sql)
                except psycopg2.Error as e:
                    check(False, "%s: %s\n%s" % (where, str(e).strip(), sql))
                    continue
                self.executed += 1
                check(True, where)
                self.results[(name, title, rng, combo, tag)] = (cols, rows, ms)
                if combo == "gw1/1" and rng != "empty" and not tag \
                        and (rng, name) not in EMPTY_OK:
                    check(len(rows) > 0, "%s: no rows over the generated history\n%s"
                          % (where, sql))
                if t.get("format") == "time_series":
                    self.check_series(where, cols, rows)

    def check_series(self, where, cols, rows):
        check(cols and cols[0] == "time", "%s: time series columns %s" % (where, cols))
        ts = [num(r[0]) if not isinstance(r[0], datetime.datetime) else r[0].timestamp()
              for r in rows]
        check(all(a <= b for a, b in zip(ts, ts[1:])), "%s: not sorted by time" % where)
        for r in rows:
            for c, v in zip(cols[1:], r[1:]):
                if c == "metric":
                    ok = isinstance(v, str)
                else:
                    ok = v is None or isinstance(v, (int, float)) or type(v).__name__ == "Decimal"
                if not ok:
                    check(False, "%s: column %s holds %r" % (where, c, v))
                    return

    def get(self, dash, title, rng, combo="gw1/1", tag=None):
        r = self.results.get((dash, title, rng, combo, tag))
        if not check(r is not None, "result of %s / %s [%s, %s]" % (dash, title, rng, combo)):
            return [], []
        cols, rows, _ = r
        return cols, [dict(zip(cols, row)) for row in rows]


# --------------------------------------------------------------- value checks
def check_rollups(R, ref):
    """Rollup-based branches (1m on 3 days, 1h on a year) and the raw branch give
    what averaging the raw readings into the same buckets gives."""
    for combo, prefs in COMBOS.items():
        for rng in ("3d", "all", "discharge"):
            frm, to = RANGES[rng]
            for title, col in (("Block voltage", "voltage_v"), ("Block temperature", "temp_c"),
                               ("Block impedance", "impedance_mohm")):
                key = ("string-detail.json", title, rng, combo, None)
                if key not in R.results:
                    check(False, "no result for %s" % (key,))
                    continue
                cols, rows, ms = R.results[key]
                secs = ms // 1000
                want = dict(((float(t), m), num(v)) for t, m, v in run(ref, f"""
                    SELECT floor(extract(epoch from ts) / {secs}) * {secs},
                           'B' || lpad(block::text, 2, '0'), avg({col})
                    FROM module_readings
                    WHERE gw = '{prefs["gw"]}' AND string = {prefs["string"]}
                      AND ts BETWEEN to_timestamp({frm}) AND to_timestamp({to})
                    GROUP BY 1, 2""")[1])
                got = dict(((float(t), m), num(v)) for t, m, v in rows)
                bad = [k for k in want if k not in got or not close(got[k], want[k])]
                check(set(got) == set(want) and not bad and len(rows) == len(got),
                      "%s %s [%s, %s]: %d buckets vs %d raw, %d differ, e.g. %s"
                      % (title, "rollup" if rng != "discharge" else "raw", rng, combo, len(got),
                         len(want), len(bad), [(k, got.get(k), want[k]) for k in bad[:3]]))
            # min / mean / max of one block from v_min / v_sum / v_max.
            cols, rows, ms = R.results[("string-detail.json",
                                        "Selected block: voltage min / mean / max", rng, combo,
                                        None)]
            secs = ms // 1000
            want = {float(r[0]): r[1:] for r in run(ref, f"""
                SELECT floor(extract(epoch from ts) / {secs}) * {secs},
                       min(voltage_v), avg(voltage_v), max(voltage_v)
                FROM module_readings WHERE gw = '{prefs["gw"]}' AND module = {prefs["module"]}
                  AND ts BETWEEN to_timestamp({frm}) AND to_timestamp({to})
                GROUP BY 1""")[1]}
            got = {float(r[0]): r[1:] for r in rows}
            check(set(got) == set(want) and len(rows) == len(got) and all(
                all(close(a, b) for a, b in zip(got[k], want[k])) for k in want),
                "block min/mean/max [%s, %s]: %d vs %d buckets" % (rng, combo, len(got),
                                                                   len(want)))


def check_discharge(R, ref):
    d = "discharge-report.json"
    min_v, end_v = run(ref, "SELECT min_voltage_v, end_voltage_v FROM discharge_events "
                            "WHERE gw = 'gw1'")[1][0]
    for rng in ("3d", "discharge", "all"):
        _, rows = R.get(d, "Discharges", rng)
        row = [r for r in rows if r["string"] == 1]
        if check(len(rows) == 1 and len(row) == 1, "Discharges [%s]: %d rows" % (rng, len(rows))):
            r = row[0]
            check(close(r["Ah removed"], 45.0, 1e-9) and close(r["depth of discharge %"], 45.0, 1e-9),
                  "Discharges [%s]: Ah %s, depth of discharge %s %% (want 45, 45)"
                  % (rng, r["Ah removed"], r["depth of discharge %"]))
            check(r["weakest block"] == "B%02d (module %d)" % (WEAK, WEAK)
                  and close(r["weakest block voltage"], min_v)
                  and close(r["end voltage"], end_v) and close(r["duration"], DDUR)
                  and r["start"].timestamp() == D0 and r["end"].timestamp() == D0 + DDUR,
                  "Discharges [%s]: %s" % (rng, r))
        _, rows = R.get(d, "Block voltages during the discharge", rng)
        metrics = sorted(set(r["metric"] for r in rows))
        check(len(metrics) == NBLK and [m for m in metrics if "weakest" in m]
              == ["B%02d (weakest)" % WEAK], "curves [%s]: series %s" % (rng, metrics))
        step = R.results[(d, "Block voltages during the discharge", rng, "gw1/1", None)][2] / 1000
        check(all(D0 - step < float(r["time"]) <= D0 + DDUR for r in rows),
              "curves [%s]: points outside the discharge" % rng)
        _, rows = R.get(d, "Lowest block voltage", rng)
        low = min(rows, key=lambda r: r["lowest voltage"]) if rows else {}
        check(len(rows) == NBLK and low.get("block") == "B%02d (weakest)" % WEAK
              and close(low.get("lowest voltage"), min_v),
              "lowest block voltage [%s]: %s (discharge event says %.3f V)" % (rng, low, min_v))
        _, rows = R.get(d, "String voltage, current and real power during the discharge", rng)
        check(rows and all(close(r["current"], DCUR) for r in rows),
              "string current during the discharge [%s]: %s" % (rng, rows[:3]))
        # the current is constant, so the bucket's mean power is the mean
        # voltage x the current, to the watt's rounding
        check(rows and all(abs(r["real power"] - r["string voltage"] * DCUR / 1000) < 0.001
                           and r["real power"] < 0 for r in rows),
              "real power = voltage x current / 1000 in the discharge [%s]: %s" %
              (rng, rows[:3]))
    # Another gateway's voltage-mode discharge: no Ah, no depth, no error;
    # no discharge of this history is a capacity test, so none shows one.
    _, rows = R.get(d, "Discharges", "3d", "gw2/1")
    check(len(rows) == 1 and rows[0]["Ah removed"] is None
          and rows[0]["depth of discharge %"] is None and rows[0]["capacity test %"] is None
          and rows[0]["string"] == 2, "gw2 voltage-mode discharge: %s" % rows)
    _, rows = R.get(d, "Block voltages during the discharge", "3d", "gw1/2")
    check(rows == [], "no discharge chosen (gw1 string 2): no curves")


def state_at(gw, t):
    rows = [s for s in STATES if s[1] == gw and s[0] <= t]
    return max(rows, key=lambda s: s[0]) if rows else None


def check_overview(R):
    d = "site-overview.json"
    flags = header_flags()
    for rng in ("3d", "discharge", "mid", "all"):
        frm, to = RANGES[rng]
        _, rows = R.get(d, "Active alarms", rng)
        want = {gw: sum(1 for a in ALARMS if a[1] == gw and a[9] <= to
                        and (a[10] is None or a[10] > to)) for gw in GATEWAYS}
        got = {r["gateway"]: r["active"] for r in rows}
        check(got == want, "active alarms [%s]: %s, want %s" % (rng, got, want))
        _, rows = R.get(d, "Gateway state (at the end of the range)", rng)
        for r in rows:
            s = state_at(r["gateway"], to)
            check(s is not None and r["since"].timestamp() == s[0]
                  and r["general status"] == decode(s[2], flags["ST"])
                  and r["battery status"] == decode(s[3], flags["BAT"])
                  and r["alarm flags"] == decode(s[4], flags["AL"])
                  and r["alarms present"] == s[5]
                  and r["thermal runaway"] == ("THERMAL_RUNAWAY" if s[3] & 8 else "no"),
                  "state of %s [%s]: %s vs %s" % (r["gateway"], rng, r, s))
        check(len(rows) == 2, "state rows [%s]: %d" % (rng, len(rows)))
    _, rows = R.get(d, "Gateway state (at the end of the range)", "3d")
    modes = {r["gateway"]: (r["mode"], r["thermal runaway"]) for r in rows}
    check(modes == {"gw1": ("FLOAT_CHARGING", "no"), "gw2": ("FLOAT_CHARGING", "THERMAL_RUNAWAY")},
          "modes at the end: %s" % modes)
    _, rows = R.get(d, "Gateway state (at the end of the range)", "discharge")
    check({r["gateway"]: r["mode"] for r in rows}.get("gw1") == "DISCHARGING_STOPPED",
          "gw1 mode after the discharge: %s" % rows)
    _, rows = R.get(d, "Gateway state (at the end of the range)", "mid")
    check({r["gateway"]: r["mode"] for r in rows}.get("gw1") == "DISCHARGING",
          "gw1 mode during the discharge: %s" % rows)
    _, rows = R.get(d, "Active alarms", "mid")
    check({r["gateway"]: r["active"] for r in rows}.get("gw1") == 2,
          "gw1 alarms active during the discharge: %s" % rows)
    nev = sum(1 + (a[10] is not None) + (a[11] is not None) for a in ALARMS)
    _, rows = R.get(d, "Alarm log (last 50 events in the range)", "all")
    check(len(rows) == min(50, nev), "alarm log: %d rows of %d events" % (len(rows), nev))
    _, rows = R.get(d, "String voltage", "3d")
    check(set(r["metric"] for r in rows) == {"gw1 S1", "gw1 S2", "gw2 S1", "gw2 S2"},
          "string voltage series")


def check_device(R):
    """The field device's words at the end of each range, decoded, beside
    ohmwatch's own general word; the modules it flags."""
    d = "site-overview.json"
    title = "Field device words (at the end of the range)"
    flags = header_flags()
    for rng in ("3d", "discharge", "mid", "all"):
        frm, to = RANGES[rng]
        _, rows = R.get(d, title, rng)
        dev = max((x for x in DEVICE if x[0] <= to), key=lambda x: x[0])
        mods = {}
        for t, _, m, f in sorted(DEVICE_MODULES):
            if t <= to:
                mods[m] = f
        flagged = " ".join(str(m) for m in sorted(mods) if mods[m]) or "none"
        own = state_at("gw1", to)
        check(len(rows) == 1 and rows[0]["gateway"] == "gw1"
              and rows[0]["since"].timestamp() == dev[0] and rows[0]["link"] == dev[2]
              and rows[0]["device general status"] == decode(dev[3], flags["ST"])
              and rows[0]["ohmwatch general status"] == decode(own[2], flags["ST"])
              and rows[0]["device battery status"] == decode(dev[4], flags["BAT"])
              and rows[0]["device alarm flags"] == decode(dev[5], flags["AL"])
              and rows[0]["modules the device flags"] == flagged
              and rows[0]["modules reported"] == NSTR * NBLK,
              "device words [%s]: %s, want %s / %s" % (rng, rows, dev, flagged))
    _, rows = R.get(d, title, "mid")
    check(rows and rows[0]["modules the device flags"] == "5" and
          rows[0]["device alarm flags"] == "GENERAL_ALARM VOLTAGE_LOW",
          "during the discharge the device flags module 5: %s" % rows)


def check_alarm_log(R):
    d = "alarm-log.json"
    for rng in ("3d", "discharge", "mid", "all"):
        frm, to = RANGES[rng]
        want = {a[0]: a for a in ALARMS if a[9] <= to and (a[10] is None or a[10] >= frm)}
        _, rows = R.get(d, "Alarms", rng)
        got = {r["id"]: r for r in rows}
        check(set(got) == set(want), "alarms [%s]: ids %s, want %s" % (rng, sorted(got),
                                                                      sorted(want)))
        for i, r in got.items():
            a = want.get(i)
            if not a:
                continue
            dur = (a[10] if a[10] is not None else to) - a[9]
            check(close(r["duration"], dur)
                  and (r["cleared"] is None) == (a[10] is None)
                  and (r["acknowledged"].timestamp() if r["acknowledged"] else None) == a[11]
                  and r["state"] == ("active" if a[10] is None else "cleared")
                  and r["severity"] == ["info", "warning", "alarm"][a[4]],
                  "alarm %d [%s]: %s" % (i, rng, r))
        _, rows = R.get(d, "Counts per alarm type", rng)
        raised = [a for a in ALARMS if frm <= a[9] <= to]
        check(sum(r["raised"] for r in rows) == len(raised),
              "counts per type [%s]: %s" % (rng, rows))
        _, rows = R.get(d, "Active at the end of the range", rng)
        act = [a for a in ALARMS if a[9] <= to and (a[10] is None or a[10] > to)]
        unack = [a for a in act if a[11] is None or a[11] > to]
        check(rows and rows[0]["active"] == len(act) and rows[0]["unacknowledged"] == len(unack),
              "active / unacknowledged [%s]: %s, want %d / %d" % (rng, rows, len(act),
                                                                  len(unack)))
    _, rows = R.get(d, "Counts per alarm type", "3d")
    top = rows[0] if rows else {}
    check(top.get("alarm") == "bacsAlarmVoltageWarnHigh" and top.get("raised") == 3,
          "most frequent alarm: %s" % top)
    _, rows = R.get(d, "Alarms", "3d", tag="severity=alarm")
    want = [a[0] for a in ALARMS if a[4] == 2 and a[9] <= T_END
            and (a[10] is None or a[10] >= T0)]
    check(sorted(r["id"] for r in rows) == sorted(want)
          and all(r["severity"] == "alarm" for r in rows),
          "severity filter: %s, want %s" % ([r["id"] for r in rows], want))
    _, rows = R.get(d, "Active at the end of the range", "3d", tag="severity=alarm")
    want = [a for a in ALARMS if a[4] == 2 and a[9] <= T_END and a[10] is None]
    check(rows and rows[0]["active"] == len(want), "severity filter, active: %s, want %d"
          % (rows, len(want)))
    _, rows = R.get(d, "Counts per alarm type", "3d", tag="severity=alarm")
    check(rows and all(r["severity"] == "alarm" for r in rows), "severity filter, counts")
    _, rows = R.get(d, "Alarms", "3d", tag="gw=gw2")
    check(rows and all(r["gateway"] == "gw2" for r in rows), "gateway filter")
    _, rows = R.get(d, "Configuration changes", "all")
    check(len(rows) == len(CONFIG), "config changes: %s" % rows)
    _, rows = R.get(d, "Audit log: who changed what", "all")
    check(len(rows) == len(AUDIT) and any(r["who"] == "snmpd/nms" and r["what"] == "ack.7" and
                                          r["new"] == "1 acknowledged" for r in rows) and
          any(r["who"] == "cli/alice" and r["old"] == "11.8" and r["new"] == "12" for r in rows),
          "audit log: %s" % rows)


def check_impedance(R):
    d = "impedance-trends.json"
    t_last = T0 + (DAYS - 1) * DAY + 3 * 3600
    dev = deviation("gw2", 7, t_last)
    for rng in ("3d", "all"):
        _, rows = R.get(d, "Trend and projected alarm date", rng, "gw2/1")
        first = rows[0] if rows else {}
        check(len(rows) == NBLK and first.get("block") == "B07"
              and close(first.get("slope %/year"), SLOPE)
              and close(first.get("deviation %"), dev)
              and first.get("projected alarm") is not None
              and all(r["projected alarm"] is None for r in rows[1:])
              and first.get("measured").timestamp() == t_last,
              "impedance trend table [%s]: %s" % (rng, first))
        eta = first.get("projected alarm")
        if eta:
            years = (eta.timestamp() - t_last) / (365.25 * DAY)
            check(close(years, (50 - dev) / SLOPE, 1e-3),
                  "projected alarm in %.2f years, want %.2f" % (years, (50 - dev) / SLOPE))
        _, rows = R.get(d, "Baseline vs latest impedance", rng, "gw2/1")
        b7 = [r for r in rows if r["block"] == "B07"]
        check(len(rows) == NBLK and b7 and close(b7[0]["latest"], baseline(7) * (1 + dev / 100))
              and close(b7[0]["baseline"], baseline(7)), "baseline vs latest [%s]: %s"
              % (rng, b7))
        _, rows = R.get(d, "Projected baseline alarms (all gateways)", rng)
        check([(r["gateway"], r["module"]) for r in rows] == [RISING],
              "site-wide projected alarms [%s]: %s" % (rng, rows))
    _, rows = R.get(d, "Impedance deviation from baseline", "all", "gw2/1")
    b7 = [r for r in rows if r["metric"] == "B07"]
    check(len(b7) == 364 + DAYS and close(b7[-1]["deviation"], dev),
          "deviation series of B07: %d points, last %s" % (len(b7), b7[-1] if b7 else None))


# ------------------------------------------------------------------------ main
def main():
    d = tempfile.mkdtemp(prefix="owgrafana-")
    port = owtest.free_port()
    pg = os.path.join(ROOT, "scripts", "pg.sh")
    conns = []
    try:
        r = subprocess.run(["bash", pg, "start", d, str(port)], capture_output=True, text=True,
                           timeout=180)
        if not check(r.returncode == 0, "pg.sh start: " + r.stderr):
            return
        writer = psycopg2.connect(r.stdout.strip())
        conns.append(writer)
        # every migration in order, as the historian applies them (003 adds
        # the capacity test columns the discharge report reads)
        for name in sorted(n for n in os.listdir(MIGRATIONS) if n.endswith(".sql")):
            with open(os.path.join(MIGRATIONS, name)) as f, writer.cursor() as cur:
                cur.execute(f.read())
        writer.commit()
        nm, ns, ne, nb = fill(writer)
        print("history: %d module readings, %d string readings, %d alarm events, "
              "%d baselines" % (nm, ns, ne, nb))
        writer.autocommit = True

        reader = psycopg2.connect(host="127.0.0.1", port=port, dbname="ohmwatch",
                                  user="grafana_reader",
                                  password=os.environ.get("OW_PG_READER_PASSWORD", "grafana"),
                                  # a zone with a half-hour offset: no query may depend on it
                                  options="-c TimeZone=America/St_Johns -c statement_timeout=30000")
        reader.autocommit = True
        conns.append(reader)
        try:
            run(reader, "INSERT INTO config_changes VALUES (now(), 'gw1', 'x', 1, NULL, 'test')")
            check(False, "grafana_reader could INSERT")
        except psycopg2.errors.InsufficientPrivilege:
            check(True, "grafana_reader is read-only")

        dashes = load_dashboards()
        static_checks(dashes)
        R = Runner(reader, dashes)
        for combo in COMBOS:
            for rng in RANGES:
                R.run_all(combo, rng)
        R.run_all("gw1/1", "3d", {"severity": ["2"]}, "severity=alarm")
        R.run_all("gw1/1", "3d", {"gw": ["gw2"]}, "gw=gw2")
        check_rollups(R, writer)
        check_discharge(R, writer)
        check_overview(R)
        check_device(R)
        check_alarm_log(R)
        check_impedance(R)
        print("executed %d queries (%d panel targets x %d ranges x %d gateway/string choices "
              "+ filters + variable queries)"
              % (R.executed, sum(1 for dash in dashes.values() for _ in R.targets(dash)),
                 len(RANGES), len(COMBOS)))
    except Exception:
        check(False, "exception:\n" + traceback.format_exc())
    finally:
        for c in conns:
            c.close()
        subprocess.run(["bash", pg, "stop", d], capture_output=True, timeout=120)
        shutil.rmtree(d, ignore_errors=True)
    owtest.done("test_grafana_queries")


if __name__ == "__main__":
    main()
