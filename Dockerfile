# cotenant and its built-in workloads in one image, for `cotenant deploy`
# and `cotenant run --executor compose|k8s` (docs/containers.md).
# Built on NVIDIA's CUDA 13 + cuDNN 9 devel image, run on the matching
# runtime image as a non-root user. docker/build_all.sh builds and tags it.
ARG CUDA_VERSION=13.0.2
ARG UBUNTU=ubuntu24.04

FROM nvidia/cuda:${CUDA_VERSION}-cudnn-devel-${UBUNTU} AS build
# Hopper by default; CUDA_ARCHS="80;90" adds Ampere
ARG CUDA_ARCHS=90
RUN apt-get update \
 && apt-get install -y --no-install-recommends cmake make gcc pkg-config git \
      libjansson-dev libyaml-dev libgsl-dev libmicrohttpd-dev libncurses-dev zlib1g-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cmake -S . -B /build -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF -DCMAKE_CUDA_ARCHITECTURES="${CUDA_ARCHS}" \
 && cmake --build /build -j"$(nproc)" \
 && mkdir -p /opt/cotenant/bin \
 && find /build/bin -maxdepth 1 -type f -name 'cotenant*' ! -name 'cotenant-nvml-cost' -exec cp {} /opt/cotenant/bin/ \;

FROM nvidia/cuda:${CUDA_VERSION}-cudnn-runtime-${UBUNTU}
RUN apt-get update \
 && apt-get install -y --no-install-recommends libjansson4 libyaml-0-2 libgsl27 libmicrohttpd12t64 libncursesw6 zlib1g \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /opt/cotenant /opt/cotenant
# uid:gid 1000:1000 is the image's user, given by number so that a kubelet
# can check runAsNonRoot (the Jobs set runAsUser 1000 too); Ubuntu's base
# image has its own user "ubuntu" there, which gives way. Compose runs the
# containers as the invoking user (to write the mounted results folder).
RUN (userdel --remove ubuntu 2>/dev/null || true) \
 && groupadd --gid 1000 cotenant && useradd --uid 1000 --gid 1000 --create-home --shell /usr/sbin/nologin cotenant \
 && mkdir -p /cotenant/results /cotenant/mps && chown -R 1000:1000 /cotenant
ENV PATH=/opt/cotenant/bin:$PATH \
    NVIDIA_VISIBLE_DEVICES=none \
    NVIDIA_DRIVER_CAPABILITIES=compute,utility
USER 1000:1000
WORKDIR /cotenant
ENTRYPOINT []
CMD ["cotenant", "--help"]
