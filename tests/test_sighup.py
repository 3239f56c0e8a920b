"""SIGHUP in every daemon (lib/ow_daemon.c): each keeps running and logs
what it did. busd, the historian and snmpd do not reload and say so (the
line their -h documents); alarmd and modbusd reload. For modbusd a changed
allow-list takes effect at once (a client it now leaves out is dropped, a
new one refused), a file that does not load is refused with the running
configuration kept, and a changed listen address is named as needing a
restart. The obsolete -d is accepted with a warning."""
import json
import os
import signal
import socket
import subprocess
import time

from owtest import *

SNMPD = os.path.join(BUILD, "services", "snmpd", "ohmwatch-snmpd")

d = tmpdir()
cfg = os.path.join(d, "site.json")
s = site_with_alarmd(cfg, d, [{"id": "wm1", "sim": {"seed": 3, "speed": 10}}])
mport = free_port()
s["services"]["modbusd"] = {"listen": "127.0.0.1:%d" % mport, "allow": ["127.0.0.1"]}
s["services"]["snmpd"] = {"listen": "udp:127.0.0.1:%d" % free_port(), "community": "public",
                          "state_dir": os.path.join(d, "snmpd-state")}
# No database: the historian starts anyway and spools (it retries the DSN).
s["services"]["historian"] = {"dsn": "host=127.0.0.1 port=%d dbname=none connect_timeout=1"
                              % free_port(), "spool_dir": os.path.join(d, "spool")}


def write(site=None, text=None):
    with open(cfg, "w") as f:
        f.write(text if text is not None else json.dumps(site or s, indent=2))


write()
logs = {}
procs = {}


def log(name):
    with open(logs[name]) as f:
        return f.read()


def launch(name, prog, extra=()):
    logs[name] = os.path.join(d, name + ".log")
    procs[name] = start([prog, "-f", cfg] + list(extra), stderr=open(logs[name], "w"))


def usage(prog):
    return subprocess.run([prog, "-h"], capture_output=True, text=True).stdout


launch("alarmd", ALARMD)
check(wait_for(lambda: "control on" in log("alarmd"), 10), "alarmd started: " + log("alarmd"))
launch("busd", BUSD, ["-d"])
launch("historian", HISTORIAN)
launch("snmpd", SNMPD)
launch("modbusd", MODBUSD)
check(wait_for(lambda: tcp_listening(mport), 15), "modbusd listens")
check(wait_for(lambda: "running" in log("busd") or "publishing on" in log("busd"), 10),
      "busd started: " + log("busd"))
check("-d is obsolete and ignored" in log("busd"), "-d accepted with a warning: " + log("busd"))
check(wait_for(lambda: "listening on" in log("snmpd") or "AgentX" in log("snmpd"), 15),
      "snmpd started: " + log("snmpd"))
time.sleep(1)

# The daemons that do not reload: the line their usage documents.
for name, prog in (("busd", BUSD), ("historian", HISTORIAN), ("snmpd", SNMPD)):
    u = usage(prog)
    check("SIGHUP is logged and changes nothing" in u, "%s -h documents SIGHUP: %r" % (name, u))
    procs[name].send_signal(signal.SIGHUP)
    want = "SIGHUP: not reloaded: "
    check(wait_for(lambda: want in log(name), 5), "%s logs the refused reload: %r" %
          (name, log(name)[-2000:]))
    line = [l for l in log(name).splitlines() if want in l][-1]
    check("restart" in line and line.split(want)[1].rstrip(".") in " ".join(u.split()),
          "%s: the logged line is the documented one: %r" % (name, line))
    time.sleep(0.5)
    check(procs[name].poll() is None, "%s still running after SIGHUP" % name)

# alarmd: reloads (test_alarmd_cli covers what a reload changes).
check("SIGHUP re-reads the site file" in usage(ALARMD), "alarmd -h documents its reload")
procs["alarmd"].send_signal(signal.SIGHUP)
check(wait_for(lambda: "reloaded " + cfg in log("alarmd"), 5), "alarmd reloaded")
check(procs["alarmd"].poll() is None, "alarmd still running after SIGHUP")


def modbus_read(timeout=3):
    """Read 1003..1004 of unit 1: the registers, or None when the connection
    is closed without an answer."""
    try:
        sk = socket.create_connection(("127.0.0.1", mport), timeout)
        sk.settimeout(timeout)
        sk.sendall(bytes.fromhex("000100000006010403eb0002"))
        r = sk.recv(64)
        sk.close()
    except OSError:
        return None
    return None if len(r) < 13 else (r[9] << 8 | r[10], r[11] << 8 | r[12])


def reloads(n=None):
    return log("modbusd").count("reloaded " + cfg)


# modbusd: loopback allowed; a standing client answered.
check("SIGHUP re-reads services.modbusd" in usage(MODBUSD), "modbusd -h documents its reload")
check(modbus_read() == (2, 18), "modbusd answers 127.0.0.1 (allowed)")
standing = socket.create_connection(("127.0.0.1", mport), 3)
standing.settimeout(3)
standing.sendall(bytes.fromhex("000200000006010403eb0002"))
check(len(standing.recv(64)) == 13, "standing client answered")

# A new allow-list without loopback: the standing client is dropped, a new one refused.
s["services"]["modbusd"]["allow"] = ["192.0.2.0/24"]
write()
procs["modbusd"].send_signal(signal.SIGHUP)
check(wait_for(lambda: reloads(1) == 1, 5), "modbusd reloaded: " + log("modbusd")[-2000:])
check("no longer in services.modbusd.allow" in log("modbusd"), "standing client dropped")
try:
    standing.sendall(bytes.fromhex("000300000006010403eb0002"))
    gone = standing.recv(64) == b""
except OSError:
    gone = True
check(gone, "the dropped client's connection is closed")
check(modbus_read() is None, "127.0.0.1 refused under the new allow-list")

# A file that does not load: refused, the running allow-list stays.
write(text=json.dumps(s)[:-5])
procs["modbusd"].send_signal(signal.SIGHUP)
check(wait_for(lambda: "reload refused, keeping the running configuration" in log("modbusd"), 5),
      "broken file refused: " + log("modbusd")[-1500:])
check(cfg + ":" in [l for l in log("modbusd").splitlines() if "reload refused" in l][-1],
      "the refusal names the file and position")
check(modbus_read() is None, "still refused: the old (running) allow-list kept")
check(procs["modbusd"].poll() is None, "modbusd still running after a refused reload")

# A bad value (not a parse error): refused as well, with the key.
s["services"]["modbusd"]["allow"] = ["127.0.0.1/33"]
write()
procs["modbusd"].send_signal(signal.SIGHUP)
check(wait_for(lambda: "services.modbusd.allow[0]" in log("modbusd"), 5),
      "bad allow entry refused with its key")
check(modbus_read() is None, "still the running allow-list")

# Loopback back, and a listen change: taken up but for listen, named as needing a restart.
s["services"]["modbusd"]["allow"] = ["127.0.0.1"]
s["services"]["modbusd"]["listen"] = "127.0.0.1:%d" % free_port()
write()
procs["modbusd"].send_signal(signal.SIGHUP)
check(wait_for(lambda: reloads(2) == 2, 5), "modbusd reloaded again")
check("needs a restart of modbusd: listen" in log("modbusd"), "listen change needs a restart")
check(modbus_read() == (2, 18), "127.0.0.1 allowed again, on the running listen address")

for name, p in procs.items():
    check(p.poll() is None, "%s still running at the end" % name)
    check(stop(p) == 0, "%s stops cleanly after its SIGHUPs" % name)
done("sighup")
