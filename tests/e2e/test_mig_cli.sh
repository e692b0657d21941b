#!/usr/bin/env bash
# cotenant mig: profiles, a layout that fits (0), one that does not (1, with
# the reason), bad input (2), and the GPU's model matched from NVML's name.
source "$(dirname "$0")/lib.sh"
"$COT" mig profiles --gpu-model A100-40GB >"$WORK/p.txt" || fail "profiles"
grep -q "3g.20gb .* {0,4}:4" "$WORK/p.txt" || fail "A100 3g.20gb placements: $(cat "$WORK/p.txt")"
"$COT" mig plan 3g.40gb,2g.20gb,1g.10gb --gpu-model H100-80GB >"$WORK/fit.txt" || fail "a layout that fits exits 0"
grep -q "memory slices 0-7, by instance: \[0 0 0 0 1 1 2 -\]" "$WORK/fit.txt" || fail "the slice map: $(cat "$WORK/fit.txt")"
"$COT" mig plan 2x2g.20gb,3g.40gb --gpu-model H100-80GB --json >"$WORK/fit.json" || fail "json plan"
json "$WORK/fit.json" '[i["start"] for i in d["instances"]]' | grep -q "\[0, 2, 4\]" || fail "json starts: $(cat "$WORK/fit.json")"
set +e
"$COT" mig plan 7g.80gb,1g.10gb --gpu-model H100-80GB >"$WORK/no.txt"; rc=$?
[ $rc = 1 ] || fail "a layout that does not fit exits 1, not $rc"
grep -q "does not fit: the layout needs 8 compute slices; H100-80GB has 7" "$WORK/no.txt" || fail "reason: $(cat "$WORK/no.txt")"
"$COT" mig plan 1g.5gb --gpu-model H100-80GB 2>"$WORK/err"; rc=$?
[ $rc = 2 ] && grep -q "has no profile '1g.5gb'; its profiles: 1g.10gb" "$WORK/err" || fail "unknown profile: $rc $(cat "$WORK/err")"
"$COT" mig plan 3g.40gb --gpu-model V100 2>"$WORK/err"; rc=$?
[ $rc = 2 ] && grep -q "unknown; expected one of A100-40GB" "$WORK/err" || fail "unknown model: $rc"
COTENANT_NVML_LIBRARY=$WORK/none.so "$COT" mig plan 3g.40gb 2>"$WORK/err"; rc=$?
[ $rc = 2 ] && grep -q "plan for a model with --gpu-model" "$WORK/err" || fail "no GPU: $rc $(cat "$WORK/err")"
COTENANT_NVML_LIBRARY=$COTENANT_NVML_DOUBLE "$COT" mig plan 3g.40gb 2>"$WORK/err"; rc=$?
[ $rc = 2 ] && grep -q "has no MIG profiles that cotenant knows" "$WORK/err" || fail "a GPU without MIG: $rc $(cat "$WORK/err")"
set -e
COTENANT_NVML_LIBRARY=$COTENANT_NVML_DOUBLE COTENANT_NVML_DOUBLE_NAME="NVIDIA H100 80GB HBM3" "$COT" mig plan 2x3g.40gb \
  >"$WORK/gpu.txt" || fail "the GPU here"
grep -q "matched from GPU 0's name (NVIDIA H100 80GB HBM3)" "$WORK/gpu.txt" || fail "says where the table came from: $(cat "$WORK/gpu.txt")"
echo "PASS"
