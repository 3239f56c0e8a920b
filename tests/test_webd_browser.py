"""The web pages in a real browser (issue 18): Debian's chromium, headless,
driven by Selenium through chromedriver, against a real stack: busd
(simulator) -> alarmd -> webd, with the historian + PostgreSQL for the
history and modbusd + snmpd to compare with.

- the vendored uPlot is the version the lock file records;
- the first login with the initial password must set a new one;
- the dashboard shows every block of wm1 with the values modbusd serves for
  the same poll cycle (every cell, to the register's resolution);
- a scenario's alarm (a module that stops answering) reaches the page within
  2 s of alarmd publishing it, without a reload: the LED turns red, the count
  goes up, the block shows "no answer";
- a viewer's Acknowledge is refused by the server (403 shown on the page,
  the alarm still sounding); an operator's Acknowledge all (through the
  <dialog>) turns the LED yellow;
- a bad threshold is refused with alarmd's reason beside its field; a good
  one is applied and read back over SNMP;
- the breaker output needs both steps: armed it is still off (Modbus), only
  Confirm switches it on;
- a discharge of wm2 (the simulator at 30x) has its curves charted: every
  block of the string, the weakest highlighted.
Screenshots go to the build directory (webd-browser/*.png)."""
import json
import os
import re
import subprocess
import tempfile
import time

from owtest import *

WWW = os.path.join(ROOT, "services", "webd", "www")
WEBD = os.path.join(BUILD, "services", "webd", "ohmwatch-webd")
SNMPD = os.path.join(BUILD, "services", "snmpd", "ohmwatch-snmpd")
SHOTS = os.path.join(BUILD, "webd-browser")
os.makedirs(SHOTS, exist_ok=True)

# --- the vendored chart library is the one the lock file names ---------------
with open(os.path.join(ROOT, "services", "webd", "www-src", "package-lock.json")) as f:
    lock = json.load(f)
with open(os.path.join(ROOT, "services", "webd", "www-src", "package.json")) as f:
    pkg = json.load(f)
want = lock["packages"]["node_modules/uplot"]["version"]
with open(os.path.join(WWW, "vendor", "uPlot.iife.min.js")) as f:
    head = f.read(200)
m = re.search(r"\(v(\d+\.\d+\.\d+)\)", head)
check(m and m.group(1) == want, "vendored uPlot %s is the lock file's %s" % (m and m.group(1), want))
check(pkg["dependencies"]["uplot"] == want, "package.json pins uplot exactly (%s)" %
      pkg["dependencies"]["uplot"])

# --- the stack ----------------------------------------------------------------
d = tmpdir()
cfg = os.path.join(d, "site.json")
P = pg()
# wm1 in real time: a block of string 1 stops answering at t = 60 s, by which
# time the pages are open (the test checks it was). wm2 at 30x: a 10 min
# discharge of every string from t = 30 s (real 1 s to 21 s).
scen1 = os.path.join(d, "wm1.json")
with open(scen1, "w") as f:
    json.dump({"name": "webd-lost", "events": [
        {"at_s": 60, "type": "module_lost", "string": 1, "block": 3}]}, f)
scen2 = os.path.join(d, "wm2.json")
with open(scen2, "w") as f:
    json.dump({"name": "webd-discharge", "events": [
        {"at_s": 30, "type": "discharge", "string": 0, "current_a": 25, "duration_s": 600}]}, f)
s = site_full(cfg, d, [
    {"id": "wm1", "name": "UPS room A", "aux_units": 1,
     "thresholds": {"thermal_runaway": {"breaker_output": 1}}},
    # wm2's levels below what its discharge reaches: its blocks raise no
    # alarm, so the LED and the list are wm1's (only the discharge's info).
    {"id": "wm2", "name": "UPS room B",
     "thresholds": {"voltage_v": {"low_alarm": 10.5, "low_warn": 11.0}}}],
    P.dsn, name="Training Center Wettingen")
G1, G2 = s["gateways"]
A = s["services"]["alarmd"]
mb_port, snmp_port, web_port = free_port(), free_port(), free_port()
s["services"]["modbusd"] = {"listen": "127.0.0.1:%d" % mb_port}
s["services"]["snmpd"] = {"listen": "udp:127.0.0.1:%d" % snmp_port, "community": "public",
                          "source": "127.0.0.1", "state_dir": os.path.join(d, "snmpd-state")}
