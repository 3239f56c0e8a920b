#!/usr/bin/env bash
# Makes sure the local image debian:bookworm-slim exists, for hosts that
# cannot pull base images: when `docker image inspect` does not find it,
# debootstrap a minimal Debian 12 (variant minbase, the same package set as
# the official slim image), strip documentation and apt lists the way the
# slim image does, and `docker import` it. Needs root (or sudo) and
# debootstrap; MIRROR overrides the Debian mirror.
#   deploy/base-image.sh [IMAGE]     default debian:bookworm-slim
set -euo pipefail
image=${1:-debian:bookworm-slim}
mirror=${MIRROR:-http://deb.debian.org/debian}
docker=${DOCKER:-docker}

if $docker image inspect "$image" >/dev/null 2>&1; then
  echo "base-image: $image present"
  exit 0
fi
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
command -v debootstrap >/dev/null || { echo "base-image: debootstrap is missing (apt-get install debootstrap)" >&2; exit 1; }

root=$(mktemp -d /var/tmp/ow-bookworm.XXXXXX)
trap '$SUDO rm -rf "$root"' EXIT
echo "base-image: $image missing; debootstrap bookworm (minbase) from $mirror"
start=$(date +%s)
if ! $SUDO debootstrap --variant=minbase bookworm "$root" "$mirror" >"$root.log" 2>&1; then
  tail -n 20 "$root.log" >&2
  echo "base-image: debootstrap failed (log above, full log $root.log)" >&2
  exit 1
fi
rm -f "$root.log"

# What the official slim image does: no docs, man pages or locales from later
# installs, no recommends, no package caches left in layers.
$SUDO tee "$root/etc/dpkg/dpkg.cfg.d/docker-slim" >/dev/null <<'CFG'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
CFG
$SUDO tee "$root/etc/apt/apt.conf.d/docker-slim" >/dev/null <<'CFG'
APT::Install-Recommends "false";
APT::Install-Suggests "false";
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/*.bin || true"; };
Acquire::GzipIndexes "true";
CFG
$SUDO tee "$root/etc/apt/sources.list" >/dev/null <<SRC
deb $mirror bookworm main
deb $mirror bookworm-updates main
deb ${SECURITY_MIRROR:-http://deb.debian.org/debian-security} bookworm-security main
SRC
$SUDO sh -c "cd '$root' && find usr/share/doc -mindepth 2 ! -name copyright -delete 2>/dev/null; \
  rm -rf usr/share/man/* usr/share/info/* var/cache/apt/archives/*.deb var/cache/apt/*.bin \
         var/lib/apt/lists/* var/log/*.log var/log/apt/* tmp/*; \
  find usr/share/locale -mindepth 1 -maxdepth 1 ! -name locale.alias -exec rm -rf {} +"
$SUDO tar -C "$root" --numeric-owner -c . |
  $docker import --change 'CMD ["bash"]' --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    -m "debootstrap --variant=minbase bookworm (ohmwatch deploy/base-image.sh)" - "$image" >/dev/null
echo "base-image: $image imported in $(($(date +%s) - start)) s ($($docker image inspect -f '{{.Size}}' "$image" | awk '{printf "%.0f MB", $1/1e6}'))"
