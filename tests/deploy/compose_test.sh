#!/usr/bin/env bash
# The compose stack end to end, as a substation server runs it:
#  - installs Debian's docker.io and docker-compose when missing and starts the
#    engine when none answers (no systemd here: dockerd in the background);
#  - makes the local debian:bookworm-slim (deploy/base-image.sh), builds the
#    images, prints their sizes;
#  - brings the stack up and prints the cold start time (up to all healthy);
#  - reads values over the published Modbus port on loopback (mbpoll), the
#    BACS MIB over the published SNMP port (snmpget, snmpbulkwalk; SNMPv3
#    authPriv with the pass phrases of deploy/make-secrets.sh; v2c is off)
#    and rows in PostgreSQL (psql in its container); logs in to the web pages
#    over HTTPS through the published port (curl, the certificate verified
#    against make-secrets.sh's webd.crt; the same without it is refused);
#  - kills each service in turn, SIGKILL to its process as a crash or the OOM
#    killer would (`docker kill` counts as a manual stop, after which Docker
#    never applies the restart policy): the others kept serving, the killed one
#    came back by itself, and the history has no gap in sequence numbers;
#    snmpd keeps its engine ID and counts engineBoots on (state on its volume);
#  - the many-webmanagers example: three busd feeding one alarmd, historian,
#    modbusd and snmpd (a context per gateway), started in reverse order;
#  - tears everything down at the end, on failure too (logs of the failed
#    containers first).
# Needs root (or sudo). DEPLOY_KEEP=1 leaves the stack up for a look.
set -euo pipefail
cd "$(dirname "$0")/../.."
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
PROJECT=${DEPLOY_PROJECT:-owdeploytest}
SERVICES="postgres busd alarmd historian modbusd snmpd web"
tmp=$(mktemp -d /tmp/ow-deploy.XXXXXX)
chmod 0755 "$tmp"
fail=0
t0=$(date +%s)

say() { printf '%s [%4ds] %s\n' "deploy" $(($(date +%s) - t0)) "$*"; }
die() {
  say "FAIL: $*"
  fail=1
  exit 1
}
check() { # check DESCRIPTION COMMAND...
  local what=$1
  shift
  if "$@"; then say "ok   $what"; else say "FAIL $what"; fail=1; fi
}
wait_until() { # wait_until SECONDS COMMAND...: 0 as soon as COMMAND succeeds, 1 if it never did
  local end=$(($(date +%s) + $1))
  shift
  while [ "$(date +%s)" -lt "$end" ]; do
    "$@" && return 0
    sleep 1
  done
  "$@"
}

# ---- the engine ----
. tests/deploy/engine.sh
engine_up "$tmp" || die "no Docker engine (above)"
say "engine: $(docker version -f 'Docker {{.Server.Version}}' 2>/dev/null), $(docker info -f 'storage {{.Driver}}, cgroup v{{.CgroupVersion}}' 2>/dev/null); $(docker-compose version --short 2>/dev/null | sed 's/^/compose /')"

# compose: the main stack, or with MANY the many-webmanagers example too.
MANY=(-f docker-compose.yml -f deploy/docker-compose.many.yml)
files=()
compose() { docker-compose -p "$PROJECT" "${files[@]}" "$@"; }
cid() { compose ps -q "$1" 2>/dev/null; }
state() { docker inspect -f '{{if .State.Health}}{{.State.Health.Status}}{{else}}{{.State.Status}}{{end}}' "$1" 2>/dev/null; }
health() { state "$(cid "$1")" || echo missing; }
restarts() { docker inspect -f '{{.RestartCount}}' "$(cid "$1")"; }
running() { [ "$(docker inspect -f '{{.State.Running}}' "$(cid "$1")" 2>/dev/null)" = true ]; }

