"""Bounded resources against peers that misbehave (lib/ow_zsock.c):
- a 100 MB control request drops its connection (ZMQ_MAXMSGSIZE) before
  alarmd holds it: alarmd's RSS stays within a few MB, and it still answers;
- a 100 MB replay request does the same to busd, which answers a reading
  peer at once;
- 60 replay peers that ask and never read: busd's RSS grows by what their
  bounded queues hold (OW_REPLAY_CHUNK answers), not 5000 messages each
  (was +181 MB), further answers are abandoned and counted in the log, and
  a reading peer is still served. Prints RSS before and after."""
import os
import subprocess

from owtest import *

try:
    import zmq
except ImportError:  # Debian's python3-zmq is for /usr/bin/python3
    zmq = None

BIG = 100 * 1024 * 1024


def rss_mb(p, field="VmRSS"):
    """Resident MB now (VmRSS) or at the peak so far (VmHWM: a 100 MB frame
    taken and freed again leaves VmRSS where it was, not the peak)."""
    with open("/proc/%d/status" % p.pid) as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024.0
    return 0.0


def send_dropped(endpoint, frames):
    """Send frames from a fresh DEALER; True once the other end drops the
    connection (the monitor's DISCONNECTED event), False if it answers
    instead (it took the whole frame) or nothing happens in 20 s."""
    from zmq.utils.monitor import recv_monitor_message
    s = zmq.Context.instance().socket(zmq.DEALER)
    s.setsockopt(zmq.LINGER, 0)
    mon = s.get_monitor_socket(zmq.EVENT_DISCONNECTED)
    curve_client(s, endpoint)  # an admitted key: the size limit, not CURVE, must drop it
    s.connect(endpoint)
    s.send_multipart(frames, copy=False)
    p = zmq.Poller()
    p.register(mon, zmq.POLLIN)
    p.register(s, zmq.POLLIN)
    dropped = False
    end = time.time() + 20
    while time.time() < end:
        ready = dict(p.poll(1000))
        if s in ready:
            break  # answered: the frame was taken whole
        if mon in ready and recv_monitor_message(mon)["event"] == zmq.EVENT_DISCONNECTED:
            dropped = True
            break
    s.disable_monitor()
    mon.close()
    s.close()
    return dropped


def journal_last(endpoint):
    s = replay_dealer(endpoint, 2000)
    try:
        return replay_ask(s, 0, 1)[0]["last"]
    except zmq.Again:
        return 0
    finally:
        s.close()


