#!/usr/bin/env bash
# Adaptive repeats (repeats: auto) on CPU workloads whose order is known:
# racing drops the configuration clearly behind, the run stops before its
# cap, the precision asked is reached by those left, the skipped segments
# say why, and the report gives the time to answer. It measures, so it
# runs in the plain build only (label timing): AddressSanitizer slows the
# CPU workloads about fifteen times, and their steps no longer fit the
# windows used here.
source "$(dirname "$0")/lib.sh"
# b's niceness gives a a known order of throughput (nice 0: about half the
# CPUs, 5: about three quarters, 10: about nine tenths), so with the
# objective "throughput of a" nice 0 is clearly behind after the first
# repeats and is dropped, and the run stops before its cap (a quiet
# machine stops after 3 or 4 repeats; the cap of 8 leaves a busy one room).
cat >"$WORK/ad.yaml" <<YAML
name: race
device: cpu
modes: [exclusive]
repeats: auto
max_repeats: 8
precision: 0.1
duration: 700ms
warmup: 200ms
objective: throughput of a
workloads:
  - {name: a, kind: cpu-compute, args: [--threads, "2"]}
  - {name: b, kind: cpu-compute, args: [--threads, "2"]}
sweep:
  timeslice:
    nice: [{b: 0}, {b: 5}, {b: 10}]
YAML
"$COT" run "$WORK/ad.yaml" --out "$WORK/ad" -q 2>"$WORK/err" || fail "adaptive run: exit $?, $(cat "$WORK/err")"; ok
python3 - "$WORK/ad" <<'PY' || fail "adaptive repeats: $(json "$WORK/ad/run.json" 'd.get("adaptive")')"; ok "adaptive repeats drop the configuration clearly behind and stop before the cap"
import json, sys
d = sys.argv[1]
ad = json.load(open(d + "/run.json"))["adaptive"]
m = json.load(open(d + "/metrics.json"))
assert ad["segments_run"] < ad["segments_planned"] == 8 * (3 * 3 + 2), ad
assert ad["exhaustive_estimate_s"] > ad["wall_s"] > 0, ad
assert "timeslice.n0" in [x["mode"] for x in ad["dropped"]], ad
assert ad["stopped_after_repeat"] < 8, ad
assert m["recommendation"]["best"] == "timeslice.n10", m["recommendation"]
dropped = {x["mode"] for x in ad["dropped"]}
for mo in m["modes"]:  # the precision asked, reached by every configuration left
    if not mo["shares"] or mo["mode"] in dropped: continue
    for w in mo["workloads"]:
        np = w["normalized_progress_common"]
        assert (np["ci95_high"] - np["ci95_low"]) / 2 <= 0.1, (mo["mode"], w["name"], np)
plan = json.load(open(d + "/run.json"))["plan"]
skipped = [s for s in plan if s["status"] == "skipped"]
assert len(skipped) == ad["segments_planned"] - ad["segments_run"] and all(s["reason"] for s in skipped), skipped[:2]
PY
grep -q "^\*\*Time to answer\*\* (repeats: auto): .* segments planned; every repeat of every configuration would have taken about" "$WORK/ad/report.md" \
  && grep -q "^- timeslice.n0 was no longer run after repeat" "$WORK/ad/report.md" || fail "report: time to answer"; ok
grep -q "^| Measurement | .*, repeats: auto, at most 8, stopped after [3-7], order" "$WORK/ad/report.md" ||
  fail "report: $(grep Measurement "$WORK/ad/report.md")"; ok
# A run killed outright keeps "running" in run.json and its segments not run
# "pending": analysed later, they are left out as not run, never silently
# (only the run itself, between its repeats, counts them as not yet due).
cp -r "$WORK/ad" "$WORK/killed"
python3 - "$WORK/killed/run.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
r["status"] = "running"
for s in r["plan"]:
    if s["status"] == "skipped": s["status"] = "pending"; s.pop("reason", None)
json.dump(r, open(sys.argv[1], "w"))
PY
"$COT" analyze "$WORK/killed" >/dev/null || fail "analyze killed: exit $?"; ok
[ "$(json "$WORK/killed/metrics.json" 'sum(1 for x in d["excluded"] if x["reason"] == "not run") > 0')" = True ] \
  || fail "a killed run's pending segments: $(json "$WORK/killed/metrics.json" 'd["excluded"][:3]')"; ok
# the same scenario with a fixed number of repeats runs every segment
"$COT" run "$WORK/ad.yaml" --out "$WORK/fixed" --repeats 1 -q 2>/dev/null || fail "fixed: exit $?"; ok
[ "$(json "$WORK/fixed/run.json" '"adaptive" in d, "adaptive" in d["scenario"], len(d["plan"])')" = "(False, False, 11)" ] \
  || fail "--repeats 1 is a fixed plan"; ok
finish
