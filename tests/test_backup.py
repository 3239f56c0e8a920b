"""Configuration backup and restore (issue 17, the guide's System > Backup):
`ohmwatch backup` writes backup-XXXX.tar.gz holding the site file byte for
byte, every runtime setting alarmd has in force (read back here from
alarmd) and a manifest with each member's SHA-256; the thresholds are then
changed at runtime and in the site file; `ohmwatch restore` puts the site
file back byte-identical (the changed one kept as .bak) and every setting
back to its backed-up value, audited under the restoring key and login. A
tampered, renamed, padded, invalid or foreign backup is refused naming what
and where, and then nothing has changed; --dry-run changes nothing; a key
without the configure role cannot restore."""
import getpass
import gzip
import hashlib
import io
import re
import shutil
import stat
import tarfile

from owtest import *

LOGIN = os.environ.get("USER") or getpass.getuser()
d = tmpdir()
cfg = os.path.join(d, "site.json")
s = site_with_alarmd(cfg, d, [{"id": "wm1"}, {"id": "wm2"}], name="Sub 7")
A = s["services"]["alarmd"]
keygen("viewer", "read")
alog = os.path.join(d, "alarmd.log")
alarmd = start([ALARMD, "-f", cfg], stderr=open(alog, "w"))


def cli(*args, key=None, cwd=None):
    env = dict(os.environ)
    if key:
        env["OHMWATCH_KEY"] = os.path.join(KEYS, "private", key + ".key_secret")
    return subprocess.run([CLI, "-f", cfg] + list(args), capture_output=True, text=True,
                          timeout=60, env=env, cwd=cwd)


def settings():
    """{gw: {key: value}} as alarmd has them in force (its `list`)."""
    out = {}
    for gw in ("wm1", "wm2"):
        rep, msgs = ctl_call(A["control"], control("list", gw))
        check(rep["ok"], "list %s: %s" % (gw, rep))
        out[gw] = {m["key"]: m["value"] for m in msgs if m["kind"] == "config"}
    return out


def raw(path):
    with open(path, "rb") as f:
        return f.read()


def members(path):
    with tarfile.open(path, "r:gz") as t:
        return {m.name: t.extractfile(m).read() for m in t.getmembers()}


def pack(path, files, fix_manifest=True):
    """A tar.gz of files {name: bytes}; the manifest's hashes made to match
    (a careful forger) unless fix_manifest is False."""
    files = dict(files)
    if fix_manifest and "manifest.json" in files:
        m = json.loads(files["manifest.json"])
        for n in ("site.json", "settings.json"):
            if n in files:
                m["members"][n] = {"size": len(files[n]),
                                   "sha256": hashlib.sha256(files[n]).hexdigest()}
        files["manifest.json"] = json.dumps(m).encode()
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as t:
        for n, data in files.items():
            ti = tarfile.TarInfo(n)
            ti.size = len(data)
            t.addfile(ti, io.BytesIO(data))
    with open(path, "wb") as f:
        f.write(buf.getvalue())
    return path


check(wait_for(lambda: cli("thresholds", "get", "-g", "wm1").returncode == 0, 15),
      "alarmd answers: " + open(alog).read()[-2000:])

# A setting changed at runtime before the backup: the backup holds what is in
# force, not only what the file says.
HA = "thresholds.voltage_v.high_alarm"
r = cli("thresholds", "set", HA, "15.2", "-g", "wm1")
check(r.returncode == 0, "runtime set before the backup: %s" % r.stderr)
site_before = raw(cfg)
before = settings()
nkeys = len(before["wm1"])
check(nkeys >= 40 and before["wm1"][HA] == 15.2, "%d settings, %s = %s" %
      (nkeys, HA, before["wm1"].get(HA)))

# ---- backup ----
r = cli("backup", cwd=d)
check(r.returncode == 0, "backup with the default name: %s" % r.stderr)
named = [f for f in os.listdir(d) if f.startswith("backup-")]
check(len(named) == 1 and re.fullmatch(r"backup-Sub-7-\d{8}T\d{6}Z\.tar\.gz", named[0]),
      "default name backup-SITE-TIME.tar.gz: %r" % named)
