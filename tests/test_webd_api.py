"""webd's live API against a real stack (busd sim -> alarmd -> webd, with
modbusd and snmpd beside it) on loopback (issue 18):
- GET /api/live equals modbusd's registers at the same moment, module by
  module, to each register's resolution (regmap.c's formulas);
- etc/scenarios/module-lost.json's lost module raises alarm 1: it is in the SSE stream within
  2 s of alarmd publishing it, the module reads null (modbusd: 0x8000), the
  LED is red; a viewer's ack is refused 403 (and changes nothing), an
  operator's mutes it: the LED turns yellow, in the stream and in the model;
- a bad threshold is refused 422 with alarmd's own reason and field = key; a
  good one is applied (alarmd's get, snmpd's GET);
- an output takes arm + confirm: a reused, another session's or an expired
  (30 s) token is refused; the output switches (busd's aux, Modbus 3666+);
- a capacity test is an operator's, a baseline an engineer's, alarmd's
  refusals answered 422 with its reason;
- alarmd's audit names webd/USER for each change; GET /api/audit is admin's;
- alarmd down: a change is a 503 that says so, within the 2 s timeout; back,
  webd takes its restored state (the alarm still acked, the LED yellow);
- busd silent: every value null (modbusd: 0x8000), not the last one heard."""
import http.client
import os
import signal
import subprocess
import threading

from owtest import *

WEBD = os.path.join(BUILD, "services", "webd", "ohmwatch-webd")
SNMPD = os.path.join(BUILD, "services", "snmpd", "ohmwatch-snmpd")
HW_OID = "1.3.6.1.2.1.33.5.1.17.0"  # temperature high warning, 0.1 degC
KEY = "thresholds.temp_c.high_warn"  # the site's 30 degC
# etc/scenarios/module-lost.json: module 5 of string 1 stops answering at
# t = 600 s for 1800 s. At 60x with a 30 s poll: a cycle every 0.5 s, the
# loss 10 s after busd starts, its end 40 s after (the checks that need
# the alarm active are done by then).
SCENARIO = os.path.join(ROOT, "etc", "scenarios", "module-lost.json")
SPEED = 60
POLL_MS = 30000

d = tmpdir()
cfg = os.path.join(d, "site.json")
s = site_with_alarmd(cfg, d, [{"id": "wm1", "poll_ms": POLL_MS}])
G, A = s["gateways"][0], s["services"]["alarmd"]
web_port, mb_port, snmp_port = free_port(), free_port(), free_port()
pwfile = os.path.join(d, "admin_password")
with open(pwfile, "w") as f:
    f.write("initial-secret-1\n")
s["services"]["webd"] = {"listen": "127.0.0.1:%d" % web_port, "tls": False,
                         "users_file": os.path.join(d, "users.json"),
                         "initial_password_file": pwfile,
                         "www_dir": os.path.join(ROOT, "services", "webd", "www")}
s["services"]["modbusd"] = {"listen": "127.0.0.1:%d" % mb_port, "idle_timeout_ms": 600000}
s["services"]["snmpd"] = {"listen": "udp:127.0.0.1:%d" % snmp_port, "community": "public",
                          "source": "127.0.0.1", "state_dir": os.path.join(d, "snmpd-state")}
with open(cfg, "w") as f:
    json.dump(s, f, indent=2)

AL = Listener(A["publish"], replay=A["replay"])
alarmd = start([ALARMD, "-f", cfg])
busd = start([BUSD, "-f", cfg, "-S", SCENARIO, "-s", str(SPEED)])
modbusd = start([MODBUSD, "-f", cfg])
snmpd = start([SNMPD, "-f", cfg], env=dict(os.environ, MIBS=""))
webd = start([WEBD, "-f", cfg])
check(wait_for(lambda: tcp_listening(web_port), 15), "webd listens")
check(wait_for(lambda: tcp_listening(mb_port), 10), "modbusd listens")


# ---- HTTP as a page does it: the cookie, the CSRF header ----

