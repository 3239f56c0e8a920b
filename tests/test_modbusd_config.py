"""services.modbusd: unit ids mapped to gateways, the client allow-list,
scales, and configuration errors as FILE:LINE:COL: key: reason."""
import json
import os
import socket
import subprocess
import time

from owtest import *

d = tmpdir()
cfg = os.path.join(d, "site.json")
s = site_with_alarmd(cfg, d, [{"id": "wm1"}, {"id": "wm2"}])
s["gateways"][1]["strings"] = s["gateways"][1]["strings"][:1]


def write(mb):
    s["services"]["modbusd"] = mb
    with open(cfg, "w") as f:
        json.dump(s, f, indent=2)


def check_cfg():
    return subprocess.run([MODBUSD, "-n", "-f", cfg], capture_output=True, text=True)


for mb, why in (({"listen": 5}, "services.modbusd.listen: expected"),
                ({"idle_timeout_ms": 5}, "services.modbusd.idle_timeout_ms: must be between 100 and 3600000"),
                ({"allow": ["10.0.0.0/33"]},
                 'services.modbusd.allow[0]: "10.0.0.0/33": prefix length must be 0..32'),
                ({"allow": ["127.0.0.1", "10.0.0.0/8" + " " * 60]},
                 "services.modbusd.allow[1]: \"10.0.0.0/8      "),
                ({"allow": ["0.0.0.0/0" + "x" * 60]}, "is 69 bytes, longer than any IPv4"),
                ({"allow": ["10.0.0.1/8"]}, "host bits set below /8 (the block is 10.0.0.0/8)"),
                ({"allow": ["010.0.0.1"]}, "is not an IPv4 address"),
                ({"allow": []}, "services.modbusd.allow: expected an array of 1..32"),
                ({"listen": "127.0.0.1:99999"},
                 'services.modbusd.listen: "127.0.0.1:99999": port "99999" must be a number 1..65535'),
                ({"listen": "127.0.0.1:abc"}, 'services.modbusd.listen: "127.0.0.1:abc": port "abc"'),
                ({"listen": "localhost:502"}, '"localhost" is not an IPv4 address or *'),
                ({"rtu": {"device": "/dev/ttyS0", "baud": 12345}},
                 "services.modbusd.rtu.baud: unsupported baud rate"),
                ({"units": {"1": "nope"}}, "services.modbusd.units.1: expected the id"),
                ({"units": {"300": "wm1"}}, "services.modbusd.units.300: unit id"),
                ({"scale": {"string_current": 0}}, "services.modbusd.scale.string_current"),
                ({"bogus": 1}, "services.modbusd.bogus: unknown key")):
    write(mb)
    r = check_cfg()
    check(r.returncode == 1 and why in r.stderr and cfg + ":" in r.stderr,
          "%r refused: %r" % (mb, r.stderr))

port = free_port()
write({"listen": "127.0.0.1:%d" % port, "units": {"5": "wm2", "7": "wm1"}})
check(check_cfg().returncode == 0, "good config accepted")
mb = start([MODBUSD, "-f", cfg])


check(wait_for(lambda: tcp_listening(port), 10), "modbusd listens")
from pymodbus.client import ModbusTcpClient

c = ModbusTcpClient("127.0.0.1", port=port)
c.connect()
rr = c.read_input_registers(1003, 2, slave=5)
check(not rr.isError() and rr.registers == [1, 9], "unit 5 is wm2: %s" % rr)
rr = c.read_input_registers(1003, 2, slave=7)
check(not rr.isError() and rr.registers == [2, 18], "unit 7 is wm1: %s" % rr)
rr = c.read_input_registers(1003, 2, slave=1)
check(rr.isError() and rr.exception_code == 0x0B, "unit 1 no longer mapped: %s" % rr)
c.close()
stop(mb)

port = free_port()
write({"listen": "127.0.0.1:%d" % port, "allow": ["10.0.0.0/8"]})
mb = start([MODBUSD, "-f", cfg])
check(wait_for(lambda: tcp_listening(port), 10), "modbusd listens (allow-list)")
sk = socket.create_connection(("127.0.0.1", port))
sk.settimeout(3)
sk.sendall(bytes.fromhex("000100000006010303e80002"))
try:
    closed = sk.recv(10) == b""
except OSError:
    closed = True
check(closed, "127.0.0.1 outside the allow-list: closed without an answer")
stop(mb)
done("modbusd_config")
