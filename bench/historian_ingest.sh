#!/usr/bin/env bash
# Sustained ingest of the historian: module readings/s from two busd (two
# webmanagers of the large site, 512 modules each, every reading kept, SPEED
# polls/s each, default 120 = 122,880 readings/s offered: more than the
# target, so the figure is what the historian sustains, not what was
# offered) through the historian into a
# real PostgreSQL, measured from the first to the last commit; and in the
# same run a raw `\copy` of the same rows into the same schema, as the
# reference. All on this machine's 2 cores.
# MODE=live (default): the producers run at the same time, on the same two
# cores. MODE=catchup: both busd publish first (their journals keep it all),
# then the historian starts and takes everything through replay: the
# historian and PostgreSQL alone on the machine, as when the webmanagers are
# real devices polled by light busd processes or busd runs on other hosts.
# Usage: [MODE=live|catchup] [SPEED=120] bench/historian_ingest.sh [BUILD_DIR] [CYCLES]
# (target: >= 100000/s)
set -euo pipefail
cd "$(dirname "$0")/.."
B=${1:-build}
CYCLES=${2:-1000}
tmp=$(mktemp -d)
chmod 755 "$tmp" # the cluster runs as "postgres" when we are root
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
PGPORT=$(port)
cleanup() {
  kill "${hist:-}" "${busd:-}" "${busd2:-}" 2>/dev/null || true
  wait 2>/dev/null || true
  bash scripts/pg.sh stop "$tmp/pg"
  rm -rf "$tmp"
}
trap cleanup EXIT
# CURVE keys for the run, as a deployment has them (docs/security.md)
export OHMWATCH_KEYS_DIR=$tmp/keys
"$B/cli/ohmwatch" keygen -d "$OHMWATCH_KEYS_DIR" > /dev/null
DSN=$(bash scripts/pg.sh start "$tmp/pg" "$PGPORT")
# psql itself: the Debian wrapper is a perl script, too slow for the poll below.
PSQL=$(ls /usr/lib/postgresql/*/bin/psql 2>/dev/null | sort -V | tail -1)
PSQL=${PSQL:-psql}
psqlw() { "$PSQL" "$DSN" -qtAX "$@"; }

python3 - "$tmp" "$DSN" <<'PY'
import json, socket, sys
def port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); return s.getsockname()[1]
tmp, dsn = sys.argv[1], sys.argv[2]
s = json.load(open("etc/site-large.json"))
g = s["gateways"][0]
g.update({"publish": "tcp://127.0.0.1:%d" % port(), "replay": "tcp://127.0.0.1:%d" % port(),
          "log_rate_s": 1, "log_rate_charge_s": 0, "journal_messages": 2000000})
g2 = json.loads(json.dumps(g))
g2.update({"id": "big2", "publish": "tcp://127.0.0.1:%d" % port(),
           "replay": "tcp://127.0.0.1:%d" % port()})
s["gateways"].append(g2)
s["services"] = {"alarmd": {"publish": "tcp://127.0.0.1:%d" % port(),
                            "control": "tcp://127.0.0.1:%d" % port(),
                            "replay": "tcp://127.0.0.1:%d" % port(),
                            "state_file": tmp + "/alarmd.json"},
                 "historian": {"dsn": dsn, "spool_dir": tmp + "/spool", "batch_rows": 20000,
                               "batch_ms": 200}}
json.dump(s, open(tmp + "/site.json", "w"))
PY

"$B/services/historian/ohmwatch-historian" --migrate -f "$tmp/site.json" 2>/dev/null
# EXP_SQL: a schema experiment (an index, a key) applied before the run.
if [ -n "${EXP_SQL:-}" ]; then psqlw -c "$EXP_SQL"; fi
MODE=${MODE:-live}
SPEED=${SPEED:-120}
start_busd() {
  # speed N with 1 s polls: N cycles/s of 512 readings per gateway.
  "$B/services/busd/ohmwatch-busd" -f "$tmp/site.json" -g big1 -s "$SPEED" --cycles "$CYCLES" \
    --linger 600 2> "$tmp/busd1.log" &
  busd=$!
  "$B/services/busd/ohmwatch-busd" -f "$tmp/site.json" -g big2 -s "$SPEED" --cycles "$CYCLES" \
    --linger 600 2> "$tmp/busd2.log" &
  busd2=$!
}
start_historian() {
  "$B/services/historian/ohmwatch-historian" -f "$tmp/site.json" 2> "$tmp/historian.log" &
  hist=$!
}
if [ "$MODE" = catchup ]; then
  start_busd
  # Both publish 100 cycles/s; after that they only answer replay (--linger).
  sleep $((CYCLES / 100 + 3))
  start_historian
else
  start_historian
  sleep 1
  start_busd
fi

# The rate is module rows stored between the first and the last commit, over
# the time between them. Polling count(*) ten times a second would itself
# scan the growing table and take the CPU being measured (it cost about a
# tenth of it), so the poll reads the publishers' positions (one row per
# publisher, committed in the same transaction as the rows) and counts the
# rows only twice: after the first commit and at the end.
pos() { psqlw -c "SELECT coalesce(sum(seq), 0) FROM ingest_positions"; }
t_first=""; n_first=0; t_last=""; p_last=0
deadline=$((SECONDS + 300))
while [ $SECONDS -lt $deadline ]; do
  p=$(pos)
  t=$(date +%s.%N)
  if [ "$p" -gt 0 ] && [ -z "$t_first" ]; then
    t_first=$t
    n_first=$(psqlw -c "SELECT count(*) FROM module_readings")
  fi
  if [ "$p" != "$p_last" ]; then t_last=$t; p_last=$p; fi
  # Done when nothing has moved for 3 s after the producers have finished.
  if [ -n "$t_first" ] && awk "BEGIN { exit !($t - $t_last > 3) }"; then
    break
  fi
  sleep 0.1
done
n_last=$(psqlw -c "SELECT count(*) FROM module_readings")
# The historian first: a busd stopped before it would turn its last replay
# requests into reported losses.
kill "$hist"; wait "$hist" 2>/dev/null || true
kill "$busd" "$busd2"; wait "$busd" "$busd2" 2>/dev/null || true
hist=""; busd=""; busd2=""
rate=$(python3 -c "print('%.0f' % (($n_last - $n_first) / max(1e-9, $t_last - $t_first)))")

# Reference: the same rows, \copy'd into the same (emptied) schema.
psqlw -c "\\copy (SELECT * FROM module_readings) TO '$tmp/rows.tsv'"
psqlw -c "TRUNCATE module_readings"
t0=$(date +%s.%N)
psqlw -c "\\copy module_readings FROM '$tmp/rows.tsv'"
t1=$(date +%s.%N)
ref=$(python3 -c "print('%.0f' % ($n_last / ($t1 - $t0)))")

if [ "$MODE" = catchup ]; then
  echo "historian ingest (catch-up from 2 busd journals, producers idle), 2 gateways x 512" \
       "modules, every reading kept, $n_last module rows: $rate rows/s sustained" \
       "(busd replay -> historian -> PostgreSQL, 2 cores)"
else
  echo "historian ingest (live), 2 gateways x 512 modules at $SPEED polls/s ($((2 * 512 * SPEED)) readings/s" \
       "offered), every reading kept, $n_last module rows: $rate rows/s sustained" \
       "(busd -> historian -> PostgreSQL, producers on the same 2 cores)"
fi
echo "raw \\copy of the same rows into the same schema: $ref rows/s"
python3 -c "print('ratio historian/raw copy: %.2f' % ($rate / $ref))"
grep -E "stopping" "$tmp/historian.log" | tail -1 || true
