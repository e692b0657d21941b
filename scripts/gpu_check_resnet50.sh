#!/usr/bin/env bash
# The GPU ResNet-50 against its plain-C reference, on a machine with a GPU:
# one training step on the same weights and batch in every precision (loss,
# logits, every gradient, running statistics, parameters after SGD), then
# the learnable task, whose loss must fall.
#   scripts/gpu_check_resnet50.sh [BIN_DIR [OPTION...]]   (default: build/bin)
# Options are passed to every run, e.g. --batch-norm ours or --stem keep.
set -euo pipefail
bin=${1:-build/bin}
shift || true
extra=("$@")
exe="$bin/cotenant-resnet50"
[[ -x $exe ]] || { echo "gpu_check_resnet50: $exe not found; build first (scripts/build.sh)" >&2; exit 2; }
fail=0
run() {
    echo "== cotenant-resnet50 $* ${extra[*]}"
    if ! "$exe" "$@" "${extra[@]}"; then fail=1; fi
}
run --check --image 64 --batch 8 --precision fp32
run --check --image 64 --batch 8 --precision tf32
run --check --image 64 --batch 8 --precision bf16

# Training is real: on the learnable task the loss must halve.
echo "== cotenant-resnet50 --data learnable --steps 64 --batch 64 ${extra[*]}"
log=$("$exe" --data learnable --steps 64 --batch 64 --warmup-steps 0 "${extra[@]}") || fail=1
echo "$log"
if ! awk '/loss [0-9.]+ -> [0-9.]+/ { for (i = 1; i <= NF; i++) if ($i == "->") { a = $(i - 1); b = $(i + 1) } }
          END { exit !(b + 0 < 0.5 * a) }' <<<"$log"; then
    echo "gpu_check_resnet50: the loss on the learnable task did not halve" >&2
    fail=1
fi
if (( fail )); then echo "gpu_check_resnet50: FAILED"; exit 1; fi
echo "gpu_check_resnet50: all checks passed"
