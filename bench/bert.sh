#!/usr/bin/env bash
# BERT-base MLM training: cotenant-bert against PyTorch (torch_reference.py,
# Hugging Face BertForMaskedLM) on the same GPU in one run: sequences/s,
# ratio, peak memory, model TFLOP/s and FLOP utilisation (PEAK_TFLOPS, default
# 989: the H100 SXM's dense bf16 peak).
#   bench/bert.sh BIN_DIR TORCH_REFERENCE OUT_DIR [BATCH] [SEQ] [SECONDS] [OPTION...]
# Options go to cotenant-bert only.
set -euo pipefail
bin=$1 ref=$2 out=$3 batch=${4:-64} seq=${5:-128} secs=${6:-15}
shift $(( $# < 6 ? $# : 6 ))
extra=("$@")
mkdir -p "$out"
"$bin/cotenant-bert" --batch "$batch" --seq "$seq" --duration "$secs" "${extra[@]}" > "$out/cotenant.txt" 2>&1
python3 "$ref" bert --task train --batch "$batch" --seq "$seq" --dtype bf16 --seconds "$secs" > "$out/torch.txt" 2>&1
ours=$(sed -n 's/.* \([0-9.]*\) sequences\/s.*/\1/p' "$out/cotenant.txt" | tail -1)
ours_mem=$(sed -n 's/.*peak memory \([0-9.]*\) GiB.*/\1/p' "$out/cotenant.txt" | tail -1)
tflops=$(sed -n 's/.*: \([0-9.]*\) model TFLOP\/s.*/\1/p' "$out/cotenant.txt" | tail -1)
torch=$(python3 -c 'import json,sys; d=json.loads(open(sys.argv[1]).read().strip().splitlines()[-1]); print(d["per_s"], d["peak_mem_gib"])' "$out/torch.txt")
read -r torch_sps torch_mem <<<"$torch"
# model FLOP utilisation against the GPU's dense bf16 peak (H100 SXM: 989 TFLOP/s)
peak=${PEAK_TFLOPS:-989}
mfu=$(python3 -c "import sys; print('%.1f%%' % (100 * float(sys.argv[1]) / float(sys.argv[2])))" "$tflops" "$peak")
printf '\n%-10s %12s %12s %12s %8s %s\n' "" "sequences/s" "peak GiB" "TFLOP/s" "MFU" "batch $batch, sequence $seq, bf16"
printf '%-10s %12s %12s %12s %8s\n' cotenant "$ours" "$ours_mem" "$tflops" "$mfu"
printf '%-10s %12s %12s\n' pytorch "$torch_sps" "$torch_mem"
python3 -c "import sys; print('ratio cotenant/pytorch: %.3f' % (float(sys.argv[1]) / float(sys.argv[2])))" "$ours" "$torch_sps"
