"""Every threshold type of alarmd's catalogue, one after the other, through
alarmd as its own process fed by a gateway whose readings the test chooses:
the four levels of block voltage, temperature and impedance and of string
voltage and current (each with a 3 s delay and its hysteresis), current
deviation on charge and on discharge (warning and alarm), maximum voltage
difference, equalizing not operating, hydrogen in its two stages, the room
temperature and humidity of the stand-alone sensor, a sensor that stops
reading and a GX_R_AUX input. For each: nothing before the delay (the raise is
stamped exactly delay after the first violating reading), the exact set of
alarms raised (no more, no fewer), the flag words with the guide's values,
held inside the hysteresis band, cleared beyond it by the same alarm id.
Deviation and hydrogen have no delay and clear 10 % inside their level;
maximum voltage difference, equalizing, the sensor and the input have
neither delay nor band (the guide gives none): for those the "hold" reading
repeats the violation.

The expected flag values are written here from the guide's tables, not
taken from proto/ow_gbms.c, so a wrong table row fails this test."""
import os

from owtest import *

DELAY = 3  # s, on all five four-level quantities
STRINGS, BLOCKS = 3, 9  # three strings: one string can deviate alone

d = tmpdir()
cfg = os.path.join(d, "site.json")
s = site_with_alarmd(cfg, d, [{
    "id": "wm1", "hydrogen_sensor": True, "ambient_sensor": True,
    "strings": [{"name": "S%d" % i, "modules": BLOCKS} for i in range(1, STRINGS + 1)],
    "thresholds": {
        "voltage_v": {"hysteresis": 0.05, "delay_s": DELAY},
        "temp_c": {"hysteresis": 1, "delay_s": DELAY},
        # The guide's levels written out: the defaults follow the battery.
        "impedance_mohm": {"low_alarm": 1.1, "low_warn": 1.2, "high_warn": 40, "high_alarm": 50,
                           "hysteresis": 0.5, "delay_s": DELAY},
        "string_voltage_v": {"low_alarm": 105, "low_warn": 110, "high_warn": 125,
                             "high_alarm": 135, "hysteresis": 0.5, "delay_s": DELAY},
        "string_current_a": {"low_alarm": -20, "low_warn": -10, "high_warn": 8,
                             "high_alarm": 10, "hysteresis": 1, "delay_s": DELAY},
        "current_deviation": {"charge_warn_a": 3, "charge_alarm_a": 4,
                              "discharge_warn_a": 3, "discharge_alarm_a": 4},
        # Off while single blocks are pushed out of range (they would also
        # trip these two); switched on at runtime for their own cases.
        "max_voltage_diff_v": 0, "equalizing_min_v": 1, "equalizing_max_v": 99,
        # The room's levels are the defaults (0/10/30/35 degC, 80/90 %RH);
        # only the 300 s delay is shortened.
        "ambient_c": {"delay_s": DELAY}, "humidity_pct": {"delay_s": DELAY}}}])
gwc = s["gateways"][0]
A = s["services"]["alarmd"]
gw = FakeGateway(gwc, strings=STRINGS, blocks=BLOCKS)
alarmd = start([ALARMD, "-f", cfg])
L = Listener(A["publish"])
time.sleep(0.5)

STATE_CODES = {24, 25}  # discharging / discharge stopped: battery states, not thresholds
# The guide's generic alarms (bacsAlarmResistWarn 2, ResistAlarm 3, Voltage 4,
# Temperature 5, Equalizing 12): one per gateway (string 0, module 0), raised
# and cleared with its family (docs/alarms.md); each case expects them beside
# the specific ones. Written here from the guide's wording, not the catalogue.
GENERIC = {6: 4, 7: 4, 8: 5, 9: 5, 10: 3, 11: 3, 17: 2, 18: 2, 35: 12}


def with_generic(keys):
    return set(keys) | {(GENERIC[c], 0, 0) for c, _, _ in keys if c in GENERIC}
