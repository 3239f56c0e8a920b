"""Malformed replay requests are refused and counted; busd keeps serving."""
import os
import subprocess

from owtest import *

try:
    import zmq
except ImportError:  # Debian's python3-zmq is for /usr/bin/python3
    zmq = None

d = tmpdir()
cfg = os.path.join(d, "site.json")
s = site(cfg, [{"id": "wm1"}])
busd = start([BUSD, "-f", cfg, "-s", "10"], stderr=subprocess.PIPE, text=True)
if check(zmq is not None, "python3-zmq available (scripts/deps.sh --test installs it)"):
    ctx = zmq.Context()
    dl = curve_client(ctx.socket(zmq.DEALER), s["gateways"][0]["replay"])
    dl.connect(s["gateways"][0]["replay"])
    for frames in ([b"bogus"], [b"replay", b"not json"], [b"replay", b'{"from": "x"}'],
                   [b"replay"], [b"\xff" * 1000, b"{}", b"{}"]):
        dl.send_multipart(frames)
    # A good request still gets a proper answer afterwards.
    time.sleep(0.5)
    dl.send_multipart([b"replay", b'{"epoch": 1, "from": 1, "max": 10}'])
    dl.setsockopt(zmq.RCVTIMEO, 5000)
    got = dl.recv_multipart()
    check(got[0] == b"begin", "begin after bad requests: %r" % got[:1])
    end = None
    while True:
        f = dl.recv_multipart()
        if f[0] == b"end":
            end = json.loads(f[1])
            break
    check(end is not None and end["more"] is False, "wrong epoch answered with an empty end")
check(busd.poll() is None, "busd still running")
stop(busd)
err = busd.stderr.read()
check(err.count("malformed replay request") == 5, "each bad request logged (%d)" %
      err.count("malformed replay request"))
done("test_bad_input")
