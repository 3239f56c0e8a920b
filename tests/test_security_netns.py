"""Two hosts, one link (docs/security.md, "across hosts"): busd in network
namespace owA, alarmd in owB, joined by a veth pair; readings flow A -> B,
alarmd's commands B -> A, and the CLI in A changes a threshold on alarmd in
B. tcpdump on the link: with CURVE (the default) no byte of any message is
readable; the same run with plain links shows the JSON, so the search would
see it. Needs root (ip netns); scripts/deps.sh --test installs iproute2 and
tcpdump."""
import json
import os
import signal
import subprocess
import sys

from owtest import *

if os.geteuid() != 0:
    print("test_security_netns: needs root for network namespaces (CI runs as root)",
          file=sys.stderr)
    sys.exit(1)

NS = ("owtA%d" % os.getpid(), "owtB%d" % os.getpid())
IP = ("10.199.0.1", "10.199.0.2")


def sh(*cmd):
    subprocess.run(cmd, check=True)


def netns_up():
    for n in NS:
        sh("ip", "netns", "add", n)
        sh("ip", "-n", n, "link", "set", "lo", "up")
    sh("ip", "link", "add", "owva", "netns", NS[0], "type", "veth", "peer", "name", "owvb",
       "netns", NS[1])
    for n, dev, ip in ((NS[0], "owva", IP[0]), (NS[1], "owvb", IP[1])):
        sh("ip", "-n", n, "addr", "add", ip + "/24", "dev", dev)
        sh("ip", "-n", n, "link", "set", dev, "up")


def netns_down():
    for n in NS:
        subprocess.run(["ip", "netns", "del", n], stderr=subprocess.DEVNULL)


def inns(n, args, **kw):
    return start(["ip", "netns", "exec", n] + args, **kw)


def run(curve):
    """One run; returns (pcap bytes, CLI's answer)."""
    d = tmpdir()
    cfg = os.path.join(d, "site.json")
    s = site_with_alarmd(cfg, d, [{"id": "wm1"}])
    g = s["gateways"][0]
    g["publish"], g["replay"] = "tcp://%s:5601" % IP[0], "tcp://%s:5602" % IP[0]
    s["services"]["alarmd"].update({"publish": "tcp://%s:5611" % IP[1],
                                    "control": "tcp://%s:5612" % IP[1],
                                    "replay": "tcp://%s:5613" % IP[1]})
    s["services"]["security"] = {"curve": curve}
    with open(cfg, "w") as f:
        json.dump(s, f)
    pcap = os.path.join(d, "link.pcap")
    cap = inns(NS[0], ["tcpdump", "-U", "-n", "-i", "owva", "-w", pcap, "tcp"],
               stderr=subprocess.PIPE)
    check(wait_for(lambda: os.path.exists(pcap), 10), "tcpdump capturing")
    time.sleep(0.5)
    alog = os.path.join(d, "alarmd.log")
    alarmd = inns(NS[1], [ALARMD, "-f", cfg], stderr=open(alog, "w"))
    busd = inns(NS[0], [BUSD, "-f", cfg, "-s", "60"], stderr=subprocess.DEVNULL)
    ok = wait_for(lambda: subprocess.run(
        ["ip", "netns", "exec", NS[0], CLI, "-f", cfg, "alarms"],
        capture_output=True, text=True).returncode == 0, 20)
    check(ok, "the CLI in A reaches alarmd in B (curve=%s)" % curve)
    r = subprocess.run(["ip", "netns", "exec", NS[0], CLI, "-f", cfg, "thresholds", "set",
                        "thresholds.voltage_v.high_alarm", "14.9"],
                       capture_output=True, text=True)
    check(r.returncode == 0, "a threshold set across the link: %s" % (r.stdout + r.stderr))
    time.sleep(3)  # several poll cycles at 60x cross the link
    stop(busd)
    stop(alarmd)
    time.sleep(0.5)
    cap.send_signal(signal.SIGINT)
    cap.wait(10)
    with open(pcap, "rb") as f:
        return f.read(), r.stdout


# What any message carries in clear JSON: field names of the contract, the
# gateway's id, the threshold's key and its new value.
MARKERS = [b'"kind"', b'"epoch"', b'"wm1"', b"voltage_v.high_alarm", b"14.9"]

netns_down()
try:
    netns_up()
    enc, _ = run(True)
    plain, _ = run(False)
finally:
    netns_down()
check(len(enc) > 20000, "the CURVE run carried traffic over the link (%d bytes captured)" % len(enc))
found = [m.decode() for m in MARKERS if m in enc]
check(not found, "CURVE: no plaintext on the link (found %s)" % found)
found = [m.decode() for m in MARKERS if m in plain]
check(len(found) == len(MARKERS),
      "plain links: every marker readable in the capture (%s), so the search is real" % found)
print("captured %d bytes with CURVE, %d plain" % (len(enc), len(plain)))
done("test_security_netns")
