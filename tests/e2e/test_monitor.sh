# cotenant monitor against the NVML test double: files, the Prometheus
# endpoint, the terminal view, stopping by signal, and the errors.
source "$(dirname "$0")/lib.sh"
[ -f "${COTENANT_NVML_DOUBLE:-}" ] || fail "COTENANT_NVML_DOUBLE does not name the test double"; ok
export COTENANT_NVML_LIBRARY=$COTENANT_NVML_DOUBLE COTENANT_NVML_DOUBLE_GPUS=2

# No driver: one sentence, exit 1.
set +e
COTENANT_NVML_LIBRARY=$WORK/none.so "$COT" monitor --csv "$WORK/x.csv" --duration 1s 2>"$WORK/err"; rc=$?
set -e
[ $rc = 1 ] || fail "no driver: exit $rc"; ok
grep -q "could not be loaded" "$WORK/err" || fail "no driver: $(cat "$WORK/err")"; ok

# Usage errors: exit 2.
for args in "--interval 5ms --csv $WORK/a.csv" "--no-tui" "--csv $WORK/s --jsonl $WORK/s" "--gpu"; do
  set +e; "$COT" monitor $args >/dev/null 2>"$WORK/err"; rc=$?; set -e
  [ $rc = 2 ] || fail "'$args': exit $rc, $(cat "$WORK/err")"; ok
done
set +e; "$COT" monitor --gpu 7 --csv "$WORK/a.csv" 2>"$WORK/err"; rc=$?; set -e
[ $rc = 1 ] && grep -q "GPU 7 does not exist: NVML sees 2 GPUs" "$WORK/err" || fail "--gpu 7: exit $rc, $(cat "$WORK/err")"; ok

# CSV and JSONL for a fixed time: a row per GPU per 100 ms tick.
day0=$(date -u +%Y-%m-%d)
"$COT" monitor --csv "$WORK/m.csv" --jsonl "$WORK/m.jsonl" --interval 100ms --duration 1s 2>"$WORK/err"
day1=$(date -u +%Y-%m-%d)
rows=$(grep -c ",gpu,," "$WORK/m.csv")
[ "$rows" -ge 12 ] && [ "$rows" -le 24 ] || fail "$rows GPU rows in 1 s at 100 ms for 2 GPUs"; ok
[ "$(wc -l < "$WORK/m.jsonl")" = "$rows" ] || fail "JSONL and CSV disagree"; ok
grep -q "samples of 2 GPUs" "$WORK/err" || fail "summary: $(cat "$WORK/err")"; ok
# Wall-clock time beside the monotonic one, in the second column: RFC 3339 UTC, today's date.
awk -F, -v d="($day0|$day1)" 'NR == 1 { if ($1 != "t_ns" || $2 != "timestamp" || $8 != "util_gpu [%]") bad = 1; next }
  $2 !~ ("^" d "T[0-9][0-9]:[0-9][0-9]:[0-9][0-9][.][0-9][0-9][0-9]Z$") { bad = 1 } END { exit bad }' "$WORK/m.csv" \
  || fail "timestamp column: $(head -2 "$WORK/m.csv")"; ok

# Stopped by SIGTERM: exit 0, every row whole.
"$COT" monitor --csv "$WORK/t.csv" --interval 20ms --no-tui 2>/dev/null &
pid=$!
sleep 0.5
kill -TERM $pid
wait $pid || fail "SIGTERM: exit $?"; ok
awk -F, 'NF != 28 { bad++ } END { exit bad > 0 }' "$WORK/t.csv" || fail "a row cut short after SIGTERM"; ok
[ "$(grep -c ",gpu,," "$WORK/t.csv")" -ge 10 ] || fail "too few rows at 20 ms"; ok

# Prometheus: /metrics, 404, 405, on 127.0.0.1.
port=$(( 20000 + RANDOM % 20000 ))
NODE_NAME=gpu-node-7 "$COT" monitor --prometheus "$port" --no-tui -q &
pid=$!
for i in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.1; done
curl -s -D "$WORK/h" "http://127.0.0.1:$port/metrics" > "$WORK/metrics"
grep -q "200 OK" "$WORK/h" && grep -q "version=0.0.4" "$WORK/h" || fail "GET /metrics: $(cat "$WORK/h")"; ok
grep -q '^DCGM_FI_DEV_GPU_UTIL{gpu="1",UUID="GPU-00000000-0000-0000-0000-000000000001",pci_bus_id="00000000:19:00.0",device="nvidia1",modelName="NVIDIA Test Double 80GB",hostname="gpu-node-7",DCGM_FI_DRIVER_VERSION="' "$WORK/metrics" \
  || fail "no GPU 1 utilisation with dcgm-exporter's labels in: $(head -5 "$WORK/metrics")"; ok
[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/other")" = 404 ] || fail "bad path not 404"; ok
[ "$(curl -s -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$port/metrics")" = 405 ] || fail "POST not 405"; ok
# /proc/net/tcp: local address as hex IP:PORT; 0100007F is 127.0.0.1
awk -v p=$(printf '%04X' $port) '$2 ~ ":"p"$" { seen = 1; if ($2 !~ /^0100007F/) bad = 1 } END { exit bad || !seen }' \
  /proc/net/tcp || fail "not listening on 127.0.0.1 alone"; ok
kill -TERM $pid
wait $pid || fail "monitor with --prometheus: exit $?"; ok

# The terminal view draws and quits on q.
if command -v script >/dev/null; then
  (sleep 1; printf q) | TERM=xterm script -qec "$COT monitor --interval 50ms" "$WORK/tty.log" >/dev/null 2>&1 \
    || fail "the terminal view did not quit on q"; ok
  grep -q "NVIDIA Test Double" "$WORK/tty.log" || fail "the terminal view drew no GPU"; ok
else
  fail "script (util-linux) is needed to test the terminal view"
fi
finish
