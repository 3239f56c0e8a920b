"""Who may do what (docs/security.md), against real busd and alarmd on
loopback with CURVE on (the default): a client with no key, an unknown key
or the wrong server key gets no answer and is logged; each role does what it
may and is refused the rest, by name; a threshold changed only by a key that
may; busd obeys only the real alarmd's key, not a rogue publisher on
alarmd's port; plain links are an explicit choice that every daemon logs."""
import json
import os
import subprocess

import zmq

import owtest
from owtest import *

d = tmpdir()
cfg = os.path.join(d, "site.json")
s = site_with_alarmd(cfg, d, [{"id": "wm1"}])
A = s["services"]["alarmd"]
G = s["gateways"][0]
for name, roles in (("noc-ro", "read"), ("ops", "operate"), ("eng", "configure"),
                    ("brk", "breaker")):
    keygen(name, roles)

alog, blog = os.path.join(d, "alarmd.log"), os.path.join(d, "busd.log")
busd = start([BUSD, "-f", cfg, "-s", "10"], stderr=open(blog, "w"))
alarmd = start([ALARMD, "-f", cfg], stderr=open(alog, "w"))


def text(path):
    with open(path) as f:
        return f.read()


def call(body, key="cli", server_key=None, timeout=1500):
    """A control request holding KEYS' key `key` (None: plain; a tuple: a raw
    (public, secret) pair); None when nothing answers."""
    sock = zmq.Context.instance().socket(zmq.DEALER)
    sock.setsockopt(zmq.RCVTIMEO, timeout)
    sock.setsockopt(zmq.LINGER, 0)
    if isinstance(key, tuple):
        sock.curve_publickey, sock.curve_secretkey = key
        sock.curve_serverkey = server_key or key_pair("alarmd")[0]
    elif key is not None:
        curve_client(sock, key=key, server="alarmd")
        if server_key:
            sock.curve_serverkey = server_key
    sock.connect(A["control"])
    sock.send(json.dumps(body).encode())
    try:
        frames = sock.recv_multipart()
    except zmq.Again:
        return None
    finally:
        sock.close()
    return json.loads(frames[0])


L = Listener(A["publish"], replay=A["replay"])
KEY = "thresholds.voltage_v.high_alarm"
check(wait_for(lambda: call(control("get", "wm1", KEY)) is not None, 15), "alarmd answers the cli key")
orig = call(control("get", "wm1", KEY))["value"]

# 1. Nobody: no key, an unknown key, the wrong server key. No answer, logged.
check(call(control("set", "wm1", KEY, 99.0), key=None) is None, "a plain client gets no answer")
stranger = zmq.curve_keypair()
check(call(control("set", "wm1", KEY, 99.0), key=stranger) is None,
      "an unknown key gets no answer")
check(call(control("get", "wm1", KEY), key="cli", server_key=stranger[0]) is None,
      "a client expecting another server's key gets no answer")
check(wait_for(lambda: "is not in " + owtest.KEYS in text(alog), 5),
      "the unknown key's refusal is logged with the allow-list")
check(wait_for(lambda: text(alog).count("refused a connection on " + A["control"]) >= 2, 5),
      "the failed handshakes (no CURVE, wrong server key) are logged: %d" %
      text(alog).count("refused a connection on " + A["control"]))
check(stranger[0].decode() in text(alog), "the refused key is named in the log")

# 2. Each role: what it may, and a refusal by name for the rest.
MAY = {  # key: commands it may send (get/snapshot are read: every key)
    "noc-ro": {"get"}, "ops": {"get", "ack"}, "eng": {"get", "set", "baseline"},
    "brk": {"get", "output"}, "cli": {"get", "ack", "set", "baseline", "output"}}
REQ = {"get": control("get", "wm1", KEY), "ack": control("ack", "wm1"),
       "set": control("set", "wm1", KEY, orig + 0.5),
       "baseline": control("baseline", "wm1", value=5.0, index=1),
       "output": control("output", "wm1", value=0, index=2)}
NEED = {"ack": "operate", "set": "configure", "baseline": "configure", "output": "breaker"}
for key, may in MAY.items():
    for cmd, body in REQ.items():
        r = call(body, key=key)
        if not check(r is not None, "%s %s: an answer" % (key, cmd)):
            continue
        if cmd in may:
            # ack with nothing active says so; anything else must be ok
            check(r["ok"] or (cmd == "ack" and "no active" in r.get("error", "")) or
                  (cmd == "ack" and r.get("value") == 0),
                  "%s may %s: %r" % (key, cmd, r))
        else:
            want = "%s may not %s: the key lacks the %s role" % (key, cmd, NEED[cmd])
            check(not r["ok"] and r["error"] == want, "%s refused %s by name: %r" % (key, cmd, r))
            check(want in text(alog) or wait_for(lambda: want in text(alog), 2),
                  "refusal logged: " + want)

