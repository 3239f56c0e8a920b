"""webd's security (issue 18, docs/web.md), against a real ohmwatch-webd on
loopback over TLS with a certificate made here: no session, a forged cookie
and an expired-by-logout session get 401; a POST without the CSRF token or
from another origin 403; a viewer on an admin route 403 naming the role;
the first login with the initial password can do nothing but change it; 5
wrong passwords lock the name and the address (429 with retry_after_s, the
right password refused too); the security headers on pages and API; a path
out of www_dir, an oversize body and bad JSON refused (400 naming the
line, 413); the users file 0600 without a password in it; and no password
used here ever in webd's log, whose stop line counts every refusal."""
import http.client
import json
import os
import re
import socket
import ssl
import subprocess
import time

from owtest import *

WEBD = os.path.join(BUILD, "services", "webd", "ohmwatch-webd")
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
INITIAL = "initial-Pw-7c1e"
NEW = "second-Pw-55aa1"
VIC = "viewer-Pw-0x42z"
VIC2 = "viewer-Pw-0x43y"
WRONG = "wrong-Pw-%d-zzq"
PASSWORDS = [INITIAL, NEW, VIC, VIC2] + [WRONG % i for i in range(8)]

d = tmpdir()
cert, key = os.path.join(d, "cert.pem"), os.path.join(d, "key.pem")
subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", cert,
                "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
               check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
www = os.path.join(d, "www")
os.makedirs(os.path.join(www, "js"))
with open(os.path.join(www, "index.html"), "w") as f:
    f.write("<!doctype html><title>ohmwatch</title>\n")
with open(os.path.join(www, "js", "app.js"), "w") as f:
    f.write("export const x = 1;\n")
with open(os.path.join(d, "secret.txt"), "w") as f:
    f.write("outside www\n")
with open(os.path.join(d, "admin.pw"), "w") as f:
    f.write(INITIAL + "\n")
users = os.path.join(d, "users.json")
cfg = os.path.join(d, "site.json")
s = site(cfg, [{"id": "wm1"}])
port = free_port()
s["services"]["webd"] = {"listen": "127.0.0.1:%d" % port, "cert_file": cert, "key_file": key,
                         "www_dir": www, "users_file": users,
                         "initial_password_file": os.path.join(d, "admin.pw")}
with open(cfg, "w") as f:
    json.dump(s, f)

r = subprocess.run([WEBD, "-n", "-f", cfg], capture_output=True, text=True)
check(r.returncode == 0 and "configuration OK" in r.stdout, "webd -n: %r" % (r.stdout + r.stderr))



def site_with(**webd_keys):
    """A copy of the site with services.webd changed; its path."""
    s2 = json.loads(json.dumps(s))
    s2["services"]["webd"].update(webd_keys)
    for k in [k for k, v in webd_keys.items() if v is None]:
        del s2["services"]["webd"][k]
    path = os.path.join(d, "site-%d.json" % free_port())
    with open(path, "w") as f:
        json.dump(s2, f)
    return path


def refused(path, env=None):
    """(exit code, stderr) of a webd that should not start."""
    p = subprocess.run([WEBD, "-f", path], capture_output=True, timeout=30,
                       env=dict(os.environ, **(env or {})))
    return p.returncode, p.stderr.decode(errors="replace")


# Refusals at start, each naming what to fix.
empty = os.path.join(d, "no-credentials")
os.makedirs(empty)
rc, err = refused(site_with(users_file=os.path.join(d, "u1.json"), initial_password_file=None),
                  {"CREDENTIALS_DIRECTORY": empty})
check(rc == 1 and "no initial admin password" in err and "webd.admin_password" in err,
      "no initial password: %d %r" % (rc, err[-300:]))
bad_users = os.path.join(d, "bad-users.json")
with open(bad_users, "w") as f:
    f.write('[{"name": "admin", "hash": "$argon2id$x", "roles": ["root"]}]')
rc, err = refused(site_with(users_file=bad_users))
check(rc == 1 and bad_users + ": [0].roles[0]: not a role" in err, "bad users file: %r" % err[-300:])
rc, err = refused(site_with(key_file=cert, users_file=os.path.join(d, "u2.json")))
check(rc == 1 and "services.webd.listen: cannot serve" in err and "PEM" in err,
      "certificate as key: %r" % err[-300:])
