#!/usr/bin/env bash
# The README's promise, proved on an empty machine every run: in a container
# from the project's own debian:bookworm-slim base (deploy/base-image.sh), with
# the checkout copied in and nothing else,
#   0. the README's first command, scripts/demo.sh, installs what it needs,
#      builds and shows the sample site's snapshot (DEMO_SECONDS=8);
#   1. scripts/deps.sh --test installs what is missing for the tests;
#   2. every tool the tests call is on PATH (the table below);
#   3. the build (-Werror) succeeds: a missing header is named;
#   4. every Python module a test, benchmark or script imports imports
#      (tests/fresh/imports.py): a missing module is named;
#   5. a short smoke: every unit test and one multi-process test per service.
# A machine that had a package from earlier work cannot hide a gap in deps.sh
# here (issue 13: python3-serial-asyncio). Needs a Docker engine, and so root
# or sudo (tests/deploy/engine.sh installs and starts one); without one it says
# so and fails, unless FRESH_TEST=0 skips it on purpose.
#   tests/fresh/fresh_machine.sh          FRESH_KEEP=1 keeps the container
set -euo pipefail
cd "$(dirname "$0")/../.."
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
image=${FRESH_IMAGE:-debian:bookworm-slim}
tmp=$(mktemp -d /tmp/ow-fresh.XXXXXX)
name=ow-fresh-$$
t0=$(date +%s)
say() { printf 'fresh [%4ds] %s\n' $(($(date +%s) - t0)) "$*"; }

# The commands the tests, scripts/test.sh and scripts/pg.sh call, each with the
# Debian package that has it: the container must have every one after deps.sh.
TOOLS="cc:build-essential make:build-essential cmake:cmake pkg-config:pkg-config
  clang:clang clang-format:clang-format git:git /usr/bin/python3:python3
  mbpoll:mbpoll socat:socat snmpget:snmp snmpwalk:snmp snmpbulkwalk:snmp snmpset:snmp
  snmpd:snmpd snmptrapd:snmptrapd smilint:smitools psql:postgresql-client
  /usr/lib/postgresql/15/bin/initdb:postgresql-15 /usr/lib/postgresql/15/bin/pg_ctl:postgresql-15
  runuser:util-linux timeout:coreutils ps:procps systemd-analyze:systemd
  chromium:chromium chromedriver:chromium-driver curl:curl"
# The libraries the build links (pkg-config module:package): after deps.sh a
# missing one is named here, not found later in a compiler's error.
LIBS="libzmq:libzmq3-dev libczmq:libczmq-dev jansson:libjansson-dev libmodbus:libmodbus-dev
  libpq:libpq-dev netsnmp:libsnmp-dev libarchive:libarchive-dev libsodium:libsodium-dev
  libmicrohttpd:libmicrohttpd-dev"
# One multi-process test per service (and the CLI), besides every unit test.
SMOKE="replay|alarmd_cli|historian_ingest|modbusd_map|field_pymodbus|snmpd|install|backup"

cleanup() {
  local rc=$?
  [ "${FRESH_KEEP:-0}" = 1 ] || docker rm -f "$name" >/dev/null 2>&1 || true
  engine_down
  rm -rf "$tmp"
  if [ "${FRESH_TEST:-1}" = 0 ]; then
    say "fresh_machine: SKIPPED (FRESH_TEST=0): nothing proved about a fresh machine"
  elif [ $rc -eq 0 ]; then say "fresh_machine: passed"; else say "fresh_machine: FAILED"; fi
  exit $rc
}
. tests/deploy/engine.sh
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ "${FRESH_TEST:-1}" = 0 ]; then
  say "FRESH_TEST=0: the fresh-machine check is skipped on purpose"
  exit 0
fi
if ! engine_up "$tmp"; then
  say "FAIL: no Docker engine can run here, so a fresh machine cannot be proved" \
    "(FRESH_TEST=0 skips this check on purpose)"
  exit 1
fi
bash deploy/base-image.sh "$image"

# The checkout as git has it (tracked files plus new ones not ignored, with
# their working-tree contents): no build directories, no caches, no .git.
git ls-files -z --cached --others --exclude-standard |
  while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done >"$tmp/files"
tar -c --null -T "$tmp/files" -f "$tmp/src.tar"
say "checkout: $(tr -cd '\0' <"$tmp/files" | wc -c) files, $(($(stat -c %s "$tmp/src.tar") / 1024)) KiB"

