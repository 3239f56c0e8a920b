"""A real webmanager's own flag words, from its Modbus registers to the
history and `ohmwatch status` (issue 17). A pymodbus server holds a small
G.BMS image (General, Battery and Alarm Flags at 1000-1002, one string of 9
modules); busd polls it, the historian stores what the device says, alarmd
judges the readings itself. The test changes the device's words through
Modbus writes and checks: one device_flags row for the first message, none
while the words stay, a 'change' row and one device_module_flags row when
the device raises an alarm on module 3, the status one-shot decoding both
(device says / ohmwatch says), and a historian restart writing its first
message again."""
import os
import subprocess
import time

from owtest import *

PY = "/usr/bin/python3"
d = tmpdir()
port = free_port()
db = pg()

# The guide's flag values (proto/ow_gbms.h): RUNNING, FLOAT_CHARGING,
# MODULE_LOST; GENERAL_ALARM, VOLTAGE_HIGH.
RUNNING, FLOAT, LOST = 0x0001, 0x0040, 0x0004
AL_GENERAL, AL_VHIGH = 0x0001, 0x0004
G0 = RUNNING | FLOAT

SERVER = r"""
import sys
from pymodbus.server import StartTcpServer
from pymodbus.datastore import ModbusSparseDataBlock, ModbusSlaveContext, ModbusServerContext
r = {a: 0 for a in list(range(1000, 1005)) + list(range(1010, 1105))
     + list(range(3650, 3682))}
r.update({1000: int(sys.argv[2]), 1003: 1, 1004: 9, 1011: 1224, 1012: 13605})
for m in range(1, 10):
    b = 1060 + 5 * (m - 1)
    r[b], r[b + 1], r[b + 2] = 100, 13600 + m, 450
blk = ModbusSparseDataBlock(r)
StartTcpServer(context=ModbusServerContext(slaves=ModbusSlaveContext(hr=blk, ir=blk,
               zero_mode=True), single=True), address=("127.0.0.1", int(sys.argv[1])))
"""
srv = start([PY, "-c", SERVER, str(port), str(G0)], stderr=subprocess.DEVNULL)
check(wait_for(lambda: tcp_listening(port), 20), "pymodbus server listening")

cfg = os.path.join(d, "site.json")
s = site_full(cfg, d, [{"id": "wm1", "source": "modbus-tcp", "poll_ms": 200,
                        "ambient_sensor": False, "hydrogen_sensor": False,
                        "current_sensor": False, "strings": [{"modules": 9}],
                        "modbus": {"host": "127.0.0.1", "port": port, "timeout_ms": 500}}],
              db.dsn)
hist = start([HISTORIAN, "-f", cfg], stderr=subprocess.PIPE, text=True, errors="replace")
alarmd = start([ALARMD, "-f", cfg])
busd = start([BUSD, "-f", cfg])


def rows(where=""):
    return db.scalar("SELECT count(*) FROM device_flags " + where, -1)


def mrows(where=""):
    return db.scalar("SELECT count(*) FROM device_module_flags " + where, -1)


def position():
    return db.scalar("SELECT seq FROM ingest_positions WHERE pub = 'busd.wm1'", -1)


# Messages per cycle: 9 modules, 1 string, aux, device, heartbeat.
PER_CYCLE = 13

check(wait_for(lambda: rows() == 1, 30, 0.1), "the first device message makes a row")
check(db.query("SELECT link, general, battery, alarm, strings_reported, modules_reported, why "
               "FROM device_flags") == [("up", G0, 0, 0, 1, 9, "start")],
      "the device's words as it reported them: %r" % db.query("SELECT * FROM device_flags"))
check(mrows() == 9 and mrows("WHERE flags <> 0") == 0,
      "every module's word with the first message (%d)" % mrows())

# Five more cycles stored, the same words: no new row.
p0 = position()
check(wait_for(lambda: position() >= p0 + 5 * PER_CYCLE, 30, 0.1), "five more cycles stored")
check(rows() == 1 and mrows() == 9, "the same words again: no row (%d, %d)" % (rows(), mrows()))