check(not os.path.exists(os.path.join(d, "u1.json")), "no users file made without a password")

# The initial password as a systemd credential.
creds = os.path.join(d, "credentials")
os.makedirs(creds)
with open(os.path.join(creds, "webd.admin_password"), "w") as f:
    f.write(NEW + "\n")
cport = free_port()
# And plain HTTP, the explicit choice: warned, no HSTS, the cookie still Secure.
cred_site = site_with(listen="127.0.0.1:%d" % cport, users_file=os.path.join(d, "u3.json"),
                      initial_password_file=None, tls=False, cert_file=None, key_file=None)
plog = os.path.join(d, "plain.log")
p = start([WEBD, "-f", cred_site], stderr=open(plog, "w"),
          env=dict(os.environ, CREDENTIALS_DIRECTORY=creds))
check(wait_for(lambda: tcp_listening(cport), 20), "webd with a credential listens")
hc = http.client.HTTPConnection("127.0.0.1", cport, timeout=20)
hc.request("POST", "/api/login", body=json.dumps({"user": "admin", "password": NEW}),
           headers={"Content-Type": "application/json"})
hr = hc.getresponse()
hr.read()
check(hr.status == 200 and hr.getheader("Strict-Transport-Security") is None and
      "; Secure;" in (hr.getheader("Set-Cookie") or ""), "plain HTTP login: %d %r" % (
          hr.status, hr.getheaders()))
hc.close()
# Behind its TLS proxy the browser's Origin is https://, the Host the same.
ptok = re.search(r"ow_session=([^;]+)", hr.getheader("Set-Cookie") or "")
hc = http.client.HTTPConnection("127.0.0.1", cport, timeout=20)
hc.request("GET", "/api/me", headers={"Cookie": "ow_session=" + (ptok.group(1) if ptok else "")})
pme = hc.getresponse()
pcsrf = json.loads(pme.read() or b"{}").get("csrf", "")
for origin, want in (("https://127.0.0.1:%d" % cport, 200), ("http://127.0.0.1:%d" % cport, 200),
                     ("https://evil.example", 403)):
    hc.request("POST", "/api/password", body=json.dumps({"old": NEW, "new": NEW + "x"}),
               headers={"Content-Type": "application/json", "Origin": origin,
                        "Cookie": "ow_session=" + (ptok.group(1) if ptok else ""),
                        "X-CSRF-Token": pcsrf})
    pr = hc.getresponse()
    body = json.loads(pr.read() or b"{}")
    # 200 only once (the password then is NEW + "x"): the second is refused
    # by the old password, after the origin check, with 403 naming "old".
    ok = (pr.status == 200 if want == 200 else "cross-origin" in body.get("error", ""))
    if origin.startswith("http://"):
        ok = pr.status == 403 and body.get("field") == "old"
    check(ok, "plain HTTP, Origin %s: %d %r" % (origin, pr.status, body))
hc.close()
check(stop(p) == 0, "and stops")
with open(plog) as f:
    check("services.webd.tls is false: serving plain HTTP" in f.read(), "plain HTTP warned")
with open(os.path.join(d, "u3.json")) as f:
    check(json.load(f)[0]["name"] == "admin", "admin made from the credential")

log = os.path.join(d, "webd.log")
webd = start([WEBD, "-f", cfg], stderr=open(log, "w"))
check(wait_for(lambda: tcp_listening(port), 20), "webd listens on %d" % port)

CTX = ssl.create_default_context(cafile=cert)


def req(method, path, body=None, cookie=None, csrf=None, headers=None):
    """(status, headers with lower-case names, body) of one request."""
    c = http.client.HTTPSConnection("127.0.0.1", port, context=CTX, timeout=20)
    h = dict(headers or {})
    if cookie:
        h["Cookie"] = "ow_session=" + cookie
    if csrf:
        h["X-CSRF-Token"] = csrf
    if isinstance(body, (dict, list)):
        body = json.dumps(body)
        h.setdefault("Content-Type", "application/json")
    c.request(method, path, body=body, headers=h)
    resp = c.getresponse()
    out = (resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read())
    c.close()
    return out


def jbody(r):
    try:
        return json.loads(r[2])
    except ValueError:
        return {}


