# GPU telemetry inside `cotenant run`, against the NVML test double: each
# segment's telemetry.csv with every GPU process labelled by workload, the
# per-workload GPU figures and energy split in metrics.json and summary.csv,
# the report's energy column and GPU timeline, and telemetry turned off.
source "$(dirname "$0")/lib.sh"
[ -f "${COTENANT_NVML_DOUBLE:-}" ] || fail "COTENANT_NVML_DOUBLE does not name the test double"; ok
# Every cotenant-cpu-burn process sits on the double's GPU with 1000 MiB and
# 30% SM; the GPU draws 200 W and its energy counter follows real time.
export COTENANT_NVML_LIBRARY=$COTENANT_NVML_DOUBLE COTENANT_NVML_DOUBLE_LIVE_ENERGY=1
export COTENANT_NVML_DOUBLE_PROC_NAME=cotenant-cpu:1000:30:10
cat > "$WORK/s.yaml" <<'YAML'
name: telemetry
device: gpu
modes: [timeslice]
duration: 2s
warmup: 500ms
repeats: 1
telemetry_interval: 50ms
workloads:
  - {name: a, kind: cpu-compute, args: [--threads, "1"], env: {ASAN_OPTIONS: "detect_leaks=0"}}
  - {name: b, kind: cpu-compute, args: [--threads, "1"], env: {ASAN_OPTIONS: "detect_leaks=0"}}
YAML
# Under AddressSanitizer, LeakSanitizer forks a tracer from each exiting
# workload; it bears the workload's name, so the double would put a second
# 1000 MiB process on its GPU for a tick. The workloads skip the leak check
# (cotenant itself keeps it).
"$COT" run "$WORK/s.yaml" --out "$WORK/r" -q || fail "run: exit $?"; ok
R=$WORK/r
[ "$(json "$R/run.json" "d['telemetry']['enabled']")" = True ] || fail "run.json: $(json "$R/run.json" "d['telemetry']")"; ok

# Each segment: about one row per 50 ms, process rows labelled by workload.
for seg in 001-r1-timeslice-alone-a 002-r1-timeslice-alone-b 003-r1-timeslice-shared; do
  csv=$R/segments/$seg/telemetry.csv
  [ -f "$csv" ] || fail "$seg has no telemetry.csv"; ok
  rows=$(grep -c ",gpu,," "$csv")
  samples=$(json "$R/segments/$seg/segment.json" "d['telemetry']['samples']")
  [ "$rows" = "$samples" ] && [ "$rows" -ge 30 ] || fail "$seg: $rows GPU rows, segment.json says $samples"; ok
  labels=$(awk -F, '$4 == "process" && $28 != "" { print $28 }' "$csv" | sort -u | tr '\n' ' ')
  case $seg in
    *alone-a) want="a " ;; *alone-b) want="b " ;; *) want="a b " ;;
  esac
  [ "$labels" = "$want" ] || fail "$seg: processes labelled '$labels', expected '$want'"; ok
done