# Everything runs as root in the container, as on a new server; the tests
# that need a user of their own (PostgreSQL) make it as they do elsewhere.
cat >"$tmp/.fresh-inside.sh" <<'EOF2'
set -uo pipefail
cd /src
step() { printf '\n==== fresh: %s\n' "$1"; }
fail() { printf '\nfresh: MISSING %s\n' "$1"; exit 1; }
# why LOG: the names of what a failed build or command was missing, from the
# messages gcc, ld, cmake, pkg-config, bash and python print for them.
why() {
  local w
  w=$(sed -n -e 's/.*fatal error: \([^:]*\): No such file.*/header \1/p' \
    -e 's/.*cannot find -l\([^: ]*\).*/library lib\1/p' \
    -e 's/.*Could NOT find \([A-Za-z0-9_]*\) (missing: \([^)]*\)).*/cmake package \1 (\2)/p' \
    -e "s/.*No package '\([^']*\)' found.*/pkg-config module \1/p" \
    -e 's/.*: \([^ :]*\): command not found.*/command \1/p' \
    -e "s/.*ModuleNotFoundError: No module named '\([^']*\)'.*/python module \1/p" "$1" | sort -u | paste -sd, -)
  echo "${w:-nothing named; the log above says what failed}"
}
step "before deps.sh: what an empty machine has"
echo "$(dpkg-query -W -f='${Package}\n' | wc -l) packages"
step "the README's first command: scripts/demo.sh (DEMO_SECONDS=8)"
DEMO_SECONDS=8 bash scripts/demo.sh >demo.log 2>&1 || { tail -n 40 demo.log; fail "demo: $(why demo.log)"; }
for want in "String UPS A" "String UPS B" "[0-9]+/18 modules answering" "General status 0x" \
  "web interface answering: .*\"ok\": true"; do
  grep -Eq "$want" demo.log || { tail -n 40 demo.log; fail "demo: its snapshot has no \"$want\" (above)"; }
done
grep -v '^\[' demo.log | sed -n '/^Site /,/^Gateway alarms/p' | head -n 8
step "the README's second command's dependencies: scripts/deps.sh --test"
bash scripts/deps.sh --test || fail "deps.sh --test itself failed (apt output above)"
step "every tool the tests call"
miss=""
for tp in $FRESH_TOOLS; do
  command -v "${tp%%:*}" >/dev/null || miss="$miss ${tp%%:*} (package ${tp#*:})"
done
[ -z "$miss" ] || fail "tools:$miss"
echo "all $(echo $FRESH_TOOLS | wc -w) present"
step "every library the build links"
miss=""
for lp in $FRESH_LIBS; do
  pkg-config --exists "${lp%%:*}" || miss="$miss ${lp%%:*} (package ${lp#*:})"
done
[ -z "$miss" ] || fail "libraries:$miss"
echo "all $(echo $FRESH_LIBS | wc -w) present"
step "build (-Werror)"
if ! bash scripts/build.sh build >build.log 2>&1; then
  tail -n 30 build.log
  fail "build: $(why build.log)"
fi
echo "built"
step "every Python module the tests import"
/usr/bin/python3 tests/fresh/imports.py /src >imports.log 2>&1
rc=$?
cat imports.log
[ $rc -eq 0 ] || fail "python: $(why imports.log) (imported by the tests above)"
step "smoke: unit tests and one multi-process test per service"
cd build
if ! ctest --output-on-failure --timeout 300 -L unit >../unit.log 2>&1; then
  tail -n 60 ../unit.log
  fail "unit tests failed (above)"
fi
tail -n 3 ../unit.log
ctest --output-on-failure --timeout 300 -R "^($FRESH_SMOKE)\$" || fail "smoke: a multi-process test failed (above)"
EOF2
say "container $name from $image: deps, tools, build, imports, smoke"
docker create --name "$name" -i -w / -e FRESH_TOOLS="$(echo $TOOLS)" -e FRESH_LIBS="$(echo $LIBS)" -e FRESH_SMOKE="$SMOKE" "$image" bash -c 'mkdir /src && tar -x -C /src && exec bash /src/.fresh-inside.sh' >/dev/null
tar -rf "$tmp/src.tar" -C "$tmp" .fresh-inside.sh
rc=0
docker start -ai "$name" <"$tmp/src.tar" 2>&1 | tee "$tmp/inside.log" | sed 's/^/  | /' || rc=$?
if [ $rc -ne 0 ]; then
  miss=$(sed -n 's/^fresh: MISSING //p' "$tmp/inside.log" | tail -n 1)
  say "FAIL: a fresh Debian 12 machine is not enough for the tests: ${miss:-see the log above} (exit $rc)"
  exit 1
fi
say "a fresh $image passed deps.sh --test, the build, the imports and the smoke"
