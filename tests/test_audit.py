"""Every change is attributable (issue 15): a threshold set through the CLI
and through an SNMPv3 SET, an alarm acknowledged, a breaker output switched
and a baseline set each come out of alarmd as a config event naming who
(the requester, then /USER: the login for the CLI, the SNMPv3 user for
snmpd), what, old and new; the historian stores it in audit_log; `ohmwatch
audit` prints it, also after alarmd restarted. The CLI refuses what is not
a number ('ack l2' used to acknowledge every alarm) and does not switch an
output without a confirmation."""
import getpass
import os
import subprocess

from owtest import *

SNMPD = os.path.join(BUILD, "services", "snmpd", "ohmwatch-snmpd")
ROOTOID = "1.3.6.1.2.1.33.5"
HW = ROOTOID + ".1.17.0"  # bacs temperature high warning, 0.1 degC
KEY = "thresholds.temp_c.high_warn"
ENV = dict(os.environ, MIBS="")
LOGIN = os.environ.get("USER") or getpass.getuser()

db = pg()
d = tmpdir()
cfg = os.path.join(d, "site.json")
s = site_full(cfg, d, [{"id": "wm1"}], db.dsn)
port = free_port()
s["services"]["snmpd"] = {
    "listen": "udp:127.0.0.1:%d" % port, "state_dir": os.path.join(d, "snmpd-state"),
    "users": [{"name": "ops", "auth_pass": "opsauth123", "priv_pass": "opspriv123",
               "write": True}]}
with open(cfg, "w") as f:
    json.dump(s, f, indent=2)
A = s["services"]["alarmd"]
OPS = ["-v3", "-l", "authPriv", "-u", "ops", "-a", "SHA", "-A", "opsauth123", "-x", "AES",
       "-X", "opspriv123"]


def cli(*args, stdin=subprocess.DEVNULL):
    return subprocess.run([CLI, "-f", cfg] + list(args), capture_output=True, text=True,
                          timeout=30, stdin=stdin)


def snmp(tool, *args):
    return subprocess.run([tool, "-On", "-Oqv", "-t", "3", "-r", "1"] + OPS +
                          ["127.0.0.1:%d" % port] + list(args),
                          capture_output=True, text=True, env=ENV)


def audits(key=None):
    return [c for c in L.kind("config")
            if c["source"] in ("control", "command") and (key is None or c["key"] == key)]


busd = start([BUSD, "-f", cfg, "-s", "10"])
alarmd = start([ALARMD, "-f", cfg])
hist = start([HISTORIAN, "-f", cfg])
L = Listener(A["publish"], replay=A["replay"])
check(wait_for(lambda: L.kind("state"), 10), "alarmd publishes state")
agent = start([SNMPD, "-f", cfg], stderr=subprocess.PIPE, text=True, errors="replace")
check(wait_for(lambda: snmp("snmpget", HW).stdout.strip() == "300", 10),
      "snmpd answers with the site's 30.0 degC")

# ---- a threshold through the CLI: who is the requester and the login ----
r = cli("thresholds", "set", KEY, "20")
check(r.returncode == 0, "CLI set: %r" % r.stderr)
check(wait_for(lambda: audits(KEY), 5), "config event for the CLI set")
c = audits(KEY)[0]
print("CLI set:", {k: c[k] for k in ("who", "key", "old", "new", "source")})
check(c["who"] == "cli/" + LOGIN,
      "who names the CLI's key and the login %r: %r" % (LOGIN, c["who"]))
check(c["old"] == "30" and c["new"] == "20" and c["old_value"] == 30 and c["value"] == 20,
      "old 30 and new 20: %r" % c)

