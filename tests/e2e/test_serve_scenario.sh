#!/usr/bin/env bash
# A scenario with a server and the load generator that drives it, next to a
# CPU neighbour: cotenant starts the server first on a port it picks, waits
# for it, points the load generator at it, measures the client's latency and
# SLO, and counts the pair once in the system figures. Then a server that
# never comes up: both fail with the reason, the run exits 1.
source "$(dirname "$0")/lib.sh"
cat >"$WORK/s.yaml" <<'YAML'
name: served
device: cpu
modes: [timeslice]
repeats: 1
workloads:
  - name: server
    kind: serve-cpu
    args: [--max-batch, "8"]
  - name: client
    kind: loadgen
    target: server
    args: [--rate, "200", --arrival, constant]
    slo: 50ms
  - name: burner
    kind: cpu-compute
    args: [--threads, "1"]
YAML
"$COT" run "$WORK/s.yaml" --out "$WORK/r" --duration 2s --warmup 0.5s -q || fail "run failed"; ok
R=$WORK/r
ls "$R/segments" | tr '\n' ' '
[ -d "$R/segments/001-r1-timeslice-alone-client/server" ] || fail "the server runs in its client's alone segment"; ok
[ ! -e "$R/segments/002-r1-timeslice-alone-server" ] || fail "a server is not a plan unit"; ok
seg=$R/segments/001-r1-timeslice-alone-client
json "$seg/segment.json" '" ".join(d["results"]["client"]["argv"])' | grep -q -- "--url http://127.0.0.1:[0-9]* --model mlp --duration 0" \
  || fail "the client is pointed at its server: $(json "$seg/segment.json" 'd["results"]["client"]["argv"]')"; ok
port=$(json "$seg/segment.json" '[a for a in d["results"]["server"]["argv"] if a.startswith("127.0.0.1:")][0]')
grep -q "$port/v2" "$seg/server/stdout.log" || fail "the server listened on the port cotenant gave it ($port)"; ok
M=$R/metrics.json
mode='d["modes"][0]'
w() { echo "[x for x in $mode[\"workloads\"] if x[\"name\"] == \"$1\"][0]"; }
tp=$(json "$M" "$(w client)[\"shared_throughput\"][\"mean\"]")
json "$M" "abs($(w client)[\"shared_throughput\"][\"mean\"] / 200 - 1) < 0.05" | grep -q True || fail "client throughput $tp, expected about 200 requests/s"; ok
json "$M" "$(w client)[\"unit\"]" | grep -q requests || fail "unit requests"; ok
json "$M" "$(w client)[\"latency_ms\"][\"shared\"][\"p99\"][\"value\"] > 0" | grep -q True || fail "shared p99 latency"; ok
json "$M" "$(w client)[\"slo_attainment\"][\"shared\"][\"mean\"] > 0.5" | grep -q True || fail "SLO attainment: $(json "$M" "$(w client)")"
# STP sums the two units (client, burner): the server is not counted again
json "$M" "abs($mode[\"stp\"][\"mean\"] - $(w client)[\"normalized_progress\"][\"mean\"] - $(w burner)[\"normalized_progress\"][\"mean\"]) < 1e-6" \
  | grep -q True || fail "STP counts the client and burner only"; ok
grep -q "| client | requests |" "$R/report.md" || fail "report row for the client"; ok

# The recommendation: the scenario's objective (STP, no constraints) in
# metrics.json and the report; `cotenant advise` asks again with SLOs,
# another objective, or as JSON, and exits 1 where nothing meets them.
[ "$(json "$M" 'd["recommendation"]["best"], d["recommendation"]["verdict"]')" = "('timeslice', 'best')" ] \
  || fail "recommendation: $(json "$M" 'd["recommendation"]')"; ok
grep -q "^\*\*For stp\*\*: timeslice" "$R/report.md" || fail "report: $(grep -A2 '## Recommendation' "$R/report.md")"; ok
set +e
"$COT" advise "$R" --slo client:p99=0.001ms >"$WORK/adv" 2>&1; rc=$?
set -e
[ $rc = 1 ] && grep -q "no configuration meets every constraint; the closest is timeslice (client p99 .* ms > 0.001 ms)" "$WORK/adv" \
  && grep -q "^- timeslice left out: client p99" "$WORK/adv" || fail "advise, tight SLO: exit $rc, $(cat "$WORK/adv")"; ok
"$COT" advise "$R" --slo client:p99=10s --slo client:p50=10s --min-np burner=0.01 --json >"$WORK/adv.json" \
  || fail "advise, loose SLO: exit $?"; ok
