#!/usr/bin/env bash
# A run's processes on a GPU machine: the default scenario (two ResNet-50
# trainings, timeslice and MPS) with its workloads in cgroups and their
# output through pipes, checked complete and unflagged; then SIGKILL to
# cotenant mid-segment, after which no workload process may be left and no
# process may hold the GPU.
#   scripts/gpu_check_lifecycle.sh [BIN_DIR [OUT_DIR]]   (default: build/bin, a new temporary folder)
set -uo pipefail
B=${1:-build/bin}
OUT=${2:-$(mktemp -d)}
mkdir -p "$OUT"
export PATH=/usr/local/nvidia/bin:$PATH
[[ -x $B/cotenant ]] || { echo "gpu_check_lifecycle: $B/cotenant not found; build first (scripts/build.sh)" >&2; exit 2; }
fail=0
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader
timeout 300 "$B/cotenant" run --duration 8s --warmup 3s --repeats 1 --out "$OUT/r" >/dev/null 2>"$OUT/run.err" || fail=1
python3 - "$OUT/r" <<'PY' || fail=1
import glob, json, os, sys
d = sys.argv[1]
run, m = json.load(open(d + "/run.json")), json.load(open(d + "/metrics.json"))
print("status", run["status"], "| process tracking:", run.get("process_tracking"))
for mo in m["modes"]:
    print(" ", mo["mode"], "STP", (mo.get("stp") or {}).get("mean"),
          [(w["name"], round((w.get("alone_throughput") or {}).get("mean") or 0),
            round((w.get("shared_throughput") or {}).get("mean") or 0)) for w in mo["workloads"]])
bad = [(os.path.basename(os.path.dirname(s)), k, v["status"]) for s in sorted(glob.glob(d + "/segments/*/segment.json"))
       for k, v in json.load(open(s))["results"].items() if v["status"] != "ok"]
print("workload runs not ok:", bad or "none", "| flagged:", m.get("flagged") or "none")
sys.exit(0 if run["status"] == "complete" and not bad else 1)
PY
"$B/cotenant" run --duration 30s --warmup 3s --repeats 1 --out "$OUT/k" >/dev/null 2>&1 &
pid=$!
sleep 25
kill -KILL $pid
wait $pid 2>/dev/null
sleep 3
left=$(pgrep -fc cotenant-resnet50 || true)
gpu=$(nvidia-smi --query-compute-apps=pid --format=csv,noheader | wc -l)
echo "after SIGKILL to cotenant: $left workload processes, $gpu processes on the GPU"
[[ $left == 0 && $gpu == 0 ]] || fail=1
echo "gpu_check_lifecycle: $([[ $fail == 0 ]] && echo passed || echo FAILED) (results in $OUT)"
exit $fail
