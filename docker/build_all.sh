#!/usr/bin/env bash
# Builds the cotenant image and tags it, then prints its size.
#   docker/build_all.sh [TAG]          TAG defaults to cotenant:<version>, also tagged cotenant:latest
#   CUDA_ARCHS="80;90" docker/build_all.sh   also for A100s (default: 90, H100/H200)
#   PUSH=registry.example.com/team docker/build_all.sh   tags and pushes there too (for a cluster)
set -euo pipefail
cd "$(dirname "$0")/.."
version=$(sed -n 's/^project(cotenant VERSION \([0-9.]*\).*/\1/p' CMakeLists.txt)
tag=${1:-cotenant:${version:-dev}}
command -v docker >/dev/null || { echo "build_all.sh: docker is not installed" >&2; exit 2; }
docker build --build-arg CUDA_ARCHS="${CUDA_ARCHS:-90}" -t "$tag" -t cotenant:latest .
size=$(docker image inspect "$tag" --format '{{.Size}}')
echo "built $tag: $((size / 1000000)) MB"
if [ -n "${PUSH:-}" ]; then
  remote=$PUSH/${tag#*/}
  docker tag "$tag" "$remote"
  docker push "$remote"
  echo "pushed $remote; give it to cotenant with --image $remote"
fi