AUX_OK = {"hydrogen_pct_lel": 2.0, "ambient_c": 22.0, "humidity_pct": 45.0}


def cycle(**kw):
    aux = dict(AUX_OK)
    aux.update(kw.pop("aux", {}))
    gw.cycle(aux=aux, **kw)
    return gw.ts


def last_state():
    st = L.kind("state")
    return st[-1] if st else None


def raised(since):
    return [a for a in L.alarms("raise") if a["raised_us"] >= since and
            a["type"] not in STATE_CODES]


def key(a):
    return (a["type"], a["string"], a["module"])


def active_keys():
    rs = {a["id"]: a for a in L.alarms("raise")}
    for c in L.alarms("clear"):
        rs.pop(c["id"], None)
    return {key(a) for a in rs.values() if a["type"] not in STATE_CODES}


def settle(pred, what, timeout=10):
    return check(wait_for(pred, timeout), what)


def state_is(what, **want):
    """Waits until alarmd's last state has the wanted words; `want` maps a
    state field (or field[index]) to an exact value or (mask, value)."""
    def ok():
        st = last_state()
        if not st:
            return False
        for k, v in want.items():
            name, _, idx = k.partition("_i")
            got = st[name][int(idx)] if idx else st[name]
            mask, val = v if isinstance(v, tuple) else (0xffff, v)
            if got & mask != val:
                return False
        return True
    if not settle(ok, what):
        print("  last state: %s" % json.dumps(last_state()), file=sys.stderr)


def case(name, on, hold, off, expect, delay, flags, after=None, release=None):
    """One threshold case. on/hold/off/release: cycle() keyword arguments for
    a violating reading, one inside the hysteresis band, one beyond it, and
    (when `off` still leaves a lesser level active) one back to normal;
    expect: {(code, string, module)} raised together by `on`; `after`: the
    keys still active after `off`. The generic alarms of both are added."""
    expect, after = with_generic(expect), with_generic(after or set())
    start_us = gw.ts + 1
    t_first = None
    n = DELAY if delay else 0
    for i in range(n):  # violating for DELAY-1 s: the timer runs
        t = cycle(**on)
        t_first = t_first or t
    t_on = cycle(**on)
    t_first = t_first or t_on
    settle(lambda: {key(a) for a in raised(start_us)} >= expect, "%s: raised %s" % (name, expect))
    got = raised(start_us)
    check({key(a) for a in got} == expect,
          "%s: exactly %s raised, got %s" % (name, sorted(expect), sorted(key(a) for a in got)))
    check(all(a["raised_us"] == t_on for a in got),
          "%s: raised at the reading %d s after the first violating one" % (name, n))
    if delay:
        check(t_on - t_first == DELAY * 1000000, "%s: delay %d s" % (name, DELAY))
    for a in got:
        check(a["cleared_us"] == 0 and a["severity"] in (1, 2) and a["text"],
              "%s: event fields of %s" % (name, key(a)))
    state_is("%s: flag words while active" % name, **flags)
    ids = {key(a): a["id"] for a in got}
    cycle(**hold)
    t_off = cycle(**off)
    after = after or set()
    gone = expect - after
    settle(lambda: {key(c) for c in L.alarms("clear") if c["id"] in ids.values()} >= gone,
           "%s: %s cleared beyond the hysteresis" % (name, sorted(gone)))
    clears = [c for c in L.alarms("clear") if c["id"] in ids.values()]
    check(all(c["cleared_us"] == t_off for c in clears),
          "%s: held inside the band, cleared only at the reading beyond it" % name)
    check(all(ids[key(c)] == c["id"] for c in clears), "%s: clears carry the raise's id" % name)
    check(active_keys() == after, "%s: active after clearing: %s (want %s)" %
          (name, sorted(active_keys()), sorted(after)))
    if after:
        cycle(**(release or {}))
        settle(lambda: not active_keys(), "%s: the rest clears back at normal" % name)
    state_is("%s: flag words back to normal" % name, alarm=0, battery=0,
             general=(0x0f04, 0), **{"module_flags_i%d" % i: 0 for i in range(STRINGS * BLOCKS)})
    check(not raised(t_off + 1), "%s: nothing else raised" % name)