# The device raises an alarm: module 3's voltage high, its general word
# says a module is lost (the webmanager's own view, not ohmwatch's).
from pymodbus.client import ModbusTcpClient
c = ModbusTcpClient("127.0.0.1", port=port)
check(c.connect(), "Modbus client connected")
check(not c.write_register(1000, G0 | LOST, slave=1).isError(), "write 1000")
check(not c.write_register(1002, AL_GENERAL | AL_VHIGH, slave=1).isError(), "write 1002")
check(not c.write_register(1060 + 5 * 2 + 3, AL_GENERAL | AL_VHIGH, slave=1).isError(),
      "write module 3's alarm word")
c.close()
check(wait_for(lambda: rows("WHERE why = 'change'") >= 1 and
               mrows("WHERE module = 3 AND flags <> 0") == 1, 30, 0.1),
      "the change makes a row, and module 3 one")
p1 = position()
check(wait_for(lambda: position() >= p1 + 3 * PER_CYCLE, 30, 0.1), "three more cycles stored")
got = db.query("SELECT general, alarm, why FROM device_flags ORDER BY ts")
# busd may have read 1000 and 1002 in different cycles: one or two changes.
check(got[0][2] == "start" and got[-1] == (G0 | LOST, AL_GENERAL | AL_VHIGH, "change") and
      len(got) <= 3, "rows: the start, then the change: %r" % got)
check(mrows() == 10 and db.query("SELECT flags FROM device_module_flags WHERE module = 3 "
                                 "ORDER BY ts DESC LIMIT 1")[0][0] == AL_GENERAL | AL_VHIGH,
      "one module row for module 3's word (%d rows)" % mrows())

# ---- ohmwatch status: the device's words decoded, beside alarmd's ----
r = subprocess.run([CLI, "-f", cfg, "status", "--once", "--timeout", "20"], capture_output=True,
                   text=True)
out = r.stdout
check(r.returncode == 0, "status --once exits 0: %s" % r.stderr)
check("Field device: link up, reports 1 string(s), 9 module(s)" in out,
      "status shows the device's link: %s" % out[-1500:])
check("General status  device says   0x%04x BACS_STATE_RUNNING BACS_STATE_MODULE_LOST "
      "BACS_STATE_FLOAT_CHARGING\n" % (G0 | LOST) in out, "the device's general word decoded")
check("ohmwatch says 0x" in out and out.count("ohmwatch says") >= 1,
      "ohmwatch's own word beside it (alarmd finds every module answering)")
check("Alarm           device says   0x0005 BACS_ALARM_GENERAL_ALARM BACS_ALARM_VOLTAGE_HIGH\n"
      in out, "the device's alarm word decoded")
check("module 3 (String 1, block 3)" in out and
      "block 3): 0x0005 BACS_ALARM_GENERAL_ALARM BACS_ALARM_VOLTAGE_HIGH" in out,
      "module 3's word decoded")
check("module 4 (" not in out, "only the flagged module listed")

# ---- a historian restart: its first message is written again ----
check(stop(hist) == 0, "historian stops cleanly")
err = hist.stderr.read()
check("device words:" in err and "module row(s)" in err,
      "the historian's stats count the device rows: %r" % err[-400:])
n_before = rows()
hist = start([HISTORIAN, "-f", cfg])
check(wait_for(lambda: rows("WHERE why = 'start'") == 2, 30, 0.1),
      "the first message after the restart is written (%d start rows)" %
      rows("WHERE why = 'start'"))
check(rows() == n_before + 1, "one row for it (%d -> %d)" % (n_before, rows()))
check(mrows() == 10 + 9, "and every module's word again (%d)" % mrows())
last = db.query("SELECT general, alarm FROM device_flags ORDER BY ts DESC LIMIT 1")[0]
check(last == (G0 | LOST, AL_GENERAL | AL_VHIGH), "with the words at that time: %r" % (last,))

# Grafana's role reads the new tables.
import psycopg2
ro = psycopg2.connect(db.dsn.replace("user=ohmwatch_writer", "user=grafana_reader")
                      .replace("password=ohmwatch", "password=grafana"))
cur = ro.cursor()
cur.execute("SELECT count(*) FROM device_flags")
n = cur.fetchone()[0]
cur.execute("SELECT count(*) FROM device_module_flags")
check(n >= 3 and cur.fetchone()[0] == 19, "grafana_reader reads device_flags and "
      "device_module_flags")
ro.close()

for p in (busd, alarmd, hist):
    check(stop(p) == 0, "stops cleanly")
stop(srv)
done("field_device_flags")
