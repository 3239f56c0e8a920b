"""ohmwatch-snmpd against net-snmp's own tools on a running stack (two
gateways: busd x 2, alarmd, snmpd):
- snmpwalk (v2c) and snmpbulkwalk (v3 authPriv) of the whole tree give the
  same answers, and every module, string, setting and flag word equals what
  busd and alarmd published, for each gateway (SNMP contexts);
- snmpwalk -m shows the MIB's names; smilint -l 6 has no error on the MIB;
- snmpset by a v3 write user is applied through alarmd (alarmd's `get`,
  the next GET, and the alarms it causes); refused for v2c, a read-only v3
  user, an out-of-range value (wrongValue: a level, bacsImpcPollRate 0,
  bacsTemperatureUnit 2), a low above its high (inconsistentValue) and a
  read-only object (notWritable), each time with nothing changed;
- the alarms the SET raises and clears reach snmptrapd as
  bacsTrapAlarmEntryAdded/Removed, as v2c traps and as v3 informs, with the
  alarm's id and well-known type, and the alarm table shows them meanwhile;
- v2c answers only its community from its source address;
- a bad services.snmpd is refused by -n with file:line:col and the key."""
import json
import os
import re
import signal
import subprocess
import time

from owtest import *

SNMPD = os.path.join(BUILD, "services", "snmpd", "ohmwatch-snmpd")
MIBDIR = os.path.join(ROOT, "mibs")
ROOTOID = "1.3.6.1.2.1.33.5"
ENV = dict(os.environ, MIBS="")

d = tmpdir()
cfg = os.path.join(d, "site.json")
s = site_with_alarmd(cfg, d, [{"id": "wm1", "sim": {"seed": 11, "speed": 10}},
                              {"id": "wm2", "sim": {"seed": 22, "speed": 10}}])
port, trap_port, inform_port = free_port(), free_port(), free_port()
USERS = [{"name": "ops", "auth_pass": "opsauth123", "priv_pass": "opspriv123", "write": True},
         {"name": "viewer", "auth": "SHA-256", "auth_pass": "viewauth123",
          "priv_pass": "viewpriv123"}]
s["services"]["snmpd"] = {
    "listen": "udp:127.0.0.1:%d" % port, "community": "public", "source": "127.0.0.1",
    "state_dir": os.path.join(d, "snmpd-state"), "users": USERS,
    "notify": [{"host": "127.0.0.1:%d" % trap_port, "community": "traps"},
               {"host": "127.0.0.1:%d" % inform_port, "user": "ops"}]}
with open(cfg, "w") as f:
    json.dump(s, f, indent=2)
A = s["services"]["alarmd"]
AGENT = "127.0.0.1:%d" % port
V2 = ["-v2c", "-c", "public"]
OPS = ["-v3", "-l", "authPriv", "-u", "ops", "-a", "SHA", "-A", "opsauth123", "-x", "AES",
       "-X", "opspriv123"]
VIEWER = ["-v3", "-l", "authPriv", "-u", "viewer", "-a", "SHA-256", "-A", "viewauth123", "-x",
          "AES", "-X", "viewpriv123"]


def tool(name, auth, *args, check_rc=False):
    r = subprocess.run([name, "-On", "-Oqte", "-t", "3", "-r", "1"] + auth + [AGENT] + list(args),
                       capture_output=True, text=True, env=ENV)
    if check_rc:
        check(r.returncode == 0, "%s %s: %s" % (name, args, r.stderr))
    return r


def parse(out):
    vals = {}
    for line in out.splitlines():
        parts = line.split(None, 1)
        if len(parts) == 2 and parts[0].startswith(".1."):
            vals[parts[0][1:]] = parts[1].strip()
    return vals


def walk(auth, ctx=None, bulk=False):
    extra = ["-n", ctx] if ctx and auth is not V2 else []
    a = auth if not (ctx and auth is V2) else ["-v2c", "-c", "public@" + ctx]
    r = tool("snmpbulkwalk" if bulk else "snmpwalk", a + extra, ROOTOID, check_rc=True)
    return parse(r.stdout)


def get(auth, *oids):
    return parse(tool("snmpget", auth, *oids).stdout)


def wire(x, scale):
    """round(x / scale) as the agent computes it (C's round)."""
    return str(cround(x / scale))


def oid(name_sub, inst):
    return "%s.%s.%d" % (ROOTOID, name_sub, inst)


# ---- configuration check ----
r = subprocess.run([SNMPD, "-n", "-f", cfg], capture_output=True, text=True)
check(r.returncode == 0 and "configuration OK" in r.stdout, "-n: %r" % r.stderr)
bad = json.loads(json.dumps(s))
bad["services"]["snmpd"]["users"][1]["priv_pass"] = "short"
badf = os.path.join(d, "bad.json")
with open(badf, "w") as f:
    json.dump(bad, f, indent=2)
