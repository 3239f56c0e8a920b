"""snmpd and alarmd's comings and goings (issue 15):
- snmpd started while alarmd is down serves the site file's settings, and
  when alarmd starts with a runtime change in its state file, snmpd serves
  alarmd's value (it does not keep the file's for good);
- with alarmd stopped, a SET from one manager does not hold up another
  manager's GETs (net-snmp handles one PDU at a time: a SET waiting 3 s for
  alarmd used to block every GET for 3 s): the GETs' latency is measured
  against the same GETs with nothing else going on, and the SET is refused
  (resourceUnavailable), nothing changed;
- alarmd restarted with another value (changed while snmpd was away from it)
  is picked up again."""
import os
import signal
import statistics
import subprocess
import threading

from owtest import *

SNMPD = os.path.join(BUILD, "services", "snmpd", "ohmwatch-snmpd")
ROOTOID = "1.3.6.1.2.1.33.5"
HW = ROOTOID + ".1.17.0"  # temperature high warning, 0.1 degC; the site's 30.0
KEY = "thresholds.temp_c.high_warn"
ENV = dict(os.environ, MIBS="")

d = tmpdir()
cfg = os.path.join(d, "site.json")
s = site_with_alarmd(cfg, d, [{"id": "wm1"}])
port = free_port()
s["services"]["snmpd"] = {
    "listen": "udp:127.0.0.1:%d" % port, "community": "public", "source": "127.0.0.1",
    "state_dir": os.path.join(d, "snmpd-state"),
    "users": [{"name": "ops", "auth_pass": "opsauth123", "priv_pass": "opspriv123",
               "write": True}]}
with open(cfg, "w") as f:
    json.dump(s, f, indent=2)
A = s["services"]["alarmd"]
AGENT = "127.0.0.1:%d" % port
V2 = ["-v2c", "-c", "public"]
OPS = ["-v3", "-l", "authPriv", "-u", "ops", "-a", "SHA", "-A", "opsauth123", "-x", "AES",
       "-X", "opspriv123"]


def snmp(tool, auth, *args, timeout_s=3, retries=1):
    return subprocess.run([tool, "-On", "-Oqv", "-t", str(timeout_s), "-r", str(retries)] + auth +
                          [AGENT] + list(args), capture_output=True, text=True, env=ENV)


def hw():
    return snmp("snmpget", V2, HW).stdout.strip()


def alarmd_set(value):
    rep, _ = ctl_call(A["control"], control("set", gw="wm1", key=KEY, value=value))
    check(rep["ok"], "alarmd set %s = %s: %r" % (KEY, value, rep))


# A runtime change in alarmd's state file, then alarmd down.
alarmd = start([ALARMD, "-f", cfg])
alarmd_set(27)
stop(alarmd)

# ---- snmpd first, alarmd later ----
agent = start([SNMPD, "-f", cfg], stderr=subprocess.PIPE, text=True, errors="replace")
log = []  # snmpd's log lines, as they come


def read_log():
    for line in agent.stderr:
        log.append(line)


reader = threading.Thread(target=read_log, daemon=True)
reader.start()


def logged(text):
    return sum(text in l for l in list(log))

check(wait_for(lambda: hw() == "300", 15), "alarmd down: snmpd serves the site file's 30.0 degC")
alarmd = start([ALARMD, "-f", cfg])
t0 = time.time()
check(wait_for(lambda: hw() == "270", 10), "alarmd started: snmpd serves its 27.0 degC (%r)" % hw())
print("snmpd serves alarmd's runtime value %.2f s after alarmd started" % (time.time() - t0))


def get_latencies(seconds, out):
    end = time.time() + seconds
    while time.time() < end:
        t = time.time()
        r = snmp("snmpget", V2, HW, timeout_s=10, retries=0)
        out.append((time.time() - t, r.stdout.strip()))


# The GET's own cost (a process and a UDP round trip), nothing else going on.
quiet = []
get_latencies(2.0, quiet)
q_med = statistics.median(l for l, _ in quiet)
q_max = max(l for l, _ in quiet)

# ---- alarmd stopped: one manager SETs, another GETs ----
stop(alarmd)
# The connection's close tells snmpd at once (no request has to time out).
check(wait_for(lambda: logged("SETs refused until it is back") == 1, 5),
      "snmpd knows alarmd went")
busy, sets = [], []
g = threading.Thread(target=get_latencies, args=(4.0, busy))
g.start()
time.sleep(0.2)
for v in ("260", "250", "240"):
    t = time.time()
    r = snmp("snmpset", OPS, HW, "i", v, timeout_s=10, retries=0)
    sets.append((time.time() - t, r.returncode, r.stderr.strip()))
    time.sleep(0.5)
