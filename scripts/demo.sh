#!/usr/bin/env bash
# The demo: installs what is missing, builds, starts busd, alarmd, the
# historian (with a private PostgreSQL cluster) and the web interface on the
# guide's sample site (2 strings x 9 FIAMM 12SLA50L blocks) with the demo
# scenario at 60x time, and shows the live dashboard in the terminal; the
# same is at https://localhost:8443/ (user admin, the initial password it
# prints, to be changed at first login). Ctrl-C stops everything.
# DEMO_SECONDS=N runs non-interactively for N seconds and prints one snapshot.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh --demo
bash scripts/build.sh build
mkdir -p run
# CURVE keys for the demo's processes (docs/security.md), made once.
export OHMWATCH_KEYS_DIR=${OHMWATCH_KEYS_DIR:-$PWD/run/keys}
./build/cli/ohmwatch keygen -d "$OHMWATCH_KEYS_DIR" >/dev/null
SITE=${SITE:-etc/site-sample.json}
SCENARIO=${SCENARIO:-etc/scenarios/demo.json}
SPEED=${SPEED:-60}
# History in a private PostgreSQL cluster, unless a database is given. It
# lives under /tmp: as root the cluster runs as "postgres", which must be able
# to reach it whatever the permissions of the checkout's parents.
PGDIR=${PGDIR:-/tmp/ohmwatch-demo-pg}
if [ -z "${OHMWATCH_PG_DSN:-}" ]; then
  OHMWATCH_PG_DSN=$(bash scripts/pg.sh start "$PGDIR" "${PGPORT:-55432}")
  export OHMWATCH_PG_DSN
  stop_pg=1
fi
# The web interface: a self-signed TLS pair and the first admin's password,
# each made once in run/ (kept across demos, like the users file, so a
# password changed at first login stays changed), and the sample site with
# a services.webd section pointing at them (run/demo-site.json).
WEB_PORT=${WEB_PORT:-8443}
if [ ! -s run/webd.crt ] || [ ! -s run/webd.key ]; then
  (umask 077 && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 825 \
    -subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1 \
    -keyout run/webd.key -out run/webd.crt 2>/dev/null)
fi
[ -s run/webd.admin_password ] ||
  (umask 077 && head -c 32 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 16 >run/webd.admin_password)
python3 - "$SITE" run/demo-site.json "$PWD/run" "$WEB_PORT" "$OHMWATCH_PG_DSN" <<'PY'
import json, os, sys
src, dst, run, port, dsn = sys.argv[1:]
site = json.load(open(src))
kv = dict(p.split("=", 1) for p in dsn.split())
site.setdefault("services", {})["webd"] = {
    "listen": "127.0.0.1:" + port,
    "cert_file": run + "/webd.crt", "key_file": run + "/webd.key",
    "users_file": run + "/webd-users.json",
    "initial_password_file": run + "/webd.admin_password",
    "history": {"host": kv.get("host", "localhost"), "port": int(kv.get("port", 5432)),
                "dbname": kv.get("dbname", "ohmwatch"), "user": "webd_reader",
                "password_file": run + "/webd.pg_password"},
}
json.dump(site, open(dst, "w"), indent=2)
PY
printf '%s\n' "${OW_PG_WEBD_PASSWORD:-webd}" >run/webd.pg_password
WEB_SITE=run/demo-site.json
./build/services/historian/ohmwatch-historian -f "$SITE" 2> run/historian.log &
historian=$!
./build/services/alarmd/ohmwatch-alarmd -f "$SITE" 2> run/alarmd.log &
alarmd=$!
./build/services/busd/ohmwatch-busd -f "$SITE" -S "$SCENARIO" -s "$SPEED" 2> run/busd.log &
busd=$!
OHMWATCH_WWW=$PWD/services/webd/www ./build/services/webd/ohmwatch-webd -f "$WEB_SITE" 2> run/webd.log &
webd=$!
cleanup() {
  kill "$busd" "$alarmd" "$historian" "$webd" 2>/dev/null || true
  wait "$busd" "$alarmd" "$historian" "$webd" 2>/dev/null || true
  [ "${stop_pg:-0}" = 1 ] && bash scripts/pg.sh stop "$PGDIR"
}
trap cleanup EXIT INT TERM
echo "busd, alarmd, the historian and webd started (logs in run/); history in PostgreSQL:"
echo "  $OHMWATCH_PG_DSN"
echo "web interface: https://localhost:$WEB_PORT/ (self-signed: run/webd.crt)"
echo "  user admin, initial password $(cat run/webd.admin_password) (unless changed at a first"
echo "  login already: the users are kept in run/webd-users.json)"
echo "the sample site at ${SPEED}x time. In another terminal:"
echo "  OHMWATCH_KEYS_DIR=$OHMWATCH_KEYS_DIR build/cli/ohmwatch alarms"
if [ -n "${DEMO_SECONDS:-}" ] || [ ! -t 1 ]; then
  sleep "${DEMO_SECONDS:-3}"
  # The page a newcomer opens first: its health answer, over HTTPS with the
  # demo's own certificate (so a broken TLS setup shows here, not in a browser).
  python3 - "$WEB_PORT" <<'PY' || echo "web interface: NOT answering (run/webd.log)"
import json, ssl, sys, urllib.request
ctx = ssl.create_default_context(cafile="run/webd.crt")
with urllib.request.urlopen("https://localhost:%s/api/health" % sys.argv[1], context=ctx, timeout=5) as r:
    print("web interface answering:", json.dumps(json.load(r))[:200])
PY
  ./build/cli/ohmwatch -f "$SITE" status --once
else
  ./build/cli/ohmwatch -f "$SITE" status
fi
