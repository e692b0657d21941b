#!/usr/bin/env bash
# BERT-base masked-LM inference on one GPU, in one run: the engine against
# the training forward pass (--check), offline throughput at a few batch
# sizes, and PyTorch's (torch_reference.py bert --task infer) at the same
# batch and sequence, with the ratio.
#   bench/infer_bert.sh BIN_DIR TORCH_REFERENCE OUT_DIR [SECONDS] [SEQ]
set -euo pipefail
bin=$1 ref=$2 out=$3 secs=${4:-8} seq=${5:-128}
mkdir -p "$out"
"$bin/cotenant-infer" --model bert --seq "$seq" --check > "$out/bert_check.txt" 2>&1 || echo "bert check failed" >&2
"$bin/cotenant-infer" --model bert --seq "$seq" --batches 32,64,128 --duration "$secs" > "$out/bert_offline.txt" 2>&1
for b in 64 128; do
  python3 "$ref" bert --task infer --batch $b --seq "$seq" --seconds "$secs" > "$out/bert_torch$b.txt" 2>&1 || true
done
echo "== bert check"; cat "$out/bert_check.txt"
echo "== bert offline (cotenant-infer)"; grep -v '^{' "$out/bert_offline.txt"
for b in 64 128; do
  python3 -c 'import json,sys; d=json.loads(open(sys.argv[1]).read().strip().splitlines()[-1]); print("pytorch batch %s: %s sequences/s, %s GiB" % (sys.argv[2], d["per_s"], d["peak_mem_gib"]))' \
    "$out/bert_torch$b.txt" $b 2>/dev/null || { echo "pytorch batch $b failed:"; tail -3 "$out/bert_torch$b.txt"; }
done
