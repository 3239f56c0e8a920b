"""A damaged spool loses nothing that exists elsewhere. The historian spools
while PostgreSQL is down; one record of its spool segment gets a flipped bit
and a run of ~200 records is overwritten with garbage — once while the
historian is stopped (found at open) and once while it runs (found by the
drain when PostgreSQL returns). The reader skips only the damaged records
(everything after them still reads) and says where and how much; the
historian rewinds its subscription to what PostgreSQL holds so busd's
journal replays the lost messages; the damaged segment is kept in
spool/damaged/. Afterwards every reading busd published is stored exactly
once, including every one whose only spooled copy was destroyed."""
import json
import os
import re
import struct
import zlib

from owtest import *

CYCLES = 1200  # at 50 cycles/s: 24 s
# busd publishes 22 messages per cycle plus a starting and a stopping heartbeat.
WANT = CYCLES * 22 + 2


def stored(db):
    return db.scalar("SELECT count(*) FROM module_readings")


def segments(spool):
    if not os.path.isdir(spool):
        return []
    return sorted(f for f in os.listdir(spool) if re.fullmatch(r"spool-\d{6}\.seg", f))


def spooled_bytes(spool):
    return sum(os.path.getsize(os.path.join(spool, f)) for f in segments(spool))


def records(data):
    """(offset, length, message) of every SPL2 record, checked as spool.c does."""
    out, off = [], 0
    while off + 20 <= len(data):
        magic, tl, bl, hcrc, crc = struct.unpack_from("<4sIIII", data, off)
        if magic != b"SPL2" or zlib.crc32(data[off:off + 12]) != hcrc:
            break
        if off + 20 + tl + bl > len(data):
            break
        if zlib.crc32(data[off + 20:off + 20 + tl + bl], zlib.crc32(data[off:off + 16])) != crc:
            break
        out.append((off, 20 + tl + bl, json.loads(data[off + 20 + tl:off + 20 + tl + bl])))
        off += 20 + tl + bl
    return out, off


def damage(seg):
    """Flip one bit in a record a third of the way in; overwrite ~200 records
    two thirds of the way in with random bytes (a bad sector's worth). In
    place: the historian may be appending to the file meanwhile. Returns the
    destroyed records and the two regions (offset, bytes)."""
    with open(seg, "rb") as f:
        data = f.read()
    recs, end = records(data)
    check(len(recs) > 3000, "the segment is SPL2 records (%d records, %d bytes)" %
          (len(recs), end))
    i1, i2, run = len(recs) // 3, len(recs) // 2, 200
    o1, n1, _ = recs[i1]
    o2, o3 = recs[i2][0] + 7, recs[i2 + run][0] + 3
    with open(seg, "r+b") as f:
        f.seek(o1 + n1 - 10)
        f.write(bytes([data[o1 + n1 - 10] ^ 0x08]))
        f.seek(o2)
        f.write(os.urandom(o3 - o2))
    lost = [recs[i1]] + recs[i2:i2 + run + 1]
    return lost, [(o1, n1), (recs[i2][0], recs[i2 + run + 1][0] - recs[i2][0])]


