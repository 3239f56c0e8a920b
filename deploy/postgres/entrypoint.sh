#!/bin/bash
# First start on an empty volume: initdb, the database "ohmwatch" owned by
# the historian's role ohmwatch_writer, grafana_reader and webd_reader (the
# historian's migrations grant both SELECT). Passwords come from files
# (compose secrets):
#   POSTGRES_PASSWORD_FILE          superuser postgres
#   OHMWATCH_WRITER_PASSWORD_FILE   ohmwatch_writer
#   GRAFANA_READER_PASSWORD_FILE    grafana_reader
#   WEBD_READER_PASSWORD_FILE       webd_reader (the web pages' history)
# Later starts use the cluster as it is. Network clients need a password
# (scram-sha-256); inside the container the socket trusts local users, for
# `docker exec ... psql`. Then postgres replaces this shell (logs to stderr).
set -euo pipefail
: "${PGDATA:=/var/lib/postgresql/data}"

secret() { # secret VAR: the content of the file $VAR names, without the newline
  local f=${!1:-}
  if [ -z "$f" ] || [ ! -r "$f" ]; then
    echo "ohmwatch-postgres: $1 must name a readable file (uid $(id -u)), got '${f}'" >&2
    exit 1
  fi
  head -n 1 "$f" | tr -d '\r\n'
}

if [ ! -s "$PGDATA/PG_VERSION" ]; then
  echo "ohmwatch-postgres: initialising a new cluster in $PGDATA"
  su_pw=$(secret POSTGRES_PASSWORD_FILE)
  writer_pw=$(secret OHMWATCH_WRITER_PASSWORD_FILE)
  reader_pw=$(secret GRAFANA_READER_PASSWORD_FILE)
  webd_pw=$(secret WEBD_READER_PASSWORD_FILE)
  initdb -D "$PGDATA" -U postgres --pwfile=<(printf '%s\n' "$su_pw") -E UTF8 --locale=C.UTF-8 \
    --auth-local=trust --auth-host=scram-sha-256 >/dev/null
  echo "include '/etc/postgresql/ohmwatch.conf'" >>"$PGDATA/postgresql.conf"
  # Any address may try; every network login needs its password.
  echo "host all all all scram-sha-256" >>"$PGDATA/pg_hba.conf"
  pg_ctl -D "$PGDATA" -o "-c listen_addresses=''" -w -t 60 start >/dev/null
  psql -v ON_ERROR_STOP=1 -q -U postgres -d postgres \
    -v writer_pw="$writer_pw" -v reader_pw="$reader_pw" -v webd_pw="$webd_pw" <<'SQL'
CREATE ROLE ohmwatch_writer LOGIN PASSWORD :'writer_pw';
CREATE ROLE grafana_reader LOGIN PASSWORD :'reader_pw';
CREATE ROLE webd_reader LOGIN PASSWORD :'webd_pw';
CREATE DATABASE ohmwatch OWNER ohmwatch_writer;
SQL
  pg_ctl -D "$PGDATA" -m fast -w stop >/dev/null
  echo "ohmwatch-postgres: cluster ready (database ohmwatch, roles ohmwatch_writer, grafana_reader, webd_reader)"
fi
exec "$@"
