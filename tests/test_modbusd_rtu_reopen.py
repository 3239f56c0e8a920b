"""The RTU serial line goes away and comes back (a socat pty pair killed and
started again): modbusd logs the loss once with its reason and counts it,
stays idle while the line is gone (CPU time from /proc/PID/stat), reopens it
with backoff (0.5 s doubling to 30 s) and answers again within the delay in
force when the line came back."""
import json
import os
import re
import subprocess
import time

from owtest import *

d = tmpdir()
socat, a, b = pty_pair(d)
cfg = os.path.join(d, "site.json")
s = site_with_alarmd(cfg, d, [{"id": "wm1"}])
s["services"]["modbusd"] = {"listen": "127.0.0.1:%d" % free_port(),
                            "rtu": {"device": a, "baud": 19200, "parity": "N"}}
with open(cfg, "w") as f:
    json.dump(s, f, indent=2)
log = os.path.join(d, "modbusd.log")
mb = start([MODBUSD, "-f", cfg], stderr=open(log, "w"))


def logged():
    with open(log) as f:
        return f.read()


check(wait_for(lambda: "RTU on " in logged() and "listening on" in logged(), 10), "modbusd up")

from pymodbus.client import ModbusSerialClient


def read_ok(timeout=1):
    # pymodbus 3.0's RTU client does not wait at all with a timeout below 1 s.
    c = ModbusSerialClient(port=b, baudrate=19200, parity="N", timeout=timeout, retries=0)
    try:
        if not c.connect():
            return False
        rr = c.read_holding_registers(1003, 2, slave=1)
        return not rr.isError() and rr.registers == [2, 18]
    except Exception:
        return False
    finally:
        c.close()


TCK = os.sysconf("SC_CLK_TCK")


def cpu_s(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TCK  # utime + stime


def cpu_share(pid, seconds):
    c0, t0 = cpu_s(pid), time.monotonic()
    time.sleep(seconds)  # measuring over a span of time is the point here
    return (cpu_s(pid) - c0) / (time.monotonic() - t0)


check(read_ok(1.0), "answers over RTU before the loss")
base = cpu_share(mb.pid, 2.0)

stop(socat)  # the line goes away: its other end closes, the pty nodes go
t_lost = time.monotonic()
check(wait_for(lambda: "line lost" in logged(), 5), "the loss is logged")
detect = time.monotonic() - t_lost
down = cpu_share(mb.pid, 3.0)
print("CPU of modbusd: %.1f%% with the line up and idle, %.1f%% over 3 s with it gone "
      "(loss seen in %.2f s)" % (100 * base, 100 * down, detect))
check(down < 0.10, "near idle while the line is gone: %.1f%% of a core (the old code spun "
      "at ~80%%)" % (100 * down))
losses = re.findall(r"rtu \S+: line lost \(([^)]*)\), loss (\d+)", logged())
check(len(losses) == 1, "logged once, with the reason: %s" % losses)

socat2, a2, b2 = pty_pair(d)  # the line is back, same paths
t_back = time.monotonic()
since_loss = t_back - t_lost
# Attempts at 0.5, 1.5, 3.5, 7.5 s... after the loss: the one after now.
sched, delay = 0.5, 0.5
while sched < since_loss:
    delay = min(delay * 2, 30)
    sched += delay
bound = sched - since_loss + 1.2  # + one pymodbus attempt (1 s timeout) in flight
check(wait_for(lambda: read_ok(), bound + 3), "answers again after the line is back")
answered = time.monotonic() - t_back
print("line back %.1f s after the loss; answered %.2f s later (next attempt was due in %.2f s)"
      % (since_loss, answered, sched - since_loss))
check(answered <= bound, "answered within the backoff: %.2f s <= %.2f s" % (answered, bound))
m = re.search(r"rtu \S+: reopened after ([\d.]+) s \((\d+) attempt", logged())
check(m is not None, "the reopen is logged: %s" % (m and m.group(0)))
check(read_ok(1.0), "keeps answering")
stop(mb)
m = re.search(r"(\d+) RTU line losses \((\d+) reopened\)", logged())
check(m and m.group(1) == "1" and m.group(2) == "1", "counted: %s" % (m and m.group(0)))
stop(socat2)
done("modbusd_rtu_reopen")
