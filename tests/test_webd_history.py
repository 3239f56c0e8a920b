"""The history pages' data end to end: busd (a discharge of string 2 with
block 4 of that string made weak, accelerated) -> alarmd (detects the
discharge) -> historian -> PostgreSQL -> webd (its read-only role, over
HTTPS as a logged-in user). /api/discharges lists the discharge with its
string and duration; /api/discharges/curves has a point per block of the
string per 1-minute rollup bucket, and names the weak block the weakest."""
import http.client
import json
import os
import ssl
import subprocess

from owtest import *

WEBD = os.path.join(BUILD, "services", "webd", "ohmwatch-webd")

db = pg()
d = tmpdir()
cfg = os.path.join(d, "site.json")
scen = os.path.join(d, "s.json")
SPEED = 1800          # 18 s of measurement time per busd cycle
STEP_S = SPEED // 100
T0, DUR = 21600, 1200  # six hours of ageing first, then 20 minutes on battery
WEAK_STRING, WEAK_BLOCK = 2, 4
WEAK_ADDR = 9 + WEAK_BLOCK  # the sample site: two strings of 9 blocks
with open(scen, "w") as f:
    json.dump({"name": "weak block discharge", "events": [
        # +250 % by the discharge: I x R sags it ~0.3 V more than the rest
        {"at_s": 0, "type": "impedance_rise", "string": WEAK_STRING, "block": WEAK_BLOCK,
         "rate": 1000, "duration_s": 0},
        {"at_s": T0, "type": "discharge", "string": WEAK_STRING, "current_a": 25,
         "duration_s": DUR}]}, f)

# The TLS pair and passwords as make-secrets.sh makes them.
crt, key = os.path.join(d, "webd.crt"), os.path.join(d, "webd.key")
subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                "-nodes", "-days", "2", "-subj", "/CN=localhost", "-addext",
                "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout", key, "-out", crt],
               check=True, capture_output=True)
admin_pw = os.path.join(d, "admin_pw")
with open(admin_pw, "w") as f:
    f.write("first-admin-password\n")
pg_pw = os.path.join(d, "pg_webd")
with open(pg_pw, "w") as f:
    f.write("webd\n")  # scripts/pg.sh's test password of webd_reader

# An impedance measurement every 30 min: alarmd compares the weak block's
# against its baseline on float before the discharge (the impedance page).
s = site_full(cfg, d, [{"id": "wm1", "log_rate_s": 1200, "log_rate_charge_s": 0,
                        "impedance_poll_min": 30}], db.dsn)
port = free_port()
s["services"]["webd"] = {
    "listen": "127.0.0.1:%d" % port, "cert_file": crt, "key_file": key,
    "users_file": os.path.join(d, "users.json"), "initial_password_file": admin_pw,
    "www_dir": os.path.join(ROOT, "services", "webd", "www"),
    "history": {"host": "127.0.0.1", "port": db.port, "dbname": "ohmwatch",
                "user": "webd_reader", "password_file": pg_pw}}
with open(cfg, "w") as f:
    json.dump(s, f, indent=2)

hist = start([HISTORIAN, "-f", cfg])
alarmd = start([ALARMD, "-f", cfg])
webd = start([WEBD, "-f", cfg])
CYCLES = (T0 + DUR + 1800) // STEP_S
busd = start([BUSD, "-f", cfg, "-S", scen, "-s", str(SPEED), "--cycles", str(CYCLES),
              "--linger", "60"])
total = CYCLES * 22 + 2  # 18 modules + 2 strings + aux + heartbeat per cycle, 2 more


def last_seq():
    return db.scalar("SELECT seq FROM ingest_positions WHERE pub = 'busd.wm1'")


check(wait_for(lambda: last_seq() >= total - 1, 120, 0.5),
      "historian stored all of busd's messages (%d of %d)" % (last_seq(), total))
check(wait_for(lambda: db.scalar("SELECT count(*) FROM discharge_events WHERE end_at IS NOT NULL")
               == 1, 30, 0.5), "alarmd's discharge stored, completed")

# ---- webd over HTTPS, verified against its own certificate ----
ctx = ssl.create_default_context(cafile=crt)


class Client:
    def __init__(self):
        self.cookie = None
        self.csrf = None

    def call(self, method, path, body=None):
        c = http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=10)
        h = {"Content-Type": "application/json"}
        if self.cookie:
            h["Cookie"] = self.cookie
        if self.csrf and method == "POST":
            h["X-CSRF-Token"] = self.csrf
        c.request(method, path, json.dumps(body) if body is not None else None, h)
        r = c.getresponse()
        data = r.read()
        sc = r.getheader("Set-Cookie")
        if sc:
            self.cookie = sc.split(";")[0]
        c.close()
        try:
            j = json.loads(data) if data else None
        except ValueError:
            j = None
        return r.status, j


def webd_up():
    try:
        return Client().call("GET", "/api/health")[0] == 200
    except OSError:
        return False


