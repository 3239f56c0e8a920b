"""ohmwatch-modbusd against clients nobody here wrote (pymodbus, mbpoll):
the whole map of a running stack (busd + alarmd + modbusd) decodes to what
busd and alarmd published; every exception code; 32 concurrent clients; a
client sending garbage, a truncated frame and then stalling does not stop
the others and is dropped after the idle timeout."""
import json
import os
import socket
import struct
import subprocess
import threading
import time

from owtest import *


d = tmpdir()
cfg = os.path.join(d, "site.json")
s = site_with_alarmd(cfg, d, [{"id": "wm1"}])
port = free_port()
s["services"]["modbusd"] = {"listen": "127.0.0.1:%d" % port, "idle_timeout_ms": 1500,
                            "max_clients": 40}
with open(cfg, "w") as f:
    json.dump(s, f, indent=2)
A = s["services"]["alarmd"]
G = s["gateways"][0]

r = subprocess.run([MODBUSD, "-n", "-f", cfg], capture_output=True, text=True)
check(r.returncode == 0 and "configuration OK" in r.stdout, "-n: %r" % r.stderr)

busd = start([BUSD, "-f", cfg, "-s", "10"])
alarmd = start([ALARMD, "-f", cfg])
BL = Listener(G["publish"])
AL = Listener(A["publish"])
time.sleep(1.0)
mb = start([MODBUSD, "-f", cfg])


check(wait_for(lambda: tcp_listening(port), 10), "modbusd listens")
check(wait_for(lambda: len(BL.kind("heartbeat")) >= 3, 10), "busd polls")

from pymodbus.client import ModbusTcpClient

c = ModbusTcpClient("127.0.0.1", port=port)
check(c.connect(), "pymodbus connects")


def read(addr, n, unit=1, fc=3):
    f = c.read_holding_registers if fc == 3 else c.read_input_registers
    return f(addr, n, slave=unit)


def alarmd_words():
    _, snap = ctl_call(A["control"], control("snapshot"))
    st = [m for m in snap if m["kind"] == "state"]
    return [st[-1][k] & 0xFFFF for k in ("general", "battery", "alarm")] if st else None


def read_map():
    img = {}
    for first, last in ((1000, 1004), (1010, 1059), (1060, 2709), (2710, 2739), (2740, 3681)):
        a = first
        while a <= last:
            n = min(125, last - a + 1)
            rr = read(a, n, fc=3 if a % 2 else 4)
            check(not rr.isError(), "read %d+%d: %s" % (a, n, rr))
            if rr.isError():
                break
            for i, v in enumerate(rr.registers):
                img[a + i] = v
            a += n
    check(len(img) == 5 + 50 + 1650 + 30 + 942, "whole map read (%d registers)" % len(img))
    return img


def s16(v):
    return v - 65536 if v >= 32768 else v


# While busd polls: each module's five registers (one request reads them
# together) are the encoding of one of busd's readings of that module.
check(wait_for(lambda: read(1000, 3).registers == alarmd_words(), 10),
      "modbusd's flag words follow alarmd's state")
live = read_map()


def mod_regs(m):
    return [cround(2 * m["temp_c"] + 78), cround(m["voltage_v"] * 1000),
            cround(m["impedance_mohm"] * 100), cround(m["eq_pct"])]


bad = []
for mod in range(1, 19):
    b = 1060 + 5 * (mod - 1)
    got = [live[b], live[b + 1], live[b + 2], s16(live[b + 4])]
    seen = [mod_regs(m) for m in BL.kind("module") if m["module"] == mod]
    if got not in seen:
        bad.append((mod, got, seen[-3:]))
check(len(BL.kind("module")) >= 36 and not bad, "module registers are busd's readings: %r" %
      bad[:3])
for st in (1, 2):
    b = 1010 + 5 * (st - 1)
    got = [s16(live[b]), live[b + 1], live[b + 2]]
    seen = [[cround(m["current_a"] * 10) if m["current_a"] is not None else 0,
             cround(m["sum_voltage_v"] * 10), cround(m["avg_voltage_v"] * 1000)]
            for m in BL.kind("string") if m["string"] == st]
    check(got in seen, "string %d registers are one of busd's readings: %r vs %r" %
          (st, got, seen[-2:]))