# ---- the same threshold through SNMPv3 SET: the user is the SNMPv3 user ----
r = snmp("snmpset", HW, "i", "190")
check(r.returncode == 0, "snmpset by ops: %r" % r.stderr)
check(wait_for(lambda: len(audits(KEY)) == 2, 5), "config event for the SNMP SET")
c = audits(KEY)[-1]
print("SNMP SET:", {k: c[k] for k in ("who", "key", "old", "new", "source")})
check(c["who"] == "snmpd/ops" and c["old"] == "20" and c["new"] == "19",
      "who snmpd/ops (snmpd's key, the SNMPv3 user), old 20, new 19: %r" % c)

# ---- ack: a typo is refused and acknowledges nothing ----
# Blocks at ~25 degC are above the 19 degC warning: one warning per block.
check(wait_for(lambda: len([a for a in L.alarms("raise") if a["type"] == 15]) >= 2, 20),
      "temperature warnings raised (%d)" % len(L.alarms("raise")))
ids = sorted({a["id"] for a in L.alarms("raise")})
r = cli("ack", "l2")
check(r.returncode == 2 and "'l2'" in r.stderr and "alarm id" in r.stderr,
      "ack l2 refused naming the argument: rc %d %r" % (r.returncode, r.stderr))
r = cli("ack")
check(r.returncode == 2 and "--all" in r.stderr, "ack without an id refused: %r" % r.stderr)
for bad in ("0", "-3", "12x", "1e3", ""):
    r = cli("ack", bad)
    check(r.returncode == 2, "ack %r refused: %r" % (bad, r.stderr))
r = cli("ack", str(ids[0]))
check(r.returncode == 0 and "1 alarm(s)" in r.stdout, "ack %d: %r" % (ids[0], r.stdout + r.stderr))
check(wait_for(lambda: L.alarms("ack"), 5), "ack event")
# Events are in order: had a refused command acknowledged anything, it would be here.
acked = {a["id"] for a in L.alarms("ack")}
check(acked == {ids[0]}, "only alarm %d acknowledged, of %d: %r" % (ids[0], len(ids), acked))
check(wait_for(lambda: audits("ack.%d" % ids[0]), 5), "ack audited")
c = audits("ack.%d" % ids[0])[0]
check(c["who"].endswith("/" + LOGIN) and c["old"] == "active" and
      c["new"] == "1 acknowledged" and c["source"] == "command", "ack audit record: %r" % c)

# ---- the breaker output: no confirmation, no command ----
r = cli("output", "1", "on")
check(r.returncode == 2 and "--yes" in r.stderr, "output without --yes refused: %r" % r.stderr)
r = cli("output", "1", "on", stdin=subprocess.PIPE)
check(r.returncode == 2, "output refused with a pipe for stdin too")
for bad in (("17", "on"), ("x1", "on"), ("1", "maybe")):
    r = cli("output", *bad, "--yes")
    check(r.returncode == 2, "output %s refused: %r" % (bad, r.stderr))