r = subprocess.run([SNMPD, "-n", "-f", badf], capture_output=True, text=True)
check(r.returncode == 1 and re.search(r"bad\.json:\d+:\d+: services\.snmpd\.users\[1\]\.priv_pass: "
                                      r"a pass phrase needs at least 8", r.stderr),
      "bad pass phrase refused with its place: %r" % r.stderr)
bad["services"]["snmpd"]["users"][1]["priv_pass"] = "viewpriv123"
bad["services"]["snmpd"]["notify"][1]["user"] = "nobody"
with open(badf, "w") as f:
    json.dump(bad, f, indent=2)
r = subprocess.run([SNMPD, "-n", "-f", badf], capture_output=True, text=True)
check(r.returncode == 1 and "services.snmpd.notify[1].user: no user 'nobody'" in r.stderr,
      "unknown inform user refused: %r" % r.stderr)

# ---- MIB ----
r = subprocess.run(["smilint", "-l", "6", os.path.join(MIBDIR, "OHMWATCH-BACS-MIB.txt")],
                   capture_output=True, text=True, env=dict(os.environ, SMIPATH=MIBDIR))
errors = [l for l in r.stderr.splitlines() if l.strip() and "warning" not in l]
check(not errors, "smilint -l 6 errors: %r" % errors)

# ---- trap receivers (net-snmp's snmptrapd) ----
tconf = os.path.join(d, "snmptrapd.conf")
with open(tconf, "w") as f:
    f.write("authCommunity log traps\n"
            "createUser ops SHA opsauth123 AES opspriv123\nauthUser log ops authPriv\n")
