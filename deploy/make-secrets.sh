#!/usr/bin/env bash
# Makes the compose stack's secret files, each once (an existing file is
# kept), with random passwords: deploy/secrets/ (or $OHMWATCH_SECRETS)
#   pg_superuser   PostgreSQL superuser postgres
#   pg_writer      ohmwatch_writer, the historian's role
#   pg_reader      grafana_reader, Grafana's read-only role
#   pg_webd        webd_reader, webd's read-only role (the history pages)
#   grafana_admin  Grafana's admin (profile "grafana")
#   grafana.env    GRAFANA_DB_PASSWORD=<pg_reader>, for Grafana's provisioning
#   snmp_auth      SNMPv3 user nms: authentication pass phrase (SHA-256)
#   snmp_priv      SNMPv3 user nms: privacy pass phrase (AES)
#   webd.admin_password  the web pages' first user "admin" (must be changed
#                  at the first login)
#   webd.crt, webd.key   webd's TLS pair: a self-signed certificate (openssl,
#                  else GnuTLS's certtool) for $OHMWATCH_WEB_HOST (default the
#                  host's name), localhost and 127.0.0.1, valid 825 days.
#                  Browsers warn about a self-signed certificate: replace the
#                  pair with one from the site's CA (same file names).
#   keys/          CURVE public keys, the allow-list every container mounts
#   NAME.key_secret  each service's CURVE secret key (a compose secret of its
#                  own container only), made by `ohmwatch keygen`
#                  (build/cli/ohmwatch, or ohmwatch on PATH)
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
for name in pg_superuser pg_writer pg_reader pg_webd grafana_admin snmp_auth snmp_priv webd.admin_password; do
  [ -s "$dir/$name" ] || { newpw >"$dir/$name"; echo "make-secrets: wrote $dir/$name"; }
done
# webd's TLS pair, once: an existing pair (perhaps the site CA's) is kept.
if [ ! -s "$dir/webd.crt" ] || [ ! -s "$dir/webd.key" ]; then
  cn=${OHMWATCH_WEB_HOST:-$(hostname -f 2>/dev/null || hostname)}
  if command -v openssl >/dev/null; then
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 825 \
      -subj "/O=ohmwatch/CN=$cn" -addext "subjectAltName=DNS:$cn,DNS:localhost,IP:127.0.0.1" \
      -addext "extendedKeyUsage=serverAuth" \
      -keyout "$dir/webd.key" -out "$dir/webd.crt" 2>/dev/null
  elif command -v certtool >/dev/null; then
    tpl=$(mktemp)
    printf 'organization = "ohmwatch"\ncn = "%s"\ndns_name = "%s"\ndns_name = "localhost"\nip_address = "127.0.0.1"\nexpiration_days = 825\ntls_www_server\nsigning_key\n' "$cn" "$cn" >"$tpl"
    certtool --generate-privkey --ecc --curve secp256r1 --no-text --outfile "$dir/webd.key" 2>/dev/null
    certtool --generate-self-signed --no-text --load-privkey "$dir/webd.key" --template "$tpl" \
      --outfile "$dir/webd.crt" 2>/dev/null
    rm -f "$tpl"
  else
    echo "make-secrets: neither openssl nor certtool (gnutls-bin) to make webd's TLS pair" >&2
    exit 1
  fi
  echo "make-secrets: wrote $dir/webd.crt and $dir/webd.key (self-signed, CN $cn)"
fi
# CURVE keys: keygen keeps what exists; the secrets leave keys/private/ so
# that the keys/ mount shows a container no one's secret.
kg=$(command -v ohmwatch || true)
[ -x build/cli/ohmwatch ] && kg=build/cli/ohmwatch
if [ -z "$kg" ]; then
  echo "make-secrets: no ohmwatch to make the CURVE keys with: run scripts/build.sh, then again" >&2
  exit 1
fi
mkdir -p "$dir/keys"
fresh=$(mktemp -d)
"$kg" keygen -d "$fresh" >"$fresh.list"
for name in busd alarmd historian modbusd snmpd webd cli; do
  [ -s "$dir/$name.key_secret" ] && [ -s "$dir/keys/$name.key" ] && continue
  mv "$fresh/$name.key" "$dir/keys/$name.key"
  mv "$fresh/private/$name.key_secret" "$dir/$name.key_secret"
  echo "make-secrets: wrote $dir/keys/$name.key ($(sed -n "s|^.*/$name.key: ||p" "$fresh.list")) and $dir/$name.key_secret"
done
rm -rf "$fresh" "$fresh.list"
chmod 0755 "$dir/keys"
chmod 0644 "$dir/keys"/*.key
[ -s "$dir/grafana.env" ] || printf 'GRAFANA_DB_PASSWORD=%s\n' "$(cat "$dir/pg_reader")" >"$dir/grafana.env"
if ! chgrp 10001 "$dir" "$dir"/* 2>/dev/null; then
  # Not root: the containers' users can only read them world-readable.
  echo "make-secrets: cannot give $dir to gid 10001 (not root?); making the files readable to all" >&2
  chmod 0755 "$dir"
  chmod 0644 "$dir"/* 2>/dev/null || true
  echo "make-secrets: the CURVE secret keys are refused when world-readable: run as root" >&2
else
  find "$dir" -maxdepth 1 -type f -exec chmod 0640 {} +
  chgrp -R 10001 "$dir/keys"
fi