bk = os.path.join(d, "backup-one.tar.gz")
r = cli("backup", "-o", bk)
check(r.returncode == 0, "backup -o: %s" % r.stderr)
check(stat.S_IMODE(os.stat(bk).st_mode) == 0o600, "the backup is the owner's only (0600): it "
      "holds the site file")
check(("%d runtime settings of 2 gateway(s)" % (2 * nkeys)) in r.stdout, r.stdout)
mem = members(bk)
check(sorted(mem) == ["manifest.json", "settings.json", "site.json"],
      "three members: %r" % sorted(mem))
check(mem["site.json"] == site_before, "site.json is the site file byte for byte")
man = json.loads(mem["manifest.json"])
check(man["format"] == 1 and man["site"] == "Sub 7" and man["ohmwatch_version"] and
      re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", man["created_at"]),
      "manifest: format, site, version, time: %r" % man)
check(man["created_by"] == "cli/" + LOGIN, "created by the CURVE key and login: %r" %
      man["created_by"])
for n in ("site.json", "settings.json"):
    check(man["members"][n] == {"size": len(mem[n]),
                                "sha256": hashlib.sha256(mem[n]).hexdigest()},
          "manifest hash of %s" % n)
backed = json.loads(mem["settings.json"])["gateways"]
check(backed == before, "settings.json holds every setting in force, exactly")
r = cli("backup", "-o", os.path.join(d, "backup-my copy.tar.gz"))
check(r.returncode == 2 and "only letters, digits" in r.stderr and
      not os.path.exists(os.path.join(d, "backup-my copy.tar.gz")),
      "a name the restore would refuse is not written: %s" % r.stderr)
r = cli("backup", "-o", bk)
check(r.returncode == 1 and "exists" in r.stderr, "an existing backup is not overwritten")

# ---- change: at runtime and in the file ----
LW = "thresholds.voltage_v.low_warn"
for gw, key, val in (("wm1", HA, 15.4), ("wm2", "thresholds.temp_c.high_warn", 31),
                     ("wm2", "thresholds.comm_lost_polls", 9)):
    r = cli("thresholds", "set", key, str(val), "-g", gw)
    check(r.returncode == 0, "set %s %s: %s" % (gw, key, r.stderr))
edited = json.loads(site_before)
edited["gateways"][1].setdefault("thresholds", {}).setdefault("voltage_v", {})["low_warn"] = 12.9
with open(cfg, "w") as f:
    json.dump(edited, f)  # compact: every byte of the file differs in layout too
site_changed = raw(cfg)
alarmd.send_signal(signal.SIGHUP)
check(wait_for(lambda: settings()["wm2"][LW] == 12.9, 10), "the edited file is in force")
changed = settings()
check(changed != before, "something to restore")


def unchanged(what):
    check(raw(cfg) == site_changed, what + ": the site file is untouched")
    check(settings() == changed, what + ": every setting is as it was")
    check(not os.path.exists(cfg + ".bak"), what + ": no .bak made")


# ---- refused, and nothing changed ----
# one digit of one value, the size kept: only the hash can tell
st = mem["settings.json"]
at = st.index(b'"%s": 15' % HA.encode()) + len(HA) + 5
tampered = st[:at] + b"6" + st[at + 1:]
check(json.loads(tampered)["gateways"]["wm1"][HA] == 16.2, "the forgery: 15.2 -> 16.2")
bad = pack(os.path.join(d, "backup-tampered.tar.gz"),
           dict(mem, **{"settings.json": tampered}), fix_manifest=False)
r = cli("restore", bad)
check(r.returncode == 1 and "member settings.json: SHA-256" in r.stderr and
      "modified" in r.stderr, "a changed value is refused naming the member: %s" % r.stderr)
unchanged("tampered settings")

bad = pack(os.path.join(d, "backup-site-edit.tar.gz"),
           dict(mem, **{"site.json": site_before.replace(b"Sub 7", b"Sub 8")}), fix_manifest=False)