class Web:
    def __init__(self):
        self.cookie, self.csrf, self.user = "", "", ""

    def req(self, method, path, body=None, csrf=True):
        c = http.client.HTTPConnection("127.0.0.1", web_port, timeout=10)
        h = {"Cookie": self.cookie} if self.cookie else {}
        data = None
        if body is not None:
            data = json.dumps(body)
            h["Content-Type"] = "application/json"
        if method == "POST" and csrf and self.csrf:
            h["X-CSRF-Token"] = self.csrf
        c.request(method, path, body=data, headers=h)
        r = c.getresponse()
        raw = r.read()
        for k, v in r.getheaders():
            if k.lower() == "set-cookie" and v.startswith("ow_session="):
                self.cookie = v.split(";")[0]
        c.close()
        try:
            j = json.loads(raw) if raw else None
        except ValueError:
            j = None
        return r.status, j

    def get(self, path):
        return self.req("GET", path)

    def post(self, path, body):
        return self.req("POST", path, body)

    def login(self, user, password):
        st, j = self.req("POST", "/api/login", {"user": user, "password": password})
        if st == 200:
            self.csrf, self.user = j["csrf"], user
        return st, j


def user(name, roles, admin):
    """A web user with its own password set (the first login must change it)."""
    st, j = admin.post("/api/users", {"user": name, "roles": roles,
                                      "password": "first-pass-" + name})
    check(st == 200, "create %s: %s %r" % (name, st, j))
    w = Web()
    st, j = w.login(name, "first-pass-" + name)
    check(st == 200 and j["must_change"], "%s logs in, must change: %s %r" % (name, st, j))
    st, j = w.post("/api/password", {"old": "first-pass-" + name, "new": "own-pass-" + name})
    check(st == 200, "%s sets a password: %s %r" % (name, st, j))
    w = Web()
    check(w.login(name, "own-pass-" + name)[0] == 200, "%s logs in again" % name)
    return w


admin = Web()
st, j = admin.login("admin", "initial-secret-1")
check(st == 200 and j["must_change"], "admin: initial password, must change: %s %r" % (st, j))
check(admin.get("/api/live?gw=wm1")[0] == 403, "must_change: /api/live refused until changed")
check(admin.post("/api/password", {"old": "initial-secret-1", "new": "admin-pass-99"})[0] == 200,
      "admin changes the password")
admin = Web()
check(admin.login("admin", "admin-pass-99")[0] == 200, "admin logs in")
viewer = user("vic", ["viewer"], admin)
operator = user("olga", ["operator"], admin)
engineer = user("eve", ["engineer"], admin)
breaker = user("bob", ["breaker"], admin)
breaker2 = Web()
check(breaker2.login("bob", "own-pass-bob")[0] == 200, "bob's second session")

# A token armed now is confirmed after 30 s, at the end: refused as expired.
st, j = breaker.post("/api/outputs/arm", {"gw": "wm1", "output": 3, "state": 1})
check(st == 200 and j["expires_in_s"] == 30 and len(j["token"]) >= 32,
      "arm: a token for 30 s: %s %r" % (st, j))
old_token, old_armed = (j or {}).get("token", ""), time.monotonic()

check(Web().get("/api/live?gw=wm1")[0] == 401, "no session: 401")

# ---- the SSE stream, read as it comes ----

events = []  # (monotonic time, event, data)


def sse():
    c = http.client.HTTPConnection("127.0.0.1", web_port, timeout=60)
    c.request("GET", "/api/events", headers={"Cookie": viewer.cookie,
                                             "Accept": "text/event-stream"})
    r = c.getresponse()
    ev, data = None, []
    while True:
        line = r.fp.readline()
        if not line:
            return
        line = line.decode().rstrip("\r\n")
        if line.startswith("event:"):
            ev = line[6:].strip()
        elif line.startswith("data:"):
            data.append(line[5:].strip())
        elif line == "" and ev:
            try:
                events.append((time.monotonic(), ev, json.loads("\n".join(data))))
            except ValueError:
                events.append((time.monotonic(), ev, None))
            ev, data = None, []


threading.Thread(target=sse, daemon=True).start()
check(wait_for(lambda: any(e == "gw" for _, e, _ in events), 10), "the stream carries gw events")

# ---- the site ----

st, site = viewer.get("/api/site")
check(st == 200 and site["site"] == "Test site", "GET /api/site: %s" % st)
g0 = site["gateways"][0]
check(g0["id"] == "wm1" and g0["nmodules"] == 18 and g0["poll_ms"] == POLL_MS,
      "the gateway as in the file: %r" % {k: g0.get(k) for k in ("id", "nmodules", "poll_ms")})
check([x["modules"] for x in g0["strings"]] == [list(range(1, 10)), list(range(10, 19))],
      "strings with their module addresses")