# Only eng and cli set; each set orig + 0.5 (the value is what the last did).
now = call(control("get", "wm1", KEY))["value"]
check(abs(now - (orig + 0.5)) < 1e-9, "the threshold holds the configure key's value "
      "(%s, was %s), never a refused one's" % (now, orig))
# The audit record (docs/audit.md) names the key that changed it, old and new.
sets = lambda: [c for c in L.kind("config") if c.get("key") == KEY and c["source"] == "control"]
check(wait_for(lambda: len(sets()) == 2, 5), "two sets audited (eng, cli): %d" % len(sets()))
if len(sets()) == 2:
    c = sets()[0]
    check(c["who"] == "eng" and c["new"] == "%g" % (orig + 0.5) and c["old"] == "%g" % orig,
          "the configure key's set names it with old and new: %r" %
          {k: c.get(k) for k in ("who", "old", "new")})
    check(sets()[1]["who"] == "cli", "then the cli key's: %r" % sets()[1]["who"])
r = call(control("set", "wm1", KEY, 99.0), key="noc-ro")
check(call(control("get", "wm1", KEY))["value"] == now, "a read-only key's 99 V never applied")

# 3. busd obeys only alarmd's key. The breaker key switched output 2 off
# above; through alarmd, busd logs it as from alarmd.
check(wait_for(lambda: "GX_R_AUX output 2 off (from alarmd)" in text(blog), 5),
      "busd switched output 2 on the breaker key's request, through alarmd")
stop(alarmd)
ctx = zmq.Context.instance()


def rogue(key, index):
    """A publisher bound on alarmd's port while alarmd is down, sending busd
    `output INDEX on` for 3 s; key: None (plain) or (public, secret)."""
    pub = ctx.socket(zmq.PUB)
    pub.setsockopt(zmq.LINGER, 0)
    if key:
        pub.curve_server = True
        pub.curve_publickey, pub.curve_secretkey = key
    pub.bind(A["publish"])
    body = control("output", "wm1", value=1, index=index)
    body["pub"] = "rogue"
    seen = "GX_R_AUX output %d on (from rogue)" % index
    end = time.time() + 3
    while time.time() < end and seen not in text(blog):
        pub.send_multipart([b"ctl/wm1", json.dumps(body).encode()])
        time.sleep(0.1)
    pub.close()
    time.sleep(0.3)  # the port free again
    return seen in text(blog)


check(not rogue(None, 3), "a plain rogue publisher on alarmd's port is not obeyed")
check(not rogue(zmq.curve_keypair(), 4), "a rogue CURVE publisher with its own key is not obeyed")
# The same test with alarmd's real secret key is obeyed: the two refusals
# above are the key's doing, not a broken test.
# (libzmq never reconnects a session whose handshake failed on its side:
# busd connects again itself, or the rogues above would have left it deaf
# to the real alarmd for good.)
check(rogue(key_pair("alarmd"), 5), "after the rogues, a publisher holding alarmd's secret key "
      "is obeyed (busd reconnected)")
check("handshake with %s failed" % A["publish"] in text(blog), "busd logs the failed handshake")
check(busd.poll() is None, "busd still running")
stop(busd)

# 4. Plain links only by choice, and said so by every daemon.
d2 = tmpdir()
cfg2 = os.path.join(d2, "site.json")
s2 = site_with_alarmd(cfg2, d2, [{"id": "wm1"}])
s2["services"]["security"] = {"curve": False}
with open(cfg2, "w") as f:
    json.dump(s2, f)
A = s2["services"]["alarmd"]
alog2 = os.path.join(d2, "alarmd.log")
a2 = start([ALARMD, "-f", cfg2], stderr=open(alog2, "w"))
check(wait_for(lambda: call(control("get", "wm1", KEY), key=None) is not None, 10),
      "plain links: a key-less client is answered")
r = call(control("output", "wm1", value=1, index=7), key=None)
check(r is not None and r["ok"], "plain links: anyone may switch an output (the stated risk)")
stop(a2)
check("links are plain TCP, unauthenticated and unencrypted" in text(alog2),
      "alarmd logs that its links are plain")
done("test_security")
