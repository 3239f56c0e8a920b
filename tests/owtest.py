"""Helpers for ohmwatch's multi-process tests: free ports, temporary site
files, starting and reaping the real binaries. Standard library only."""
import atexit
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.environ.get("OW_BUILD", os.path.join(ROOT, "build"))
BUSD = os.path.join(BUILD, "services", "busd", "ohmwatch-busd")
CLI = os.path.join(BUILD, "cli", "ohmwatch")

_procs = []
_failures = 0
_passes = 0


# CURVE keys (docs/security.md) for every process a test starts: a fresh
# set per test run, made by the real `ohmwatch keygen`, handed to the
# daemons and the CLI through OHMWATCH_KEYS_DIR. The test's own sockets
# use them through curve_client / curve_server.
KEYS = os.path.join(tempfile.mkdtemp(prefix="owtest-keys-"), "keys")
if os.path.exists(CLI):
    subprocess.run([CLI, "keygen", "-d", KEYS], check=True, stdout=subprocess.DEVNULL)
os.environ["OHMWATCH_KEYS_DIR"] = KEYS
os.environ.pop("OHMWATCH_KEY", None)
CURVE = True  # a test of plain links sets it False (with its site's curve: false)
_EP_SERVER = {}  # endpoint -> whose key serves it ("busd", "alarmd")


def key_pair(name):
    """(public, secret) of KEYS' key `name` (secret None if not ours)."""
    import zmq.auth
    sec = os.path.join(KEYS, "private", name + ".key_secret")
    return zmq.auth.load_certificate(sec if os.path.exists(sec) else
                                     os.path.join(KEYS, name + ".key"))


def keygen(name, roles):
    """One more key in KEYS (admitted at once: the allow-list is the dir)."""
    subprocess.run([CLI, "keygen", "-d", KEYS, "--name", name, "--roles", roles, "--force"],
                   check=True, stdout=subprocess.DEVNULL)


def curve_client(sock, endpoint=None, key="cli", server=None):
    """Make a pyzmq socket a CURVE client holding KEYS' `key`, of the server
    that binds endpoint (or `server`); key=None leaves it plain."""
    if not CURVE or key is None:
        return sock
    pub, sec = key_pair(key)
    sock.curve_publickey, sock.curve_secretkey = pub, sec
    sock.curve_serverkey = key_pair(server or _EP_SERVER.get(endpoint, "busd"))[0]
    return sock


def curve_server(sock, key="busd"):
    """A pyzmq socket serving as `key` (a fake busd): admits any client key
    (no ZAP handler in this process)."""
    if CURVE:
        pub, sec = key_pair(key)
        sock.curve_server = True
        sock.curve_publickey, sock.curve_secretkey = pub, sec
    return sock


# Ports for the daemons under test come from below the kernel's ephemeral
# range (ip_local_port_range, 32768-60999 by default). A port the kernel
# handed out for bind(0) is one it also hands out as the source port of an
# outgoing connection: between free_port() and the daemon's bind, alarmd
# connecting to busd (or a test's own client) could take it, the daemon then
# fails to bind and the test waits 30 s for an answer that never comes
# (control_bounds failed that way once). Below the range nobody connects
# from; the bind check skips a port a daemon of this run already holds.
_PORT_LO, _PORT_HI = 20000, 32767
_port_next = [None]


def free_port():
    lo, hi = _PORT_LO, _PORT_HI
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            hi = min(hi, int(f.read().split()[0]) - 1)
    except (OSError, ValueError, IndexError):
        pass
    if _port_next[0] is None:  # tests run side by side start apart
        _port_next[0] = lo + (os.getpid() * 97) % (hi - lo + 1)
    for _ in range(hi - lo + 1):
        port = _port_next[0]
        _port_next[0] = lo if port >= hi else port + 1
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port in %d-%d" % (lo, hi))


MODBUSD = os.path.join(BUILD, "services", "modbusd", "ohmwatch-modbusd")


def pty_pair(d):
    """A socat pseudo-terminal pair (a serial line for Modbus RTU) as links
    d/pty-a and d/pty-b: (socat process, path a, path b)."""
    a, b = os.path.join(d, "pty-a"), os.path.join(d, "pty-b")
    p = start(["socat", "pty,raw,echo=0,link=" + a, "pty,raw,echo=0,link=" + b])
    check(wait_for(lambda: os.path.exists(a) and os.path.exists(b), 10), "socat pty pair")
    return p, a, b