cert, key = os.path.join(d, "web.crt"), os.path.join(d, "web.key")
subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1", "-keyout", key, "-out", cert],
               check=True, capture_output=True)
ADMIN_PW = "initial-admin-pw"
with open(os.path.join(d, "admin.pw"), "w") as f:
    f.write(ADMIN_PW + "\n")
# webd reads the history as pg.sh's read-only webd_reader (password "webd"
# in a private test cluster).
dsn = dict(kv.split("=", 1) for kv in P.dsn.split())
with open(os.path.join(d, "pg-webd.pw"), "w") as f:
    f.write("webd\n")
s["services"]["webd"] = {
    "listen": "127.0.0.1:%d" % web_port, "tls": True, "cert_file": cert, "key_file": key,
    "www_dir": WWW, "users_file": os.path.join(d, "webd-users.json"),
    "initial_password_file": os.path.join(d, "admin.pw"),
    "history": {"host": dsn.get("host", "127.0.0.1"), "port": int(dsn.get("port", P.port)),
                "dbname": dsn.get("dbname", "ohmwatch"), "user": "webd_reader",
                "password_file": os.path.join(d, "pg-webd.pw")}}
with open(cfg, "w") as f:
    json.dump(s, f, indent=2)

AL = Listener(A["publish"], replay=A["replay"])
LOGS = {}


def daemon(name, args):
    """A daemon of the stack, its log in d (printed when the test fails)."""
    LOGS[name] = os.path.join(d, name + ".log")
    return start(args, stdout=subprocess.DEVNULL, stderr=open(LOGS[name], "w"))


historian = daemon("historian", [HISTORIAN, "-f", cfg])
alarmd = daemon("alarmd", [ALARMD, "-f", cfg])
T0 = time.time()  # wm1's simulated time 0 (its scenario's at_s), near enough
busd1 = daemon("busd-wm1", [BUSD, "-f", cfg, "-g", "wm1", "-S", scen1, "-s", "1"])
busd2 = daemon("busd-wm2", [BUSD, "-f", cfg, "-g", "wm2", "-S", scen2, "-s", "30"])
modbusd = daemon("modbusd", [MODBUSD, "-f", cfg])
snmpd = daemon("snmpd", [SNMPD, "-f", cfg])
webd = daemon("webd", [WEBD, "-f", cfg])
check(wait_for(lambda: tcp_listening(web_port), 15), "webd listens on %d" % web_port)
check(wait_for(lambda: tcp_listening(mb_port), 15), "modbusd listens")
BASE = "https://127.0.0.1:%d" % web_port

# --- the browser ----------------------------------------------------------------
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

opts = webdriver.ChromeOptions()
opts.binary_location = "/usr/bin/chromium"
for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
          "--disable-component-update", "--no-first-run", "--ignore-certificate-errors",
          "--user-data-dir=" + tempfile.mkdtemp(prefix="owchrome-"), "--window-size=1366,768",
          "--lang=en-GB"):
    opts.add_argument(a)
opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
drv = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)


def by_id(i):
    return drv.find_element(By.ID, i)


def css(sel):
    return drv.find_elements(By.CSS_SELECTOR, sel)


def js(src, *args):
    return drv.execute_script(src, *args)


def until(pred, timeout=10, what=""):
    def safe():
        try:
            return pred()
        except (StaleElementReferenceException, IndexError, KeyError):
            return False
    ok = wait_for(safe, timeout, 0.05)
    if not ok and what:
        shot("fail-" + re.sub(r"\W+", "-", what)[:40])
    return check(ok, what) if what else ok


def shot(name):
    drv.save_screenshot(os.path.join(SHOTS, name + ".png"))


def typein(el, text):
    el.clear()
    el.send_keys(text)


def login(user, pw, new_pw=None):
    """Log in; with new_pw, the forced first-login change must come first."""
    drv.get(BASE + "/#/login")
    until(lambda: css("#login-user"), 10, "login page for %s" % user)
    typein(by_id("login-user"), user)
    typein(by_id("login-password"), pw)
    by_id("login-submit").click()
    if new_pw:
        until(lambda: css("#pw-new"), 10, "%s: first login forces a new password" % user)
        check(not by_id("hdr").is_displayed(), "%s: nothing but the password page yet" % user)
        typein(by_id("pw-old"), pw)
        typein(by_id("pw-new"), new_pw)
        typein(by_id("pw-repeat"), new_pw)
        by_id("pw-submit").click()
    until(lambda: css("[data-addr][data-gw] .v"), 15, "%s: the dashboard after login" % user)