check(wait_for(webd_up, 30, 0.2), "webd answers /api/health over HTTPS without a session")
st, h = Client().call("GET", "/api/health")
check(h and h.get("ok") is True and [g["id"] for g in h["gateways"]] == ["wm1"],
      "health: ok, gateway wm1 (%s)" % h)


# `ohmwatch health webd`: HTTPS, the certificate verified against the
# configured file, busd heard (it is running its cycles now).
def health(site_file):
    return subprocess.run([CLI, "-f", site_file, "health", "webd"], capture_output=True,
                          text=True, timeout=20)


check(wait_for(lambda: health(cfg).returncode == 0, 15, 0.2),
      "ohmwatch health webd: healthy (%s)" % health(cfg).stdout.strip())
r = health(cfg)
print("ohmwatch health webd: " + r.stdout.strip())
check("certificate verified" in r.stdout and "webd wm1: healthy" in r.stdout,
      "health names the verified certificate and the gateway: %s" % r.stdout.strip())
# Another certificate in the site file than webd serves: unhealthy, said why.
other = os.path.join(d, "other.crt")
subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                "-nodes", "-days", "2", "-subj", "/CN=localhost", "-keyout",
                os.path.join(d, "other.key"), "-out", other], check=True, capture_output=True)
s2 = json.loads(json.dumps(s))
s2["services"]["webd"]["cert_file"] = other
s2["services"]["webd"]["key_file"] = os.path.join(d, "other.key")
cfg2 = os.path.join(d, "site-other-cert.json")
with open(cfg2, "w") as f:
    json.dump(s2, f)
r = health(cfg2)
check(r.returncode == 1 and "is not" in r.stdout and other in r.stdout,
      "a certificate webd does not serve: unhealthy, named (%d: %s)" % (r.returncode,
                                                                        r.stdout.strip()))

u = Client()
st, me = u.call("POST", "/api/login", {"user": "admin", "password": "first-admin-password"})
check(st == 200 and me and me.get("must_change") is True, "admin logs in, must change (%s %s)"
      % (st, me))
u.csrf = me["csrf"] if me else None
st, _ = u.call("POST", "/api/password", {"old": "first-admin-password",
                                         "new": "second-admin-password"})
check(st == 200, "admin sets a new password (%s)" % st)
st, me = u.call("GET", "/api/me")
u.csrf = me["csrf"] if me else u.csrf
check(st == 200 and me.get("must_change") is False, "the session may use the API now")

# No session: refused before the database is asked.
check(Client().call("GET", "/api/discharges?gw=wm1")[0] == 401, "no session: 401")

st, dl = u.call("GET", "/api/discharges?gw=wm1")
check(st == 200, "GET /api/discharges: 200 (%s %s)" % (st, dl))
dis = (dl or {}).get("discharges", [])
check(len(dis) == 1, "one discharge listed (%d)" % len(dis))
row = db.query("SELECT string, (extract(epoch FROM start_at) * 1000000)::bigint, "
               "(extract(epoch FROM end_at) * 1000000)::bigint, duration_s, min_module "
               "FROM discharge_events")[0]
if dis:
    x = dis[0]
    check(x["string"] == WEAK_STRING, "the discharge is string %d's (%s)" % (WEAK_STRING,
                                                                              x["string"]))
    # alarmd sees the start and the end within a cycle or two of busd's.
    check(abs(x["duration_s"] - DUR) <= 2 * STEP_S,
          "its duration %.0f s is the scenario's %d s within two cycles" % (x["duration_s"], DUR))
    check(x["start_us"] == row[1] and x["end_us"] == row[2],
          "start and end as stored, to the microsecond")
    check(x["id"] == "%d-%d" % (row[0], row[1]), "id is STRING-START_US (%s)" % x["id"])

    st, cv = u.call("GET", "/api/discharges/curves?gw=wm1&id=" + x["id"])
    check(st == 200, "GET /api/discharges/curves: 200 (%s)" % st)
    cv = cv or {}
    t = cv.get("t", [])
    # The 1-minute buckets from the start's minute to the end's, each with
    # readings (busd's cycle is 18 s, every reading stored while on battery).
    first_min, last_min = row[1] // 60000000, row[2] // 60000000
    want = last_min - first_min + 1
    check(len(t) == want, "a point per rollup minute: %d of %d" % (len(t), want))
    check(t == [m * 60 for m in range(first_min, last_min + 1)],
          "the points are the minutes, in order")
    blocks = cv.get("blocks", [])
    check(sorted(b["addr"] for b in blocks) == list(range(10, 19)),
          "every block of string 2 (10..18): %s" % [b["addr"] for b in blocks])
    check(all(len(b["v"]) == want and all(v is not None for v in b["v"]) for b in blocks),
          "a value per block per minute, none missing")
    check(cv.get("weakest") == WEAK_ADDR,
          "the weakest is the scenario's weak block %d (%s)" % (WEAK_ADDR, cv.get("weakest")))
    check(row[4] == WEAK_ADDR, "alarmd's lowest block of the discharge is %d (%s)" %
          (WEAK_ADDR, row[4]))
    # And by the curves themselves: lowest at the end of the discharge.
    if blocks and want > 2:
        end_v = {b["addr"]: b["v"][-2] for b in blocks}
        low = min(end_v, key=end_v.get)
        others = sorted(v for a, v in end_v.items() if a != WEAK_ADDR)
        print("discharge %s: %.0f s, %d points per block, weakest %s, %.3f V below the next" %
              (x["id"], x["duration_s"], len(t), cv.get("weakest"), others[0] - end_v[WEAK_ADDR]))
        check(low == WEAK_ADDR and others[0] - end_v[WEAK_ADDR] > 0.1,
              "block %d lowest before the end by %.2f V" % (low, others[0] - end_v[low]))
    # Each point is the rollup's average of that minute.
    b = [b for b in blocks if b["addr"] == WEAK_ADDR]
    if b and t:
        avg = db.scalar("SELECT v_sum / v_n FROM module_readings_1m WHERE module = %d AND "
                        "bucket = to_timestamp(%d)" % (WEAK_ADDR, t[1]))
        check(abs(b[0]["v"][1] - avg) < 1e-9, "point = the rollup's average (%.4f)" % avg)

