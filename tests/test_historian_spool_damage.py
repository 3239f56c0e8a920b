"""A damaged spool loses nothing that exists elsewhere. The historian spools
while PostgreSQL is down and is stopped; one record of its spool segment
gets a flipped bit and a run of ~200 records is overwritten with garbage;
PostgreSQL and the historian start again. The reader skips only the damaged
records (everything after them still reads), says where and how much, the
historian rewinds its subscription to what PostgreSQL holds so busd's
journal replays the lost messages, and the damaged segment is kept in
spool/damaged/. Afterwards every reading busd published is stored exactly
once, including every one whose only spooled copy was destroyed."""
import json
import os
import re
import struct
import zlib

from owtest import *

db = pg()
d = tmpdir()
cfg = os.path.join(d, "site.json")
spool = os.path.join(d, "spool")
# Every reading kept (log rate 1 s = the poll period), so stored must equal published.
s = site_full(cfg, d, [{"id": "wm1", "log_rate_s": 1, "log_rate_charge_s": 0,
                        "journal_messages": 1000000}], db.dsn, {"batch_ms": 50})
CYCLES = 1200  # at 50 cycles/s: 24 s
busd = start([BUSD, "-f", cfg, "-s", "50", "--cycles", str(CYCLES), "--linger", "120"])
hist = start([HISTORIAN, "-f", cfg])


def stored():
    return db.scalar("SELECT count(*) FROM module_readings")


def segments():
    return sorted(f for f in os.listdir(spool) if re.fullmatch(r"spool-\d{6}\.seg", f))


def records(data):
    """(offset, length, message) of every SPL2 record, checked as spool.c does."""
    out, off = [], 0
    while off + 20 <= len(data):
        magic, tl, bl, hcrc, crc = struct.unpack_from("<4sIIII", data, off)
        if magic != b"SPL2" or zlib.crc32(data[off:off + 12]) != hcrc:
            break
        if zlib.crc32(data[off + 20:off + 20 + tl + bl], zlib.crc32(data[off:off + 16])) != crc:
            break
        out.append((off, 20 + tl + bl, json.loads(data[off + 20 + tl:off + 20 + tl + bl])))
        off += 20 + tl + bl
    return out, off


check(wait_for(lambda: stored() > 2000, 30, 0.2), "historian is storing")
# PostgreSQL away: the historian spools; it is stopped while it spools.
db.stop()
check(wait_for(lambda: os.path.isdir(spool) and segments() and
               sum(os.path.getsize(os.path.join(spool, f)) for f in segments()) > 1500000, 40, 0.2),
      "readings go to the spool while PostgreSQL is down")
stop(hist)
segs = segments()
check(len(segs) == 1, "one spool segment (%s)" % segs)
seg = os.path.join(spool, segs[-1])
with open(seg, "rb") as f:
    data = bytearray(f.read())
recs, end = records(data)
check(end == len(data) and len(recs) > 3000,
      "the segment is whole SPL2 records (%d records, %d of %d bytes)" % (len(recs), end, len(data)))

# One flipped bit in a record a third of the way in; ~200 records two thirds
# of the way in overwritten with random bytes (a bad sector's worth).
i1, i2, run = len(recs) // 3, 2 * len(recs) // 3, 200
o1, n1, _ = recs[i1]
data[o1 + n1 - 10] ^= 0x08
o2 = recs[i2][0] + 7
o3 = recs[i2 + run][0] + 3
data[o2:o3] = os.urandom(o3 - o2)
with open(seg, "wb") as f:
    f.write(data)
lost_recs = [recs[i1]] + recs[i2:i2 + run + 1]
lost_seqs = {m["seq"] for _, _, m in lost_recs}
bad1 = n1
bad2 = recs[i2 + run + 1][0] - recs[i2][0]
size = len(data)

log = os.path.join(d, "historian.log")
db.start()
with open(log, "w") as lf:
    hist = start([HISTORIAN, "-f", cfg], stderr=lf)
    # busd publishes 22 messages per cycle plus a starting and a stopping heartbeat.
    want = CYCLES * 22 + 2
    check(wait_for(lambda: db.scalar("SELECT seq FROM ingest_positions WHERE pub='busd.wm1'")
                   >= want, 180, 0.5), "historian's position reached busd's last message")
    stop(hist)
with open(log) as f:
    text = f.read()

published = replay_all(s["gateways"][0]["replay"])
stop(busd)
check(len(published) == want, "busd's journal holds everything it published (%d)" % len(published))
pub_seqs = {m["seq"] for m in published if m["kind"] in ("module", "string", "aux")}
rows = db.query("SELECT seq FROM module_readings UNION ALL SELECT seq FROM string_readings "
                "UNION ALL SELECT seq FROM sensor_readings")
got = [r[0] for r in rows]
check(len(got) == len(set(got)), "no duplicates (%d rows, %d distinct)" % (len(got), len(set(got))))
check(set(got) == pub_seqs, "stored sequence set equals the published one: missing %d, extra %d" %
      (len(pub_seqs - set(got)), len(set(got) - pub_seqs)))
check(len(got) == len(pub_seqs), "count equal: %d stored, %d published" % (len(got), len(pub_seqs)))
lost_readings = {q for q in lost_seqs if q in pub_seqs}
check(len(lost_readings) > 150 and lost_readings <= set(got),
      "the %d readings whose spooled copy was destroyed came back from busd's journal (%d stored)"
      % (len(lost_readings), len(lost_readings & set(got))))

# What the log says: each region with its segment, offset and size, as
# corruption (records follow it), not a torn write; the damaged file kept.
name = os.path.basename(seg)
for off, n in ((o1, bad1), (recs[i2][0], bad2)):
    check("%s: %d corrupt byte(s) at offset %d skipped" % (name, n, off) in text,
          "logged: %s: %d corrupt bytes at offset %d" % (name, n, off))
check("a torn last write" not in text, "nothing called a torn write")
for line in text.splitlines():
    if "spool" in line and "warning" in line:
        print(line)
check("resuming from PostgreSQL's positions and the spool's records before the first damage"
      in text, "logged the rewind")
m = re.search(r"lost (\d+)", text.split("stopping:")[-1])
check(m and m.group(1) == "0", "the subscriber declared nothing lost (%s)" % (m and m.group(1)))
check(segments() == [], "the spool is empty after the drain")
kept = os.path.join(spool, "damaged", name)
check(os.path.isfile(kept) and os.path.getsize(kept) == size,
      "the damaged segment is kept aside in damaged/ (%d bytes)" %
      (os.path.getsize(kept) if os.path.isfile(kept) else -1))
print("spool: %d records, %d destroyed (%d readings, %d + %d bytes); stored %d readings, "
      "published %d, duplicates %d" % (len(recs), len(lost_recs), len(lost_readings), bad1, bad2,
                                       len(got), len(pub_seqs), len(got) - len(set(got))))
done("test_historian_spool_damage")