# Alone, a workload gets all of the GPU's 200 W over its 2 s window; shared,
# two workloads at equal SM use get half each.
# On a failure, the ticks where a workload held more than one process, to
# tell a labelling fault from a figure's.
crowded_ticks() {
  awk -F, '$4 == "process" && $28 != "" { k = FILENAME " t=" $1 " " $28; n[k]++; p[k] = p[k] " " $5 " (" $6 ")" }
           END { for (k in n) if (n[k] > 1) print k ":" p[k] }' "$R"/segments/*/telemetry.csv >&2
  ps -eo pid,ppid,pgid,comm | grep cotenant >&2 || true
}
check() { python3 - "$R/metrics.json" "$@" <<'PY' || { crowded_ticks; fail "metrics.json: GPU figures"; }
import json, sys
d = json.load(open(sys.argv[1]))
mo = d["modes"][0]
def near(x, want, tol, what):
    if abs(x - want) > tol * abs(want):
        sys.exit(f"{what}: {x}, expected {want}")
for w in mo["workloads"]:
    g = w["gpu"]
    for kind, energy in (("alone", 400.0), ("shared", 200.0)):
        f = {k: v["mean"] for k, v in g[kind].items() if v}
        near(f["energy_j"], energy, 0.03, f"{w['name']} {kind} energy")
        near(f["power_w"], 200, 1e-6, f"{w['name']} {kind} power")
        near(f["peak_memory_mib"], 1000, 1e-6, f"{w['name']} {kind} peak memory")
        near(f["process_sm_util_pct"], 30, 1e-6, f"{w['name']} {kind} SM use")
        samples = (w["alone_throughput" if kind == "alone" else "shared_throughput"]["mean"]) * 2.0
        near(f["energy_per_sample_j"], f["energy_j"] / samples, 0.01, f"{w['name']} {kind} energy per sample")
sg = mo["gpu_shared"]
near(sg["energy_j"]["mean"], 400, 0.03, "shared window energy")
assert sg["energy_split"] == "sm_util", sg["energy_split"]
near(sg["sm_active_pct"]["mean"], 40, 1e-6, "SM active")
tl = d["gpu_timeseries"]
assert len(tl) == 1 and tl[0]["kind"] == "shared" and len(tl[0]["time_s"]) >= 10, tl
PY
}
check
grep -q "^timeslice,a,shared_energy_per_sample_j,J/Mflop," "$R/summary.csv" || fail "summary.csv has no energy per sample"; ok
grep -q "^timeslice,\*,shared_power_w,W,200," "$R/summary.csv" || fail "summary.csv has no shared power"; ok
grep -q "Energy alone → shared (J/unit)" "$R/report.md" || fail "report.md has no energy column"; ok
grep -q "shared energy split by each workload's SM use" "$R/report.md" || fail "report.md does not say how energy was split"; ok
[ -f "$R/plots/gpu_timeslice.gp" ] && [ -f "$R/plots/gpu_timeslice.dat" ] || fail "no GPU timeline plot files"; ok
if command -v gnuplot >/dev/null; then
  [ -f "$R/plots/gpu_timeslice.png" ] || fail "gnuplot is here but no GPU timeline PNG was made"; ok
  grep -q "plots/gpu_timeslice.png" "$R/report.md" || fail "report.md does not show the GPU timeline"; ok
fi

# Re-analysis of the same folder gives the same figures.
cp "$R/metrics.json" "$WORK/m1.json"
"$COT" analyze "$R" >/dev/null || fail "analyze: exit $?"; ok
cmp -s "$R/metrics.json" "$WORK/m1.json" || fail "analyze gave different figures"; ok

# A process outside the run on the GPU during the windows: metrics.json
# names it for every segment, the report warns before any figure, and so
# does cotenant on stderr. (Other tests' workloads, run at the same time,
# may be named too; this one must be.)
ASAN_OPTIONS=detect_leaks=0 "$BIN/cotenant-cpu-burn" --loop compute --threads 1 --duration 0 >/dev/null 2>&1 &
intruder=$!
"$COT" run "$WORK/s.yaml" --out "$WORK/crowded" --duration 1s --warmup 0.2s -q 2>"$WORK/err" || fail "crowded run: exit $?"; ok
kill "$intruder"
wait "$intruder" 2>/dev/null || true
python3 - "$WORK/crowded/metrics.json" "$intruder" <<'PY' || fail "metrics.json: other GPU processes"; ok
import json, sys
d = json.load(open(sys.argv[1])); pid = int(sys.argv[2])
segs = {s["segment"]: s for s in d["other_gpu_processes"]}
assert sorted(segs) == ["001-r1-timeslice-alone-a", "002-r1-timeslice-alone-b", "003-r1-timeslice-shared"], sorted(segs)
for s in segs.values():
    p = [p for p in s["processes"] if p["pid"] == pid]
    assert p, s
    p = p[0]
    assert p["process"] == "cotenant-cpu-bu" and p["peak_memory_mib"] == 1000 and p["sm_util_pct"] == 30, p
    assert p["window_pct"] > 90, p
