#!/usr/bin/env bash
# Installs the Debian/Ubuntu packages cotenant needs to build (and, with
# COTENANT_WITH_TEST_TOOLS=1, to test), only those missing. Runs apt-get as
# root, or through sudo.
set -euo pipefail

packages=(build-essential cmake pkg-config git libjansson-dev libyaml-dev libgsl-dev
          libcmocka-dev libmicrohttpd-dev libncurses-dev zlib1g-dev gnuplot-nox python3 procps curl)
# What only the test suite needs (scripts/test.sh sets COTENANT_WITH_TEST_TOOLS=1):
# docker-compose and npm check the generated Compose files and Kubernetes
# objects (tests/e2e/test_deploy_validate.sh), npm only where Node.js is not
# already installed some other way; clang brings libFuzzer and the
# sanitizers' runtimes for the fuzz targets; docker.io (the engine) and
# mmdebstrap (the CPU image's Debian base) run the Compose executor for real
# (tests/e2e/test_compose_engine.sh); prometheus brings promtool, which
# checks the metrics exposition; help2man writes the man pages.
if [ "${COTENANT_WITH_TEST_TOOLS:-0}" = 1 ]; then
  packages+=(docker-compose clang docker.io mmdebstrap prometheus help2man)
  command -v npm >/dev/null || packages+=(npm)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "cotenant: installing ${missing[*]}" >&2
if [ "$(id -u)" -eq 0 ]; then sudo=(); else sudo=(sudo); fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
