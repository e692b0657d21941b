#!/usr/bin/env bash
# The GPU BERT against its plain-C reference, on a machine with a GPU: one
# batch on the same weights and dropout masks (loss, the masked rows'
# logits, every parameter's gradient), with dropout and without; then
# BERT-base on the learnable task, whose loss must fall to a tenth.
#   scripts/gpu_check_bert.sh [BIN_DIR]   (default: build/bin)
set -euo pipefail
bin=${1:-build/bin}
exe="$bin/cotenant-bert"
[[ -x $exe ]] || { echo "gpu_check_bert: $exe not found; build first (scripts/build.sh)" >&2; exit 2; }
# Head size 64 over two query tiles takes the fused attention kernels; head
# size 32 the stored-probabilities path.
small=(--layers 2 --hidden 128 --inter 512 --vocab 2048 --batch 4)
fail=0
for shape in "--heads 2 --seq 128 --attention fused" "--heads 2 --seq 128 --attention stored" "--heads 4 --seq 64"; do
    for drop in 0.1 0; do
        echo "== cotenant-bert --check ${small[*]} $shape --dropout $drop"
        # shellcheck disable=SC2086 # $shape is several words on purpose
        "$exe" --check "${small[@]}" $shape --dropout "$drop" || fail=1
    done
done
echo "== cotenant-bert --data learnable --steps 300 --lr 3e-4 --lr-warmup 30 --warmup-steps 0"
log=$("$exe" --data learnable --steps 300 --lr 3e-4 --lr-warmup 30 --warmup-steps 0) || fail=1
echo "$log" | tail -3
if ! awk '/loss [0-9.]+ -> [0-9.]+/ { for (i = 1; i <= NF; i++) if ($i == "->") { a = $(i - 1); b = $(i + 1) } }
          END { exit !(b + 0 < 0.1 * a) }' <<<"$log"; then
    echo "gpu_check_bert: the loss on the learnable task did not fall to a tenth" >&2
    fail=1
fi
[[ $fail == 0 ]] && echo "gpu_check_bert: all checks passed" || echo "gpu_check_bert: FAILED" >&2
exit $fail
