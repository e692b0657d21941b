#!/usr/bin/env bash
# cotenant mig: profiles, a layout that fits (0), one that does not (1, with
# the reason), bad input (2), and the GPU's model matched from NVML's name.
source "$(dirname "$0")/lib.sh"
"$COT" mig profiles --gpu-model A100-40GB >"$WORK/p.txt" || fail "profiles"; ok
grep -q "3g.20gb .* {0,4}:4" "$WORK/p.txt" || fail "A100 3g.20gb placements: $(cat "$WORK/p.txt")"; ok
"$COT" mig plan 3g.40gb,2g.20gb,1g.10gb --gpu-model H100-80GB >"$WORK/fit.txt" || fail "a layout that fits exits 0"; ok
grep -q "memory slices 0-7, by instance: \[0 0 0 0 1 1 2 -\]" "$WORK/fit.txt" || fail "the slice map: $(cat "$WORK/fit.txt")"; ok
"$COT" mig plan 2x2g.20gb,3g.40gb --gpu-model H100-80GB --json >"$WORK/fit.json" || fail "json plan"; ok
json "$WORK/fit.json" '[i["start"] for i in d["instances"]]' | grep -q "\[0, 2, 4\]" || fail "json starts: $(cat "$WORK/fit.json")"; ok
set +e
"$COT" mig plan 7g.80gb,1g.10gb --gpu-model H100-80GB >"$WORK/no.txt"; rc=$?
[ $rc = 1 ] || fail "a layout that does not fit exits 1, not $rc"; ok
grep -q "does not fit: the layout needs 8 compute slices; H100-80GB has 7" "$WORK/no.txt" || fail "reason: $(cat "$WORK/no.txt")"; ok
"$COT" mig plan 1g.5gb --gpu-model H100-80GB 2>"$WORK/err"; rc=$?
[ $rc = 2 ] && grep -q "has no profile '1g.5gb'; its profiles: 1g.10gb" "$WORK/err" || fail "unknown profile: $rc $(cat "$WORK/err")"; ok
"$COT" mig plan 3g.40gb --gpu-model V100 2>"$WORK/err"; rc=$?
[ $rc = 2 ] && grep -q "unknown; expected one of A100-40GB" "$WORK/err" || fail "unknown model: $rc"; ok
COTENANT_NVML_LIBRARY=$WORK/none.so "$COT" mig plan 3g.40gb 2>"$WORK/err"; rc=$?
[ $rc = 2 ] && grep -q "plan for a model with --gpu-model" "$WORK/err" || fail "no GPU: $rc $(cat "$WORK/err")"; ok
COTENANT_NVML_LIBRARY=$COTENANT_NVML_DOUBLE "$COT" mig plan 3g.40gb 2>"$WORK/err"; rc=$?
[ $rc = 2 ] && grep -q "GPU 0 (NVIDIA Test Double 80GB) has no MIG profiles (nvmlDeviceGetGpuInstanceProfileInfoV answered no profile" \
  "$WORK/err" || fail "a GPU without MIG: $rc $(cat "$WORK/err")"; ok
set -e
# NVML gives no profiles, but the name is an H100's: the built-in table, and it says so
COTENANT_NVML_LIBRARY=$COTENANT_NVML_DOUBLE COTENANT_NVML_DOUBLE_NAME="NVIDIA H100 80GB HBM3" "$COT" mig plan 2x3g.40gb \
  >"$WORK/gpu.txt" || fail "the GPU here"; ok
grep -q "built-in table for H100-80GB, matched from GPU 0's name (NVIDIA H100 80GB HBM3), as NVML gave none" "$WORK/gpu.txt" \
  || fail "says where the table came from: $(cat "$WORK/gpu.txt")"; ok
# NVML gives the GPU's own profiles: exact sizes, and its placements
export COTENANT_NVML_LIBRARY=$COTENANT_NVML_DOUBLE COTENANT_NVML_DOUBLE_MIG_PROFILES=1
"$COT" mig profiles >"$WORK/own.txt" || fail "profiles through NVML"; ok
grep -q "GPU 0's own profiles, through NVML" "$WORK/own.txt" || fail "source: $(cat "$WORK/own.txt")"; ok
grep -Eq "1g.10gb +1/7 +1/8 +16 +9.75 GiB +7  \{0,1,2,3,4,5,6\}:1" "$WORK/own.txt" || fail "1g.10gb row: $(cat "$WORK/own.txt")"; ok
grep -Eq "1g.20gb +1/7 +2/8 +26 +19.62 GiB +4  \{0,2,4,6\}:2" "$WORK/own.txt" || fail "1g.20gb row"; ok
[ "$(grep -c "gb" "$WORK/own.txt")" = 7 ] || fail "seven profiles: $(cat "$WORK/own.txt")"; ok
"$COT" mig plan 3g.40gb,2g.20gb,1g.10gb >"$WORK/own_plan.txt" || fail "plan through NVML"; ok
grep -q "memory slices 0-7, by instance: \[0 0 0 0 1 1 2 -\]" "$WORK/own_plan.txt" || fail "plan: $(cat "$WORK/own_plan.txt")"; ok
unset COTENANT_NVML_LIBRARY COTENANT_NVML_DOUBLE_MIG_PROFILES
# mig-parted: export a planned layout, read it back; a shipped-style file with configs for several GPUs
"$COT" mig export 3g.40gb,2x1g.10gb --name lab --devices 0,1 --gpu-model H100-80GB >"$WORK/mp.yaml" || fail "export"; ok
grep -A2 '^  - devices:$' "$WORK/mp.yaml" | tr '\n' ' ' | grep -q -- '- devices:     - 0     - 1 ' && grep -q '"1g.10gb": 2' "$WORK/mp.yaml" \
  || fail "export: $(cat "$WORK/mp.yaml")"; ok
