#!/usr/bin/env bash
# ResNet-50 inference on one GPU, in one run:
#   1. cotenant-infer --check: the GPU's logits against the plain-C reference
#   2. offline throughput over a batch sweep, and PyTorch's at the largest
#      batches (torch_reference.py --task infer), with the ratio
#   3. cotenant-serve at saturation (closed loop, many clients; FP32 tensors,
#      then UINT8 pixels) against the offline figure at its max batch, and
#      its latency at low load
#      (open loop) against one offline batch of 1
#   bench/infer_resnet50.sh BIN_DIR TORCH_REFERENCE OUT_DIR [SECONDS]
set -euo pipefail
bin=$1 ref=$2 out=$3 secs=${4:-8}
mkdir -p "$out"
"$bin/cotenant-infer" --check > "$out/check.txt" 2>&1 || { cat "$out/check.txt"; echo "check failed" >&2; }
"$bin/cotenant-infer" --batches 1,8,32,48,64,128,256 --duration "$secs" > "$out/offline.txt" 2>&1
for b in 128 256; do
  python3 "$ref" resnet50 --task infer --batch $b --seconds "$secs" > "$out/torch$b.txt" 2>&1 || true
done
"$bin/cotenant-infer" --batch 256 --duration "$secs" > "$out/offline256_again.txt" 2>&1

maxb=${SERVE_MAX_BATCH:-64}
# saturation with FP32 tensors (602 KB a request), then UINT8 pixels (150 KB)
for dt in FP32 UINT8; do
  "$bin/cotenant-serve" --model resnet50 --max-batch "$maxb" --threads 8 --max-queue-delay 1ms --listen 127.0.0.1:8011 \
    --input-dtype $dt > "$out/serve_$dt.txt" 2>&1 &
  spid=$!
  "$bin/cotenant-loadgen" --url 127.0.0.1:8011 --model resnet50 --wait-ready 120s --mode closed --concurrency 256 \
    --threads 4 --duration "$secs" --warmup 3s > "$out/saturation_$dt.txt" 2>&1 || true
  kill -TERM $spid; wait $spid || true
done
# low load: no queue delay, so a lone request goes at once
"$bin/cotenant-serve" --model resnet50 --max-batch "$maxb" --threads 8 --max-queue-delay 0 --listen 127.0.0.1:8012 \
  > "$out/serve_low.txt" 2>&1 &
spid=$!
"$bin/cotenant-loadgen" --url 127.0.0.1:8012 --model resnet50 --wait-ready 120s --rate 50 --arrival poisson --duration "$secs" \
  --warmup 2s > "$out/lowload.txt" 2>&1 || true
kill -TERM $spid; wait $spid || true

echo "== check"; head -2 "$out/check.txt"
echo "== offline (cotenant-infer)"; grep "batch" "$out/offline.txt" | grep -v '^{' ; grep "batch" "$out/offline256_again.txt" | grep -v '^{'
for b in 128 256; do
  t=$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).read().strip().splitlines()[-1])["per_s"])' "$out/torch$b.txt" 2>/dev/null || echo "?")
  echo "pytorch batch $b: $t images/s"
done
echo "== server (max batch $maxb)"
for dt in FP32 UINT8; do
  grep -E "achieved|latency" "$out/saturation_$dt.txt" | grep -v '^{' | sed "s/^/saturation $dt: /"
  tail -1 "$out/serve_$dt.txt" | grep -o "mean batch [0-9.]*" | sed "s/^/saturation $dt: /"
done
grep -E "achieved|latency" "$out/lowload.txt" | grep -v '^{' | sed 's/^/low load: /'