check(abs(site["now_us"] / 1e6 - time.time()) < 5, "now_us is now")

# ---- /api/live == modbusd's registers at the same moment ----

from pymodbus.client import ModbusTcpClient

mb = ModbusTcpClient("127.0.0.1", port=mb_port)
check(mb.connect(), "pymodbus connects")


def regs():
    out = {}
    for first, n in ((1000, 5), (1010, 10), (1060, 90), (3666, 4)):
        r = mb.read_holding_registers(first, n, slave=1)
        if r.isError():
            return None
        for i, v in enumerate(r.registers):
            out[first + i] = v
    return out


def s16(x):
    return x - 65536 if x >= 32768 else x


NO_READING = 0x8000


def expected(model):
    """The registers modbusd serves for this model (regmap.c's formulas)."""
    want = {1000: model["state"]["general"] & 0xFFFF, 1001: model["state"]["battery"] & 0xFFFF,
            1002: model["state"]["alarm"] & 0xFFFF}
    for m in model["modules"]:
        b = 1060 + 5 * (m["addr"] - 1)
        if not m["answering"]:
            want.update({b: NO_READING, b + 1: NO_READING, b + 2: NO_READING})
        else:
            want.update({b: cround(2 * m["t"] + 78) & 0xFFFF,
                         b + 1: cround(m["v"] * 1000) & 0xFFFF,
                         b + 2: cround(m["ri"] * 100) & 0xFFFF})
        want[b + 3] = m["flags"]
    for x in model["strings"]:
        b = 1010 + 5 * (x["n"] - 1)
        want[b + 1] = cround(x["sum_v"] * 10) & 0xFFFF if x["sum_v"] is not None else 0
        want[b + 2] = cround(x["target_v"] * 1000) & 0xFFFF if x["target_v"] is not None else 0
        want[b] = cround(x["current_a"] * 10) & 0xFFFF if x["current_a"] is not None else 0
    return want


def same_moment(what, need=None):
    """Registers, model, registers again: a pair read within one busd cycle
    of both is compared (a cycle between the reads: read again). Returns
    (model, registers, attempts, mismatches of the last attempt)."""
    bad = []
    for attempt in range(1, 101):
        r1 = regs()
        st, model = viewer.get("/api/live?gw=wm1")
        r2 = regs()
        if st != 200 or not r1 or r1 != r2 or (need and not need(model)):
            time.sleep(0.05)
            continue
        want = expected(model)
        bad = [(a, want[a], r1[a]) for a in sorted(want) if want[a] != r1[a]]
        if not bad:
            return model, r1, attempt, []
        time.sleep(0.05)
    check(False, "%s: /api/live never equalled the registers; last differences "
          "(addr, from the model, modbusd): %r" % (what, bad[:8]))
    return None, None, 0, bad


check(wait_for(lambda: viewer.get("/api/live?gw=wm1")[1]["answering"], 10), "wm1 answering")
model, r, attempts, _ = same_moment("all answering",
                                    lambda m: all(x["answering"] for x in m["modules"]))
if model:
    vs = [x["v"] for x in model["modules"]]
    print("all 18 modules equal modbusd's registers (attempt %d): v %.3f..%.3f V, t %.1f..%.1f "
          "degC, ri %.2f..%.2f mOhm" % (attempts, min(vs), max(vs),
                                        min(x["t"] for x in model["modules"]),
                                        max(x["t"] for x in model["modules"]),
                                        min(x["ri"] for x in model["modules"]),
                                        max(x["ri"] for x in model["modules"])))
    check(len(model["modules"]) == 18 and all(11 < v < 15 for v in vs),
          "18 block voltages of a 12 V battery")
    check(model["state"]["led"] == "green" and model["state"]["alarms_active"] == 0,
          "no alarm: green (%r)" % model["state"])
    m5 = model["modules"][4]
    check(m5["string"] == 1 and m5["pos"] == 5 and r[1060 + 20 + 1] == cround(m5["v"] * 1000),
          "module 5: string 1 block 5, %s V = register %d" % (m5["v"], r[1081]))
    s1 = model["strings"][0]
    check(abs(s1["sum_v"] - sum(vs[:9])) < 0.01, "string 1's sum = its blocks: %s vs %.3f" %
          (s1["sum_v"], sum(vs[:9])))

# ---- the scenario's lost module: alarm 1 ----

raised = None


