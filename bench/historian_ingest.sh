#!/usr/bin/env bash
# Sustained ingest of the historian: module readings/s from two busd (two
# webmanagers of the large site, 512 modules each, every reading kept, 100
# polls/s each = 102,400 readings/s offered) through the historian into a
# real PostgreSQL, measured from the first to the last stored row; and in the
# same run a raw `\copy` of the same rows into the same schema, as the
# reference. All on this machine's 2 cores.
# MODE=live (default): the producers run at the same time, on the same two
# cores. MODE=catchup: both busd publish first (their journals keep it all),
# then the historian starts and takes everything through replay: the
# historian and PostgreSQL alone on the machine, as when the webmanagers are
# real devices polled by light busd processes or busd runs on other hosts.
# Usage: [MODE=live|catchup] bench/historian_ingest.sh [BUILD_DIR] [CYCLES]
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
DSN=$(bash scripts/pg.sh start "$tmp/pg" "$PGPORT")
psqlw() { psql "$DSN" -qtAX "$@"; }

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
MODE=${MODE:-live}
want=$((2 * CYCLES * 512))
start_busd() {
  # speed 100 with 1 s polls: 100 cycles/s of 512 readings per gateway.
  "$B/services/busd/ohmwatch-busd" -f "$tmp/site.json" -g big1 -s 100 --cycles "$CYCLES" \
    --linger 600 2> "$tmp/busd1.log" &
  busd=$!
  "$B/services/busd/ohmwatch-busd" -f "$tmp/site.json" -g big2 -s 100 --cycles "$CYCLES" \
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

# Poll the row count: the rate is rows between the first and the last sample
# that changed, over the time between them.
t_first=""; n_first=0; t_last=""; n_last=0
deadline=$((SECONDS + 300))
while [ $SECONDS -lt $deadline ]; do
  n=$(psqlw -c "SELECT count(*) FROM module_readings")
  t=$(date +%s.%N)
  if [ "$n" -gt 0 ] && [ -z "$t_first" ]; then t_first=$t; n_first=$n; fi
  if [ "$n" != "$n_last" ]; then t_last=$t; n_last=$n; fi
  [ "$n" -ge "$want" ] && break
  sleep 0.1
done
kill "$hist" "$busd" "$busd2"; wait "$hist" "$busd" "$busd2" 2>/dev/null || true
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
  echo "historian ingest (live), 2 gateways x 512 modules at 100 polls/s (102400 readings/s" \
       "offered), every reading kept, $n_last module rows: $rate rows/s sustained" \
       "(busd -> historian -> PostgreSQL, producers on the same 2 cores)"
fi
echo "raw \\copy of the same rows into the same schema: $ref rows/s"
python3 -c "print('ratio historian/raw copy: %.2f' % ($rate / $ref))"
grep -E "stopping" "$tmp/historian.log" | tail -1 || true
