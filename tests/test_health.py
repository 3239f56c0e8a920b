"""`ohmwatch health SERVICE`: healthy (exit 0) while each service answers on
its socket with current data; unhealthy (exit 1) with a reason once it is
gone or its data is stale; 2 for an unknown service or gateway. Also: the
services reach each other through connect_host while binding wildcards.
snmpd: asked over SNMP as the first v3 user (pass phrases from files, as
the compose secrets give them) or with the v2c community when one is set;
unhealthy while it answers without module data, or refuses the keys.
alarmd and modbusd likewise before any busd has published."""
import os
import subprocess

from owtest import *

MODBUSD = os.path.join(BUILD, "services", "modbusd", "ohmwatch-modbusd")
SNMPD = os.path.join(BUILD, "services", "snmpd", "ohmwatch-snmpd")
db = pg()
d = tmpdir()
cfg = os.path.join(d, "site.json")
s = site_full(cfg, d, [{"id": "wm1", "log_rate_s": 1}], db.dsn)
# Bind every interface, reach each other on loopback by name: the compose
# layout, with "localhost" standing in for the service names.
for k in ("publish", "replay"):
    s["gateways"][0][k] = s["gateways"][0][k].replace("127.0.0.1", "*")
s["gateways"][0]["connect_host"] = "localhost"
for k in ("publish", "replay", "control"):
    s["services"]["alarmd"][k] = s["services"]["alarmd"][k].replace("127.0.0.1", "0.0.0.0")
s["services"]["alarmd"]["connect_host"] = "localhost"
port = free_port()
s["services"]["modbusd"] = {"listen": "0.0.0.0:%d" % port}
# snmpd on every interface, its pass phrases and community in files beside
# the site file (compose: /run/secrets/...). The agent has both v2c and a v3
# user; the probe uses the community when the site file it reads has one.
snmp_port = free_port()
for name, secret in (("snmp_auth", "auth-secret-1"), ("snmp_priv", "priv-secret-1"),
                     ("snmp_wrong", "not-the-secret"), ("snmp_community", "health-ro")):
    with open(os.path.join(d, name), "w") as f:
        f.write(secret + "\n")
s["services"]["snmpd"] = {
    "listen": "udp:0.0.0.0:%d" % snmp_port, "state_dir": os.path.join(d, "snmpd-state"),
    "community": "file:snmp_community", "source": "127.0.0.1",
    "users": [{"name": "nms", "auth": "SHA-256", "auth_pass": "file:snmp_auth",
               "priv_pass": "file:" + os.path.join(d, "snmp_priv")}]}
with open(cfg, "w") as f:
    json.dump(s, f, indent=2)
# The same site as the probe sees it without v2c: it asks as user nms; and
# with a wrong pass phrase.
cfg_v3, cfg_wrong = os.path.join(d, "site-v3.json"), os.path.join(d, "site-wrong.json")
v3 = json.loads(json.dumps(s))
del v3["services"]["snmpd"]["community"]
with open(cfg_v3, "w") as f:
    json.dump(v3, f, indent=2)
v3["services"]["snmpd"]["users"][0]["auth_pass"] = "file:snmp_wrong"
with open(cfg_wrong, "w") as f:
    json.dump(v3, f, indent=2)


def health(service, *args, site=None):
    r = subprocess.run([CLI, "-f", site or cfg, "health", service] + list(args),
                       capture_output=True, text=True, timeout=60)
    return r.returncode, r.stdout + r.stderr


# Nothing runs yet: every probe says why it is unhealthy.
for svc, why in (("busd", "no heartbeat"), ("alarmd", "no answer"),
                 ("historian", "nothing stored"), ("modbusd", "cannot connect")):
    rc, out = health(svc)
    check(rc == 1 and why in out, "%s down: exit 1, says %r: %r" % (svc, why, out))
for site_, how in ((cfg, "no v2c answer"), (cfg_v3, "no v3 answer")):
    rc, out = health("snmpd", site=site_)
    check(rc == 1 and how in out and "127.0.0.1:%d" % snmp_port in out,
          "snmpd down: exit 1, says %r on loopback: %r" % (how, out))
rc, out = health("nosuchd")
check(rc == 2 and "unknown service" in out, "unknown service: exit 2: %r" % out)
rc, out = health("busd", "-g", "nope")
check(rc == 2 and "no gateway" in out, "unknown gateway: exit 2: %r" % out)

