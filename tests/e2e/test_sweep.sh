#!/usr/bin/env bash
# A sweep of MPS active-thread splits: each configuration runs as a mode of
# its own, named after its values, and its workloads get its settings; the
# results name every configuration with its settings, re-analysis reads
# them back from run.json, and --modes picks one. The MPS control daemon is
# a stand-in and the GPU the NVML test double; each workload prints the
# MPS variables it was given.
source "$(dirname "$0")/lib.sh"
export COTENANT_NVML_LIBRARY=$COTENANT_NVML_DOUBLE
fake_mps_control "$WORK/bin"
cat >"$WORK/bin/wl" <<SH
#!/usr/bin/env bash
echo "mode=\$COTENANT_MODE pct=\${CUDA_MPS_ACTIVE_THREAD_PERCENTAGE:-} mem=\${CUDA_MPS_PINNED_DEVICE_MEM_LIMIT:-}"
export ASAN_OPTIONS=detect_leaks=0
exec $BIN/cotenant-cpu-burn --loop compute --threads 1 --duration 0
SH
chmod +x "$WORK/bin/"*
export PATH=$WORK/bin:$PATH
cat >"$WORK/s.yaml" <<YAML
name: split
modes: [timeslice]
repeats: 1
duration: 500ms
warmup: 200ms
telemetry_interval: off
workloads:
  - {name: a, command: [$WORK/bin/wl], mps: {pinned_memory_limit: 2G}}
  - {name: b, command: [$WORK/bin/wl]}
sweep:
  mps:
    active_thread_percentage:
      - {a: 30, b: 70}
      - {a: 70, b: 30}
YAML
R=$WORK/r
"$COT" run "$WORK/s.yaml" --out "$R" -q 2>"$WORK/err" || fail "run: exit $?, $(cat "$WORK/err")"; ok
[ "$(json "$R/metrics.json" '[m["mode"] for m in d["modes"]]')" = "['timeslice', 'mps.t30-70', 'mps.t70-30', 'exclusive']" ] \
  || fail "modes: $(json "$R/metrics.json" '[m["mode"] for m in d["modes"]]')"; ok "the configurations run as modes, named after their values"