python3 - "$WORK/adv.json" <<'PY' || fail "advise --json: $(cat "$WORK/adv.json")"; ok
import json, sys
r = json.load(open(sys.argv[1]))
assert r["verdict"] == "best" and r["best"] == "timeslice" and r["configurations"][0]["meets"], r
assert r["constraints"] == ["client p99 <= 10000 ms", "client p50 <= 10000 ms", "burner NP >= 0.01"], r["constraints"]
PY
"$COT" advise "$R" --slo client:p99=50ms:0.5 --objective "throughput of burner" >"$WORK/adv" \
  && grep -q "^\*\*For throughput of burner, given client p99 <= 50 ms and 0.5 of requests within it\*\*: timeslice" "$WORK/adv" \
  || fail "advise, attainment at the run's slo: $(cat "$WORK/adv")"; ok
for bad in "--slo client:p99=20ms:0.99" "--objective speed" "--slo nobody:p99=1s" "--min-np client"; do
  set +e; "$COT" advise "$R" $bad >/dev/null 2>"$WORK/err"; rc=$?; set -e
  [ $rc = 2 ] || fail "advise $bad: exit $rc, $(cat "$WORK/err")"; ok
  case $bad in *0.99) grep -q "counted client's requests against its slo, not 20 ms" "$WORK/err" || fail "why: $(cat "$WORK/err")" ;; esac
done

# a server that exits at once: it and its client fail with the reason
sed -e 's/args: \[--max-batch, "8"\]/args: [--model, nope]/' "$WORK/s.yaml" >"$WORK/bad.yaml"
set +e
"$COT" run "$WORK/bad.yaml" --out "$WORK/r2" --duration 1s -q 2>"$WORK/err"
rc=$?
set -e
[ $rc = 1 ] || fail "exit $rc with a server that never came up"; ok
json "$WORK/r2/segments/001-r1-timeslice-alone-client/segment.json" 'd["results"]["server"]["reason"]' | grep -q "exited before it was ready" \
  || fail "server reason: $(cat "$WORK/r2/segments/001-r1-timeslice-alone-client/segment.json")"; ok
json "$WORK/r2/segments/001-r1-timeslice-alone-client/segment.json" 'd["results"]["client"]["reason"]' | grep -q "its server 'server' did not come up" \
  || fail "client reason"; ok
# A server with a --listen of its own keeps it, and cotenant waits there:
# 0.0.0.0 is warned about (every interface), port 0 and an address not on
# loopback are refused with the args' line.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat >"$WORK/l.yaml" <<YAML
name: listen
device: cpu
modes: [timeslice]
repeats: 1
workloads:
  - name: server
    kind: serve-cpu
    args: [--listen, "0.0.0.0:$port"]
  - name: client
    kind: loadgen
    target: server
    args: [--rate, "100"]
YAML
"$COT" run "$WORK/l.yaml" --out "$WORK/l" --duration 1s --warmup 0.3s -q 2>"$WORK/err" || fail "own --listen: $(cat "$WORK/err")"
grep -q "l.yaml:8:11: workload server listens on 0.0.0.0:$port, every interface.*cotenant waits for it on 127.0.0.1:$port" "$WORK/err" ||
  fail "no warning for 0.0.0.0: $(cat "$WORK/err")"
seg=$WORK/l/segments/001-r1-timeslice-alone-client
grep -q "0.0.0.0:$port/v2" "$seg/server/stdout.log" || fail "the server did not keep its --listen: $(head -2 "$seg/server/stdout.log")"
[ "$(json "$seg/segment.json" 'd["results"]["client"]["status"]')" = ok ] || fail "the client did not reach it"
ok "a server's own --listen 0.0.0.0:$port is kept, warned about, and waited for on 127.0.0.1"
sed -i "s/0.0.0.0:$port/127.0.0.1:0/" "$WORK/l.yaml"
set +e; "$COT" run "$WORK/l.yaml" --plan >/dev/null 2>"$WORK/err"; rc=$?; set -e
[ $rc = 2 ] && grep -q "l.yaml:8:11: workload server: --listen with port 0" "$WORK/err" || fail "port 0: exit $rc, $(cat "$WORK/err")"
sed -i "s/127.0.0.1:0/10.1.2.3:$port/" "$WORK/l.yaml"
set +e; "$COT" run "$WORK/l.yaml" --plan >/dev/null 2>"$WORK/err"; rc=$?; set -e
[ $rc = 2 ] && grep -q "is not reachable on 127.0.0.1" "$WORK/err" || fail "10.1.2.3: exit $rc, $(cat "$WORK/err")"
ok "--listen with port 0 or beyond loopback is refused at file:line:col"
finish
