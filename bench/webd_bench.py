"""webd's benches (bench/webd_*.sh): a 512-module gateway (etc/site-large.json,
16 strings x 32 blocks, busd simulating at 1 poll/s) -> alarmd -> webd over
HTTPS on loopback, and one measurement with its reference from the same run:
  dashboard  headless Chromium (Debian's, through Selenium): from navigation
             to every module cell of the dashboard filled; reference: the
             same browser loading a static page of 512 filled cells
  sse        50 clients on /api/events for 30 s: webd's CPU % of one core
             from /proc/PID/stat, the events each client got; reference:
             webd with no client, and busd making the readings, same 30 s
  static     HTTPS requests/s of a static file (wrk, keep-alive) from webd
             and from nginx serving a file of the same size with the same
             certificate
Usage: webd_bench.py MODE [BUILD_DIR]"""
import json
import os
import shutil
import ssl
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODE = sys.argv[1]
os.environ["OW_BUILD"] = os.path.abspath(sys.argv[2] if len(sys.argv) > 2 else "build")
sys.path.insert(0, os.path.join(ROOT, "tests"))
from owtest import BUSD, CLI, ALARMD, alarmd_services, free_port, start, stop, wait_for  # noqa
import webdtest  # noqa

HZ = os.sysconf("SC_CLK_TCK")
d = tempfile.mkdtemp(prefix="ow-webd-bench-")
cfg = os.path.join(d, "site.json")
s = json.load(open(os.path.join(ROOT, "etc", "site-large.json")))
g = s["gateways"][0]
GW, NMOD = g["id"], sum(x["modules"] for x in g["strings"])
g["publish"], g["replay"] = ["tcp://127.0.0.1:%d" % free_port() for _ in range(2)]
g["poll_ms"] = 1000
g.setdefault("sim", {})["speed"] = 1
s["services"] = alarmd_services(d)
port = free_port()
s["services"]["webd"] = webdtest.webd_section(d, port, "initial-password-1")
if os.environ.get("OW_BENCH_WWW"):  # pages from elsewhere (a build of them under work)
    s["services"]["webd"]["www_dir"] = os.environ["OW_BENCH_WWW"]
crt = s["services"]["webd"]["cert_file"]
json.dump(s, open(cfg, "w"))
# The CURVE allow-list knows busd's endpoints by owtest's table only when
# owtest made the site; these are busd's.
import owtest  # noqa
owtest._EP_SERVER[g["publish"]] = owtest._EP_SERVER[g["replay"]] = "busd"

busd = start([BUSD, "-f", cfg], stderr=subprocess.DEVNULL)
alarmd = start([ALARMD, "-f", cfg], stderr=subprocess.DEVNULL)
webd = start([webdtest.WEBD, "-f", cfg], stderr=open(os.path.join(d, "webd.log"), "w"))


def up():
    try:
        return webdtest.Web(port, crt).get("/api/health")[0] == 200
    except OSError:
        return False


if not wait_for(up, 30, 0.2):
    sys.exit("webd did not come up (%s)" % open(os.path.join(d, "webd.log")).read()[-2000:])
NEWPW = "bench-password-2"
admin = webdtest.first_admin(port, "initial-password-1", NEWPW, crt)


def live_ready():
    st, m = admin.get("/api/live?gw=" + GW)
    return st == 200 and m and sum(1 for x in m["modules"] if x["v"] is not None) == NMOD


if not wait_for(live_ready, 30, 0.5):
    sys.exit("webd's model never had all %d modules" % NMOD)


def cpu_s(pid):
    """utime + stime of a process, s (fields 14 and 15 of /proc/PID/stat)."""
    with open("/proc/%d/stat" % pid) as f:
        f = f.read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / HZ


def cpu_pct(pid, t0, c0):
    return 100.0 * (cpu_s(pid) - c0) / (time.time() - t0)


def finish():
    for p in (webd, alarmd, busd):
        stop(p)
    shutil.rmtree(d, ignore_errors=True)


