"""Modbus RTU on a serial line (a socat pty pair): pymodbus's RTU client and
mbpoll read the map of each gateway under its unit id; exceptions come back
as RTU exception frames; a frame with a bad CRC is ignored and counted,
the next good one answered; another unit's request gets no answer."""
import json
import os
import shutil
import subprocess
import time

from owtest import *

d = tmpdir()
socat, a, b = pty_pair(d)
cfg = os.path.join(d, "site.json")
s = site_with_alarmd(cfg, d, [{"id": "wm1"}, {"id": "wm2"}])
s["gateways"][1]["strings"] = s["gateways"][1]["strings"][:1]
s["services"]["modbusd"] = {"listen": "127.0.0.1:%d" % free_port(),
                            "rtu": {"device": a, "baud": 19200, "parity": "N"}}
with open(cfg, "w") as f:
    json.dump(s, f, indent=2)
mb = start([MODBUSD, "-f", cfg], stderr=subprocess.PIPE, text=True, errors="replace")
time.sleep(3.0)  # alarmd is not running: modbusd waits 2 s for its snapshot

from pymodbus.client import ModbusSerialClient

c = ModbusSerialClient(port=b, baudrate=19200, parity="N", timeout=1)
check(c.connect(), "pymodbus RTU client opens the pty")
rr = c.read_holding_registers(1003, 2, slave=1)
check(not rr.isError() and rr.registers == [2, 18], "unit 1 (wm1) over RTU: %s" % rr)
rr = c.read_input_registers(1003, 2, slave=2)
check(not rr.isError() and rr.registers == [1, 9], "unit 2 (wm2) over RTU: %s" % rr)
rr = c.read_holding_registers(1060, 125, slave=1)
check(not rr.isError() and len(rr.registers) == 125 and rr.registers[3] == 2,
      "125 registers over RTU; module 1 never read: communication lost (0x0002): %s" % rr)
rr = c.read_holding_registers(1000, 10, slave=1)
check(not rr.isError() and rr.registers[3:] == [2, 18, 0, 0, 0, 0, 0],
      "1000-1009 over RTU, reserved 1005-1009 read 0: %s" % rr)
rr = c.read_holding_registers(999, 1, slave=1)
check(rr.isError() and rr.exception_code == 2, "02 over RTU: %s" % rr)
rr = c.read_holding_registers(1000, 126, slave=1)
check(rr.isError(), "03 over RTU (count 126): %s" % rr)
rr = c.write_register(1000, 1, slave=1)
check(rr.isError() and rr.exception_code == 1, "01 over RTU: %s" % rr)
rr = c.read_holding_registers(1000, 1, slave=9)
check(rr.isError(), "unit 9 on the line is not us: no answer")
# A corrupted frame, then a good one.
c.close()
fd = os.open(b, os.O_RDWR | os.O_NOCTTY)
os.write(fd, bytes.fromhex("010303e800020000"))
os.close(fd)
time.sleep(0.2)
c.connect()
rr = c.read_holding_registers(1003, 1, slave=1)
check(not rr.isError() and rr.registers == [2], "good frame answered after a bad CRC: %s" % rr)
c.close()

if shutil.which("mbpoll"):
    r = subprocess.run(["mbpoll", "-m", "rtu", "-b", "19200", "-P", "none", "-a", "2", "-r",
                        "1004", "-c", "1", "-t", "3", "-1", "-0", b], capture_output=True,
                       text=True, timeout=20)
    check(r.returncode == 0 and "[1004]: \t9\n" in r.stdout,
          "mbpoll RTU reads wm2's module count: %r %r" % (r.stdout[-200:], r.stderr))

stop(mb)
err = mb.stderr.read()
check("bad frame" in err, "the bad CRC was logged: %r" % err[-500:])
stop(socat)
done("modbusd_rtu")