def logout():
    by_id("logout").click()
    until(lambda: css("#login-user"), 10, "logged out")


def led():
    return by_id("led").get_attribute("class")


# The first login: the initial password works once, for the change only.
login("admin", ADMIN_PW, "admin-password-2")
me = js("return fetch('/api/me').then(r => r.json())")
check(me.get("must_change") is False, "after the change must_change is false: %r" % me)
shot("dashboard-admin")

# Users through the admin's page: an operator, a viewer, an engineer with the
# breaker role (each gets an initial password to change).
drv.get(BASE + "/#/users")
until(lambda: css("#nu-user"), 10, "users page")
for name, roles in (("olga", ["operator"]), ("vera", []), ("eddie", ["engineer", "breaker"])):
    typein(by_id("nu-user"), name)
    typein(by_id("nu-password"), "init-" + name + "-pw")
    for box in css("fieldset.roles input[type=checkbox]"):
        if box.is_enabled() and (box.get_attribute("value") in roles) != box.is_selected():
            box.click()
    by_id("nu-user").submit()
    until(lambda: css('#users-body tr[data-user="%s"]' % name), 10, "user %s created" % name)
logout()

# --- the viewer: dashboard == Modbus, the scenario's alarm, a refused ack ------
login("vera", "init-vera-pw", "vera-password-2")
from pymodbus.client import ModbusTcpClient



def regs(first, n):
    """Holding registers of unit 1 (wm1), a fresh connection each time
    (modbusd drops an idle client)."""
    mbc = ModbusTcpClient("127.0.0.1", port=mb_port)
    try:
        return _regs(mbc, first, n) if mbc.connect() else None
    finally:
        mbc.close()


def _regs(mbc, first, n):
    out = []
    while n > 0:
        k = min(n, 125)
        rr = mbc.read_holding_registers(first, k, slave=1)
        if rr.isError():
            return None
        out += rr.registers
        first += k
        n -= k
    return out


PAGE = """const out = {t: document.getElementById('dash-updated').dataset.tUs, cells: {}};
for (const el of document.querySelectorAll('[data-gw="wm1"][data-addr]'))
  out.cells[el.dataset.addr] = ['v', 't', 'ri', 'eq', 'st'].map(c => el.querySelector('.' + c).textContent);
return out;"""
site_js = js("return fetch('/api/site').then(r => r.json())")
gw1 = [g for g in site_js["gateways"] if g["id"] == "wm1"][0]
addrs = [a for st in gw1["strings"] for a in st["modules"]]
check(len(css('[data-gw="wm1"][data-addr]')) == len(addrs) == gw1["nmodules"],
      "every block of wm1 on the dashboard (%d)" % len(addrs))


def same_cycle():
    """The page's cells and modbusd's registers of one busd poll cycle: the
    page read, the registers read, the page read again showing the same
    reading (t_us) as the first time."""
    a = js(PAGE)
    r = regs(1060, 5 * max(addrs))
    b = js(PAGE)
    if not a["t"] or a["t"] != b["t"] or a["cells"] != b["cells"] or r is None:
        return None
    return a, r


def cmp_cells(a, r):
    bad = []
    for addr in addrs:
        v, t, ri, eq, st = a["cells"][str(addr)]
        base = 5 * (addr - 1)
        rt, rv, rri, rflags, req = r[base:base + 5]
        if rv == 0x8000:  # no reading: the page must say so, not show a value
            if not (v == "—" and st == "no answer"):
                bad.append((addr, "no reading", v, st))
            continue
        req = req - 65536 if req >= 32768 else req
        ok = (round(float(v) * 1000) == rv and abs(float(t) - (rt - 78) / 2) <= 0.26 and
              round(float(ri) * 100) == rri and int(eq) == req)
        if not ok:
            bad.append((addr, (v, t, ri, eq), (rv, rt, rri, req)))
    return bad


pair = None
for _ in range(40):  # a cycle can land between the reads; the next one will not
    pair = same_cycle()
    if pair and not cmp_cells(*pair):
        break
    time.sleep(0.2)