teardown() {
  local rc=$?
  [ $rc -ne 0 ] && fail=1
  if [ $fail -ne 0 ]; then
    say "dumping state and the logs of services that are not healthy"
    compose ps >&2 || true
    for set in main many; do
      if [ $set = main ]; then files=(); else files=("${MANY[@]}"); fi
      for s in $(compose ps --services 2>/dev/null); do
        local c h
        c=$(cid "$s") || continue
        [ -n "$c" ] || continue
        h=$(state "$c")
        if [ "$h" != healthy ]; then
          echo "---- $s ($h): last health checks" >&2
          docker inspect -f '{{range .State.Health.Log}}{{.Output}}{{end}}' "$c" 2>/dev/null | tail -n 6 >&2 || true
          echo "---- $s: last log lines" >&2
          docker logs --tail 40 "$c" >&2 2>&1 || true
        fi
      done
    done
  fi
  if [ "${DEPLOY_KEEP:-0}" = 1 ]; then
    say "DEPLOY_KEEP=1: stack left up (project $PROJECT)"
  else
    files=("${MANY[@]}")
    compose down -v --remove-orphans >/dev/null 2>&1 || true
    engine_down
    rm -rf "$tmp"
  fi
  if [ $fail -ne 0 ]; then say "compose_test: FAILED"; else say "compose_test: all passed"; fi
  exit $fail
}
trap teardown EXIT
trap 'exit 130' INT TERM

# ---- images ----
bash deploy/base-image.sh
export OHMWATCH_SECRETS=$tmp/secrets
bash deploy/make-secrets.sh >/dev/null
# The sample site of deploy/site-compose.json with every module reading kept
# (log_rate_s 1), so the history shows any lost message as a gap.
python3 - "$tmp/site.json" <<'PY'
import json, sys
s = json.load(open("deploy/site-compose.json"))
s["gateways"][0]["log_rate_s"] = 1
json.dump(s, open(sys.argv[1], "w"), indent=2)
PY
chmod 0644 "$tmp/site.json"
export OHMWATCH_SITE_FILE=$tmp/site.json
port=502
if (exec 3<>/dev/tcp/127.0.0.1/502) 2>/dev/null; then
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  say "port 502 is taken on this host; publishing Modbus on $port instead"
fi
export OHMWATCH_MODBUS_PORT=$port
# SNMP likewise (a host snmpd, e.g. Debian's on 127.0.0.1:161, holds it).
sport=161
if ! python3 -c '
import errno, socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
try:
    s.bind(("0.0.0.0", 161))
