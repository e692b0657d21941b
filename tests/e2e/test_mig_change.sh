#!/usr/bin/env bash
# cotenant mig apply / disable / restore against the NVML double's stateful
# GPU: the operations and their order, the saved state, a failure injected
# at every step of an apply (the GPU ends as it was), a GPU in use, a mode
# that needs a reset, --dry-run changing nothing, and restore with nothing
# saved.
source "$(dirname "$0")/lib.sh"
export COTENANT_NVML_LIBRARY=$COTENANT_NVML_DOUBLE COTENANT_NVML_DOUBLE_MIG_PROFILES=1
export COTENANT_NVML_DOUBLE_NAME="NVIDIA H100 80GB HBM3" COTENANT_STATE_DIR=$WORK/state
export COTENANT_NVML_DOUBLE_MIG_STATE=$WORK/gpu COTENANT_NVML_DOUBLE_LOG=$WORK/log
SAVED=$WORK/state/mig-GPU-00000000-0000-0000-0000-000000000000.json
# a GPU someone left with MIG on: 4g.40gb at 0:4 and 1g.10gb at 4:1, one compute instance each
printf 'mode 1 1\ncompute_mode 0\ngi 1 5 0 4\nci 1 0 3 0 4\ngi 2 19 4 1\nci 2 0 0 0 1\n' >"$WORK/before"
reset_gpu() { cp "$1" "$WORK/gpu"; rm -f "$WORK/log" "$SAVED"; }
same_gpu() { cmp -s "$WORK/gpu" "$1" || fail "$2: the GPU is not as it was: $(cat "$WORK/gpu") vs $(cat "$1")"; }

# the dry run: every operation, in order, and nothing changed or saved
reset_gpu "$WORK/before"
"$COT" mig apply 3g.40gb,2g.20gb,1g.10gb --dry-run >"$WORK/dry.txt" || fail "dry run"; ok
[ ! -e "$WORK/log" ] && [ ! -e "$SAVED" ] || fail "the dry run changed something: $(cat "$WORK/log" 2>/dev/null)"; ok
same_gpu "$WORK/before" "dry run"
grep -E "^ +[0-9]+\. " "$WORK/dry.txt" | sed -E 's/^ +[0-9]+\. //; s/\(.*//' | tr '\n' ' ' >"$WORK/calls"
want="nvmlComputeInstanceDestroy nvmlGpuInstanceDestroy nvmlComputeInstanceDestroy nvmlGpuInstanceDestroy "
want+="nvmlDeviceCreateGpuInstanceWithPlacement nvmlGpuInstanceCreateComputeInstance "
want+="nvmlDeviceCreateGpuInstanceWithPlacement nvmlGpuInstanceCreateComputeInstance "
want+="nvmlDeviceCreateGpuInstanceWithPlacement nvmlGpuInstanceCreateComputeInstance "
[ "$(cat "$WORK/calls")" = "$want" ] || fail "dry-run order: $(cat "$WORK/dry.txt")"; ok
grep -q "placement 0:4)" "$WORK/dry.txt" && grep -q "profile id 14 = 2g.20gb, placement 4:2" "$WORK/dry.txt" \
  || fail "dry-run placements: $(cat "$WORK/dry.txt")"; ok

# apply: the state before saved first, the instances made, their MIG UUIDs printed; the log matches the dry run
"$COT" mig apply 3g.40gb,2g.20gb,1g.10gb >"$WORK/apply.txt" || fail "apply: $(cat "$WORK/apply.txt")"; ok
[ "$(wc -l <"$WORK/log")" = 10 ] || fail "ten changes: $(cat "$WORK/log")"; ok
json "$SAVED" '[(g["profile"], g["start"]) for g in d["state"]["gpu_instances"]]' | grep -q "\[('4g.40gb', 0), ('1g.10gb', 4)\]" \
  || fail "saved state: $(cat "$SAVED")"; ok
grep -q "2g.20gb      CUDA_VISIBLE_DEVICES=MIG-00000000-0000-0000-0002-" "$WORK/apply.txt" || fail "UUIDs: $(cat "$WORK/apply.txt")"; ok
"$COT" mig status --json >"$WORK/status.json"
json "$WORK/status.json" '[(g["profile"], g["start"], g["size"]) for g in d["gpu_instances"]]' \
  | grep -q "\[('3g.40gb', 0, 4), ('2g.20gb', 4, 2), ('1g.10gb', 6, 1)\]" || fail "status: $(cat "$WORK/status.json")"; ok
