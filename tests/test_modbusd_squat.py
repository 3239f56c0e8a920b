"""The slot-squatting attack on the Modbus port: 64 connections from one
address (127.0.0.2), each polling a valid read every second and reconnecting
at once when closed, hold every one of modbusd's 64 slots. The configured
master keeps its own connection polling (127.0.0.5) and also reconnects 40
times: every reconnect must get an answer, its standing connection must
never be the one reclaimed, and each reclaim is logged and counted. Then
the same with 64 squatting addresses (127.0.0.10..73), one slot each.

OW_BUILD=<a build of the old code> runs the same attack against it (there
the reconnecting master is refused: 0/40)."""
import json
import os
import re
import select
import socket
import struct
import subprocess
import threading
import time

from owtest import *

SQUAT, MASTER, N = "127.0.0.2", "127.0.0.5", 64
d = tmpdir()
cfg = os.path.join(d, "site.json")
s = site_with_alarmd(cfg, d, [{"id": "wm1"}])
port = free_port()
s["services"]["modbusd"] = {"listen": "127.0.0.1:%d" % port, "allow": ["127.0.0.0/8"],
                            "max_clients": N, "idle_timeout_ms": 10000}
with open(cfg, "w") as f:
    json.dump(s, f, indent=2)
log = os.path.join(d, "modbusd.log")  # a file: a pipe nobody reads would stall the daemon
mb = start([MODBUSD, "-f", cfg], stderr=open(log, "w"))
check(wait_for(lambda: tcp_listening(port), 10), "modbusd listens")

READ = bytes.fromhex("0000000000060103") + struct.pack(">HH", 1003, 2)


def conn(src):
    c = socket.socket()
    c.bind((src, 0))
    c.settimeout(2)
    c.connect(("127.0.0.1", port))
    return c


def poll_once(c, tid):
    """One read of registers 1003-1004 (strings, modules): the values, or None."""
    try:
        c.sendall(struct.pack(">H", tid) + READ[2:])
        r = b""
        while len(r) < 13:
            b = c.recv(13 - len(r))
            if not b:
                return None
            r += b
        return list(struct.unpack(">HH", r[9:13]))
    except OSError:
        return None


master = conn(MASTER)
check(poll_once(master, 1) == [2, 18], "the master's standing connection answers")

# The squatter: N connections, a read on each every second, reconnect on close.
def attack(sources, stop_attack, stats):
    socks = {}  # socket -> its source address, kept across reconnects
    free = list(sources)
    nxt = time.time()
    while not stop_attack.is_set():
        while free:
            try:
                c = conn(free[0])
            except OSError:
                time.sleep(0.05)
                break
            socks[c] = free.pop(0)
            stats["connects"] += 1
        now = time.time()
        if now >= nxt:
            for c in socks:
                try:
                    c.send(READ)
                except OSError:
                    pass
            nxt = now + 1.0
        r, _, _ = select.select(list(socks), [], [], 0.05)
        closed = 0
        for c in r:
            try:
                b = c.recv(4096)
            except OSError:
                b = b""
            if b:
                stats["answers"] += 1
            else:
                free.append(socks.pop(c))
                c.close()
                closed += 1
        if closed:
            time.sleep(0.01)  # the attacker's reconnect pace: spare the test machine
    for c in socks:
        c.close()


def siege(sources, standing, what):
    """Run the attack from sources; the master reconnects 40 times (and polls
    its standing connection, if any, between). (answered, standing answered)."""
    stop_attack, stats = threading.Event(), {"connects": 0, "answers": 0}
    th = threading.Thread(target=attack, args=(sources, stop_attack, stats), daemon=True)
    th.start()
    check(wait_for(lambda: stats["answers"] >= N, 15), "%s polls on %d connections" % (what, N))
    stats["connects"] = 0  # count only those during the master's attempts
    ok, standing_ok = 0, 0
    for i in range(40):
        try:
            c = conn(MASTER)
            v = poll_once(c, 100 + i)
            c.close()
        except OSError:
            v = None
        ok += v == [2, 18]
        if standing:
            standing_ok += poll_once(standing, 200 + i) == [2, 18]
        time.sleep(0.1)
    stop_attack.set()
    th.join(5)
    print("%s: reconnecting master answered %d/40; standing connection %s; the squatter "
          "connected %d times meanwhile" % (what, ok, "%d/40" % standing_ok if standing
                                              else "none", stats["connects"]))
    return ok, standing_ok


ok, standing_ok = siege([SQUAT] * N, master, "one squatting address")
check(ok == 40, "the reconnecting master got an answer every time: %d/40" % ok)
check(standing_ok == 40, "the master's standing connection was never reclaimed: %d/40"
      % standing_ok)
master.close()
# 64 squatting addresses, one slot each: ties go to the longest idle, which
# is a squatter's as long as the master polls more often than they do.
ok, _ = siege(["127.0.0.%d" % (10 + i) for i in range(N)], None, "64 squatting addresses")
check(ok == 40, "64 addresses: the reconnecting master got an answer every time: %d/40" % ok)
stop(mb)
with open(log) as f:
    err = f.read()
# Reclaims are logged at most once a second (a flood would multiply them).
rec = re.findall(r"client (127\.0\.0\.\d+):\d+: slot reclaimed for (127\.0\.0\.\d+)", err)
check(len(rec) >= 1, "reclaims logged: %d line(s)" % len(rec))
check(all(victim != MASTER for victim, _ in rec),
      "no reclaimed slot logged was the master's: %s" % sorted(set(v for v, _ in rec))[:5])
m = re.search(r"(\d+) slots reclaimed", err)
check(m and int(m.group(1)) >= 80, "reclaims counted: %s" % (m and m.group(0)))
check("all %d slots taken, 63 by its own address" % N in err,
      "the squatter's own reconnects were refused, not churned through its slots")
done("modbusd_squat")
