#!/usr/bin/env bash
# The install target lays out what a package ships: `cmake --install` with
# DESTDIR and prefix /usr gives the daemons and the CLI in /usr/bin, the
# systemd units (with /usr/bin and /etc/ohmwatch/site.json filled in), the
# sysusers.d entry, /etc/ohmwatch/site.json, examples, Grafana provisioning
# and docs, the MIB; the installed daemons accept the installed site file
# (snmpd with its pass phrases where systemd puts its credentials); and
# `systemd-analyze verify` (when installed) accepts the units.
#   tests/test_install.sh BUILD_DIR
set -euo pipefail
build=$(realpath "${1:?usage: test_install.sh BUILD_DIR}")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
check() { # check DESCRIPTION COMMAND...
  local what=$1
  shift
  if "$@"; then echo "ok   $what"; else echo "FAIL $what"; fail=1; fi
}

DESTDIR=$tmp/root cmake --install "$build" --prefix /usr >"$tmp/install.log"
r=$tmp/root
for f in usr/bin/ohmwatch usr/bin/ohmwatch-busd usr/bin/ohmwatch-alarmd \
  usr/bin/ohmwatch-historian usr/bin/ohmwatch-modbusd usr/bin/ohmwatch-snmpd usr/bin/ohmwatch-webd; do
  check "$f is an executable" test -x "$r/$f"
done
for f in usr/lib/systemd/system/ohmwatch-busd@.service usr/lib/systemd/system/ohmwatch-alarmd.service \
  usr/lib/systemd/system/ohmwatch-historian.service usr/lib/systemd/system/ohmwatch-modbusd.service \
  usr/lib/systemd/system/ohmwatch-snmpd.service usr/lib/systemd/system/ohmwatch-webd.service \
  usr/share/ohmwatch/mibs/OHMWATCH-BACS-MIB.txt \
  usr/lib/systemd/system/ohmwatch.target usr/lib/sysusers.d/ohmwatch.conf etc/ohmwatch/site.json \
  usr/share/ohmwatch/examples/site-sample.json usr/share/ohmwatch/examples/scenarios/demo.json \
  usr/share/ohmwatch/grafana/provisioning/datasources/ohmwatch.yaml \
  usr/share/ohmwatch/grafana/dashboards/site-overview.json usr/share/doc/ohmwatch/README.md \
  usr/share/doc/ohmwatch/config.md; do
  check "$f is there" test -s "$r/$f"
done
# Nothing outside the prefix and /etc, nothing left unfilled in the units.
check "only usr/ and etc/ at the top" test "$(ls "$r" | tr '\n' ' ')" = "etc usr "
check "units have no @VAR@ left" bash -c "! grep -l '@[A-Z_]*@' '$r'/usr/lib/systemd/system/*"
check "units start /usr/bin daemons on /etc/ohmwatch/site.json" \
  grep -q '^ExecStart=/usr/bin/ohmwatch-busd -f /etc/ohmwatch/site.json -g %i$' \
  "$r/usr/lib/systemd/system/ohmwatch-busd@.service"
# Every unit: restarts, its user and state, and the whole hardening.
unit_opts=(Restart=on-failure User=ohmwatch StateDirectory=ohmwatch PrivateDevices=yes
  NoNewPrivileges=yes ProtectSystem=strict ProtectHome=yes PrivateTmp=yes
  ProtectKernelTunables=yes ProtectKernelModules=yes ProtectKernelLogs=yes
  ProtectControlGroups=yes ProtectClock=yes ProtectHostname=yes ProtectProc=invisible
  "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6" RestrictNamespaces=yes RestrictRealtime=yes
  RestrictSUIDSGID=yes LockPersonality=yes MemoryDenyWriteExecute=yes
  SystemCallArchitectures=native SystemCallFilter=@system-service
  "SystemCallFilter=~@privileged @resources")