for _ in range(3):
    cycle()
state_is("running + float", general=0x0041, alarm=0, battery=0)

# A violation that does not last the delay restarts the timer.
t_a = cycle(volts={4: 15.6})
cycle(volts={4: 15.6})
cycle()  # back in range: the pending alarm is dropped
for _ in range(DELAY):
    cycle(volts={4: 15.6})
cycle()
settle(lambda: last_state()["general"] == 0x0041, "sync")
check(not raised(t_a), "a violation shorter than the delay raises nothing, even in two bursts")

# --- five quantities x four levels ---
# (name, reading key, which, normal, levels LA LW HW HA, hysteresis,
#  codes LA LW HW HA, general out-of-range bit, module word bits low/high)
QTY = [("block voltage", "volts", 5, 13.62, (12.0, 12.4, 14.1, 15.5), 0.05, (7, 14, 13, 6),
        0x0200, (0x0008, 0x0004)),
       ("block temperature", "temps", 12, 25.0, (5, 10, 30, 35), 1.0, (9, 16, 15, 8),
        0x0400, (0x0020, 0x0010)),
       ("block impedance", "imps", 22, 5.0, (1.1, 1.2, 40, 50), 0.5, (11, 18, 17, 10),
        0x0800, (0x0080, 0x0040)),
       ("string voltage", "sums", 2, None, (105, 110, 125, 135), 0.5, (28, 30, 29, 27),
        0, (0, 0)),
       ("string current", "currents", None, 0.05, (-20, -10, 8, 10), 1.0, (32, 34, 33, 31),
        0, (0x0002, 0x0001))]