def run(live):
    phase = "while running" if live else "at rest"
    db = pg()
    d = tmpdir()
    cfg = os.path.join(d, "site.json")
    spool = os.path.join(d, "spool")
    log = os.path.join(d, "historian.log")
    lf = open(log, "w")
    # Every reading kept (log rate 1 s = the poll period): stored must equal published.
    s = site_full(cfg, d, [{"id": "wm1", "log_rate_s": 1, "log_rate_charge_s": 0,
                            "journal_messages": 1000000}], db.dsn, {"batch_ms": 50})
    busd = start([BUSD, "-f", cfg, "-s", "50", "--cycles", str(CYCLES), "--linger", "120"])
    hist = start([HISTORIAN, "-f", cfg], stderr=lf)
    check(wait_for(lambda: stored(db) > 2000, 30, 0.2), "historian is storing")
    # PostgreSQL away: the historian spools.
    db.stop()
    check(wait_for(lambda: spooled_bytes(spool) > 1500000, 40, 0.2),
          "readings go to the spool while PostgreSQL is down")
    if not live:
        stop(hist)
    segs = segments(spool)
    check(len(segs) == 1, "one spool segment (%s)" % segs)
    seg = os.path.join(spool, segs[-1])
    lost, regions = damage(seg)
    lost_seqs = {m["seq"] for _, _, m in lost}
    db.start()
    if not live:
        hist = start([HISTORIAN, "-f", cfg], stderr=lf)
    check(wait_for(lambda: db.scalar("SELECT seq FROM ingest_positions WHERE pub='busd.wm1'")
                   >= WANT, 180, 0.5), "historian's position reached busd's last message")
    stop(hist)
    lf.close()
    with open(log) as f:
        text = f.read()

    published = replay_all(s["gateways"][0]["replay"])
    stop(busd)
    check(len(published) == WANT, "busd's journal holds everything it published (%d)" %
          len(published))
    pub_seqs = {m["seq"] for m in published if m["kind"] in ("module", "string", "aux")}
    rows = db.query("SELECT seq FROM module_readings UNION ALL SELECT seq FROM string_readings "
                    "UNION ALL SELECT seq FROM sensor_readings")
    got = [r[0] for r in rows]
    check(len(got) == len(set(got)), "no duplicates (%d rows, %d distinct)" %
          (len(got), len(set(got))))
    check(set(got) == pub_seqs, "stored sequence set equals the published one: missing %d, "
          "extra %d" % (len(pub_seqs - set(got)), len(set(got) - pub_seqs)))
    check(len(got) == len(pub_seqs), "count equal: %d stored, %d published" %
          (len(got), len(pub_seqs)))
    lost_readings = {q for q in lost_seqs if q in pub_seqs}
    check(len(lost_readings) > 150 and lost_readings <= set(got),
          "the %d readings whose spooled copy was destroyed came back from busd's journal "
          "(%d stored)" % (len(lost_readings), len(lost_readings & set(got))))

    # The log: each region with its segment, offset and size, as corruption
    # (records follow it), not a torn write; the rewind; the file kept.
    name = os.path.basename(seg)
    for off, n in regions:
        check("%s: %d corrupt byte(s) at offset %d skipped" % (name, n, off) in text,
              "logged: %s: %d corrupt bytes at offset %d" % (name, n, off))
    check("a torn last write" not in text, "nothing called a torn write")
    rewind = ("spool damage found while draining: rewinding the subscriptions" if live else
              "resuming from PostgreSQL's positions and the spool's records before the first "
              "damage")
    check(rewind in text, "logged the rewind: " + rewind)
    m = re.search(r"lost (\d+)", text.split("stopping:")[-1])
    check(m and m.group(1) == "0", "the subscriber declared nothing lost (%s)" %
          (m and m.group(1)))
    m = re.search(r"damaged bytes skipped (\d+), torn (\d+)", text.split("stopping:")[-1])
    check(m and int(m.group(1)) == regions[0][1] + regions[1][1] and m.group(2) == "0",
          "the stats count the damaged bytes (%s of %d)" %
          (m and m.group(1), regions[0][1] + regions[1][1]))
    check(segments(spool) == [], "the spool is empty after the drain")
    kept = os.path.join(spool, "damaged", name)
    check(os.path.isfile(kept) and os.path.getsize(kept) >= regions[1][0] + regions[1][1],
          "the damaged segment is kept aside in damaged/")
    for line in text.splitlines():
        if "spool" in line and "warning" in line and "unavailable" not in line:
            print(line)
    print("%s: %d records destroyed (%d readings, %d + %d bytes); stored %d readings, "
          "published %d, duplicates %d" % (phase, len(lost), len(lost_readings), regions[0][1],
                                            regions[1][1], len(got), len(pub_seqs),
                                            len(got) - len(set(got))))


run(live=False)
run(live=True)
done("test_historian_spool_damage")