def raise_seen():
    global raised
    a = [x for x in AL.alarms("raise") if x["type"] == 1 and x["module"] == 5]
    if a and raised is None:
        raised = (time.monotonic(), a[0])
    return raised is not None


check(wait_for(raise_seen, 60, 0.02), "alarmd raises alarm 1 for module 5")
alarm_id = raised[1]["id"] if raised else -1


def sse_alarm():
    for t, e, dd in events:
        if e == "alarms" and dd and any(a["id"] == alarm_id for a in dd["alarms"]):
            return t, dd
    return None


check(wait_for(lambda: sse_alarm() is not None, 5), "the alarm comes in the SSE stream")
got = sse_alarm()
if got and raised:
    lag = got[0] - raised[0]
    a = [x for x in got[1]["alarms"] if x["id"] == alarm_id][0]
    print("alarm %d in the SSE stream %.3f s after alarmd published it" % (alarm_id, lag))
    check(lag < 2.0, "within 2 s: %.3f s" % lag)
    check(a["code"] == 1 and a["name"] == "bacsAlarmSystemError" and a["severity"] == "alarm" and
          a["string"] == 1 and a["module"] == 5 and not a["acked"], "the alarm's fields: %r" % a)


def led(w=viewer):
    return w.get("/api/live?gw=wm1")[1]["state"]["led"]


check(wait_for(lambda: led() == "red", 5), "sounding: the LED is red (%s)" % led())
model, r, attempts, _ = same_moment("module 5 lost", lambda m: not m["modules"][4]["answering"])
if model:
    m5 = model["modules"][4]
    check(m5["v"] is None and m5["t"] is None and m5["ri"] is None and
          "BACS_ALARM_COMMUNICATION_LOST" in m5["flag_names"],
          "module 5 not answering: null, never its last value: %r" % m5)
    check(r[1081] == NO_READING and r[1083] & 0x0002,
          "modbusd: 0x8000 and Communication lost (%d, 0x%04x)" % (r[1081], r[1083]))
    check(all(x["answering"] for i, x in enumerate(model["modules"]) if i != 4),
          "the other 17 answer")
st, j = viewer.get("/api/alarms?gw=wm1")
check(st == 200 and [a["id"] for a in j["alarms"]].count(alarm_id) == 1,
      "GET /api/alarms lists it once")

# ---- acknowledge: a viewer cannot, an operator can ----

st, j = viewer.post("/api/ack", {"gw": "wm1", "code": 1, "string": 1, "module": 5})
check(st == 403 and "operator" in j["error"], "a viewer's ack: 403 %r" % j)
check(operator.req("POST", "/api/ack", {"gw": "wm1", "all": True}, csrf=False)[0] == 403,
      "an operator's ack without the CSRF header: 403")
# Two busd cycles later (two more "gw" events), nothing was acknowledged.
n_events = len(events)
check(wait_for(lambda: sum(e == "gw" for _, e, _ in events[n_events:]) >= 2, 10),
      "the stream goes on")
check(led() == "red" and not AL.alarms("ack"), "still red, alarmd acknowledged nothing")
n_events = len(events)
st, j = operator.post("/api/ack", {"gw": "wm1", "code": 1, "string": 1, "module": 5})
check(st == 200 and j["acknowledged"] == 1, "the operator's ack: %s %r" % (st, j))
check(wait_for(lambda: led() == "yellow", 5), "muted: the LED is yellow (%s)" % led())
check(any(e == "gw" and dd and dd["state"]["led"] == "yellow" for _, e, dd in events[n_events:]),
      "the stream says yellow")
check(any(e == "alarms" and dd and any(a["id"] == alarm_id and a["acked"] for a in dd["alarms"])
          for _, e, dd in events[n_events:]), "the stream's alarm list says acked")
st, j = operator.post("/api/ack", {"gw": "wm1", "code": 7, "string": 1, "module": 2})
check(st == 404 and j["field"] == "code", "an alarm that is not active: 404 %r" % j)

# ---- alarmd down ----

stop(alarmd)
t0 = time.monotonic()
st, j = engineer.post("/api/thresholds", {"key": KEY, "value": 32})
took = time.monotonic() - t0
check(st == 503 and "alarmd" in j["error"] and took < 3.0,
      "alarmd down: 503 in %.2f s: %r" % (took, j))
check(viewer.get("/api/live?gw=wm1")[0] == 200, "the live model still answers")

# ---- alarmd back: webd takes its state again (a new epoch: a snapshot) ----