for u in "$r"/usr/lib/systemd/system/*.service; do
  for opt in "${unit_opts[@]}"; do
    check "$(basename "$u") has $opt" grep -qxF "$opt" "$u"
  done
done
check "the sysusers entry makes the user ohmwatch" grep -q '^u ohmwatch ' "$r/usr/lib/sysusers.d/ohmwatch.conf"
check "ohmwatch.target wants every service unit" bash -c "
  for u in alarmd historian modbusd snmpd webd; do
    grep -q \"^Wants=.*ohmwatch-\$u.service\" '$r/usr/lib/systemd/system/ohmwatch.target' || exit 1
  done"
# Capabilities: none but CAP_NET_BIND_SERVICE for modbusd (502) and snmpd (161).
for d in busd@ alarmd historian webd; do
  check "ohmwatch-$d.service has no capabilities" grep -qx 'CapabilityBoundingSet=' "$r/usr/lib/systemd/system/ohmwatch-$d.service"
done
for d in modbusd snmpd; do
  for opt in CapabilityBoundingSet=CAP_NET_BIND_SERVICE AmbientCapabilities=CAP_NET_BIND_SERVICE; do
    check "ohmwatch-$d.service has $opt only" grep -qx "$opt" "$r/usr/lib/systemd/system/ohmwatch-$d.service"
  done
done
# snmpd's pass phrases: the site file names them in the unit's credentials
# directory, and the unit loads each one from /etc/ohmwatch.
su=$r/usr/lib/systemd/system/ohmwatch-snmpd.service
creds=$(sed -n 's|.*"file:/run/credentials/ohmwatch-snmpd.service/\([^"]*\)".*|\1|p' "$r/etc/ohmwatch/site.json" | sort -u)
check "the site file's snmpd pass phrases are credentials ($(tr "\n" " " <<<"$creds"| sed "s/ $//"))" test -n "$creds"
for c in $creds; do
  check "ohmwatch-snmpd.service loads credential $c from /etc/ohmwatch/$c" grep -qx "LoadCredential=$c:/etc/ohmwatch/$c" "$su"
done
# CURVE: every unit loads its own secret key, and nothing else's.
for d in busd@:busd alarmd:alarmd historian:historian modbusd:modbusd snmpd:snmpd webd:webd; do
  u=${d%%:*} k=${d#*:}
  check "ohmwatch-$u.service loads its CURVE key $k.key_secret as a credential" \
    grep -qx "LoadCredential=$k.key_secret:/etc/ohmwatch/keys/private/$k.key_secret" "$r/usr/lib/systemd/system/ohmwatch-$u.service"
  check "ohmwatch-$u.service loads one CURVE key" \
    test "$(grep -c 'key_secret' "$r/usr/lib/systemd/system/ohmwatch-$u.service")" -eq 1
done
# webd's TLS pair, first admin password and database password: the site
# file names the pair in the unit's credentials directory (webd finds the
# other two there by their names), and the unit loads each from /etc/ohmwatch.
wu=$r/usr/lib/systemd/system/ohmwatch-webd.service
wcreds=$(sed -n 's|.*"/run/credentials/ohmwatch-webd.service/\([^"]*\)".*|\1|p' "$r/etc/ohmwatch/site.json" | sort -u)
check "the site file's webd TLS pair are credentials ($(tr "\n" " " <<<"$wcreds" | sed "s/ $//"))" \
  test "$(tr "\n" " " <<<"$wcreds")" = "webd.crt webd.key "
for c in $wcreds webd.admin_password pg_webd; do
  check "ohmwatch-webd.service loads credential $c from /etc/ohmwatch/$c" grep -qx "LoadCredential=$c:/etc/ohmwatch/$c" "$wu"
done
# As root makes them for the units: secrets 0640 root:ohmwatch (when the
# group exists), the public allow-list 0644.
"$r/usr/bin/ohmwatch" keygen -d "$tmp/keys" >/dev/null
check "keygen: secret keys are not readable by others" \
  bash -c "test -z \"\$(find '$tmp/keys/private' -type f -perm /0007)\""
check "keygen: cli holds every role, historian only read" \
  bash -c "grep -q 'roles = \"read,operate,configure,breaker\"' '$tmp/keys/cli.key' && grep -q 'roles = \"read\"' '$tmp/keys/historian.key'"
check "ohmwatch-snmpd keeps state_dir in its StateDirectory" \
  grep -q '"state_dir": "/var/lib/ohmwatch/snmpd-state"' "$r/etc/ohmwatch/site.json"
for d in busd alarmd historian modbusd webd; do
  check "installed ohmwatch-$d accepts the installed site file" \
    bash -c "'$r/usr/bin/ohmwatch-$d' -n -f '$r/etc/ohmwatch/site.json' | grep -qx 'configuration OK'"
done
# As the unit runs it: the credentials in place of /run/credentials/...
mkdir -m 0700 "$tmp/creds"
for c in $creds; do echo "pass-phrase-$c" >"$tmp/creds/$c"; done
sed "s|/run/credentials/ohmwatch-snmpd.service/|$tmp/creds/|" "$r/etc/ohmwatch/site.json" >"$tmp/site-creds.json"
check "installed ohmwatch-snmpd accepts the installed site file with its credentials" \
  bash -c "'$r/usr/bin/ohmwatch-snmpd' -n -f '$tmp/site-creds.json' | grep -qx 'configuration OK'"
check "without its credentials ohmwatch-snmpd says which file it misses" \
  bash -c "'$r/usr/bin/ohmwatch-snmpd' -n -f '$r/etc/ohmwatch/site.json' 2>&1 | grep -q 'cannot read /run/credentials/ohmwatch-snmpd.service/snmp_auth'"
# State goes under /var/lib/ohmwatch (the units' StateDirectory), not beside /etc.
check "alarmd state and historian spool under /var/lib/ohmwatch" \
  grep -q '"/var/lib/ohmwatch/alarmd-state.json"' "$r/etc/ohmwatch/site.json"
# `systemctl reload` sends SIGHUP to the daemons that reload on it (main.c's
# .reloads = 1) and to no other: for those SIGHUP only logs that it does not.
for d in alarmd modbusd; do
  check "ohmwatch-$d.service reloads with SIGHUP" \
    grep -qx 'ExecReload=/bin/kill -HUP $MAINPID' "$r/usr/lib/systemd/system/ohmwatch-$d.service"
done
check "busd, historian and snmpd units have no ExecReload" \
  bash -c "! grep -l ExecReload '$r'/usr/lib/systemd/system/ohmwatch-{busd@,historian,snmpd}.service"
# A second install keeps the operator's site file.
echo '{"edited": true}' >"$r/etc/ohmwatch/site.json"
DESTDIR=$tmp/root cmake --install "$build" --prefix /usr >/dev/null
check "a reinstall keeps an edited /etc/ohmwatch/site.json" grep -q edited "$r/etc/ohmwatch/site.json"
# Another prefix moves everything, configuration included.
DESTDIR=$tmp/opt cmake --install "$build" --prefix /opt/ohmwatch >/dev/null
check "prefix /opt/ohmwatch: units name /opt/ohmwatch/bin and /opt/ohmwatch/etc" \
  grep -q '^ExecStart=/opt/ohmwatch/bin/ohmwatch-alarmd -f /opt/ohmwatch/etc/ohmwatch/site.json$' \
  "$tmp/opt/opt/ohmwatch/lib/systemd/system/ohmwatch-alarmd.service"

if command -v systemd-analyze >/dev/null; then
  # verify resolves binaries and the units' dependencies inside --root: give
  # that root the host's standard targets and slices, and the kill that
  # ExecReload runs.
  cp -a "$r" "$tmp/vroot"
  mkdir -p "$tmp/vroot/bin" && cp /bin/kill "$tmp/vroot/bin/"
  for f in /lib/systemd/system/*.target /lib/systemd/system/*.slice; do
    [ -e "$tmp/vroot/usr/lib/systemd/system/$(basename "$f")" ] || cp "$f" "$tmp/vroot/usr/lib/systemd/system/"
  done
  u=$tmp/vroot/usr/lib/systemd/system
  check "systemd-analyze verify accepts the units" \
    systemd-analyze verify --root="$tmp/vroot" "$u"/ohmwatch*.service "$u"/ohmwatch.target
else
  echo "skip systemd-analyze verify (systemd-analyze not installed)"
fi
[ $fail = 0 ] && echo "test_install: all passed" || { echo "test_install: FAILED"; exit 1; }
