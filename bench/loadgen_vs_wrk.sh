#!/usr/bin/env bash
# cotenant-loadgen against wrk on the same endpoint and machine: a
# cotenant-serve (the plain-C model) answers both; each tool keeps C
# connections busy (closed loop) with the same JSON infer request for the
# same time, and the requests/s of the two are compared.
#   bench/loadgen_vs_wrk.sh BIN_DIR [CONNECTIONS] [SECONDS] [THREADS]
# Environment:
#   SERVER_THREADS, SERVER_INSTANCES  the server's HTTP threads and model
#                                     instances (default 2 and 1)
#   CLIENT_CPUS, SERVER_CPUS          CPU lists for taskset: with the client
#                                     on fewer cores than the server, the
#                                     client is the bottleneck and the ratio
#                                     compares the two clients themselves
set -euo pipefail
bin=$1 conns=${2:-32} secs=${3:-10} threads=${4:-1}
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)" >&2; exit 2; }
client=() server=()
[ -n "${CLIENT_CPUS:-}" ] && client=(taskset -c "$CLIENT_CPUS")
[ -n "${SERVER_CPUS:-}" ] && server=(taskset -c "$SERVER_CPUS")
work=$(mktemp -d)
trap 'kill $spid 2>/dev/null || true; rm -rf "$work"' EXIT
"${server[@]}" "$bin/cotenant-serve" --listen 127.0.0.1:0 --max-batch 64 --max-queue-delay 0 \
  --threads "${SERVER_THREADS:-2}" --instances "${SERVER_INSTANCES:-1}" >"$work/serve.out" 2>&1 &
spid=$!
for _ in $(seq 100); do port=$(sed -n 's|.*:\([0-9]*\)/v2 .*|\1|p' "$work/serve.out"); [ -n "$port" ] && break; sleep 0.05; done
# the very request cotenant-loadgen sends, body and headers
"$bin/cotenant-loadgen" --url "127.0.0.1:$port" --model mlp --format json --dump-body "$work/body.json" >"$work/headers.txt"
cat >"$work/post.lua" <<LUA
wrk.method = "POST"
local f = io.open("$work/body.json", "rb")
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/json"
LUA
"${client[@]}" wrk -t"$threads" -c"$conns" -d"${secs}s" -s "$work/post.lua" "http://127.0.0.1:$port/v2/models/mlp/infer" >"$work/wrk.out"
"${client[@]}" "$bin/cotenant-loadgen" --url "127.0.0.1:$port" --model mlp --mode closed --concurrency "$conns" --threads "$threads" \
  --duration "${secs}s" --warmup 1s --format json >"$work/lg.out"
wrk_rps=$(sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p' "$work/wrk.out")
lg_rps=$(tail -1 "$work/lg.out" | python3 -c 'import json,sys; print(json.load(sys.stdin)["achieved_per_s"])')
grep -E "Latency|Requests/sec|Non-2xx" "$work/wrk.out" | sed 's/^/wrk: /'
grep -E "achieved|latency" "$work/lg.out" | sed 's/^/cotenant-loadgen: /'
python3 -c "import sys; print('requests/s: cotenant-loadgen %s, wrk %s, ratio %.3f' % (sys.argv[1], sys.argv[2], float(sys.argv[1]) / float(sys.argv[2])))" "$lg_rps" "$wrk_rps"