def raw(data):
    """The reply to raw bytes over TLS (paths http.client would clean up)."""
    sock = CTX.wrap_socket(socket.create_connection(("127.0.0.1", port), 10),
                           server_hostname="127.0.0.1")
    sock.sendall(data)
    out = b""
    while True:
        try:
            chunk = sock.recv(65536)
        except (ConnectionError, ssl.SSLError):
            break
        if not chunk:
            break
        out += chunk
    sock.close()
    return out


def login(user, password):
    r = req("POST", "/api/login", {"user": user, "password": password})
    m = re.match(r"ow_session=([A-Za-z0-9_-]{43}); Path=/; HttpOnly; Secure; SameSite=Strict$",
                 r[1].get("set-cookie", ""))
    return r, (m.group(1) if m else None)


# TLS 1.2 or later, the certificate verified.
with CTX.wrap_socket(socket.create_connection(("127.0.0.1", port), 10),
                     server_hostname="127.0.0.1") as t:
    check(t.version() in ("TLSv1.2", "TLSv1.3"), "TLS version %s" % t.version())

# The users file: created 0600 with admin, no password in it.
check(os.path.exists(users) and (os.stat(users).st_mode & 0o777) == 0o600,
      "users file 0600: %o" % (os.stat(users).st_mode & 0o777))
with open(users) as f:
    ufile = f.read()
u = json.loads(ufile)
check(len(u) == 1 and u[0]["name"] == "admin" and u[0]["must_change"] is True and
      u[0]["hash"].startswith("$argon2id$") and INITIAL not in ufile, "users file: %r" % u)

# No session, a forged one.
r = req("GET", "/api/me")
check(r[0] == 401 and jbody(r).get("error") == "not logged in", "no cookie: %r" % (r[:1],))
r = req("GET", "/api/me", cookie="A" * 43)
check(r[0] == 401, "forged cookie: %d" % r[0])
r = req("GET", "/api/me", headers={"Cookie": "ow_session=../../etc; other=1"})
check(r[0] == 401, "garbage cookie: %d" % r[0])
r = req("GET", "/api/nothing")
check(r[0] == 404, "unknown API: %d" % r[0])
r = req("GET", "/api/login")
check(r[0] == 405, "GET on a POST route: %d" % r[0])

# The first login: only me, password and logout until the password changes.
r, admin = login("admin", INITIAL)
me = jbody(r)
check(r[0] == 200 and admin and me.get("must_change") is True and
      me.get("roles") == ["viewer", "operator", "engineer", "breaker", "admin"],
      "first login: %r %r" % (r[0], me))
csrf = me.get("csrf", "")
check(len(csrf) == 32, "csrf token: %r" % csrf)
r = req("GET", "/api/users", cookie=admin)
check(r[0] == 403 and jbody(r).get("error") == "password change required",
      "must_change: users %r" % (r[:1],))
r = req("GET", "/api/events", cookie=admin)
check(r[0] == 403, "must_change: events %d" % r[0])
r = req("GET", "/api/me", cookie=admin)
check(r[0] == 200 and jbody(r).get("user") == "admin", "must_change: me %d" % r[0])

# CSRF: none, a wrong one, the other session's; then the change.
r = req("POST", "/api/password", {"old": INITIAL, "new": NEW}, cookie=admin)
check(r[0] == 403 and "CSRF" in jbody(r).get("error", ""), "no CSRF: %r" % (r[:1],))
r = req("POST", "/api/password", {"old": INITIAL, "new": NEW}, cookie=admin,
        csrf=csrf[:-1] + ("x" if csrf[-1:] != "x" else "y"))
check(r[0] == 403, "wrong CSRF: %d" % r[0])
r = req("POST", "/api/password", {"old": INITIAL, "new": "short"}, cookie=admin, csrf=csrf)
check(r[0] == 422 and jbody(r).get("field") == "new", "short password: %r" % (r[:1],))
r = req("POST", "/api/password", {"old": INITIAL, "new": NEW}, cookie=admin, csrf=csrf,
        headers={"Origin": "https://evil.example"})
check(r[0] == 403 and "cross-origin" in jbody(r).get("error", ""), "cross-origin: %d" % r[0])
r = req("POST", "/api/password", {"old": INITIAL, "new": NEW}, cookie=admin, csrf=csrf,
        headers={"Origin": "https://127.0.0.1:%d" % port})
