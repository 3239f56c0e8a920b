#!/usr/bin/env bash
# A private PostgreSQL cluster for the demo and the tests (used when no
# database is given): initdb into DIR, listen on 127.0.0.1:PORT and a socket
# in DIR, create the database "ohmwatch" with the historian's role
# (ohmwatch_writer), Grafana's read-only role (grafana_reader) and webd's
# (webd_reader).
#   scripts/pg.sh start DIR [PORT]   prints the historian's connection string
#   scripts/pg.sh stop DIR
#   scripts/pg.sh status DIR
# PostgreSQL refuses to run as root: as root the cluster runs as "postgres".
# Passwords: $OW_PG_WRITER_PASSWORD / $OW_PG_READER_PASSWORD /
# $OW_PG_WEBD_PASSWORD (defaults for a private test cluster only).
set -euo pipefail
cmd=${1:?usage: pg.sh start|stop|status DIR [PORT]}
dir=$(realpath -m "${2:?DIR}")
port=${3:-55432}
bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
as=()
if [ "$(id -u)" = 0 ]; then
  as=(runuser -u postgres --)
fi

case "$cmd" in
start)
  mkdir -p "$dir"
  [ "$(id -u)" = 0 ] && chown postgres "$dir"
  if [ ! -f "$dir/data/PG_VERSION" ]; then
    "${as[@]}" "$bin/initdb" -D "$dir/data" -A trust -U postgres --no-sync >/dev/null
    cat >> "$dir/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir'
fsync = on
synchronous_commit = on
max_connections = 50
shared_buffers = 256MB
wal_level = minimal
max_wal_senders = 0
CONF
    fresh=1
  fi
  if ! "${as[@]}" "$bin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
    "${as[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 60 start >/dev/null
  fi
  if [ "${fresh:-0}" = 1 ]; then
    psql -q -h "$dir" -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1 <<SQL >/dev/null
CREATE ROLE ohmwatch_writer LOGIN PASSWORD '${OW_PG_WRITER_PASSWORD:-ohmwatch}';
CREATE ROLE grafana_reader LOGIN PASSWORD '${OW_PG_READER_PASSWORD:-grafana}';
CREATE ROLE webd_reader LOGIN PASSWORD '${OW_PG_WEBD_PASSWORD:-webd}';
CREATE DATABASE ohmwatch OWNER ohmwatch_writer;
SQL
  fi
  echo "host=127.0.0.1 port=$port dbname=ohmwatch user=ohmwatch_writer password=${OW_PG_WRITER_PASSWORD:-ohmwatch}"
  ;;
stop)
  "${as[@]}" "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
  ;;
status)
  "${as[@]}" "$bin/pg_ctl" -D "$dir/data" status
  ;;
*)
  echo "usage: pg.sh start|stop|status DIR [PORT]" >&2
  exit 2
  ;;
esac