# Bad arguments are refused naming them, not sent to the database.
st, e = u.call("GET", "/api/discharges/curves?gw=wm1&id=1-x")
check(st == 400 and e.get("field") == "id", "a malformed id: 400 naming id (%s %s)" % (st, e))
st, e = u.call("GET", "/api/history/blocks?gw=wm1&module=abc")
check(st == 400 and e.get("field") == "module", "module=abc: 400 naming module")
st, e = u.call("GET", "/api/discharges?gw=nope")
check(st == 404 and e.get("field") == "gw", "an unknown gateway: 404 naming gw")

# The weak block's voltage over the discharge from the rollups.
if dis:
    st, bl = u.call("GET", "/api/history/blocks?gw=wm1&module=%d&what=v&from_us=%d&to_us=%d" %
                    (WEAK_ADDR, row[1], row[2]))
    check(st == 200 and len(bl["series"][0]) >= want - 1, "history/blocks over the discharge")

# The alarm history over the discharge: what alarm_events holds, the
# severity by name as the pages filter it.
if dis:
    lo, hi = row[1] - 60000000, row[2] + 60000000
    st, ah = u.call("GET", "/api/alarms/history?gw=wm1&from_us=%d&to_us=%d" % (lo, hi))
    n = db.scalar("SELECT count(*) FROM alarm_events WHERE ts >= to_timestamp(%f) AND "
                  "ts <= to_timestamp(%f)" % (lo / 1e6, hi / 1e6))
    ev = (ah or {}).get("events", [])
    check(st == 200 and len(ev) == n and n > 0, "alarms/history: %d events, as stored (%d)"
          % (len(ev), n))
    check(all(e["severity"] in ("info", "warning", "alarm") for e in ev),
          "severities by name: %s" % sorted(set(e["severity"] for e in ev)))
    sev = ev[0]["severity"] if ev else "info"
    st, ah = u.call("GET", "/api/alarms/history?gw=wm1&from_us=%d&to_us=%d&severity=%s"
                    % (lo, hi, sev))
    check(st == 200 and ah["events"] and all(e["severity"] == sev for e in ah["events"]),
          "severity=%s filters by name" % sev)

# The weak block's impedance against its baseline, as alarmd judged it.
st, im = u.call("GET", "/api/impedance?gw=wm1&module=%d" % WEAK_ADDR)
rows = db.query("SELECT impedance_mohm, baseline_mohm, (extract(epoch FROM alarm_at) * 1000000)"
                "::bigint FROM impedance_baselines WHERE module = %d ORDER BY ts" % WEAK_ADDR)
im = im or {}
print("impedance of block %d: %d comparisons, %s mOhm -> %s, baseline %s, projected %s" % (
    WEAK_ADDR, len(im.get("t", [])), im.get("ri", [None])[0] if im.get("ri") else None,
    im.get("ri", [None])[-1] if im.get("ri") else None, im.get("baseline"), im.get("projected_us")))
check(st == 200 and len(rows) >= 3 and len(im.get("t", [])) == len(rows),
      "impedance: every comparison alarmd made (%d of %d)" % (len(im.get("t", [])), len(rows)))
if rows and im.get("ri"):
    check(abs(im["ri"][-1] - rows[-1][0]) < 1e-9 and abs(im["baseline"] - rows[-1][1]) < 1e-9,
          "the newest comparison's impedance and baseline")
    check(im["ri"][-1] > im["ri"][0] * 1.2, "the weak block's impedance rises (%.2f -> %.2f)"
          % (im["ri"][0], im["ri"][-1]))
    check(im.get("projected_us") == rows[-1][2], "alarmd's projected date, as stored (%s)"
          % rows[-1][2])

stop(busd)
stop(webd)
check(webd.returncode == 0, "webd stops cleanly (rc %s)" % webd.returncode)
stop(alarmd)
stop(hist)
done("test_webd_history")