check(pair is not None and not cmp_cells(*pair),
      "every block's Volt/Temp/Ri/Equalize equals the Modbus registers of the same cycle: %r" %
      (cmp_cells(*pair)[:4] if pair else "no steady pair"))
shot("dashboard")
# 1366x768 (the control room) and a phone: nothing wider than the window.
OVER = "return document.documentElement.scrollWidth - window.innerWidth"
check(js(OVER) <= 0, "1366x768: no horizontal scrolling (%d px over)" % js(OVER))
drv.set_window_size(390, 844)
until(lambda: js("return window.innerWidth") < 500, 5, "phone-sized window")
check(js(OVER) <= 0, "phone: no horizontal scrolling (%d px over)" % js(OVER))
check(by_id("nav-toggle").is_displayed() and not by_id("nav").is_displayed(),
      "phone: the menu behind its button")
by_id("nav-toggle").click()
until(lambda: by_id("nav").is_displayed(), 3, "phone: the menu opens")
by_id("nav-toggle").click()
shot("dashboard-phone")
drv.set_window_size(1366, 768)
until(lambda: js("return window.innerWidth") > 1000, 5, "back to 1366x768")
# The compact grid (a 512-block gateway's layout) shows the same cells.
by_id("view-grid").click()
until(lambda: len(css('.tile[data-gw="wm1"][data-addr]')) == len(addrs), 5, "compact grid: every block")
g = js(PAGE)
check(g["t"] and all(len(c) == 5 for c in g["cells"].values()), "compact tiles carry .v .t .ri .eq .st")
shot("dashboard-compact")
by_id("view-table").click()
until(lambda: len(css('tr[data-gw="wm1"][data-addr]')) == len(addrs), 5, "back to the table")

# The scenario's alarm: module 3 of wm1 stops answering at t = 60 s. The
# viewer waits on the alarm page; one script polls in the page itself (no
# WebDriver round trip per look) for the alarm's row and the red LED.
drv.get(BASE + "/#/alarms")
row = '#alarms-body tr[data-gw="wm1"][data-code="1"]'
until(lambda: css("#alarms-table"), 5, "the alarm page")
print("alarm page open %.1f s after wm1's busd started (its alarm is due at 60 s)" %
      (time.time() - T0))
check(not [a for a in AL.alarms("raise") if a.get("gw") == "wm1" and a["type"] == 1],
      "the page was open before the scenario's alarm was raised")
check("led-red" not in led(), "no alarm sounding before the scenario's: %s (%s)" %
      (led(), by_id("alarm-count").text))
js("""window.__ow = {}; const sel = arguments[0];
const iv = setInterval(() => {
  if (!window.__ow.row && document.querySelector(sel)) window.__ow.row = performance.now();
  if (!window.__ow.led && document.getElementById('led').classList.contains('led-red')) window.__ow.led = performance.now();
  if (window.__ow.row && window.__ow.led) clearInterval(iv);
}, 10);""", row)
# The page's clock against the test's: performance.now() - time.time(), from
# a call of a few ms (the error of the latency measured below).
t1 = time.time()
pnow = js("return performance.now()")
off = pnow - (t1 + time.time()) / 2 * 1000
check(wait_for(lambda: any(a.get("gw") == "wm1" and a["type"] == 1 for a in AL.alarms("raise")),
               120, 0.01), "alarmd raises module lost (1) for wm1")
t_raise = time.time() * 1000 + off  # when the test had alarmd's raise, on the page's clock
wait_for(lambda: len(js("return window.__ow") or {}) == 2, 5, 0.05)
seen = js("return window.__ow") or {}
lat = {k: round(v - t_raise) for k, v in seen.items()}
print("on the page after alarmd's raise (ms): row %s, LED red %s" % (lat.get("row"), lat.get("led")))
check("row" in lat and lat["row"] <= 2000,
      "the alarm listed on the page within 2 s of alarmd, without a reload: %r" % lat)
check("led" in lat and lat["led"] <= 2000, "the LED red within 2 s of alarmd: %r" % lat)
css(row + " button.ack-one")[0].click()
until(lambda: "403" in by_id("alarms-msg").text, 5, "viewer's acknowledge refused by the server (403)")
print("viewer sees: %s" % by_id("alarms-msg").text)
check("led-red" in led(), "still sounding after the viewer's attempt")
shot("alarms-viewer-refused")
drv.get(BASE + "/#/dash/wm1")
until(lambda: js(PAGE)["cells"]["3"][4] == "no answer", 5, "block 3 shows 'no answer'")
check(js(PAGE)["cells"]["3"][0] == "—", "block 3: no stale voltage")
shot("dashboard-no-answer")
logout()