g.join()
b_med = statistics.median(l for l, _ in busy)
b_max = max(l for l, _ in busy)
print("GET latency, nothing else: median %.1f ms, max %.1f ms over %d GETs" %
      (q_med * 1e3, q_max * 1e3, len(quiet)))
print("GET latency while SETs wait for a stopped alarmd: median %.1f ms, max %.1f ms over %d GETs"
      % (b_med * 1e3, b_max * 1e3, len(busy)))
for lat, rc, err in sets:
    print("SET with alarmd stopped: %.1f ms, rc %d: %s" % (lat * 1e3, rc, err[:100]))
check(all(v == "270" for _, v in busy), "every GET answered with the value in force")
# snmpd knows at once that alarmd went (the connection closed), so no SET
# waits for it and no GET waits behind a SET (before, each SET held every GET
# for 3 s). That is asserted from snmpd's log, not from the latencies printed
# above (a loaded machine stretches those whatever snmpd does): each SET was
# refused without asking alarmd.
check(all(rc != 0 and "resourceUnavailable" in err for _, rc, err in sets),
      "each SET refused as resourceUnavailable")
check(wait_for(lambda: logged("): alarmd is not answering") == 3, 2) and
      not logged("within 500 ms"), "each SET refused without waiting for alarmd")
check(hw() == "270", "nothing changed")

# ---- alarmd back with another value, changed where snmpd could not see it
# (its state file restored from a backup while it was stopped) ----
st = json.load(open(A["state_file"]))
st["overrides"]["wm1"][KEY] = 26
with open(A["state_file"], "w") as f:
    json.dump(st, f)
alarmd = start([ALARMD, "-f", cfg])
check(wait_for(lambda: hw() == "260", 10), "alarmd back: snmpd serves 26.0 (%r)" % hw())
r = snmp("snmpset", OPS, HW, "i", "250")
check(r.returncode == 0 and hw() == "250", "SETs work again: %r" % r.stderr)

# ---- alarmd hung (SIGSTOP: its connection stays open, nothing answers) ----
# A SET waits at most 500 ms for it, and the probe soon marks it down.
refused_before = logged("): alarmd is not answering")
os.kill(alarmd.pid, signal.SIGSTOP)
busy, sets = [], []
g = threading.Thread(target=get_latencies, args=(3.0, busy))
g.start()
time.sleep(0.1)
for v in ("240", "230"):
    t = time.time()
    r = snmp("snmpset", OPS, HW, "i", v, timeout_s=10, retries=0)
    sets.append((time.time() - t, r.returncode, r.stderr.strip()))
    time.sleep(0.3)
g.join()
h_max = max(l for l, _ in busy)
print("alarmd hung: GET latency median %.1f ms, max %.1f ms over %d GETs; SETs %s" %
      (statistics.median(l for l, _ in busy) * 1e3, h_max * 1e3, len(busy),
       ", ".join("%.0f ms" % (x[0] * 1e3) for x in sets)))
check(all(rc != 0 and "resourceUnavailable" in err for _, rc, err in sets),
      "SETs to a hung alarmd refused: %r" % sets)
# At most the first SET waited (its bounded 500 ms, after which alarmd is
# marked down; the probe may have marked it first); the second was refused
# without asking: asserted from snmpd's log, not from the latencies above.
waited = sum("within 500 ms" in l and "refused (" in l for l in list(log))
check(waited <= 1 and wait_for(lambda: logged("): alarmd is not answering") >= refused_before + 1, 2),
      "no SET after the first waited for the hung alarmd (%d waited)" % waited)
check(all(v == "250" for _, v in busy), "GETs answered with the value in force")
os.kill(alarmd.pid, signal.SIGCONT)
check(wait_for(lambda: logged("alarmd answers") == 3, 10), "snmpd sees alarmd answer again")
r = snmp("snmpset", OPS, HW, "i", "220")
check(r.returncode == 0 and hw() == "220", "SETs work after alarmd resumed: %r %r %r" % (r.returncode, r.stderr, hw()))

stop(agent)
stop(alarmd)
reader.join(10)
check(agent.returncode == 0 and not logged("Sanitizer"), "snmpd stopped cleanly: %r" %
      [l for l in log if "Sanitizer" in l or "ERROR" in l][:5])
lines = [l for l in log if "alarmd" in l]
check(logged("SETs refused until it is back") == 2 and logged("alarmd answers") == 3,
      "snmpd logged alarmd going twice (not at start: it was down) and coming back 3 times: %r"
      % lines)
done("test_snmpd_alarmd")
