# A results folder is shared between people: nothing in it may run a
# command when it is reported on. Names in run.json and metrics.json that
# try gnuplot's `!cmd`, system(), backquotes and macros, a folder whose own
# path holds a quote and a newline, and a plots/.gnuplot: `cotenant report`
# must write plots and run none of them. A damaged run.json (a workload
# name that is not a plain name, a segment id that climbs out of segments/)
# is refused or left out with a reason, never followed.
source "$(dirname "$0")/lib.sh"
command -v gnuplot >/dev/null || { echo "gnuplot is missing: the report would run nothing" >&2; exit 77; }
canary=$WORK/PWNED
make_hostile() { # DIR
mkdir -p "$1/plots"
printf '!touch %s\n' "$canary" > "$1/plots/.gnuplot"
python3 - "$1" "$canary" <<'PY'
import json, sys
d, canary = sys.argv[1:]
evil = [f"a'\n!touch {canary}\n'", f"b\"\n!touch {canary}\n", f"c`touch {canary}`", f"d'.system('touch {canary}').'",
        "e@evil", f"f\\\n!touch {canary}"]
series = {n: [1.0, 2.0, 3.0] for n in evil}
wl = [{"name": n, "normalized_progress": {"mean": 0.5, "ci95_low": 0.4, "ci95_high": 0.6},
       "alone_throughput": {"mean": 2.0}} for n in evil]
mode = f"ts'\n!touch {canary}\n"
modes = [{"mode": mode, "shares": True, "workloads": wl, "repeats_complete": 1,
          "stp": {"mean": 1.0, "n": 1}, "antt": {"mean": 1.0, "n": 1}, "jain": {"mean": 1.0, "n": 1}}]
metrics = {"modes": modes,
           "timeseries": [{"mode": mode, "segment": f"s`touch {canary}`", "bin_s": 1.0, "window_start_s": 0.5,
                           "window_end_s": 2.5, "workloads": series}],
           "gpu_timeseries": [{"mode": "../../../escape", "segment": "x", "kind": f"k\n!touch {canary}",
                               "window_start_s": 0.1, "window_end_s": 0.2, "time_s": [0, 1],
                               "gpu_util_pct": [1, 2], "sm_active_pct": [1, 2], "power_w": [100, 110],
                               "memory_gib": [1, 2]}],
           "latency_cdf": [{"mode": mode, "workload": evil[0], "points": [[1.0, 0.5], [2.0, 1.0]]}],
           "excluded": [], "failures": []}
json.dump({"scenario": {"name": "hostile", "modes": ["timeslice"], "workloads": []}, "status": "complete"},
          open(f"{d}/run.json", "w"))
json.dump(metrics, open(f"{d}/metrics.json", "w"))
PY
}
check_report() { # DIR
local dir=$1
"$COT" report "$dir" >"$WORK/out" 2>"$WORK/err" || fail "report on hostile names: exit $? ($(cat "$WORK/err"))"
[ ! -e "$canary" ] || fail "a name in the results folder ran a command"
n=$(ls "$dir/plots" | grep -c "\.png$" || true)
[ "$n" = 4 ] || fail "expected 4 plots (NP, throughput, GPU, CDF), got $n: $(ls "$dir/plots")"
[ ! -e "$WORK/escape.png" ] && [ ! -e "$dir/escape.png" ] || fail "a mode name chose a path outside plots/"
ls "$dir/plots" | grep -qx 'gpu__________escape.png' || fail "the GPU plot is not named from the mode's safe characters: $(ls "$dir/plots")"
# outside its quoted strings no script holds command syntax, and inside
# them nothing but the labels' alphabet
python3 - "$dir/plots" <<'PY' || fail "a .gp script holds command syntax"
import glob, re, sys
for f in glob.glob(sys.argv[1] + "/*.gp"):
    for n, line in enumerate(open(f), 1):
        code = re.sub(r"'[^']*'|\"[^\"]*\"", "", line)
        for s in re.findall(r"'([^']*)'|\"([^\"]*)\"", line):
            s = s[0] or s[1]
            assert re.fullmatch(r"[A-Za-z0-9 _.,:+/()%=?#-]*", s), f"{f}:{n}: string {s!r}"
        assert not re.search(r"^\s*!|system|`|@", code), f"{f}:{n}: {line!r}"
PY
}
make_hostile "$WORK/plain"
check_report "$WORK/plain"
ok "hostile names in metrics.json: 4 plots, no command run"
path="$WORK/shared 'x"$'\n'"!touch $canary"
make_hostile "$path"
check_report "$path"
ok "a folder path with a quote and a command: 4 plots, no command run"

# run.json: a workload name that is not a plain name is refused; a segment
# id that climbs out of segments/ is left out, not read.
mk_run() { # DIR WORKLOAD_NAME SEGMENT_ID
  mkdir -p "$1/segments"
  python3 - "$@" <<'PY'
import json, sys
d, name, seg = sys.argv[1:]
json.dump({"scenario": {"name": "h", "modes": ["timeslice"], "repeats": 1, "duration_s": 1,
                        "workloads": [{"name": name, "kind": "cpu-compute"}]},
           "plan": [{"id": seg, "mode": "timeslice", "repeat": 1, "kind": "alone", "status": "complete"}],
           "status": "complete"}, open(f"{d}/run.json", "w"))
PY
}
mk_run "$WORK/badname" $'a\n!x' 001-r1-timeslice-alone-a
set +e; "$COT" analyze "$WORK/badname" >/dev/null 2>"$WORK/err"; rc=$?; set -e
[ $rc = 1 ] || fail "analyze with a bad workload name in run.json: exit $rc"
grep -q "workload name 'a?!x' must be" "$WORK/err" || fail "message: $(cat "$WORK/err")"
ok "a workload name in run.json outside the alphabet is refused"
mk_run "$WORK/reserved" segment.json 001-r1-timeslice-alone-a
set +e; "$COT" analyze "$WORK/reserved" >/dev/null 2>"$WORK/err"; rc=$?; set -e
[ $rc = 1 ] && grep -q "workload name 'segment.json' is reserved" "$WORK/err" || fail "reserved name in run.json: exit $rc, $(cat "$WORK/err")"
ok "a reserved workload name in run.json is refused"
mkdir -p "$WORK/outside/segments/x"
echo '{"results": {}}' > "$WORK/outside/segments/x/segment.json"
mk_run "$WORK/climb" a ../../outside/segments/x
"$COT" analyze "$WORK/climb" >/dev/null 2>"$WORK/err" || fail "analyze with a climbing segment id: exit $? ($(cat "$WORK/err"))"
reason=$(json "$WORK/climb/metrics.json" "d['excluded'][0]['reason']")
[ "$reason" = "the segment id in run.json is not a plain name (letters, digits, '_', '-', '.')" ] ||
  fail "climbing id not excluded: $reason"
ok "a segment id that leaves segments/ is left out"

# the scenario file: a workload named after a segment's own file is refused
printf 'name: x\nworkloads:\n  - name: telemetry.csv\n    kind: cpu-compute\n' > "$WORK/res.yaml"
set +e; "$COT" run "$WORK/res.yaml" --plan >/dev/null 2>"$WORK/err"; rc=$?; set -e
[ $rc = 2 ] && grep -q "res.yaml:3:11: workload name 'telemetry.csv' is reserved" "$WORK/err" || fail "reserved name: exit $rc, $(cat "$WORK/err")"
ok "a workload named telemetry.csv is refused at file:line:col"
finish