# busd gone: alarmd raises communication lost (type 20) after three polls'
# silence (3 s at least), and modbusd stops serving the last values heard
# by the same rule (lib/ow_quiet.h): every module reads no reading (0x8000)
# with Communication lost, strings unmeasured (0). That image no longer
# changes; the rest of the test reads it.
stop(busd)
check(wait_for(lambda: any(a["type"] == 20 for a in AL.alarms("raise")), 20),
      "alarmd raises communication lost once busd is gone")
c.close()  # idle past idle_timeout_ms meanwhile: modbusd dropped it
check(c.connect(), "pymodbus connects again")
check(wait_for(lambda: read(1060, 2).registers == [0x8000, 0x8000], 10),
      "module 1 reads no reading once busd is quiet")
# modbusd has applied the state alarmd published with that alarm.
check(wait_for(lambda: read(1000, 3).registers == alarmd_words(), 10),
      "modbusd's flag words follow alarmd's state after the alarm")
img = read_map()
_, snap = ctl_call(A["control"], control("snapshot"))
mflags = ([m for m in snap if m["kind"] == "state"] or [{"module_flags": [0] * 18}])[-1]
bad = []
for mod in range(1, 19):
    b = 1060 + 5 * (mod - 1)
    want = [0x8000, 0x8000, 0x8000, mflags["module_flags"][mod - 1] | 2, 0x8000]
    if [img[b + i] for i in range(5)] != want:
        bad.append((mod, [img[b + i] for i in range(5)], want))
check(not bad, "busd quiet: every module no reading, Communication lost: %r" % bad[:3])
check([img[a] for a in range(1010, 1020)] == [0] * 10, "busd quiet: strings unmeasured (0)")
rep, snap = ctl_call(A["control"], control("snapshot"))
states = [m for m in snap if m["kind"] == "state"]
check(states, "alarmd snapshot has a state")
state = states[-1] if states else {"general": -1, "battery": -1, "alarm": -1}
check([img[1000], img[1001], img[1002]] == [state["general"] & 0xFFFF, state["battery"] & 0xFFFF,
                                           state["alarm"] & 0xFFFF],
      "flag words match alarmd's state: %r vs %r" % ([img[1000], img[1001], img[1002]], state))
check(img[1003] == 2 and img[1004] == 18, "1003/1004: strings and modules")
check(img[1060 + 5 * 18] == 0 and img[1060 + 5 * 18 + 3] == 0, "unconfigured module 19 reads 0")

# Block reads over the reserved registers 1005-1009, as SCADA masters
# configure them: the gap reads 0 and the rest equals the image read above.
rr = read(1005, 1)
check(not rr.isError() and rr.registers == [0], "reserved 1005 reads 0: %s" % rr)
rr = read(1000, 60)
check(not rr.isError() and len(rr.registers) == 60, "1000-1059 in one request: %s" % rr)
if not rr.isError():
    blk = dict(zip(range(1000, 1060), rr.registers))
    check([blk[a] for a in range(1005, 1010)] == [0] * 5, "1005-1009 read 0 in the block")
    check([blk[a] for a in range(1000, 1005)] == [img[a] for a in range(1000, 1005)],
          "flag words and counts in the block equal the image: %r" %
          [blk[a] for a in range(1000, 1005)])
    check([blk[a] for a in range(1010, 1060)] == [img[a] for a in range(1010, 1060)],
          "string registers in the block equal the image")
rr = read(1000, 125, fc=3)
check(not rr.isError() and len(rr.registers) == 125 and rr.registers[60:] ==
      [img[a] for a in range(1060, 1125)], "1000-1124 in one request: %s" % rr)
rr = read(3557, 125)
check(not rr.isError() and rr.registers == [img[a] for a in range(3557, 3682)],
      "3557-3681, the map's last 125 registers: %s" % rr)

# Exceptions: only addresses outside 1000-3681 are illegal.
rr = read(999, 1)
check(rr.isError() and rr.exception_code == 2, "02 for 999, before the map: %s" % rr)
rr = read(3682, 1)
check(rr.isError() and rr.exception_code == 2, "02 for 3682, after the map: %s" % rr)
rr = read(3650, 40)
check(rr.isError() and rr.exception_code == 2, "02 for 3650+40 running past 3681: %s" % rr)
rr = read(1000, 126)
check(rr.isError() and getattr(rr, "exception_code", None) == 3, "03 for count 126: %s" % rr)
rr = read(1000, 2, unit=9)
check(rr.isError() and rr.exception_code == 0x0B, "0B for an unknown unit: %s" % rr)
rr = c.write_register(1000, 1, slave=1)
check(rr.isError() and rr.exception_code == 1, "01 for write single register: %s" % rr)


