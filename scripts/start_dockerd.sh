#!/usr/bin/env bash
# Starts a Docker engine for the tests that run containers for real
# (tests/e2e/test_compose_engine.sh), where none answers yet: Debian's
# dockerd as root, with the vfs storage driver (no overlay filesystem
# needed) and without touching iptables. Waits until it answers. Exits 0
# with a line saying why where it cannot (not root, no dockerd): those
# tests then say they are skipped.
set -uo pipefail
docker info >/dev/null 2>&1 && { echo "docker: an engine already answers"; exit 0; }
[ "$(id -u)" -eq 0 ] || { echo "docker: not root, so no engine is started; the container tests will be skipped"; exit 0; }
command -v dockerd >/dev/null || { echo "docker: dockerd is not installed (package docker.io); the container tests will be skipped"; exit 0; }
log=${DOCKERD_LOG:-/tmp/cotenant-dockerd.log}
setsid dockerd --storage-driver=vfs --iptables=false >"$log" 2>&1 </dev/null &
for _ in $(seq 60); do
  docker info >/dev/null 2>&1 && { echo "docker: engine started (log: $log)"; exit 0; }
  sleep 0.5
done
echo "docker: dockerd did not answer within 30 s (see $log); the container tests will be skipped:"
tail -5 "$log"
exit 0
