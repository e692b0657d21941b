# No process outlives a run: a workload that leaves a chain of setsid'd
# shells and a double-forked sleeper behind, in a run that completes; and
# the same workloads when cotenant itself is SIGKILLed mid-segment. After
# each, no process carrying the test's mark is left.
source "$(dirname "$0")/lib.sh"
left() { grep -lsz -F "TEST_MARK=$WORK" /proc/[0-9]*/environ 2>/dev/null | wc -l || true; }
wait_none() { for _ in $(seq 50); do [ "$(left)" = 0 ] && return 0; sleep 0.1; done; return 1; }
# setsid chain three deep, and a double fork; the workload itself ends at once
leaver='setsid sh -c "sh -c \"sleep 777; :\"; :" & (sleep 778 &) ; sleep 0.3'
cat > "$WORK/s.yaml" <<YAML
name: orphans
device: cpu
modes: [timeslice]
repeats: 1
warmup: 0.2s
duration: 1s
telemetry_interval: off
workloads:
  - name: leaver
    command: [sh, -c, '$leaver']
    measure: wall_time
    env: {TEST_MARK: "$WORK"}
YAML
"$COT" run -q "$WORK/s.yaml" --out "$WORK/r" >/dev/null 2>"$WORK/err" || fail "run: exit $? ($(cat "$WORK/err"))"
[ "$(json "$WORK/r/run.json" 'd["status"]')" = complete ] || fail "status $(json "$WORK/r/run.json" 'd["status"]')"
wait_none || fail "$(left) processes outlived a complete run: $(grep -lsz -F "TEST_MARK=$WORK" /proc/[0-9]*/environ)"
json "$WORK/r/segments/001-r1-timeslice-alone-leaver/segment.json" \
  'any("escaped the workloads" in w for w in d.get("warnings", []))' | grep -q True || fail "the segment does not say it killed strays"
ok "setsid chain and double fork: 0 left after a complete run, and the segment says so"

# SIGKILL to cotenant: a long workload that leaves the same behind, and a
# sleeper with an empty environment in a session of its own (only a cgroup
# finds that one), then keeps running
hidden=780.$RANDOM
cat > "$WORK/k.yaml" <<YAML
name: killed
device: cpu
modes: [timeslice]
repeats: 1
warmup: 0.2s
duration: 20s
telemetry_interval: off
workloads:
  - name: leaver
    command: [sh, -c, '$leaver; env -i setsid sleep $hidden & sleep 779']
    measure: wall_time
    env: {TEST_MARK: "$WORK"}
YAML
"$COT" run -q "$WORK/k.yaml" --out "$WORK/k" >/dev/null 2>&1 & pid=$!
for _ in $(seq 50); do [ "$(left)" -ge 4 ] && break; sleep 0.1; done
n=$(left)
[ "$n" -ge 4 ] || fail "the workload's processes did not start ($n)"
kill -KILL $pid
set +e; wait $pid; set -e
wait_none || fail "$(left) of $n processes outlived SIGKILL to cotenant"
ok "SIGKILL to cotenant: 0 of $n marked processes left"
tracking=$(json "$WORK/k/run.json" 'd["process_tracking"]')
if [[ $tracking == cgroup* ]]; then
  for _ in $(seq 50); do pgrep -f "sleep $hidden" >/dev/null || break; sleep 0.1; done
  ! pgrep -f "sleep $hidden" >/dev/null || fail "a process with no environment mark outlived SIGKILL despite $tracking"
  ok "with $tracking, the unmarked sleeper is gone too"
else
  pkill -f "sleep $hidden" || true
  echo "no cgroup here ($tracking): an unmarked process in its own session escapes a SIGKILLed cotenant"
fi
finish