if __name__ == "__main__":
    d = tmpdir()
    cfg = os.path.join(d, "site.json")
    s = site_with_alarmd(cfg, d, [{"id": "wm1"}])
    A, G = s["services"]["alarmd"], s["gateways"][0]
    # Under ASan, memory a daemon frees sits in the allocator's quarantine
    # (256 MB by default) and still counts in its RSS: measured that way,
    # 60 CURVE peers' freed buffers looked like +67 MB where the program
    # holds +8 MB. Without the quarantine RSS measures what is held.
    env = dict(os.environ)
    env["ASAN_OPTIONS"] = (env.get("ASAN_OPTIONS", "") + ":quarantine_size_mb=0").lstrip(":")
    # 1000 cycles at once (22 messages each), then a replay server for 300 s.
    busd = start([BUSD, "-f", cfg, "--no-wait", "--cycles", "1000", "--linger", "300"],
                 stderr=subprocess.PIPE, text=True, errors="replace", env=env)
    alarmd = start([ALARMD, "-f", cfg], stderr=subprocess.PIPE, text=True, errors="replace",
                   env=env)
    if not check(zmq is not None, "python3-zmq available (scripts/deps.sh --test installs it)"):
        done("control_bounds")
    if not check(wait_for(lambda: journal_last(G["replay"]) >= 22000, 30),
                 "busd published 1000 cycles"):
        # say why: busd gone (its stderr names the reason) or only behind
        print("busd exit status %r, journal last %d" % (busd.poll(), journal_last(G["replay"])))
        if busd.poll() is not None:
            print(busd.stderr.read())
    get = control("get", key="thresholds.voltage_v.high_warn")
    check(wait_for(lambda: snapshot_modules(A["control"]) == 18, 15),
          "alarmd has the gateway's readings")
    for _ in range(50):  # the allocator's steady state
        ctl_call(A["control"], control("snapshot"))

    # -- a 100 MB control request
    before = rss_mb(alarmd, "VmHWM")
    check(send_dropped(A["control"], [b"{" + b" " * BIG + b"}"]),
          "a 100 MB control request drops the connection")
    r, _ = ctl_call(A["control"], get)
    after = rss_mb(alarmd, "VmHWM")
    print("alarmd peak RSS: %.1f MB before a 100 MB request, %.1f MB after" % (before, after))
    check(r["ok"] and r["value"] == 14.1, "alarmd still answers: %r" % r)
    check(after - before < 5, "alarmd's peak RSS within 5 MB (%.1f -> %.1f)" % (before, after))

    # -- a 100 MB replay request
    before = rss_mb(busd, "VmHWM")
    check(send_dropped(G["replay"], [b"replay", b" " * BIG]),
          "a 100 MB replay request drops the connection")
    t0 = time.monotonic()
    last = journal_last(G["replay"])
    dt = time.monotonic() - t0
    hwm = rss_mb(busd, "VmHWM")
    print("busd peak RSS: %.1f MB before a 100 MB replay request, %.1f MB after; next answer in "
          "%.1f ms" % (before, hwm, dt * 1e3))
    check(last >= 22000 and dt < 0.5, "busd answers a reading peer at once (%.1f ms)" % (dt * 1e3))
    check(hwm - before < 5, "busd's peak RSS within 5 MB (%.1f -> %.1f)" % (before, hwm))

    # -- 60 replay peers that never read
    ctx = zmq.Context.instance()
    s0 = replay_dealer(G["replay"])
    epoch = replay_ask(s0, 0, 1)[0]["epoch"]
    before = rss_mb(busd)
    idle = []
    for i in range(60):
        q = ctx.socket(zmq.DEALER)
        q.setsockopt(zmq.LINGER, 0)
        q.setsockopt(zmq.RCVHWM, 1)
        q.setsockopt(zmq.RCVBUF, 4096)
        curve_client(q, G["replay"])
        q.connect(G["replay"])
        q.setsockopt(zmq.RCVTIMEO, 5000)
        replay_ask(q, 0, 1)  # connected and served once ...
        for k in range(4):  # ... then asks for the whole journal and never reads
            q.send_multipart([b"replay", json.dumps({"epoch": epoch, "from": 1 + k * 5000,
                                                      "max": 5000}).encode()])
        idle.append(q)
    # busd takes one request per peer in turn (fair queueing): after 5 answers
    # to a reading peer, every idle peer's 4 requests have been taken.
    worst = 0.0
    for k in range(5):
        t0 = time.monotonic()
        b, msgs, e = replay_ask(s0, epoch, 1, 5000)
        worst = max(worst, time.monotonic() - t0)
    after = rss_mb(busd)
    print("busd RSS: %.1f MB before 60 replay peers that never read, %.1f MB after (+%.1f MB); "
          "a reading peer's answer took at most %.1f ms, %d messages" %
          (before, after, after - before, worst * 1e3, len(msgs)))
    check(len(msgs) == 256 and e["more"] is True, "an answer is one chunk of 256, more to come")
    check(after - before < 40, "busd grew less than 40 MB (+%.1f MB)" % (after - before))
    check(worst < 1.0, "a reading peer is served within 1 s (%.1f ms)" % (worst * 1e3))
    for q in idle:
        q.close()
    s0.close()
    check(busd.poll() is None and alarmd.poll() is None, "busd and alarmd still running")
    stop(busd)
    stop(alarmd)
    err = busd.stderr.read()
    check("replay answer abandoned" in err and "the peer does not read" in err,
          "busd abandoned answers to peers that do not read (logged)")
    done("control_bounds")
