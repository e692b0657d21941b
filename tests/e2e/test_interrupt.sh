# SIGKILL to a workload mid-segment, then SIGINT to cotenant: the failure is
# recorded, finished segments stay, the folder is marked interrupted, no
# orphans, grandchildren in sessions of their own included.
source "$(dirname "$0")/lib.sh"
# Other runs may share this host: the victim is found among cotenant's own
# children, and leftovers by a mark in their environment.
cat > "$WORK/s.yaml" <<YAML
name: intr
device: cpu
duration: 4s
warmup: 0.5s
repeats: 3
workloads:
  - name: victim
    command: [$BIN/cotenant-cpu-burn, --loop, compute, --threads, "1", --duration, "0"]
    env: {TEST_MARK: "$WORK"}
  - name: other
    command: [sh, -c, 'setsid sleep 777 & (sleep 778 &); exec $BIN/cotenant-cpu-burn --loop membw --threads 1']
    env: {TEST_MARK: "$WORK"}
YAML
"$COT" run -q "$WORK/s.yaml" --out "$WORK/r" & pid=$!
sleep 2
vpid=$(pgrep -P $pid -f "cotenant-cpu-burn --loop compute --threads 1" | head -1)
[ -n "$vpid" ] || fail "no victim to kill"; ok
kill -KILL "$vpid" 2>/dev/null || true
for _ in $(seq 100); do ls -d "$WORK"/r/segments/003-* >/dev/null 2>&1 && break; sleep 0.2; done
sleep 1
kill -INT $pid
set +e; wait $pid; rc=$?; set -e
[ $rc = 1 ] || fail "exit code $rc, expected 1"; ok
[ "$(json "$WORK/r/run.json" 'd["status"]')" = interrupted ] || fail "status not interrupted"; ok
json "$WORK/r/run.json" 'any(f["workload"]=="victim" and "signal 9" in f["reason"] for f in d["failures"])' | grep -q True \
  || fail "the killed workload is not recorded"; ok
[ -s "$WORK/r/segments/002-r1-timeslice-alone-other/segment.json" ] || fail "finished segment lost"; ok
sleep 0.5
left=$(grep -lsz -F "TEST_MARK=$WORK" /proc/[0-9]*/environ || true)
[ -z "$left" ] || fail "orphan workload processes: $left"; ok
[ -s "$WORK/r/report.md" ] || fail "no report for the interrupted run"; ok
finish
