#!/usr/bin/env bash
# cotenant-serve and cotenant-loadgen together on loopback: the server's
# protocol conformance, batching, overload and drain (serve_conformance.py),
# then the load generator's schedule accuracy at a fixed rate, its refusal to
# hide a stalled server's delay, its events, and its errors.
source "$(dirname "$0")/lib.sh"
HERE=$(cd "$(dirname "$0")" && pwd)
python3 "$HERE/serve_conformance.py" "$BIN" || fail "server conformance"; ok

start_server() { # flags...; sets PORT and SPID
  "$BIN/cotenant-serve" --listen 127.0.0.1:0 "$@" >"$WORK/serve.out" 2>&1 &
  SPID=$!
  for _ in $(seq 100); do
    PORT=$(sed -n 's|.*:\([0-9]*\)/v2 .*|\1|p' "$WORK/serve.out") && [ -n "$PORT" ] && return 0
    sleep 0.05
  done
  fail "server did not start: $(cat "$WORK/serve.out")"
}
summary() { tail -1 "$1"; }

# Schedule accuracy: 500 requests a second, constant gaps, 3 s measured.
start_server --max-batch 8 --max-queue-delay 0
COTENANT_EVENTS_FD=3 "$BIN/cotenant-loadgen" --url "127.0.0.1:$PORT" --model mlp --rate 500 --arrival constant --duration 3s --warmup 1s \
  --slo 50ms 3>"$WORK/events.jsonl" >"$WORK/lg.out" 2>&1 || { cat "$WORK/lg.out"; fail "loadgen at 500/s"; }
cat "$WORK/lg.out"
summary "$WORK/lg.out" >"$WORK/lg.json"
[ "$(json "$WORK/lg.json" 'd["due"]')" = 1500 ] || fail "1500 requests due in 3 s at 500/s"; ok
[ "$(json "$WORK/lg.json" 'd["ok"]')" = 1500 ] || fail "all 1500 answered"; ok
json "$WORK/lg.json" 'abs(d["achieved_per_s"] / 500 - 1) < 0.02' | grep -q True || fail "achieved rate within 2% of 500/s"; ok
json "$WORK/lg.json" 'd["slo_attainment"] > 0.9' | grep -q True || fail "SLO attainment on an idle server"; ok
lag=$(json "$WORK/lg.json" 'd["send_lag_us"]["p99"]')
echo "loadgen send-time error at 500 req/s: p99 ${lag} us"
# generous: CI machines are shared and this build may run under AddressSanitizer
json "$WORK/lg.json" 'd["send_lag_us"]["p99"] < 20000' | grep -q True || fail "send-time error p99 ${lag} us"; ok
# one latency event per measured request, between start and end
[ "$(grep -c '"ev":"latency"' "$WORK/events.jsonl")" = 1500 ] || fail "1500 latency events"; ok
head -1 "$WORK/events.jsonl" | grep -q '"ev":"start".*"unit":"requests"' || fail "start event"; ok
tail -1 "$WORK/events.jsonl" | grep -q '"ev":"end"' || fail "end event"; ok
kill -TERM $SPID; wait $SPID || fail "server exit status after SIGTERM"; ok
grep -q "served 2000 requests" "$WORK/serve.out" || fail "server counted warm-up and measured requests: $(tail -1 "$WORK/serve.out")"; ok

# A stalled server: 5 answers a second against 20 asked. Latency counts from
# each request's scheduled time, so it grows with the backlog rather than
# staying at one service time (coordinated omission).
start_server --max-batch 1 --batch-time 200ms --max-queue-delay 0
"$BIN/cotenant-loadgen" --url "127.0.0.1:$PORT" --model mlp --rate 20 --arrival constant --duration 2s --warmup 0 \
  --concurrency 64 --timeout 30s >"$WORK/slow.out" 2>&1 || fail "late answers are not failures"; ok
summary "$WORK/slow.out" >"$WORK/slow.json"
cat "$WORK/slow.out"
json "$WORK/slow.json" 'd["latency_ms"]["p99"] > 1000' | grep -q True || fail "p99 shows the backlog (> 1 s)"; ok
json "$WORK/slow.json" 'd["latency_ms"]["p50"] > 500' | grep -q True || fail "p50 shows the backlog (> 0.5 s)"; ok
kill -TERM $SPID; wait $SPID || true

# Closed loop: every client keeps one request out.
start_server --max-batch 16
"$BIN/cotenant-loadgen" --url "127.0.0.1:$PORT" --model mlp --mode closed --concurrency 4 --duration 1s --warmup 0.2s \
  --format json >"$WORK/closed.out" 2>&1 || { cat "$WORK/closed.out"; fail "closed loop"; }
summary "$WORK/closed.out" >"$WORK/closed.json"
json "$WORK/closed.json" 'd["ok"] > 100 and d["http_errors"] == 0' | grep -q True || fail "closed loop answered"; ok
kill -TERM $SPID; wait $SPID || true

# Errors: nobody listening (exit 1, says where), bad flags (exit 2).
"$BIN/cotenant-loadgen" --url "127.0.0.1:$PORT" --model mlp --wait-ready 0.3s >"$WORK/down.out" 2>&1 && fail "no server"
grep -q "not ready" "$WORK/down.out" || fail "says the server is not ready: $(cat "$WORK/down.out")"; ok
set +e
"$BIN/cotenant-loadgen" --model mlp --mode sideways >/dev/null 2>&1; [ $? = 2 ] || fail "bad --mode exits 2"; ok
"$BIN/cotenant-loadgen" --url https://example.com:443 --model mlp >/dev/null 2>&1; [ $? = 2 ] || fail "bad --url exits 2"; ok
"$BIN/cotenant-serve" --listen 1.2.3.4.5:80 >/dev/null 2>&1; [ $? = 2 ] || fail "bad --listen exits 2"; ok
"$BIN/cotenant-serve" --model nope --listen 127.0.0.1:0 >/dev/null 2>&1; [ $? = 2 ] || fail "unknown model exits 2"; ok
msg=$("$BIN/cotenant-serve" --model mlp --input-dtype UINT8 --listen 127.0.0.1:0 2>&1); [ $? = 2 ] || fail "UINT8 for mlp exits 2"; ok
case $msg in *"takes FP32 only"*) ;; *) fail "UINT8 for mlp says why: $msg" ;; esac
"$BIN/cotenant-serve" --input-dtype FP64 >/dev/null 2>&1; [ $? = 2 ] || fail "bad --input-dtype exits 2"; ok
set -e
finish