# alarmd, modbusd and snmpd before any busd: each answers on its socket, but
# holds no current data, and says so.
alarmd = start([ALARMD, "-f", cfg])
snmpd = start([SNMPD, "-f", cfg])
mb = start([MODBUSD, "-f", cfg])
check(wait_for(lambda: "answers" in health("snmpd")[1], 20, 0.5), "snmpd answers")
for site_ in (cfg, cfg_v3):
    rc, out = health("snmpd", site=site_)
    check(rc == 1 and "answers (18 modules), but module 1 has no current reading" in out,
          "snmpd without readings: unhealthy: %r" % out)
check(wait_for(lambda: tcp_listening(port), 15), "modbusd listens")
rc, out = health("modbusd")
check(rc == 1 and "answers, but module 1 has no current reading" in out,
      "modbusd without readings: unhealthy: %r" % out)
check(wait_for(lambda: "answers" in health("alarmd")[1], 20, 0.5), "alarmd answers")
rc, out = health("alarmd")
check(rc == 1 and "answers, but has no data from the gateway yet" in out,
      "alarmd without readings: unhealthy: %r" % out)

busd = start([BUSD, "-f", cfg])
hist = start([HISTORIAN, "-f", cfg])
for svc in ("busd", "alarmd", "historian", "modbusd", "snmpd"):
    ok = wait_for(lambda: health(svc)[0] == 0, 30, 0.5)
    rc, out = health(svc)
    check(ok and "healthy" in out, "%s healthy: %r" % (svc, out))
rc, out = health("busd", "-g", "wm1")
check(rc == 0 and out.startswith("busd wm1: healthy"), "busd -g wm1: %r" % out)
rc, out = health("snmpd", "-g", "wm1")
check(rc == 0 and out.startswith("snmpd wm1: healthy, v2c on udp:127.0.0.1:%d, 18 modules, "
                                 "module 1 at 1" % snmp_port), "snmpd -g wm1 over v2c: %r" % out)
rc, out = health("snmpd", site=cfg_v3)
check(rc == 0 and out.startswith("snmpd wm1: healthy, v3 on"), "snmpd as v3 user nms: %r" % out)
rc, out = health("snmpd", site=cfg_wrong)
check(rc == 1 and "snmpd wm1: no v3 answer" in out and "uthentication" in out,
      "snmpd with a wrong pass phrase: unhealthy, says why: %r" % out)

# busd gone: it is unhealthy at once; the others hold data that ages, and
# say so once it is older than --max-age.
stop(busd)
rc, out = health("busd")
check(rc == 1 and "no heartbeat" in out, "busd stopped: unhealthy: %r" % out)
time.sleep(3)
rc, out = health("alarmd", "--max-age", "2")
check(rc == 1 and "s old" in out, "alarmd with stale data: unhealthy: %r" % out)
rc, out = health("alarmd")
check(rc == 0, "alarmd within the default max age: healthy: %r" % out)
rc, out = health("historian", "--max-age", "2")
check(rc == 1 and "last stored" in out, "historian with nothing new: unhealthy: %r" % out)
rc, out = health("historian")
check(rc == 0, "historian within the default max age: healthy: %r" % out)

# snmpd, like modbusd, stops serving a gateway's last readings once its busd
# is quiet (three polls, 3 s at least: lib/ow_quiet.h): the check of module 1
# then finds no current reading and says so.
check(wait_for(lambda: health("snmpd")[0] == 1, 15, 0.5), "snmpd with busd gone: unhealthy")
rc, out = health("snmpd")
check(rc == 1 and "module 1 has no current reading" in out,
      "snmpd with busd gone: says module 1 has no current reading: %r" % out)

# modbusd, snmpd and alarmd stopped: their sockets do not answer.
stop(mb)
rc, out = health("modbusd")
check(rc == 1 and "cannot connect" in out, "modbusd stopped: unhealthy: %r" % out)
stop(snmpd)
rc, out = health("snmpd", site=cfg_v3)
check(rc == 1 and "no v3 answer" in out, "snmpd stopped: unhealthy: %r" % out)
stop(alarmd)
rc, out = health("alarmd")
check(rc == 1 and "no answer" in out, "alarmd stopped: unhealthy: %r" % out)
# PostgreSQL gone: the historian spools, nothing is stored: unhealthy.
stop(hist)
db.stop()
rc, out = health("historian")
check(rc == 1 and "not reachable" in out, "PostgreSQL stopped: historian unhealthy: %r" % out)
done("test_health")
