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


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tmpdir():
    d = tempfile.mkdtemp(prefix="owtest-")
    return d


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
        gws.append(gw)
    sample["gateways"] = gws
    sample["site"] = {"name": name}
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
