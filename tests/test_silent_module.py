"""A module that stops answering, as a SCADA master (Modbus) and an NMS
(SNMP) see it on a running stack (busd with the scenario's module_lost,
alarmd, modbusd, snmpd): from the first poll it misses, its TEMP, VOLT,
IMPC and equalizing registers read 0x8000 (-32768, never 0, which TEMP's
(x - 78) / 2 would decode as -39 degC), its ALARM register has
Communication lost, and its SNMP row reads -2147483648 with Communication
lost in bacsModuleState, all through the polls before alarmd raises its
alarm (comm_lost_polls) and after; the other modules read their values.
Then the whole gateway's busd killed: within its silence rule (three polls,
3 s at least: lib/ow_quiet.h) every module reads the sentinel with
Communication lost and the strings unmeasured, over Modbus and SNMP, not the
last values heard; alarmd raises the gateway's Communication lost; a new
busd's readings are served again."""
import json
import os
import signal
import subprocess
import time

from owtest import *

SNMPD = os.path.join(BUILD, "services", "snmpd", "ohmwatch-snmpd")
ROOTOID = "1.3.6.1.2.1.33.5"
COLS = {"volt": 2, "temp": 3, "bypass": 4, "res": 5, "state": 6}  # bacsModuleEntry columns
ENV = dict(os.environ, MIBS="")
LOST = 3  # string 1, block 3
NOVAL_MB = 0x8000
NOVAL_SNMP = -2147483648
COMM_LOST = 0x0002

d = tmpdir()
cfg = os.path.join(d, "site.json")
scen = os.path.join(d, "scenario.json")
with open(scen, "w") as f:
    json.dump({"name": "silent", "events": [
        {"at_s": 6, "type": "module_lost", "string": 1, "block": LOST, "duration_s": 0}]}, f)
s = site_with_alarmd(cfg, d, [{"id": "wm1", "poll_ms": 1000}])
mport, sport = free_port(), free_port()
s["services"]["modbusd"] = {"listen": "127.0.0.1:%d" % mport}
s["services"]["snmpd"] = {"listen": "udp:127.0.0.1:%d" % sport, "community": "public",
                          "source": "127.0.0.1", "state_dir": os.path.join(d, "snmpd-state")}
with open(cfg, "w") as f:
    json.dump(s, f, indent=2)
G = s["gateways"][0]
A = s["services"]["alarmd"]
polls = 3  # thresholds.comm_lost_polls, the default

BL = Listener(G["publish"])
AL = Listener(A["publish"])
alarmd = start([ALARMD, "-f", cfg])
mb = start([MODBUSD, "-f", cfg])
snmpd = start([SNMPD, "-f", cfg])
check(wait_for(lambda: tcp_listening(mport), 10), "modbusd listens")

from pymodbus.client import ModbusTcpClient

c = ModbusTcpClient("127.0.0.1", port=mport)
check(c.connect(), "pymodbus connects")


def block(m):
    rr = c.read_holding_registers(1060 + 5 * (m - 1), 5, slave=1)
    check(not rr.isError(), "read module %d: %s" % (m, rr))
    return rr.registers if not rr.isError() else [0] * 5


def row(m):
    oids = ["%s.2.5.1.%d.%d" % (ROOTOID, c_, m) for c_ in sorted(COLS.values())]
    r = subprocess.run(["snmpget", "-On", "-Oqv", "-t", "2", "-r", "1", "-v2c", "-c", "public",
                        "127.0.0.1:%d" % sport] + oids, capture_output=True, text=True, env=ENV)
    vals = r.stdout.split()
    return dict(zip(sorted(COLS, key=COLS.get), [int(v) for v in vals])) if len(vals) == 5 \
        else None


# Before busd: configured, never read. Already not a measurement.
check(wait_for(lambda: block(1)[3] & COMM_LOST, 5), "not read yet: Communication lost")
b = block(1)
check(b[0] == b[1] == b[2] == b[4] == NOVAL_MB, "not read yet: 0x8000, not 0: %r" % b)
check(wait_for(lambda: row(1) is not None, 10), "snmpd answers")
r = row(1)
check(r["volt"] == r["temp"] == r["res"] == r["bypass"] == NOVAL_SNMP and r["state"] & COMM_LOST,
      "not read yet over SNMP: the sentinel and Communication lost: %r" % r)

busd = start([BUSD, "-f", cfg, "-S", scen, "-s", "1"])


def readings(m):
    return [x for x in BL.kind("module") if x["module"] == m]


check(wait_for(lambda: any(not x["status"] & 1 for x in readings(LOST)), 10),
      "module %d answers first" % LOST)
time.sleep(0.5)
b = block(LOST)
check(b[0] != NOVAL_MB and 60 < b[0] < 200 and b[1] > 10000 and not b[3] & COMM_LOST,
      "answering: a temperature of %.1f degC, %d mV, no Communication lost: %r" %
      ((b[0] - 78) / 2, b[1], b))
r = row(LOST)
check(r and r["volt"] > 1000 and r["temp"] != NOVAL_SNMP and not r["state"] & COMM_LOST,
      "answering over SNMP: %r" % r)

# The first poll it misses, and every read from then on until alarmd's own
# alarm and a poll past it.
check(wait_for(lambda: any(x["status"] & 1 for x in readings(LOST)), 20),
      "busd publishes module %d as not answering" % LOST)