# --- the operator: Acknowledge all, through the dialog ----------------------------
login("olga", "init-olga-pw", "olga-password-2")
drv.get(BASE + "/#/alarms")
until(lambda: css(row), 5, "operator sees the alarm")
from selenium.webdriver.common.keys import Keys
# By keyboard first: Escape cancels (and nothing is acknowledged); the
# focus starts on Cancel, so a stray Enter cannot acknowledge everything.
by_id("ack-all").click()
until(lambda: by_id("confirm").get_attribute("open") is not None, 3, "the confirmation dialog")
check(drv.switch_to.active_element.get_attribute("id") == "confirm-cancel",
      "the dialog's focus is on Cancel")
drv.switch_to.active_element.send_keys(Keys.ESCAPE)
until(lambda: by_id("confirm").get_attribute("open") is None, 3, "Escape closes the dialog")
time.sleep(0.5)  # an acknowledgement, had one been sent, would be back by now
check("led-red" in led() and css(row + " button.ack-one"), "Escape acknowledged nothing")
by_id("ack-all").click()
until(lambda: by_id("confirm").get_attribute("open") is not None, 3, "the confirmation dialog again")
shot("alarms-confirm")
check("led-red" in led(), "nothing acknowledged before the dialog's OK")
by_id("confirm-ok").click()
until(lambda: "led-yellow" in led(), 5, "after Acknowledge all the LED turns yellow")
check(by_id("led").text.strip() == "Alarm muted", "the LED says so in words: %r" % by_id("led").text)
shot("alarms")
logout()

# --- the engineer: thresholds, then the breaker ------------------------------------
login("eddie", "init-eddie-pw", "eddie-password-2")
drv.get(BASE + "/#/thresholds")
until(lambda: css("#th-temp_c_high_warn"), 10, "thresholds page")
check("INCORRECT ALARM SETTINGS" in drv.find_element(By.CSS_SELECTOR, ".caution").text,
      "the guide's caution")
typein(by_id("th-temp_c_high_warn"), "40")  # above high_alarm 35: alarmd refuses
by_id("th-apply").click()
err = '.field[data-key$="temp_c.high_warn"] .field-error'
until(lambda: css(err) and css(err)[0].text, 5, "a refusal beside the field")
reason = css(err)[0].text
print("alarmd's reason beside the field: %s" % reason)
check("high_alarm" in reason or "35" in reason, "the reason is alarmd's: %r" % reason)
js("arguments[0].scrollIntoView({block: 'center'})", css(err)[0])
shot("thresholds-refused")


def snmp_hw():
    r = subprocess.run(["snmpget", "-On", "-Oqv", "-v2c", "-c", "public", "-t", "2", "-r", "1",
                        "127.0.0.1:%d" % snmp_port, "1.3.6.1.2.1.33.5.1.17.0"],
                       capture_output=True, text=True, env=dict(os.environ, MIBS=""))
    return r.stdout.strip()


check(snmp_hw() == "300", "SNMP temperature high warning 30.0 degC before: %r" % snmp_hw())
typein(by_id("th-temp_c_high_warn"), "32")
by_id("th-apply").click()
until(lambda: css('.field[data-key$="temp_c.high_warn"] .field-ok'), 5, "32 applied")
check(wait_for(lambda: snmp_hw() == "320", 5), "SNMP reads the new 32.0 degC: %r" % snmp_hw())

drv.get(BASE + "/#/outputs")
until(lambda: css('#out-body tr[data-output="1"] button.out-arm'), 10, "outputs page")
check(regs(3666, 1) == [0], "output 1 off before")
css('#out-body tr[data-output="1"] button.out-arm')[0].click()
until(lambda: css("#out-confirm"), 5, "armed: the confirm step")
check(int(by_id("out-countdown").text) <= 30, "a countdown: %s s" % by_id("out-countdown").text)
time.sleep(1.5)  # armed for a while: still nothing switched
check(regs(3666, 1) == [0], "armed only: output 1 still off (Modbus 3666)")
shot("outputs-armed")
by_id("out-confirm").click()
check(wait_for(lambda: regs(3666, 1) == [1], 5), "confirmed: output 1 on (Modbus 3666)")
until(lambda: "ON" in css('#out-body tr[data-output="1"] .out-state')[0].text, 10, "the page shows ON")