# ---------------------------------------------------------------- dashboard
def dashboard(runs=5):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    o = webdriver.ChromeOptions()
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
              "--ignore-certificate-errors", "--window-size=1366,768"):
        o.add_argument(a)
    o.binary_location = "/usr/bin/chromium"
    drv = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=o)
    drv.set_script_timeout(30)
    base = "https://127.0.0.1:%d/" % port
    # Log in through the page once: the session cookie stays in the browser.
    drv.get(base + "#/login")
    if not wait_for(lambda: drv.find_elements("id", "login-user"), 10, 0.05):
        print(drv.page_source[:1500], drv.get_log("browser")[-10:], file=sys.stderr)
    drv.find_element("id", "login-user").send_keys("admin")
    drv.find_element("id", "login-password").send_keys(NEWPW)
    drv.find_element("id", "login-submit").click()
    wait_for(lambda: "login" not in drv.current_url, 10, 0.05)
    # Every cell's voltage a number: performance.now() is ms since the
    # navigation started (the document's time origin).
    filled = """
const done = arguments[arguments.length - 1], n = arguments[0];
function full() {
  const v = document.querySelectorAll('[data-addr] .v');
  let k = 0;
  for (const e of v) if (/^-?[0-9]/.test(e.textContent)) k++;
  return k >= n;
}
(function poll() { if (full()) done(performance.now()); else requestAnimationFrame(poll); })();
"""
    times = []
    for i in range(runs):
        drv.get("about:blank")
        drv.get(base + "#/dash/" + GW)
        times.append(drv.execute_async_script(filled, NMOD))
    n = drv.execute_script("return document.querySelectorAll('[data-addr]').length")
    # Reference: the same browser, a static page of NMOD filled cells (no
    # script, no server): what rendering the table alone costs.
    ref = os.path.join(d, "ref.html")
    rows = "".join("<tr data-addr='%d'><td class='v'>13.5%02d</td><td>22.1</td><td>4.6</td>"
                   "<td>0</td><td>ok</td></tr>" % (a, a % 100) for a in range(1, NMOD + 1))
    open(ref, "w").write("<!doctype html><table>%s</table>" % rows)
    rtimes = []
    for i in range(runs):
        drv.get("about:blank")
        drv.get("file://" + ref)
        rtimes.append(drv.execute_async_script(filled, NMOD))
    drv.quit()
    times.sort()
    rtimes.sort()
    print("dashboard of %s (%d modules, %d cells on the page): every cell filled %.0f ms after "
          "navigation (median of %d; best %.0f, worst %.0f; target < 1000 ms)"
          % (GW, NMOD, n, times[len(times) // 2], runs, times[0], times[-1]))
    print("reference, same browser: a static page of %d filled cells %.0f ms (median)"
          % (NMOD, rtimes[len(rtimes) // 2]))
    return times[len(times) // 2] < 1000


# ---------------------------------------------------------------- sse
def sse(nclients=50, secs=30):
    ctx = ssl.create_default_context(cafile=crt)
    stop_ev = threading.Event()
    counts = [0] * nclients
    nbytes = [0] * nclients
    import http.client

    def client(i, cookie):
        c = http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=10)
        c.request("GET", "/api/events", headers={"Cookie": cookie, "Accept": "text/event-stream"})
        r = c.getresponse()
        if r.status != 200:
            print("client %d: %d" % (i, r.status), file=sys.stderr)
            return
        while not stop_ev.is_set():
            line = r.fp.readline()
            if not line:
                break
            nbytes[i] += len(line)
            if line.startswith(b"event: gw"):
                counts[i] += 1
        c.close()

    # Reference first: webd with no client for the same time.
    t0, c0, b0 = time.time(), cpu_s(webd.pid), cpu_s(busd.pid)
    time.sleep(secs)
    idle = cpu_pct(webd.pid, t0, c0)
    busd_pct = cpu_pct(busd.pid, t0, b0)
    # Each client its own session, as 50 browsers are.
    cookies = []
    for i in range(nclients):
        w = webdtest.Web(port, crt)
        w.login("admin", NEWPW)
        cookies.append(w.cookie)
    th = [threading.Thread(target=client, args=(i, cookies[i]), daemon=True)
          for i in range(nclients)]
    for t in th:
        t.start()
    time.sleep(3)  # every stream open and past its first model
    base = list(counts)
    t0, c0 = time.time(), cpu_s(webd.pid)
    time.sleep(secs)
    pct = cpu_pct(webd.pid, t0, c0)
    got = [counts[i] - base[i] for i in range(nclients)]
    stop_ev.set()
    print("%d SSE clients on %s (%d modules, 1 poll/s), %d s: webd %.1f %% of one core "
          "(target < 10 %%); 'gw' events per client min %d max %d (%.1f/s), %.1f MB sent in all"
          % (nclients, GW, NMOD, secs, pct, min(got), max(got), min(got) / secs,
             sum(nbytes) / 1e6))
    print("reference, same run: webd with no client %.1f %%, busd simulating the gateway %.1f %%"
          % (idle, busd_pct))
    return pct < 10


# ---------------------------------------------------------------- static
def static(secs=10, conns=16):
    if not shutil.which("wrk"):
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True,
                       stdout=subprocess.DEVNULL)
    path = "/vendor/uPlot.iife.min.js"
    size = os.path.getsize(os.path.join(webdtest.WWW, path.lstrip("/")))
    ngx = os.path.join(d, "nginx")
    os.makedirs(os.path.join(ngx, "www", "vendor"))
    with open(os.path.join(ngx, "www", "vendor", "uPlot.iife.min.js"), "wb") as f:
        f.write(os.urandom(size))  # the same size; content does not matter to either
    # nginx's worker runs as nobody: it reads the file through these dirs.
    for p in (d, ngx, os.path.join(ngx, "www"), os.path.join(ngx, "www", "vendor")):
        os.chmod(p, 0o755)
    os.chmod(os.path.join(ngx, "www", "vendor", "uPlot.iife.min.js"), 0o644)
    nport = free_port()
    key = s["services"]["webd"]["key_file"]
    open(os.path.join(ngx, "nginx.conf"), "w").write("""
daemon off; worker_processes 1; pid %(d)s/nginx.pid; error_log %(d)s/error.log;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path %(d)s; proxy_temp_path %(d)s; fastcgi_temp_path %(d)s;
  uwsgi_temp_path %(d)s; scgi_temp_path %(d)s;
  server {
    listen 127.0.0.1:%(p)d ssl;
    ssl_certificate %(crt)s; ssl_certificate_key %(key)s;
    ssl_protocols TLSv1.3;
    root %(d)s/www;
  }
}
""" % {"d": ngx, "p": nport, "crt": crt, "key": key})
    t = subprocess.run(["/usr/sbin/nginx", "-t", "-c", os.path.join(ngx, "nginx.conf")],
                       capture_output=True, text=True)
    if t.returncode != 0:
        sys.exit("nginx refuses its configuration: " + t.stderr)
    nginx = start(["/usr/sbin/nginx", "-c", os.path.join(ngx, "nginx.conf")],
                  stderr=subprocess.DEVNULL)
    if not wait_for(lambda: owtest.tcp_listening(nport), 10, 0.1):
        sys.exit("nginx did not listen on %d" % nport)

    def wrk(p):
        r = subprocess.run(["wrk", "-t2", "-c%d" % conns, "-d%ds" % secs,
                            "https://127.0.0.1:%d%s" % (p, path)], capture_output=True, text=True)
        rps = [ln.split()[1] for ln in r.stdout.splitlines() if ln.startswith("Requests/sec")]
        errs = [ln.strip() for ln in r.stdout.splitlines() if "Non-2xx" in ln or "errors" in ln]
        return float(rps[0]) if rps else 0.0, errs

    w_rps, w_err = wrk(port)
    n_rps, n_err = wrk(nport)
    stop(nginx)
    print("HTTPS GET %s (%d bytes), wrk 2 threads x %d connections, %d s, keep-alive: "
          "webd %.0f requests/s%s" % (path, size, conns, secs, w_rps,
                                      (" (" + "; ".join(w_err) + ")") if w_err else ""))
    print("reference, same run: nginx %s (1 worker, TLS 1.3, same certificate) %.0f "
          "requests/s%s; webd/nginx = %.2f" % (
              subprocess.run(["/usr/sbin/nginx", "-v"], capture_output=True,
                             text=True).stderr.strip().split("/")[-1], n_rps,
              (" (" + "; ".join(n_err) + ")") if n_err else "", w_rps / n_rps if n_rps else 0))
    return True


try:
    ok = {"dashboard": dashboard, "sse": sse, "static": static}[MODE]()
finally:
    finish()
sys.exit(0 if ok else 1)
