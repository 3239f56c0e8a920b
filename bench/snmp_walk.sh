#!/usr/bin/env bash
# Time of a GETBULK walk (snmpbulkwalk -Cr50, v2c, loopback) of the whole
# 1.3.6.1.2.1.33.5 tree of a 512-module gateway (16 strings x 32 blocks,
# etc/site-large.json, values frozen: busd stopped), served by
#   - ohmwatch-snmpd standalone,
#   - ohmwatch-snmpd as an AgentX subagent through net-snmp's snmpd (the
#     master turns each GETBULK into GETNEXTs to the subagent),
# and, in the same run, net-snmp's own snmpd walking its hrSWInstalledTable
# (one row per installed Debian package: a table of similar size that it
# serves itself). Prints the best of N walks, varbinds, and µs per varbind
# with the ratio to net-snmp's own table.
# Usage: bench/snmp_walk.sh [BUILD_DIR] [WALKS]
set -euo pipefail
cd "$(dirname "$0")/.."
B=${1:-build}
N=${2:-5}
PY=/usr/bin/python3
tmp=$(mktemp -d)
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null; rm -rf "$tmp"' EXIT
# CURVE keys for the run, as a deployment has them (docs/security.md)
export OHMWATCH_KEYS_DIR=$tmp/keys
"$B/cli/ohmwatch" keygen -d "$OHMWATCH_KEYS_DIR" > /dev/null
port() { $PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
export MIBS=

SA=$(port); MASTER=$(port); AX=$(port)
$PY - "$tmp" "$SA" "$AX" <<'PY'
import json, random, sys
d, sa, ax = sys.argv[1], sys.argv[2], sys.argv[3]
s = json.load(open("etc/site-large.json"))
port = lambda: random.randint(20000, 32000)
g = s["gateways"][0]
g["publish"], g["replay"] = "tcp://127.0.0.1:%d" % port(), "tcp://127.0.0.1:%d" % port()
g.setdefault("sim", {})["speed"] = 10
s["services"]["alarmd"] = {"publish": "tcp://127.0.0.1:%d" % port(),
                           "replay": "tcp://127.0.0.1:%d" % port(),
                           "control": "tcp://127.0.0.1:%d" % port(),
                           "state_file": d + "/alarmd-state.json"}
s["services"].pop("historian", None)
s["services"]["snmpd"] = {"listen": "udp:127.0.0.1:" + sa, "community": "public",
                          "state_dir": d + "/sa"}
json.dump(s, open(d + "/sa.json", "w"))
s["services"]["snmpd"] = {"agentx": "tcp:127.0.0.1:" + ax, "state_dir": d + "/ax"}
json.dump(s, open(d + "/ax.json", "w"))
PY
cat > "$tmp/master.conf" <<EOF
master agentx
agentXSocket tcp:127.0.0.1:$AX
rocommunity public 127.0.0.1
EOF
SNMP_PERSISTENT_DIR=$tmp/master /usr/sbin/snmpd -f -Lf "$tmp/master.log" -C -c "$tmp/master.conf" \
  -p "$tmp/master.pid" "udp:127.0.0.1:$MASTER" & pids+=($!)
"$B/services/busd/ohmwatch-busd" -f "$tmp/sa.json" 2>"$tmp/busd.log" & busd=$!; pids+=($busd)
"$B/services/alarmd/ohmwatch-alarmd" -f "$tmp/sa.json" 2>"$tmp/alarmd.log" & pids+=($!)
sleep 1
"$B/services/snmpd/ohmwatch-snmpd" -f "$tmp/sa.json" 2>"$tmp/sa.log" & pids+=($!)
"$B/services/snmpd/ohmwatch-snmpd" -f "$tmp/ax.json" 2>"$tmp/ax.log" & pids+=($!)
sleep 3
kill "$busd"; sleep 4 # frozen, and alarmd's "no reading" alarm is in

walk() { # PORT OID -> "seconds varbinds" of the best of N walks
  local best= vb=
  for _ in $(seq "$N"); do
    local t0 t1
    t0=$(date +%s.%N)
    vb=$(snmpbulkwalk -v2c -c public -Cr50 -On -Oq -t 10 "127.0.0.1:$1" "$2" | grep -v "No more variables" | grep -c "^\.$2\." || true)
    t1=$(date +%s.%N)
    local dt; dt=$(echo "$t1 - $t0" | bc -l)
    if [ -z "$best" ] || [ "$(echo "$dt < $best" | bc -l)" = 1 ]; then best=$dt; fi
  done
  echo "$best $vb"
}
read -r t_sa v_sa < <(walk "$SA" 1.3.6.1.2.1.33.5)
read -r t_ax v_ax < <(walk "$MASTER" 1.3.6.1.2.1.33.5)
read -r t_hr v_hr < <(walk "$MASTER" 1.3.6.1.2.1.25.6.3)
per() { echo "scale=2; $1 * 1000000 / $2" | bc -l; }
p_sa=$(per "$t_sa" "$v_sa"); p_ax=$(per "$t_ax" "$v_ax"); p_hr=$(per "$t_hr" "$v_hr")
printf "%-44s %8s %9s %12s %8s\n" "walk (snmpbulkwalk -Cr50, best of $N)" "seconds" "varbinds" "us/varbind" "ratio"
printf "%-44s %8.3f %9d %12s %8s\n" "net-snmp snmpd: hrSWInstalledTable" "$t_hr" "$v_hr" "$p_hr" "1.00"
printf "%-44s %8.3f %9d %12s %8.2f\n" "ohmwatch-snmpd: BACS tree, 512 modules" "$t_sa" "$v_sa" "$p_sa" "$(echo "$p_sa / $p_hr" | bc -l)"
printf "%-44s %8.3f %9d %12s %8.2f\n" "ohmwatch-snmpd via AgentX master: same" "$t_ax" "$v_ax" "$p_ax" "$(echo "$p_ax / $p_hr" | bc -l)"
echo "(ratio: us per varbind against net-snmp's own table; lower is faster)"
