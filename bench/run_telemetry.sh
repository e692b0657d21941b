#!/usr/bin/env bash
# GPU telemetry inside `cotenant run`, checked against nvidia-smi sampling
# the same GPU at the same time: per segment, the mean power and
# utilisation over the measured window, energy, and peak memory.
#   bench/run_telemetry.sh BIN_DIR OUT_DIR [cotenant run options...]
# Default run options: the built-in GPU default, 10 s windows, 1 repeat.
set -uo pipefail
bin=$1 out=$2
shift 2
opts=("$@")
[ ${#opts[@]} -gt 0 ] || opts=(--duration 10s --warmup 4s --repeats 1)
mkdir -p "$out"
run=$out/run
# CLOCK_MONOTONIC to wall time, for nvidia-smi's timestamps
offset=$(python3 -c "import time; print(time.time() - time.monotonic())")
nvidia-smi --query-gpu=timestamp,power.draw,utilization.gpu,memory.used --format=csv,noheader,nounits -lms 200 \
  > "$out/smi.csv" &
smi=$!
"$bin/cotenant" run --out "$run" "${opts[@]}" > "$out/run.txt" 2>&1
echo "cotenant run exit $?" >> "$out/run.txt"
kill $smi
wait $smi 2>/dev/null
python3 - "$run" "$out/smi.csv" "$offset" <<'PY'
import datetime, json, os, sys
run, smi_path, off = sys.argv[1], sys.argv[2], float(sys.argv[3])
smi = []
for line in open(smi_path):
    p = [x.strip() for x in line.split(",")]
    try:
        t = datetime.datetime.strptime(p[0], "%Y/%m/%d %H:%M:%S.%f").timestamp()
        smi.append((t, float(p[1]), float(p[2]), float(p[3])))
    except (ValueError, IndexError):
        pass
print("| segment | ours: power W, util %, energy J | nvidia-smi: power W, util %, power x window J | peak MiB ours / nvidia-smi |")
print("|---|---|---|---|")
for seg in sorted(os.listdir(f"{run}/segments")):
    sj = json.load(open(f"{run}/segments/{seg}/segment.json"))
    w = sj["window"]
    if not w:
        continue
    a, b = w["start_ns"] / 1e9 + off, w["end_ns"] / 1e9 + off
    inside = [x for x in smi if a <= x[0] <= b]
    whole = [x for x in smi if sj["t0_ns"] / 1e9 + off <= x[0] <= sj["ended_ns"] / 1e9 + off]
    rows = [l.split(",") for l in open(f"{run}/segments/{seg}/telemetry.csv") if ",gpu,," in l]
    ours = [r for r in rows if w["start_ns"] <= int(r[0]) <= w["end_ns"]]
    if not ours or not inside:
        print(f"| {seg} | no samples | | |")
        continue
    pw = sum(float(r[10]) for r in ours) / len(ours)
    ut = sum(float(r[6]) for r in ours) / len(ours)
    energy = float(ours[-1][11]) - float(ours[0][11])
    sp = sum(x[1] for x in inside) / len(inside)
    su = sum(x[2] for x in inside) / len(inside)
    print(f"| {seg} | {pw:.1f}, {ut:.1f}, {energy:.0f} | {sp:.1f}, {su:.1f}, {sp * (b - a):.0f} | "
          f"{max(float(r[8]) for r in rows):.0f} / {max(x[3] for x in whole):.0f} |")
PY
