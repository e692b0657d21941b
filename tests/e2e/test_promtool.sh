# The Prometheus expositions, checked by Prometheus's own promtool (Debian's
# prometheus package): cotenant monitor's (dcgm-exporter's names, on the
# NVML double, with MIG instances) and cotenant-serve's (Triton's names).
# promtool's lint notes on upstream's own names (counters without _total,
# upper-case names) are accepted; a parse error is not. Skipped (exit 77,
# with the reason) where promtool is not installed.
source "$(dirname "$0")/lib.sh"
command -v promtool >/dev/null || { echo "SKIPPED: promtool is not installed (scripts/install_deps.sh installs prometheus)" >&2; exit 77; }
# the double's GPU 0 split into MIG instances, as cotenant mig apply leaves it
export COTENANT_NVML_LIBRARY=$COTENANT_NVML_DOUBLE COTENANT_NVML_DOUBLE_MIG_PROFILES=1 COTENANT_NVML_DOUBLE_MIG_STATE=$WORK/gpu
"$COT" mig apply 3g.40gb,1g.10gb >/dev/null || fail "mig apply on the double"
# promtool check metrics: exit 0 clean, 3 with lint notes only; a parse error prints "error while linting"
check() { # check NAME FILE
  local rc=0
  promtool check metrics <"$2" >"$WORK/promtool.out" 2>&1 || rc=$?
  if grep -q "error while linting\|text format parsing error" "$WORK/promtool.out" || { [ $rc != 0 ] && [ $rc != 3 ]; }; then
    fail "$1: promtool cannot parse it (exit $rc): $(head -5 "$WORK/promtool.out")"
  fi
  ok "$1 parses ($(grep -c . "$WORK/promtool.out") lint notes on upstream's names)"
}
port=$(( 20000 + RANDOM % 20000 ))
"$COT" monitor --prometheus "$port" --no-tui -q &
pid=$!
for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.1; done
sleep 0.3 # a second sample, for the figures taken between two
curl -s "http://127.0.0.1:$port/metrics" >"$WORK/monitor.prom"
kill -TERM $pid; wait $pid
grep -q 'GPU_I_PROFILE="' "$WORK/monitor.prom" || fail "no MIG instance in the monitor's exposition: $(head -3 "$WORK/monitor.prom")"
check "cotenant monitor's exposition" "$WORK/monitor.prom"
"$BIN/cotenant-serve" --model mlp --listen 127.0.0.1:0 >"$WORK/serve.out" 2>&1 &
spid=$!
for _ in $(seq 100); do grep -q "/v2" "$WORK/serve.out" && break; sleep 0.05; done
sport=$(sed -n 's|.*:\([0-9]*\)/v2.*|\1|p' "$WORK/serve.out" | head -1)
curl -s -X POST -d '{"inputs":[{"name":"INPUT0","shape":[1,64],"datatype":"FP32","data":[0]}]}' \
  "http://127.0.0.1:$sport/v2/models/mlp/infer" >/dev/null
curl -s "http://127.0.0.1:$sport/metrics" >"$WORK/serve.prom"
kill -TERM $spid; wait $spid
grep -q "^nv_inference_request_failure" "$WORK/serve.prom" || fail "no failure counter: $(head -5 "$WORK/serve.prom")"
check "cotenant-serve's exposition" "$WORK/serve.prom"
finish