n_events = len(events)
alarmd = start([ALARMD, "-f", cfg])
check(wait_for(lambda: any(e == "alarms" for _, e, _ in events[n_events:]), 15),
      "alarmd restarted: webd publishes its alarm list again")
st, j = viewer.get("/api/alarms?gw=wm1")
a = [x for x in (j or {}).get("alarms", []) if x["id"] == alarm_id]
check(st == 200 and len(a) == 1 and a[0]["acked"], "the restored alarm, still acked: %r" % a)
check(led() == "yellow", "still yellow after alarmd's restart (%s)" % led())

# ---- thresholds ----

st, j = viewer.get("/api/thresholds?gw=wm1")
th = {t["key"]: t for t in (j or {}).get("thresholds", [])}
check(st == 200 and len(th) > 40, "GET /api/thresholds: %d keys" % len(th))
hw = th.get("thresholds.temp_c.high_warn", {})
check(hw.get("value") == 30 and hw.get("unit") == "degC" and hw.get("min") < 30 < hw.get("max")
      and hw.get("doc"), "temp_c.high_warn as alarmd holds it: %r" % hw)
rep, _ = ctl_call(A["control"], control("set", gw="wm1", key=KEY, value=40))
check(not rep["ok"], "alarmd itself refuses 40 (above high_alarm 35): %r" % rep)
st, j = engineer.post("/api/thresholds", {"key": KEY, "value": 40})
check(st == 422 and j["field"] == KEY and j["error"] == rep["error"],
      "a bad threshold: 422 with alarmd's reason %r: %s %r" % (rep["error"], st, j))
st, j = engineer.post("/api/thresholds", {"key": KEY, "value": 9999})
check(st == 422 and j["field"] == KEY and "between" in j["error"], "out of range: 422 %r" % j)
check(viewer.post("/api/thresholds", {"key": KEY, "value": 31})[0] == 403, "a viewer: 403")
check(operator.post("/api/thresholds", {"key": KEY, "value": 31})[0] == 403, "an operator: 403")
st, j = engineer.post("/api/thresholds", {"key": KEY, "value": 31})
check(st == 200 and j["value"] == 31, "a good threshold: %s %r" % (st, j))
rep, _ = ctl_call(A["control"], control("get", gw="wm1", key=KEY))
check(rep["ok"] and rep["value"] == 31, "alarmd's get reads 31: %r" % rep)


def snmp_hw():
    return subprocess.run(["snmpget", "-On", "-Oqv", "-t", "1", "-r", "1", "-v2c", "-c", "public",
                           "127.0.0.1:%d" % snmp_port, HW_OID], capture_output=True, text=True,
                          env=dict(os.environ, MIBS="")).stdout.strip()


check(wait_for(lambda: snmp_hw() == "310", 10), "snmpd serves 31.0 degC: %r" % snmp_hw())
check(viewer.get("/api/thresholds?gw=wm1")[1]["thresholds"] and
      {t["key"]: t for t in viewer.get("/api/thresholds?gw=wm1")[1]["thresholds"]}[KEY]["value"]
      == 31, "GET /api/thresholds reads 31")

# ---- a capacity test (operator), a baseline (engineer) ----

check(viewer.post("/api/captest", {"gw": "wm1", "string": 1})[0] == 403, "a viewer's captest: 403")
st, j = operator.post("/api/captest", {"gw": "wm1", "string": 1, "rated_h": 5})
check(st == 200 and j["rated_h"] == 5, "the operator tags string 1: %s %r" % (st, j))
st, j = operator.post("/api/captest", {"gw": "wm1", "string": 1, "rated_h": 5000})
check(st == 422 and "rated hours" in j["error"], "5000 h: 422 with alarmd's reason %r" % j)
check(operator.post("/api/baseline", {"gw": "wm1", "module": 3, "mohm": 5.2})[0] == 403,
      "an operator's baseline: 403")
st, j = engineer.post("/api/baseline", {"gw": "wm1", "module": 3, "mohm": 5.2})
check(st == 200 and j["mohm"] == 5.2, "the engineer sets module 3's baseline: %s %r" % (st, j))
st, j = engineer.post("/api/baseline", {"gw": "wm1", "module": 99, "mohm": 5.2})
check(st == 422 and "no module 99" in j["error"], "module 99 of 18: 422 %r" % j)

# ---- outputs: two steps ----

