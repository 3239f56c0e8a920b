"""Every numeric argument of every ohmwatch command is parsed strictly: a
bad one is refused with exit 2 and a message naming it, before anything is
asked of a daemon (none runs here: a refusal that got as far as alarmd would
say 'no answer' and exit 1 instead). 'ack l2' once acknowledged every alarm
(atol gave 0, the wire's 'all')."""
import os
import subprocess

from owtest import *

d = tmpdir()
cfg = os.path.join(d, "site.json")
site_with_alarmd(cfg, d, [{"id": "wm1"}])

BAD = [  # (arguments, the text the error must show)
    (["ack", "l2"], "'l2'"),
    (["ack", "12x"], "'12x'"),
    (["ack", "0"], "out of range"),
    (["ack", "-4"], "-4"),
    (["ack", ""], "''"),
    (["ack", "1e3"], "'1e3'"),
    (["ack", "99999999999999999999"], "'99999999999999999999'"),
    (["ack"], "--all"),
    (["ack", "3", "--all"], "--all"),
    (["ack", "3", "4"], "'4'"),
    (["output", "1", "on"], "--yes"),
    (["output", "0", "on", "--yes"], "out of range"),
    (["output", "17", "on", "--yes"], "out of range"),
    (["output", "one", "on", "--yes"], "'one'"),
    (["output", "1", "onn", "--yes"], "'onn'"),
    (["output", "1"], "on or off"),
    (["thresholds", "set", "thresholds.temp_c.high_warn", "20C"], "'20C'"),
    (["thresholds", "set", "thresholds.temp_c.high_warn", "nan"], "'nan'"),
    (["thresholds", "set", "thresholds.temp_c.high_warn", "inf"], "'inf'"),
    (["thresholds", "set", "k", "1", "2"], "'2'"),
    (["baseline", "l2", "5"], "'l2'"),
    (["baseline", "3", "5.5x"], "'5.5x'"),
    (["baseline", "3", "-1"], "out of range"),
    (["baseline", "9999", "5"], "out of range"),
    (["captest", "s1"], "'s1'"),
    (["captest", "1", "--rated-h", "ten"], "'ten'"),
    (["captest", "1", "--end-v", "1.75V"], "'1.75V'"),
    (["captest", "1", "--rate-a", "x"], "'x'"),
    (["captest", "17"], "out of range"),
    (["audit", "--count", "two"], "'two'"),
    (["audit", "--count", "0"], "out of range"),
    (["tail", "--count", "5x"], "'5x'"),
    (["tail", "--idle", "soon"], "'soon'"),
    (["tail", "--since", "busd.wm1:1:2x"], "'busd.wm1:1:2x'"),
    (["tail", "--since", "busd.wm1:-1:2"], "'busd.wm1:-1:2'"),
    (["status", "--timeout", "3s"], "'3s'"),
    (["status", "extra"], "'extra'"),
    (["health", "alarmd", "--max-age", "old"], "'old'"),
]
for args, needle in BAD:
    r = subprocess.run([CLI, "-f", cfg] + args, capture_output=True, text=True, timeout=20,
                       stdin=subprocess.DEVNULL)
    check(r.returncode == 2 and needle in r.stderr,
          "%s: exit %d, %r (want 2 and %r)" % (" ".join(args), r.returncode, r.stderr, needle))
# A good command gets past the parser and on to alarmd (not running: exit 1).
r = subprocess.run([CLI, "-f", cfg, "ack", "3"], capture_output=True, text=True, timeout=20)
check(r.returncode == 1 and "no answer" in r.stderr, "ack 3 asks alarmd: %r" % r.stderr)
done("test_cli_args")
