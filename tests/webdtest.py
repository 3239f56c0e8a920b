"""What every webd test needs (issue 18): a self-signed pair made with
openssl, the services.webd section, and a client that holds a session as a
page does (the cookie, the CSRF header on every POST), over TLS verified
against the pair or over plain HTTP when the test chose tls false."""
import http.client
import json
import os
import ssl
import subprocess

from owtest import BUILD, ROOT, check

WEBD = os.path.join(BUILD, "services", "webd", "ohmwatch-webd")
WWW = os.path.join(ROOT, "services", "webd", "www")


def make_cert(d, host="127.0.0.1"):
    """(cert, key): a P-256 self-signed pair for host, valid two days."""
    cert, key = os.path.join(d, "webd.crt"), os.path.join(d, "webd.key")
    alt = ("IP:" if host[0].isdigit() else "DNS:") + host
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", cert, "-days",
                    "2", "-subj", "/CN=" + host, "-addext", "subjectAltName=" + alt],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return cert, key


def webd_section(d, port, initial, tls=True, **more):
    """services.webd for a test in d: the users file there, the first
    admin's password `initial`, the pages of the checkout; with tls a pair
    made here (its certificate is section["cert_file"])."""
    pw = os.path.join(d, "webd.admin_password")
    with open(pw, "w") as f:
        f.write(initial + "\n")
    sec = {"listen": "127.0.0.1:%d" % port, "tls": tls, "www_dir": WWW,
           "users_file": os.path.join(d, "webd-users.json"), "initial_password_file": pw}
    if tls:
        sec["cert_file"], sec["key_file"] = make_cert(d)
    sec.update(more)
    return sec


class Web:
    """One browser's session: the cookie webd set, the CSRF token of its
    login, sent on every POST."""

    def __init__(self, port, cafile=None):
        self.port, self.cafile = port, cafile
        self.cookie, self.csrf, self.user = "", "", ""

    def raw(self, method, path, body=None, headers=None, csrf=True):
        """(status, lower-case headers, bytes). body: a dict or list is
        sent as JSON, bytes as they are."""
        if self.cafile:
            c = http.client.HTTPSConnection("127.0.0.1", self.port, timeout=20,
                                            context=ssl.create_default_context(
                                                cafile=self.cafile))
        else:
            c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=20)
        h = dict(headers or {})
        if self.cookie:
            h["Cookie"] = self.cookie
        if isinstance(body, (dict, list)):
            body = json.dumps(body)
            h.setdefault("Content-Type", "application/json")
        if method == "POST" and csrf and self.csrf:
            h["X-CSRF-Token"] = self.csrf
        c.request(method, path, body=body, headers=h)
        r = c.getresponse()
        data = r.read()
        hs = {k.lower(): v for k, v in r.getheaders()}
        c.close()
        sc = hs.get("set-cookie", "")
        if sc.startswith("ow_session="):
            self.cookie = sc.split(";")[0]
        return r.status, hs, data

    def req(self, method, path, body=None, **kw):
        """(status, the JSON body or None)."""
        st, _, data = self.raw(method, path, body, **kw)
        try:
            return st, json.loads(data) if data else None
        except ValueError:
            return st, None

    def get(self, path):
        return self.req("GET", path)

    def post(self, path, body, **kw):
        return self.req("POST", path, body, **kw)

    def login(self, user, password):
        st, j = self.post("/api/login", {"user": user, "password": password})
        if st == 200:
            self.csrf, self.user = j["csrf"], user
        return st, j


def first_admin(port, initial, new, cafile=None):
    """admin's first login: the initial password, changed to new, then a
    session with new."""
    w = Web(port, cafile)
    st, j = w.login("admin", initial)
    check(st == 200 and j["must_change"], "admin: initial password, must change: %s %r" % (st, j))
    check(w.post("/api/password", {"old": initial, "new": new})[0] == 200,
          "admin changes the initial password")
    w = Web(port, cafile)
    check(w.login("admin", new)[0] == 200, "admin logs in with the new password")
    return w


def web_user(admin, name, roles):
    """A user made by admin with its own password set (the first login
    must change the initial one): its session."""
    first, own = "first-pass-" + name, "own-pass-" + name
    st, j = admin.post("/api/users", {"user": name, "roles": roles, "password": first})
    check(st == 200, "create %s: %s %r" % (name, st, j))
    w = Web(admin.port, admin.cafile)
    st, j = w.login(name, first)
    check(st == 200 and j["must_change"], "%s logs in, must change: %s %r" % (name, st, j))
    st, j = w.post("/api/password", {"old": first, "new": own})
    check(st == 200, "%s sets a password: %s %r" % (name, st, j))
    w = Web(admin.port, admin.cafile)
    check(w.login(name, own)[0] == 200, "%s logs in again" % name)
    return w