def raw(sock, pdu, unit=1, tid=7):
    sock.sendall(struct.pack(">HHHB", tid, 0, len(pdu) + 1, unit) + pdu)
    h = sock.recv(7)
    n = struct.unpack(">H", h[4:6])[0]
    return sock.recv(n - 1)


rs = socket.create_connection(("127.0.0.1", port))
check(raw(rs, struct.pack(">BHH", 3, 1000, 0)) == b"\x83\x03", "03 for count 0 (raw)")
check(raw(rs, b"\x2b\x0e\x01\x00") == b"\xab\x01", "01 for FC 43 (raw)")
rs.close()

# mbpoll, another client nobody here wrote.
r = subprocess.run(["mbpoll", "-m", "tcp", "-p", str(port), "-a", "1", "-r", "1003", "-c", "1",
                    "-t", "4", "-1", "-0", "127.0.0.1"], capture_output=True, text=True,
                   timeout=20)
check(r.returncode == 0 and "[1003]: \t2\n" in r.stdout,
      "mbpoll reads 1003 (zero-based): %r %r" % (r.stdout[-300:], r.stderr))
r = subprocess.run(["mbpoll", "-m", "tcp", "-p", str(port), "-a", "1", "-r", "1000", "-c", "60",
                    "-t", "4", "-1", "-0", "127.0.0.1"], capture_output=True, text=True,
                   timeout=20)
check(r.returncode == 0 and "[1004]: \t18\n" in r.stdout and "[1005]: \t0\n" in r.stdout and
      "[1009]: \t0\n" in r.stdout,
      "mbpoll reads 1000-1059 in one block: %r %r" % (r.stdout[-300:], r.stderr))

# A staller: garbage is a bad frame and drops that connection; a truncated
# frame then silence is dropped after the idle timeout; others keep going.
g = socket.create_connection(("127.0.0.1", port))
g.sendall(b"\xde\xad\xbe\xef\xff\xff\xff\xff\xff")
g.settimeout(3)
try:
    closed = g.recv(10) == b""
except OSError:
    closed = True
check(closed, "garbage: connection closed")
st = socket.create_connection(("127.0.0.1", port))
st.sendall(struct.pack(">HHHB", 1, 0, 6, 1) + b"\x03\x03")  # half a request
t0 = time.time()
ok = 0
for i in range(10):
    rr = read(1000, 5)
    ok += not rr.isError()
check(ok == 10, "other client served while one stalls")
st.settimeout(5)
try:
    gone = st.recv(10) == b""
except OSError:
    gone = True
el = time.time() - t0
check(gone and 1.0 < el < 4.0, "staller dropped after the idle timeout (%.1f s)" % el)

# 32 concurrent clients, each reading the map repeatedly.
errs = []


def worker(k):
    cc = ModbusTcpClient("127.0.0.1", port=port)
    if not cc.connect():
        errs.append("connect %d" % k)
        return
    for i in range(20):
        rr = cc.read_holding_registers(1060, 125, slave=1)
        if rr.isError() or rr.registers[:3] != [img[1060], img[1061], img[1062]]:
            errs.append("client %d read %d: %s" % (k, i, rr))
            break
    cc.close()


ts = [threading.Thread(target=worker, args=(k,)) for k in range(32)]
for t in ts:
    t.start()
for t in ts:
    t.join()
check(not errs, "32 concurrent clients: %r" % errs[:3])

c.close()
check(stop(mb) == 0, "modbusd stops cleanly")

# A restart with busd gone: the image comes from alarmd's snapshot before the
# port opens, so the very first read already has the flags; and as alarmd's
# Communication lost of the gateway is active, not its readings from before
# the loss: the modules read no reading at once.
mb = start([MODBUSD, "-f", cfg])
check(wait_for(lambda: tcp_listening(port), 10), "modbusd listens again")
c = ModbusTcpClient("127.0.0.1", port=port)
c.connect()
first = read(1000, 3).registers + read(1060, 90).registers
c.close()
check(first == [img[1000], img[1001], img[1002]] + [img[1060 + i] for i in range(90)],
      "first read after a restart equals the image (snapshot before answering)")
BL.close()
AL.close()
check(stop(mb) == 0, "modbusd stops cleanly after the restart")
stop(alarmd)
done("modbusd_map")