def tcp_listening(port, host="127.0.0.1"):
    """True once something accepts TCP connections on host:port."""
    try:
        socket.create_connection((host, port), 0.2).close()
        return True
    except OSError:
        return False


def cround(x):
    """C's round(): halves away from zero (Python's round() goes to even, so
    a reading of 0.05 A at 0.1 A per count would expect 0 where C gives 1)."""
    import math
    return int(math.copysign(math.floor(abs(x) + 0.5), x))


def tmpdir():
    d = tempfile.mkdtemp(prefix="owtest-")
    return d


def alarmd_services(d):
    """A services.alarmd section on free ports with its state in d."""
    a = {"publish": "tcp://127.0.0.1:%d" % free_port(),
         "control": "tcp://127.0.0.1:%d" % free_port(),
         "replay": "tcp://127.0.0.1:%d" % free_port(),
         "state_file": os.path.join(d, "alarmd-state.json"),
         "save_interval_ms": 100}
    for k in ("publish", "control", "replay"):
        _EP_SERVER[a[k]] = "alarmd"
    return {"alarmd": a}



def site(path, gateways, name="Test site"):
    """Write a site file from the sample site, one gateway per entry of
    `gateways` (dicts overriding gateway keys)."""
    with open(os.path.join(ROOT, "etc", "site-sample.json")) as f:
        sample = json.load(f)
    base = sample["gateways"][0]
    gws = []
    for g in gateways:
        gw = json.loads(json.dumps(base))
        gw["publish"] = "tcp://127.0.0.1:%d" % free_port()
        gw["replay"] = "tcp://127.0.0.1:%d" % free_port()
        for k, v in g.items():
            if isinstance(v, dict) and isinstance(gw.get(k), dict):
                gw[k].update(v)
            else:
                gw[k] = v
        _EP_SERVER[gw["publish"]] = _EP_SERVER[gw["replay"]] = "busd"
        gws.append(gw)
    sample["gateways"] = gws
    sample["site"] = {"name": name}
    # Private alarmd endpoints too: a demo running on this machine must
    # never answer a test.
    sample["services"] = alarmd_services(tempfile.mkdtemp(prefix="owtest-"))
    with open(path, "w") as f:
        json.dump(sample, f, indent=2)
    return sample


def start(args, **kw):
    p = subprocess.Popen(args, **kw)
    _procs.append(p)
    return p