tlog, ilog = os.path.join(d, "traps.log"), os.path.join(d, "informs.log")
for port_, log in ((trap_port, tlog), (inform_port, ilog)):
    start(["snmptrapd", "-f", "-C", "-c", tconf, "-On", "-Lf", log, "-F", "TRAP %a %P %v\n",
           "udp:127.0.0.1:%d" % port_],
          env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

# ---- the stack ----
busd = [start([BUSD, "-f", cfg, "-g", g]) for g in ("wm1", "wm2")]
alarmd = start([ALARMD, "-f", cfg])
BL = {g["id"]: Listener(g["publish"]) for g in s["gateways"]}
AL = Listener(A["publish"])
time.sleep(1.0)
agent = start([SNMPD, "-f", cfg])
check(wait_for(lambda: "1.3.6.1.2.1.33.5.1.3.0" in get(V2, ROOTOID + ".1.3.0"), 10),
      "snmpd answers")
time.sleep(1.5)
# Freeze: stop busd; what snmpd serves is then busd's last words.
for b in busd:
    stop(b)
time.sleep(1.5)


def last(listener, kind, key):
    out = {}
    for m in listener.kind(kind):
        out[m[key]] = m
    return out


for gw, ctx in (("wm1", None), ("wm2", "wm2")):
    mods = last(BL[gw], "module", "module")
    strs = last(BL[gw], "string", "string")
    _, snap = ctl_call(A["control"], control("snapshot", gw=gw))
    states = [m for m in snap if m["kind"] == "state"]
    v2 = walk(V2, ctx)
    v3 = walk(VIEWER, ctx, bulk=True)
    check(len(v2) > 150 and v2 == v3, "%s: v2c walk == v3 bulk walk (%d/%d)" % (gw, len(v2), len(v3)))
    check(v2.get(ROOTOID + ".1.3.0") == "18" and v2.get(ROOTOID + ".2.6.0") == "2",
          "%s: 18 batteries, 2 strings" % gw)
    check(len(mods) == 18, "%s: busd published 18 modules" % gw)
    bad_cells = []
    for m, msg in mods.items():
        for col, field, scale in ((2, "voltage_v", 0.01), (3, "temp_c", 0.1),
                                  (4, "eq_pct", 0.1), (5, "impedance_mohm", 0.01)):
            want = wire(msg[field], scale)
            got = v2.get(oid("2.5.1.%d" % col, m))
            if got != want:
                bad_cells.append((m, col, got, want))
        if v2.get(oid("2.5.1.1", m)) != str(m - 1):
            bad_cells.append((m, 1, v2.get(oid("2.5.1.1", m)), m - 1))
    check(not bad_cells, "%s: module cells equal busd's readings: %r" % (gw, bad_cells[:5]))
    for n, msg in strs.items():
        for col, field in ((2, "current_a"), (3, "sum_voltage_v"), (4, "avg_voltage_v"),
                           (5, "ac_current_a")):
            want = wire(msg[field], 0.01)
            check(v2.get(oid("2.7.1.%d" % col, n)) == want,
                  "%s string %d col %d: %s vs %s" % (gw, n, col, v2.get(oid("2.7.1.%d" % col, n)), want))
    total = sum(m["voltage_v"] for m in mods.values())
    check(abs(int(v2[ROOTOID + ".2.3.0"]) - total / 0.01) <= 1, "%s bacsTotalVolt" % gw)
    if check(states, "%s: alarmd published a state" % gw):
        st = states[-1]
        check(v2[ROOTOID + ".2.1.0"] == str(st["general"]), "%s bacsStatus" % gw)
        check(all(v2[oid("2.5.1.6", i + 1)] == str(f) for i, f in
                  enumerate(st["module_flags"][:18])), "%s bacsModuleState" % gw)
    # the guide's example settings (the sample site's defaults)
    check(v2[ROOTOID + ".1.13.0"] == "1550" and v2[ROOTOID + ".1.9.0"] == "5000" and
          v2[ROOTOID + ".1.11.0"] == "350", "%s: settings at the guide's scales" % gw)
check(walk(V2)[oid("2.5.1.2", 1)] != walk(V2, "wm2")[oid("2.5.1.2", 1)] or
      walk(V2)[oid("2.5.1.5", 1)] != walk(V2, "wm2")[oid("2.5.1.5", 1)],
      "the contexts serve different gateways")

# v2c: the community and the source address are checked
def v2c_from(addr, community):
    return subprocess.run(["snmpget", "-Y", "clientaddr=" + addr, "-v2c", "-c", community, "-t",
                           "1", "-r", "0", "-On", AGENT, ROOTOID + ".1.3.0"],
                          capture_output=True, text=True, env=ENV)


check("Timeout" in v2c_from("127.0.0.1", "wrong").stderr, "a wrong community gets no answer")
check("Timeout" in v2c_from("127.0.0.2", "public").stderr,
      "v2c from outside `source` gets no answer")
check(" = INTEGER: 18" in v2c_from("127.0.0.1", "public").stdout, "v2c from `source` answers")

# names from the MIB
r = subprocess.run(["snmpwalk", "-M", "+" + MIBDIR, "-m", "+OHMWATCH-BACS-MIB"] + V2 +
                   [AGENT, "bacsModuleTable"], capture_output=True, text=True)
check("OHMWATCH-BACS-MIB::bacsModuleVoltage.1 = INTEGER:" in r.stdout,
      "snmpwalk -m shows names: %r" % (r.stdout[:200] + r.stderr[:300]))

# ---- SET ----
HW, HA = ROOTOID + ".1.17.0", ROOTOID + ".1.11.0"  # temperature high warning / alarm


def alarmd_get(key, gw="wm1"):
    rep, _ = ctl_call(A["control"], control("get", gw=gw, key=key))
    return rep["value"]


RATE, UNIT = ROOTOID + ".1.7.0", ROOTOID + ".1.20.0"  # bacsImpcPollRate, bacsTemperatureUnit


def refused(auth, reason, *setargs):
    before = get(V2, HW, HA, RATE, UNIT)
    r = tool("snmpset", auth, *setargs)
    after = get(V2, HW, HA, RATE, UNIT)
    check(r.returncode != 0 and reason in r.stderr and before == after,
          "refused with %s and nothing changed: %r" % (reason, r.stderr))


refused(V2, "noAccess", HW, "i", "290")
refused(VIEWER, "noAccess", HW, "i", "290")
refused(OPS, "wrongValue", HW, "i", "9000")           # 900 degC: out of the schema's range
refused(OPS, "inconsistentValue", HW, "i", "400")     # warning above the 35 degC alarm
refused(OPS, "notWritable", ROOTOID + ".1.3.0", "i", "5")
refused(OPS, "wrongValue", RATE, "i", "0")         # bacsImpcPollRate: 1..44640 min
refused(OPS, "wrongValue", RATE, "i", "44641")
refused(OPS, "wrongValue", UNIT, "i", "2")         # bacsTemperatureUnit: 0 or 1
refused(VIEWER, "noAccess", RATE, "i", "60")
refused(OPS, "wrongType", HW, "s", "hot")
check(alarmd_get("thresholds.temp_c.high_warn") == 30, "alarmd still at 30 degC")

# Pull both high temperature levels below the blocks' temperature in one
# PDU (warning first would be refused alone: the planner orders them), with
# busd running again: alarms come, the table and the traps show them.
busd = [start([BUSD, "-f", cfg, "-g", g]) for g in ("wm1", "wm2")]
time.sleep(2.0)
tool("snmpset", OPS, HA, "i", "150", HW, "i", "140", check_rc=True)
check(alarmd_get("thresholds.temp_c.high_alarm") == 15 and
      alarmd_get("thresholds.temp_c.high_warn") == 14, "alarmd applied the SET")
check(alarmd_get("thresholds.temp_c.high_alarm", gw="wm2") == 35, "wm2 untouched")
check(get(V2, HW, HA) == {HW: "140", HA: "150"}, "GET shows the SET at once")


def table(auth=V2):
    rows = parse(tool("snmpwalk", auth, ROOTOID + ".3.2").stdout)
    return {k.rsplit(".", 1)[1]: v for k, v in rows.items() if k.startswith(ROOTOID + ".3.2.1.2.")}


check(wait_for(lambda: len([v for v in table().values() if v.endswith(".3.3.8")]) == 18, 15),
      "18 temperature high alarms in bacsAlarmTable: %r" % table())
descr = table()
raised = {str(m["id"]): m["type"] for m in AL.alarms("raise") if m["gw"] == "wm1"}
check(all(raised.get(i) == int(v.rsplit(".", 1)[1]) for i, v in descr.items()),
      "table rows are alarmd's alarms (id, type)")
w = walk(V2)
check(int(w[ROOTOID + ".3.1.0"]) == len(descr), "bacsAlarmsPresent = rows")
check(all(int(w[oid("2.5.1.6", m)]) & 0x10 for m in range(1, 19)),
      "bacsModuleState has Temperature High (0x10)")
check(int(w[ROOTOID + ".2.1.0"]) & 0x0400, "bacsStatus has temperature out of range")
t0 = [v for k, v in w.items() if k.startswith(ROOTOID + ".3.2.1.3.")]
uptime = int(get(V2, "1.3.6.1.2.1.1.3.0")["1.3.6.1.2.1.1.3.0"])
check(t0 and all(0 < int(x) <= uptime for x in t0), "bacsAlarmTime is the agent's sysUpTime")

# back: alarm level first this time
tool("snmpset", OPS, HW, "i", "300", HA, "i", "350", check_rc=True)
check(wait_for(lambda: not [v for v in table().values() if v.endswith(".3.3.8")], 15),
      "the temperature alarms cleared")
time.sleep(1.0)


def traps(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return ""


for path, what in ((tlog, "v2c traps"), (ilog, "v3 informs")):
    text = traps(path)
    added = len(re.findall(re.escape(ROOTOID) + r"\.4\.1\b", text))
    removed = len(re.findall(re.escape(ROOTOID) + r"\.4\.2\b", text))
    check(added >= 18 and removed >= 18, "%s: %d added, %d removed" % (what, added, removed))
    check(re.search(re.escape(ROOTOID) + r"\.3\.2\.1\.2\.\d+ = OID: \.?" + re.escape(ROOTOID) +
                    r"\.3\.3\.8", text) is not None, "%s carry bacsAlarmDescr: %r" % (what, text[:300]))
for b in busd:
    stop(b)
check(stop(agent) == 0, "snmpd stops cleanly")


def engine_state():
    """oldEngineID and engineBoots in state_dir, as net-snmp stored them."""
    st = {}
    path = os.path.join(d, "snmpd-state", "ohmwatch-snmpd.conf")
    # net-snmp replaces the file when it saves (the old one moved aside, a
    # new one written): between the two there is none, so a missing file
    # reads as nothing stored yet, and the callers wait for a whole state.
    try:
        with open(path) as f:
            for line in f:
                parts = line.split()
                if len(parts) == 2 and parts[0] in ("oldEngineID", "engineBoots"):
                    st[parts[0]] = parts[1]
    except FileNotFoundError:
        pass
    return st


seen = {}


def boots_are(n):
    """The stored state has both lines and engineBoots n (kept in seen)."""
    st = engine_state()
    if "oldEngineID" in st and st.get("engineBoots") == str(n):
        seen.update(st)
        return True
    return False


# Killed (a crash, the OOM killer): the engine ID and engineBoots were
# stored at start, so the next start keeps the ID and counts boots on.
before = engine_state()
agent = start([SNMPD, "-f", cfg])
boots0 = int(before.get("engineBoots", 0))
check(wait_for(lambda: boots_are(boots0 + 1), 10),
      "engineBoots stored at start: %r -> %r" % (before, engine_state()))
stop(agent, signal.SIGKILL)
agent = start([SNMPD, "-f", cfg])
check(wait_for(lambda: boots_are(boots0 + 2), 10),
      "after a SIGKILL engineBoots still counts: %r -> %r" % (before, engine_state()))
check(seen.get("oldEngineID") == before.get("oldEngineID") and before.get("oldEngineID"),
      "the engine ID survives a SIGKILL: %r -> %r" % (before, seen))
check(wait_for(lambda: "1.3.6.1.2.1.33.5.1.3.0" in get(OPS, ROOTOID + ".1.3.0"), 10),
      "v3 answers after the SIGKILL")
check(stop(agent) == 0, "snmpd stops cleanly")
done("snmpd")
