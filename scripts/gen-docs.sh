#!/usr/bin/env bash
# Regenerate the docs that come from tables in code: docs/config.md (site
# schema), docs/alarms.md (flag words, alarm catalogue), docs/scenarios.md (scenario events), docs/modbus.md (Modbus register map), docs/maps.md (field device register maps), docs/snmp.md (SNMP OID map), mibs/OHMWATCH-BACS-MIB.txt (the MIB
# module), and the field reference in
# proto/README.md (between the GENERATED markers) and its socket limits
# table (between the LIMITS markers, from lib/ow_zsock.c) and its Commands table
# (between the COMMANDS markers, from proto/ow_cmd.c), and the table of roles
# in docs/security.md (between the ROLES markers, the same rows), and webd's
# routes and settings in docs/web.md (between the ROUTES markers). --check fails if any is
# out of date instead of writing.
set -euo pipefail
cd "$(dirname "$0")/.."
check=0
[ "${1:-}" = "--check" ] && { check=1; shift; }
B=${1:-build}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

"$B/lib/ow-config-doc" > "$tmp/config.md"
"$B/services/busd/ow-scenario-doc" > "$tmp/scenarios.md"
"$B/proto/ow-proto-doc" > "$tmp/fields.md"
"$B/proto/ow-gbms-doc" > "$tmp/alarms.md"
"$B/services/modbusd/ohmwatch-modbusd" --doc > "$tmp/modbus.md"
"$B/services/snmpd/ohmwatch-snmpd" --doc > "$tmp/snmp.md"
"$B/services/webd/ohmwatch-webd" --doc > "$tmp/webroutes.md"
"$B/services/snmpd/ohmwatch-snmpd" --mib > "$tmp/mib.txt"
"$B/services/busd/ow-map-doc" > "$tmp/maps.md"
"$B/lib/ow-zsock-doc" > "$tmp/limits.md"
"$B/proto/ow-cmd-doc" > "$tmp/commands.md"
"$B/proto/ow-cmd-doc" --roles > "$tmp/roles.md"
awk -v f="$tmp/roles.md" '
  /<!-- ROLES:BEGIN/ { print; while ((getline l < f) > 0) print l; skip=1; next }
  /<!-- ROLES:END/ { skip=0 }
  !skip { print }' docs/security.md > "$tmp/security.md"
awk -v f="$tmp/webroutes.md" '
  /<!-- ROUTES:BEGIN/ { print; while ((getline l < f) > 0) print l; skip=1; next }
  /<!-- ROUTES:END/ { skip=0 }
  !skip { print }' docs/web.md > "$tmp/web.md"
awk -v f="$tmp/fields.md" -v lim="$tmp/limits.md" -v cmds="$tmp/commands.md" '
  /<!-- GENERATED:BEGIN/ { print; while ((getline l < f) > 0) print l; skip=1; next }
  /<!-- GENERATED:END/ { skip=0 }
  /<!-- LIMITS:BEGIN/ { print; while ((getline l < lim) > 0) print l; skip=1; next }
  /<!-- LIMITS:END/ { skip=0 }
  /<!-- COMMANDS:BEGIN/ { print; while ((getline l < cmds) > 0) print l; skip=1; next }
  /<!-- COMMANDS:END/ { skip=0 }
  !skip { print }' proto/README.md > "$tmp/README.md"

rc=0
for pair in "alarms.md:docs/alarms.md" "modbus.md:docs/modbus.md" "maps.md:docs/maps.md" "snmp.md:docs/snmp.md" "mib.txt:mibs/OHMWATCH-BACS-MIB.txt" "config.md:docs/config.md" "scenarios.md:docs/scenarios.md" "README.md:proto/README.md" "security.md:docs/security.md" "web.md:docs/web.md"; do
  src=$tmp/${pair%%:*}; dst=${pair#*:}
  if [ $check = 1 ]; then
    if ! cmp -s "$src" "$dst"; then
      echo "gen-docs: $dst is out of date; run scripts/gen-docs.sh" >&2
      diff -u "$dst" "$src" | head -20 >&2 || true
      rc=1
    fi
  else
    cp "$src" "$dst"
  fi
done
exit $rc
