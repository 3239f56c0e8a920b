#!/bin/sh
# Secrets come as files (compose secrets, mounted under /run/secrets): for
# every VAR_FILE in the environment, VAR is set from that file's content
# (the trailing newline dropped), so no password sits in the image, the
# compose file or `docker inspect`. Then the daemon replaces this shell.
set -eu
for kv in $(env | sed -n 's/^\([A-Z_][A-Z0-9_]*\)_FILE=.*/\1/p'); do
  f=$(printenv "${kv}_FILE")
  if [ ! -r "$f" ]; then
    echo "docker-entrypoint: ${kv}_FILE=$f is not readable by uid $(id -u)" >&2
    exit 1
  fi
  export "$kv=$(cat "$f")"
  unset "${kv}_FILE"
done
exec "$@"
