# Sourced by the tests that need a Docker engine (tests/deploy/compose_test.sh,
# tests/fresh/fresh_machine.sh). engine_up DIR: installs Debian's docker.io
# and docker-compose when missing (scripts/deps.sh --deploy) and starts dockerd
# in the background when no engine answers (no systemd in a CI container),
# logging to DIR/dockerd.log. Sets started_dockerd to the pid it started (empty
# when an engine was already running) so the caller stops only its own;
# engine_down stops it. Returns 1 with the reason on stderr when no engine can
# run: not root and no sudo, or dockerd did not come up.
# Needs: SUDO ("" or "sudo"), set by the caller.
started_dockerd=""

engine_up() {
  local dir=$1 i
  if [ "$(id -u)" -ne 0 ] && ! sudo -n true 2>/dev/null; then
    if command -v sudo >/dev/null; then
      echo "engine: not root, and sudo asks for a password: cannot install or start a Docker engine" >&2
    else
      echo "engine: not root, and no sudo: cannot install or start a Docker engine" >&2
    fi
    return 1
  fi
  bash scripts/deps.sh --deploy || return 1
  docker info >/dev/null 2>&1 && return 0
  $SUDO sh -c "setsid /usr/sbin/dockerd >'$dir/dockerd.log' 2>&1 & echo \$! >'$dir/dockerd.pid'"
  started_dockerd=$(cat "$dir/dockerd.pid")
  for i in $(seq 60); do
    docker info >/dev/null 2>&1 && return 0
    kill -0 "$started_dockerd" 2>/dev/null || break
    sleep 1
  done
  tail -n 30 "$dir/dockerd.log" >&2
  echo "engine: dockerd did not come up within 60 s (its log above)" >&2
  return 1
}

engine_down() {
  if [ -n "$started_dockerd" ]; then
    $SUDO kill "$started_dockerd" 2>/dev/null || true
    # The next test starts its own: wait until this one has let go of its
    # socket and pid file, or that dockerd refuses to start.
    while $SUDO kill -0 "$started_dockerd" 2>/dev/null; do sleep 0.2; done
    started_dockerd=""
  fi
}
