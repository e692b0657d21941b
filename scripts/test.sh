#!/usr/bin/env bash
# The whole test suite: build and run every test, then the same suite
# built with AddressSanitizer and UBSan, then each fuzz target for a bounded
# time. Set COTENANT_FUZZ_SECONDS to change the fuzzing time (0 skips it).
set -euo pipefail
cd "$(dirname "$0")/.."
werror=OFF
[ "${CI:-}" = true ] && werror=ON

echo "== build and test"
export COTENANT_WITH_TEST_TOOLS=1 # docker-compose, npm and clang too
scripts/build.sh -DCOTENANT_WERROR=$werror
echo "== layers: no #include up the layers of src/, no include cycle (docs/architecture.md)"
python3 scripts/check_layers.py
# the Kubernetes schema validator, from the npm registry (versions pinned in its lockfile)
npm ci --prefix tests/k8s_validate --no-audit --no-fund --loglevel=error
# a Docker engine for the Compose executor's real runs (where it can start)
scripts/start_dockerd.sh
(cd build && ctest --output-on-failure -j2)

echo "== AddressSanitizer + UBSan build and test"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DCOTENANT_SANITIZE=ON -DCOTENANT_CUDA=OFF \
      -DCOTENANT_WERROR=$werror >/dev/null
cmake --build build-asan -j"$(nproc)"
# The validity suite (4 minutes of measuring against exactly known rates),
# the adaptive-repeats run (its CPU workloads' figures must separate within
# short windows, which the sanitizers' slowdown prevents) and the real
# Docker engine's runs (an image build and three minutes of containers)
# run in the plain build above; here, the code they drive is covered by
# the other end-to-end tests (the sweeps', the executors' against stand-ins).
(cd build-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 ctest --output-on-failure -j2 -LE "validity|engine|timing")

seconds=${COTENANT_FUZZ_SECONDS:-20}
if [ "$seconds" -gt 0 ]; then
  echo "== fuzzing each parser for ${seconds}s"
  CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=Debug -DCOTENANT_FUZZ=ON -DCOTENANT_CUDA=OFF \
        -DBUILD_TESTING=ON >/dev/null
  cmake --build build-fuzz -j"$(nproc)" --target fuzz_scenario fuzz_event_line fuzz_http_request fuzz_telemetry_csv fuzz_infer_request fuzz_http_response fuzz_mig_layout fuzz_mig_parted fuzz_saved_state fuzz_agent_stream fuzz_serve_request
  for t in fuzz_scenario fuzz_event_line fuzz_http_request fuzz_telemetry_csv fuzz_infer_request fuzz_http_response fuzz_mig_layout fuzz_mig_parted fuzz_saved_state fuzz_agent_stream fuzz_serve_request; do
    corpus=$(mktemp -d)
    cp tests/fuzz/corpus/${t#fuzz_}/* "$corpus"/
    log=build-fuzz/$t.log
    # libFuzzer exits non-zero, with the input that failed, when it finds a bug.
    if ! (cd build-fuzz && bin/$t -max_total_time="$seconds" -max_len=8192 -timeout=10 -print_final_stats=1 \
          "$corpus" >"$t.log" 2>&1); then
      tail -40 "$log"; echo "fuzz target $t found a failure (input saved in build-fuzz/)" >&2; exit 1
    fi
    echo "$t: $(grep -m1 -o 'stat::number_of_executed_units: [0-9]*' "$log" | cut -d' ' -f2) inputs, no failure"
    rm -rf "$corpus"
  done
fi
echo "== all tests passed"