# each workload got its configuration's settings, and its own where the sweep gives none
for c in t30-70:30:70 t70-30:70:30; do
  IFS=: read -r name pa pb <<<"$c"
  for kind in alone-a shared; do
    S=$(ls -d "$R"/segments/*-mps."$name"-"$kind")
    grep -qx "mode=mps pct=$pa mem=0=2G" "$S/a/stdout.log" || fail "$S a: $(cat "$S/a/stdout.log")"
  done
  S=$(ls -d "$R"/segments/*-mps."$name"-shared)
  grep -qx "mode=mps pct=$pb mem=" "$S/b/stdout.log" || fail "$S b: $(cat "$S/b/stdout.log")"
done
ok "each workload has its configuration's active-thread percentage"
S=$(ls -d "$R"/segments/*-timeslice-shared)
grep -qx "mode=timeslice pct= mem=" "$S/a/stdout.log" || fail "timeslice: $(cat "$S/a/stdout.log")"; ok
python3 - "$R" <<'PY' || fail "metrics.json / run.json: configurations"; ok "metrics.json and run.json give each configuration's settings"
import json, sys
r = sys.argv[1]
m = {x["mode"]: x for x in json.load(open(r + "/metrics.json"))["modes"]}
assert "configuration" not in m["timeslice"], m["timeslice"]
assert m["mps.t30-70"]["configuration"] == {"mode": "mps", "settings": {"a": {"active_thread_percentage": 30},
                                                                         "b": {"active_thread_percentage": 70}},
                                           "axes": ["active_thread_percentage"]}, m["mps.t30-70"]
assert m["mps.t70-30"]["shares"] is True and m["mps.t70-30"]["baseline"] == "exclusive", m["mps.t70-30"]
sc = json.load(open(r + "/run.json"))["scenario"]
assert [c["name"] for c in sc["configurations"]] == ["mps.t30-70", "mps.t70-30"], sc["configurations"]
assert set(json.load(open(r + "/run.json"))["modes"]) == {"timeslice", "mps.t30-70", "mps.t70-30", "exclusive"}
PY
grep -q "mps.t30-70" "$R/report.md" && grep -q "^mps.t70-30," "$R/summary.csv" || fail "report/summary name the configurations"; ok
[ "$(json "$R/metrics.json" 'sorted(c["mode"] for c in d["recommendation"]["configurations"])')" = "['mps.t30-70', 'mps.t70-30', 'timeslice']" ] \
  || fail "the recommendation weighs every configuration: $(json "$R/metrics.json" 'd["recommendation"]')"; ok
cp "$R/metrics.json" "$WORK/m1.json"
"$COT" analyze "$R" >/dev/null || fail "analyze: exit $?"; ok
cmp -s "$R/metrics.json" "$WORK/m1.json" || fail "re-analysis differs"; ok "re-analysis reads the configurations back from run.json"

# --modes picks configurations by name, in the order given
"$COT" run "$WORK/s.yaml" --out "$WORK/one" --modes mps.t70-30,timeslice -q 2>"$WORK/err" || fail "--modes: $(cat "$WORK/err")"; ok
[ "$(json "$WORK/one/metrics.json" '[m["mode"] for m in d["modes"]]')" = "['mps.t70-30', 'timeslice', 'exclusive']" ] \
  || fail "--modes: $(json "$WORK/one/metrics.json" '[m["mode"] for m in d["modes"]]')"; ok
S=$(ls -d "$WORK"/one/segments/*-mps.t70-30-shared)
grep -qx "mode=mps pct=70 mem=0=2G" "$S/a/stdout.log" || fail "--modes kept the settings: $(cat "$S/a/stdout.log")"; ok
set +e
"$COT" run "$WORK/s.yaml" --out "$WORK/bad" --modes mps.t10-90 2>"$WORK/err"; rc=$?
set -e
[ $rc = 2 ] && grep -q "unknown mode 'mps.t10-90'.*or a configuration of the scenario's sweep" "$WORK/err" \
  || fail "--modes unknown: exit $rc, $(cat "$WORK/err")"; ok

# --- a CPU scenario: two axes of the OS scheduler's settings -----------------
# cpu_percentage confines a workload to a share of cotenant's CPUs (taken in
# workload order), nice sets its niceness; a server and its load generator
# run beside them, constrained by an SLO. Swept, recommended, asked again
# with another objective, and plotted.
cat >"$WORK/bin/cwl" <<SH
#!/usr/bin/env bash
echo "cpus=\$(awk '/^Cpus_allowed_list/ { print \$2 }' /proc/self/status) nice=\$(awk '{ print \$19 }' /proc/self/stat)"
export ASAN_OPTIONS=detect_leaks=0
exec $BIN/cotenant-cpu-burn --loop compute --threads 1 --duration 0
SH
chmod +x "$WORK/bin/cwl"
cat >"$WORK/c.yaml" <<YAML
name: cpus
device: cpu
modes: [timeslice]
repeats: 1
duration: 1s
warmup: 300ms
workloads:
  - {name: a, command: [$WORK/bin/cwl]}
  - {name: b, command: [$WORK/bin/cwl]}
  - {name: server, kind: serve-cpu}
  - {name: load, kind: loadgen, target: server, args: [--rate, "100", --arrival, constant]}
sweep:
  timeslice:
    cpu_percentage: [{a: 50, b: 50}, {a: 100, b: 50}]
    nice: [{b: 10}]
objective: stp
constraints:
  slo: [{workload: load, p99: 10s}, {workload: load, p50: 5s}]
YAML
C=$WORK/c
"$COT" run "$WORK/c.yaml" --out "$C" -q 2>"$WORK/err" || fail "cpu sweep: exit $?, $(cat "$WORK/err")"; ok
[ "$(json "$C/metrics.json" '[m["mode"] for m in d["modes"]]')" = "['timeslice', 'timeslice.c50-50.n10', 'timeslice.c100-50.n10', 'exclusive']" ] \
  || fail "cpu modes: $(json "$C/metrics.json" '[m["mode"] for m in d["modes"]]')"; ok
# the CPUs each workload was given, from cotenant's own (the test's) CPUs
python3 - "$C" <<'PY' || fail "cpu shares"; ok "each workload ran on its share of the CPUs, at its niceness"
import glob, os, sys
cpus = sorted(os.sched_getaffinity(0)); n = len(cpus)
def share(pct, start):
    k = max(1, min(n, round(pct * n / 100)))
    return [cpus[(start + i) % n] for i in range(k)], k
def listed(cs):  # as /proc writes a CPU list
    out, i = [], 0
    cs = sorted(set(cs))
    while i < len(cs):
        j = i
        while j + 1 < len(cs) and cs[j + 1] == cs[j] + 1: j += 1
        out.append(str(cs[i]) if i == j else f"{cs[i]}-{cs[j]}"); i = j + 1
    return ",".join(out)
for name, pa, pb in (("c50-50.n10", 50, 50), ("c100-50.n10", 100, 50)):
    a, ka = share(pa, 0); b, _ = share(pb, ka)
    seg = glob.glob(f"{sys.argv[1]}/segments/*-timeslice.{name}-shared")[0]
    got_a = open(seg + "/a/stdout.log").readline().split()
    got_b = open(seg + "/b/stdout.log").readline().split()
    assert got_a == [f"cpus={listed(a)}", "nice=0"], (name, got_a, a)
    assert got_b == [f"cpus={listed(b)}", "nice=10"], (name, got_b, b)
seg = glob.glob(f"{sys.argv[1]}/segments/*-timeslice-shared")[0]
assert open(seg + "/a/stdout.log").readline().split() == [f"cpus={listed(cpus)}", "nice=0"]
PY
python3 - "$C/metrics.json" <<'PY' || fail "cpu sweep recommendation: $(json "$C/metrics.json" 'd["recommendation"]')"; ok
import json, sys
r = json.load(open(sys.argv[1]))["recommendation"]
assert r["objective"] == "stp" and r["constraints"] == ["load p99 <= 10000 ms", "load p50 <= 5000 ms"], r
assert sorted(c["mode"] for c in r["configurations"]) == ["timeslice", "timeslice.c100-50.n10", "timeslice.c50-50.n10"], r
assert all(c["meets"] for c in r["configurations"]), r
assert r["verdict"] in ("best", "untested", "indistinguishable"), r
PY
grep -q "^\*\*For stp, given load p99 <= 10000 ms; load p50 <= 5000 ms\*\*: " "$C/report.md" || fail "report: $(grep -A3 '## Recommendation' "$C/report.md")"; ok
for p in sweep_timeslice sweep_timeslice_cpu_percentage sweep_timeslice_nice pareto pareto_load_p50; do
  [ -f "$C/plots/$p.gp" ] && [ -f "$C/plots/$p.dat" ] || fail "no $p plot files"; ok
  if command -v gnuplot >/dev/null; then [ -f "$C/plots/$p.png" ] || fail "gnuplot is here but no $p.png"; ok; fi
done
[ "$(grep -c 'c50-50.n10\|c100-50.n10' "$C/plots/sweep_timeslice.dat")" = 2 ] || fail "sweep plot: $(cat "$C/plots/sweep_timeslice.dat")"; ok
grep -q "SLO 10000 ms" "$C/plots/pareto.gp" && [ "$(grep -c '"timeslice' "$C/plots/pareto.dat")" = 3 ] \
  || fail "pareto: $(cat "$C/plots/pareto.gp" "$C/plots/pareto.dat")"; ok "the sweep and Pareto plots, the SLO drawn in"
# along cpu_percentage: its two points, one line for the one point of nice
grep -qP "^0\t\"c50-50\"\t" "$C/plots/sweep_timeslice_cpu_percentage.dat" &&
  grep -qP "^1\t\"c100-50\"\t" "$C/plots/sweep_timeslice_cpu_percentage.dat" &&
  grep -q "title 'n10'" "$C/plots/sweep_timeslice_cpu_percentage.gp" ||
  fail "axis plot: $(cat "$C/plots/sweep_timeslice_cpu_percentage.dat" "$C/plots/sweep_timeslice_cpu_percentage.gp")"; ok
grep -q "SLO 5000 ms" "$C/plots/pareto_load_p50.gp" && grep -q "^# p50_ms" "$C/plots/pareto_load_p50.dat" \
  || fail "the second SLO's Pareto plot: $(cat "$C/plots/pareto_load_p50.gp")"; ok
"$COT" advise "$C" --objective fairness >"$WORK/adv" && grep -q "^\*\*For fairness, given load p99 <= 10000 ms; load p50 <= 5000 ms\*\*" "$WORK/adv" \
  || fail "advise fairness: $(cat "$WORK/adv")"; ok
set +e
"$COT" advise "$C" --slo load:p99=0.001ms >"$WORK/adv"; rc=$?
set -e
[ $rc = 1 ] && grep -q "no configuration meets every constraint; the closest is" "$WORK/adv" || fail "advise tight: $rc $(cat "$WORK/adv")"; ok

# own_baselines: false: a configuration is its shared run alone, every
# figure against the whole-GPU baseline (here the CPUs alone)
sed -i 's/^objective: stp$/objective: stp\nown_baselines: false/' "$WORK/c.yaml"
O=$WORK/o
"$COT" run "$WORK/c.yaml" --out "$O" --repeats 1 -q 2>"$WORK/err" || fail "own_baselines: false: $(cat "$WORK/err")"; ok
python3 - "$O" <<'PY' || fail "own_baselines: false: $(ls "$O/segments")"; ok "own_baselines: false runs the shared segments alone against the common baseline"
import json, os, sys
segs = sorted(os.listdir(sys.argv[1] + "/segments"))
assert sorted(s[4:] for s in segs if "alone" in s) == ["r1-exclusive-alone-a", "r1-exclusive-alone-b",
                                                        "r1-exclusive-alone-load"], segs
assert len(segs) == 3 + 3, segs  # three alone on the whole machine, one shared run per configuration
m = json.load(open(sys.argv[1] + "/metrics.json"))
for mo in m["modes"]:
    if mo["mode"] == "exclusive": continue
    assert mo["own_baseline"] is False and "stp" not in mo and mo["stp_common"]["mean"] > 0, mo
    assert mo["repeats_complete"] == 1, mo
    for w in mo["workloads"]:
        assert "normalized_progress" not in w, w
        assert w["name"] == "server" or w["normalized_progress_common"]["mean"] > 0, w
assert m["recommendation"]["verdict"] in ("best", "untested", "indistinguishable"), m["recommendation"]
PY
grep -q "^No alone runs in this mode (own_baselines: false)" "$O/report.md" || fail "report: own_baselines"; ok
finish
