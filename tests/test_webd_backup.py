"""The backup page's API (issue 18: backup and restore of the configuration
as one archive, a restore validated before anything changes), against a
real alarmd and webd over TLS: admin downloads the archive (the site file
byte for byte, every runtime setting alarmd has in force, made by
webd/admin); a viewer and an engineer without admin are refused 403; a
threshold is changed; a dry run lists that change and changes nothing; a
tampered archive is refused 422 naming the member and changes nothing; the
restore puts the threshold back, read back from alarmd, and alarmd's audit
names webd/admin; the CLI's restore takes the web's archive as its own."""
import hashlib
import io
import json
import re
import tarfile

from owtest import *
from webdtest import *

d = tmpdir()
cfg = os.path.join(d, "site.json")
s = site_with_alarmd(cfg, d, [{"id": "wm1"}], name="Sub 9")
A = s["services"]["alarmd"]
port = free_port()
s["services"]["webd"] = webd_section(d, port, "initial-Pw-b4ck")
cafile = s["services"]["webd"]["cert_file"]
with open(cfg, "w") as f:
    json.dump(s, f, indent=2)
site_bytes = open(cfg, "rb").read()
KEY = "thresholds.voltage_v.high_alarm"

alarmd = start([ALARMD, "-f", cfg])
webd = start([WEBD, "-f", cfg], stderr=open(os.path.join(d, "webd.log"), "w"))
check(wait_for(lambda: tcp_listening(port), 20), "webd listens")


def in_force(key):
    rep, _ = ctl_call(A["control"], control("get", "wm1", key))
    check(rep["ok"], "get %s: %s" % (key, rep))
    return rep["value"]


admin = first_admin(port, "initial-Pw-b4ck", "admin-Pw-b4ck-2", cafile)
viewer = web_user(admin, "vic", ["viewer"])
eng = web_user(admin, "eve", ["engineer"])
for who in (viewer, eng):
    st, j = who.get("/api/backup")
    check(st == 403 and "admin" in j["error"], "%s: backup refused 403: %s %r" % (who.user, st, j))

st, hs, arch = admin.raw("GET", "/api/backup")
check(st == 200 and hs.get("content-type") == "application/gzip", "backup: %s %r" % (st, hs))
m = re.match(r'attachment; filename="(backup-Sub[-_]9-\d{8}T\d{6}Z\.tar\.gz)"$',
             hs.get("content-disposition", ""))
check(m is not None, "named as the guide's rule wants: %r" % hs.get("content-disposition"))
name = m.group(1) if m else "backup-x.tar.gz"
with tarfile.open(fileobj=io.BytesIO(arch), mode="r:gz") as t:
    mem = {x.name: t.extractfile(x).read() for x in t.getmembers()}
check(mem.get("site.json") == site_bytes, "the site file byte for byte")
man = json.loads(mem["manifest.json"])
check(man.get("created_by", "").endswith("/admin"), "made by .../admin: %r" % man.get("created_by"))
check(hashlib.sha256(mem["site.json"]).hexdigest() in json.dumps(man), "manifest: the site's hash")
sett = json.loads(mem["settings.json"])
old = in_force(KEY)
check(json.dumps(old) in json.dumps(sett) and KEY.split(".", 1)[1] in json.dumps(sett) or
      KEY in json.dumps(sett), "the archive holds %s" % KEY)
path = os.path.join(d, name)
with open(path, "wb") as f:
    f.write(arch)

# A runtime change through the web, as the engineer.
new = round(old + 0.3, 2)
st, j = eng.post("/api/thresholds", {"gw": "wm1", "key": KEY, "value": new})
check(st == 200, "engineer sets %s %s: %s %r" % (KEY, new, st, j))
check(abs(in_force(KEY) - new) < 1e-9, "alarmd has %s = %s" % (KEY, new))


def restore(data, extra="", who=admin):
    return who.req("POST", "/api/restore?name=%s%s" % (name, extra), data,
                   headers={"Content-Type": "application/octet-stream"})


st, j = restore(arch, "&dry_run=1")
text = "\n".join(l["text"] for l in (j or {}).get("lines", []))
check(st == 200 and j["dry_run"], "dry run accepted: %s %r" % (st, j))
check(re.search(r"wm1 %s: %s -> %s" % (re.escape(KEY), new, old), text) is not None,
      "the dry run lists the change back: %r" % text)
check(abs(in_force(KEY) - new) < 1e-9, "dry run: nothing changed")

st, j = restore(arch, who=eng)
check(st == 403, "an engineer cannot restore: %s" % st)

bad = bytearray(arch)
with tarfile.open(fileobj=io.BytesIO(arch), mode="r:gz") as t:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as o:
        for x in t.getmembers():
            data = t.extractfile(x).read()
            if x.name == "settings.json":
                data = data.replace(json.dumps(old).encode(), json.dumps(old + 1).encode(), 1)
            x.size = len(data)
            o.addfile(x, io.BytesIO(data))
st, j = restore(buf.getvalue())
check(st == 422 and "settings.json" in j["error"], "tampered: 422 naming the member: %s %r" % (st, j))
check(abs(in_force(KEY) - new) < 1e-9, "tampered: nothing changed")
st, j = restore(b"not an archive at all")
check(st == 422, "garbage refused: %s %r" % (st, j))

st, j = restore(arch)
check(st == 200 and not j["dry_run"], "restore: %s %r" % (st, j))
check(abs(in_force(KEY) - old) < 1e-9, "alarmd has %s = %s again" % (KEY, old))
check(open(cfg, "rb").read() == site_bytes, "the site file unchanged (it was the same)")
st, j = admin.get("/api/audit?gw=wm1")
recs = [r for r in (j or {}).get("records", []) if r.get("key") == KEY]
check(len(recs) >= 2 and recs[-1]["who"].endswith("webd/admin") and recs[-2]["who"].endswith("webd/eve"),
      "audit: eve's change, admin's restore: %r" % recs[-2:])

r = subprocess.run([CLI, "-f", cfg, "restore", "--dry-run", path], capture_output=True, text=True,
                   timeout=60)
check(r.returncode == 0 and "0 runtime setting(s)" in r.stdout,
      "the CLI takes the web's archive: %r" % (r.stdout + r.stderr))

log = open(os.path.join(d, "webd.log")).read()
for pw in ("initial-Pw-b4ck", "admin-Pw-b4ck-2", "own-pass-vic", "own-pass-eve"):
    check(pw not in log, "no password in webd's log")
done("webd_backup")