except OSError as e:
    sys.exit(1 if e.errno == errno.EADDRINUSE else 0)' 2>/dev/null; then
  sport=$(python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  say "port 161/udp is taken on this host; publishing SNMP on $sport instead"
fi
export OHMWATCH_SNMP_PORT=$sport
# HTTPS likewise (a host web server may hold 443).
wport=443
if (exec 3<>/dev/tcp/127.0.0.1/443) 2>/dev/null; then
  wport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  say "port 443 is taken on this host; publishing HTTPS on $wport instead"
fi
export OHMWATCH_WEB_PORT=$wport

files=("${MANY[@]}")
compose down -v --remove-orphans >/dev/null 2>&1 || true
files=()
b0=$(date +%s)
compose build >"$tmp/build.log" 2>&1 || {
  tail -n 40 "$tmp/build.log" >&2
  die "docker-compose build failed (end of its log above)"
}
say "images built in $(($(date +%s) - b0)) s"
for img in debian:bookworm-slim ohmwatch:latest ohmwatch-postgres:latest; do
  say "image size: $img $(docker image inspect -f '{{.Size}}' "$img" | awk '{printf "%.1f MB", $1/1e6}')"
done
# The runtime image has no compiler and no headers, and runs as ohmwatch.
check "runtime image runs as uid 10001" test "$(docker run --rm --entrypoint id ohmwatch:latest -u)" = 10001
check "runtime image has no compiler or -dev headers" \
  docker run --rm --entrypoint sh ohmwatch:latest -c '! command -v gcc && ! command -v cc && [ ! -e /usr/include/zmq.h ]'
for sec in pg_writer pg_webd snmp_auth snmp_priv webd.admin_password; do
  check "no secret in the images ($sec)" bash -c "! docker run --rm --entrypoint sh ohmwatch:latest -c 'grep -rqs \"$(cat "$OHMWATCH_SECRETS/$sec")\" /usr /etc /var/lib'"
done

# ---- cold start ----
all_healthy() { # all_healthy SERVICE...
  local s
  for s in "$@"; do [ "$(health "$s")" = healthy ] || return 1; done
}
wait_healthy() { # wait_healthy TIMEOUT SERVICE...
  local timeout=$1 s
  shift
  wait_until "$timeout" all_healthy "$@" && return 0
  for s in "$@"; do say "  $s: $(health "$s")"; done
  return 1
}
c0=$(date +%s.%N)
compose up -d >"$tmp/up.log" 2>&1 || { cat "$tmp/up.log" >&2; die "docker-compose up failed"; }
# shellcheck disable=SC2086
wait_healthy 300 $SERVICES || die "the stack did not become healthy within 300 s"
say "cold start: $(python3 -c "import time; print('%.1f' % (time.time() - $c0))") s from 'up -d' to all of $SERVICES healthy"
check "PostgreSQL is not published" test -z "$(docker port "$(cid postgres)")"

# ---- values over Modbus on loopback, rows in PostgreSQL ----
modbus() { # modbus UNIT FIRST COUNT: the registers' values, one per line
  mbpoll -m tcp -p "$port" -a "$1" -0 -r "$2" -c "$3" -1 -t 4 -o 3 127.0.0.1 2>/dev/null |
    sed -n 's/^\[[0-9]*\]:[[:space:]]*\(-\{0,1\}[0-9]*\).*/\1/p'
}
modbus_ok() { # modules (register 1004) and module 1's voltage (1061, mV) look real
  local v
  v=$(modbus "${1:-1}" 1000 5 | sed -n 5p)
  [ "${v:-0}" = "${2:-18}" ] || return 1
  v=$(modbus "${1:-1}" 1061 1)
  [ "${v:-0}" -gt 10000 ] && [ "${v:-0}" -lt 16000 ]
}
psql_() { docker exec "$(cid postgres)" psql -U postgres -d ohmwatch -Atqc "$1"; }
check "Modbus on 127.0.0.1:$port: 18 modules, module 1 at $(modbus 1 1061 1) mV" modbus_ok

# SNMP from the host over the published port, as an NMS: SNMPv3 user nms,
# authPriv with the pass phrases make-secrets.sh wrote (the containers read
# them as /run/secrets/snmp_auth and snmp_priv).
BACS=1.3.6.1.2.1.33.5
v3() { # v3 TOOL CONTEXT OID...: net-snmp's TOOL as user nms on the published port
  local tool=$1 ctx=$2 bulk=()
  shift 2
  [ "$tool" = snmpbulkwalk ] && bulk=(-Cr50)
  MIBS='' "$tool" -v3 -l authPriv -u nms -a SHA-256 -A "$(cat "$OHMWATCH_SECRETS/snmp_auth")" \
    -x AES -X "$(cat "$OHMWATCH_SECRETS/snmp_priv")" -n "$ctx" -On -Oq -t 2 -r 1 "${bulk[@]}" \
    "127.0.0.1:$sport" "$@" 2>/dev/null
}
snmp_v() { v3 snmpget "" "$@" | cut -d' ' -f2-; } # snmp_v OID...: the values, one per line
snmp_ok() { # snmp_ok [CONTEXT [MODULES]]: bacsNumBatteries.0 is the module count, module 1 has a voltage
  local out v
  out=$(v3 snmpget "${1:-}" $BACS.1.3.0 $BACS.2.5.1.2.1 | cut -d' ' -f2-) || return 1
  [ "$(sed -n 1p <<<"$out")" = "${2:-18}" ] || return 1
  v=$(sed -n 2p <<<"$out")
  [[ "$v" =~ ^[0-9]+$ ]] && [ "$v" -gt 1000 ] && [ "$v" -lt 1600 ] # 0.01 V
}
check "SNMP on 127.0.0.1:$sport/udp (snmpget, v3 authPriv): bacsNumBatteries.0 = $(snmp_v $BACS.1.3.0), module 1 at $(snmp_v $BACS.2.5.1.2.1) x 0.01 V" snmp_ok
walk_ok() { # the whole tree in bulk walks: every module of the table
  local w n col
  w=$(v3 snmpbulkwalk "" "$BACS") || return 1
  say "  snmpbulkwalk $BACS: $(wc -l <<<"$w") varbinds"
  # bacsModuleTable (.2.5.1): index, voltage and state of modules 1..18
  for col in 1 2 6; do
    n=$(grep -c "^\.$BACS\.2\.5\.1\.$col\.[0-9]* " <<<"$w")
    [ "$n" = 18 ] || { say "  bacsModuleTable column $col: $n rows, not 18"; return 1; }
  done
  grep -q "^\.$BACS\.2\.5\.1\.2\.18 " <<<"$w"
}
check "SNMP snmpbulkwalk $BACS: the module table, 18 modules with index, voltage and state" walk_ok
v2c_off() { ! MIBS='' snmpget -v2c -c public -t 1 -r 0 "127.0.0.1:$sport" $BACS.1.3.0 >/dev/null 2>&1; }
check "SNMP v2c is off (community public gets no answer)" v2c_off
wrong_key() { ! MIBS='' snmpget -v3 -l authPriv -u nms -a SHA-256 -A wrong-pass-phrase -x AES -X wrong-pass-phrase \
  -t 1 -r 0 "127.0.0.1:$sport" $BACS.1.3.0 >/dev/null 2>&1; }
check "SNMP v3 with a wrong pass phrase is refused" wrong_key
# The web pages from the host over the published port, as a browser: HTTPS
# with make-secrets.sh's self-signed certificate, the first admin's login.
web() { # web PATH [CURL ARGS...]: the body; fails on an HTTP error or a TLS failure
  local path=$1
  shift
  curl -sS --fail --max-time 5 --cacert "$OHMWATCH_SECRETS/webd.crt" "$@" "https://127.0.0.1:$wport$path"
}
web_login() { # the first admin logs in with the initial password (and must change it)
  web /api/login -H 'Content-Type: application/json' \
    --data "{\"user\":\"admin\",\"password\":\"$(cat "$OHMWATCH_SECRETS/webd.admin_password")\"}" 2>/dev/null |
    python3 -c 'import json, sys; j = json.load(sys.stdin); sys.exit(0 if j["user"] == "admin" and j["must_change"] else 1)'
}
check "HTTPS on 127.0.0.1:$wport: admin logs in with webd.admin_password (certificate verified against webd.crt)" web_login
web_untrusted() { ! curl -sS --max-time 5 "https://127.0.0.1:$wport/api/health" >/dev/null 2>&1; }
check "HTTPS without the certificate to verify with is refused by curl (self-signed)" web_untrusted
web_wrong() { ! web /api/login -H 'Content-Type: application/json' --data '{"user":"admin","password":"wrong-password"}' >/dev/null 2>&1; }
check "a wrong password is refused" web_wrong
web_history() { web /api/health | python3 -c 'import json, sys; j = json.load(sys.stdin); sys.exit(0 if j["ok"] and j["gateways"][0]["answering"] else 1)'; }
check "webd hears busd (/api/health: wm1 answering)" web_history
rows() { psql_ "SELECT count(*) FROM module_readings" 2>/dev/null || echo 0; }
check "PostgreSQL holds module readings ($(rows) rows)" test "$(rows)" -gt 0

# No gap: per busd epoch, the stored readings (module, string, aux) are every
# message busd published except its heartbeats, one per cycle. So no two
# stored sequence numbers are more than 2 apart, no duplicates, and the
# holes (the heartbeats) are evenly spaced, one cycle's messages apart: a
# lost reading would be a hole off that grid.
gap_report() {
  psql_ "WITH r AS (SELECT epoch, seq FROM module_readings WHERE gw = 'wm1'
                    UNION ALL SELECT epoch, seq FROM string_readings WHERE gw = 'wm1'
                    UNION ALL SELECT epoch, seq FROM sensor_readings WHERE gw = 'wm1'),
              d AS (SELECT epoch, seq, seq - lag(seq) OVER (PARTITION BY epoch ORDER BY seq) AS step FROM r),
              h AS (SELECT epoch, seq - 1 - lag(seq - 1) OVER (PARTITION BY epoch ORDER BY seq) AS spacing
                    FROM d WHERE step = 2)
         SELECT d.epoch, count(*), coalesce(max(step), 0), count(*) FILTER (WHERE step = 0),
                (SELECT count(DISTINCT spacing) FROM h WHERE h.epoch = d.epoch),
                (SELECT coalesce(string_agg(DISTINCT spacing::text, ','), '') FROM h WHERE h.epoch = d.epoch)
         FROM d GROUP BY d.epoch ORDER BY d.epoch"
}
no_gap() {
  local bad=0 epoch n maxstep dups nspacings spacings
  while IFS='|' read -r epoch n maxstep dups nspacings spacings; do
    if [ "$maxstep" -gt 2 ] || [ "$dups" -ne 0 ] || [ "$nspacings" -gt 1 ]; then
      say "  epoch $epoch: $n rows, largest step $maxstep, $dups duplicates, holes spaced $spacings"
      bad=1
    fi
  done < <(gap_report)
  [ $bad = 0 ]
}
check "history has no gap in sequence numbers" no_gap