def typed(answer, *args):
    """The CLI at a terminal (a pty for stdin), the answer typed back."""
    master, slave = os.openpty()
    p = subprocess.Popen([CLI, "-f", cfg] + list(args), stdin=slave, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    os.close(slave)
    os.write(master, answer.encode() + b"\n")
    out, err = p.communicate(timeout=30)
    os.close(master)
    return p.returncode, out, err


rc, out, err = typed("2", "output", "1", "on")
check(rc == 1 and "Type the output number to confirm" in err and "not confirmed" in err,
      "a wrong number typed back switches nothing: %d %r" % (rc, err))
rc, out, err = typed("", "output", "1", "on")
check(rc == 1 and "not confirmed" in err, "an empty answer switches nothing")
rc, out, err = typed("1", "output", "1", "on")
check(rc == 0 and "output 1: on" in out, "the number typed back: switched: %d %r" % (rc, err))
check(wait_for(lambda: audits("output.1"), 5), "output audited")
outs = [m for m in L.kind("control") if m["cmd"] == "output"]
check(len(outs) == 1 and outs[0]["index"] == 1 and outs[0]["value"] == 1,
      "exactly one output command (the confirmed one): %r" % outs)
r = cli("output", "1", "on", "--yes")
check(r.returncode == 0, "output 1 on --yes: %r" % r.stderr)
check(wait_for(lambda: len(audits("output.1")) == 2, 5), "the --yes one audited too")
check(audits("output.1")[1]["old"] == "on", "old: on (commanded before)")
c = audits("output.1")[0]
check(c["old"] == "unknown" and c["new"] == "on" and c["value"] == 1 and
      c["who"].endswith("/" + LOGIN), "output audit record: %r" % c)
r = cli("output", "1", "off", "--yes")
check(wait_for(lambda: len(audits("output.1")) == 3, 5) and
      audits("output.1")[-1]["old"] == "on" and audits("output.1")[-1]["new"] == "off",
      "third switch: old on, new off")

# ---- a baseline ----
r = cli("baseline", "3", "5.5")
check(r.returncode == 0, "baseline: %r" % r.stderr)
check(wait_for(lambda: audits("baseline.module.3"), 5) and
      audits("baseline.module.3")[0]["new"] == "5.5", "baseline audited")
r = cli("baseline", "3", "5.5x")
check(r.returncode == 2 and "'5.5x'" in r.stderr, "baseline 5.5x refused: %r" % r.stderr)
r = cli("captest", "1", "--rated-h", "ten")
check(r.returncode == 2 and "'ten'" in r.stderr, "captest --rated-h ten refused: %r" % r.stderr)
r = cli("tail", "--count", "5x")
check(r.returncode == 2 and "'5x'" in r.stderr, "tail --count 5x refused: %r" % r.stderr)

# ---- PostgreSQL: every change with its author ----
def rows():
    return db.query("SELECT who, what, old, new, source FROM audit_log ORDER BY ts") or []


check(wait_for(lambda: len(rows()) >= 7, 20, 0.3), "audit_log rows: %r" % rows())
got = rows()
for r in got:
    print("audit_log:", r)
check(got[0] == ("cli/" + LOGIN, KEY, "30", "20", "control"),
      "row 1 is the CLI set: %r" % (got[0],))
check(got[1] == ("snmpd/ops", KEY, "20", "19", "control"),
      "row 2 is the SNMP SET: %r" % (got[1],))
check([r[1] for r in got[2:7]] == ["ack.%d" % ids[0], "output.1", "output.1", "output.1",
                                   "baseline.module.3"], "then ack, output x3, baseline")
check(db.scalar("SELECT count(*) FROM config_changes WHERE key = '%s'" % KEY) == 2 and
      db.scalar("SELECT count(*) FROM config_changes WHERE key LIKE 'output.%'") == 0,
      "config_changes holds the settings, not the commands")


# ---- ohmwatch audit: from alarmd, also after a restart ----
def audit_lines():
    r = cli("audit")
    return r.returncode, [l for l in r.stdout.splitlines()[1:] if l.strip()]


rc, lines = audit_lines()
print("ohmwatch audit:\n" + "\n".join(lines))
check(rc == 0 and len(lines) == 7, "seven changes listed: %r" % lines)
check(KEY in lines[1] and "/ops" in lines[1] and " 20 " in lines[1] and " 19 " in lines[1],
      "the SNMP SET line: %r" % lines[1])
check("output.1" in lines[3] and "unknown" in lines[3] and " on " in lines[3],
      "the output line: %r" % lines[3])
r = cli("audit", "--count", "2")
check(len([l for l in r.stdout.splitlines()[1:] if l.strip()]) == 2 and
      "baseline.module.3" in r.stdout, "--count 2: the last two: %r" % r.stdout)
r = cli("audit", "--count", "two")
check(r.returncode == 2 and "'two'" in r.stderr, "audit --count two refused")
stop(alarmd)
alarmd = start([ALARMD, "-f", cfg])
check(wait_for(lambda: audit_lines()[0] == 0, 10), "alarmd back")
check(audit_lines()[1] == lines, "the same seven after alarmd restarted")

L.close()
stop(agent)
stop(alarmd)
stop(hist)
stop(busd)
done("test_audit")
