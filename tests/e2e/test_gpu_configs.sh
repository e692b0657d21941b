#!/usr/bin/env bash
# Time slicing, MPS and MIG settings outside a run and for one: cotenant mode
# (compute mode through the NVML double, timeslice through a stand-in
# nvidia-smi that keeps its value in a file and logs its arguments), the
# scripts in scripts/gpu-configs (--help, --dry-run, a change and its undo),
# a failure half-way that puts back what had changed, cotenant run
# --set-timeslice restoring the timeslice after the run, and a sweep that
# sets both around its configurations' segments.
source "$(dirname "$0")/lib.sh"
SCRIPTS=$(cd "$(dirname "$0")/../../scripts/gpu-configs" && pwd)
export COTENANT=$COT COTENANT_NVML_LIBRARY=$COTENANT_NVML_DOUBLE COTENANT_NVML_DOUBLE_MIG_PROFILES=1
export COTENANT_NVML_DOUBLE_NAME="NVIDIA H100 80GB HBM3" COTENANT_STATE_DIR=$WORK/state
export COTENANT_NVML_DOUBLE_MIG_STATE=$WORK/gpu COTENANT_NVML_DOUBLE_LOG=$WORK/nvml.log
printf 'mode 0 0\ncompute_mode 0\n' >"$WORK/gpu"
cp "$WORK/gpu" "$WORK/gpu.before"
mkdir -p "$WORK/bin"
echo 0 >"$WORK/timeslice"
cat >"$WORK/bin/nvidia-smi" <<SH
#!/usr/bin/env bash
# stands in for nvidia-smi compute-policy
echo "\$*" >>"$WORK/smi.log"
names=(Default Short Medium Long)
case "\$*" in
  "compute-policy -i 0 -l")
    printf '+----+\n| GPU compute policies:               |\n| GPU     Name           Value        |\n|===|\n'
    printf '|   0   Timeslice       %s       |\n+----+\n' "\${names[\$(cat "$WORK/timeslice")]}" ;;
  "compute-policy -i 0 --set-timeslice="[0-3])
    [ "\${FAKE_SMI_FAIL:-}" = 1 ] && { echo "Insufficient Permissions" >&2; exit 4; }
    echo "\${4#*=}" >"$WORK/timeslice"; echo "Set timeslice" ;;
  *) echo "unexpected: \$*" >&2; exit 2 ;;
esac
SH
fake_mps_control "$WORK/bin"
chmod +x "$WORK/bin/"*
export PATH=$WORK/bin:$PATH
POLICY=$WORK/state/gpu-policy-GPU-00000000-0000-0000-0000-000000000000.json

for s in setup_time_slicing enable_mps disable_mps setup_mig disable_mig; do
  "$SCRIPTS/$s.sh" --help >"$WORK/help" || fail "$s --help"; ok
  grep -q "^Usage: $s.sh" "$WORK/help" && grep -q "dry-run" "$WORK/help" || fail "$s --help: $(cat "$WORK/help")"; ok
done

# status; a dry run changes nothing; a change saves the values before; restore puts them back
"$COT" mode status >"$WORK/st" || fail "status"; ok
grep -q "compute mode  Default" "$WORK/st" && grep -q "timeslice     default" "$WORK/st" || fail "status: $(cat "$WORK/st")"; ok
"$SCRIPTS/setup_time_slicing.sh" --timeslice short --dry-run >"$WORK/dry" || fail "dry run"; ok
grep -q "nvidia-smi compute-policy -i 0 --set-timeslice=1 (short)" "$WORK/dry" || fail "dry: $(cat "$WORK/dry")"; ok
[ "$(cat "$WORK/timeslice")" = 0 ] && [ ! -e "$POLICY" ] && ! grep -q set "$WORK/smi.log" || fail "the dry run changed something"; ok
"$SCRIPTS/setup_time_slicing.sh" --timeslice long >"$WORK/out" || fail "setup_time_slicing: $(cat "$WORK/out")"; ok
[ "$(cat "$WORK/timeslice")" = 3 ] || fail "timeslice not set"; ok
json "$POLICY" 'd["timeslice"], d["compute_mode"]' | grep -q "('default', 'default')" || fail "saved: $(cat "$POLICY")"; ok
"$COT" mode status | grep -q "timeslice     long" || fail "status after"; ok
"$COT" mode timeslice --compute-mode exclusive-process >/dev/null || fail "compute mode"; ok
grep -q "^compute_mode 3" "$WORK/gpu" || fail "compute mode not set: $(cat "$WORK/gpu")"; ok
json "$POLICY" 'd["timeslice"]' | grep -q "default" || fail "a second change keeps the first saved values"; ok
"$COT" mode restore >/dev/null || fail "restore"; ok
[ "$(cat "$WORK/timeslice")" = 0 ] && cmp -s "$WORK/gpu" "$WORK/gpu.before" && [ ! -e "$POLICY" ] || fail "restore: $(cat "$WORK/gpu")"; ok
set +e
"$COT" mode restore 2>"$WORK/err"; rc=$?
[ $rc = 2 ] && grep -q "nothing to restore" "$WORK/err" || fail "nothing saved: $rc"; ok
# the compute mode changes, then nvidia-smi refuses the timeslice: the compute mode goes back
FAKE_SMI_FAIL=1 "$COT" mode timeslice --compute-mode exclusive-process --timeslice medium 2>"$WORK/err"; rc=$?
set -e
[ $rc = 1 ] && grep -q "Insufficient Permissions.*the values before were put back" "$WORK/err" || fail "failure: $rc $(cat "$WORK/err")"; ok
cmp -s "$WORK/gpu" "$WORK/gpu.before" && [ ! -e "$POLICY" ] || fail "after the failure: $(cat "$WORK/gpu")"; ok