json "$WORK/status.json" 'len(d["mig_devices"]), d["saved_state"] is not None' | grep -q "(3, True)" || fail "devices"; ok
# a second apply keeps the first saved state, so restore goes back to the GPU as cotenant found it
"$COT" mig apply 2x3g.40gb >/dev/null || fail "second apply"; ok
json "$SAVED" 'd["saved_by"]' | grep -q "apply 3g.40gb,2g.20gb,1g.10gb" || fail "the first saved state was replaced"; ok
"$COT" mig restore >"$WORK/restore.txt" || fail "restore: $(cat "$WORK/restore.txt")"; ok
same_gpu "$WORK/before" "restore"
[ ! -e "$SAVED" ] || fail "restore leaves no state file behind"; ok

# a failure at each step of an apply puts back the GPU as it was, from MIG on and from MIG off
printf 'mode 0 0\ncompute_mode 0\n' >"$WORK/off"
for start in before off; do
  reset_gpu "$WORK/$start"
  "$COT" mig apply 3g.40gb,2g.20gb,1g.10gb --dry-run >"$WORK/dry.txt"
  steps=$(grep -cE "^ +[0-9]+\. " "$WORK/dry.txt")
  for n in $(seq 1 "$steps"); do
    reset_gpu "$WORK/$start"
    set +e
    COTENANT_NVML_DOUBLE_FAIL_AT=$n "$COT" mig apply 3g.40gb,2g.20gb,1g.10gb >"$WORK/out" 2>"$WORK/err"; rc=$?
    set -e
    [ $rc = 1 ] || fail "$start, failure at step $n: exit $rc"; ok
    grep -q "step $n of $steps, .*Unknown Error.*; the GPU's MIG state before was restored" "$WORK/err" \
      || fail "$start, step $n: message: $(cat "$WORK/err")"; ok
    same_gpu "$WORK/$start" "$start, failure at step $n"
    [ ! -e "$SAVED" ] || fail "$start, step $n: the state file stays after a restore that worked"; ok
  done
done

# refused while a process uses the GPU; nothing changed
reset_gpu "$WORK/off"
echo "procs=4242:900:50:10" >"$WORK/script"
set +e
COTENANT_NVML_DOUBLE_SCRIPT=$WORK/script "$COT" mig apply 7g.80gb 2>"$WORK/err"; rc=$?
set -e
[ $rc = 1 ] && grep -q "MIG cannot be changed while 1 process uses the GPU (pid 4242" "$WORK/err" || fail "busy: $rc $(cat "$WORK/err")"; ok
[ ! -e "$WORK/log" ] && [ ! -e "$SAVED" ] || fail "a refused apply changed something"; ok

# a GPU that enables MIG only after a reset: apply says so and leaves the mode as it was
reset_gpu "$WORK/off"
set +e
COTENANT_NVML_DOUBLE_MIG_RESET=1 "$COT" mig apply 7g.80gb 2>"$WORK/err"; rc=$?
set -e
[ $rc = 1 ] && grep -q "only pending.*nvidia-smi -r.*restored" "$WORK/err" || fail "reset needed: $rc $(cat "$WORK/err")"; ok
same_gpu "$WORK/off" "after a pending mode"

# disable: every instance destroyed, then MIG off, state saved; restore brings it all back
reset_gpu "$WORK/before"
"$COT" mig disable >/dev/null || fail "disable"; ok
grep -q "^mode 0 0" "$WORK/gpu" && ! grep -q "^gi" "$WORK/gpu" || fail "disabled: $(cat "$WORK/gpu")"; ok
[ "$(tail -1 "$WORK/log")" = "set_mig_mode 0" ] || fail "the mode goes last: $(cat "$WORK/log")"; ok
"$COT" mig restore >/dev/null || fail "restore after disable"; ok
same_gpu "$WORK/before" "restore after disable"

# nothing saved: exit 2; a layout that does not fit: exit 1, nothing touched
set +e
"$COT" mig restore 2>"$WORK/err"; rc=$?
[ $rc = 2 ] && grep -q "nothing to restore" "$WORK/err" || fail "nothing saved: $rc $(cat "$WORK/err")"; ok
rm -f "$WORK/log"
"$COT" mig apply 7g.80gb,1g.10gb 2>"$WORK/err"; rc=$?
[ $rc = 1 ] && grep -q "does not fit, so nothing was changed" "$WORK/err" && [ ! -e "$WORK/log" ] || fail "no fit: $rc"; ok
"$COT" mig apply 3g.40gb --gpu-model H100-80GB 2>"$WORK/err"; rc=$?
[ $rc = 2 ] || fail "--gpu-model with apply is usage: $rc"; ok
set -e
finish
