# The report's recommendation rules on hand-made metrics: scores within 0.1%
# tie, one repeat is said to be possibly noise, overlapping intervals are
# called within noise, and a clear winner is named.
source "$(dirname "$0")/lib.sh"
make_run() { # DIR STP_A CI_A STP_B CI_B (CI: half-width, or "none")
  mkdir -p "$1"
  python3 - "$@" <<'PY'
import json, sys
d, sa, ca, sb, cb = sys.argv[1:]
def summ(m, c):
    s = {"mean": float(m), "n": 1 if c == "none" else 3}
    if c != "none":
        s.update(ci95_low=float(m) - float(c), ci95_high=float(m) + float(c))
    return s
modes = [{"mode": name, "shares": True, "workloads": [], "repeats_complete": 1,
          "stp": summ(s, c), "antt": summ(1 / float(s), c), "jain": summ(0.9, "none")}
         for name, s, c in (("timeslice", sa, ca), ("mps", sb, cb))]
json.dump({"scenario": {"name": "rules", "modes": ["timeslice", "mps"], "workloads": []}, "status": "complete"},
          open(f"{d}/run.json", "w"))
json.dump({"modes": modes, "timeseries": [], "gpu_timeseries": [], "latency_cdf": [], "excluded": [], "failures": []},
          open(f"{d}/metrics.json", "w"))
PY
  "$COT" report "$1" >/dev/null 2>&1 || fail "report $1: exit $?"; ok
  grep "Highest system throughput" "$1/report.md"
}
line=$(make_run "$WORK/tie" 1.2000 none 1.2005 none)
[[ $line == *"mps and timeslice tie (1.2 and 1.2)"* ]] || fail "within 0.1%: $line"; ok
line=$(make_run "$WORK/one" 1.20 none 1.30 none)
[[ $line == *"mps (1.3 against timeslice 1.2); one repeat gives no interval"* ]] || fail "one repeat: $line"; ok
line=$(make_run "$WORK/overlap" 1.20 0.08 1.30 0.08)
[[ $line == *"the 95% intervals overlap"* ]] || fail "overlap: $line"; ok
line=$(make_run "$WORK/clear" 1.20 0.02 1.30 0.02)
[[ $line == *"mps (1.3 against timeslice 1.2)."* ]] || fail "clear winner: $line"; ok
finish