r = cli("restore", bad)
check(r.returncode == 1 and "member site.json: SHA-256" in r.stderr, r.stderr)
unchanged("tampered site file")

flipped = bytearray(raw(bk))
flipped[len(flipped) // 2] ^= 0x10
bad = os.path.join(d, "backup-flipped.tar.gz")
with open(bad, "wb") as f:
    f.write(flipped)
r = cli("restore", bad)
check(r.returncode == 1 and bad in r.stderr, "a flipped byte is refused: %s" % r.stderr)
unchanged("flipped byte")

bad = pack(os.path.join(d, "backup-extra.tar.gz"), dict(mem, **{"run.sh": b"#!/bin/sh\n"}))
r = cli("restore", bad)
check(r.returncode == 1 and "member 'run.sh': not one a backup holds" in r.stderr, r.stderr)
unchanged("extra member")

bad = pack(os.path.join(d, "backup-path.tar.gz"),
           {"manifest.json": mem["manifest.json"], "settings.json": mem["settings.json"],
            "../site.json": mem["site.json"]})
r = cli("restore", bad)
check(r.returncode == 1 and "member '../site.json'" in r.stderr, r.stderr)
unchanged("a path in a member's name")

ren = os.path.join(d, "my-backup.tar.gz")
shutil.copy(bk, ren)
r = cli("restore", ren)
check(r.returncode == 1 and "backup-XXXX.tar.gz" in r.stderr, "a renamed backup: %s" % r.stderr)
unchanged("renamed")

# Consistent hashes (a careful forger, or a backup of another ohmwatch), but
# what it holds does not pass: each named, with its place.
out_of_range = json.loads(mem["settings.json"])
out_of_range["gateways"]["wm2"]["thresholds.comm_lost_polls"] = 0
bad = pack(os.path.join(d, "backup-range.tar.gz"),
           dict(mem, **{"settings.json": json.dumps(out_of_range).encode()}))
r = cli("restore", bad)
check(r.returncode == 1 and "gateways.wm2.thresholds.comm_lost_polls: wants a number" in
      r.stderr, "out of range: %s" % r.stderr)
unchanged("out of range")

crossed = json.loads(mem["settings.json"])
crossed["gateways"]["wm1"][LW] = crossed["gateways"]["wm1"]["thresholds.voltage_v.high_warn"] + .1
bad = pack(os.path.join(d, "backup-crossed.tar.gz"),
           dict(mem, **{"settings.json": json.dumps(crossed).encode()}))
r = cli("restore", bad)
check(r.returncode == 1 and "gateway wm1" in r.stderr and "low_warn" in r.stderr,
      "a setting the rules between keys refuse: %s" % r.stderr)
unchanged("crossed thresholds")

broken = json.loads(site_before)
broken["gateways"][0]["poll_ms"] = 5
bad = pack(os.path.join(d, "backup-badsite.tar.gz"),
           dict(mem, **{"site.json": json.dumps(broken, indent=2).encode()}))
r = cli("restore", bad)
check(r.returncode == 1 and re.search(r"site\.json: .*:\d+:\d+: gateways\[0\]\.poll_ms", r.stderr),
      "a site file that fails -n, at its line: %s" % r.stderr)
unchanged("site file that does not load")

other = json.loads(site_before)
other["site"]["name"] = "Sub 9"
om = json.loads(mem["manifest.json"])
om["site"] = "Sub 9"
bad = pack(os.path.join(d, "backup-other.tar.gz"),
           dict(mem, **{"site.json": json.dumps(other, indent=2).encode(),
                        "manifest.json": json.dumps(om).encode()}))
r = cli("restore", bad)
check(r.returncode == 1 and "backup of site 'Sub 9', this is 'Sub 7'" in r.stderr and
      "--other-site" in r.stderr, "another site's backup: %s" % r.stderr)
unchanged("another site")

r = cli("restore", bk, key="viewer")
check(r.returncode == 1 and "viewer may not reload: the key lacks the configure role" in r.stderr,
      "a read-only key cannot restore: %s" % r.stderr)
unchanged("read-only key")

# The CLI reading another file than alarmd (-f a copy): the check-only
# reload names the file by its SHA-256, so a different copy is refused before
# anything changes; a byte-identical one is found when alarmd reloads what
# was written, and the copy is put back from its .bak.
elsewhere = os.path.join(tmpdir(), "site.json")
with open(elsewhere, "w") as f:
    json.dump(json.loads(site_changed), f, indent=4)
copy_bytes = raw(elsewhere)
r = subprocess.run([CLI, "-f", elsewhere, "restore", bk], capture_output=True, text=True,
                   timeout=60)
check(r.returncode == 1 and "alarmd runs from " in r.stderr and "not the file named" in r.stderr,
      "another file than alarmd's: %s" % r.stderr)
check(raw(elsewhere) == copy_bytes, "the other file is untouched")
unchanged("another file than alarmd's")
with open(elsewhere, "wb") as f:
    f.write(site_changed)
r = subprocess.run([CLI, "-f", elsewhere, "restore", bk], capture_output=True, text=True,
                   timeout=60)
check(r.returncode == 1 and "not the file named" in r.stderr,
      "an identical copy, found at the reload: %s" % r.stderr)
check(raw(elsewhere) == site_changed and not os.path.exists(elsewhere + ".bak"),
      "the copy is put back from its .bak")
unchanged("an identical copy")

# ---- --dry-run: says what, changes nothing ----
r = cli("restore", bk, "--dry-run")
check(r.returncode == 0, "dry run: %s" % r.stderr)
check("would be replaced" in r.stdout and "wm1 %s: 15.4 -> 15.2" % HA in r.stdout and
      "wm2 thresholds.comm_lost_polls: 9 -> " in r.stdout and "nothing changed" in r.stdout,
      "dry run names each change: %s" % r.stdout)
unchanged("dry run")

# ---- restore ----
r = cli("restore", bk)
check(r.returncode == 0, "restore: %s %s" % (r.stdout, r.stderr))
check(raw(cfg) == site_before, "the site file is byte-identical to the backed-up one")
check(raw(cfg + ".bak") == site_changed, "the replaced file is kept as .bak")
after = settings()
check(after == before, "every runtime setting equals the backed-up value: %r" %
      {gw: {k: (before[gw][k], after[gw].get(k)) for k in before[gw]
            if before[gw][k] != after[gw].get(k)} for gw in before})
rep, msgs = ctl_call(A["control"], control("audit", "", index=0))
rec = [m for m in msgs if m["kind"] == "config"]
restored = [m for m in rec if m["who"] == "cli/" + LOGIN and m["source"] == "control" and
            m["key"] in (HA, "thresholds.temp_c.high_warn", "thresholds.comm_lost_polls")]
check(len(restored) >= 3 + 3, "the restore's sets are audited under cli/%s: %r" %
      (LOGIN, restored[-3:]))
reloads = [m for m in rec if m["source"] == "reload" and m["who"] == "cli/" + LOGIN]
check(any(m["gw"] == "wm2" and m["key"] == LW for m in reloads),
      "the reload of the restored file names the restoring user: %r" % reloads)
check(wait_for(lambda: "reloaded" in open(alog).read() and "cli/" + LOGIN in open(alog).read(), 5),
      "alarmd logs the reload and who asked")

# Again: nothing left to do.
r = cli("restore", bk)
check(r.returncode == 0 and "site file unchanged, 0 runtime setting(s) set" in r.stdout,
      "a second restore changes nothing: %s" % r.stdout)
check(settings() == before and raw(cfg) == site_before, "still as backed up")

# alarmd restarted: the restored settings were saved, not only applied.
stop(alarmd)
alarmd = start([ALARMD, "-f", cfg], stderr=open(alog, "a"))
check(wait_for(lambda: cli("thresholds", "get", "-g", "wm1").returncode == 0, 15), "alarmd back")
check(settings() == before, "the restored settings survive a restart of alarmd")

stop(alarmd)
done("backup")
