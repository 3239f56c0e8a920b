"""ohmwatch-snmpd as an AgentX subagent of net-snmp's own snmpd (the
master): a walk and a bulk walk of 1.3.6.1.2.1.33.5 through the master give
exactly what the standalone agent gives for the same data (but for
bacsAlarmTime, which is each agent process's own uptime), the master's own
objects (sysUpTime) still answer beside ours, and a SET through the master
reaches alarmd. Then the subagent is killed and restarted: the master serves
the tree again once it has reconnected."""
import json
import os
import subprocess
import time

from owtest import *

SNMPD = os.path.join(BUILD, "services", "snmpd", "ohmwatch-snmpd")
ROOTOID = "1.3.6.1.2.1.33.5"
ENV = dict(os.environ, MIBS="")

d = tmpdir()
cfg_sa, cfg_ax = os.path.join(d, "site-standalone.json"), os.path.join(d, "site-agentx.json")
s = site_with_alarmd(cfg_sa, d, [{"id": "wm1", "sim": {"seed": 5, "speed": 10}}])
sa_port, master_port, ax_port = free_port(), free_port(), free_port()
s["services"]["snmpd"] = {"listen": "udp:127.0.0.1:%d" % sa_port, "community": "public",
                          "state_dir": os.path.join(d, "sa-state")}
with open(cfg_sa, "w") as f:
    json.dump(s, f, indent=2)
s["services"]["snmpd"] = {"agentx": "tcp:127.0.0.1:%d" % ax_port,
                          "state_dir": os.path.join(d, "ax-state")}
with open(cfg_ax, "w") as f:
    json.dump(s, f, indent=2)
A = s["services"]["alarmd"]

mconf = os.path.join(d, "master.conf")
with open(mconf, "w") as f:
    f.write("master agentx\nagentXSocket tcp:127.0.0.1:%d\n"
            "rocommunity public 127.0.0.1\nrwcommunity private 127.0.0.1\n"
            "agentXTimeout 5\n" % ax_port)
master = start(["/usr/sbin/snmpd", "-f", "-Lo", "-C", "-c", mconf,
                "-p", os.path.join(d, "master.pid"), "udp:127.0.0.1:%d" % master_port],
               env=dict(ENV, SNMP_PERSISTENT_DIR=os.path.join(d, "master-state")),
               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def tool(name, agent, *args, community="public"):
    return subprocess.run([name, "-On", "-Oqte", "-t", "3", "-r", "1", "-v2c", "-c", community,
                           "127.0.0.1:%d" % agent] + list(args),
                          capture_output=True, text=True, env=ENV)


def walk(agent, bulk=False, sub=ROOTOID):
    r = tool("snmpbulkwalk" if bulk else "snmpwalk", agent, sub)
    # bacsAlarmTime is each agent's own sysUpTime at the raise: not compared
    return [l for l in r.stdout.splitlines()
            if l.startswith("." + ROOTOID) and "No Such" not in l and "No more" not in l
            and not l.startswith("." + ROOTOID + ".3.2.1.3.")]


busd = start([BUSD, "-f", cfg_sa])
alarmd = start([ALARMD, "-f", cfg_sa])
time.sleep(1.0)
sa = start([SNMPD, "-f", cfg_sa])
ax = start([SNMPD, "-f", cfg_ax])
check(wait_for(lambda: len(walk(master_port, sub=ROOTOID + ".1")) == 28, 20),
      "the master serves bacsSettings through the subagent")
check(wait_for(lambda: len(walk(sa_port, sub=ROOTOID + ".1")) == 28, 10), "standalone answers")
time.sleep(1.0)
stop(busd)  # freeze the data: after alarmd's "no reading" alarm (3 s) nothing moves
A_L = Listener(A["publish"])
check(wait_for(lambda: A_L.alarms("raise"), 10), "alarmd saw busd go")
time.sleep(1.0)

w_sa = walk(sa_port)
w_ax = walk(master_port)
w_axb = walk(master_port, bulk=True)
check(len(w_sa) > 150, "standalone walk has the tree (%d)" % len(w_sa))
check(w_ax == w_sa, "walk through the master == standalone walk (%d vs %d): %r" %
      (len(w_ax), len(w_sa), sorted(set(w_ax) ^ set(w_sa))[:6]))
check(w_axb == w_sa, "bulk walk through the master == standalone walk (%d)" % len(w_axb))
r = tool("snmpget", master_port, "1.3.6.1.2.1.1.3.0")
check("1.3.6.1.2.1.1.3.0" in r.stdout, "the master's own objects answer: %r" % r.stdout)

# SET through the master (its rwcommunity): the subagent applies it via alarmd
r = tool("snmpset", master_port, ROOTOID + ".1.19.0", "i", "1420", community="private")
check(r.returncode == 0, "SET through the master: %r" % r.stderr)
rep, _ = ctl_call(A["control"], control("get", gw="wm1", key="thresholds.voltage_v.high_warn"))
check(rep["value"] == 14.2, "alarmd has 14.2 V: %r" % rep)
r = tool("snmpset", master_port, ROOTOID + ".1.19.0", "i", "1600", community="private")
check(r.returncode != 0 and "inconsistentValue" in r.stderr,
      "a warning above its alarm is refused through the master too: %r" % r.stderr)

# the subagent restarts on its own; the master picks it up again
stop(ax, sig=9)
check(wait_for(lambda: len(walk(master_port, sub=ROOTOID + ".1")) == 0, 10),
      "the tree goes with the subagent")
ax = start([SNMPD, "-f", cfg_ax])
check(wait_for(lambda: walk(master_port) == walk(sa_port), 30),
      "after a restart the master serves the same tree again")
check(stop(ax) == 0 and stop(sa) == 0, "both agents stop cleanly")
stop(master)
done("snmpd_agentx")
