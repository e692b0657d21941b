# scripts/k8s-smoke.sh, the steps of docs/containers.md a user runs against
# a cluster, run here against the stand-in kubectl (tests/e2e/fake_tools):
# every step passes on a cluster that behaves, and a node without GPUs or
# a Job left behind each make it fail, naming the step.
source "$(dirname "$0")/lib.sh"
export COTENANT_NVML_LIBRARY=$COTENANT_NVML_DOUBLE
export PATH=$COTENANT_SOURCE_DIR/tests/e2e/fake_tools:$PATH
export FAKE_COTENANT=$COT FAKE_DIR=$WORK/fake FAKE_LOG=$WORK/fake/calls COTENANT=$COT
mkdir -p "$FAKE_DIR"
cat >"$WORK/s.yaml" <<YAML
name: smoke
device: gpu
modes: [timeslice]
repeats: 1
warmup: 0.2s
telemetry_interval: off
startup_timeout: 20s
workloads:
  - name: a
    command: [$BIN/cotenant-cpu-burn, --loop, compute, --threads, "1", --duration, "0"]
  - name: b
    command: [$BIN/cotenant-cpu-burn, --loop, compute, --threads, "1", --duration, "0"]
YAML
export ASAN_OPTIONS=detect_leaks=0
echo "nvidia.com/device-plugin.config=site-default" >"$FAKE_DIR/labels"
SMOKE=$COTENANT_SOURCE_DIR/scripts/k8s-smoke.sh
bash "$SMOKE" --node gpu-1 --image reg.example/cotenant:1 --namespace bench --scenario "$WORK/s.yaml" --duration 1s --out "$WORK/ok" \
  >"$WORK/out" 2>&1 || fail "smoke on a good cluster: $(cat "$WORK/out"; tail -30 "$WORK/ok/smoke.log")"
ok "every step passes on a cluster that behaves"
[ "$(grep -c "^PASS " "$WORK/out")" = 9 ] || fail "9 steps expected: $(cat "$WORK/out")"; ok
grep -q "^k8s smoke: 9 passed, 0 failed" "$WORK/out" || fail "summary: $(cat "$WORK/out")"; ok
grep -q "kubectl apply -f $WORK/ok/deploy/cluster-config.yaml" "$FAKE_LOG" || fail "the config was not applied"; ok
grep -q "kubectl label node gpu-1 nvidia.com/device-plugin.config=cotenant-timeslicing-2 --overwrite" "$FAKE_LOG" \
  || fail "the node was not labelled for the mode"; ok
grep -q "no GPU Operator ClusterPolicy" "$WORK/ok/smoke.log" || fail "the Helm advice"; ok

FAKE_ALLOCATABLE=0 bash "$SMOKE" --node gpu-1 --image i --scenario "$WORK/s.yaml" --duration 1s --out "$WORK/nogpu" --no-apply >"$WORK/out" 2>&1 \
  && fail "a node without GPUs passed"
grep -q "^FAIL  it offers nvidia.com/gpu" "$WORK/out" || fail "no GPUs: $(cat "$WORK/out")"; ok
FAKE_JOBS_LEFT=smoke-s1-a bash "$SMOKE" --node gpu-1 --image i --scenario "$WORK/s.yaml" --duration 1s --out "$WORK/left" --no-apply \
  >"$WORK/out" 2>&1 && fail "a Job left behind passed"
grep -q "^FAIL  no Job of the run is left" "$WORK/out" || fail "jobs left: $(cat "$WORK/out")"; ok
rc=0; bash "$SMOKE" --image i >"$WORK/out" 2>&1 || rc=$?
[ $rc = 2 ] && grep -q -- "--node NODE is required" "$WORK/out" || fail "usage: $rc $(cat "$WORK/out")"; ok
finish