check(r[0] == 200, "password changed: %r" % (r[:1],))
r = req("GET", "/api/users", cookie=admin)
check(r[0] == 200 and [x["name"] for x in jbody(r).get("users", [])] == ["admin"],
      "users after the change: %r" % (r[:1],))

# A viewer: created by admin, its own first change, then refused admin's routes.
r = req("POST", "/api/users", {"user": "vic", "roles": ["viewer"], "password": VIC},
        cookie=admin, csrf=csrf)
check(r[0] == 200, "create vic: %r" % (r[:1],))
r, vic = login("vic", VIC)
vcsrf = jbody(r).get("csrf", "")
check(r[0] == 200 and jbody(r).get("roles") == ["viewer"] and jbody(r).get("must_change"),
      "vic logs in: %r" % (jbody(r),))
r = req("POST", "/api/password", {"old": VIC, "new": VIC2}, cookie=vic, csrf=vcsrf)
check(r[0] == 200, "vic's change: %d" % r[0])
r = req("GET", "/api/users", cookie=vic)
check(r[0] == 403 and jbody(r).get("error") == "needs role admin", "vic on users: %r" % (r[:1],))
r = req("POST", "/api/users", {"user": "vic", "roles": ["admin"]}, cookie=vic, csrf=vcsrf)
check(r[0] == 403 and jbody(r).get("error") == "needs role admin", "vic makes itself admin")
r = req("POST", "/api/thresholds", {"gw": "wm1", "key": "thresholds.voltage_v.high_alarm",
                                   "value": 2.4}, cookie=vic, csrf=vcsrf)
check(r[0] == 403 and jbody(r).get("error") == "needs role engineer",
      "vic on an engineer route: %r" % (r[:1],))
# Another session's CSRF token is no good.
r = req("POST", "/api/users", {"user": "x", "roles": [], "password": VIC}, cookie=admin, csrf=vcsrf)
check(r[0] == 403 and "CSRF" in jbody(r).get("error", ""), "vic's token on admin's session")
# The last admin.
r = req("POST", "/api/users/delete", {"user": "admin"}, cookie=admin, csrf=csrf)
check(r[0] == 422, "delete yourself: %d" % r[0])
r = req("POST", "/api/users", {"user": "admin", "roles": ["viewer"]}, cookie=admin, csrf=csrf)
check(r[0] == 409 and "last admin" in jbody(r).get("error", ""), "last admin: %r" % (r[:1],))

# The event stream answers a session with text/event-stream.
c = http.client.HTTPSConnection("127.0.0.1", port, context=CTX, timeout=30)
c.request("GET", "/api/events", headers={"Cookie": "ow_session=" + vic})
resp = c.getresponse()
check(resp.status == 200 and resp.getheader("Content-Type") == "text/event-stream" and
      resp.getheader("Cache-Control") == "no-store", "events: %d %r" % (resp.status,
                                                                         resp.getheaders()))
events = (c, resp)  # read again after vic's logout

# Headers, on a page and on the API.
for path, cookie in (("/", None), ("/js/app.js", None), ("/api/me", vic)):
    r = req("GET", path, cookie=cookie)
    h = r[1]
    check(r[0] == 200, "%s: %d" % (path, r[0]))
    check(h.get("content-security-policy") == CSP, "%s CSP: %r" % (path, h.get(
        "content-security-policy")))
    check(h.get("strict-transport-security", "").startswith("max-age="), "%s HSTS" % path)
    check(h.get("x-content-type-options") == "nosniff", "%s nosniff" % path)
    check(h.get("x-frame-options") == "DENY" and h.get("referrer-policy") == "no-referrer",
          "%s frame/referrer" % path)
    check((h.get("cache-control") == "no-store") == path.startswith("/api/"),
          "%s cache-control %r" % (path, h.get("cache-control")))
check(req("GET", "/")[1].get("content-type") == "text/html; charset=utf-8", "html type")
check(req("GET", "/js/app.js")[1].get("content-type") == "text/javascript; charset=utf-8",
      "js type")

