#!/usr/bin/env bash
# ResNet-50 training: cotenant-resnet50 against PyTorch (torch_reference.py)
# on the same GPU in one run: images/s, ratio, peak memory, model FLOP
# utilisation, and where cotenant's step time goes.
#   bench/resnet50.sh BIN_DIR TORCH_REFERENCE OUT_DIR [BATCH] [PRECISION] [SECONDS] [OPTION...]
# Options go to cotenant-resnet50 only (e.g. --batch-norm ours).
set -euo pipefail
bin=$1 ref=$2 out=$3 batch=${4:-128} prec=${5:-bf16} secs=${6:-20}
shift $(( $# < 6 ? $# : 6 ))
extra=("$@")
mkdir -p "$out"
"$bin/cotenant-resnet50" --batch "$batch" --precision "$prec" --duration 3 --profile "${extra[@]}" > "$out/profile.txt" 2>&1 || true
"$bin/cotenant-resnet50" --batch "$batch" --precision "$prec" --duration "$secs" "${extra[@]}" > "$out/cotenant.txt" 2>&1
python3 "$ref" resnet50 --task train --batch "$batch" --dtype "$prec" --seconds "$secs" > "$out/torch.txt" 2>&1
ours=$(sed -n 's/.* \([0-9.]*\) images\/s.*/\1/p' "$out/cotenant.txt" | tail -1)
ours_mem=$(sed -n 's/.*peak memory \([0-9.]*\) GiB.*/\1/p' "$out/cotenant.txt" | tail -1)
mfu=$(sed -n 's/.*(\([0-9.]*\)% of the.*/\1/p' "$out/cotenant.txt" | tail -1)
torch=$(python3 -c 'import json,sys; d=json.loads(open(sys.argv[1]).read().strip().splitlines()[-1]); print(d["per_s"], d["peak_mem_gib"])' "$out/torch.txt")
read -r torch_ips torch_mem <<<"$torch"
grep -A12 "time per step" "$out/profile.txt" || true
grep "device memory" "$out/cotenant.txt" || true
printf '\n%-10s %12s %12s %8s %s\n' "" "images/s" "peak GiB" "MFU %" "batch $batch $prec"
printf '%-10s %12s %12s %8s\n' cotenant "$ours" "$ours_mem" "${mfu:-?}"
printf '%-10s %12s %12s\n' pytorch "$torch_ips" "$torch_mem"
python3 -c "import sys; print('ratio cotenant/pytorch: %.3f' % (float(sys.argv[1]) / float(sys.argv[2])))" "$ours" "$torch_ips"