PY
grep -q "^> \*\*Other processes used the GPU.\*\* During the measured window of 3 segments" "$WORK/crowded/report.md" \
  && grep -q "^> - 003-r1-timeslice-shared:.* pid $intruder (cotenant-cpu-bu, 1000 MiB, SM 30%, on the GPU for" "$WORK/crowded/report.md" \
  || fail "report.md: $(grep -A5 'Other processes' "$WORK/crowded/report.md")"; ok
grep -q "processes outside the run used the GPU during the measured window of 3 segments" "$WORK/err" \
  || fail "no warning: $(cat "$WORK/err")"; ok

# Telemetry off: no telemetry.csv, and run.json and the report say why.
"$COT" run "$WORK/s.yaml" --out "$WORK/off" --telemetry-interval off --modes timeslice -q || fail "run off: exit $?"; ok
! ls "$WORK"/off/segments/*/telemetry.csv >/dev/null 2>&1 || fail "telemetry.csv written with telemetry off"; ok
[ "$(json "$WORK/off/run.json" "d['telemetry']['reason']")" = "telemetry_interval is off" ] || fail "run.json: no reason"; ok
grep -q "GPU telemetry | none: telemetry_interval is off" "$WORK/off/report.md" || fail "report.md does not say telemetry was off"; ok
# Under MPS, a workload whose processes NVML never lists as MPS clients ran
# outside MPS (it found no daemon): its runs are flagged and its figures
# invalid, in metrics.json, the report and on stderr. Listed as clients,
# nothing is said. The MPS control daemon here is a stand-in.
fake_mps_control "$WORK/bin"
for clients in "" cotenant-cpu; do
  out=$WORK/mps-${clients:-none}
  PATH=$WORK/bin:$PATH COTENANT_NVML_DOUBLE_MPS_CLIENTS=$clients \
    "$COT" run "$WORK/s.yaml" --modes mps --out "$out" --duration 1s --warmup 0.2s -q 2>"$WORK/err" \
    || fail "mps run (clients '$clients'): exit $?, $(cat "$WORK/err")"; ok
  python3 - "$out/metrics.json" "$clients" <<'PY' || fail "metrics.json under MPS (clients '$clients')"; ok
import json, sys
d = json.load(open(sys.argv[1])); outside = sys.argv[2] == ""
kinds = sorted((f["segment"], f["workload"]) for f in d["flagged"] if "not_mps_client" in f["flag_kinds"])
if outside:
    assert kinds == [("001-r1-mps-alone-a", "a"), ("002-r1-mps-alone-b", "b"), ("003-r1-mps-shared", "a"),
                     ("003-r1-mps-shared", "b")], kinds
    for w in d["modes"][0]["workloads"]:
        v = w["validity"]["throughput"]
        assert v["verdict"] == "INVALID" and any("never MPS clients" in r for r in v["reasons"]), v
else:
    assert kinds == [], kinds
    assert all(w["validity"]["throughput"]["verdict"] == "VALID" for w in d["modes"][0]["workloads"]), d["modes"][0]
PY
  if [ -z "$clients" ]; then
    grep -q "never listed its GPU processes as MPS clients" "$out/report.md" || fail "report.md: not MPS clients"; ok
    grep -q "never listed its GPU processes as MPS clients" "$WORK/err" || fail "stderr: $(cat "$WORK/err")"; ok
  fi
done

set +e
"$COT" run "$WORK/s.yaml" --out "$WORK/bad" --telemetry-interval 5ms 2>"$WORK/err"; rc=$?
set -e
[ $rc = 2 ] && grep -q "at least 10ms" "$WORK/err" || fail "--telemetry-interval 5ms: exit $rc, $(cat "$WORK/err")"; ok
finish
