#!/usr/bin/env bash
# Builds the CPU image: cotenant and its CPU workloads (cotenant-cpu-burn,
# -serve --model mlp, -loadgen, -resnet50 and -bert --device cpu,
# -interactive --device cpu) on a Debian bookworm base, for
# `cotenant run --executor compose` on a machine without a GPU. No registry
# is needed: the base comes from Debian's own packages (mmdebstrap), and the
# binaries from a CUDA-free build of this checkout.
#
#   docker/build_cpu_image.sh           tagged cotenant-cpu:<version> and cotenant-cpu:latest
#   docker/build_cpu_image.sh TAG       tagged TAG only
#
# Prints the image's tag and size last. Needs root (mmdebstrap's root mode,
# and the Docker engine), mmdebstrap and a reachable Debian mirror.
set -euo pipefail
cd "$(dirname "$0")/.."
version=$(sed -n 's/^project(cotenant VERSION \([0-9.]*\).*/\1/p' CMakeLists.txt)
tag=${1:-cotenant-cpu:${version:-dev}}
also_latest=$([ $# -eq 0 ] && echo yes || true)
for tool in docker mmdebstrap cmake; do
  command -v $tool >/dev/null || { echo "build_cpu_image.sh: $tool is not installed (scripts/install_deps.sh installs it)" >&2; exit 2; }
done

# A CUDA-free build of its own, so no CUDA library is needed inside; built
# as scripts/build.sh builds (RelWithDebInfo), so a workload computes as
# fast in the image as on the host, then stripped.
build=${COTENANT_CPU_BUILD:-build-cpu-image}
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCOTENANT_CUDA=OFF -DBUILD_TESTING=OFF >/dev/null
cmake --build "$build" -j"$(nproc)" >/dev/null

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/opt/cotenant/bin"
find "$build/bin" -maxdepth 1 -type f -name 'cotenant*' ! -name 'cotenant-nvml-cost' -exec cp {} "$stage/opt/cotenant/bin/" \;
strip "$stage"/opt/cotenant/bin/*

# The run-time libraries of what was built, and nothing for people (docs,
# man pages, locales): the image runs programs, nobody logs in.
mmdebstrap --quiet --variant=minbase \
  --include=libjansson4,libyaml-0-2,libgsl27,libmicrohttpd12,libncurses6,zlib1g \
  --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-exclude=/usr/share/man/*' \
  --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-exclude=/usr/share/info/*' \
  --customize-hook="copy-in $stage/opt /" \
  --customize-hook='echo "cotenant:x:1000:1000::/cotenant:/usr/sbin/nologin" >> "$1/etc/passwd"' \
  --customize-hook='echo "cotenant:x:1000:" >> "$1/etc/group"' \
  --customize-hook='mkdir -p "$1/cotenant/results" "$1/cotenant/mps" && chown -R 1000:1000 "$1/cotenant"' \
  --customize-hook='rm -rf "$1/var/lib/apt/lists"/* "$1/var/cache/apt"/*' \
  bookworm "$stage/rootfs.tar"

# The user is numeric, so a kubelet can check runAsNonRoot; Compose runs
# the containers as the invoking user (to write the mounted results folder).
docker import \
  --change 'ENV PATH=/opt/cotenant/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'USER 1000:1000' \
  --change 'WORKDIR /cotenant' \
  --change 'CMD ["cotenant", "--help"]' \
  --change "LABEL org.opencontainers.image.title=cotenant-cpu org.opencontainers.image.version=${version:-dev}" \
  "$stage/rootfs.tar" "$tag" >/dev/null
[ -n "$also_latest" ] && docker tag "$tag" cotenant-cpu:latest
size=$(docker image inspect "$tag" --format '{{.Size}}')
echo "built $tag: $((size / 1000000)) MB"
