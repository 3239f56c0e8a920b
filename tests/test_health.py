"""`ohmwatch health SERVICE`: healthy (exit 0) while each service answers on
its socket with current data; unhealthy (exit 1) with a reason once it is
gone or its data is stale; 2 for an unknown service or gateway. Also: the
services reach each other through connect_host while binding wildcards."""
import os
import subprocess

from owtest import *

MODBUSD = os.path.join(BUILD, "services", "modbusd", "ohmwatch-modbusd")
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
with open(cfg, "w") as f:
    json.dump(s, f, indent=2)


def health(service, *args):
    r = subprocess.run([CLI, "-f", cfg, "health", service] + list(args), capture_output=True,
                       text=True, timeout=60)
    return r.returncode, r.stdout + r.stderr


# Nothing runs yet: every probe says why it is unhealthy.
for svc, why in (("busd", "no heartbeat"), ("alarmd", "no answer"),
                 ("historian", "nothing stored"), ("modbusd", "cannot connect")):
    rc, out = health(svc)
    check(rc == 1 and why in out, "%s down: exit 1, says %r: %r" % (svc, why, out))
rc, out = health("snmpd")
check(rc == 2 and "unknown service" in out, "unknown service: exit 2: %r" % out)
rc, out = health("busd", "-g", "nope")
check(rc == 2 and "no gateway" in out, "unknown gateway: exit 2: %r" % out)

busd = start([BUSD, "-f", cfg])
alarmd = start([ALARMD, "-f", cfg])
hist = start([HISTORIAN, "-f", cfg])
mb = start([MODBUSD, "-f", cfg])
check(wait_for(lambda: tcp_listening(port), 15), "modbusd listens")
for svc in ("busd", "alarmd", "historian", "modbusd"):
    ok = wait_for(lambda: health(svc)[0] == 0, 30, 0.5)
    rc, out = health(svc)
    check(ok and "healthy" in out, "%s healthy: %r" % (svc, out))
rc, out = health("busd", "-g", "wm1")
check(rc == 0 and out.startswith("busd wm1: healthy"), "busd -g wm1: %r" % out)

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

# modbusd and alarmd stopped: their sockets do not answer.
stop(mb)
rc, out = health("modbusd")
check(rc == 1 and "cannot connect" in out, "modbusd stopped: unhealthy: %r" % out)
stop(alarmd)
rc, out = health("alarmd")
check(rc == 1 and "no answer" in out, "alarmd stopped: unhealthy: %r" % out)
# PostgreSQL gone: the historian spools, nothing is stored: unhealthy.
stop(hist)
db.stop()
rc, out = health("historian")
check(rc == 1 and "not reachable" in out, "PostgreSQL stopped: historian unhealthy: %r" % out)
done("test_health")