# ---- kill each service in turn ----
engine_state() { # snmpd's engine ID and engineBoots on its volume
  docker exec "$(cid snmpd)" sh -c 'grep -E "^(oldEngineID|engineBoots) " /var/lib/ohmwatch/snmpd-state/ohmwatch-snmpd.conf' 2>/dev/null |
    sort | tr '\n' ' '
}
boots() { sed -n 's/.*engineBoots \([0-9]*\).*/\1/p' <<<"$1"; }
engine_id() { sed -n 's/.*oldEngineID \([0-9a-fx]*\).*/\1/p' <<<"$1"; }
position() { psql_ "SELECT seq FROM ingest_positions WHERE pub = 'busd.wm1'" 2>/dev/null || echo 0; }
stored_past() { # stored_past SEQ: the historian's position for busd.wm1 moved on from SEQ
  local p
  p=$(position)
  [ "${p:-0}" != "$1" ] && [ "${p:-0}" -gt 0 ]
}
serving() { # serving SERVICE: answers as a client sees it
  case "$1" in
  postgres) psql_ "SELECT 1" >/dev/null 2>&1 ;;
  modbusd) modbus_ok ;;
  snmpd) snmp_ok ;;
  web) web_login ;;
  historian) docker exec "$(cid historian)" /usr/lib/ohmwatch/docker-entrypoint.sh ohmwatch health historian >/dev/null 2>&1 ;;
  *) docker exec "$(cid "$1")" ohmwatch health "$1" >/dev/null 2>&1 ;;
  esac
}
for victim in $SERVICES; do
  declare -A before=()
  for s in $SERVICES; do before[$s]=$(restarts "$s"); done
  pos0=$(position)
  pid=$(docker inspect -f '{{.State.Pid}}' "$(cid "$victim")")
  [ "$victim" = snmpd ] && engine0=$(engine_state)
  k0=$(date +%s.%N)
  $SUDO kill -KILL "$pid"
  say "killed $victim (pid $pid, SIGKILL)"
  sleep 2
  for s in $SERVICES; do
    [ "$s" = "$victim" ] && continue
    # While PostgreSQL is away the historian spools: running, not serving SQL.
    if [ "$victim" = postgres ] && [ "$s" = historian ]; then
      check "  historian kept running (spooling) while postgres was down" running historian
      continue
    fi
    check "  $s kept serving while $victim was down" serving "$s"
  done
  if ! wait_healthy 180 "$victim"; then
    check "$victim came back healthy by itself within 180 s" false
    continue
  fi
  back=$(python3 -c "import time; print('%.1f' % (time.time() - $k0))")
  check "$victim came back by itself in $back s (restarts ${before[$victim]} -> $(restarts "$victim"))" \
    test "$(restarts "$victim")" -gt "${before[$victim]}"
  for s in $SERVICES; do
    [ "$s" = "$victim" ] && continue
    check "  $s was not restarted" test "$(restarts "$s")" = "${before[$s]}"
  done
  if [ "$victim" = snmpd ]; then
    engine1=$(engine_state)
    check "  snmpd kept its engine ID $(engine_id "$engine1") and counted engineBoots on ($(boots "$engine0") -> $(boots "$engine1"))" \
      test -n "$(engine_id "$engine0")" -a "$(engine_id "$engine0")" = "$(engine_id "$engine1")" -a \
      "$(boots "$engine1")" -gt "$(boots "$engine0")"
    check "  SNMP answers on the published port again (same pass phrases)" snmp_ok
  fi
  # The history moves on and stays whole.
  check "  historian stores again after $victim's restart" wait_until 60 stored_past "$pos0"
  # shellcheck disable=SC2086
  wait_healthy 120 $SERVICES || check "all healthy again after $victim's restart" false
  check "  history has no gap in sequence numbers after $victim's restart" no_gap