def stop(p, sig=signal.SIGTERM, timeout=10):
    if p.poll() is None:
        p.send_signal(sig)
        try:
            p.wait(timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    return p.returncode


@atexit.register
def _reap():
    for p in _procs:
        if p.poll() is None:
            p.kill()
            p.wait()


def check(cond, what):
    global _failures, _passes
    if cond:
        _passes += 1
    else:
        _failures += 1
        print("FAIL: " + what, file=sys.stderr)
    return cond


def done(name):
    print("%s: %d passed, %d failed" % (name, _passes, _failures))
    sys.exit(1 if _failures else 0)


def read_json_lines(path):
    """Messages of a `ohmwatch tail --json` output file (a torn last line of
    a killed process is skipped)."""
    out = []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            try:
                out.append(json.loads(line))
            except ValueError:
                pass
    return out


def wait_for(pred, timeout, step=0.05):
    end = time.time() + timeout
    while time.time() < end:
        if pred():
            return True
        time.sleep(step)
    return pred()


ALARMD = os.path.join(BUILD, "services", "alarmd", "ohmwatch-alarmd")


def site_with_alarmd(path, d, gateways, name="Test site"):
    s = site(path, gateways, name)
    s["services"] = alarmd_services(d)
    with open(path, "w") as f:
        json.dump(s, f, indent=2)
    return s


class Listener:
    """Collects every message a publisher (busd or alarmd) publishes: a thread
    with a pyzmq SUB. With `replay` (the publisher's replay endpoint) it also
    fills what live PUB/SUB cannot deliver, as lib/ow_sub.c does: what was
    published before the SUB had joined (ZeroMQ's slow joiner: alarmd's first
    `state` is published once, on change, and may go out before a test's
    SUB is connected; issue 13's alarmd_cli flake), and what a gap in `seq`
    shows as dropped. It asks the journal at start, on a gap and whenever the
    publisher has been quiet for a second; `msgs` then holds each message once,
    in publish order ((epoch, seq)), from the start of the publisher's epoch."""

    def __init__(self, endpoint, prefix=b"", replay=None):
        import threading
        import zmq
        self.ctx = zmq.Context.instance()
        self.sock = self.ctx.socket(zmq.SUB)
        self.sock.setsockopt(zmq.SUBSCRIBE, prefix)
        self.sock.setsockopt(zmq.RCVTIMEO, 100)
        curve_client(self.sock, endpoint)
        self.sock.connect(endpoint)
        self.prefix = prefix.decode()
        self.replay = replay
        self.msgs = []
        self.keys = []  # (epoch, seq) of msgs, sorted, when replaying
        self.epoch, self.contig = 0, 0  # all of 1..contig of epoch are in hand
        self.seen = set()
        self.stop = False
        self.lock = threading.Lock()
        self.t = threading.Thread(target=self._run, daemon=True)
        self.t.start()
        time.sleep(0.3)  # slow joiner (without replay, what is sent before is lost)

    def _add(self, topic, m):
        """One message, once, in (epoch, seq) order; the caller holds the lock."""
        import bisect
        if not self.replay:
            self.msgs.append(m)
            return
        k = (m["epoch"], m["seq"])
        if k in self.seen:
            return
        self.seen.add(k)
        if m["epoch"] == self.epoch:
            while (self.epoch, self.contig + 1) in self.seen:
                self.contig += 1
        if topic.startswith(self.prefix):
            i = bisect.bisect(self.keys, k)
            self.keys.insert(i, k)
            self.msgs.insert(i, m)

    def _fill(self, dealer):
        """Asks the journal for everything after contig of the publisher's
        current epoch (a new epoch: from its first message)."""
        import zmq
        frm, epoch = self.contig + 1, self.epoch
        while True:
            try:
                begin, msgs, end = replay_ask(dealer, epoch, frm)
            except zmq.Again:
                return False  # publisher away: asked again later
            with self.lock:
                if begin["epoch"] != self.epoch:
                    self.epoch, self.contig = begin["epoch"], 0
                # Older than the journal holds: gone, not asked again.
                self.contig = max(self.contig, begin["first"] - 1)
                for topic, m in msgs:
                    self._add(topic, m)
                while (self.epoch, self.contig + 1) in self.seen:
                    self.contig += 1
            if end["epoch"] != epoch:  # it answered for its current epoch: ask that
                frm, epoch = self.contig + 1, self.epoch
            elif end["more"]:
                frm = end["next"]
            else:
                return True

    def _run(self):
        import zmq
        dealer = replay_dealer(self.replay, 2000) if self.replay else None
        want, asked = bool(dealer), 0.0  # at start: what came before we joined
        while not self.stop:
            if want and dealer:
                if not self._fill(dealer):  # no answer: a fresh socket, the old
                    dealer.close()          # one may hold a stale request
                    dealer = replay_dealer(self.replay, 2000)
                want, asked = False, time.time()
            try:
                frames = self.sock.recv_multipart()
            except zmq.Again:
                want = dealer is not None and time.time() - asked > 1.0  # quiet: ask
                continue
            if len(frames) == 2:
                m = json.loads(frames[1])
                with self.lock:
                    self._add(frames[0].decode(), m)
                    # A gap (or a new epoch) in what we hold: ask for it.
                    want = dealer is not None and (m["epoch"] != self.epoch or
                                                   m["seq"] > self.contig + 1)
        if dealer:
            dealer.close()

    def kind(self, k):
        with self.lock:
            return [m for m in self.msgs if m["kind"] == k]

    def alarms(self, action=None):
        return [m for m in self.kind("alarm") if action is None or m["action"] == action]

    def close(self):
        self.stop = True
        self.t.join()
        self.sock.close()


def ctl_call(endpoint, body, timeout=5000, key="cli"):
    """One control request (as the CLI does) with pyzmq, holding KEYS' `key`;
    returns the reply and the messages that follow it."""
    import zmq
    s = zmq.Context.instance().socket(zmq.DEALER)
    s.setsockopt(zmq.RCVTIMEO, timeout)
    s.setsockopt(zmq.LINGER, 0)
    curve_client(s, endpoint, key, server="alarmd")
    s.connect(endpoint)
    s.send(body if isinstance(body, bytes) else json.dumps(body).encode())
    frames = s.recv_multipart()
    s.close()
    rest = [json.loads(frames[i + 1]) for i in range(1, len(frames) - 1, 2)]
    return json.loads(frames[0]), rest


def snapshot_modules(endpoint, gw=""):
    """How many module readings alarmd's snapshot holds (not every frame:
    the gateway's settings come first, 67 of them)."""
    return sum(m.get("kind") == "module" for m in ctl_call(endpoint, control("snapshot", gw))[1])


def control(cmd, gw="", key="", value=None, index=0):
    return {"v": 1, "kind": "control", "pub": "test", "epoch": 1, "seq": 1,
            "ts_us": int(time.time() * 1e6), "gw": gw, "cmd": cmd, "key": key,
            "value": value, "index": index, "req": "t1"}


class FakeGateway:
    """Plays a busd for one gateway with readings the test chooses, speaking
    the wire contract (including replay, so alarmd can catch up)."""

    def __init__(self, gw_cfg, strings=2, blocks=9):
        import threading
        import zmq
        self.gw = gw_cfg["id"]
        self.ctx = zmq.Context.instance()
        self.pub = curve_server(self.ctx.socket(zmq.PUB))
        self.pub.bind(gw_cfg["publish"])
        self.router = curve_server(self.ctx.socket(zmq.ROUTER))
        self.router.bind(gw_cfg["replay"])
        self.router.setsockopt(zmq.RCVTIMEO, 50)
        self.epoch = int(time.time() * 1e6)
        self.seq = 0
        self.journal = []
        self.strings, self.blocks = strings, blocks
        self.ts = self.epoch
        self.lock = threading.Lock()
        self.stop = False
        self.t = threading.Thread(target=self._serve, daemon=True)
        self.t.start()

    def _serve(self):
        import zmq
        while not self.stop:
            try:
                f = self.router.recv_multipart()
            except zmq.Again:
                continue
            req = json.loads(f[2])
            with self.lock:
                first = self.journal[0][0] if self.journal else 0
                last = self.journal[-1][0] if self.journal else 0
                out = [[f[0], b"begin", json.dumps({"epoch": self.epoch, "first": first,
                                                      "last": last}).encode()]]
                nxt = max(req["from"], first)
                if req["epoch"] == self.epoch:
                    for seq, t, b in self.journal:
                        if seq >= nxt:
                            out.append([f[0], b"msg", t, b])
                    nxt = last + 1
                out.append([f[0], b"end", json.dumps({"epoch": self.epoch, "next": nxt,
                                                        "more": False}).encode()])
            for o in out:
                self.router.send_multipart(o)

    def send(self, kind, topic, fields):
        with self.lock:
            self.seq += 1
            body = {"v": 1, "kind": kind, "pub": "busd." + self.gw, "epoch": self.epoch,
                    "seq": self.seq, "ts_us": self.ts, "gw": self.gw}
            body.update(fields)
            t, b = topic.encode(), json.dumps(body).encode()
            self.journal.append((self.seq, t, b))
            self.pub.send_multipart([t, b])

    def cycle(self, volts=None, temps=None, imps=None, lost=(), currents=None, sums=None,
              aux=None, step_s=1.0, eq=None):
        """One poll cycle. volts/temps/imps: {module: value} overrides of
        13.62 V / 25.0 C / 5.0 mOhm; lost: modules not answering."""
        self.ts += int(step_s * 1e6)
        volts, temps, imps = volts or {}, temps or {}, imps or {}
        mod = 0
        for s in range(1, self.strings + 1):
            vs = []
            for b in range(1, self.blocks + 1):
                mod += 1
                if mod in lost:
                    f = {"voltage_v": None, "temp_c": None, "impedance_mohm": None,
                         "eq_pct": None, "status": 1}
                else:
                    v = volts.get(mod, 13.62)
                    vs.append(v)
                    f = {"voltage_v": v, "temp_c": temps.get(mod, 25.0),
                         "impedance_mohm": imps.get(mod, 5.0),
                         "eq_pct": (eq or {}).get(mod, 0), "status": 0}
                f.update({"string": s, "module": mod, "block": b})
                self.send("module", "mod/%s/%02d/%03d" % (self.gw, s, mod), f)
            cur = (currents or {}).get(s, 0.05)
            total = (sums or {}).get(s, sum(vs))
            self.send("string", "str/%s/%02d" % (self.gw, s),
                      {"string": s, "modules": self.blocks, "modules_lost": self.blocks - len(vs),
                       "current_a": cur, "ac_current_a": 0.2, "sum_voltage_v": total,
                       "avg_voltage_v": total / max(1, len(vs))})
        a = {"ambient_c": 25.0, "humidity_pct": 45.0, "hydrogen_pct_lel": None, "aux_units": 1,
             "inputs": 0, "outputs": 0}
        a.update(aux or {})
        self.send("aux", "aux/" + self.gw, a)
        self.send("heartbeat", "hb/" + self.gw,
                  {"state": "running", "source": "sim", "period_us": int(step_s * 1e6),
                   "speed": 1, "strings": self.strings, "modules": self.strings * self.blocks,
                   "modules_lost": len(lost), "journal_first": 1, "journal_last": self.seq,
                   "cycle_us": 100, "cycles": 1, "overruns": 0})

    def close(self):
        self.stop = True
        self.t.join()
        self.pub.close()
        self.router.close()


def replay_dealer(endpoint, timeout_ms=5000):
    """A DEALER to a publisher's replay ROUTER."""
    import zmq
    s = zmq.Context.instance().socket(zmq.DEALER)
    s.setsockopt(zmq.RCVTIMEO, timeout_ms)
    s.setsockopt(zmq.LINGER, 0)
    curve_client(s, endpoint)
    s.connect(endpoint)
    return s


def replay_ask(s, epoch, frm, max_msgs=5000):
    """One replay request (proto/README.md): returns begin, [(topic, msg)], end.
    Raises zmq.Again when the publisher does not answer in time."""
    s.send_multipart([b"replay", json.dumps({"epoch": epoch, "from": frm,
                                              "max": max_msgs}).encode()])
    begin, msgs = None, []
    while True:
        f = s.recv_multipart()
        if f[0] == b"begin":
            begin = json.loads(f[1])
        elif f[0] == b"msg":
            msgs.append((f[1].decode(), json.loads(f[2])))
        elif f[0] == b"end":
            return begin, msgs, json.loads(f[1])


def replay_all(endpoint, prefix=""):
    """Everything a publisher's journal holds (its current epoch), through the
    replay protocol, filtered by topic prefix."""
    s = replay_dealer(endpoint)
    epoch = replay_ask(s, 0, 1)[0]["epoch"]  # an unknown epoch gets the current one, no messages
    out, frm, more = [], 1, True
    while more:
        _, got, end = replay_ask(s, epoch, frm)
        out += [m for t, m in got if t.startswith(prefix)]
        frm, more = end["next"], end["more"]
    s.close()
    return out


HISTORIAN = os.path.join(BUILD, "services", "historian", "ohmwatch-historian")


class Pg:
    """A private PostgreSQL cluster started by the project's own script."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="owpg-")
        self.port = free_port()
        self.dsn = self.start()

    def start(self):
        r = subprocess.run(["bash", os.path.join(ROOT, "scripts", "pg.sh"), "start", self.dir,
                            str(self.port)], capture_output=True, text=True, timeout=120)
        if r.returncode != 0:
            raise RuntimeError("pg.sh start failed: " + r.stderr)
        return r.stdout.strip()

    def stop(self):
        subprocess.run(["bash", os.path.join(ROOT, "scripts", "pg.sh"), "stop", self.dir],
                       capture_output=True, timeout=120)

    def scalar(self, sql, default=0):
        """First column of the first row, or default when the query fails
        (server stopped, table not created yet) or returns nothing."""
        try:
            r = self.query(sql)
            return r[0][0] if r else default
        except Exception:
            return default

    def query(self, sql, args=None):
        import psycopg2
        c = psycopg2.connect(self.dsn)
        try:
            with c.cursor() as cur:
                cur.execute(sql, args)
                return cur.fetchall() if cur.description else None
        finally:
            c.close()


_pgs = []


def pg():
    p = Pg()
    _pgs.append(p)
    return p


@atexit.register
def _stop_pgs():
    for p in _pgs:
        p.stop()


def site_full(path, d, gateways, dsn, historian=None, name="Test site"):
    """A site with private alarmd and historian sections."""
    s = site(path, gateways, name)
    s["services"] = alarmd_services(d)
    h = {"dsn": dsn, "spool_dir": os.path.join(d, "spool"), "batch_ms": 100}
    h.update(historian or {})
    s["services"]["historian"] = h
    with open(path, "w") as f:
        json.dump(s, f, indent=2)
    return s
