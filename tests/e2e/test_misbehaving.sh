# Workloads that misbehave while measured: one ignores SIGTERM (killed after
# the grace period), one stops reporting while alive, one closes its event
# descriptor mid-window, one writes 40 MiB to stdout. Each run's status and
# segment.json say so; the first two are flagged in metrics.json, the
# report and on stderr; the third fails; the chatty one's log is capped.
source "$(dirname "$0")/lib.sh"
W=$(cd "$(dirname "$0")" && pwd)/misbehaving_workload.py
cat > "$WORK/s.yaml" <<YAML
name: misbehaving
device: cpu
modes: [timeslice]
repeats: 1
warmup: 0.3s
duration: 3s
grace: 1s
telemetry_interval: off
workloads:
  - {name: ignorer, command: [python3, "$W", ignore]}
  - {name: staller, command: [python3, "$W", stall]}
  - {name: closer, command: [python3, "$W", close]}
  - {name: chatty, command: [python3, "$W", chatty]}
YAML
set +e; "$COT" run -q "$WORK/s.yaml" --out "$WORK/r" >/dev/null 2>"$WORK/err"; rc=$?; set -e
[ $rc = 1 ] || fail "exit $rc, expected 1 (the closer fails): $(cat "$WORK/err")"
seg() { json "$WORK/r/segments/$1/segment.json" "$2"; }
s=001-r1-timeslice-alone-ignorer
[ "$(seg $s 'd["results"]["ignorer"]["status"]')" = flagged ] || fail "ignorer: $(seg $s 'd["results"]["ignorer"]')"
seg $s '"killed with SIGKILL after the grace period" in d["results"]["ignorer"]["flags"][0]' | grep -q True || fail "ignorer's flag"
ok "a workload that ignored SIGTERM is flagged"
s=002-r1-timeslice-alone-staller
[ "$(seg $s 'd["results"]["staller"]["status"]')" = flagged ] || fail "staller: $(seg $s 'd["results"]["staller"]')"
seg $s '"reported no progress for" in d["results"]["staller"]["flags"][0]' | grep -q True || fail "staller's flag"
ok "a workload that stopped reporting is flagged: $(seg $s 'd["results"]["staller"]["flags"][0][:60]')"
s=003-r1-timeslice-alone-closer
[ "$(seg $s 'd["results"]["closer"]["status"]')" = failed ] || fail "closer: $(seg $s 'd["results"]["closer"]')"
seg $s '"closed its event descriptor" in d["results"]["closer"]["reason"]' | grep -q True || fail "closer's reason"
ok "a workload that closed its event descriptor mid-window fails"
s=004-r1-timeslice-alone-chatty
[ "$(seg $s 'd["results"]["chatty"]["status"]')" = ok ] || fail "chatty: $(seg $s 'd["results"]["chatty"]')"
size=$(stat -c %s "$WORK/r/segments/$s/chatty/stdout.log")
[ "$size" -le $(( 9 * 1048576 + 200 )) ] || fail "stdout.log is $size bytes"
[ "$(seg $s 'd["results"]["chatty"]["logs"]["stdout"]["dropped"]')" = $(( 31 * 1048576 )) ] || fail "dropped: $(seg $s 'd["results"]["chatty"]["logs"]')"
grep -q "^\[cotenant: 32505856 bytes dropped here" "$WORK/r/segments/$s/chatty/stdout.log" || fail "no dropped-bytes line"
ok "40 MiB of stdout kept as $size bytes, 31 MiB dropped and said so"
[ "$(json "$WORK/r/metrics.json" 'sorted(set(x["workload"] for x in d["flagged"]))')" = "['ignorer', 'staller']" ] ||
  fail "metrics.json flagged: $(json "$WORK/r/metrics.json" 'd["flagged"]')"
grep -q "Figures flagged" "$WORK/r/report.md" || fail "the report does not flag them"
grep -q "are flagged as doubtful" "$WORK/err" || fail "no warning on stderr: $(cat "$WORK/err")"
ok "flagged figures are in metrics.json, the report and on stderr"
finish