done
say "history: $(psql_ "SELECT count(*) FROM module_readings") module readings in $(psql_ "SELECT count(DISTINCT epoch) FROM string_readings") busd epochs"
# The gap check itself: one module reading taken out of the middle is seen.
compose stop historian >/dev/null 2>&1
psql_ "DELETE FROM module_readings WHERE (epoch, seq) = (SELECT epoch, seq FROM module_readings
       WHERE gw = 'wm1' ORDER BY epoch DESC, seq DESC OFFSET 100 LIMIT 1)" >/dev/null
gap_seen() { ! no_gap >/dev/null; }
check "the gap check sees one module reading taken out" gap_seen

# ---- many webmanagers: three busd, one alarmd/historian/modbusd ----
compose down -v >/dev/null 2>&1
files=("${MANY[@]}")
unset OHMWATCH_SITE_FILE
# Reverse order: the consumers first, PostgreSQL and the gateways last.
compose up -d --no-deps modbusd historian alarmd >"$tmp/many.log" 2>&1 || { cat "$tmp/many.log" >&2; die "many: up failed"; }
sleep 5
compose up -d >>"$tmp/many.log" 2>&1 || { cat "$tmp/many.log" >&2; die "many: up failed"; }
# shellcheck disable=SC2086
check "many webmanagers: all healthy, started consumers first" wait_healthy 240 $SERVICES busd-wm2 busd-wm3
check "many: Modbus unit 1 (wm1) has 18 modules" modbus_ok 1 18
check "many: Modbus unit 2 (wm2) has 18 modules" modbus_ok 2 18
check "many: Modbus unit 3 (wm3) has 4 modules" modbus_ok 3 4
check "many: SNMP context wm1 has 18 modules" snmp_ok wm1 18
check "many: SNMP context wm2 has 18 modules" snmp_ok wm2 18
check "many: SNMP context wm3 has 4 modules" snmp_ok wm3 4
check "many: SNMP default context is wm1 (18 modules)" snmp_ok "" 18
three_stored() { [ "$(psql_ "SELECT count(DISTINCT gw) FROM string_readings" 2>/dev/null)" = 3 ]; }
check "many: the historian stores all three gateways" wait_until 60 three_stored
