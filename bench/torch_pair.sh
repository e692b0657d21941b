#!/usr/bin/env bash
# Checks cotenant's normalized progress against the same two PyTorch
# trainings started by hand, on a GPU machine.
#
#   bench/torch_pair.sh hand     OUT_DIR   # by hand: alone, then each against the other
#   bench/torch_pair.sh cotenant OUT_DIR   # the same pair through `cotenant run`
#
# Environment: COTENANT (the cotenant binary, default build/bin/cotenant),
# TORCH_REFERENCE (path to torch_reference.py), SECONDS_MEASURED (default 20),
# MODES (default "timeslice mps").
#
# By hand, a workload's shared throughput is measured while the other one
# is already running and warmed up (started SETTLE seconds before, with
# --seconds 0, and stopped after), so the whole measured window is shared:
# the per_s each run prints is the figure. Normalized progress is shared
# per_s over alone per_s, as cotenant defines it (docs/metrics.md).
set -euo pipefail
phase=${1:?usage: torch_pair.sh hand|cotenant OUT_DIR}
out=${2:?usage: torch_pair.sh hand|cotenant OUT_DIR}
mkdir -p "$out"
ref=${TORCH_REFERENCE:-../shared/reference/torch_reference.py}
ref=$(readlink -f "$ref")
cot=$(readlink -f "${COTENANT:-build/bin/cotenant}")
secs=${SECONDS_MEASURED:-20}
settle=${SETTLE:-25}
modes=${MODES:-timeslice mps}
export PYTHONUNBUFFERED=1

# Keep these two in step with the scenario written by the cotenant phase.
A=(resnet50 --task train --batch 128)
B=(bert --task train --batch 64 --seq 128)

mps_start() {
  export CUDA_MPS_PIPE_DIRECTORY=/tmp/hand-mps/pipe CUDA_MPS_LOG_DIRECTORY=/tmp/hand-mps/log
  mkdir -p $CUDA_MPS_PIPE_DIRECTORY $CUDA_MPS_LOG_DIRECTORY
  nvidia-cuda-mps-control -d
  trap 'echo quit | nvidia-cuda-mps-control >/dev/null 2>&1 || true' EXIT
}
mps_stop() {
  echo quit | nvidia-cuda-mps-control || true
  sleep 2
  unset CUDA_MPS_PIPE_DIRECTORY CUDA_MPS_LOG_DIRECTORY
}

per_s() { python3 -c 'import json,sys; print(json.loads(sys.stdin.read().strip().splitlines()[-1])["per_s"])'; }

# alone NAME ARGS...: one run, its per_s
alone() {
  local name=$1; shift
  python3 "$ref" "$@" --seconds "$secs" --tag "$name" > "$out/hand-$mode-alone-$name.json" 2>"$out/hand-$mode-alone-$name.err"
  per_s < "$out/hand-$mode-alone-$name.json"
}

# against NAME OTHERNAME: NAME measured while OTHER runs throughout
against() {
  local name=$1 other=$2; local -n a=$3 o=$4
  python3 "$ref" "${o[@]}" --seconds 0 --tag "$other-bg" > "$out/hand-$mode-bg-$other.json" 2>&1 &
  local bg=$!
  sleep "$settle"
  python3 "$ref" "${a[@]}" --seconds "$secs" --tag "$name" > "$out/hand-$mode-shared-$name.json" 2>"$out/hand-$mode-shared-$name.err"
  kill -TERM $bg; wait $bg || true
  per_s < "$out/hand-$mode-shared-$name.json"
}

if [ "$phase" = hand ]; then
  echo "mode,workload,alone_per_s,shared_per_s,np" > "$out/hand.csv"
  for mode in $modes; do
    [ "$mode" = mps ] && mps_start
    ra=$(alone resnet50 "${A[@]}"); rb=$(alone bert "${B[@]}")
    sa=$(against resnet50 bert A B); sb=$(against bert resnet50 B A)
    [ "$mode" = mps ] && mps_stop
    python3 - "$mode" "$ra" "$sa" "$rb" "$sb" >> "$out/hand.csv" <<'PY'
import sys
m, ra, sa, rb, sb = sys.argv[1], *map(float, sys.argv[2:])
print(f"{m},resnet50,{ra},{sa},{sa/ra:.4f}")
print(f"{m},bert,{rb},{sb},{sb/rb:.4f}")
PY
  done
  cat "$out/hand.csv"
elif [ "$phase" = cotenant ]; then
  cat > "$out/pair.yaml" <<YAML
name: torch-pair
gpu: 0
modes: [$(echo $modes | sed 's/ /, /g')]
duration: ${secs}s
warmup: 5s
repeats: 1
startup_timeout: 3m
workloads:
  - name: resnet50
    command: [python3, "$ref", resnet50, --task, train, --batch, "128", --seconds, "0"]
  - name: bert
    command: [python3, "$ref", bert, --task, train, --batch, "64", --seq, "128", --seconds, "0"]
YAML
  "$cot" run "$out/pair.yaml" --out "$out/results" --quiet || echo "cotenant run exited with $?"
  python3 - "$out/results/metrics.json" <<'PY' | tee "$out/cotenant.csv"
import json, sys
m = json.load(open(sys.argv[1]))
print("mode,workload,alone_per_s,shared_per_s,np")
for mo in m["modes"]:
    for w in mo["workloads"]:
        g = lambda k: (w.get(k) or {}).get("mean")
        print(f'{mo["mode"]},{w["name"]},{g("alone_throughput")},{g("shared_throughput")},{g("normalized_progress")}')
PY
else
  echo "unknown phase $phase" >&2; exit 2
fi