for name, rk, who, normal, lv, hy, codes, genbit, modbits in QTY:
    for lvl in range(4):
        high = lvl >= 2
        sign = 1 if high else -1
        level = lv[lvl]
        alarm = lvl in (0, 3)
        # beyond the alarm for an alarm; halfway between warning and alarm for a warning
        v_on = level + sign * hy * 2 if alarm else (level + lv[0 if lvl == 1 else 3]) / 2
        v_hold = level - sign * hy / 2
        v_off = level - sign * hy * 1.5

        def rd(v):
            if rk == "currents":  # all strings alike: no deviation between them
                return {rk: {s_: v for s_ in range(1, STRINGS + 1)}}
            return {rk: {who: v}}

        if rk == "currents":
            srcs = [(s_, 0) for s_ in range(1, STRINGS + 1)]
        elif rk == "sums":
            srcs = [(who, 0)]
        else:
            srcs = [((who - 1) // BLOCKS + 1, who)]
        warn_code = codes[1] if not high else codes[2]
        expect = {(warn_code, s_, m_) for s_, m_ in srcs}
        if alarm:
            expect |= {(codes[lvl], s_, m_) for s_, m_ in srcs}
        bit = modbits[1 if high else 0] if alarm else 0
        flags = {}
        if rk in ("volts", "temps", "imps"):
            m0 = who - 1
            flags["module_flags_i%d" % m0] = (bit | 1) if alarm else 0
            flags["string_flags_i%d" % ((who - 1) // BLOCKS)] = (bit | 1) if alarm else 0
            flags["general"] = (genbit, genbit if alarm else 0)
            flags["alarm"] = (bit | 1) if alarm else 0
        elif rk == "sums":
            flags["string_flags_i%d" % (who - 1)] = 1 if alarm else 0
            flags["string_flags2_i%d" % (who - 1)] = 0
            flags["alarm"] = 1 if alarm else 0
        else:
            w2 = {0: 0x0002 | 0x0008, 1: 0x0008, 2: 0x0004, 3: 0x0001 | 0x0004}[lvl]
            for s_ in range(STRINGS):
                flags["string_flags2_i%d" % s_] = w2
                flags["string_flags_i%d" % s_] = 1 if alarm else 0
            flags["alarm"] = 1 if alarm else 0
        flags["battery"] = 1 if alarm else 0
        # the warning outlives the alarm unless v_off is past its band too
        # (impedance: 1.1/1.2 mOhm levels, 0.5 mOhm hysteresis)
        warn = lv[2] if high else lv[1]
        warn_stays = v_off >= warn - hy if high else v_off <= warn + hy
        after = {(warn_code, s_, m_) for s_, m_ in srcs} if alarm and warn_stays else set()
        case("%s %s" % (name, ["low alarm", "low warning", "high warning", "high alarm"][lvl]),
             rd(v_on), rd(v_hold), rd(v_off), expect, True, flags, after)

# --- current deviation between parallel strings (3 strings: string 1 alone
# deviates twice as far from the mean as the others), 10 % hysteresis ---
for mode, sg, c_alarm, c_warn, b_alarm, b_warn in (("charge", 1, 36, 38, 0x0040, 0x1000),
                                                  ("discharge", -1, 37, 39, 0x0020, 0x0080)):
    def dev(i1):
        return {"currents": {1: sg * i1, 2: 0.0, 3: 0.0}}
    # i1 = 6.6: mean 2.2, string 1 deviates 4.4 (> 4), the others 2.2 (< 3)
    case("current deviation %s alarm" % mode, dev(6.6), dev(5.85), dev(5.1),
         {(c_alarm, 1, 0), (c_warn, 1, 0)}, False,
         {"string_flags2_i0": b_alarm | b_warn, "string_flags2_i1": 0, "string_flags_i0": 1,
          "battery": 1, "alarm": 1},
         after={(c_warn, 1, 0)}, release=dev(0.0))
    # 5.4: deviates 3.6 (> 3, < 4); 4.95 deviates 3.3, inside the 10 % band of 3
    case("current deviation %s warning" % mode, dev(5.4), dev(4.95), dev(3.6),
         {(c_warn, 1, 0)}, False,
         {"string_flags2_i0": b_warn, "string_flags_i0": 0, "battery": 0, "alarm": 0})

# --- maximum voltage difference and equalizing, switched on at runtime ---
for k, v in (("thresholds.max_voltage_diff_v", 0.5), ("thresholds.equalizing_min_v", 12.495),
             ("thresholds.equalizing_max_v", 14.7)):
    rep, _ = ctl_call(A["control"], control("set", "wm1", key=k, value=v))
    check(rep["ok"], "set %s = %s: %s" % (k, v, rep))
cycle()
# block 12 (string 2) at 13.0 V: string average 13.551, 0.551 V off (> 0.5)
case("max voltage difference", {"volts": {12: 13.0}}, {"volts": {12: 13.0}},
     {"volts": {12: 13.1}}, {(26, 2, 0)}, False,
     {"battery": 0x0002, "string_flags2_i1": 0, "alarm": 0})
# block 12 at 12.45 V: inside the voltage warning (12.4) but below the
# equalizing range (12.495), so also 1.04 V off the average
case("equalizing not operating", {"volts": {12: 12.45}}, {"volts": {12: 12.45}},
     {"volts": {12: 13.62}}, {(35, 2, 0), (26, 2, 0)}, False,
     {"string_flags2_i1": 0x0010, "battery": 0x0002, "alarm": 0})

# --- gateway sensors: hydrogen in the guide's two stages (20 % LEL warning,
# 40 % LEL alarm, each clearing 10 % inside its level), the room's
# temperature (four levels, 1 degC hysteresis) and humidity (two high
# levels, 2 %RH), a fitted sensor that reads nothing, a GX_R_AUX input ---
case("hydrogen warning", {"aux": {"hydrogen_pct_lel": 25.0}}, {"aux": {"hydrogen_pct_lel": 18.5}},
     {"aux": {"hydrogen_pct_lel": 17.5}}, {(110, 0, 0)}, False, {"battery": 0, "alarm": 0})
case("hydrogen alarm", {"aux": {"hydrogen_pct_lel": 45.0}}, {"aux": {"hydrogen_pct_lel": 37.0}},
     {"aux": {"hydrogen_pct_lel": 35.5}}, {(103, 0, 0), (110, 0, 0)}, False,
     {"battery": 1, "alarm": 1}, after={(110, 0, 0)})


def room(**kw):
    return {"aux": kw}


# (level, on, hold, off, codes raised, code left after off)
for lvl, on, hold, off, codes, left in (
        ("high warning", 32.0, 29.5, 28.5, {113}, None),
        ("high alarm", 37.0, 34.5, 33.5, {111, 113}, 113),
        ("low warning", 7.0, 10.5, 11.5, {114}, None),
        ("low alarm", -2.0, 0.5, 1.5, {112, 114}, 114)):
    case("room temperature " + lvl, room(ambient_c=on), room(ambient_c=hold), room(ambient_c=off),
         {(c, 0, 0) for c in codes}, True,
         {"battery": 1 if left else 0, "alarm": 1 if left else 0},
         after={(left, 0, 0)} if left else None)
case("humidity high warning", room(humidity_pct=85.0), room(humidity_pct=79.0),
     room(humidity_pct=77.5), {(116, 0, 0)}, True, {"battery": 0, "alarm": 0})
case("humidity high alarm", room(humidity_pct=95.0), room(humidity_pct=89.0),
     room(humidity_pct=87.5), {(115, 0, 0), (116, 0, 0)}, True, {"battery": 1, "alarm": 1},
     after={(116, 0, 0)})
# A dry room raises nothing: humidity has no low levels.
t_dry = cycle(aux={"humidity_pct": 3.0})
for _ in range(DELAY + 1):
    cycle(aux={"humidity_pct": 3.0})
# alarmd judges in order: once the hydrogen warning of the next reading is
# raised, anything the dry readings raised would be there before it.
t_mark = cycle(aux={"hydrogen_pct_lel": 25.0})
settle(lambda: (110, 0, 0) in active_keys(), "marker alarm after the dry room")
check([key(a) for a in raised(t_dry)] == [(110, 0, 0)] and raised(t_dry)[0]["raised_us"] == t_mark,
      "3 %%RH for longer than the delay raises nothing: %s" % [key(a) for a in raised(t_dry)])
cycle()
settle(lambda: not active_keys(), "marker cleared")
case("sensor reads nothing", {"aux": {"hydrogen_pct_lel": None}},
     {"aux": {"hydrogen_pct_lel": None}}, {}, {(23, 0, 0)}, False, {"battery": 0, "alarm": 0})
case("GX_R_AUX input 3", {"aux": {"inputs": 0x4}}, {"aux": {"inputs": 0x4}}, {},
     {(104, 0, 3)}, False, {"battery": 0, "alarm": 0})

# The catalogue's threshold types all went through a case above.
seen = {a["type"] for a in L.alarms("raise")}
want = set(range(2, 6)) | set(range(6, 13)) | set(range(13, 19)) | set(range(26, 40)) | \
    {23, 103, 104} | set(range(110, 117))
check(want <= seen, "every threshold type raised: missing %s" % sorted(want - seen))
ids = [a["id"] for a in L.alarms("raise")]
check(len(ids) == len(set(ids)), "alarm ids unique")

L.close()
stop(alarmd)
gw.close()
check(alarmd.returncode == 0, "alarmd stops cleanly")
done("test_alarmd_every_threshold")
