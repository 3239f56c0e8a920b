#!/usr/bin/env bash
# Installs the Debian 12 packages ohmwatch needs, only those that are missing.
# Used by scripts/demo.sh and scripts/test.sh so a fresh machine needs nothing
# else. Set OHMWATCH_NO_APT=1 to skip (e.g. when packaging).
set -euo pipefail

# Build: compiler, cmake, the libraries every service links, and python3,
# without which cmake's configure stops (tests/CMakeLists.txt finds the
# interpreter the multi-process tests run under; the fresh-machine check found
# scripts/demo.sh failing there on an empty Debian 12).
# libarchive-dev: `ohmwatch backup`/`restore` read and write the tar.gz with
# it (a stranger's archive read by the library made for that, not by a tar
# parser of our own); libsodium-dev: the SHA-256 of the backup's members
# (libzmq3-dev pulls it in for CURVE; named since cli/ links it itself).
# libmicrohttpd-dev: ohmwatch-webd's HTTPS server (it pulls in GnuTLS).
BUILD_PKGS="build-essential cmake pkg-config clang libclang-rt-14-dev
  libzmq3-dev libczmq-dev libjansson-dev libmodbus-dev libpq-dev libsnmp-dev
  libarchive-dev libsodium-dev libmicrohttpd-dev python3"
# Run and test: a real PostgreSQL, real Modbus and SNMP clients nobody here
# wrote; systemd-analyze, with which tests/test_install.sh verifies the units.
# python3-serial-asyncio: Debian 12's python3-pymodbus (3.0) imports it from
# pymodbus.client and pymodbus.server but only Recommends it, and we install
# without recommends (issue 13: five tests failed on a fresh machine).
# python3-yaml: the Grafana provisioning files are checked, not skipped.
# git: scripts/test.sh lists the sources it checks the formatting of.
# iproute2, tcpdump: tests/test_security_netns.py (two hosts in network
# namespaces; the link captured to show CURVE leaves no plaintext).
# chromium, chromium-driver, python3-selenium: the web interface is tested in
# a real browser (tests/test_webd_browser.py); curl: webd's security tests
# speak HTTPS with a client nobody here wrote.
# tests/fresh/fresh_machine.sh proves this list in an empty container.
TEST_PKGS="postgresql postgresql-client mbpoll socat snmp smitools snmpd snmptrapd
  python3 python3-pymodbus python3-serial python3-serial-asyncio python3-zmq python3-psycopg2
  python3-yaml procps clang-format git systemd iproute2 tcpdump openssl
  chromium chromium-driver python3-selenium curl"

# The deployment test (tests/deploy/compose_test.sh): Debian's Docker engine
# and Compose (v1: bookworm has no v2 plugin), debootstrap for the local base
# image, net-snmp's tools and mbpoll for the published ports, psql; openssl
# (make-secrets.sh's self-signed pair for webd) and curl (the HTTPS login
# through the published port).
DEPLOY_PKGS="docker.io docker-compose debootstrap mbpoll postgresql-client snmp openssl curl"

want="$BUILD_PKGS"
# openssl: the demo makes webd's self-signed TLS pair with it.
DEMO_PKGS="postgresql postgresql-client procps openssl"
for a in "$@"; do
  case "$a" in
  --test) want="$want $TEST_PKGS" ;;
  --demo) want="$want $DEMO_PKGS" ;;
  --deploy) want="$DEPLOY_PKGS" ;; # only these: the test has built everything already
  *) echo "deps: unknown option $a (--test, --demo, --deploy)" >&2; exit 2 ;;
  esac
done

missing=""
for p in $want; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "${OHMWATCH_NO_APT:-0}" = 1 ]; then
  echo "deps: missing packages:$missing (OHMWATCH_NO_APT=1, not installing)" >&2
  exit 1
fi
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
echo "deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
