# Ctrl-C after the measuring, while the report is being written (a gnuplot
# that takes a second stands in for a slow plot): `cotenant report` and
# `cotenant run` finish their files, say they were interrupted, exit 1, and
# leave no .tmp file; before, they died with 130 and no report.
source "$(dirname "$0")/lib.sh"
real=$(command -v gnuplot) || { echo "gnuplot is missing: no plot to be slow" >&2; exit 77; }
mkdir "$WORK/bin"
cat > "$WORK/bin/gnuplot" <<SH
#!/bin/sh
touch "$WORK/plotting"
sleep 1
exec "$real" "\$@"
SH
chmod +x "$WORK/bin/gnuplot"
export PATH="$WORK/bin:$PATH"
interrupt_when_plotting() { # PID
  for _ in $(seq 200); do [ -e "$WORK/plotting" ] && break; sleep 0.05; done
  [ -e "$WORK/plotting" ] || fail "gnuplot never started"
  kill -INT "$1"
  set +e; wait "$1"; rc=$?; set -e
  rm -f "$WORK/plotting"
}
no_tmp() { ! find "$1" -name '*.tmp*' | grep -q .; }

cat > "$WORK/s.yaml" <<YAML
name: late
device: cpu
modes: [timeslice]
repeats: 1
warmup: 0.2s
duration: 1s
telemetry_interval: off
workloads:
  - {name: a, kind: cpu-compute, args: [--threads, "1"]}
  - {name: b, kind: cpu-compute, args: [--threads, "1"]}
YAML
"$COT" run -q "$WORK/s.yaml" --out "$WORK/r" >/dev/null 2>"$WORK/err" & pid=$!
interrupt_when_plotting $pid
[ $rc = 1 ] || fail "run interrupted while plotting: exit $rc ($(cat "$WORK/err"))"
[ -s "$WORK/r/report.md" ] && [ -s "$WORK/r/metrics.json" ] || fail "run: no report after the interrupt"
[ "$(json "$WORK/r/run.json" 'd["status"]')" = complete ] || fail "run.json: $(json "$WORK/r/run.json" 'd["status"]')"
no_tmp "$WORK/r" || fail "run: .tmp files left: $(find "$WORK/r" -name '*.tmp*')"
grep -q "interrupted after the measuring" "$WORK/err" || fail "run: no word of the interrupt: $(cat "$WORK/err")"
ok "cotenant run: SIGINT while plotting, report finished, exit 1, no .tmp"

rm -f "$WORK/r/report.md" "$WORK/r/plots"/*.png
"$COT" report "$WORK/r" >/dev/null 2>"$WORK/err" & pid=$!
interrupt_when_plotting $pid
[ $rc = 1 ] || fail "report interrupted: exit $rc ($(cat "$WORK/err"))"
[ -s "$WORK/r/report.md" ] || fail "report: no report.md after the interrupt"
no_tmp "$WORK/r" || fail "report: .tmp files left"
grep -q "the report was finished before stopping" "$WORK/err" || fail "report: $(cat "$WORK/err")"
ok "cotenant report: SIGINT while plotting, report finished, exit 1, no .tmp"
finish