# MPS: a standing daemon with Exclusive_Process, then stopped and the compute mode put back
"$SCRIPTS/enable_mps.sh" --pipe-dir "$WORK/mps" --log-dir "$WORK/mpslog" --exclusive --dry-run >"$WORK/dry" || fail "mps dry"; ok
grep -q "CUDA_MPS_PIPE_DIRECTORY=$WORK/mps .*nvidia-cuda-mps-control -d" "$WORK/dry" && grep -q "nvmlDeviceSetComputeMode(GPU 0, Exclusive_Process)" "$WORK/dry" \
  || fail "mps dry run: $(cat "$WORK/dry")"; ok
[ ! -e "$WORK/mps" ] && cmp -s "$WORK/gpu" "$WORK/gpu.before" || fail "the MPS dry run changed something"; ok
"$SCRIPTS/enable_mps.sh" --pipe-dir "$WORK/mps" --log-dir "$WORK/mpslog" --exclusive >/dev/null || fail "enable_mps"; ok
[ -s "$WORK/mps/nvidia-cuda-mps-control.pid" ] && grep -q "^compute_mode 3" "$WORK/gpu" || fail "MPS on: $(cat "$WORK/gpu")"; ok
"$SCRIPTS/disable_mps.sh" --pipe-dir "$WORK/mps" >/dev/null || fail "disable_mps"; ok
[ ! -e "$WORK/mps/nvidia-cuda-mps-control.pid" ] && cmp -s "$WORK/gpu" "$WORK/gpu.before" || fail "MPS off: $(cat "$WORK/gpu")"; ok

# MIG through the scripts
"$SCRIPTS/setup_mig.sh" 2x3g.40gb --dry-run | grep -q "placement 4:4" || fail "setup_mig dry run"; ok
cmp -s "$WORK/gpu" "$WORK/gpu.before" || fail "the MIG dry run changed the GPU"; ok
"$SCRIPTS/setup_mig.sh" 2x3g.40gb | grep -q "CUDA_VISIBLE_DEVICES=MIG-" || fail "setup_mig"; ok
"$SCRIPTS/disable_mig.sh" --restore >/dev/null || fail "disable_mig --restore"; ok
cmp -s "$WORK/gpu" "$WORK/gpu.before" || fail "after disable_mig --restore: $(cat "$WORK/gpu")"; ok

# a run with --set-timeslice: set while it runs, recorded, put back after
cat >"$WORK/s.yaml" <<YAML
name: ts
device: gpu
modes: [timeslice]
telemetry_interval: off
workloads:
  - name: a
    command: [sh, -c, 'cat "$WORK/timeslice"; exec "\$0" --loop compute --threads 1 --duration 0', $BIN/cotenant-cpu-burn]
YAML
"$COT" run "$WORK/s.yaml" --out "$WORK/r" --duration 0.3s --warmup 0.1s --set-timeslice short -q || fail "run"; ok
[ "$(cat "$WORK"/r/segments/*/a/stdout.log | head -1)" = 1 ] || fail "the workload ran with timeslice $(cat "$WORK"/r/segments/*/a/stdout.log)"; ok
[ "$(cat "$WORK/timeslice")" = 0 ] || fail "the timeslice was not put back"; ok
json "$WORK/r/run.json" 'd["gpu_settings"]["set"]' | grep -q "timeslice short" || fail "run.json gpu_settings"; ok
grep -q "| GPU settings for this run | compute mode Default, timeslice short (before: compute mode Default, timeslice default" \
  "$WORK/r/report.md" || fail "report: $(grep -n settings "$WORK/r/report.md")"; ok

