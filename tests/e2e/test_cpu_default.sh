# The CPU default end to end: results folder, metrics in range, report and PNGs.
source "$(dirname "$0")/lib.sh"
"$COT" run -q --out "$WORK/r" --duration 2 --warmup 0.5 --repeats 2 || fail "run exited $?"; ok
for f in run.json metrics.json summary.csv report.md plots/normalized_progress.png plots/normalized_progress.gp plots/normalized_progress.dat; do
  [ -s "$WORK/r/$f" ] || fail "missing $f"; ok
done
[ "$(json "$WORK/r/run.json" 'd["status"]')" = complete ] || fail "status not complete"; ok
[ "$(ls -d "$WORK"/r/segments/0*-r*-timeslice-* | wc -l)" = 6 ] || fail "expected 6 segments"; ok
json "$WORK/r/metrics.json" 'all(0.2 < w["normalized_progress"]["mean"] < 1.1 for w in d["modes"][0]["workloads"])' | grep -q True \
  || fail "normalized progress out of range"; ok
json "$WORK/r/metrics.json" '0.5 < d["modes"][0]["stp"]["mean"] < 2.2' | grep -q True || fail "STP out of range"; ok
grep -q "CPU default" "$WORK/r/report.md" || fail "report not labelled as the CPU default"; ok
"$COT" analyze "$WORK/r" >/dev/null && "$COT" report "$WORK/r" >/dev/null || fail "analyze/report rerun failed"; ok
finish
