# The report's recommendation rules on hand-made metrics: a winner is named
# only where its 95% interval separates from the runner-up's, or where the
# runner-up has none (which is said); scores within 0.1% or with overlapping
# intervals cannot be told apart, with the repeats that would likely
# separate them (5 for these: t(0.975, 4) x 0.0644 / sqrt(5) = 0.080 < 0.1).
source "$(dirname "$0")/lib.sh"
make_run() { # DIR STP_A CI_A STP_B CI_B [STP_C CI_C] (CI: half-width, or "none"); modes timeslice, mps, mig
  mkdir -p "$1"
  python3 - "$@" <<'PY'
import json, sys
d, figs = sys.argv[1], sys.argv[2:]
def summ(m, c):
    s = {"mean": float(m), "n": 1 if c == "none" else 3}
    if c != "none":  # three repeats: half-width = t(0.975, 2) sd / sqrt(3)
        s.update(ci95_low=float(m) - float(c), ci95_high=float(m) + float(c), stddev=float(c) * 3 ** 0.5 / 4.303)
    return s
modes = [{"mode": name, "shares": True, "workloads": [], "repeats_complete": 1,
          "stp": summ(s, c), "antt": summ(1 / float(s), c), "jain": summ(0.9, "none")}
         for name, s, c in zip(("timeslice", "mps", "mig"), figs[0::2], figs[1::2])]
json.dump({"scenario": {"name": "rules", "modes": [m["mode"] for m in modes], "workloads": []}, "status": "complete"},
          open(f"{d}/run.json", "w"))
json.dump({"modes": modes, "timeseries": [], "gpu_timeseries": [], "latency_cdf": [], "excluded": [], "failures": []},
          open(f"{d}/metrics.json", "w"))
PY
  "$COT" report "$1" >/dev/null 2>&1 || fail "report $1: exit $?"; ok
  grep "Highest system throughput" "$1/report.md"
}
line=$(make_run "$WORK/tie" 1.2000 none 1.2005 none)
[[ $line == *"mps 1.2 and timeslice 1.2 cannot be told apart: they are within 0.1% of each other"* ]] || fail "within 0.1%: $line"; ok
line=$(make_run "$WORK/one" 1.20 none 1.30 none)
[[ $line == *"mps (1.3 against timeslice 1.2); timeslice has no interval (one repeat"* ]] || fail "one repeat: $line"; ok
line=$(make_run "$WORK/overlap" 1.20 0.08 1.30 0.08)
[[ $line == *"mps 1.3 [1.22, 1.38] and timeslice 1.2 [1.12, 1.28] cannot be told apart: their 95% intervals overlap; about 5 repeats would likely separate mps from timeslice"* ]] || fail "overlap: $line"; ok
[[ $line != *"mps ("* ]] || fail "overlap names no winner: $line"; ok
line=$(make_run "$WORK/clear" 1.20 0.02 1.30 0.02)
[[ $line == *"mps (1.3 [1.28, 1.32] against timeslice 1.2 [1.18, 1.22]; the 95% intervals do not overlap)."* ]] || fail "clear winner: $line"; ok
# two within 0.1% of each other, and a third whose interval the best one's clears: not one of them
line=$(make_run "$WORK/tie3" 1.3000 0.02 1.3005 0.02 1.0 0.02)
[[ $line == *"mps 1.3 [1.28, 1.321] and timeslice 1.3 [1.28, 1.32] cannot be told apart: they are within 0.1% of each other"* ]] \
  && [[ $line != *"mig"* ]] || fail "tie of two beside a third: $line"; ok
finish