# Out of www_dir.
for p in (b"/../secret.txt", b"/js/../../secret.txt", b"/%2e%2e/secret.txt", b"/..%2fsecret.txt"):
    out = raw(b"GET " + p + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
    status = out.split(b" ", 2)[1] if out.startswith(b"HTTP/1.1 ") else b"?"
    check(status in (b"400", b"404") and b"outside www" not in out,
          "traversal %r: %r" % (p, out[:60]))
check(req("GET", "/nothing.html")[0] == 404, "missing file 404")

# A body over 4 MiB: refused from its Content-Length, and when streamed.
out = raw(b"POST /api/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
          b"Content-Length: 4194305\r\nConnection: close\r\n\r\n")
check(out.startswith(b"HTTP/1.1 413"), "oversize by length: %r" % out[:40])
chunk = b"x" * 65536
body = b"".join(b"%x\r\n" % len(chunk) + chunk + b"\r\n" for _ in range(65)) + b"0\r\n\r\n"
out = raw(b"POST /api/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
          b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n" + body)
check(out.startswith(b"HTTP/1.1 413"), "oversize chunked: %r" % out[:40])

# Bad JSON: 400 naming the line.
r = req("POST", "/api/login", '{\n  "user": "admin",\n  "password": \n}',
        headers={"Content-Type": "application/json"})
check(r[0] == 400 and "line 4" in jbody(r).get("error", ""), "bad JSON: %r" % (r[2],))

# Logout ends the session.
r = req("POST", "/api/logout", cookie=vic, csrf=vcsrf)
check(r[0] == 200 and "Max-Age=0" in r[1].get("set-cookie", ""), "logout: %d" % r[0])
check(req("GET", "/api/me", cookie=vic)[0] == 401, "after logout: 401")
# vic's open event stream ends at its next keep-alive (every 15 s).
c, resp = events
t0 = time.time()
try:
    resp.read()  # until the server ends the chunked stream
    ended = "ended"
except (http.client.IncompleteRead, OSError) as e:
    ended = repr(e)
# (15 s and the main loop's pace; a stream that never ends times out at 30.)
check(ended == "ended" and time.time() - t0 < 20,
      "vic's stream: %s after %.1f s" % (ended, time.time() - t0))
c.close()

# The throttle: 5 failures lock (login_failures 5, login_lock_s 60).
codes = [login("admin", WRONG % i)[0][0] for i in range(6)]
check(codes == [401] * 5 + [429], "6 bad logins: %r" % codes)
r, _ = login("admin", WRONG % 6)
check(r[0] == 429 and 0 < jbody(r).get("retry_after_s", 0) <= 60, "locked: %r" % (r[2],))
check(r[1].get("retry-after") == str(jbody(r).get("retry_after_s")), "Retry-After: %r" % (
    r[1].get("retry-after"),))
r, tok = login("admin", NEW)
check(r[0] == 429 and tok is None, "the right password is refused while locked: %d" % r[0])
r, _ = login("nobody", WRONG % 7)
check(r[0] == 429, "the address is locked for every name: %d" % r[0])
check(req("GET", "/api/me", cookie=admin)[0] == 200, "an existing session goes on")

check(stop(webd) == 0, "webd stops cleanly")
with open(log) as f:
    text = f.read()
for p in PASSWORDS:
    check(p not in text, "a password in the log: %s" % p)
check("login admin from 127.0.0.1 ok" in text and "login admin from 127.0.0.1 failed" in text,
      "logins logged by name and address")
check("users: create vic by admin" in text, "user management logged with who")
check("1 ended with their session" in text, "the stream's end counted")
m = re.search(r"refused: (\d+) no session, (\d+) CSRF, (\d+) role, (\d+) password change "
              r"required, (\d+) not found, (\d+) bad method, (\d+) too big, (\d+) bad JSON, "
              r"(\d+) bad path, (\d+) cross-origin, (\d+) throttled", text)
got = tuple(int(x) for x in m.groups()) if m else None
# no session: no cookie, forged, garbage, after logout; CSRF: none, wrong,
# vic's on admin's; role: vic x3; must_change: users, events; not found:
# /api/nothing, /nothing.html; bad method: GET /api/login; too big: 2; bad
# path: the 4 traversals (libmicrohttpd decodes %2e and %2f first);
# cross-origin 1; throttled: 4.
check(got == (4, 3, 3, 2, 2, 1, 2, 1, 4, 1, 4), "refusals counted: %r" % (got,))
done("webd_security")
