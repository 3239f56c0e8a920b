#!/usr/bin/env bash
# Makes the compose stack's secret files, each once (an existing file is
# kept), with random passwords: deploy/secrets/ (or $OHMWATCH_SECRETS)
#   pg_superuser   PostgreSQL superuser postgres
#   pg_writer      ohmwatch_writer, the historian's role
#   pg_reader      grafana_reader, Grafana's read-only role
#   grafana_admin  Grafana's admin (profile "grafana")
#   grafana.env    GRAFANA_DB_PASSWORD=<pg_reader>, for Grafana's provisioning
#   snmp_auth      SNMPv3 user nms: authentication pass phrase (SHA-256)
#   snmp_priv      SNMPv3 user nms: privacy pass phrase (AES)
# The containers run as uid 10001 (ohmwatch) and 10002 (postgres, also in
# group 10001): files are mode 0640 and group 10001, so they read them and
# other users of the host do not. The directory is in .gitignore and
# .dockerignore: secrets never go into git or an image.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${OHMWATCH_SECRETS:-deploy/secrets}
mkdir -p "$dir"
chmod 0750 "$dir"
umask 027
newpw() { head -c 32 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 32; }
for name in pg_superuser pg_writer pg_reader grafana_admin snmp_auth snmp_priv; do
  [ -s "$dir/$name" ] || { newpw >"$dir/$name"; echo "make-secrets: wrote $dir/$name"; }
done
[ -s "$dir/grafana.env" ] || printf 'GRAFANA_DB_PASSWORD=%s\n' "$(cat "$dir/pg_reader")" >"$dir/grafana.env"
if ! chgrp 10001 "$dir" "$dir"/* 2>/dev/null; then
  # Not root: the containers' users can only read them world-readable.
  echo "make-secrets: cannot give $dir to gid 10001 (not root?); making the files readable to all" >&2
  chmod 0755 "$dir"
  chmod 0644 "$dir"/*
else
  chmod 0640 "$dir"/*
fi
