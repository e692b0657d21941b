#!/usr/bin/env bash
# A notebook user next to a CPU-bound neighbour: cotenant measures its cells'
# latency alone and shared, in cells.
source "$(dirname "$0")/lib.sh"
cat >"$WORK/s.yaml" <<'YAML'
name: notebook
device: cpu
modes: [timeslice]
repeats: 1
workloads:
  - name: notebook
    kind: interactive-cpu
    args: [--think, 20ms, --max-size, "2048"]
  - name: burner
    kind: cpu-compute
YAML
"$COT" run "$WORK/s.yaml" --out "$WORK/r" --duration 2s --warmup 0.2s -q || fail "run failed"; ok
M=$WORK/r/metrics.json
nb='[x for x in d["modes"][0]["workloads"] if x["name"] == "notebook"][0]'
json "$M" "$nb[\"unit\"]" | grep -q cells || fail "unit cells"; ok
json "$M" "$nb[\"latency_ms\"][\"alone\"][\"p95\"][\"value\"] > 0 and $nb[\"latency_ms\"][\"shared\"][\"p95\"][\"value\"] > 0" \
  | grep -q True || fail "cell latency alone and shared: $(json "$M" "$nb")"; ok
# about 80 cells in 2 s: too few for a p99, which says so rather than guess
json "$M" "$nb[\"latency_ms\"][\"shared\"][\"p99\"][\"n\"] < 100 and $nb[\"latency_ms\"][\"shared\"][\"p99\"][\"value\"] is None" \
  | grep -q True || fail "p99 of under 100 cells: $(json "$M" "$nb[\"latency_ms\"]")"; ok
grep -q "n too small" "$WORK/r/report.md" || fail "the report says n too small"; ok
grep -q "| notebook | cells |" "$WORK/r/report.md" || fail "report row"; ok
set +e
"$BIN/cotenant-interactive" --device gpu >/dev/null 2>&1; [ $? = 2 ] || fail "bad --device exits 2"; ok
set -e
finish