t_first = time.time()
# Make alarmd publish its state in the polls before its alarm, as any other
# change on the gateway would: a temperature warning level below every
# block's temperature raises a warning on each answering block at its next
# reading. alarmd's word for module 3 is then still 0.
rep, _ = ctl_call(A["control"], control("set", gw="wm1", key="thresholds.temp_c.high_warn",
                                        value=12))
check(rep["ok"], "alarmd set high_warn = 12: %r" % rep)
time.sleep(0.3)  # modbusd and snmpd take it in (snmpd's image: 0.1 s)
bad_mb, bad_snmp, n = [], [], 0
while time.time() - t_first < polls + 2.5:
    b, r = block(LOST), row(LOST)
    n += 1
    if not (b[0] == b[1] == b[2] == b[4] == NOVAL_MB and b[3] & COMM_LOST):
        bad_mb.append((round(time.time() - t_first, 2), b))
    if not (r and r["volt"] == r["temp"] == r["res"] == r["bypass"] == NOVAL_SNMP and
            r["state"] & COMM_LOST):
        bad_snmp.append((round(time.time() - t_first, 2), r))
    time.sleep(0.1)
check(n >= 10, "read %d times over %d polls" % (n, polls + 2))
check(not bad_mb, "Modbus: 0x8000 and Communication lost from the first missed poll: %r" %
      bad_mb[:5])
check(not bad_snmp, "SNMP: -2147483648 and Communication lost from the first missed poll: %r" %
      bad_snmp[:5])
check(len([a for a in AL.alarms("raise") if a["module"] != LOST and a["severity"] == 1])
      >= 10, "alarmd raised temperature warnings on the other blocks meanwhile")
raised = [a for a in AL.alarms("raise") if a["type"] == 1 and a["module"] == LOST]
check(raised, "alarmd raised bacsAlarmSystemError for module %d meanwhile" % LOST)
check(time.time() - t_first > polls, "and the reads spanned the polls before it")
b = block(LOST)
check(b[3] & 0x0001, "its alarm's general-alarm bit arrives with alarmd's word: %#x" % b[3])

# The other modules are unaffected: real values, no flag.
for m in (1, 2, 4, 18):
    b = block(m)
    check(b[0] != NOVAL_MB and -30 < (b[0] - 78) / 2 < 60 and not b[3] & COMM_LOST,
          "module %d reads a measurement: %r" % (m, b))


# The whole gateway gone quiet: busd killed, so not even "no answer" comes.
def string_regs(s_):
    rr = c.read_holding_registers(1010 + 5 * (s_ - 1), 4, slave=1)
    return rr.registers if not rr.isError() else None


def string_rows():
    r = subprocess.run(["snmpwalk", "-On", "-Oq", "-t", "2", "-r", "1", "-v2c", "-c", "public",
                        "127.0.0.1:%d" % sport, ROOTOID + ".2.7.1.3"],
                       capture_output=True, text=True, env=ENV)
    return [l for l in r.stdout.splitlines() if l.startswith("." + ROOTOID + ".2.7.1.3.")]


sr = string_regs(1)
check(sr and sr[1] > 500, "string 1's sum voltage before: %r (0.1 V)" % sr)
check(len(string_rows()) == 2, "both strings' bacsStringTotalVolt rows before: %r" % string_rows())
NMOD = 18


def all_quiet_mb():
    return all(block(m)[0] == block(m)[1] == NOVAL_MB for m in range(1, NMOD + 1))


check(stop(busd, signal.SIGKILL) != 0, "busd killed")
t_kill = time.time()
check(wait_for(all_quiet_mb, 15), "Modbus: every module reads 0x8000 after busd went quiet")
t_mb = time.time() - t_kill
bad = [m for m in range(1, NMOD + 1) if not block(m)[3] & COMM_LOST]
check(not bad, "and every ALARM register has Communication lost: %r" % bad)
check(string_regs(1) == [0, 0, 0, 0], "string 1 unmeasured (0): %r" % string_regs(1))
check(wait_for(lambda: all(row(m) and row(m)["volt"] == NOVAL_SNMP and row(m)["state"] & COMM_LOST
                           for m in (1, 9, 18)), 15),
      "SNMP: blocks read -2147483648 with Communication lost after busd went quiet")
check(string_rows() == [], "SNMP: no bacsStringTotalVolt row serves an old sum: %r" %
      string_rows())
check(wait_for(lambda: [a for a in AL.alarms("raise") if a["type"] == 20 and a["module"] == 0],
               15), "alarmd raised the gateway's Communication lost (20)")
print("served the sentinel %.1f s after busd was killed (rule: 3 s)" % t_mb)

busd = start([BUSD, "-f", cfg, "-s", "1"])
check(wait_for(lambda: block(1)[1] != NOVAL_MB and block(18)[1] != NOVAL_MB, 15),
      "a new busd's readings are served again")
b = block(1)
check(-30 < (b[0] - 78) / 2 < 60 and not b[3] & COMM_LOST, "module 1 measured again: %r" % b)
check(wait_for(lambda: len(string_rows()) == 2, 10), "both string rows again")

c.close()
for p in (busd, snmpd, mb, alarmd):
    check(stop(p) == 0, "stops cleanly")
BL.close()
AL.close()
done("silent_module")