# a sweep over the driver's timeslice and the compute mode: each set around
# its configuration's segments only, and only with --allow-gpu-settings
cat >"$WORK/sw.yaml" <<YAML
name: sw
device: gpu
modes: [exclusive]
telemetry_interval: off
workloads:
  - name: a
    command: [sh, -c, 'echo "ts \$(cat "$WORK/timeslice") \$(grep compute_mode "$WORK/gpu")"; exec "\$0" --loop compute --threads 1 --duration 0', $BIN/cotenant-cpu-burn]
  - name: b
    command: [$BIN/cotenant-cpu-burn, --loop, compute, --threads, "1", --duration, "0"]
sweep:
  timeslice: {driver_timeslice: [short, long]}
  mps: {compute_mode: [exclusive-process]}
YAML
rc=0; "$COT" run "$WORK/sw.yaml" --out "$WORK/sw0" -q 2>"$WORK/err" || rc=$?
[ $rc = 2 ] && grep -q "configuration timeslice.slice-short sets the driver's timeslice.*--allow-gpu-settings" "$WORK/err" ||
  fail "a sweep of GPU settings without --allow-gpu-settings: rc $rc, $(cat "$WORK/err")"; ok
"$COT" run "$WORK/sw.yaml" --plan >"$WORK/plan" || fail "plan: $(cat "$WORK/plan")"; ok
grep -q "nvidia-smi compute-policy -i 0 --set-timeslice=3 (long)" "$WORK/plan" &&
  grep -q "sets the whole GPU's compute mode exclusive-process" "$WORK/plan" || fail "plan: $(cat "$WORK/plan")"; ok
[ "$(cat "$WORK/timeslice")" = 0 ] && cmp -s "$WORK/gpu" "$WORK/gpu.before" || fail "--plan changed the GPU"; ok
"$COT" run "$WORK/sw.yaml" --out "$WORK/sw" --duration 0.3s --warmup 0.1s --repeats 1 --allow-gpu-settings -q \
  2>"$WORK/err" || fail "sweep run: $(cat "$WORK/err")"; ok
seen() { grep -h "^ts " "$WORK"/sw/segments/*-r1-"$1"*/a/stdout.log | sort -u; } # each configuration's own segments
[ "$(seen timeslice.slice-short-)" = "ts 1 compute_mode 0" ] || fail "slice-short ran with $(seen timeslice.slice-short-)"; ok
[ "$(seen timeslice.slice-long-)" = "ts 3 compute_mode 0" ] || fail "slice-long ran with $(seen timeslice.slice-long-)"; ok
[ "$(seen mps.cm-exclusive-)" = "ts 0 compute_mode 3" ] || fail "cm-exclusive ran with $(seen mps.cm-exclusive-)"; ok
[ "$(seen exclusive-)" = "ts 0 compute_mode 0" ] || fail "the baselines ran with $(seen exclusive-)"; ok
[ "$(cat "$WORK/timeslice")" = 0 ] && cmp -s "$WORK/gpu" "$WORK/gpu.before" && [ ! -e "$WORK/sw/gpu-settings-config.json" ] ||
  fail "not put back: timeslice $(cat "$WORK/timeslice"), $(cat "$WORK/gpu")"; ok
json "$WORK/sw/run.json" 'd["modes"]["timeslice.slice-long"]["gpu_settings"]' | grep -q "'set': 'timeslice long'" ||
  fail "run.json: $(json "$WORK/sw/run.json" 'd["modes"]')"; ok
json "$WORK/sw/run.json" '[c["gpu"] for c in d["scenario"]["configurations"]]' |
  grep -q "{'compute_mode': 'exclusive-process'}" || fail "run.json configurations"; ok
# nvidia-smi refuses: the run stops before that configuration's segments, the GPU as it was
rc=0; FAKE_SMI_FAIL=1 "$COT" run "$WORK/sw.yaml" --out "$WORK/sw2" --duration 0.3s --warmup 0.1s --repeats 1 \
  --modes timeslice.slice-long --allow-gpu-settings -q 2>"$WORK/err" || rc=$?
[ $rc = 1 ] && grep -q "timeslice.slice-long: cannot set the GPU's settings.*Insufficient Permissions" "$WORK/err" ||
  fail "refused timeslice: rc $rc, $(cat "$WORK/err")"; ok
[ "$(cat "$WORK/timeslice")" = 0 ] && [ ! -e "$WORK/sw2/gpu-settings-config.json" ] || fail "after the refusal"; ok
finish
