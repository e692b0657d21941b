# cotenant-loadgen as a client of any KServe v2 server: a model with three
# inputs (FP32, INT64 with a variable dimension given by --shape, BYTES),
# a server named by host name (localhost: each of its addresses tried)
# under a path prefix, answering with chunked bodies; every request it
# sends is checked byte by byte by the server (kserve_three_inputs.py).
source "$(dirname "$0")/lib.sh"
LG=$BIN/cotenant-loadgen
python3 "$COTENANT_SOURCE_DIR/tests/e2e/kserve_three_inputs.py" /kserve/gw >"$WORK/server.out" 2>"$WORK/server.err" &
spid=$!
for _ in $(seq 100); do [ -s "$WORK/server.out" ] && break; sleep 0.05; done
PORT=$(head -1 "$WORK/server.out")
[ -n "$PORT" ] || fail "the test server did not start: $(cat "$WORK/server.err")"
"$LG" --url "http://localhost:$PORT/kserve/gw/" --model m3 --shape ids:3 --batch 2 --rate 200 --duration 1s --warmup 0.2s \
  >"$WORK/lg.out" 2>"$WORK/lg.err" || fail "loadgen: $(cat "$WORK/lg.out" "$WORK/lg.err")"
ok "it drove the three-input model by host name"
grep -q "against localhost:$PORT/kserve/gw model 'm3' (dense FP32 \[2,4\], ids INT64 \[2,3\], text BYTES \[2,1\], binary)" "$WORK/lg.out" \
  || fail "summary: $(head -1 "$WORK/lg.out")"; ok
kill -TERM $spid; wait $spid
counts=$(tail -1 "$WORK/server.out")
sent=$(tail -1 "$WORK/lg.out" | python3 -c 'import json,sys; print(json.load(sys.stdin)["sent"])')
ok200=$(tail -1 "$WORK/lg.out" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["ok"], d["http_errors"], d["io_errors"], d["latency_ms"]["p95"] > 0)')
python3 -c 'import json,sys; c=json.loads(sys.argv[1]); sys.exit(0 if c["invalid"] == 0 and c["valid"] > 100 else 1)' "$counts" \
  || fail "the server found invalid requests: $counts"; ok "every request valid: $counts"
# the measured ones are a part of what was sent (the warm-up's too)
read -r n_ok n_http n_io p95 <<<"$ok200"
[ "$n_http" = 0 ] && [ "$n_io" = 0 ] && [ "$n_ok" -gt 150 ] && [ "$p95" = True ] \
  || fail "answers: ok $n_ok, HTTP errors $n_http, connection errors $n_io, p95 given $p95"; ok "$n_ok answered 200 through chunked bodies, p95 reported"
# a name that does not resolve, and a variable dimension not given, each say so
"$LG" --url http://no-such-host.invalid:8000 --model m3 --wait-ready 1s >"$WORK/o" 2>&1 && fail "an unknown host passed"
grep -q "cannot resolve 'no-such-host.invalid'" "$WORK/o" || fail "unknown host: $(cat "$WORK/o")"; ok
python3 "$COTENANT_SOURCE_DIR/tests/e2e/kserve_three_inputs.py" "" >"$WORK/server2.out" 2>&1 &
spid=$!
for _ in $(seq 100); do [ -s "$WORK/server2.out" ] && break; sleep 0.05; done
"$LG" --url "127.0.0.1:$(head -1 "$WORK/server2.out")" --model m3 --duration 1s >"$WORK/o" 2>&1 && fail "no --shape passed"
grep -q "input 'ids' has a variable dimension (1 of its shape): give it with --shape ids:" "$WORK/o" || fail "no --shape: $(cat "$WORK/o")"; ok
# a sweep, as perf_analyzer's --concurrency-range, its rows in perf_analyzer's CSV columns
"$LG" --url "127.0.0.1:$(head -1 "$WORK/server2.out")" --model m3 --shape ids:3 --sweep concurrency=1:3 --duration 0.5s \
  --warmup 0.1s -f "$WORK/sweep.csv" >"$WORK/o" 2>&1 || fail "sweep: $(cat "$WORK/o")"
[ "$(grep -c '^{' "$WORK/o")" = 3 ] || fail "a JSON line per point expected: $(cat "$WORK/o")"; ok
head -1 "$WORK/sweep.csv" | grep -qx "Concurrency,Inferences/Second,Requests/Second,p50 latency,p90 latency,p95 latency,p99 latency,Avg latency,Errors" \
  || fail "CSV header: $(head -1 "$WORK/sweep.csv")"; ok
[ "$(cut -d, -f1 "$WORK/sweep.csv" | tail -n +2 | tr '\n' ' ')" = "1 2 3 " ] || fail "CSV rows: $(cat "$WORK/sweep.csv")"; ok
awk -F, 'NR > 1 && ($2 <= 0 || $9 != 0 || $4 <= 0) { bad = 1 } END { exit bad }' "$WORK/sweep.csv" || fail "CSV values: $(cat "$WORK/sweep.csv")"; ok
rc=0; "$LG" --url "127.0.0.1:1" --model m3 --sweep rate=0:5 >"$WORK/o" 2>&1 || rc=$?
[ $rc = 2 ] && grep -q "expected rate=START:END" "$WORK/o" \
  || fail "a bad sweep: $(cat "$WORK/o")"; ok
kill -TERM $spid; wait $spid
finish