# --- a discharge's curves (wm2) ---------------------------------------------------
check(wait_for(lambda: any(x.get("gw") == "wm2" and x["action"] == "end"
                           for x in AL.kind("discharge")), 60), "wm2's discharge ended")
Select(by_id("gw-select")).select_by_value("wm2")
drv.get(BASE + "/#/history")
until(lambda: int(by_id("chart-discharge").get_attribute("data-points") or 0) > 0, 30,
      "the discharge chart has its points")
pts = int(by_id("chart-discharge").get_attribute("data-points"))
ser = int(by_id("chart-discharge").get_attribute("data-series"))
gw2 = [g for g in site_js["gateways"] if g["id"] == "wm2"][0]
print("discharge chart: %d series, %d points, weakest %s" %
      (ser, pts, by_id("chart-discharge").get_attribute("data-weakest")))
check(ser == len(gw2["strings"][0]["modules"]) or ser == gw2["nmodules"],
      "a curve per block of the string (%d)" % ser)
check(pts >= ser * 3, "several points per curve (%d for %d series)" % (pts, ser))
check(by_id("chart-discharge").get_attribute("data-weakest") != "", "a weakest block named")
js("document.getElementById('dis-table').closest('section').scrollIntoView()")
shot("discharge")
# The block readings of the same gateway (the rollups), block 1's voltage.
until(lambda: int(by_id("chart-block").get_attribute("data-points") or 0) > 0, 10,
      "block readings chart has points")
print("block chart: %s points, bucket %s s" % (by_id("chart-block").get_attribute("data-points"),
                                              by_id("chart-block").get_attribute("data-bucket-s")))
js("window.scrollTo(0, 0)")
shot("history")

logout()

# --- the admin: the audit log names the engineer; a backup checked for restore
login("admin", "admin-password-2")
drv.get(BASE + "/#/audit")
until(lambda: [r for r in css("#audit-body tr") if "webd/eddie" in r.text and
               "temp_c.high_warn" in r.text], 10, "the audit log: webd/eddie set temp_c.high_warn")
shot("audit")
drv.get(BASE + "/#/backup")
until(lambda: css("#backup-download"), 5, "backup page")
# The download as the browser would fetch it (the session's cookie), kept
# under the name webd gives it; then the page's restore check of that file.
import ssl
import urllib.request
cookie = "; ".join("%s=%s" % (c["name"], c["value"]) for c in drv.get_cookies())
req = urllib.request.Request(by_id("backup-download").get_attribute("href"),
                             headers={"Cookie": cookie, "Origin": BASE})
with urllib.request.urlopen(req, context=ssl._create_unverified_context(), timeout=10) as r:
    fname = re.search(r'filename="?([^";]+)', r.headers.get("Content-Disposition", ""))
    body = r.read()
check(fname and fname.group(1).startswith("backup-") and len(body) > 100,
      "backup download: %s, %d bytes" % (fname and fname.group(1), len(body)))
arch = os.path.join(d, fname.group(1) if fname else "backup-x.tar.gz")
with open(arch, "wb") as f:
    f.write(body)
by_id("restore-file").send_keys(arch)
by_id("restore-check").click()
until(lambda: "passed every check" in by_id("backup-msg").text, 15,
      "the page's restore check of the download passes: %r" % by_id("backup-msg").text)
check(not by_id("restore-apply").get_attribute("disabled"), "Restore offered only after the check")
found = by_id("restore-lines").text
check(found and "object Object" not in found, "restore's findings shown as text: %r" % found[:200])
shot("backup")

# Nothing the pages did broke the CSP or threw.
logs = [l for l in drv.get_log("browser") if l["level"] == "SEVERE" and
        ("Content Security Policy" in l["message"] or "Uncaught" in l["message"])]
check(not logs, "no CSP violation, no uncaught error: %r" % logs[:3])
drv.quit()
AL.close()
for p in (webd, snmpd, modbusd, busd2, busd1, alarmd, historian):
    stop(p)
import owtest
if owtest._failures:
    for name, path in LOGS.items():
        with open(path) as f:
            tail = f.read().splitlines()[-15:]
        print("--- %s (last lines)\n%s" % (name, "\n".join(tail)))
done("test_webd_browser")