st, j = viewer.get("/api/outputs?gw=wm1")
outs = (j or {}).get("outputs", [])
check(st == 200 and [o["n"] for o in outs] == [1, 2, 3, 4] and outs[2]["state"] == "off",
      "4 outputs, 3 off: %r" % outs)
check(r[3668] == 0, "modbusd: output 3 off")
check(operator.post("/api/outputs/arm", {"gw": "wm1", "output": 3, "state": 1})[0] == 403,
      "an operator cannot arm")
st, j = breaker.post("/api/outputs/arm", {"gw": "wm1", "output": 9, "state": 1})
check(st == 400 and j["field"] == "output", "output 9 of 4: 400 %r" % j)
st, j = breaker.post("/api/outputs/arm", {"gw": "wm1", "output": 3, "state": 1})
tok = (j or {}).get("token", "")
check(st == 200 and tok and tok != old_token, "armed again: a new token")
st, j = breaker2.post("/api/outputs/confirm", {"token": tok})
check(st == 403, "another session's confirm: 403 %r" % j)
st, j = breaker.post("/api/outputs/confirm", {"token": tok})
check(st == 200 and j["state"] == "on", "confirmed: %s %r" % (st, j))
st, j = breaker.post("/api/outputs/confirm", {"token": tok})
check(st == 409, "the token reused: 409 %r" % j)
check(wait_for(lambda: viewer.get("/api/outputs?gw=wm1")[1]["outputs"][2]["state"] == "on", 10),
      "output 3 on, as busd reads it")
check(wait_for(lambda: (regs() or {}).get(3668) == 1, 5), "modbusd: output 3 on")

# ---- the audit trail names the person ----

check(engineer.get("/api/audit")[0] == 403, "the audit log is admin's: 403 for an engineer")
st, j = admin.get("/api/audit")
recs = (j or {}).get("records", [])
who = {(x["key"], x["who"]) for x in recs}
print("audit: %r" % sorted(who))
check(st == 200 and any(k == KEY and w.endswith("webd/eve") for k, w in who),
      "threshold set by webd/eve")
check(any(k == "ack.%d" % alarm_id and w.endswith("webd/olga") for k, w in who),
      "ack by webd/olga")
check(any(k == "output.3" and w.endswith("webd/bob") for k, w in who), "output 3 by webd/bob")
check(any(k == "captest.string.1" and w.endswith("webd/olga") for k, w in who),
      "captest by webd/olga")
check(any(k == "baseline.module.3" and w.endswith("webd/eve") for k, w in who),
      "baseline by webd/eve")
t = [x for x in recs if x["key"] == KEY]
check(t and t[-1]["old"] == "30" and t[-1]["new"] == "31", "the change 30 -> 31: %r" % t[-1:])

# ---- busd silent (stopped, not dead): every module null, never its last value ----

os.kill(busd.pid, signal.SIGSTOP)
t0 = time.monotonic()
check(wait_for(lambda: viewer.get("/api/live?gw=wm1")[1]["answering"] is False, 10),
      "busd stopped: wm1 not answering")
print("busd silent: webd shows wm1 not answering after %.2f s" % (time.monotonic() - t0))
model, r, attempts, _ = same_moment("busd silent", lambda m: not any(
    x["answering"] for x in m["modules"]))
if model:
    check(all(x["v"] is None and x["t"] is None and x["ri"] is None for x in model["modules"]) and
          all(x["sum_v"] is None for x in model["strings"]),
          "every module and string null")
    check(all(r[1060 + 5 * i + 1] == NO_READING for i in range(18)),
          "modbusd agrees: 0x8000 for each of the 18")
os.kill(busd.pid, signal.SIGCONT)
check(wait_for(lambda: all(x["answering"] for x in viewer.get("/api/live?gw=wm1")[1]["modules"]
                           if x["addr"] != 5), 10), "busd back: the modules answer again")

# ---- the first token, 30 s later ----

wait_for(lambda: time.monotonic() - old_armed > 30.2, 40, 0.2)
st, j = breaker.post("/api/outputs/confirm", {"token": old_token})
check(st == 409 and "expired" in j["error"], "an expired token: 409 %r" % j)

mb.close()
AL.close()
for p in (webd, snmpd, modbusd, busd, alarmd):
    check(stop(p) == 0, "%s exits cleanly" % p.args[0].rsplit("/", 1)[-1])
done("test_webd_api")