"$COT" mig import "$WORK/mp.yaml" --config lab --gpu-model H100-80GB >"$WORK/imp.txt" || fail "import what was exported"; ok
grep -A1 "^  lab (line 4):" "$WORK/imp.txt" | grep -q "line 5, devices 0,1: 1x3g.40gb,2x1g.10gb fits" \
  || fail "import: $(cat "$WORK/imp.txt")"; ok
DATA=$COTENANT_SOURCE_DIR/tests/data/mig-parted-config.yaml
set +e
"$COT" mig import "$DATA" --gpu-model H100-80GB >"$WORK/all.txt"; rc=$?
[ $rc = 1 ] || fail "a file with a config that does not fit exits 1, not $rc"; ok
grep -A1 "^  too-much (line 40):" "$WORK/all.txt" | grep -q "line 41, devices all: 2x3g.40gb,1x1g.10gb does not fit: the layout needs 9 memory slices" \
  || fail "too-much: $(cat "$WORK/all.txt")"; ok
grep -A1 "^  all-1g.5gb (line 15):" "$WORK/all.txt" | grep -q "line 16, devices all: 7x1g.5gb: not for this GPU" || fail "foreign config: $(cat "$WORK/all.txt")"; ok
"$COT" mig import "$DATA" --config all-balanced --gpu-model H100-80GB >/dev/null; rc=$?
[ $rc = 0 ] || fail "all-balanced fits an H100: $rc"; ok
"$COT" mig import "$DATA" --config all-1g.5gb --gpu-model H100-80GB >/dev/null; rc=$?
[ $rc = 1 ] || fail "an A100 config named on an H100 exits 1: $rc"; ok
"$COT" mig import "$DATA" --config nope --gpu-model H100-80GB 2>"$WORK/err"; rc=$?
[ $rc = 2 ] && grep -q "has no config 'nope'" "$WORK/err" || fail "unknown config: $rc"; ok
# The operator's shape: entries chosen by device-filter, one verdict per GPU.
OP=$COTENANT_SOURCE_DIR/tests/data/operator-mig-parted-config.yaml
for gpu_rc_config in "H100-80GB 0 all-balanced" "A100-40GB 0 all-balanced" "H200-141GB 0 all-balanced" \
                     "A100-40GB 1 all-1g.10gb" "H100-80GB 1 all-1g.18gb" "H100-80GB 0 all-3g.40gb-ci" "H100-94GB 1 all-balanced"; do
  read -r gpu want config <<<"$gpu_rc_config"
  "$COT" mig import "$OP" --config "$config" --gpu-model "$gpu" >"$WORK/op.txt"; rc=$?
  [ $rc = "$want" ] || fail "$config on $gpu exits $rc, not $want: $(cat "$WORK/op.txt")"; ok
done
grep -q "line 34, devices all: 2x3g.40gb fits (GPU instances, each holding its compute instance)" <("$COT" mig import "$OP" --gpu-model H100-80GB) \
  || fail "a compute-instance profile"; ok
"$COT" mig import "$OP" --gpu-model H100-80GB >"$WORK/op.txt"; rc=$?
[ $rc = 0 ] || fail "the operator-shaped file on an H100 exits $rc: $(cat "$WORK/op.txt")"; ok
grep -q "line 49, devices all: for other GPUs (device-filter 0x20B010DE, ...)" "$WORK/op.txt" \
  && grep -q "line 57, devices all: 2x1g.10gb,1x2g.20gb,1x3g.40gb fits" "$WORK/op.txt" \
  && grep -q "^H100-80GB: 5 of 6 configs for this GPU (every one fits); 1 for other GPUs" "$WORK/op.txt" \
  || fail "the verdicts on an H100: $(cat "$WORK/op.txt")"; ok
printf 'version: v1\nmig-configs:\n  a:\n    - devices: all\n      mig-enabled: true\n      mig-devices:\n        "1c.3g.40gb": "2"\n' >"$WORK/bad.yaml"
"$COT" mig import "$WORK/bad.yaml" --gpu-model H100-80GB 2>"$WORK/err"; rc=$?
[ $rc = 2 ] && grep -q "bad.yaml:7:23: the count of '1c.3g.40gb' is the string \"2\"" "$WORK/err" || fail "a quoted count: $rc $(cat "$WORK/err")"; ok
printf 'version: v1\nmig-configs:\n  a:\n    - devices: all\n      mig-enabled: maybe\n' >"$WORK/bad.yaml"
"$COT" mig import "$WORK/bad.yaml" --gpu-model H100-80GB 2>"$WORK/err"; rc=$?
[ $rc = 2 ] && grep -q "bad.yaml:5:20: mig-enabled is 'maybe'; expected true or false" "$WORK/err" || fail "bad file: $rc $(cat "$WORK/err")"; ok
"$COT" mig export 7g.80gb,1g.10gb --gpu-model H100-80GB >/dev/null 2>"$WORK/err"; rc=$?
[ $rc = 1 ] && grep -q "does not fit, so it is not exported" "$WORK/err" || fail "export of a misfit: $rc"; ok
"$COT" mig export 1g.10gb --name 'a: b' --gpu-model H100-80GB >/dev/null 2>&1; rc=$?
[ $rc = 2 ] || fail "a config name that is no node label value exits 2: $rc"; ok
"$COT" mig export 1g.10gb --devices 0,x --gpu-model H100-80GB >/dev/null 2>"$WORK/err"; rc=$?
[ $rc = 2 ] && grep -q "expected all or GPU indices" "$WORK/err" || fail "bad --devices: $rc $(cat "$WORK/err")"; ok
set -e
finish
